//! `hive-stress`: runs the stress workloads on Hive (C programs in `--bin-dir`) and on
//! Erlang/OTP (the peers in `benches/peers/erlang`), interleaved, and prints a comparison
//! table per scheduler count. See `benches/README.md`.

use std::env;
use std::process::ExitCode;

use hive_bench::cli::{self, Options, USAGE};
use hive_bench::probe;
use hive_bench::report::{self, Lang, RunRecord};
use hive_bench::runs::{self, Beam, Run};
use indicatif::ProgressBar;

/// Measures the page-fault cost before a full-size pass (see `probe`); prints it with the
/// load average and returns the mean in µs per page.
fn probe_machine(pb: &ProgressBar, sched: u32) -> f64 {
    pb.set_message(format!(
        "{sched} sched: probing page-fault cost (2 × 1 GiB)"
    ));
    let a = probe::page_fault_us(1 << 30);
    let b = probe::page_fault_us(1 << 30);
    let load = probe::load_average_label();
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
    let opts: Options =
        match runs::options("hive-stress", USAGE, cli::parse(env::args().skip(1), cores)) {
            Ok(o) => o,
            Err(code) => return code,
        };
    if let Err(code) = runs::check_bin_dir("hive-stress", &opts.bin_dir) {
        return code;
    }
    let root = runs::workspace_root("benches/peers/erlang");
    let out_dir = root.join("target/stress");
    let csv_path = out_dir.join("results.csv");
    let beam = Beam::setup(
        "hive-stress",
        opts.peers,
        opts.erl.as_deref(),
        &root,
        &out_dir,
        &opts.bin_dir,
    );

    let tls_dir = match runs::tls_setup("hive-stress", &out_dir, &opts.workloads) {
        Ok(d) => d,
        Err(code) => return code,
    };

    let passes = opts.passes();
    let langs: &[Lang] = if beam.is_some() {
        &[Lang::Hive, Lang::Erlang]
    } else {
        &[Lang::Hive]
    };
    let total = passes.len() * opts.runs as usize * opts.workloads.len() * langs.len();
    let counts = passes
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" then ");
    runs::print_plan(
        "hive-stress",
        opts.workloads.len(),
        &counts,
        opts.quick,
        opts.runs,
        opts.timeout,
        &opts.bin_dir,
    );

    let pb = runs::progress_bar(total);
    let mut records: Vec<RunRecord> = Vec::new();
    let mut csv_error = None;
    for &sched in &passes {
        let page_fault_us = (opts.probe && !opts.quick).then(|| probe_machine(&pb, sched));
        for run in 1..=opts.runs {
            for &w in &opts.workloads {
                for &lang in langs {
                    let this = Run::new(lang, w, sched, run, opts.runs, opts.quick);
                    let args = this.args;
                    this.announce(&pb, records.len() + 1, total);
                    let cmd = match lang {
                        Lang::Hive => runs::hive_command(&opts.bin_dir, w, sched, args),
                        Lang::Erlang => {
                            let beam = beam.as_ref().expect("peers enabled");
                            beam.command(w, sched, args)
                        }
                        Lang::Go => unreachable!("hive-stress runs no Go peers"),
                    };
                    let cmd = runs::with_tls(cmd, w, tls_dir.as_deref());
                    records.push(this.execute(&pb, cmd, opts.timeout, page_fault_us));
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
    runs::summarize(&records)
}
