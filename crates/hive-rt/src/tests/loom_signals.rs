//! The signal handshakes of `signal.rs`, model-checked.
//!
//! **Ordered liveness** ([`SignalCounts`] with the `exiting` flag): a caller takes a
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
//! **Link request versus exit** (`Pcb::sig` lock and `sig_closed`): a requester adds a
//! link the way `signal::request` does (look at the closed flag and the counts under the
//! lock; write the link directly, or queue a LINK signal) while the target's exit path
//! closes under the same lock, takes the link set, and drains its mailbox up to the tail
//! seen at closing. The model fails unless the requester gets exactly one answer: the
//! target's exit signal (link found in the set), a `noproc` reply (LINK found in the
//! drain), or "dead" (found closed).

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use super::model;

use crate::mailbox::{InnerQueue, Msg, OuterQueue, SIG_BASE};
use crate::pid::Pid;
use crate::process::pcb::{EXIT_NONE, EXIT_PUBLIC};
use crate::signal::SignalCounts;
use crate::sync::{AtomicU8, Mutex};

struct Target {
    outer: OuterQueue,
    sigs: SignalCounts,
    exiting: AtomicU8,
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
            exiting: AtomicU8::new(EXIT_NONE),
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
                    if t.exiting.load(SeqCst) == EXIT_PUBLIC {
                        return false;
                    }
                    if t.sigs.handled_up_to(want) {
                        return t.exiting.load(SeqCst) != EXIT_PUBLIC;
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
                t.exiting.store(EXIT_PUBLIC, SeqCst);
            }
            // SAFETY: as above.
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

/// The state `request` and the exit path share.
struct Linkee {
    closed: std::sync::atomic::AtomicBool,
    links: Mutex<Vec<u32>>,
    outer: OuterQueue,
    sigs: SignalCounts,
    /// Answers the requester got: 1 per exit signal, noproc reply or "dead".
    answers: AtomicUsize,
}

#[test]
fn loom_link_request_racing_exit_gets_exactly_one_answer() {
    model(|| {
        let mut t = Arc::new(Linkee {
            closed: std::sync::atomic::AtomicBool::new(false),
            links: Mutex::new(Vec::new()),
            outer: OuterQueue::new(),
            sigs: SignalCounts::new(),
            answers: AtomicUsize::new(0),
        });
        Arc::get_mut(&mut t).unwrap().outer.init();
        // Make the queued path possible: one signal is pending at the start.
        let m = message(SIG_BASE + 1);
        // SAFETY: a signal we own.
        unsafe { Msg::set_ticket(m.as_ptr(), t.sigs.ticket()) };
        t.outer.push(m);
        let requester = {
            let t = t.clone();
            thread::spawn(move || {
                let mut links = t.links.lock();
                if t.closed.load(std::sync::atomic::Ordering::Relaxed) {
                    drop(links);
                    t.answers.fetch_add(1, SeqCst); // dead: noproc at once
                } else if t.sigs.idle() {
                    links.push(7); // direct
                } else {
                    let m = message(crate::signal::SIG_LINK);
                    // SAFETY: a signal we own.
                    unsafe { Msg::set_ticket(m.as_ptr(), t.sigs.ticket()) };
                    t.outer.push(m);
                }
            })
        };
        // The target's exit path: close, take the links, drain up to the tail at closing.
        let taken = {
            let mut links = t.links.lock();
            t.closed.store(true, std::sync::atomic::Ordering::Relaxed);
            std::mem::take(&mut *links)
        };
        let mut inner = Box::new(InnerQueue::new());
        inner.init(&t.outer);
        let last = t.outer.tail_snapshot();
        if last != t.outer.stub_addr() {
            loop {
                // SAFETY: this thread is the queue's single consumer.
                let Some(m) = (unsafe { inner.take_outer(&t.outer) }) else {
                    thread::yield_now();
                    continue;
                };
                let mp = m.as_ptr();
                // SAFETY: a message we own.
                if unsafe { Msg::kind(mp) } == crate::signal::SIG_LINK && !taken.contains(&7) {
                    t.answers.fetch_add(1, SeqCst); // the noproc reply
                }
                // SAFETY: as above.
                unsafe { Msg::free(mp) };
                if mp == last {
                    break;
                }
            }
        }
        for _ in taken.iter().filter(|&&p| p == 7) {
            t.answers.fetch_add(1, SeqCst); // the exit signal over the link
        }
        requester.join().unwrap();
        assert_eq!(
            t.answers.load(SeqCst),
            1,
            "the requester must get exactly one answer"
        );
        // SAFETY: single consumer; frees what is left.
        unsafe { inner.drain_outer(&t.outer) };
    });
}
