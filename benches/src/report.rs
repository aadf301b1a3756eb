//! Judging runs, the per-scheduler comparison tables and the CSV file.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::child::{Exit, Outcome};
use crate::workload::{all_keys, Target, Workload};
use crate::{find_result, ResultLine};

/// Which side of the comparison a run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// A Hive C program.
    Hive,
    /// An Erlang peer program on BEAM.
    Erlang,
    /// A Go peer program (`benches/peers/go`, run by `hive-compare`).
    Go,
}

impl Lang {
    /// The `lang=` value the program must print.
    pub fn key(self) -> &'static str {
        match self {
            Lang::Hive => "hive",
            Lang::Erlang => "erlang",
            Lang::Go => "go",
        }
    }
}

/// Why a run does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `missing` (no program), `timeout`, `failed` (non-zero exit or could not start) or
    /// `bad-output` (no usable `RESULT` line).
    pub kind: &'static str,
    /// Human-readable detail.
    pub detail: String,
}

impl Failure {
    fn new(kind: &'static str, detail: impl Into<String>) -> Failure {
        Failure {
            kind,
            detail: detail.into(),
        }
    }
}

/// One run of one program.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Hive or Erlang.
    pub lang: Lang,
    /// The workload run.
    pub workload: &'static Workload,
    /// Scheduler count asked for.
    pub schedulers: u32,
    /// 1-based run number (with `--runs`).
    pub run: u32,
    /// Workload arguments (after the scheduler count).
    pub args: Vec<u64>,
    /// The parsed `RESULT` line, or why there is none.
    pub outcome: Result<ResultLine, Failure>,
    /// Wall time of the whole program, start-up included.
    pub wall_s: f64,
    /// Page-fault cost measured before this scheduler pass, µs per 4 KiB page.
    pub page_fault_us: Option<f64>,
}

/// The failure recorded for a program that does not exist.
pub fn missing(path: &Path) -> Failure {
    Failure::new("missing", format!("{} does not exist", path.display()))
}

/// Judges a finished run of `workload` with arguments `args`: it must have exited 0 and
/// printed a `RESULT` line for `workload` with the right `lang=` and `schedulers=`, every
/// key the workload requires, the arguments echoed in their keys (`n=`, `m=` …), for
/// skynet `sum` = SIZE·(SIZE−1)/2, for link_cascade `tail_reason` = `killed`, and for idle
/// a measured `window_s` of at least WINDOW_MS (less 0.1% for the 4-digit printing).
pub fn judge(
    lang: Lang,
    workload: &Workload,
    schedulers: u32,
    args: &[u64],
    outcome: &Outcome,
) -> Result<ResultLine, Failure> {
    match &outcome.exit {
        Exit::TimedOut => {
            return Err(Failure::new(
                "timeout",
                outcome.failure().unwrap_or_default(),
            ))
        }
        Exit::SpawnFailed(_) => {
            return Err(Failure::new(
                "failed",
                outcome.failure().unwrap_or_default(),
            ))
        }
        Exit::Exited(s) if !s.success() => {
            return Err(Failure::new(
                "failed",
                outcome.failure().unwrap_or_default(),
            ))
        }
        Exit::Exited(_) => {}
    }
    let line = match find_result(&outcome.stdout, workload.program()) {
        None => {
            return Err(Failure::new(
                "bad-output",
                format!("no RESULT line with name={}", workload.program()),
            ))
        }
        Some(Err(e)) => return Err(Failure::new("bad-output", format!("bad RESULT line: {e}"))),
        Some(Ok(line)) => line,
    };
    if line.lang != lang.key() {
        return Err(Failure::new(
            "bad-output",
            format!("lang={}, expected lang={}", line.lang, lang.key()),
        ));
    }
    if line.schedulers != schedulers {
        return Err(Failure::new(
            "bad-output",
            format!("schedulers={}, expected {schedulers}", line.schedulers),
        ));
    }
    let missing = line.missing_keys(workload.keys);
    if !missing.is_empty() {
        return Err(Failure::new(
            "bad-output",
            format!("RESULT line lacks key(s) {}", missing.join(", ")),
        ));
    }
    for (key, arg) in workload.arg_keys.iter().zip(args) {
        if line.get(key) != Some(arg.to_string().as_str()) {
            return Err(Failure::new(
                "bad-output",
                format!(
                    "{key}={}, but the argument was {arg}",
                    line.get(key).unwrap_or("")
                ),
            ));
        }
    }
    if workload.name == "skynet" {
        if let [size] = args {
            let expected = u128::from(*size) * u128::from(size.saturating_sub(1)) / 2;
            if line.get("sum") != Some(expected.to_string().as_str()) {
                return Err(Failure::new(
                    "bad-output",
                    format!("sum={}, expected {expected}", line.get("sum").unwrap_or("")),
                ));
            }
        }
    }
    if workload.name == "link_cascade" && line.get("tail_reason") != Some("killed") {
        return Err(Failure::new(
            "bad-output",
            format!(
                "tail_reason={}, expected killed",
                line.get("tail_reason").unwrap_or("")
            ),
        ));
    }
    if workload.name == "idle" {
        if let [_, window_ms] = args {
            let least = *window_ms as f64 / 1000.0 * 0.999;
            match line.get_f64("window_s") {
                Some(w) if w >= least => {}
                _ => {
                    return Err(Failure::new(
                        "bad-output",
                        format!(
                            "window_s={}, expected at least {} (WINDOW_MS={window_ms})",
                            line.get("window_s").unwrap_or(""),
                            *window_ms as f64 / 1000.0
                        ),
                    ))
                }
            }
        }
    }
    Ok(line)
}

/// Formats `v` with `digits` significant digits, never in exponent notation.
pub fn sig(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - mag).max(0) as usize;
    let s = format!("{v:.decimals$}");
    // Rounding may carry into a new digit (0.9999 -> 1.000): drop one decimal then.
    match s.parse::<f64>() {
        Ok(r) if decimals > 0 && r.abs() >= 10f64.powi(mag + 1) => {
            format!("{v:.prec$}", prec = decimals - 1)
        }
        _ => s,
    }
}

/// A human-readable number with 3 significant digits: `1.23M`, `456k`, `12.3`, `0.0123`.
pub fn human(v: f64) -> String {
    let a = v.abs();
    if a >= 999.5e6 {
        format!("{}G", sig(v / 1e9, 3))
    } else if a >= 999.5e3 {
        format!("{}M", sig(v / 1e6, 3))
    } else if a >= 999.5 {
        format!("{}k", sig(v / 1e3, 3))
    } else {
        sig(v, 3)
    }
}

/// A measured figure as printed, without a k/M suffix: values of 100 and above rounded to
/// integers (`1049`), smaller ones with 3 significant digits (`0.500`, `12.3`).
pub fn plain(v: f64) -> String {
    if v.abs() >= 99.95 {
        format!("{v:.0}")
    } else {
        sig(v, 3)
    }
}

/// A workload size: arguments joined by `×`, round millions as `1M`, round thousands from
/// 10,000 up as `10k`.
pub fn size_label(args: &[u64]) -> String {
    args.iter()
        .map(|&n| {
            if n >= 1_000_000 && n % 1_000_000 == 0 {
                format!("{}M", n / 1_000_000)
            } else if n >= 10_000 && n % 1000 == 0 {
                format!("{}k", n / 1000)
            } else {
                n.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("×")
}

/// A main figure as the tables show it: rates as `1.23M`, lower-is-better figures as
/// printed (`1049`, `0.500`).
pub fn figure(w: &Workload, v: f64) -> String {
    if w.lower_is_better {
        plain(v)
    } else {
        human(v)
    }
}

/// A ratio such as `2.31×`.
pub fn ratio_label(r: f64) -> String {
    format!("{}×", sig(r, 3))
}

/// The median of `values` (mean of the middle two for an even count); `None` if empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The successful runs of one program at one scheduler count, and how many failed.
#[derive(Debug, Default)]
pub struct Summary<'a> {
    /// `RESULT` lines of the runs that succeeded.
    pub ok: Vec<&'a ResultLine>,
    /// Number of runs that failed.
    pub failed: usize,
}

impl<'a> Summary<'a> {
    /// Collects the runs of `lang` / `workload` / `schedulers` from `records`.
    pub fn of(records: &'a [RunRecord], lang: Lang, workload: &str, schedulers: u32) -> Self {
        let mut s = Summary::default();
        for r in records
            .iter()
            .filter(|r| r.lang == lang && r.workload.name == workload && r.schedulers == schedulers)
        {
            match &r.outcome {
                Ok(line) => s.ok.push(line),
                Err(_) => s.failed += 1,
            }
        }
        s
    }

    /// True if no run of this program was made.
    pub fn is_empty(&self) -> bool {
        self.ok.is_empty() && self.failed == 0
    }

    /// Median of `key` over the successful runs.
    pub fn median(&self, key: &str) -> Option<f64> {
        let mut v: Vec<f64> = self.ok.iter().filter_map(|l| l.get_f64(key)).collect();
        median(&mut v)
    }
}

/// Whether a target was met.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Met; the measured value (e.g. `2.31×`).
    Met(String),
    /// Missed; the measured value.
    Missed(String),
    /// Cannot be judged; why.
    Unknown(String),
}

/// Judges `target` from the medians of Hive's and BEAM's runs.
pub fn evaluate(target: Target, rate_key: &str, hive: &Summary, beam: &Summary) -> Verdict {
    if hive.ok.is_empty() {
        return Verdict::Unknown("no Hive result".into());
    }
    let (ok, label) = match target {
        Target::RssPerProcAtMost(max) => match hive.median("rss_per_proc_b") {
            Some(b) => (b <= max, format!("{b:.0} B")),
            None => return Verdict::Unknown("no rss_per_proc_b".into()),
        },
        Target::RateRatioAtLeast(min) => match (hive.median(rate_key), beam.median(rate_key)) {
            (Some(h), Some(b)) if b > 0.0 => (h / b >= min, ratio_label(h / b)),
            _ => return Verdict::Unknown("no BEAM result".into()),
        },
        Target::SecondsRatioAtMost(max) => match (hive.median("seconds"), beam.median("seconds")) {
            (Some(h), Some(b)) if b > 0.0 => (h / b <= max, ratio_label(h / b)),
            _ => return Verdict::Unknown("no BEAM result".into()),
        },
        Target::KeyAtMost { key, max } => match hive.median(key) {
            Some(v) => (v <= max, format!("{key}={}", plain(v))),
            None => return Verdict::Unknown(format!("no {key}")),
        },
        Target::KeyRatioAtMost { key, max } => match (hive.median(key), beam.median(key)) {
            (Some(h), Some(b)) if b > 0.0 => (h / b <= max, ratio_label(h / b)),
            (None, _) => return Verdict::Unknown(format!("no {key}")),
            _ => return Verdict::Unknown("no BEAM result".into()),
        },
        Target::All(ts) => {
            // Met if every one is met; unknown if any is; the measured values joined.
            let mut all_ok = true;
            let mut labels = Vec::new();
            for t in ts {
                match evaluate(*t, rate_key, hive, beam) {
                    Verdict::Met(l) => labels.push(l),
                    Verdict::Missed(l) => {
                        all_ok = false;
                        labels.push(l);
                    }
                    u @ Verdict::Unknown(_) => return u,
                }
            }
            (all_ok, labels.join(", "))
        }
    };
    if ok {
        Verdict::Met(label)
    } else {
        Verdict::Missed(label)
    }
}

/// Renders rows as an aligned text table. `right[i]` right-aligns column `i`.
pub fn render_table(headers: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let cols = headers.len();
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, cell) in cells.enumerate().take(cols) {
            let pad = width[i].saturating_sub(cell.chars().count());
            if i > 0 {
                s.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, &mut headers.iter().copied());
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    line(&mut out, &mut rule.iter().map(String::as_str));
    for row in rows {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out
}

/// The scheduler count at which the ratio targets are judged.
pub const TARGET_SCHEDULERS: u32 = 2;

/// What the quick pass checked for one workload: each program checks its own counts
/// (messages, processes, sums) and exits with an error when one is wrong, so a run that
/// succeeded is a count check passed. `-` when no run was made.
fn counts_check(hive: &Summary) -> String {
    let runs = hive.ok.len() + hive.failed;
    match (hive.ok.len(), hive.failed) {
        (0, 0) => "-".into(),
        (_, 0) => "counts ok".into(),
        (0, _) => "FAIL".into(),
        (_, failed) => format!("FAIL ({failed} of {runs} runs)"),
    }
}

/// The comparison table for one scheduler count: one row per workload, medians of the
/// successful runs. `beam_expected` is false when the BEAM column was skipped.
///
/// With `quick` (small sizes) the figures say nothing about speed, so the table judges no
/// target: its last column, `check`, says whether the runs' count checks passed
/// ([`counts_check`]). Otherwise the last two columns are the workload's `target` and the
/// `result` ([`evaluate`]).
pub fn comparison_table(
    records: &[RunRecord],
    workloads: &[&'static Workload],
    schedulers: u32,
    quick: bool,
    beam_expected: bool,
) -> String {
    let mut headers = vec![
        "workload",
        "size",
        "metric",
        "Hive s",
        "Hive rate",
        "Hive B/proc",
        "Hive cpu_s",
        "BEAM s",
        "BEAM rate",
        "rate ×",
        "time ×",
    ];
    headers.extend_from_slice(if quick {
        &["check"][..]
    } else {
        &["target", "result"][..]
    });
    let right = [
        false, false, false, true, true, true, true, true, true, true, true, false, false,
    ];
    let mut rows = Vec::new();
    let mut starred = false;
    let mut lower_rows = false;
    let mut runs = 0;
    for w in workloads {
        let hive = Summary::of(records, Lang::Hive, w.name, schedulers);
        let beam = Summary::of(records, Lang::Erlang, w.name, schedulers);
        runs = runs.max(hive.ok.len() + hive.failed);
        let cell = |s: &Summary, key: &str, f: &dyn Fn(f64) -> String, fail: &str| -> String {
            if s.is_empty() {
                "-".into()
            } else if s.ok.is_empty() {
                fail.into()
            } else {
                s.median(key).map(f).unwrap_or_else(|| "-".into())
            }
        };
        let secs = |v: f64| sig(v, 3);
        // Rates read best as 1.23M; latencies and CPU shares as printed (1049 µs).
        let rate = |v: f64| figure(w, v);
        // Marks the main figure and its ratio on rows where lower is better.
        let down = if w.lower_is_better { " ↓" } else { "" };
        lower_rows |= w.lower_is_better;
        let bytes = |v: f64| format!("{v:.0}");
        let beam_fail = if beam_expected { "fail" } else { "-" };
        let ratio = |key: &str, mark: &str| match (hive.median(key), beam.median(key)) {
            (Some(h), Some(b)) if b > 0.0 && !hive.ok.is_empty() && !beam.ok.is_empty() => {
                format!("{}{mark}", ratio_label(h / b))
            }
            _ => "-".into(),
        };
        let verdict = evaluate(w.target, w.rate_key, &hive, &beam);
        let star = if w.target.needs_beam() && schedulers != TARGET_SCHEDULERS {
            "*"
        } else {
            ""
        };
        let beam_skipped = !beam_expected && w.target.needs_beam() && !hive.ok.is_empty();
        let result = match verdict {
            Verdict::Met(v) => format!("met{star} ({v})"),
            Verdict::Missed(v) => format!("MISSED{star} ({v})"),
            Verdict::Unknown(_) if beam_skipped => "n/a (BEAM skipped)".to_string(),
            Verdict::Unknown(why) => format!("n/a ({why})"),
        };
        starred |= !quick && result.contains('*');
        let size = size_label(w.args(quick));
        let judged = if quick {
            vec![counts_check(&hive)]
        } else {
            vec![w.target.describe(), result]
        };
        let mut row = vec![
            w.name.to_string(),
            size,
            format!("{}{down}", w.rate_unit),
            cell(&hive, "seconds", &secs, "FAIL"),
            cell(&hive, w.rate_key, &rate, "FAIL"),
            cell(&hive, "rss_per_proc_b", &bytes, "FAIL"),
            cell(&hive, "cpu_s", &secs, "FAIL"),
            cell(&beam, "seconds", &secs, beam_fail),
            cell(&beam, w.rate_key, &rate, beam_fail),
            ratio(w.rate_key, down),
            ratio("seconds", ""),
        ];
        row.extend(judged);
        rows.push(row);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Hive vs BEAM at {schedulers} scheduler{} ({}{})",
        if schedulers == 1 { "" } else { "s" },
        if quick { "quick sizes, " } else { "" },
        if runs <= 1 {
            "one run each".to_string()
        } else {
            format!("median of {runs} runs")
        }
    );
    out.push_str(&render_table(&headers, &rows, &right));
    out.push_str(
        "rate × = Hive rate / BEAM rate; time × = Hive s / BEAM s. FAIL = every Hive run failed.\n",
    );
    if lower_rows {
        out.push_str(
            "↓ lower is better: these rows show that figure, not a rate, and rate × = Hive / \
             BEAM of it (below 1× favours Hive).\n",
        );
    }
    if starred {
        let _ = writeln!(
            out,
            "* ratio targets are judged at {TARGET_SCHEDULERS} schedulers; shown here for reference."
        );
    }
    if quick {
        out.push_str(
            "check: quick sizes check counts, not speed. Each program checks what it counted \
             (messages, processes, sums) and fails otherwise; no target is judged here.\n",
        );
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One CSV line of `cells`, with its newline; a cell with a comma, quote or line break is
/// quoted.
pub fn csv_line(cells: &[String]) -> String {
    let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
    let mut text = line.join(",");
    text.push('\n');
    text
}

/// Writes `text` to `path`, creating its directory.
pub fn write_file(path: &Path, text: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// The CSV header: fixed columns, then one column per known result key
/// ([`all_keys`]), then `extra`.
pub fn csv_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "lang",
        "name",
        "schedulers",
        "run",
        "status",
        "detail",
        "args",
        "wall_s",
        "page_fault_us",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(all_keys().iter().map(|s| s.to_string()));
    h.push("extra".into());
    h
}

/// One CSV row for `r`, matching [`csv_header`]. Keys a workload does not print are empty;
/// keys outside [`all_keys`] go to `extra` as space-separated `key=value`.
pub fn csv_row(r: &RunRecord) -> Vec<String> {
    let known = all_keys();
    let (status, detail) = match &r.outcome {
        Ok(_) => ("ok".to_string(), String::new()),
        Err(f) => (f.kind.to_string(), f.detail.clone()),
    };
    let mut row = vec![
        r.lang.key().to_string(),
        r.workload.name.to_string(),
        r.schedulers.to_string(),
        r.run.to_string(),
        status,
        detail,
        r.args
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        format!("{:.3}", r.wall_s),
        r.page_fault_us
            .map(|v| format!("{v:.3}"))
            .unwrap_or_default(),
    ];
    let line = r.outcome.as_ref().ok();
    for k in &known {
        row.push(line.and_then(|l| l.get(k)).unwrap_or_default().to_string());
    }
    let extra = line
        .map(|l| {
            l.fields
                .iter()
                .filter(|(k, _)| !known.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    row.push(extra);
    row
}

/// Writes every record to `path` as CSV (see [`csv_header`]), replacing the file.
pub fn write_csv(path: &Path, records: &[RunRecord]) -> io::Result<()> {
    let mut text = csv_line(&csv_header());
    for r in records {
        text.push_str(&csv_line(&csv_row(r)));
    }
    write_file(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::by_name;
    use std::process::Command;
    use std::time::Duration;

    fn line(s: &str) -> ResultLine {
        ResultLine::parse(s).unwrap()
    }

    fn record(
        lang: Lang,
        name: &str,
        sched: u32,
        outcome: Result<ResultLine, Failure>,
    ) -> RunRecord {
        let w = by_name(name).unwrap();
        RunRecord {
            lang,
            workload: w,
            schedulers: sched,
            run: 1,
            args: w.full_args.to_vec(),
            outcome,
            wall_s: 1.5,
            page_fault_us: Some(1.4),
        }
    }

    #[test]
    fn number_formats() {
        assert_eq!(human(1_234_567.0), "1.23M");
        assert_eq!(human(456_000.0), "456k");
        assert_eq!(human(999_999.0), "1.00M");
        assert_eq!(human(12_345.0), "12.3k");
        assert_eq!(human(2.5e9), "2.50G");
        assert_eq!(human(12.34), "12.3");
        assert_eq!(human(0.01234), "0.0123");
        assert_eq!(human(0.0), "0");
        assert_eq!(sig(2.3214, 3), "2.32");
        assert_eq!(sig(271.26, 4), "271.3");
        assert_eq!(sig(0.09999, 3), "0.100");
        assert_eq!(sig(9.999, 3), "10.0");
        assert_eq!(size_label(&[1_000_000]), "1M");
        assert_eq!(size_label(&[10_000, 1000]), "10k×1000");
        assert_eq!(size_label(&[50, 3]), "50×3");
        assert_eq!(ratio_label(2.3456), "2.35×");
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
        assert_eq!(plain(1049.4), "1049");
        assert_eq!(plain(2000.0), "2000");
        assert_eq!(plain(99.96), "100");
        assert_eq!(plain(12.34), "12.3");
        assert_eq!(plain(0.5), "0.500");
        assert_eq!(plain(0.0), "0");
    }

    #[cfg(unix)]
    fn sh(script: &str) -> Outcome {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        crate::child::run(c, Duration::from_secs(10))
    }

    #[cfg(unix)]
    #[test]
    fn judging_runs() {
        let ring = by_name("ring").unwrap();
        let good = "echo hello; echo RESULT lang=hive name=ring schedulers=2 n=1 m=1 seconds=1 \
                    hops_per_s=1 ns_per_hop=1 cpu_s=1 extra=5";
        let l = judge(Lang::Hive, ring, 2, &[1, 1], &sh(good)).unwrap();
        assert_eq!(l.get("extra"), Some("5"));

        let e = judge(Lang::Hive, ring, 1, &[1, 1], &sh(good)).unwrap_err();
        assert_eq!(e.kind, "bad-output");
        assert!(e.detail.contains("schedulers=2"), "{}", e.detail);

        let e = judge(Lang::Erlang, ring, 2, &[1, 1], &sh(good)).unwrap_err();
        assert!(e.detail.contains("lang=hive"), "{}", e.detail);

        let e = judge(
            Lang::Hive,
            ring,
            2,
            &[1, 1],
            &sh(&format!("{good}; exit 1")),
        )
        .unwrap_err();
        assert_eq!((e.kind, e.detail.as_str()), ("failed", "exit status 1"));

        let e = judge(Lang::Hive, ring, 2, &[1, 1], &sh("echo nothing")).unwrap_err();
        assert_eq!(e.kind, "bad-output");

        let short = "echo RESULT lang=hive name=ring schedulers=2 n=1 m=1 seconds=1";
        let e = judge(Lang::Hive, ring, 2, &[1, 1], &sh(short)).unwrap_err();
        assert!(
            e.detail.contains("hops_per_s, ns_per_hop, cpu_s"),
            "{}",
            e.detail
        );

        let e = judge(Lang::Hive, ring, 2, &[1, 2], &sh(good)).unwrap_err();
        assert_eq!(e.detail, "m=1, but the argument was 2");

        let skynet = by_name("skynet").unwrap();
        let sky = |sum: &str| {
            format!(
                "echo RESULT lang=erlang name=skynet schedulers=1 size=1000 sum={sum} \
                 seconds=1 procs_per_s=1 rss_delta_kb=1 cpu_s=1"
            )
        };
        assert!(judge(Lang::Erlang, skynet, 1, &[1000], &sh(&sky("499500"))).is_ok());
        let e = judge(Lang::Erlang, skynet, 1, &[1000], &sh(&sky("499501"))).unwrap_err();
        assert_eq!(e.detail, "sum=499501, expected 499500");

        let lc = by_name("link_cascade").unwrap();
        let lc_line = |reason: &str| {
            format!(
                "echo RESULT lang=hive name=link_cascade schedulers=2 n=2000 build_s=0.001 \
                 seconds=0.001 ns_per_link=500.3 tail_reason={reason}"
            )
        };
        let l = judge(Lang::Hive, lc, 2, &[2000], &sh(&lc_line("killed"))).unwrap();
        assert_eq!(l.get_f64("ns_per_link"), Some(500.3));
        let e = judge(Lang::Hive, lc, 2, &[2000], &sh(&lc_line("normal"))).unwrap_err();
        assert_eq!(
            (e.kind, e.detail.as_str()),
            ("bad-output", "tail_reason=normal, expected killed")
        );

        let rt = by_name("recv_timeout").unwrap();
        let rt_line = "echo RESULT lang=erlang name=recv_timeout schedulers=2 k=50 timeout_ms=1 \
                       min_us=1769 med_us=2004 p99_us=3970 max_us=3970";
        assert!(judge(Lang::Erlang, rt, 2, &[50], &sh(rt_line)).is_ok());
        let e = judge(Lang::Erlang, rt, 2, &[1000], &sh(rt_line)).unwrap_err();
        assert_eq!(e.detail, "k=50, but the argument was 1000");

        let idle = by_name("idle").unwrap();
        let idle_line = |window: &str| {
            format!(
                "echo RESULT lang=hive name=idle schedulers=2 n=10000 window_s={window} \
                 idle_cpu_s=0 idle_cpu_pct=0"
            )
        };
        // Only n is echoed; WINDOW_MS is checked against the measured window.
        assert!(judge(
            Lang::Hive,
            idle,
            2,
            &[10_000, 200],
            &sh(&idle_line("0.2001"))
        )
        .is_ok());
        assert!(judge(
            Lang::Hive,
            idle,
            2,
            &[10_000, 200],
            &sh(&idle_line("0.1999"))
        )
        .is_ok());
        let e = judge(
            Lang::Hive,
            idle,
            2,
            &[10_000, 2000],
            &sh(&idle_line("0.2001")),
        )
        .unwrap_err();
        assert_eq!(
            e.detail,
            "window_s=0.2001, expected at least 2 (WINDOW_MS=2000)"
        );
        let e = judge(Lang::Hive, idle, 2, &[10, 200], &sh(&idle_line("0.2"))).unwrap_err();
        assert_eq!(e.detail, "n=10000, but the argument was 10");
    }

    #[test]
    fn targets_and_table() {
        let hive = line(
            "RESULT lang=hive name=ring schedulers=2 n=10000 m=1000 seconds=1 \
             hops_per_s=10000000 ns_per_hop=100 cpu_s=1",
        );
        let beam = line(
            "RESULT lang=erlang name=ring schedulers=2 n=10000 m=1000 seconds=2.7 \
             hops_per_s=3700000 ns_per_hop=270 cpu_s=2.7",
        );
        let sky_h = line(
            "RESULT lang=hive name=skynet schedulers=2 size=1000000 sum=499999500000 \
             seconds=1.5 procs_per_s=740740 rss_delta_kb=100 cpu_s=2",
        );
        let sky_b = line(
            "RESULT lang=erlang name=skynet schedulers=2 size=1000000 sum=499999500000 \
             seconds=2.3 procs_per_s=483091 rss_delta_kb=257000 cpu_s=4",
        );
        let live = line(
            "RESULT lang=hive name=spawn_live schedulers=2 n=1000000 spawns_per_s=900000 \
             rss_before_kb=1 rss_live_kb=2 rss_after_kill_kb=3 rss_per_proc_b=3000 kills_per_s=1",
        );
        let records = vec![
            record(Lang::Hive, "ring", 2, Ok(hive.clone())),
            record(Lang::Erlang, "ring", 2, Ok(beam.clone())),
            record(Lang::Hive, "skynet", 2, Ok(sky_h)),
            record(Lang::Erlang, "skynet", 2, Ok(sky_b)),
            record(Lang::Hive, "spawn_live", 2, Ok(live)),
            record(
                Lang::Erlang,
                "spawn_live",
                2,
                Err(Failure::new("timeout", "timed out after 180 s")),
            ),
            record(
                Lang::Hive,
                "big",
                2,
                Err(Failure::new("failed", "exit status 1")),
            ),
        ];
        let ring = Summary::of(&records, Lang::Hive, "ring", 2);
        let ring_b = Summary::of(&records, Lang::Erlang, "ring", 2);
        assert_eq!(
            evaluate(Target::RateRatioAtLeast(2.0), "hops_per_s", &ring, &ring_b),
            Verdict::Met("2.70×".into())
        );
        assert_eq!(
            evaluate(Target::RateRatioAtLeast(3.0), "hops_per_s", &ring, &ring_b),
            Verdict::Missed("2.70×".into())
        );
        let none = Summary::default();
        assert!(matches!(
            evaluate(Target::RateRatioAtLeast(3.0), "hops_per_s", &ring, &none),
            Verdict::Unknown(_)
        ));

        let ws: Vec<&'static Workload> = ["ring", "spawn_live", "big", "skynet", "fan_in"]
            .iter()
            .map(|n| by_name(n).unwrap())
            .collect();
        let t = comparison_table(&records, &ws, 2, false, true);
        let rows: Vec<&str> = t.lines().collect();
        assert!(rows[0].starts_with("Hive vs BEAM at 2 schedulers (one run each)"));
        let ring_row = rows.iter().find(|r| r.starts_with("ring")).unwrap();
        assert!(
            ring_row.contains("10.0M") && ring_row.contains("3.70M"),
            "{ring_row}"
        );
        assert!(ring_row.contains("met (2.70×)"), "{ring_row}");
        let live_row = rows.iter().find(|r| r.starts_with("spawn_live")).unwrap();
        assert!(
            live_row.contains("3000") && live_row.contains("fail"),
            "{live_row}"
        );
        assert!(live_row.contains("met (3000 B)"), "{live_row}");
        let big_row = rows.iter().find(|r| r.starts_with("big")).unwrap();
        assert!(
            big_row.contains("FAIL") && big_row.contains("n/a"),
            "{big_row}"
        );
        let sky_row = rows.iter().find(|r| r.starts_with("skynet")).unwrap();
        assert!(sky_row.contains("MISSED (0.652×)"), "{sky_row}");
        let fan_row = rows.iter().find(|r| r.starts_with("fan_in")).unwrap();
        assert!(fan_row.contains("n/a (no Hive result)"), "{fan_row}");
        assert!(!t.contains('*'));
        assert!(!t.contains('↓'), "no lower-is-better row: {t}");

        let at_one = vec![
            record(Lang::Hive, "ring", 1, Ok(hive)),
            record(Lang::Erlang, "ring", 1, Ok(beam)),
        ];
        let t1 = comparison_table(&at_one, &ws[..1], 1, false, true);
        assert!(
            t1.contains("met* (2.70×)") && t1.contains("at 1 scheduler ("),
            "{t1}"
        );
        assert!(t1.contains("* ratio targets are judged at 2"), "{t1}");

        let hive_only = vec![record(
            Lang::Hive,
            "ring",
            1,
            Ok(line(
                "RESULT lang=hive name=ring schedulers=1 n=1 m=1 seconds=1 hops_per_s=1 \
                 ns_per_hop=1 cpu_s=1",
            )),
        )];
        let t2 = comparison_table(&hive_only, &ws[..1], 1, false, false);
        assert!(t2.contains("n/a (BEAM skipped)"), "{t2}");
        assert!(!t2.contains("* ratio targets"), "{t2}");
    }

    /// The quick pass checks counts only: no target, no verdict, no footnote about
    /// targets; a `check` column says whether the runs' count checks passed.
    #[test]
    fn quick_table_reports_counts_not_targets() {
        let ws = [
            by_name("ring").unwrap(),
            by_name("overload").unwrap(),
            by_name("big").unwrap(),
            by_name("fan_in").unwrap(),
        ];
        let ring = line(
            "RESULT lang=hive name=ring schedulers=1 n=1 m=1 seconds=1 hops_per_s=1 \
             ns_per_hop=1 cpu_s=1",
        );
        let overload = line(
            "RESULT lang=hive name=overload schedulers=1 senders=10 msgs=100000 seconds=0.05 \
             flood_s=0.03 cpu_s=0.03 max_qlen=98976 self_max_qlen=98976 rss_before_kb=3700 \
             rss_peak_kb=17052 rss_after_kb=17052 rss_after_trim_kb=17052 \
             b_per_queued_msg=138.1 rss_kept_pct=100.0 rt_med_us=2376 rt_p99_us=23364 \
             rt_max_us=23364 round_trips=6 rt_tw_med_us=23364 rt_tw_p99_us=23364 \
             drain_rt_p99_us=18.3 drain_rt_max_us=213.6 drain_round_trips=4994 work_reds=100",
        );
        let failed = || Err(Failure::new("failed", "exit status 1"));
        let records = vec![
            record(Lang::Hive, "ring", 1, Ok(ring)),
            record(Lang::Hive, "overload", 1, Ok(overload)),
            record(Lang::Hive, "big", 1, failed()),
            record(
                Lang::Hive,
                "fan_in",
                1,
                Ok(line(
                    "RESULT lang=hive name=fan_in schedulers=1 senders=1 k=1 seconds=1 \
                 msgs_per_s=1 max_qlen=1 cpu_s=1",
                )),
            ),
            record(Lang::Hive, "fan_in", 1, failed()),
        ];
        let t = comparison_table(&records, &ws, 1, true, false);
        let rows: Vec<&str> = t.lines().collect();
        assert!(rows[0].contains("quick sizes"), "{t}");
        assert!(rows[1].trim_end().ends_with("check"), "{t}");
        for word in ["target", "result"] {
            assert!(!rows[1].contains(word), "header has {word}: {t}");
        }
        for word in ["met (", "met* (", "MISSED", "n/a", "issue", "≥", "≤"] {
            assert!(!t.contains(word), "{word} in the quick table: {t}");
        }
        let row = |name: &str| *rows.iter().find(|r| r.starts_with(name)).unwrap();
        assert!(row("ring").ends_with("counts ok"), "{t}");
        assert!(row("overload").ends_with("counts ok"), "{t}");
        assert!(row("big").ends_with("FAIL"), "{t}");
        assert!(row("fan_in").ends_with("FAIL (1 of 2 runs)"), "{t}");
        assert!(t.contains("quick sizes check counts, not speed"), "{t}");
    }

    #[test]
    fn absolute_key_targets() {
        let rt_h = line(
            "RESULT lang=hive name=recv_timeout schedulers=2 k=1000 timeout_ms=1 min_us=1037 \
             med_us=1049 p99_us=1146 max_us=1300",
        );
        let rt_b = line(
            "RESULT lang=erlang name=recv_timeout schedulers=2 k=1000 timeout_ms=1 \
             min_us=1769 med_us=2000 p99_us=2027 max_us=3755",
        );
        let idle_h = line(
            "RESULT lang=hive name=idle schedulers=2 n=1000000 window_s=2 idle_cpu_s=0.04 \
             idle_cpu_pct=2",
        );
        let records = vec![
            record(Lang::Hive, "recv_timeout", 2, Ok(rt_h.clone())),
            record(Lang::Erlang, "recv_timeout", 2, Ok(rt_b.clone())),
            record(Lang::Hive, "idle", 2, Ok(idle_h)),
        ];
        let med = Target::KeyAtMost {
            key: "med_us",
            max: 1100.0,
        };
        let hive = Summary::of(&records, Lang::Hive, "recv_timeout", 2);
        let beam = Summary::of(&records, Lang::Erlang, "recv_timeout", 2);
        let none = Summary::default();
        assert_eq!(
            evaluate(med, "med_us", &hive, &beam),
            Verdict::Met("med_us=1049".into())
        );
        // Absolute: judged without BEAM, and on Hive's figure only.
        assert_eq!(
            evaluate(med, "med_us", &hive, &none),
            Verdict::Met("med_us=1049".into())
        );
        assert_eq!(
            evaluate(med, "med_us", &beam, &hive),
            Verdict::Missed("med_us=2000".into())
        );
        // The bound itself meets the target.
        let at = Target::KeyAtMost {
            key: "med_us",
            max: 1049.0,
        };
        assert!(matches!(
            evaluate(at, "med_us", &hive, &none),
            Verdict::Met(_)
        ));
        assert_eq!(
            evaluate(med, "med_us", &none, &beam),
            Verdict::Unknown("no Hive result".into())
        );
        let other = Target::KeyAtMost {
            key: "nope_us",
            max: 1.0,
        };
        assert_eq!(
            evaluate(other, "med_us", &hive, &beam),
            Verdict::Unknown("no nope_us".into())
        );
        // The median over several runs is what is judged.
        let slow = line(
            "RESULT lang=hive name=recv_timeout schedulers=2 k=1000 timeout_ms=1 min_us=1 \
             med_us=1200 p99_us=1 max_us=1",
        );
        let three = vec![
            record(Lang::Hive, "recv_timeout", 2, Ok(rt_h.clone())),
            record(Lang::Hive, "recv_timeout", 2, Ok(slow.clone())),
            record(Lang::Hive, "recv_timeout", 2, Ok(slow)),
        ];
        let h3 = Summary::of(&three, Lang::Hive, "recv_timeout", 2);
        assert_eq!(
            evaluate(med, "med_us", &h3, &none),
            Verdict::Missed("med_us=1200".into())
        );

        let ws: Vec<&'static Workload> = ["recv_timeout", "idle"]
            .iter()
            .map(|n| by_name(n).unwrap())
            .collect();
        let t = comparison_table(&records, &ws, 2, false, true);
        let rt_row = t.lines().find(|r| r.starts_with("recv_timeout")).unwrap();
        // Latencies are shown as printed, the ratio is Hive / BEAM marked lower-is-better.
        assert!(
            rt_row.contains("µs median ↓") && rt_row.contains("1049") && rt_row.contains("2000"),
            "{rt_row}"
        );
        assert!(rt_row.contains("0.524× ↓"), "{rt_row}");
        assert!(
            rt_row.contains("med_us ≤1100") && rt_row.contains("met (med_us=1049)"),
            "{rt_row}"
        );
        let idle_row = t.lines().find(|r| r.starts_with("idle")).unwrap();
        assert!(idle_row.contains("1M×2000") && idle_row.contains("idle CPU % ↓"));
        assert!(
            idle_row.contains("MISSED (idle_cpu_pct=2.00)"),
            "{idle_row}"
        );
        assert!(t.contains("↓ lower is better"), "{t}");
        assert!(!t.contains('*'), "absolute targets are not starred: {t}");

        // At 1 scheduler, without BEAM: still judged, not starred, not "BEAM skipped".
        let at_one =
            vec![record(Lang::Hive, "recv_timeout", 1, Ok(line(
            "RESULT lang=hive name=recv_timeout schedulers=1 k=1000 timeout_ms=1 min_us=1037 \
             med_us=1049 p99_us=1146 max_us=1300",
        )))];
        let t1 = comparison_table(&at_one, &ws[..1], 1, false, false);
        assert!(t1.contains("met (med_us=1049)"), "{t1}");
        assert!(!t1.contains('*') && !t1.contains("BEAM skipped"), "{t1}");

        let csv = csv_row(&record(Lang::Hive, "recv_timeout", 2, Ok(rt_h)));
        let header = csv_header();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(csv[col("med_us")], "1049");
        assert_eq!(csv[col("k")], "1000");
        assert_eq!(csv[col("extra")], "");
    }

    #[test]
    fn all_targets_and_variants() {
        // dist_ping_pong/1: both targets judged; the program's RESULT name has no variant.
        let w = by_name("dist_ping_pong/1").unwrap();
        let ok = |cmd: &str| {
            let mut c = Command::new("sh");
            c.args(["-c", cmd]);
            let o = crate::child::run(c, Duration::from_secs(10));
            judge(Lang::Hive, w, 2, w.full_args, &o)
        };
        let fields = "pairs=1 k=20000 seconds=1 msgs_per_s=40000 rt_p50_us=50 rt_p99_us=90 cpu_s=1";
        assert!(ok(&format!(
            "echo RESULT lang=hive name=dist_ping_pong schedulers=2 {fields}"
        ))
        .is_ok());
        assert!(ok(&format!(
            "echo RESULT lang=hive name=dist_ping_pong/1 schedulers=2 {fields}"
        ))
        .is_err());
        let h = line(&format!(
            "RESULT lang=hive name=dist_ping_pong schedulers=2 {fields}"
        ));
        let b = line(
            "RESULT lang=erlang name=dist_ping_pong schedulers=2 pairs=1 k=20000 seconds=1 \
             msgs_per_s=10000 rt_p50_us=200 rt_p99_us=900 cpu_s=1",
        );
        let slow = line(
            "RESULT lang=erlang name=dist_ping_pong schedulers=1 pairs=1 k=20000 seconds=1 \
             msgs_per_s=10000 rt_p50_us=60 rt_p99_us=900 cpu_s=1",
        );
        let records = vec![
            record(Lang::Hive, "dist_ping_pong/1", 2, Ok(h.clone())),
            record(Lang::Erlang, "dist_ping_pong/1", 2, Ok(b)),
            record(Lang::Hive, "dist_ping_pong/1", 1, Ok(h)),
            record(Lang::Erlang, "dist_ping_pong/1", 1, Ok(slow)),
        ];
        let s = |l, n| Summary::of(&records, l, "dist_ping_pong/1", n);
        assert_eq!(
            evaluate(w.target, w.rate_key, &s(Lang::Hive, 2), &s(Lang::Erlang, 2)),
            Verdict::Met("4.00×, 0.250×".into())
        );
        // 4× the rate but p50 at 0.83× BEAM's: missed.
        assert_eq!(
            evaluate(w.target, w.rate_key, &s(Lang::Hive, 1), &s(Lang::Erlang, 1)),
            Verdict::Missed("4.00×, 0.833×".into())
        );
        assert!(matches!(
            evaluate(w.target, w.rate_key, &s(Lang::Hive, 2), &Summary::default()),
            Verdict::Unknown(_)
        ));
        // The other size is another row.
        assert!(Summary::of(&records, Lang::Hive, "dist_ping_pong/100", 2).is_empty());
    }

    #[test]
    fn key_ratio_target() {
        let h = line(
            "RESULT lang=hive name=selective_receive schedulers=2 queued=10000 k=10000 \
             empty_us_per_rt=0.13 opt_us_per_rt=0.5 unopt_us_per_rt=59",
        );
        let b = line(
            "RESULT lang=erlang name=selective_receive schedulers=2 queued=10000 k=10000 \
             empty_us_per_rt=0.4 opt_us_per_rt=0.5 unopt_us_per_rt=50",
        );
        let slow = line(
            "RESULT lang=hive name=selective_receive schedulers=2 queued=10000 k=10000 \
             empty_us_per_rt=0.13 opt_us_per_rt=1 unopt_us_per_rt=59",
        );
        let records = vec![
            record(Lang::Hive, "selective_receive", 2, Ok(h)),
            record(Lang::Erlang, "selective_receive", 2, Ok(b)),
            record(Lang::Hive, "selective_receive", 1, Ok(slow.clone())),
        ];
        let t = Target::KeyRatioAtMost {
            key: "opt_us_per_rt",
            max: 1.0,
        };
        let hive = Summary::of(&records, Lang::Hive, "selective_receive", 2);
        let beam = Summary::of(&records, Lang::Erlang, "selective_receive", 2);
        let hive_slow = Summary::of(&records, Lang::Hive, "selective_receive", 1);
        let none = Summary::default();
        // The bound itself (equal µs) meets the target; twice BEAM's misses it.
        assert_eq!(
            evaluate(t, "opt_us_per_rt", &hive, &beam),
            Verdict::Met("1.00×".into())
        );
        assert_eq!(
            evaluate(t, "opt_us_per_rt", &hive_slow, &beam),
            Verdict::Missed("2.00×".into())
        );
        // The ratio is Hive / BEAM of the target's own key, whatever the rate key.
        let empty = Target::KeyRatioAtMost {
            key: "empty_us_per_rt",
            max: 0.5,
        };
        assert_eq!(
            evaluate(empty, "opt_us_per_rt", &hive, &beam),
            Verdict::Met("0.325×".into())
        );
        assert_eq!(
            evaluate(t, "opt_us_per_rt", &hive, &none),
            Verdict::Unknown("no BEAM result".into())
        );
        assert_eq!(
            evaluate(t, "opt_us_per_rt", &none, &beam),
            Verdict::Unknown("no Hive result".into())
        );
        let other = Target::KeyRatioAtMost {
            key: "nope_us",
            max: 1.0,
        };
        assert_eq!(
            evaluate(other, "opt_us_per_rt", &hive, &beam),
            Verdict::Unknown("no nope_us".into())
        );
        // The table judges the selective_receive row with it.
        let ws = [by_name("selective_receive").unwrap()];
        let table = comparison_table(&records, &ws, 2, false, true);
        assert!(table.contains("opt_us_per_rt ≤1× BEAM"), "{table}");
        assert!(table.contains("met (1.00×)"), "{table}");
    }

    #[test]
    fn csv_rows() {
        let l = line(
            "RESULT lang=hive name=ring schedulers=2 n=10 m=2 seconds=1 hops_per_s=20 \
             ns_per_hop=5 cpu_s=1 note=x,y flavour=z",
        );
        let header = csv_header();
        let ok = csv_row(&record(Lang::Hive, "ring", 2, Ok(l)));
        assert_eq!(header.len(), ok.len());
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(ok[col("lang")], "hive");
        assert_eq!(ok[col("status")], "ok");
        assert_eq!(ok[col("args")], "10000 1000");
        assert_eq!(ok[col("hops_per_s")], "20");
        assert_eq!(ok[col("max_qlen")], "");
        assert_eq!(ok[col("page_fault_us")], "1.400");
        assert_eq!(ok[col("extra")], "note=x,y flavour=z");
        let bad = csv_row(&record(
            Lang::Erlang,
            "ring",
            1,
            Err(Failure::new("failed", "exit status 1")),
        ));
        assert_eq!(bad[col("status")], "failed");
        assert_eq!(bad[col("detail")], "exit status 1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");

        let dir = std::env::temp_dir().join(format!("hive-stress-csv-{}", std::process::id()));
        let path = dir.join("results.csv");
        write_csv(
            &path,
            &[record(
                Lang::Hive,
                "ring",
                2,
                Err(Failure::new("timeout", "t")),
            )],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with("lang,name,schedulers,run,status,detail,args,"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
