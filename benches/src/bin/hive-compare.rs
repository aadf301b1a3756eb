//! `hive-compare`: every workload on Hive (the C programs in `--bin-dir`), Erlang/OTP (the
//! peers in `benches/peers/erlang`) and Go (`benches/peers/go`, the workloads it has),
//! interleaved, at several scheduler counts; prints median [min–max] and Hive's ratio to
//! each peer, and writes CSV and SVG files. `--scaling` runs the scaling sweep instead.
//! See `benches/README.md`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use hive_bench::chart;
use hive_bench::child;
use hive_bench::compare::{self, Options, USAGE};
use hive_bench::erlang::{self, Erlang};
use hive_bench::go::{self, Go, GoPeers};
use hive_bench::probe;
use hive_bench::report::{self, Failure, Lang, RunRecord};
use hive_bench::workload::Workload;
use hive_bench::{is_result_line, ResultLine};
use indicatif::{ProgressBar, ProgressStyle};

/// Erlang, ready to run: the installation and the directory of the compiled peers.
struct Beam {
    erl: Erlang,
    dir: PathBuf,
}

/// Locates Erlang and compiles the peers into `out_dir/erlang`; says why if the BEAM
/// column is skipped.
fn setup_beam(opts: &Options, root: &Path) -> Option<Beam> {
    if !opts.erlang {
        return None;
    }
    let Some(erl) = Erlang::locate(opts.erl.as_deref()) else {
        if let Some(p) = &opts.erl {
            eprintln!("hive-compare: --erl {}: not an executable", p.display());
        }
        eprintln!("{}", erlang::NOT_FOUND);
        return None;
    };
    let dir = opts.out_dir.join("erlang");
    if let Err(e) = erl.compile(&root.join("benches/peers/erlang"), &dir) {
        eprintln!(
            "hive-compare: compiling the Erlang peers failed, the BEAM column is skipped:\n{e}"
        );
        return None;
    }
    let otp = erl.otp_release().unwrap_or_else(|| "?".into());
    eprintln!(
        "Erlang/OTP {otp}: {} (peers compiled into {})",
        erl.erl.display(),
        dir.display()
    );
    Some(Beam { erl, dir })
}

/// Locates Go and builds the peers into `out_dir/go-bin`; says why if the Go column is
/// skipped.
fn setup_go(opts: &Options, root: &Path) -> Option<GoPeers> {
    if !opts.go {
        return None;
    }
    let Some(toolchain) = Go::locate(opts.go_path.as_deref()) else {
        if let Some(p) = &opts.go_path {
            eprintln!("hive-compare: --go {}: not an executable", p.display());
        }
        eprintln!("{}", go::NOT_FOUND);
        return None;
    };
    let built = toolchain
        .build(
            &root.join("benches/peers/go"),
            &opts.out_dir.join("go-bin"),
            &opts.out_dir.join("go-cache"),
        )
        .and_then(|bin| GoPeers::load(&bin));
    match built {
        Ok(peers) => {
            eprintln!(
                "Go {}: {} (peers built into {}; workloads: {})",
                toolchain.version().unwrap_or_else(|| "?".into()),
                toolchain.go.display(),
                peers.bin.display(),
                peers.workloads.join(", ")
            );
            Some(peers)
        }
        Err(e) => {
            eprintln!("hive-compare: building the Go peers failed, the Go column is skipped:\n{e}");
            None
        }
    }
}

/// The last `n` lines of `text` that are not `RESULT` lines, indented.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !is_result_line(l)).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| format!("    | {l}\n"))
        .collect()
}

fn main() -> ExitCode {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let opts: Options = match compare::parse(env::args().skip(1), cores) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hive-compare: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !opts.bin_dir.is_dir() {
        eprintln!(
            "hive-compare: --bin-dir {} is not a directory: build the C stress programs first \
             (make stress-bins)",
            opts.bin_dir.display()
        );
        return ExitCode::from(2);
    }
    let root = compare::workspace_root();
    let beam = setup_beam(&opts, &root);
    let gopeers = setup_go(&opts, &root);
    let (runs_csv, summary_csv, svg) = if opts.scaling {
        ("scaling-runs.csv", "scaling.csv", "scaling.svg")
    } else {
        ("runs.csv", "summary.csv", "compare.svg")
    };
    let runs_csv = opts.out_dir.join(runs_csv);
    let summary_csv = opts.out_dir.join(summary_csv);
    let svg = opts.out_dir.join(svg);

    // The languages of each workload, in run order.
    let langs = |w: &Workload| -> Vec<Lang> {
        let mut v = vec![Lang::Hive];
        if beam.is_some() {
            v.push(Lang::Erlang);
        }
        if gopeers.as_ref().is_some_and(|g| g.has(w.name)) {
            v.push(Lang::Go);
        }
        v
    };
    let per_pass: usize = opts.workloads.iter().map(|w| langs(w).len()).sum();
    let total = opts.schedulers.len() * opts.runs as usize * per_pass;
    let counts = opts
        .schedulers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "hive-compare{}: {} workload(s) at {counts} scheduler(s), {} sizes, {} run(s) each, \
         timeout {} s; Hive programs in {}",
        if opts.scaling { " --scaling" } else { "" },
        opts.workloads.len(),
        if opts.quick { "quick" } else { "full" },
        opts.runs,
        opts.timeout.as_secs(),
        opts.bin_dir.display()
    );

    let pb = ProgressBar::new(total as u64);
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:24} {pos}/{len} {msg}")
            .expect("valid template"),
    );
    pb.enable_steady_tick(Duration::from_millis(120));

    let mut records: Vec<RunRecord> = Vec::new();
    let mut csv_error = None;
    let mut loads = Vec::new();
    for &sched in &opts.schedulers {
        let load = probe::load_average()
            .map(|l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]))
            .unwrap_or_else(|| "?".into());
        pb.suspend(|| eprintln!("pass at {sched} scheduler(s): load average {load}"));
        loads.push(load);
        for run in 1..=opts.runs {
            for &w in &opts.workloads {
                for lang in langs(w) {
                    let args = w.args(opts.quick);
                    let what = format!(
                        "{sched} sched, run {run}/{}: {} {} {}",
                        opts.runs,
                        lang.key(),
                        w.name,
                        args.iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                    pb.set_message(what.clone());
                    if pb.is_hidden() {
                        eprintln!("[{}/{total}] {what}", records.len() + 1);
                    }
                    let cmd = match lang {
                        Lang::Hive => hive_command(&opts.bin_dir, w, sched, args),
                        Lang::Erlang => {
                            let b = beam.as_ref().expect("BEAM column enabled");
                            beam_command(b, w, sched, args)
                        }
                        Lang::Go => {
                            let g = gopeers.as_ref().expect("Go column enabled");
                            Ok(g.command(w.name, sched, args))
                        }
                    };
                    let (outcome, wall_s) = match cmd {
                        Ok(cmd) => run_one(&pb, cmd, lang, w, sched, args, opts.timeout),
                        Err(f) => {
                            pb.suspend(|| report_failure(lang, w, sched, &f, "", ""));
                            (Err(f), 0.0)
                        }
                    };
                    records.push(RunRecord {
                        lang,
                        workload: w,
                        schedulers: sched,
                        run,
                        args: args.to_vec(),
                        outcome,
                        wall_s,
                        page_fault_us: None,
                    });
                    if let Err(e) = report::write_csv(&runs_csv, &records) {
                        csv_error.get_or_insert(format!("{}: {e}", runs_csv.display()));
                    }
                    pb.inc(1);
                }
            }
        }
    }
    pb.finish_and_clear();

    let groups = compare::groups(&records, &opts.workloads, &opts.schedulers);
    let mut peers = Vec::new();
    if beam.is_some() {
        peers.push(Lang::Erlang);
    }
    if gopeers.is_some() {
        peers.push(Lang::Go);
    }
    if opts.scaling {
        println!(
            "\n{}",
            compare::scaling_table(&groups, &opts.schedulers, opts.quick)
        );
    } else {
        for &sched in &opts.schedulers {
            println!(
                "\n{}",
                compare::compare_table(&groups, sched, &peers, opts.quick)
            );
        }
    }
    if let Err(e) = compare::write_summary_csv(&summary_csv, &groups) {
        csv_error.get_or_insert(format!("{}: {e}", summary_csv.display()));
    }
    let subtitle = format!(
        "{}{} run(s) each, median; {cores} core(s); load average before the first pass {}",
        if opts.quick {
            "quick sizes (not for comparing speed), "
        } else {
            ""
        },
        opts.runs,
        loads.first().map_or("?", String::as_str)
    );
    let drawn = if opts.scaling {
        chart::scaling_chart(&svg, &groups, &opts.schedulers, &subtitle)
    } else {
        let reference = compare::reference_lang(&groups);
        chart::compare_chart(&svg, &groups, &opts.schedulers, reference, &subtitle)
    };
    match csv_error {
        None => eprintln!(
            "results: {} and {}",
            runs_csv.display(),
            summary_csv.display()
        ),
        Some(e) => eprintln!("hive-compare: cannot write {e}"),
    }
    match drawn {
        Ok(()) => eprintln!(
            "chart: {} (open it in any browser, e.g. xdg-open {})",
            svg.display(),
            svg.display()
        ),
        Err(e) => eprintln!("hive-compare: cannot draw {}: {e}", svg.display()),
    }
    summarize(&records)
}

/// The command for a Hive program, or a `missing` failure.
fn hive_command(
    bin_dir: &Path,
    w: &Workload,
    sched: u32,
    args: &[u64],
) -> Result<Command, Failure> {
    let path = bin_dir.join(w.name);
    if !path.is_file() {
        return Err(report::missing(&path));
    }
    let mut cmd = Command::new(path);
    cmd.arg(sched.to_string())
        .args(args.iter().map(u64::to_string));
    Ok(cmd)
}

/// The command for an Erlang peer, or a `missing` failure.
fn beam_command(beam: &Beam, w: &Workload, sched: u32, args: &[u64]) -> Result<Command, Failure> {
    let module = w.erlang_module();
    let compiled = beam.dir.join(format!("{module}.beam"));
    if !compiled.is_file() {
        return Err(report::missing(&compiled));
    }
    Ok(beam.erl.command(&beam.dir, &module, sched, args))
}

/// Prints a failed run with the tail of its output.
fn report_failure(lang: Lang, w: &Workload, sched: u32, f: &Failure, stdout: &str, stderr: &str) {
    let who = match lang {
        Lang::Hive => "FAIL",
        Lang::Erlang => "BEAM run failed:",
        Lang::Go => "Go run failed:",
    };
    eprint!(
        "{who} {} {} at {sched} scheduler(s): {}: {}\n{}{}",
        lang.key(),
        w.name,
        f.kind,
        f.detail,
        tail(stdout, 5),
        tail(stderr, 15)
    );
}

/// Prints the failures and returns the exit code: failure if any Hive run failed.
fn summarize(records: &[RunRecord]) -> ExitCode {
    let failed = |lang: Lang| {
        records
            .iter()
            .filter(|r| r.lang == lang && r.outcome.is_err())
            .count()
    };
    for (lang, name) in [(Lang::Erlang, "Erlang"), (Lang::Go, "Go")] {
        let n = failed(lang);
        if n > 0 {
            eprintln!("{n} {name} run(s) failed (reported above; they do not fail the run)");
        }
    }
    let hive: Vec<&RunRecord> = records
        .iter()
        .filter(|r| r.lang == Lang::Hive && r.outcome.is_err())
        .collect();
    if hive.is_empty() {
        let n = records.iter().filter(|r| r.lang == Lang::Hive).count();
        eprintln!("all {n} Hive run(s) succeeded");
        return ExitCode::SUCCESS;
    }
    eprintln!("{} Hive run(s) failed:", hive.len());
    for r in hive {
        if let Err(f) = &r.outcome {
            eprintln!(
                "  {} at {} scheduler(s), run {}: {}: {}",
                r.workload.name, r.schedulers, r.run, f.kind, f.detail
            );
        }
    }
    ExitCode::FAILURE
}

/// Runs one program, echoes its `RESULT` lines, reports a failure with the tail of its
/// output, and returns the judged outcome and the wall time.
fn run_one(
    pb: &ProgressBar,
    cmd: Command,
    lang: Lang,
    w: &Workload,
    sched: u32,
    args: &[u64],
    timeout: Duration,
) -> (Result<ResultLine, Failure>, f64) {
    let outcome = child::run(cmd, timeout);
    let judged = report::judge(lang, w, sched, args, &outcome);
    pb.suspend(|| {
        for line in outcome.stdout.lines().filter(|l| is_result_line(l)) {
            println!("{line}");
        }
        if let Err(f) = &judged {
            report_failure(lang, w, sched, f, &outcome.stdout, &outcome.stderr);
        }
    });
    (judged, outcome.wall.as_secs_f64())
}
