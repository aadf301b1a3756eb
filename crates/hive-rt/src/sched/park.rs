//! How an idle worker sleeps and how it is woken: the one wake path of the scheduler.
//!
//! Each worker (a context, not a thread: see `held`) has one [`Parker`], on which whichever
//! thread holds the worker sleeps, and one [`Unparker`] (in `WorkerShared`) that any thread
//! uses to wake it: a message or signal that makes a process runnable (`notify_work`), a
//! timer armed from a plain thread, shutdown, an allocator trim. Timeouts are the park's
//! own deadline (the worker's next timer). The monitor of held workers sleeps on a parker
//! of its own.
//!
//! Two ways to sleep, one way to wake:
//! - **on the thread** ([`Parker::park`]): a condition variable behind a token
//!   (crossbeam-utils' `Parker`): an unpark that lands before the park makes the park
//!   return at once, so the idle protocol's "announce, re-check, park" (`idle.rs`) cannot
//!   lose a wake-up;
//! - **in the event poller** ([`Parker::park_in_driver`]), for the one worker holding it
//!   (`sched/poll.rs`): the worker blocks in `epoll_wait`, and an unpark writes the poller's
//!   waker instead.
//!
//! A state word tells the unparker which (tokio's `park.rs`): the worker moves EMPTY →
//! IN_DRIVER before it polls (failing if NOTIFIED is there already: it then does not block)
//! and back to EMPTY after; `unpark` swaps NOTIFIED in and, if it found IN_DRIVER, wakes the
//! poller — whose eventfd stays readable, so a wake landing between the swap and the
//! `epoll_wait` makes the latter return at once. Otherwise it unparks the thread token.

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use crate::sync::AtomicU8;
use std::time::Duration;

/// Interrupts a poll in progress (the poller's eventfd waker; a stand-in in the loom model).
pub(crate) type Waker = Arc<dyn Fn() + Send + Sync>;

const EMPTY: u8 = 0;
const IN_DRIVER: u8 = 1;
const NOTIFIED: u8 = 2;

/// The sleeping side of a worker (or of the monitor). `Send`, not `Sync`: one thread at a
/// time parks on it (the thread holding the worker).
#[derive(Debug)]
pub(crate) struct Parker {
    thread: crossbeam_utils::sync::Parker,
    state: Arc<AtomicU8>,
}

/// The waking side; any thread, any number of times.
#[derive(Clone)]
pub(crate) struct Unparker {
    thread: crossbeam_utils::sync::Unparker,
    state: Arc<AtomicU8>,
    /// Wakes the runtime's event poller (None for the monitor, which never polls).
    waker: Option<Waker>,
}

impl Parker {
    /// A parker and its unparker, with no token. `waker`: the event poller's, for a worker
    /// that may wait in it.
    pub(crate) fn new(waker: Option<Waker>) -> (Parker, Unparker) {
        let p = crossbeam_utils::sync::Parker::new();
        let state = Arc::new(AtomicU8::new(EMPTY));
        let u = Unparker {
            thread: p.unparker().clone(),
            state: state.clone(),
            waker,
        };
        (Parker { thread: p, state }, u)
    }

    /// Sleeps until unparked (consuming the token if one is there already), or until
    /// `timeout` has passed (`None`: no limit). May also return spuriously.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        match timeout {
            Some(t) => self.thread.park_timeout(t),
            None => self.thread.park(),
        }
        // The state word is left as it is: a NOTIFIED there (this wake's, or a later one's
        // whose token is still pending) only makes the next `park_in_driver` return at once.
    }

    /// Runs `poll` (which blocks in the event poller until an event, its timeout or the
    /// poller's waker) unless an unpark is already pending; `poll(false)` then, which must
    /// not block. Either way the pending unpark is consumed.
    pub(crate) fn park_in_driver(&self, poll: impl FnOnce(bool)) {
        if self
            .state
            .compare_exchange(EMPTY, IN_DRIVER, SeqCst, SeqCst)
            .is_err()
        {
            // NOTIFIED: no blocking, only a look at what is ready.
            self.state.store(EMPTY, SeqCst);
            poll(false);
            return;
        }
        poll(true);
        self.state.store(EMPTY, SeqCst);
    }
}

impl Parker {
    /// Whether an unpark is pending (a busy wait in the poller ends on it).
    pub(crate) fn is_notified(&self) -> bool {
        self.state.load(SeqCst) == NOTIFIED
    }
}

impl std::fmt::Debug for Unparker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unparker").finish_non_exhaustive()
    }
}

impl Unparker {
    /// Wakes the parker's sleeper, or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        if self.state.swap(NOTIFIED, SeqCst) == IN_DRIVER {
            if let Some(w) = &self.waker {
                w();
            }
        } else {
            self.thread.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpark_before_the_park_is_kept() {
        let (p, u) = Parker::new(None);
        u.unpark();
        p.park(None); // returns at once: the token was there
    }

    #[test]
    fn an_unpark_from_another_thread_wakes_the_sleeper() {
        let (p, u) = Parker::new(None);
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            rx.recv().unwrap();
            u.unpark();
        });
        tx.send(()).unwrap();
        // Parks until the other thread unparks (the bound is a failure bound only).
        p.park(Some(Duration::from_secs(30)));
        t.join().unwrap();
    }

    #[test]
    fn a_timed_park_returns_without_an_unpark() {
        let (p, _u) = Parker::new(None);
        p.park(Some(Duration::from_millis(1)));
    }
}
