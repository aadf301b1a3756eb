//! The signal handshakes of `signal/`, model-checked.
//!
//! **Ordered liveness** ([`SignalCounts`] with the lifecycle word): a caller takes a
//! ticket, pushes an exit signal carrying it into the target's outer queue (the real
//! Vyukov queue), wakes the target, and asks whether the target is alive, waiting until
//! the target has handled every ticket taken when it asked. The target runs the sequence
//! of `settle`: read the count, take messages, make its exit public on the kill, publish
//! the handled prefix. Loom
//! runs every interleaving (and every value the Acquire/Release orderings allow a load to
//! see); the model fails if a counted signal is not reachable when the target looks, if
//! the caller is ever told the target is alive after its kill, or if anyone waits forever.
//! (A half-linked push by another sender, which `settle` spins past, is the mailbox
//! model's subject.)
//!
//! **Link request versus exit** (`Pcb::sig` lock and the lifecycle word): a requester
//! runs the real `signal::Requestee::request` (look for CLOSED, at the counts and for
//! PUBLIC under the lock; record the link on arrival, or queue a LINK signal) while the
//! target's exit path makes its exit public, runs the real `Requestee::close` (CLOSED
//! under the same lock, take the link set), and drains its mailbox up to the tail seen at
//! closing, as phase 5 of `process/exit.rs` does. The model fails unless the requester gets exactly one
//! answer: the target's exit signal (link found in the set), a `noproc` reply (LINK found
//! in the drain), "exiting" or "dead" (found exiting or closed).

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::model;

use crate::mailbox::{InnerQueue, Msg, OuterQueue, SIG_BASE};
use crate::pid::Pid;
use crate::process::lifecycle::Lifecycle;
use crate::process::pcb::SigState;
use crate::signal::counts::SignalCounts;
use crate::signal::route::{Delivery as Answer, Requestee};
use crate::signal::{Sender, Signal};
use crate::sync::Mutex;

struct Target {
    outer: OuterQueue,
    sigs: SignalCounts,
    life: Lifecycle,
    /// Stands for the state word's notification (tested in `loom_mailbox`).
    notified: AtomicUsize,
}

fn message(kind: u32) -> std::ptr::NonNull<Msg> {
    Msg::signal(
        kind,
        Pid::NONE,
        0,
        &crate::ExitReason::Normal,
        std::ptr::null(),
    )
    .unwrap()
}

#[test]
fn loom_exit_signal_then_is_alive_sees_the_exit() {
    model(|| {
        let mut t = Arc::new(Target {
            outer: OuterQueue::new(),
            sigs: SignalCounts::new(),
            life: Lifecycle::new(),
            notified: AtomicUsize::new(0),
        });
        Arc::get_mut(&mut t).unwrap().outer.init();
        let target_thread = thread::current();
        // The caller: exit(P, kill) (push, count, wake), then is_alive(P).
        let caller = {
            let t = t.clone();
            thread::spawn(move || {
                let m = message(SIG_BASE);
                // SAFETY: a signal we own.
                unsafe { Msg::set_ticket(m.as_ptr(), t.sigs.ticket()) };
                t.outer.push(m);
                t.notified.store(1, SeqCst);
                target_thread.unpark();
                let want = t.sigs.sent();
                loop {
                    if t.life.is_exiting() {
                        return false;
                    }
                    if t.sigs.handled_up_to(want) {
                        return !t.life.is_exiting();
                    }
                    thread::yield_now();
                }
            })
        };
        // The target: woken by the signal, one round of `settle`.
        while t.notified.load(SeqCst) == 0 {
            thread::park();
        }
        let mut inner = Box::new(InnerQueue::new());
        inner.init(&t.outer);
        let n = t.sigs.sent();
        let mut next = 0u32;
        // SAFETY: this thread is the queue's single consumer.
        while let Some(m) = unsafe { inner.take_outer(&t.outer) } {
            // SAFETY: a message we own.
            let kind = unsafe { Msg::kind(m.as_ptr()) };
            if kind >= SIG_BASE {
                // SAFETY: a signal we own.
                assert_eq!(unsafe { Msg::ticket(m.as_ptr()) }, next);
                next += 1;
                // The kill: make the exit public, then publish the handled prefix.
                t.life.transition_to_public();
            }
            // SAFETY: `take_outer` handed `m` over, the test owns it and does not use it after.
            unsafe { Msg::free(m.as_ptr()) };
        }
        assert!(
            next.wrapping_sub(n) as i32 >= 0,
            "a counted signal was not reachable"
        );
        t.sigs.publish(next);
        assert!(
            !caller.join().unwrap(),
            "is_alive said alive after the kill"
        );
    });
}

/// The state a link request and the exit path share: the parts of a PCB that
/// `signal::Requestee` borrows.
struct Linkee {
    sig: Mutex<SigState>,
    life: Lifecycle,
    sigs: SignalCounts,
    outer: OuterQueue,
    signal_flag: std::sync::atomic::AtomicU32,
    /// Answers the requester got: 1 per exit signal, noproc reply, "exiting" or "dead".
    answers: AtomicUsize,
}

impl Linkee {
    fn requestee(&self) -> Requestee<'_> {
        Requestee {
            sig: &self.sig,
            life: &self.life,
            sigs: &self.sigs,
            outer: &self.outer,
            signal_flag: &self.signal_flag,
        }
    }
}

/// The requester's pid (the link it asks for).
const REQUESTER: Pid = Pid(7);

#[test]
fn loom_link_request_racing_exit_gets_exactly_one_answer() {
    link_request_racing_exit(true);
}

/// As above with the exit never made public, so that only CLOSED tells the
/// requester the target is dead (the runtime always publishes the exit first; this checks
/// the flag on its own).
#[test]
fn loom_link_request_racing_close_gets_exactly_one_answer() {
    link_request_racing_exit(false);
}

/// The model: a link request racing the target's exit path, which makes its exit public
/// first when `publish_exit`.
fn link_request_racing_exit(publish_exit: bool) {
    model(move || {
        let mut t = Arc::new(Linkee {
            sig: Mutex::new(SigState::default()),
            life: Lifecycle::new(),
            sigs: SignalCounts::new(),
            outer: OuterQueue::new(),
            signal_flag: std::sync::atomic::AtomicU32::new(0),
            answers: AtomicUsize::new(0),
        });
        Arc::get_mut(&mut t).unwrap().outer.init();
        // Make the queued path possible: one signal is pending at the start.
        let m = message(SIG_BASE + 1);
        // SAFETY: `message` just allocated `m`: the test owns it, nobody else sees it yet.
        unsafe { Msg::set_ticket(m.as_ptr(), t.sigs.ticket()) };
        t.outer.push(m);
        let requester = {
            let t = t.clone();
            thread::spawn(move || {
                let from = Sender {
                    pid: REQUESTER,
                    worker: std::ptr::null(),
                    lifo: false,
                };
                // `signal::link`'s request, through the real protocol.
                let got = t.requestee().request(&from, Signal::Link, || {});
                match got {
                    // `exiting_answer` or the `noproc` of a dead target, at once.
                    Ok(Answer::Exiting) | Ok(Answer::Dead) => {
                        t.answers.fetch_add(1, SeqCst);
                    }
                    // Written directly or queued: the exit path answers.
                    Ok(Answer::Delivered) => {}
                    Err(e) => panic!("request failed: {e:?}"),
                }
            })
        };
        // The target's exit path: its exit made public (step 1), then the real close
        // (step 3), then the drain up to the tail seen at closing (as phase 5 of `process/exit.rs`).
        if publish_exit {
            t.life.transition_to_public();
        }
        let taken = t.requestee().close().unwrap_or_default();
        let linked = taken.links.contains(&REQUESTER);
        let mut inner = Box::new(InnerQueue::new());
        inner.init(&t.outer);
        let last = t.outer.tail_snapshot();
        if last != t.outer.stub_addr() {
            loop {
                // SAFETY: this thread is the queue's single consumer (the exit path's
                // role) and `inner` was set up on `t.outer`.
                let Some(m) = (unsafe { inner.take_outer(&t.outer) }) else {
                    thread::yield_now();
                    continue;
                };
                let mp = m.as_ptr();
                // SAFETY: `take_outer` handed over a live message: the test owns it.
                if unsafe { Msg::kind(mp) } == crate::signal::SIG_LINK && !linked {
                    t.answers.fetch_add(1, SeqCst); // the noproc reply
                }
                // SAFETY: the test owns `mp` (taken above) and does not use it afterwards.
                unsafe { Msg::free(mp) };
                if mp == last {
                    break;
                }
            }
        }
        if linked {
            t.answers.fetch_add(1, SeqCst); // the exit signal over the link
        }
        requester.join().unwrap();
        assert_eq!(
            t.answers.load(SeqCst),
            1,
            "the requester must get exactly one answer"
        );
        // SAFETY: this thread is the single consumer; frees what is left.
        unsafe { inner.drain_outer(&t.outer) };
    });
}
