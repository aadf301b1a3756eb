//! The runner's command line.

use std::path::PathBuf;
use std::time::Duration;

use crate::workload::{self, Workload, WORKLOADS};

/// The `--help` text.
pub const USAGE: &str = "\
usage: hive-stress [options]

Runs every stress workload as a Hive C program (<bin-dir>/<workload> <schedulers> <args>)
and as an Erlang peer (benches/peers/erlang/hive_peer_<workload>.erl), interleaved, then
prints a table per scheduler count and writes target/stress/results.csv.

options:
  --bin-dir DIR     the Hive stress programs (default target/stress/bin)
  --schedulers N    scheduler count of the main pass (default: number of cores)
  --also-one        also run everything at 1 scheduler after the main pass (default when N > 1)
  --no-one          only run the main pass
  --only a,b        run only these workloads (a name before `/` selects all its sizes:
                    dist_ping_pong runs dist_ping_pong/1 and dist_ping_pong/100;
                    dist_ping_pong_tls their TLS mode)
  --quick           small sizes (checks counts, not speed)
  --no-peers        skip Erlang
  --erl PATH        the erl to use (default: erl on PATH)
  --runs K          runs per workload, interleaved; the tables show medians (default 1)
  --timeout SECS    kill a program still running after this long (default 180)
  --no-probe        skip the page-fault probe before each pass (skipped with --quick)
  -h, --help        this text

workloads: spawn, spawn_live, ring, ping_pong, fan_in, big, skynet, link_cascade, monitor_storm, registry, timer_storm, selective_receive, recv_timeout, idle, fairness, overload, held_worker, echo, echo_active, dist_ping_pong/1, dist_ping_pong/100, dist_throughput/64, dist_throughput/64k, dist_fan_in, dist_ping_pong_tls/1, dist_ping_pong_tls/100, dist_throughput_tls/64k, dist_ping_bulk, dist_connect, dist_connect_tls";

/// The runner's options.
#[derive(Debug)]
pub struct Options {
    /// `--bin-dir`: where the Hive stress programs are.
    pub bin_dir: PathBuf,
    /// `--schedulers`: scheduler count of the main pass.
    pub schedulers: u32,
    /// `--also-one` / `--no-one`: also run a pass at 1 scheduler (when `schedulers > 1`).
    pub also_one: bool,
    /// `--only`: the workloads to run, in order.
    pub workloads: Vec<&'static Workload>,
    /// `--quick`: small sizes.
    pub quick: bool,
    /// Not `--no-peers`: run the Erlang peers.
    pub peers: bool,
    /// `--erl`: the `erl` to use.
    pub erl: Option<PathBuf>,
    /// `--runs`: runs per workload.
    pub runs: u32,
    /// `--timeout`: per-program time limit.
    pub timeout: Duration,
    /// Not `--no-probe`: measure the page-fault cost before each full-size pass.
    pub probe: bool,
}

impl Options {
    /// The scheduler counts of the passes, in order: the main count, then 1 if asked.
    pub fn passes(&self) -> Vec<u32> {
        let mut p = vec![self.schedulers];
        if self.also_one && self.schedulers > 1 {
            p.push(1);
        }
        p
    }
}

/// The arguments of a command line, flag by flag; shared by `hive-stress` and
/// `hive-compare`. `--flag=value` is split into the flag and its inline value.
pub struct Args<I> {
    args: I,
    inline: Option<String>,
}

impl<I: Iterator<Item = String>> Args<I> {
    /// Wraps the arguments (without the program name).
    pub fn new(args: I) -> Self {
        Args { args, inline: None }
    }

    /// The next argument: its flag (the part before `=` of a `--flag=value`, else the whole
    /// argument) and the whole argument, for error messages.
    pub fn next_flag(&mut self) -> Option<(String, String)> {
        let arg = self.args.next()?;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        self.inline = inline;
        Some((flag, arg))
    }

    /// The current flag's value: the inline one, else the next argument; an error naming
    /// `name` if there is none.
    pub fn value(&mut self, name: &str) -> Result<String, String> {
        self.inline
            .take()
            .or_else(|| self.args.next())
            .ok_or_else(|| format!("{name} needs a value"))
    }

    /// The current flag's value as a positive integer (see [`positive`]).
    pub fn positive(&mut self, name: &str) -> Result<u32, String> {
        positive(name, self.value(name)?)
    }
}

/// `v`, the value of option `name`, as a positive integer, or an error message.
pub fn positive(name: &str, v: String) -> Result<u32, String> {
    v.parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{name} {v}: expected a positive integer"))
}

/// The workloads of an `--only a,b` list, in order and without repeats; an error for an
/// unknown name or an empty list.
pub fn parse_only(list: &str) -> Result<Vec<&'static Workload>, String> {
    let mut workloads = Vec::new();
    for name in list.split(',').filter(|s| !s.is_empty()) {
        let selected = workload::select(name);
        if selected.is_empty() {
            return Err(format!("--only: unknown workload {name:?}"));
        }
        for w in selected {
            if !workloads.contains(&w) {
                workloads.push(w);
            }
        }
    }
    if workloads.is_empty() {
        return Err("--only: no workload given".into());
    }
    Ok(workloads)
}

/// Parses the arguments (without the program name). `cores` is the default scheduler count.
/// Returns `Ok(None)` for `--help`, and a message for a bad argument.
pub fn parse(args: impl Iterator<Item = String>, cores: u32) -> Result<Option<Options>, String> {
    let mut o = Options {
        bin_dir: PathBuf::from("target/stress/bin"),
        schedulers: cores,
        also_one: true,
        workloads: WORKLOADS.iter().collect(),
        quick: false,
        peers: true,
        erl: None,
        runs: 1,
        timeout: Duration::from_secs(180),
        probe: true,
    };
    let mut args = Args::new(args);
    while let Some((flag, arg)) = args.next_flag() {
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--bin-dir" => o.bin_dir = PathBuf::from(args.value("--bin-dir")?),
            "--schedulers" => o.schedulers = args.positive("--schedulers")?,
            "--also-one" => o.also_one = true,
            "--no-one" => o.also_one = false,
            "--only" => o.workloads = parse_only(&args.value("--only")?)?,
            "--quick" => o.quick = true,
            "--no-peers" => o.peers = false,
            "--erl" => o.erl = Some(PathBuf::from(args.value("--erl")?)),
            "--runs" => o.runs = args.positive("--runs")?,
            "--timeout" => o.timeout = Duration::from_secs(args.positive("--timeout")?.into()),
            "--no-probe" => o.probe = false,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Option<Options>, String> {
        parse(args.iter().map(|s| s.to_string()), 2)
    }

    #[test]
    fn defaults() {
        let o = p(&[]).unwrap().unwrap();
        assert_eq!(o.bin_dir, PathBuf::from("target/stress/bin"));
        assert_eq!(o.schedulers, 2);
        assert_eq!(o.passes(), vec![2, 1]);
        assert_eq!(o.workloads.len(), 30);
        assert_eq!(o.workloads[7].name, "link_cascade");
        assert_eq!(o.workloads[8].name, "monitor_storm");
        assert_eq!(o.workloads[9].name, "registry");
        assert_eq!(o.workloads[10].name, "timer_storm");
        assert_eq!(o.workloads[11].name, "selective_receive");
        assert_eq!(o.workloads[13].name, "idle");
        assert!(!o.quick && o.peers && o.probe);
        assert_eq!(o.erl, None);
        assert_eq!(o.runs, 1);
        assert_eq!(o.timeout, Duration::from_secs(180));
    }

    #[test]
    fn every_option() {
        let o = p(&[
            "--bin-dir",
            "/x",
            "--schedulers=4",
            "--no-one",
            "--only",
            "ring,spawn,ring",
            "--quick",
            "--no-peers",
            "--erl=/opt/erl",
            "--runs",
            "3",
            "--timeout",
            "9",
            "--no-probe",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(o.bin_dir, PathBuf::from("/x"));
        assert_eq!(o.passes(), vec![4]);
        let names: Vec<_> = o.workloads.iter().map(|w| w.name).collect();
        assert_eq!(names, vec!["ring", "spawn"]);
        assert!(o.quick && !o.peers && !o.probe);
        assert_eq!(o.erl, Some(PathBuf::from("/opt/erl")));
        assert_eq!(o.runs, 3);
        assert_eq!(o.timeout, Duration::from_secs(9));

        let o = p(&["--no-one", "--also-one", "--schedulers", "1"])
            .unwrap()
            .unwrap();
        assert_eq!(
            o.passes(),
            vec![1],
            "no second pass at 1 when the main one is at 1"
        );
    }

    #[test]
    fn errors_and_help() {
        assert!(p(&["--help"]).unwrap().is_none());
        assert!(p(&["-h"]).unwrap().is_none());
        assert!(p(&["--only", "ring,nope"]).unwrap_err().contains("nope"));
        assert!(p(&["--only", ","]).is_err());
        assert!(p(&["--schedulers", "0"]).is_err());
        assert!(p(&["--schedulers"]).unwrap_err().contains("needs a value"));
        assert!(p(&["--runs", "x"]).is_err());
        assert!(p(&["--frobnicate"]).unwrap_err().contains("--frobnicate"));
        assert!(p(&["ring"]).is_err());
    }

    #[test]
    fn usage_lists_every_workload() {
        let listed = USAGE.lines().last().unwrap();
        let names: Vec<_> = WORKLOADS.iter().map(|w| w.name).collect();
        assert_eq!(listed, format!("workloads: {}", names.join(", ")));
    }
}
