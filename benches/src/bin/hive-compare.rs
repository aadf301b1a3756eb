//! `hive-compare`: every workload on Hive (the C programs in `--bin-dir`), Erlang/OTP (the
//! peers in `benches/peers/erlang`) and Go (`benches/peers/go`, the workloads it has),
//! interleaved, at several scheduler counts; prints median [min–max] and Hive's ratio to
//! each peer, and writes CSV and SVG files. `--scaling` runs the scaling sweep instead.
//! See `benches/README.md`.

use std::env;
use std::path::Path;
use std::process::ExitCode;

use hive_bench::chart;
use hive_bench::compare::{self, Options, USAGE};
use hive_bench::go::{self, Go, GoPeers};
use hive_bench::probe;
use hive_bench::report::{self, Lang, RunRecord};
use hive_bench::runs::{self, Beam, Run};
use hive_bench::workload::Workload;

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

fn main() -> ExitCode {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let parsed = compare::parse(env::args().skip(1), cores);
    let opts: Options = match runs::options("hive-compare", USAGE, parsed) {
        Ok(o) => o,
        Err(code) => return code,
    };
    if let Err(code) = runs::check_bin_dir("hive-compare", &opts.bin_dir) {
        return code;
    }
    let root = runs::workspace_root("benches/peers");
    let beam = Beam::setup(
        "hive-compare",
        opts.erlang,
        opts.erl.as_deref(),
        &root,
        &opts.out_dir,
        &opts.bin_dir,
    );
    let gopeers = setup_go(&opts, &root);
    let tls_dir = match runs::tls_setup("hive-compare", &opts.out_dir, &opts.workloads) {
        Ok(d) => d,
        Err(code) => return code,
    };
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
        if gopeers.as_ref().is_some_and(|g| g.has(w.program())) {
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
    runs::print_plan(
        if opts.scaling {
            "hive-compare --scaling"
        } else {
            "hive-compare"
        },
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
    let mut loads = Vec::new();
    // Per scheduler count: the loopback ceilings measured before the runs of
    // `compare::CEILING_WORKLOAD` (bytes/s).
    let mut ceilings: Vec<(u32, f64)> = Vec::new();
    for &sched in &opts.schedulers {
        let load = probe::load_average_label();
        let latencies = machine_latencies();
        pb.suspend(|| eprintln!("pass at {sched} scheduler(s): load average {load}; {latencies}"));
        loads.push(load);
        for run in 1..=opts.runs {
            for &w in &opts.workloads {
                for lang in langs(w) {
                    let this = Run::new(lang, w, sched, run, opts.runs, opts.quick);
                    let args = this.args;
                    this.announce(&pb, records.len() + 1, total);
                    if lang == Lang::Hive && w.name == compare::CEILING_WORKLOAD && !opts.quick {
                        // 1 GiB, written as the distribution writes (1 MiB batches) and
                        // read as it reads (64 KiB).
                        match probe::loopback_tcp_bytes_per_s(1 << 30, 1 << 20, 64 << 10) {
                            Ok(bps) => ceilings.push((sched, bps)),
                            Err(e) => pb.suspend(|| {
                                eprintln!("hive-compare: the loopback TCP probe failed: {e}")
                            }),
                        }
                    }
                    let cmd = match lang {
                        Lang::Hive => runs::hive_command(&opts.bin_dir, w, sched, args),
                        Lang::Erlang => {
                            let b = beam.as_ref().expect("BEAM column enabled");
                            b.command(w, sched, args)
                        }
                        Lang::Go => {
                            let g = gopeers.as_ref().expect("Go column enabled");
                            let mut c = g.command(w.program(), sched, args);
                            // The echo peer runs the Hive program's load generator.
                            let dir = opts
                                .bin_dir
                                .canonicalize()
                                .unwrap_or_else(|_| opts.bin_dir.clone());
                            c.env(runs::BIN_DIR_ENV, dir);
                            Ok(c)
                        }
                    };
                    let cmd = runs::with_tls(cmd, w, tls_dir.as_deref());
                    records.push(this.execute(&pb, cmd, opts.timeout, None));
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
            let at: Vec<f64> = ceilings
                .iter()
                .filter(|(s, _)| *s == sched)
                .map(|(_, b)| *b)
                .collect();
            if let Some(note) = compare::ceiling_note(&groups, sched, &at) {
                println!("{note}");
            }
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
    runs::summarize(&records)
}

/// The two latencies that set the pace of the message workloads on this machine (see
/// `probe`), printed before each pass so that passes (and machines) can be told apart. On a
/// VM the second one changes as the host moves the virtual CPUs (91 ns and 500 ns were
/// both seen on one 2-vCPU guest within a minute).
fn machine_latencies() -> String {
    let load = probe::dependent_load_ns(128 << 20);
    let round_trip = probe::cache_line_round_trip_ns(100_000)
        .map_or_else(|| "n/a (1 CPU)".to_string(), |ns| format!("{ns:.0} ns"));
    format!("dependent load in 128 MiB {load:.0} ns, cache line round trip between two threads {round_trip}")
}
