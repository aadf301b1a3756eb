//! The exit path seen from outside (issue 14): `exit(P, kill)` runs none of P's code, not
//! even its terminate callback, and ends it at once also while that callback runs; a
//! process running its terminate callback is alive and answers every query at once; and
//! `link` to a process that died after the caller's own `exit/2` gives the `noproc` error
//! of a dead target (BEAM cases 26, 37, 51).
//!
//! Timeouts here are failure bounds only: every wait ends on a message, a DOWN or a plain
//! thread's `Runtime::wait`.

mod common;
use common::*;
use hive_rt::{process, ExitReason, Message, MessageKind, Pid, Runtime, Status};
use std::sync::Arc;
use std::time::Duration;

const T: Option<u32> = Some(10_000); // failure bound for receives, ms

fn err(s: &str) -> ExitReason {
    ExitReason::error(s)
}

/// Runs `f` as a process of a 2-scheduler runtime and waits for it to return normally.
fn run(f: impl FnOnce(Arc<Runtime>) + Send + 'static) {
    let rt = Arc::new(rt(2));
    let rt2 = rt.clone();
    let r = rt.run(move || f(rt2)).unwrap();
    assert!(r.is_normal(), "main process ended with {r:?}");
}

/// A process that waits forever.
fn sleeper() {
    loop {
        let _ = process::receive(None);
    }
}

/// The DOWN of monitor `mref`.
fn down(mref: u64) -> Message {
    process::receive_select(T, |m| {
        m.kind() == MessageKind::Down && m.monitor_ref() == mref
    })
    .expect("DOWN")
}

/// The next data message, which must be `want`.
fn expect_data(want: &[u8]) {
    let m = process::receive_select(T, |m| m.kind() == MessageKind::Data).expect("a message");
    assert_eq!(m.data(), want);
}

/// Runs `f` on a plain thread (`Runtime::wait` is for threads, not processes) and returns
/// what it reports, received as a message: the calling process never blocks its worker.
fn on_thread(rt: &Arc<Runtime>, f: impl FnOnce() -> String + Send + 'static) -> String {
    let me = process::self_pid();
    let rt = rt.clone();
    std::thread::spawn(move || {
        let r = f();
        rt.send(me, format!("thread {r}").as_bytes()).unwrap();
    });
    let m = process::receive_select(T, |m| {
        m.kind() == MessageKind::Data && m.data().starts_with(b"thread ")
    })
    .expect("the thread's report");
    String::from_utf8(m.data()[7..].to_vec()).unwrap()
}

/// How a terminate callback keeps its process from finishing its exit.
#[derive(Clone, Copy, Debug)]
enum Block {
    /// `receive` with no timeout.
    Receive,
    /// A sleep far longer than any failure bound here.
    Sleep,
    /// A loop that stays preemptible (charges reductions) but never ends.
    Loop,
}

const BLOCKS: [Block; 3] = [Block::Receive, Block::Sleep, Block::Loop];

/// Sets a terminate callback that tells `report` it runs (with its reason), then blocks
/// as `how` says.
fn blocking_terminate(report: Pid, how: Block) {
    process::set_terminate(move |r: &ExitReason| {
        process::send(report, format!("terminate {r:?}").as_bytes()).unwrap();
        match how {
            Block::Receive => sleeper(),
            Block::Sleep => loop {
                process::sleep(3_600_000).unwrap();
            },
            Block::Loop => loop {
                process::consume_reductions(1).unwrap();
            },
        }
    })
    .unwrap();
}

/// Spawns and monitors a process with a terminate callback that reports to `me` and then
/// blocks as `how` says, and waits until it is blocked in a receive.
fn spawn_with_blocking_terminate(me: Pid, how: Block) -> (Pid, u64) {
    let (p, m) = process::spawn_monitor(move || {
        blocking_terminate(me, how);
        process::send(me, b"ready").unwrap();
        sleeper();
    })
    .unwrap();
    expect_data(b"ready");
    (p, m)
}

/// `exit(P, kill)` on a process whose terminate callback would block: the callback never
/// runs, the DOWN says `killed` (within the failure bound: without the fix the kill ran
/// the callback and no DOWN came), and `is_alive` is false at once (case 23).
#[test]
fn kill_does_not_run_a_blocking_terminate_callback() {
    run(|rt| {
        let me = process::self_pid();
        for how in BLOCKS {
            let (p, m) = spawn_with_blocking_terminate(me, how);
            process::exit_pid(p, ExitReason::Kill).unwrap();
            let d = down(m);
            assert_eq!(d.reason(), Some(ExitReason::Killed), "{how:?}");
            assert!(!process::is_alive(p).unwrap(), "{how:?}");
            assert!(process::process_info(p).unwrap().is_none(), "{how:?}");
            let rt2 = rt.clone();
            let w = on_thread(&rt, move || format!("{:?}", rt2.wait(p).map_err(|e| e.0)));
            assert_eq!(w, "Ok(Noproc)", "{how:?}"); // hive_wait on an exited pid: noproc
                                                    // The callback never ran: nothing but the DOWN came.
            assert!(
                process::receive(Some(0)).is_err(),
                "{how:?}: the callback ran"
            );
        }
    });
}

/// Runs the queries of issue 14 on `p` from a fresh process (so a query that never
/// returns fails the test on the failure bound instead of hanging the caller) and returns
/// its report: `is_alive`, whether `process_info` found it, and whether `link` and
/// `monitor` succeeded.
fn queries_from_another_process(p: Pid) -> String {
    let me = process::self_pid();
    let q = process::spawn(move || {
        process::trap_exit(true).unwrap();
        let alive = process::is_alive(p).unwrap();
        let info = process::process_info(p).unwrap().is_some();
        let link = process::link(p).is_ok();
        let mref = process::monitor(p).unwrap();
        let report = format!("alive {alive} info {info} link {link}");
        process::send(me, report.as_bytes()).unwrap();
        // What the link and the monitor then deliver, once `p` ends.
        let d = process::receive_select(None, |m| {
            m.kind() == MessageKind::Down && m.monitor_ref() == mref
        })
        .unwrap();
        let e = process::receive_select(None, |m| m.kind() == MessageKind::Exit).unwrap();
        let after = format!("down {:?} exit {:?}", d.reason(), e.reason());
        process::send(me, after.as_bytes()).unwrap();
    })
    .unwrap();
    let m = process::receive_select(T, |m| m.sender() == q)
        .expect("the queries on a process in its terminate callback did not return");
    String::from_utf8(m.data().to_vec()).unwrap()
}

/// A process whose exit (here: an exit signal `stop`) is held up by a blocking terminate
/// callback is alive until the callback ends: `is_alive`, `process_info`, `link`,
/// `monitor` (from a process) and `Runtime::wait` with a timeout (from a thread) all
/// answer at once. A `kill` then ends it at once with `killed`, which its new link and
/// monitor report. Without the fix the signal's handled count was published only after
/// the callback, and `is_alive` yielded in a loop for as long as the callback blocked.
#[test]
fn a_process_in_its_terminate_callback_answers_queries_and_dies_of_kill() {
    run(|rt| {
        let me = process::self_pid();
        for how in BLOCKS {
            let (p, m) = spawn_with_blocking_terminate(me, how);
            process::exit_pid(p, err("stop")).unwrap();
            expect_data(b"terminate Error([115, 116, 111, 112])");
            let before = queries_from_another_process(p);
            assert_eq!(before, "alive true info true link true", "{how:?}");
            // The same from this process, which sent the exit signal.
            assert!(process::is_alive(p).unwrap(), "{how:?}");
            assert!(process::process_info(p).unwrap().is_some(), "{how:?}");
            let rt2 = rt.clone();
            let waited = on_thread(&rt, move || {
                format!(
                    "{:?}",
                    rt2.wait_timeout(p, Duration::from_millis(20))
                        .map_err(|e| e.0)
                )
            });
            assert_eq!(waited, "Err(Timeout)", "{how:?}");
            // Kill: at once, with `killed`, for every link and monitor.
            process::exit_pid(p, ExitReason::Kill).unwrap();
            assert_eq!(down(m).reason(), Some(ExitReason::Killed), "{how:?}");
            assert!(!process::is_alive(p).unwrap(), "{how:?}");
            let after = process::receive(T).unwrap();
            assert_eq!(
                std::str::from_utf8(after.data()).unwrap(),
                "down Some(Killed) exit Some(Killed)",
                "{how:?}"
            );
        }
    });
}

/// A non-kill exit signal that reaches a process running its terminate callback ends it
/// like any live process: with that signal's reason, at once (a callback that blocks
/// cannot hold off a second exit signal any more than `kill`).
#[test]
fn an_exit_signal_during_the_terminate_callback_ends_it_with_its_reason() {
    run(|_| {
        let me = process::self_pid();
        for how in BLOCKS {
            let (p, m) = spawn_with_blocking_terminate(me, how);
            process::exit_pid(p, err("first")).unwrap();
            expect_data(b"terminate Error([102, 105, 114, 115, 116])");
            process::exit_pid(p, err("second")).unwrap();
            assert_eq!(down(m).reason(), Some(err("second")), "{how:?}");
        }
    });
}

/// Returns once `p`'s exit path has finished (its pid no longer resolves).
fn wait_gone(rt: &Arc<Runtime>, p: Pid) {
    let rt2 = rt.clone();
    on_thread(rt, move || {
        format!(
            "{:?}",
            rt2.wait(p).map(|_| ()).or_else(|e| match e.0 {
                Status::ErrNoProcess => Ok(()),
                s => Err(s),
            })
        )
    });
}

/// Issue 14 B: `exit(P, R)`, then `P`'s DOWN, then `link(P)`: `P` is dead, so a caller
/// that does not trap exits gets the `noproc` error and survives (case 26), as it does
/// when `P` was dead before the `exit/2`, and after a yield. Case 37 (`exit(P, R)`
/// immediately followed by `link(P)`) still answers with an exit signal `noproc`.
#[test]
fn link_after_exit_to_a_dead_target_is_the_noproc_error() {
    run(|rt| {
        let me = process::self_pid();
        for variant in ["down_seen", "dead_before", "yielded"] {
            let rt = rt.clone();
            let (_w, m) = process::spawn_monitor(move || {
                let p = process::spawn(sleeper).unwrap();
                match variant {
                    "down_seen" => {
                        let pm = process::monitor(p).unwrap();
                        process::exit_pid(p, err("foo")).unwrap();
                        assert_eq!(down(pm).reason(), Some(err("foo")));
                    }
                    "dead_before" => {
                        let pm = process::monitor(p).unwrap();
                        process::exit_pid(p, ExitReason::Kill).unwrap();
                        down(pm);
                        wait_gone(&rt, p);
                        process::exit_pid(p, err("foo")).unwrap();
                    }
                    _ => {
                        process::exit_pid(p, err("foo")).unwrap();
                        wait_gone(&rt, p);
                        process::yield_now().unwrap();
                    }
                }
                let r = process::link(p).map_err(|e| e.0);
                process::send(me, format!("{r:?}").as_bytes()).unwrap();
            })
            .unwrap();
            assert_eq!(down(m).reason(), Some(ExitReason::Normal), "{variant}");
            expect_data(b"Err(ErrNoProcess)");
        }
        // Case 37 unchanged: right after the exit signal, the link gets `noproc`.
        for i in 0..100 {
            let (_w, m) = process::spawn_monitor(move || {
                let p = process::spawn(sleeper).unwrap();
                process::exit_pid(p, err("foo")).unwrap();
                process::link(p).unwrap();
                sleeper();
            })
            .unwrap();
            assert_eq!(down(m).reason(), Some(ExitReason::Noproc), "iteration {i}");
        }
    });
}
