//! Finding Erlang/OTP, compiling the peer programs and building their command lines.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The message printed when `erl` cannot be found.
pub const NOT_FOUND: &str = "erl not found: the BEAM column is skipped. Install Erlang/OTP \
from the distribution package erlang-nox (e.g. apt-get install erlang-nox) to compare side by side.";

/// `+P` given to every peer run: room for the 1.11M processes of skynet and more.
pub const MAX_PROCESSES: u32 = 4_000_000;

/// Looks `name` up in the directories of `PATH`; returns the first executable file.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// An Erlang installation: `erl` and the `erlc` that goes with it.
#[derive(Debug, Clone)]
pub struct Erlang {
    /// The `erl` launcher.
    pub erl: PathBuf,
    /// The `erlc` compiler.
    pub erlc: PathBuf,
}

impl Erlang {
    /// Finds Erlang: `explicit` (from `--erl`) if given, else `erl` on `PATH`. `erlc` is
    /// looked for next to `erl` first, then on `PATH`. Returns `None` if either is missing.
    pub fn locate(explicit: Option<&Path>) -> Option<Erlang> {
        let erl = match explicit {
            Some(p) if is_executable(p) => p.to_path_buf(),
            // A bare name such as `erl26` is looked up on PATH.
            Some(p) if p.components().count() == 1 => find_on_path(&p.to_string_lossy())?,
            Some(_) => return None,
            None => find_on_path("erl")?,
        };
        let beside = erl.parent().map(|d| d.join("erlc"));
        let erlc = match beside {
            Some(p) if is_executable(&p) => p,
            _ => find_on_path("erlc")?,
        };
        Some(Erlang { erl, erlc })
    }

    /// The OTP release (e.g. `25`), or `None` if `erl` does not run.
    pub fn otp_release(&self) -> Option<String> {
        let out = Command::new(&self.erl)
            .args([
                "-noshell",
                "-eval",
                "io:format(\"~s\", [erlang:system_info(otp_release)]), halt().",
            ])
            .output()
            .ok()?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !v.is_empty()).then_some(v)
    }

    /// Compiles every `*.erl` in `src_dir` into `out_dir` (created if needed). On failure,
    /// returns the compiler's output.
    pub fn compile(&self, src_dir: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, String> {
        std::fs::create_dir_all(out_dir)
            .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
        let mut sources: Vec<PathBuf> = std::fs::read_dir(src_dir)
            .map_err(|e| format!("cannot read {}: {e}", src_dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "erl"))
            .collect();
        sources.sort();
        if sources.is_empty() {
            return Err(format!("no .erl files in {}", src_dir.display()));
        }
        let out = Command::new(&self.erlc)
            .arg("-o")
            .arg(out_dir)
            .args(&sources)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.erlc.display()))?;
        if out.status.success() {
            Ok(sources)
        } else {
            Err(format!(
                "{} failed ({}):\n{}{}",
                self.erlc.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The command that runs `module:main(Args)` on `schedulers` schedulers:
    /// `erl -noshell +S S:S +P 4000000 -pa DIR -run MODULE main ARGS...`.
    pub fn command(&self, beam_dir: &Path, module: &str, schedulers: u32, args: &[u64]) -> Command {
        let mut cmd = Command::new(&self.erl);
        cmd.args(peer_args(beam_dir, module, schedulers, args));
        cmd
    }
}

/// The arguments given to `erl` by [`Erlang::command`].
pub fn peer_args(beam_dir: &Path, module: &str, schedulers: u32, args: &[u64]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        "-noshell".into(),
        "+S".into(),
        format!("{schedulers}:{schedulers}").into(),
        "+P".into(),
        MAX_PROCESSES.to_string().into(),
        "-pa".into(),
        beam_dir.as_os_str().to_owned(),
        "-run".into(),
        module.into(),
        "main".into(),
    ];
    v.extend(args.iter().map(|a| OsString::from(a.to_string())));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_command_line() {
        let args = peer_args(Path::new("/x/erlang"), "hive_peer_ring", 2, &[10000, 1000]);
        let args: Vec<String> = args.into_iter().map(|a| a.into_string().unwrap()).collect();
        assert_eq!(
            args.join(" "),
            "-noshell +S 2:2 +P 4000000 -pa /x/erlang -run hive_peer_ring main 10000 1000"
        );
    }

    #[test]
    fn finds_sh_on_path_and_not_nonsense() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("no-such-program-hive-stress").is_none());
        assert!(Erlang::locate(Some(Path::new("/nonexistent/erl"))).is_none());
    }
}
