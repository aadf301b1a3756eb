//! `hive-compare`: every workload on Hive, Erlang/OTP and Go side by side, and the scaling
//! sweep. This module holds its options, the aggregation of the runs (median [min–max]
//! per workload, scheduler count and language), the ratios, the text tables and the
//! summary CSV; [`crate::chart`] draws the SVG charts. See `benches/README.md`.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{parse_only, Args};
use crate::report::{self, ratio_label, render_table, Lang, RunRecord, Summary};
use crate::workload::{self, Workload, WORKLOADS};

/// The workloads of the scaling sweep (`--scaling`), in order.
pub const SCALING_WORKLOADS: [&str; 4] = ["ring", "ping_pong", "skynet", "fan_in"];

/// The languages in column order.
pub const LANGS: [Lang; 3] = [Lang::Hive, Lang::Erlang, Lang::Go];

/// The `--help` text.
pub const USAGE: &str = "\
usage: hive-compare [options]

Runs every workload on Hive (<bin-dir>/<workload> <schedulers> <args>), on Erlang/OTP
(benches/peers/erlang, erl +S n:n) and on Go (benches/peers/go, GOMAXPROCS=n; the workloads
it has), interleaved (Hive, BEAM, Go, Hive, BEAM, Go ...), at each scheduler count. Prints
median [min-max] per language and how many times better Hive's figure is than each peer's,
and writes runs.csv, summary.csv and compare.svg into the output directory.
With --scaling: ring, ping_pong, skynet and fan_in at 1, 2, ... N schedulers (N = cores),
as a table, scaling-runs.csv, scaling.csv and scaling.svg.

options:
  --bin-dir DIR         the Hive stress programs (default target/stress/bin)
  --out-dir DIR         CSV, SVG, compiled peers (default target/compare)
  --schedulers LIST     scheduler counts, e.g. 1,2 (default 1,2; with --scaling 1..N)
  --scaling             the scaling sweep instead of the comparison
  --max-schedulers N    the sweep's N (default: number of cores)
  --only a,b            run only these workloads (dist_ping_pong: both its sizes;
                        dist_ping_pong_tls: their TLS mode)
  --quick               small sizes (checks counts, not speed)
  --runs K              runs per workload and language, interleaved (default 5)
  --no-erlang           skip the BEAM column
  --no-go               skip the Go column
  --no-peers            Hive alone
  --erl PATH            the erl to use (default: erl on PATH)
  --go PATH             the go to use (default: go on PATH)
  --timeout SECS        kill a program still running after this long (default 180)
  -h, --help            this text";

/// `hive-compare`'s options.
#[derive(Debug)]
pub struct Options {
    /// `--bin-dir`: where the Hive stress programs are.
    pub bin_dir: PathBuf,
    /// `--out-dir`: where the CSV and SVG files and the compiled peers go.
    pub out_dir: PathBuf,
    /// The scheduler counts, in run order.
    pub schedulers: Vec<u32>,
    /// `--scaling`: the scaling sweep.
    pub scaling: bool,
    /// The workloads to run, in order.
    pub workloads: Vec<&'static Workload>,
    /// `--quick`: small sizes.
    pub quick: bool,
    /// Run the Erlang peers.
    pub erlang: bool,
    /// Run the Go peers.
    pub go: bool,
    /// `--erl`: the `erl` to use.
    pub erl: Option<PathBuf>,
    /// `--go`: the `go` to use.
    pub go_path: Option<PathBuf>,
    /// `--runs`: runs per workload and language.
    pub runs: u32,
    /// `--timeout`: per-program time limit.
    pub timeout: Duration,
}

/// Parses a comma-separated list of positive scheduler counts, without repeats.
pub fn parse_schedulers(list: &str) -> Result<Vec<u32>, String> {
    let mut v = Vec::new();
    for s in list.split(',').filter(|s| !s.is_empty()) {
        let n = s
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("--schedulers: {s:?} is not a positive integer"))?;
        if !v.contains(&n) {
            v.push(n);
        }
    }
    if v.is_empty() {
        return Err("--schedulers: no count given".into());
    }
    Ok(v)
}

/// Parses the arguments (without the program name). `cores` is the sweep's default N.
/// Returns `Ok(None)` for `--help`, and a message for a bad argument.
pub fn parse(args: impl Iterator<Item = String>, cores: u32) -> Result<Option<Options>, String> {
    let mut o = Options {
        bin_dir: PathBuf::from("target/stress/bin"),
        out_dir: PathBuf::from("target/compare"),
        schedulers: Vec::new(),
        scaling: false,
        workloads: Vec::new(),
        quick: false,
        erlang: true,
        go: true,
        erl: None,
        go_path: None,
        runs: 5,
        timeout: Duration::from_secs(180),
    };
    let mut max_schedulers = cores.max(1);
    let mut args = Args::new(args);
    while let Some((flag, arg)) = args.next_flag() {
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--bin-dir" => o.bin_dir = PathBuf::from(args.value("--bin-dir")?),
            "--out-dir" => o.out_dir = PathBuf::from(args.value("--out-dir")?),
            "--schedulers" => o.schedulers = parse_schedulers(&args.value("--schedulers")?)?,
            "--scaling" => o.scaling = true,
            "--max-schedulers" => max_schedulers = args.positive("--max-schedulers")?,
            "--only" => o.workloads = parse_only(&args.value("--only")?)?,
            "--quick" => o.quick = true,
            "--runs" => o.runs = args.positive("--runs")?,
            "--no-erlang" => o.erlang = false,
            "--no-go" => o.go = false,
            "--no-peers" => {
                o.erlang = false;
                o.go = false;
            }
            "--erl" => o.erl = Some(PathBuf::from(args.value("--erl")?)),
            "--go" => o.go_path = Some(PathBuf::from(args.value("--go")?)),
            "--timeout" => o.timeout = Duration::from_secs(args.positive("--timeout")?.into()),
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    if o.schedulers.is_empty() {
        o.schedulers = if o.scaling {
            (1..=max_schedulers).collect()
        } else {
            vec![1, 2]
        };
    }
    if o.workloads.is_empty() {
        o.workloads = if o.scaling {
            SCALING_WORKLOADS
                .iter()
                .filter_map(|n| workload::by_name(n))
                .collect()
        } else {
            WORKLOADS.iter().collect()
        };
    }
    Ok(Some(o))
}

/// Median, minimum and maximum of a set of runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// The median (mean of the middle two for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// How many values.
    pub n: usize,
}

impl Stats {
    /// The statistics of `values`; `None` if there are none.
    pub fn of(values: &[f64]) -> Option<Stats> {
        let mut v = values.to_vec();
        let median = report::median(&mut v)?;
        // `median` sorted them.
        Some(Stats {
            median,
            min: v[0],
            max: v[v.len() - 1],
            n: v.len(),
        })
    }
}

/// How many times better `x` is than `reference`: `x / reference` for a rate,
/// `reference / x` when lower is better, so that above 1 always favours `x`. `None` for a
/// negative value or 0 / 0; infinite when only the denominator is 0 (an idle CPU share of
/// 0 against a positive one).
pub fn advantage(x: f64, reference: f64, lower_is_better: bool) -> Option<f64> {
    let (num, den) = if lower_is_better {
        (reference, x)
    } else {
        (x, reference)
    };
    if !(num >= 0.0 && den >= 0.0) {
        return None;
    }
    if den == 0.0 {
        return (num > 0.0).then_some(f64::INFINITY);
    }
    Some(num / den)
}

/// The runs of one language for one workload at one scheduler count.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The language.
    pub lang: Lang,
    /// Statistics of the main figure over the successful runs; `None` if none succeeded
    /// (or none printed the figure).
    pub stats: Option<Stats>,
    /// Runs that succeeded.
    pub ok: usize,
    /// Runs that failed.
    pub failed: usize,
}

/// Every language's runs of one workload at one scheduler count.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The workload.
    pub workload: &'static Workload,
    /// The scheduler count.
    pub schedulers: u32,
    /// The workload size, e.g. `10k×1000`.
    pub size: String,
    /// One cell per language that was run, in [`LANGS`] order.
    pub cells: Vec<Cell>,
}

impl Group {
    /// Collects the runs of `workload` at `schedulers` from `records`; the main figure is
    /// the workload's `rate_key`.
    pub fn of(records: &[RunRecord], workload: &'static Workload, schedulers: u32) -> Group {
        let mut cells = Vec::new();
        for lang in LANGS {
            let s = Summary::of(records, lang, workload.name, schedulers);
            if s.is_empty() {
                continue;
            }
            let values: Vec<f64> =
                s.ok.iter()
                    .filter_map(|l| l.get_f64(workload.rate_key))
                    .collect();
            cells.push(Cell {
                lang,
                stats: Stats::of(&values),
                ok: s.ok.len(),
                failed: s.failed,
            });
        }
        let size = records
            .iter()
            .find(|r| r.workload.name == workload.name && r.schedulers == schedulers)
            .map(|r| report::size_label(&r.args))
            .unwrap_or_default();
        Group {
            workload,
            schedulers,
            size,
            cells,
        }
    }

    /// The cell of `lang`, if it was run.
    pub fn cell(&self, lang: Lang) -> Option<&Cell> {
        self.cells.iter().find(|c| c.lang == lang)
    }

    /// The median main figure of `lang`.
    pub fn median(&self, lang: Lang) -> Option<f64> {
        self.cell(lang)?.stats.map(|s| s.median)
    }

    /// How many times better `lang`'s median is than `reference`'s (see [`advantage`]).
    pub fn advantage(&self, lang: Lang, reference: Lang) -> Option<f64> {
        advantage(
            self.median(lang)?,
            self.median(reference)?,
            self.workload.lower_is_better,
        )
    }
}

/// The workload whose ceiling `hive-compare` measures beside it: 64 KiB messages between
/// two nodes on this machine, over loopback TCP.
pub const CEILING_WORKLOAD: &str = "dist_throughput/64k";

/// The note printed under the table of `schedulers` for [`CEILING_WORKLOAD`]: the loopback
/// TCP ceiling measured in the same pass (`ceilings`, bytes per second, one per Hive run;
/// see `probe::loopback_tcp_bytes_per_s`) in 64 KiB messages per second, and the share of
/// it that Hive's median, the BEAM's median and twice the BEAM's median (the issue's
/// target) come to. `None` when the workload was not run at that count or no ceiling was
/// measured.
pub fn ceiling_note(groups: &[Group], schedulers: u32, ceilings: &[f64]) -> Option<String> {
    let g = groups
        .iter()
        .find(|g| g.workload.name == CEILING_WORKLOAD && g.schedulers == schedulers)?;
    let c = Stats::of(ceilings)?;
    const MSG: f64 = 65536.0;
    let msgs = c.median / MSG;
    let share = |x: f64| format!("{:.0}%", 100.0 * x / msgs);
    let mut note = format!(
        "{CEILING_WORKLOAD}: loopback TCP between two threads doing nothing else (1 MiB \
         writes, 64 KiB reads) carried {:.2} GB/s [{:.2}–{:.2}] in this pass, {} msgs/s of \
         64 KiB",
        c.median / 1e9,
        c.min / 1e9,
        c.max / 1e9,
        report::human(msgs)
    );
    if let Some(h) = g.median(Lang::Hive) {
        let _ = write!(note, "; Hive's median is {} of that", share(h));
    }
    if let Some(b) = g.median(Lang::Erlang) {
        let _ = write!(
            note,
            ", the BEAM's {}, and twice the BEAM's {}",
            share(b),
            share(2.0 * b)
        );
    }
    note.push_str(" (both nodes share this machine and its loopback).\n");
    Some(note)
}

/// The groups for every workload and scheduler count, workload-major.
pub fn groups(
    records: &[RunRecord],
    workloads: &[&'static Workload],
    schedulers: &[u32],
) -> Vec<Group> {
    let mut v = Vec::new();
    for &w in workloads {
        for &s in schedulers {
            v.push(Group::of(records, w, s));
        }
    }
    v
}

/// The language the chart normalises to: the BEAM if any BEAM figure exists, else Hive.
pub fn reference_lang(groups: &[Group]) -> Lang {
    if groups.iter().any(|g| g.median(Lang::Erlang).is_some()) {
        Lang::Erlang
    } else {
        Lang::Hive
    }
}

/// A language's column title.
pub fn lang_title(lang: Lang) -> &'static str {
    match lang {
        Lang::Hive => "Hive",
        Lang::Erlang => "BEAM",
        Lang::Go => "Go",
    }
}

pub use crate::report::figure;

/// `median [min–max]` (just the median for one run); `FAIL` if every run failed, `-` if
/// the language was not run.
pub fn cell_label(w: &Workload, cell: Option<&Cell>) -> String {
    match cell {
        None => "-".into(),
        Some(Cell { stats: Some(s), .. }) if s.n > 1 => format!(
            "{} [{}–{}]",
            figure(w, s.median),
            figure(w, s.min),
            figure(w, s.max)
        ),
        Some(Cell { stats: Some(s), .. }) => figure(w, s.median),
        Some(c) if c.failed > 0 => "FAIL".into(),
        Some(_) => "-".into(),
    }
}

/// A ratio from [`advantage`]: `2.31×`, `∞×`, or `-` when there is none.
pub fn advantage_label(a: Option<f64>) -> String {
    match a {
        Some(v) if v.is_infinite() => "∞×".into(),
        Some(v) => ratio_label(v),
        None => "-".into(),
    }
}

/// The comparison table at one scheduler count. `peers` are the peer languages that were
/// run (their columns are shown; a skipped peer has none).
pub fn compare_table(groups: &[Group], schedulers: u32, peers: &[Lang], quick: bool) -> String {
    let mut headers = vec!["workload", "size", "metric", "Hive"];
    for &p in peers {
        headers.push(lang_title(p));
    }
    let vs: Vec<String> = peers
        .iter()
        .map(|p| format!("vs {}", lang_title(*p)))
        .collect();
    headers.extend(vs.iter().map(String::as_str));
    let mut right = vec![false, false, false];
    right.resize(headers.len(), true);
    let mut rows = Vec::new();
    let mut runs = 0;
    let mut lower = false;
    let mut no_go = false;
    for g in groups.iter().filter(|g| g.schedulers == schedulers) {
        let w = g.workload;
        lower |= w.lower_is_better;
        let down = if w.lower_is_better { " ↓" } else { "" };
        let mut row = vec![
            w.name.to_string(),
            g.size.clone(),
            format!("{}{down}", w.rate_unit),
            cell_label(w, g.cell(Lang::Hive)),
        ];
        for &p in peers {
            runs = runs.max(g.cell(p).map_or(0, |c| c.ok + c.failed));
            no_go |= p == Lang::Go && g.cell(p).is_none();
            row.push(cell_label(w, g.cell(p)));
        }
        if let Some(c) = g.cell(Lang::Hive) {
            runs = runs.max(c.ok + c.failed);
        }
        for &p in peers {
            row.push(advantage_label(g.advantage(Lang::Hive, p)));
        }
        rows.push(row);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Hive {} at {schedulers} scheduler{} ({}{})",
        if peers.is_empty() {
            "alone (no peers)".to_string()
        } else {
            let names: Vec<&str> = peers.iter().map(|p| lang_title(*p)).collect();
            format!("vs {}", names.join(" and "))
        },
        if schedulers == 1 { "" } else { "s" },
        if quick { "quick sizes, " } else { "" },
        if runs <= 1 {
            "one run each".to_string()
        } else {
            format!("median [min–max] of {runs} runs")
        }
    );
    out.push_str(&render_table(&headers, &rows, &right));
    if !peers.is_empty() {
        out.push_str(
            "vs X = how many times better Hive's median is than X's: Hive rate / X rate; \
             above 1× favours Hive. FAIL = every run failed.\n",
        );
    }
    if lower {
        out.push_str(
            "↓ lower is better: the row shows that figure, not a rate, and vs X = X / Hive.\n",
        );
    }
    if no_go {
        out.push_str("Go - = the workload has no Go version (baselines.md has 7 on Go).\n");
    }
    out
}

/// The scaling table: one row per workload and language, the median main figure at each
/// scheduler count, and the last count's figure relative to 1 scheduler (`N/1`, above 1×
/// = faster with more schedulers).
pub fn scaling_table(groups: &[Group], schedulers: &[u32], quick: bool) -> String {
    let counts: Vec<String> = schedulers.iter().map(u32::to_string).collect();
    let mut headers = vec!["workload", "size", "metric", "lang"];
    headers.extend(counts.iter().map(String::as_str));
    let first = schedulers.first().copied().unwrap_or(1);
    let last = schedulers.last().copied().unwrap_or(1);
    let gain = format!("{last} vs {first}");
    headers.push(&gain);
    let mut right = vec![false; 4];
    right.resize(headers.len(), true);
    let mut rows = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for g in groups {
        let w = g.workload;
        if seen.contains(&w.name) {
            continue;
        }
        seen.push(w.name);
        let of_w: Vec<&Group> = groups
            .iter()
            .filter(|x| x.workload.name == w.name)
            .collect();
        for lang in LANGS {
            if !of_w.iter().any(|x| x.cell(lang).is_some()) {
                continue;
            }
            let at = |s: u32| of_w.iter().find(|x| x.schedulers == s).copied();
            let mut row = vec![
                w.name.to_string(),
                g.size.clone(),
                format!(
                    "{}{}",
                    w.rate_unit,
                    if w.lower_is_better { " ↓" } else { "" }
                ),
                lang_title(lang).to_string(),
            ];
            for &s in schedulers {
                let c = at(s).and_then(|x| x.cell(lang));
                row.push(match c {
                    Some(Cell {
                        stats: Some(st), ..
                    }) => figure(w, st.median),
                    Some(c) if c.failed > 0 => "FAIL".into(),
                    _ => "-".into(),
                });
            }
            let m = |s: u32| at(s).and_then(|x| x.median(lang));
            row.push(advantage_label(match (m(last), m(first)) {
                (Some(a), Some(b)) => advantage(a, b, w.lower_is_better),
                _ => None,
            }));
            rows.push(row);
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Scaling: median main figure at {} scheduler(s){}",
        counts.join(", "),
        if quick { " (quick sizes)" } else { "" }
    );
    out.push_str(&render_table(&headers, &rows, &right));
    let _ = writeln!(
        out,
        "{gain} = the figure at {last} scheduler(s) relative to {first} (above 1× = faster)."
    );
    out
}

fn num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The summary CSV's header (see [`summary_csv`]).
pub const SUMMARY_HEADER: &str = "workload,size,metric,key,lower_is_better,schedulers,lang,\
runs_ok,runs_failed,median,min,max,vs_beam,hive_vs,vs_first_schedulers";

/// The summary CSV: one row per workload, scheduler count and language that was run.
/// `median`, `min`, `max` are of the main figure (`key`, in `metric` units); `vs_beam` is
/// how many times better this language's median is than the BEAM's (what the chart
/// draws), `hive_vs` how many times better Hive's is than this language's, and
/// `vs_first_schedulers` how many times better it is than the same language at the first
/// scheduler count (the scaling gain). Empty where it cannot be computed; `inf` for a
/// zero denominator.
pub fn summary_csv(groups: &[Group]) -> String {
    let mut text = String::from(SUMMARY_HEADER);
    text.push('\n');
    for g in groups {
        let w = g.workload;
        let first = groups.iter().find(|x| x.workload.name == w.name);
        for c in &g.cells {
            let s = c.stats;
            let base = first.and_then(|f| f.median(c.lang));
            let cells = [
                w.name.to_string(),
                g.size.clone(),
                w.rate_unit.to_string(),
                w.rate_key.to_string(),
                w.lower_is_better.to_string(),
                g.schedulers.to_string(),
                c.lang.key().to_string(),
                c.ok.to_string(),
                c.failed.to_string(),
                num(s.map(|s| s.median)),
                num(s.map(|s| s.min)),
                num(s.map(|s| s.max)),
                num(g.advantage(c.lang, Lang::Erlang)),
                num(g.advantage(Lang::Hive, c.lang)),
                num(match (s, base) {
                    (Some(s), Some(b)) => advantage(s.median, b, w.lower_is_better),
                    _ => None,
                }),
            ];
            text.push_str(&report::csv_line(&cells));
        }
    }
    text
}

/// Writes [`summary_csv`] to `path`, creating its directory.
pub fn write_summary_csv(path: &Path, groups: &[Group]) -> io::Result<()> {
    report::write_file(path, &summary_csv(groups))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Failure;
    use crate::workload::by_name;
    use crate::ResultLine;

    fn p(args: &[&str]) -> Result<Option<Options>, String> {
        parse(args.iter().map(|s| s.to_string()), 4)
    }

    fn rec(lang: Lang, name: &str, sched: u32, run: u32, fields: &str) -> RunRecord {
        let w = by_name(name).unwrap();
        let outcome = if fields == "FAIL" {
            Err(Failure {
                kind: "failed",
                detail: "exit status 1".into(),
            })
        } else {
            Ok(ResultLine::parse(&format!(
                "RESULT lang={} name={name} schedulers={sched} {fields}",
                lang.key()
            ))
            .unwrap())
        };
        RunRecord {
            lang,
            workload: w,
            schedulers: sched,
            run,
            args: w.full_args.to_vec(),
            outcome,
            wall_s: 1.0,
            page_fault_us: None,
        }
    }

    #[test]
    fn options() {
        let o = p(&[]).unwrap().unwrap();
        assert_eq!(o.schedulers, vec![1, 2]);
        assert_eq!(o.workloads.len(), WORKLOADS.len());
        assert_eq!(o.runs, 5);
        assert!(o.erlang && o.go && !o.scaling && !o.quick);
        assert_eq!(o.out_dir, PathBuf::from("target/compare"));

        let o = p(&["--scaling"]).unwrap().unwrap();
        assert_eq!(o.schedulers, vec![1, 2, 3, 4]);
        let names: Vec<_> = o.workloads.iter().map(|w| w.name).collect();
        assert_eq!(names, SCALING_WORKLOADS);

        let o = p(&[
            "--scaling",
            "--max-schedulers=2",
            "--only",
            "ring",
            "--no-go",
            "--runs",
            "1",
            "--out-dir",
            "/tmp/x",
            "--quick",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(o.schedulers, vec![1, 2]);
        assert_eq!(o.workloads.len(), 1);
        assert!(o.erlang && !o.go && o.quick);
        assert_eq!(o.runs, 1);

        let o = p(&["--schedulers", "2,1,2", "--no-peers", "--go=/opt/go"])
            .unwrap()
            .unwrap();
        assert_eq!(o.schedulers, vec![2, 1]);
        assert!(!o.erlang && !o.go);
        assert_eq!(o.go_path, Some(PathBuf::from("/opt/go")));

        assert!(p(&["--help"]).unwrap().is_none());
        assert!(p(&["--schedulers", "1,0"]).is_err());
        assert!(p(&["--schedulers", ","]).is_err());
        assert!(p(&["--only", "nope"]).unwrap_err().contains("nope"));
        assert!(p(&["--runs"]).unwrap_err().contains("needs a value"));
        assert!(p(&["--bogus"]).is_err());
    }

    #[test]
    fn stats_and_advantage() {
        let s = Stats::of(&[3.0, 9.0, 1.0, 4.0]).unwrap();
        assert_eq!(
            s,
            Stats {
                median: 3.5,
                min: 1.0,
                max: 9.0,
                n: 4
            }
        );
        assert_eq!(Stats::of(&[2.0]).unwrap().median, 2.0);
        assert_eq!(Stats::of(&[]), None);

        assert_eq!(advantage(6.0, 2.0, false), Some(3.0));
        assert_eq!(advantage(6.0, 2.0, true), Some(1.0 / 3.0));
        assert_eq!(advantage(0.0, 5.0, true), Some(f64::INFINITY));
        assert_eq!(advantage(0.0, 0.0, true), None);
        assert_eq!(advantage(5.0, 0.0, false), Some(f64::INFINITY));
        assert_eq!(advantage(-1.0, 2.0, false), None);
        assert_eq!(advantage(f64::NAN, 2.0, false), None);
        assert_eq!(advantage_label(Some(f64::INFINITY)), "∞×");
        assert_eq!(advantage_label(Some(2.345)), "2.35×");
        assert_eq!(advantage_label(None), "-");
    }

    fn ring_fields(rate: u64) -> String {
        format!("n=10000 m=1000 seconds=1 hops_per_s={rate} ns_per_hop=1 cpu_s=1")
    }

    fn sample() -> Vec<RunRecord> {
        let mut r = Vec::new();
        for (run, (h, b, g)) in [(10, 4, 5), (12, 5, 6), (30, 3, 4)].iter().enumerate() {
            let run = run as u32 + 1;
            r.push(rec(Lang::Hive, "ring", 2, run, &ring_fields(h * 1_000_000)));
            r.push(rec(
                Lang::Erlang,
                "ring",
                2,
                run,
                &ring_fields(b * 1_000_000),
            ));
            r.push(rec(Lang::Go, "ring", 2, run, &ring_fields(g * 1_000_000)));
        }
        r.push(rec(Lang::Hive, "ring", 1, 1, &ring_fields(8_000_000)));
        r.push(rec(Lang::Erlang, "ring", 1, 1, "FAIL"));
        let sel = "queued=10000 k=10000 empty_us_per_rt=0.5 opt_us_per_rt";
        r.push(rec(
            Lang::Hive,
            "selective_receive",
            2,
            1,
            &format!("{sel}=0.25"),
        ));
        r.push(rec(
            Lang::Erlang,
            "selective_receive",
            2,
            1,
            &format!("{sel}=0.75"),
        ));
        r
    }

    #[test]
    fn groups_medians_and_ratios() {
        let records = sample();
        let ring = by_name("ring").unwrap();
        let sel = by_name("selective_receive").unwrap();
        let gs = groups(&records, &[ring, sel], &[1, 2]);
        assert_eq!(gs.len(), 4);
        let g = &gs[1];
        assert_eq!((g.workload.name, g.schedulers), ("ring", 2));
        assert_eq!(g.size, "10k×1000");
        let h = g.cell(Lang::Hive).unwrap().stats.unwrap();
        assert_eq!((h.median, h.min, h.max, h.n), (12e6, 10e6, 30e6, 3));
        assert_eq!(g.median(Lang::Erlang), Some(4e6));
        assert_eq!(g.advantage(Lang::Hive, Lang::Erlang), Some(3.0));
        assert_eq!(g.advantage(Lang::Hive, Lang::Go), Some(12.0 / 5.0));
        // At 1 scheduler the BEAM run failed and Go was not run.
        let g1 = &gs[0];
        let b = g1.cell(Lang::Erlang).unwrap();
        assert_eq!((b.stats, b.ok, b.failed), (None, 0, 1));
        assert!(g1.cell(Lang::Go).is_none());
        assert_eq!(g1.advantage(Lang::Hive, Lang::Erlang), None);
        assert_eq!(cell_label(ring, g1.cell(Lang::Erlang)), "FAIL");
        assert_eq!(cell_label(ring, g1.cell(Lang::Go)), "-");
        assert_eq!(cell_label(ring, g1.cell(Lang::Hive)), "8.00M");
        assert_eq!(cell_label(ring, g.cell(Lang::Hive)), "12.0M [10.0M–30.0M]");
        // Lower is better: BEAM's 0.75 µs over Hive's 0.25 µs = 3× in Hive's favour.
        let s = &gs[3];
        assert_eq!(s.advantage(Lang::Hive, Lang::Erlang), Some(3.0));
        assert_eq!(reference_lang(&gs), Lang::Erlang);
        assert_eq!(reference_lang(&gs[..1]), Lang::Hive);
    }

    #[test]
    fn tables() {
        let records = sample();
        let ring = by_name("ring").unwrap();
        let sel = by_name("selective_receive").unwrap();
        let gs = groups(&records, &[ring, sel], &[1, 2]);
        let t = compare_table(&gs, 2, &[Lang::Erlang, Lang::Go], false);
        assert!(t.starts_with("Hive vs BEAM and Go at 2 schedulers (median [min–max] of 3 runs)"));
        let ring_row = t.lines().find(|l| l.starts_with("ring")).unwrap();
        assert!(ring_row.contains("12.0M [10.0M–30.0M]"), "{t}");
        assert!(
            ring_row.contains("3.00×") && ring_row.contains("2.40×"),
            "{t}"
        );
        let sel_row = t.lines().find(|l| l.starts_with("selective")).unwrap();
        assert!(sel_row.contains("µs/round trip ↓") && sel_row.contains("3.00×"));
        assert!(t.contains("no Go version"), "{t}");
        let t1 = compare_table(&gs, 1, &[Lang::Erlang], false);
        assert!(t1.contains("FAIL") && !t1.contains("vs Go"), "{t1}");

        let s = scaling_table(&gs[..2], &[1, 2], false);
        let hive = s.lines().find(|l| l.contains("Hive")).unwrap();
        assert!(hive.contains("8.00M") && hive.contains("12.0M") && hive.contains("1.50×"));
        let go = s.lines().find(|l| l.contains(" Go ")).unwrap();
        assert!(go.contains("5.00M") && go.trim_end().ends_with('-'), "{s}");
        assert!(s.contains("2 vs 1"));
    }

    #[test]
    fn ceiling_note_shares() {
        let w = by_name(CEILING_WORKLOAD).unwrap();
        let f = |rate: u64| {
            format!("size=65536 msgs=20000 seconds=1 msgs_per_s={rate} mb_per_s=1 cpu_s=1")
        };
        let records = vec![
            rec(Lang::Hive, w.name, 2, 1, &f(40_000)),
            rec(Lang::Erlang, w.name, 2, 1, &f(30_000)),
        ];
        let g = groups(&records, &[w], &[2]);
        // 65536 * 50_000 bytes/s: 50k messages of 64 KiB per second.
        let c = 65536.0 * 50_000.0;
        let note = ceiling_note(&g, 2, &[c, c * 0.9, c * 1.1]).unwrap();
        assert!(note.contains("50.0k msgs/s"), "{note}");
        assert!(note.contains("Hive's median is 80% of that"), "{note}");
        assert!(
            note.contains("the BEAM's 60%, and twice the BEAM's 120%"),
            "{note}"
        );
        assert_eq!(ceiling_note(&g, 1, &[c]), None);
        assert_eq!(ceiling_note(&g, 2, &[]), None);
    }

    #[test]
    fn summary_rows() {
        let records = sample();
        let ring = by_name("ring").unwrap();
        let gs = groups(&records, &[ring], &[1, 2]);
        let csv = summary_csv(&gs);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], SUMMARY_HEADER);
        // 1 sched: Hive, BEAM (failed); 2 sched: Hive, BEAM, Go.
        assert_eq!(lines.len(), 1 + 5);
        assert_eq!(
            lines[1],
            "ring,10k×1000,hops/s,hops_per_s,false,1,hive,1,0,8000000,8000000,8000000,,1,1"
        );
        assert_eq!(
            lines[2],
            "ring,10k×1000,hops/s,hops_per_s,false,1,erlang,0,1,,,,,,"
        );
        assert_eq!(
            lines[3],
            "ring,10k×1000,hops/s,hops_per_s,false,2,hive,3,0,12000000,10000000,30000000,3,1,1.5"
        );
        assert_eq!(
            lines[5],
            "ring,10k×1000,hops/s,hops_per_s,false,2,go,3,0,5000000,4000000,6000000,1.25,2.4,"
        );
        assert_eq!(report::csv_line(&["a,b".into()]), "\"a,b\"\n");
    }
}
