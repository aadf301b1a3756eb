//! `hive-stress`: runs the stress workloads on Hive (C programs in `--bin-dir`) and on
//! Erlang/OTP (the peers in `benches/peers/erlang`), interleaved, and prints a comparison
//! table per scheduler count. See `benches/README.md`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use hive_bench::child;
use hive_bench::cli::{self, Options, USAGE};
use hive_bench::erlang::{self, Erlang};
use hive_bench::probe;
use hive_bench::report::{self, Failure, Lang, RunRecord};
use hive_bench::workload::Workload;
use hive_bench::{is_result_line, ResultLine};
use indicatif::{ProgressBar, ProgressStyle};

/// The workspace root: the current directory if it is the workspace, else the one this
/// binary was built from.
fn workspace_root() -> PathBuf {
    if let Ok(cwd) = env::current_dir() {
        if cwd.join("Cargo.toml").is_file() && cwd.join("benches/peers/erlang").is_dir() {
            return cwd;
        }
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    built.canonicalize().unwrap_or(built)
}

/// The last `n` lines of `text`, indented, for failure reports.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !is_result_line(l)).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| format!("    | {l}\n"))
        .collect()
}

/// Erlang, ready to run: the installation and the directory of the compiled peers.
struct Beam {
    erl: Erlang,
    dir: PathBuf,
}

/// Locates Erlang and compiles the peers into `out_dir`; says why if the BEAM column is
/// skipped.
fn setup_beam(opts: &Options, root: &Path, out_dir: &Path) -> Option<Beam> {
    if !opts.peers {
        return None;
    }
    let Some(erl) = Erlang::locate(opts.erl.as_deref()) else {
        if let Some(p) = &opts.erl {
            eprintln!("hive-stress: --erl {}: not an executable", p.display());
        }
        eprintln!("{}", erlang::NOT_FOUND);
        return None;
    };
    let dir = out_dir.join("erlang");
    if let Err(e) = erl.compile(&root.join("benches/peers/erlang"), &dir) {
        eprintln!(
            "hive-stress: compiling the Erlang peers failed, the BEAM column is skipped:\n{e}"
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

/// Measures the page-fault cost before a full-size pass (see `probe`); prints it with the
/// load average and returns the mean in µs per page.
fn probe_machine(pb: &ProgressBar, sched: u32) -> f64 {
    pb.set_message(format!(
        "{sched} sched: probing page-fault cost (2 × 1 GiB)"
    ));
    let a = probe::page_fault_us(1 << 30);
    let b = probe::page_fault_us(1 << 30);
    let load = probe::load_average()
        .map(|l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]))
        .unwrap_or_else(|| "?".into());
    pb.suspend(|| {
        eprintln!(
            "pass at {sched} scheduler(s): load average {load}; page-fault cost \
             {a:.2} / {b:.2} µs per 4 KiB page (1 GiB fresh, 2 passes)"
        )
    });
    (a + b) / 2.0
}

fn main() -> ExitCode {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let opts: Options = match cli::parse(env::args().skip(1), cores) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hive-stress: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !opts.bin_dir.is_dir() {
        eprintln!(
            "hive-stress: --bin-dir {} is not a directory: build the C stress programs first \
             (make stress-bins)",
            opts.bin_dir.display()
        );
        return ExitCode::from(2);
    }
    let root = workspace_root();
    let out_dir = root.join("target/stress");
    let csv_path = out_dir.join("results.csv");
    let beam = setup_beam(&opts, &root, &out_dir);

    let passes = opts.passes();
    let langs: &[Lang] = if beam.is_some() {
        &[Lang::Hive, Lang::Erlang]
    } else {
        &[Lang::Hive]
    };
    let total = passes.len() * opts.runs as usize * opts.workloads.len() * langs.len();
    eprintln!(
        "hive-stress: {} workload(s) at {} scheduler(s), {} sizes, {} run(s) each, \
         timeout {} s; Hive programs in {}",
        opts.workloads.len(),
        passes
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" then "),
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
    for &sched in &passes {
        let page_fault_us = (opts.probe && !opts.quick).then(|| probe_machine(&pb, sched));
        for run in 1..=opts.runs {
            for &w in &opts.workloads {
                for &lang in langs {
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
                            let beam = beam.as_ref().expect("peers enabled");
                            beam_command(beam, w, sched, args)
                        }
                        Lang::Go => unreachable!("hive-stress runs no Go peers"),
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
                        page_fault_us,
                    });
                    if let Err(e) = report::write_csv(&csv_path, &records) {
                        csv_error.get_or_insert(e);
                    }
                    pb.inc(1);
                }
            }
        }
        let table =
            report::comparison_table(&records, &opts.workloads, sched, opts.quick, beam.is_some());
        pb.suspend(|| println!("\n{table}"));
    }
    pb.finish_and_clear();
    match csv_error {
        None => eprintln!("results: {}", csv_path.display()),
        Some(e) => eprintln!("hive-stress: cannot write {}: {e}", csv_path.display()),
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
    let failed = |lang: Lang| -> Vec<&RunRecord> {
        records
            .iter()
            .filter(|r| r.lang == lang && r.outcome.is_err())
            .collect()
    };
    let beam_failures = failed(Lang::Erlang).len();
    if beam_failures > 0 {
        eprintln!(
            "{beam_failures} Erlang run(s) failed (reported above; they do not fail the run)"
        );
    }
    let hive_failures = failed(Lang::Hive);
    if hive_failures.is_empty() {
        let n = records.iter().filter(|r| r.lang == Lang::Hive).count();
        eprintln!("all {n} Hive run(s) succeeded");
        return ExitCode::SUCCESS;
    }
    eprintln!("{} Hive run(s) failed:", hive_failures.len());
    for r in hive_failures {
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
