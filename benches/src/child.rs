//! Running one stress program with a timeout and capturing its output.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How a program run ended.
#[derive(Debug)]
pub enum Exit {
    /// The program exited by itself with this status (zero or not).
    Exited(ExitStatus),
    /// The program outlived the timeout and was killed.
    TimedOut,
    /// The program could not be started.
    SpawnFailed(std::io::Error),
}

/// The outcome of [`run`].
#[derive(Debug)]
pub struct Outcome {
    /// How it ended.
    pub exit: Exit,
    /// Everything it wrote on stdout (lossily decoded as UTF-8).
    pub stdout: String,
    /// Everything it wrote on stderr (lossily decoded as UTF-8).
    pub stderr: String,
    /// Wall time from start to exit, start-up included.
    pub wall: Duration,
}

impl Outcome {
    /// True if the program exited by itself with status 0.
    pub fn success(&self) -> bool {
        matches!(&self.exit, Exit::Exited(s) if s.success())
    }

    /// A short description of a failure (`None` on success).
    pub fn failure(&self) -> Option<String> {
        match &self.exit {
            Exit::Exited(s) if s.success() => None,
            Exit::Exited(s) => Some(match (s.code(), unix_signal(s)) {
                (Some(c), _) => format!("exit status {c}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                (None, None) => format!("{s}"),
            }),
            Exit::TimedOut => Some(format!("timed out after {:.0} s", self.wall.as_secs_f64())),
            Exit::SpawnFailed(e) => Some(format!("could not start: {e}")),
        }
    }
}

#[cfg(unix)]
fn unix_signal(s: &ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(s)
}

#[cfg(not(unix))]
fn unix_signal(_: &ExitStatus) -> Option<i32> {
    None
}

/// Reads a pipe to its end on a thread of its own.
struct Drain {
    buf: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Drain {
    fn start<R: Read + Send + 'static>(pipe: Option<R>) -> Drain {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (tx, done) = mpsc::channel();
        let shared = Arc::clone(&buf);
        thread::spawn(move || {
            if let Some(mut p) = pipe {
                let mut chunk = [0u8; 8192];
                // A read error just ends the capture; what was read is kept.
                while let Ok(n) = p.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    shared.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            }
            let _ = tx.send(());
        });
        Drain { buf, done }
    }

    /// What was read, once the pipe is closed or at the latest at `deadline` (a grandchild
    /// that outlives the program may keep the pipe open).
    fn finish(self, deadline: Instant) -> String {
        let _ = self
            .done
            .recv_timeout(deadline.saturating_duration_since(Instant::now()));
        let buf = self.buf.lock().unwrap();
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// How long to wait for the output pipes to close once the program has exited.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// Runs `cmd` with stdin closed and stdout/stderr captured. If it is still running after
/// `timeout`, it is killed (SIGKILL) and reported as [`Exit::TimedOut`].
pub fn run(mut cmd: Command, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let spawned = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                exit: Exit::SpawnFailed(e),
                stdout: String::new(),
                stderr: String::new(),
                wall: start.elapsed(),
            }
        }
    };
    let out = Drain::start(child.stdout.take());
    let err = Drain::start(child.stderr.take());
    let exit = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Exit::Exited(status),
            Ok(None) if start.elapsed() >= timeout => {
                // kill() fails only if the child has exited meanwhile; wait() reaps it either way.
                let _ = child.kill();
                let _ = child.wait();
                break Exit::TimedOut;
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break Exit::SpawnFailed(e);
            }
        }
    };
    let wall = start.elapsed();
    let deadline = Instant::now() + PIPE_GRACE;
    Outcome {
        exit,
        stdout: out.finish(deadline),
        stderr: err.finish(deadline),
        wall,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    #[test]
    fn captures_output_and_status() {
        let o = run(
            sh("echo out; echo err >&2; exit 0"),
            Duration::from_secs(10),
        );
        assert!(o.success());
        assert_eq!(o.failure(), None);
        assert_eq!(o.stdout, "out\n");
        assert_eq!(o.stderr, "err\n");

        let o = run(sh("exit 3"), Duration::from_secs(10));
        assert!(!o.success());
        assert_eq!(o.failure().unwrap(), "exit status 3");
    }

    #[test]
    fn kills_on_timeout() {
        // The shell's `sleep` child keeps the pipes open after the shell is killed.
        let o = run(
            sh("echo started; sleep 5; true"),
            Duration::from_millis(200),
        );
        assert!(matches!(o.exit, Exit::TimedOut));
        assert!(o.wall < Duration::from_secs(5));
        assert_eq!(o.stdout, "started\n");
        assert!(o.failure().unwrap().starts_with("timed out"));
    }

    #[test]
    fn reports_a_missing_program() {
        let o = run(
            Command::new("/nonexistent/hive-stress-test-program"),
            Duration::from_secs(1),
        );
        assert!(matches!(o.exit, Exit::SpawnFailed(_)));
        assert!(o.failure().unwrap().starts_with("could not start"));
    }
}
