//! How an idle worker sleeps and how it is woken: the one wake path of the scheduler.
//!
//! Each worker (a context, not a thread: see `held`) has one [`Parker`], on which whichever
//! thread holds the worker sleeps, and one [`Unparker`] (in `WorkerShared`) that any thread
//! uses to wake it: a message or signal that makes a process runnable (`notify_work`), a
//! timer armed from a plain thread, shutdown, an allocator trim. Timeouts are the park's
//! own deadline (the worker's next timer). The monitor of held workers sleeps on a parker
//! of its own.
//!
//! The backend is a condition variable behind a token (crossbeam-utils' `Parker`): an
//! unpark that lands before the park makes the park return at once, so the idle protocol's
//! "announce, re-check, park" (`idle.rs`) cannot lose a wake-up. The process I/O layer will
//! add an event-poller backend (the worker waits in the poller with its timer deadline, and
//! an unpark writes to the poller's waker); callers do not change.

use std::time::Duration;

/// The sleeping side of a worker (or of the monitor). `Send`, not `Sync`: one thread at a
/// time parks on it (the thread holding the worker).
#[derive(Debug)]
pub(crate) struct Parker(crossbeam_utils::sync::Parker);

/// The waking side; any thread, any number of times.
#[derive(Clone, Debug)]
pub(crate) struct Unparker(crossbeam_utils::sync::Unparker);

impl Parker {
    /// A parker and its unparker, with no token.
    pub(crate) fn new() -> (Parker, Unparker) {
        let p = crossbeam_utils::sync::Parker::new();
        let u = p.unparker().clone();
        (Parker(p), Unparker(u))
    }

    /// Sleeps until unparked (consuming the token if one is there already), or until
    /// `timeout` has passed (`None`: no limit). May also return spuriously.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        match timeout {
            Some(t) => self.0.park_timeout(t),
            None => self.0.park(),
        }
    }
}

impl Unparker {
    /// Wakes the parker's sleeper, or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        self.0.unpark()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpark_before_the_park_is_kept() {
        let (p, u) = Parker::new();
        u.unpark();
        p.park(None); // returns at once: the token was there
    }

    #[test]
    fn an_unpark_from_another_thread_wakes_the_sleeper() {
        let (p, u) = Parker::new();
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
        let (p, _u) = Parker::new();
        p.park(Some(Duration::from_millis(1)));
    }
}
