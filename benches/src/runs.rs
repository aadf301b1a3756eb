//! Running the programs, shared by `hive-stress` and `hive-compare`: the command line's
//! outcome, locating and compiling the Erlang peers, the commands for the Hive programs and
//! the Erlang peers, one run with its progress line and failure report, and the closing
//! summary of failures.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::child;
use crate::erlang::{self, Erlang};
use crate::report::{self, Failure, Lang, RunRecord};
use crate::workload::Workload;
use crate::{is_result_line, ResultLine};

/// The workspace root: the current directory if it is the workspace (it has a `Cargo.toml`
/// and the directory `marker`, e.g. `benches/peers`), else the one this crate was built
/// from.
pub fn workspace_root(marker: &str) -> PathBuf {
    if let Ok(cwd) = std::env::current_dir() {
        if cwd.join("Cargo.toml").is_file() && cwd.join(marker).is_dir() {
            return cwd;
        }
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    built.canonicalize().unwrap_or(built)
}

/// The options from a parser's result (`prog`'s `parse`), or the exit code after printing
/// `usage` (for `--help`, success) or the error and `usage` (exit code 2).
pub fn options<T>(
    prog: &str,
    usage: &str,
    parsed: Result<Option<T>, String>,
) -> Result<T, ExitCode> {
    match parsed {
        Ok(Some(o)) => Ok(o),
        Ok(None) => {
            println!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{prog}: {e}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}

/// Checks that `--bin-dir` is a directory; says so and returns exit code 2 if not.
pub fn check_bin_dir(prog: &str, bin_dir: &Path) -> Result<(), ExitCode> {
    if bin_dir.is_dir() {
        return Ok(());
    }
    eprintln!(
        "{prog}: --bin-dir {} is not a directory: build the C stress programs first \
         (make stress-bins)",
        bin_dir.display()
    );
    Err(ExitCode::from(2))
}

/// Prints what a runner is about to do: `title` (the runner, and its mode), how many
/// workloads at which scheduler `counts`, the sizes, the runs, the timeout and where the
/// Hive programs are.
pub fn print_plan(
    title: &str,
    workloads: usize,
    counts: &str,
    quick: bool,
    runs: u32,
    timeout: Duration,
    bin_dir: &Path,
) {
    eprintln!(
        "{title}: {workloads} workload(s) at {counts} scheduler(s), {} sizes, {runs} run(s) \
         each, timeout {} s; Hive programs in {}",
        if quick { "quick" } else { "full" },
        timeout.as_secs(),
        bin_dir.display()
    );
}

/// The environment variable that tells a peer where the Hive programs are.
pub const BIN_DIR_ENV: &str = "HIVE_STRESS_BIN_DIR";

/// Erlang, ready to run: the installation and the directory of the compiled peers.
pub struct Beam {
    /// The Erlang installation.
    pub erl: Erlang,
    /// Where the peers were compiled.
    pub dir: PathBuf,
    /// The Hive programs (absolute when it exists): given to every peer as
    /// `HIVE_STRESS_BIN_DIR`, for the echo peer, which runs `echo client ...` as its load
    /// generator.
    pub bin_dir: PathBuf,
}

impl Beam {
    /// Locates Erlang (`erl`, else `erl` on `PATH`) and compiles the peers of
    /// `root/benches/peers/erlang` into `out_dir/erlang`; says why (as `prog`) if the BEAM
    /// column is skipped. `None` at once if not `enabled`. `bin_dir` holds the Hive
    /// programs (see [`Beam::bin_dir`]).
    pub fn setup(
        prog: &str,
        enabled: bool,
        erl: Option<&Path>,
        root: &Path,
        out_dir: &Path,
        bin_dir: &Path,
    ) -> Option<Beam> {
        if !enabled {
            return None;
        }
        let Some(found) = Erlang::locate(erl) else {
            if let Some(p) = erl {
                eprintln!("{prog}: --erl {}: not an executable", p.display());
            }
            eprintln!("{}", erlang::NOT_FOUND);
            return None;
        };
        let dir = out_dir.join("erlang");
        if let Err(e) = found.compile(&root.join("benches/peers/erlang"), &dir) {
            eprintln!(
                "{prog}: compiling the Erlang peers failed, the BEAM column is skipped:\n{e}"
            );
            return None;
        }
        let otp = found.otp_release().unwrap_or_else(|| "?".into());
        eprintln!(
            "Erlang/OTP {otp}: {} (peers compiled into {})",
            found.erl.display(),
            dir.display()
        );
        let bin_dir = bin_dir
            .canonicalize()
            .unwrap_or_else(|_| bin_dir.to_path_buf());
        Some(Beam {
            erl: found,
            dir,
            bin_dir,
        })
    }

    /// The command for the Erlang peer of `w`, or a `missing` failure.
    pub fn command(&self, w: &Workload, sched: u32, args: &[u64]) -> Result<Command, Failure> {
        let module = w.erlang_module();
        let compiled = self.dir.join(format!("{module}.beam"));
        if !compiled.is_file() {
            return Err(report::missing(&compiled));
        }
        let mut cmd = self.erl.command(&self.dir, &module, sched, args);
        cmd.env(BIN_DIR_ENV, &self.bin_dir);
        Ok(cmd)
    }
}

/// The command for the Hive program of `w` in `bin_dir`, or a `missing` failure.
pub fn hive_command(
    bin_dir: &Path,
    w: &Workload,
    sched: u32,
    args: &[u64],
) -> Result<Command, Failure> {
    let path = bin_dir.join(w.program());
    if !path.is_file() {
        return Err(report::missing(&path));
    }
    let mut cmd = Command::new(path);
    cmd.arg(sched.to_string())
        .args(args.iter().map(u64::to_string));
    Ok(cmd)
}

/// Makes the throwaway PKI in `out_dir/tls` when one of `workloads` runs in TLS mode
/// ([`Workload::tls`]) and says where; `Ok(None)` when none does; the exit code (after
/// saying why, as `prog`) when it cannot be made.
pub fn tls_setup(
    prog: &str,
    out_dir: &Path,
    workloads: &[&'static Workload],
) -> Result<Option<PathBuf>, ExitCode> {
    if !workloads.iter().any(|w| w.tls()) {
        return Ok(None);
    }
    match crate::tls::make_pki(&out_dir.join("tls")) {
        Ok(dir) => {
            eprintln!(
                "TLS workloads: throwaway PKI in {} ({}={})",
                dir.display(),
                crate::tls::TLS_DIR_ENV,
                dir.display()
            );
            Ok(Some(dir))
        }
        Err(e) => {
            eprintln!("{prog}: {e}");
            Err(ExitCode::from(2))
        }
    }
}

/// `cmd` with the PKI's directory in its environment when `w` runs in TLS mode, and without
/// that variable otherwise (a plain run never inherits TLS from the runner's environment).
pub fn with_tls(
    cmd: Result<Command, Failure>,
    w: &Workload,
    tls_dir: Option<&Path>,
) -> Result<Command, Failure> {
    let mut cmd = cmd?;
    match (w.tls(), tls_dir) {
        (true, Some(dir)) => {
            cmd.env(crate::tls::TLS_DIR_ENV, dir);
        }
        (true, None) => {
            return Err(Failure {
                kind: "missing",
                detail: "a TLS workload without the bench PKI".into(),
            })
        }
        (false, _) => {
            cmd.env_remove(crate::tls::TLS_DIR_ENV);
        }
    }
    Ok(cmd)
}

/// The progress bar over `total` runs.
pub fn progress_bar(total: usize) -> ProgressBar {
    let pb = ProgressBar::new(total as u64);
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:24} {pos}/{len} {msg}")
            .expect("valid template"),
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// The last `n` lines of `text` that are not `RESULT` lines, indented, for failure
/// reports.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !is_result_line(l)).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| format!("    | {l}\n"))
        .collect()
}

/// Prints a failed run with the tail of its output.
pub fn report_failure(
    lang: Lang,
    w: &Workload,
    sched: u32,
    f: &Failure,
    stdout: &str,
    stderr: &str,
) {
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

/// One run to make: a language's program for a workload at a scheduler count.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// The language.
    pub lang: Lang,
    /// The workload.
    pub workload: &'static Workload,
    /// The scheduler count.
    pub schedulers: u32,
    /// 1-based run number.
    pub run: u32,
    /// Runs per workload (`--runs`).
    pub runs: u32,
    /// The workload arguments (after the scheduler count).
    pub args: &'static [u64],
}

impl Run {
    /// Run `run` of `runs` of `lang`'s program for `workload` at `schedulers`, at the quick
    /// sizes if `quick`.
    pub fn new(
        lang: Lang,
        workload: &'static Workload,
        schedulers: u32,
        run: u32,
        runs: u32,
        quick: bool,
    ) -> Run {
        Run {
            lang,
            workload,
            schedulers,
            run,
            runs,
            args: workload.args(quick),
        }
    }

    /// Shows the run on the progress bar, e.g. `2 sched, run 1/5: hive ring 10000 1000`,
    /// and, when the bar is hidden, on stderr as run `number` of `total`.
    pub fn announce(&self, pb: &ProgressBar, number: usize, total: usize) {
        let what = format!(
            "{} sched, run {}/{}: {} {} {}",
            self.schedulers,
            self.run,
            self.runs,
            self.lang.key(),
            self.workload.name,
            self.args
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        );
        pb.set_message(what.clone());
        if pb.is_hidden() {
            eprintln!("[{number}/{total}] {what}");
        }
    }

    /// Runs `cmd` (or records why there is none), echoes its `RESULT` lines, reports a
    /// failure with the tail of its output, and returns the record of the run.
    pub fn execute(
        &self,
        pb: &ProgressBar,
        cmd: Result<Command, Failure>,
        timeout: Duration,
        page_fault_us: Option<f64>,
    ) -> RunRecord {
        let (lang, w, sched, args) = (self.lang, self.workload, self.schedulers, self.args);
        let (outcome, wall_s) = match cmd {
            Ok(cmd) => run_one(pb, cmd, lang, w, sched, args, timeout),
            Err(f) => {
                pb.suspend(|| report_failure(lang, w, sched, &f, "", ""));
                (Err(f), 0.0)
            }
        };
        RunRecord {
            lang,
            workload: w,
            schedulers: sched,
            run: self.run,
            args: args.to_vec(),
            outcome,
            wall_s,
            page_fault_us,
        }
    }
}

/// Runs one program, echoes its `RESULT` lines, reports a failure with the tail of its
/// output, and returns the judged outcome and the wall time.
pub fn run_one(
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

/// Prints the failures and returns the exit code: failure if any Hive run failed. Failed
/// Erlang and Go runs are counted but do not fail the run.
pub fn summarize(records: &[RunRecord]) -> ExitCode {
    let failed = |lang: Lang| -> Vec<&RunRecord> {
        records
            .iter()
            .filter(|r| r.lang == lang && r.outcome.is_err())
            .collect()
    };
    for (lang, name) in [(Lang::Erlang, "Erlang"), (Lang::Go, "Go")] {
        let n = failed(lang).len();
        if n > 0 {
            eprintln!("{n} {name} run(s) failed (reported above; they do not fail the run)");
        }
    }
    let hive = failed(Lang::Hive);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_skips_result_lines_and_keeps_the_last() {
        let text = "a\nRESULT lang=hive name=x schedulers=1\nb\nc\n";
        assert_eq!(tail(text, 2), "    | b\n    | c\n");
        assert_eq!(tail(text, 9), "    | a\n    | b\n    | c\n");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn a_missing_program_is_a_missing_failure() {
        let w = crate::workload::by_name("ring").unwrap();
        let e = hive_command(Path::new("/nonexistent-dir"), w, 1, &[1, 1]).unwrap_err();
        assert_eq!(e.kind, "missing");
    }
}
