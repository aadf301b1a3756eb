//! Finding Go, building the Go peers (`benches/peers/go`, one module, one binary) and
//! building their command lines.
//!
//! The peers are one program, `hive-peer-go`, run as
//! `GOMAXPROCS=<n> hive-peer-go <workload> <args...>`; `hive-peer-go list` prints the
//! workloads it implements, so a workload without a Go version is simply not run on Go.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::erlang::find_on_path;

/// The message printed when `go` cannot be found.
pub const NOT_FOUND: &str = "go not found: the Go column is skipped. Install Go from the \
distribution package golang-go (e.g. apt-get install golang-go) to compare side by side.";

/// The name of the peer binary built from `benches/peers/go`.
pub const BINARY: &str = "hive-peer-go";

/// A Go toolchain: the `go` command.
#[derive(Debug, Clone)]
pub struct Go {
    /// The `go` command.
    pub go: PathBuf,
}

impl Go {
    /// Finds Go: `explicit` (from `--go`) if given, else `go` on `PATH`. A bare name is
    /// looked up on `PATH`. Returns `None` if it is not an executable file.
    pub fn locate(explicit: Option<&Path>) -> Option<Go> {
        let go = match explicit {
            Some(p) if p.components().count() == 1 => find_on_path(&p.to_string_lossy())?,
            Some(p) if p.is_file() => p.to_path_buf(),
            Some(_) => return None,
            None => find_on_path("go")?,
        };
        Some(Go { go })
    }

    /// The toolchain version (e.g. `go1.19.8`), or `None` if `go` does not run.
    pub fn version(&self) -> Option<String> {
        let out = self.command().arg("version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        // "go version go1.19.8 linux/amd64"
        let v = text.split_whitespace().nth(2)?.to_string();
        out.status.success().then_some(v)
    }

    /// A `go` command that never fetches anything: no module proxy, no toolchain
    /// download. The peers need only the standard library.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.go);
        cmd.env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GO111MODULE", "on");
        cmd
    }

    /// Builds the module in `src_dir` into `out_dir/hive-peer-go` (the directory is created
    /// if needed). `cache_dir` is the build cache used when neither `GOCACHE` nor `HOME`
    /// is set (go refuses to build without one). On failure, returns the compiler's output.
    pub fn build(
        &self,
        src_dir: &Path,
        out_dir: &Path,
        cache_dir: &Path,
    ) -> Result<PathBuf, String> {
        std::fs::create_dir_all(out_dir)
            .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
        // `go build` runs in `src_dir`: relative paths must not be taken from there.
        let bin = std::path::absolute(out_dir.join(BINARY))
            .map_err(|e| format!("{}: {e}", out_dir.display()))?;
        let mut cmd = self.command();
        cmd.current_dir(src_dir)
            .args(["build", "-o"])
            .arg(&bin)
            .arg(".");
        if std::env::var_os("GOCACHE").is_none() && std::env::var_os("HOME").is_none() {
            cmd.env(
                "GOCACHE",
                std::path::absolute(cache_dir).unwrap_or_else(|_| cache_dir.to_path_buf()),
            );
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.go.display()))?;
        if out.status.success() {
            Ok(bin)
        } else {
            Err(format!(
                "{} build failed ({}):\n{}{}",
                self.go.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

/// The built Go peers: the binary and the workloads it implements.
#[derive(Debug, Clone)]
pub struct GoPeers {
    /// The `hive-peer-go` binary.
    pub bin: PathBuf,
    /// The workloads `hive-peer-go list` printed.
    pub workloads: Vec<String>,
}

impl GoPeers {
    /// Asks `bin list` for the workloads it implements.
    pub fn load(bin: &Path) -> Result<GoPeers, String> {
        let out = Command::new(bin)
            .arg("list")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if !out.status.success() {
            return Err(format!("{} list failed ({})", bin.display(), out.status));
        }
        Ok(GoPeers {
            bin: bin.to_path_buf(),
            workloads: parse_list(&String::from_utf8_lossy(&out.stdout)),
        })
    }

    /// True if there is a Go version of `workload`.
    pub fn has(&self, workload: &str) -> bool {
        self.workloads.iter().any(|w| w == workload)
    }

    /// The command that runs `workload` with `args` on `schedulers` Ps:
    /// `GOMAXPROCS=S hive-peer-go WORKLOAD ARGS...`.
    pub fn command(&self, workload: &str, schedulers: u32, args: &[u64]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.env("GOMAXPROCS", schedulers.to_string())
            .args(peer_args(workload, args));
        cmd
    }
}

/// The workload names in the output of `hive-peer-go list`: one a line, blanks ignored.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The arguments given to `hive-peer-go` by [`GoPeers::command`].
pub fn peer_args(workload: &str, args: &[u64]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![workload.into()];
    v.extend(args.iter().map(|a| OsString::from(a.to_string())));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_and_list() {
        let args: Vec<String> = peer_args("ring", &[10000, 1000])
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(args.join(" "), "ring 10000 1000");
        let peers = GoPeers {
            bin: PathBuf::from("/x/hive-peer-go"),
            workloads: parse_list("spawn\n ring \n\nskynet\n"),
        };
        assert_eq!(peers.workloads, vec!["spawn", "ring", "skynet"]);
        assert!(peers.has("ring") && !peers.has("big"));
        let cmd = peers.command("ring", 2, &[10, 3]);
        let env: Vec<_> = cmd.get_envs().collect();
        assert_eq!(
            env,
            vec![(
                std::ffi::OsStr::new("GOMAXPROCS"),
                Some(std::ffi::OsStr::new("2"))
            )]
        );
        assert_eq!(cmd.get_args().count(), 3);
    }

    /// Builds the real peers (when Go is installed) into a directory given relative to the
    /// test's working directory, and runs one.
    #[test]
    fn builds_and_runs_the_peers_when_go_is_installed() {
        let Some(go) = Go::locate(None) else {
            eprintln!("go not installed: skipped");
            return;
        };
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/go");
        let rel = PathBuf::from(format!("../target/go-peers-test-{}", std::process::id()));
        let bin = go.build(&src, &rel, &rel.join("cache")).unwrap();
        assert!(bin.is_absolute() && bin.is_file(), "{}", bin.display());
        let peers = GoPeers::load(&bin).unwrap();
        assert_eq!(
            peers.workloads,
            [
                "spawn",
                "spawn_live",
                "ring",
                "ping_pong",
                "fan_in",
                "skynet",
                "timer_storm",
                "echo"
            ]
        );
        let ring = crate::workload::by_name("ring").unwrap();
        let out = crate::child::run(
            peers.command("ring", 1, &[10, 5]),
            std::time::Duration::from_secs(60),
        );
        let line = crate::report::judge(crate::report::Lang::Go, ring, 1, &[10, 5], &out)
            .unwrap_or_else(|f| panic!("{f:?}: {}{}", out.stdout, out.stderr));
        assert_eq!(line.get("n"), Some("10"));
        let bad = crate::child::run(
            peers.command("ring", 1, &[1, 5]),
            std::time::Duration::from_secs(60),
        );
        assert_eq!(bad.failure().as_deref(), Some("exit status 1"));
        std::fs::remove_dir_all(&rel).unwrap();
    }

    #[test]
    fn missing_go_is_none() {
        assert!(Go::locate(Some(Path::new("/nonexistent/go"))).is_none());
        assert!(Go::locate(Some(Path::new("no-such-go-hive-compare"))).is_none());
    }
}
