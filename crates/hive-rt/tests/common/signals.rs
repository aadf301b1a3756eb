//! Helpers shared by the tests of links, monitors, exit signals and their ordering with
//! messages (`links.rs`, `monitors.rs`, `exit_signals.rs`, `cleanup.rs`,
//! `group_b_ordering.rs`).
//!
//! Race cases ([RACE]) run many iterations with jitter (a spin of 0–60 µs or a yield)
//! inside the race window, count each outcome, and fail on any outcome the BEAM does not
//! allow. "Nothing more arrives" is checked without sleeps: a monitor's DOWN (sent by the
//! exit path after the link exit signals) or a message from a thread that saw the exit
//! path finish (`Runtime::wait`) marks the point after which nothing else can come.

use super::rt;
use hive_rt::{process, ExitReason, Message, MessageKind, Pid, Runtime};
use std::sync::Arc;

pub(crate) const T: Option<u32> = Some(10_000); // failure bound for receives, ms

/// A process that waits forever (the BEAM cases' "sleeper").
pub(crate) fn sleeper() {
    loop {
        let _ = process::receive(None);
    }
}

/// An error exit reason with the bytes of `s`.
pub(crate) fn err(s: &str) -> ExitReason {
    ExitReason::error(s)
}

/// Spins for 0–60 µs or yields: jitter inside a race window.
pub(crate) fn jitter(i: u64) {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58; // 0..63
    if x.is_multiple_of(7) {
        process::yield_now().unwrap();
    } else {
        let end = std::time::Instant::now() + std::time::Duration::from_micros(x);
        while std::time::Instant::now() < end {
            std::hint::spin_loop();
        }
    }
}

/// The DOWN of monitor `mref`.
pub(crate) fn down(mref: u64) -> Message {
    process::receive_select(T, |m| {
        m.kind() == MessageKind::Down && m.monitor_ref() == mref
    })
    .expect("DOWN")
}

/// The reason of the DOWN of monitor `mref`.
pub(crate) fn down_reason(mref: u64) -> ExitReason {
    down(mref).reason().unwrap()
}

/// The next `Exit` message from `from`.
pub(crate) fn exit_msg(from: Pid) -> ExitReason {
    let m = process::receive_select(T, |m| m.kind() == MessageKind::Exit && m.sender() == from)
        .expect("EXIT");
    m.reason().unwrap()
}

/// Takes everything in the mailbox now.
pub(crate) fn drain() -> Vec<Message> {
    let mut v = Vec::new();
    while let Ok(m) = process::receive(Some(0)) {
        v.push(m);
    }
    v
}

/// Sends `tag` to the calling process from a plain thread once `pid`'s exit path has
/// finished (every signal it sent is then in our mailbox, ahead of `tag`).
pub(crate) fn notify_when_gone(rt: &Arc<Runtime>, pid: Pid, tag: &'static [u8]) {
    let me = process::self_pid();
    let rt = rt.clone();
    std::thread::spawn(move || {
        let _ = rt.wait(pid);
        rt.send(me, tag).unwrap();
    });
}

/// `process_info` of `p`, or `None` when it is not alive.
pub(crate) fn process_info(p: Pid) -> Option<hive_rt::ProcessInfo> {
    process::process_info(p).unwrap()
}

/// Runs `f` as a process of a 2-scheduler runtime and waits for it to return normally.
pub(crate) fn run(f: impl FnOnce(Arc<Runtime>) + Send + 'static) {
    let rt = Arc::new(rt(2));
    let rt2 = rt.clone();
    let r = rt.run(move || f(rt2)).unwrap();
    assert!(r.is_normal(), "main process ended with {r:?}");
}

/// Waits for the message `die`, then exits with reason `boom`.
pub(crate) fn dies_on_die() {
    loop {
        if process::receive(None).unwrap().data() == b"die" {
            process::exit(err("boom"));
        }
    }
}

/// A pid whose DOWN has been received.
pub(crate) fn dead_pid() -> Pid {
    let (p, m) = process::spawn_monitor(|| {}).unwrap();
    down(m);
    p
}

/// `.ignore()` on the error `process::exit` returns (it only returns outside a process).
pub(crate) trait Ignore {
    fn ignore(self);
}
impl Ignore for hive_rt::Error {
    fn ignore(self) {}
}

/// Waits (yielding; 30 s at most) until `p` is WAITING: blocked in `receive`, or
/// hibernated.
pub(crate) fn until_waiting(p: Pid) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let info = process::process_info(p).unwrap().expect("alive");
        if info.status == hive_rt::ProcessStatus::Waiting {
            return;
        }
        assert!(std::time::Instant::now() < end, "{p:?} never waited");
        process::yield_now().unwrap();
    }
}
