//! User timers: `send_after`, `start_timer`, `cancel_timer`, `read_timer` (BEAM group I).
//!
//! A [`Timer`] holds its destination (a pid, or a name looked up when it fires, case 91),
//! its ready-made message and one atomic state, ACTIVE → FIRED or ACTIVE → CANCELED.
//! Whoever wins that CAS owns the message: the firing sends it, a cancel frees it. So a
//! cancel never races a delivery, and "no message arrives after a successful cancel"
//! (case 87) holds by construction.
//!
//! Each timer is in two places: the runtime's sharded ref → timer table (for cancel and
//! read from any thread, O(1), no round trip to the owning worker) and the timer wheel of
//! the worker that armed it (timers set from threads that are not workers go through an
//! inbox of worker 0). A cancelled timer's wheel entry is dropped lazily when it comes due.
//!
//! **Timers to a pid die with the process** (cases 92, 96): timers are indexed by
//! destination pid, and the exit path cancels the process's timers (a flag in the PCB
//! spares processes without timers the lookup; it is set before, and the exit checked
//! after, with the same SeqCst handshake as the registry). A timer set to a pid that is
//! already gone is cancelled at once. (The wheel entry goes when it comes due.) Timers
//! outlive their creator and may be cancelled by anyone holding the ref (case 93).

use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::sync::atomic::{AtomicU64, AtomicU8};
use std::sync::Arc;

use fxhash::FxHashMap;
use parking_lot::Mutex;

use crate::mailbox::Msg;
use crate::pid::Pid;

const ACTIVE: u8 = 0;
const CANCELED: u8 = 1;
const FIRED: u8 = 2;
const SHARDS: usize = 64;

/// Longest timer delay, in ms (2^36 ms, about 795 days; the BEAM accepts at least 2^33).
pub const MAX_TIMER_MS: u64 = 1 << 36;

/// Where a timer's message goes.
#[derive(Debug)]
pub(crate) enum Dest {
    /// A process; the timer dies with it.
    Pid(Pid),
    /// A registered name, looked up when the timer fires.
    Name(Box<[u8]>),
}

/// One user timer.
pub(crate) struct Timer {
    pub(crate) tref: u64,
    /// Monotonic deadline (runtime clock), in ns.
    pub(crate) deadline_ns: u64,
    dest: Dest,
    state: AtomicU8,
    /// Owned by the timer until the state CAS decides who takes it.
    msg: UnsafeCell<Option<NonNull<Msg>>>,
}

// SAFETY: `msg` is touched only by the single winner of the state CAS (or by `Drop`, when no
// other reference exists); everything else is immutable or atomic.
unsafe impl Send for Timer {}
// SAFETY: as above.
unsafe impl Sync for Timer {}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timer")
            .field("tref", &self.tref)
            .field("dest", &self.dest)
            .finish_non_exhaustive()
    }
}

impl Timer {
    /// Takes the message if this call moved the state from ACTIVE to `to`.
    fn claim(&self, to: u8) -> Option<NonNull<Msg>> {
        self.state
            .compare_exchange(ACTIVE, to, AcqRel, Acquire)
            .ok()
            // SAFETY: the CAS winner is the only one to touch `msg`.
            .and_then(|_| unsafe { (*self.msg.get()).take() })
    }

    pub(crate) fn dest(&self) -> &Dest {
        &self.dest
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(m) = self.msg.get_mut().take() {
            // SAFETY: the message was never handed out.
            unsafe { Msg::free(m.as_ptr()) };
        }
    }
}

/// Milliseconds left until `deadline_ns`, rounded up (never more than the delay asked).
pub(crate) fn ms_left(deadline_ns: u64, now_ns: u64) -> u64 {
    deadline_ns.saturating_sub(now_ns).div_ceil(1_000_000)
}

/// One shard of the ref → timer table.
type Shard = Mutex<FxHashMap<u64, Arc<Timer>>>;
/// One shard of the destination pid → timer refs index.
type DestShard = Mutex<FxHashMap<Pid, fxhash::FxHashSet<u64>>>;

/// The ref → timer table of one runtime.
pub(crate) struct Timers {
    shards: Box<[Shard]>,
    /// Timers whose destination is a pid, by pid: the exit path cancels them.
    by_dest: Box<[DestShard]>,
    next_ref: AtomicU64,
    /// Timers armed from threads that are not workers, for worker 0's wheel.
    pub(crate) inbox: Mutex<Vec<Arc<Timer>>>,
    pub(crate) inbox_len: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Timers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timers").finish_non_exhaustive()
    }
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            by_dest: (0..SHARDS).map(|_| Mutex::default()).collect(),
            next_ref: AtomicU64::new(1),
            inbox: Mutex::new(Vec::new()),
            inbox_len: Default::default(),
        }
    }

    fn shard(&self, tref: u64) -> &Shard {
        &self.shards[(tref as usize) % SHARDS]
    }

    /// A fresh timer reference (never 0, never reused).
    pub(crate) fn new_ref(&self) -> u64 {
        self.next_ref.fetch_add(1, Relaxed)
    }

    /// Creates an active timer `tref` that owns `msg`, and enters it in the table.
    pub(crate) fn create(
        &self,
        tref: u64,
        deadline_ns: u64,
        dest: Dest,
        msg: NonNull<Msg>,
    ) -> Arc<Timer> {
        let t = Arc::new(Timer {
            tref,
            deadline_ns,
            dest,
            state: AtomicU8::new(ACTIVE),
            msg: UnsafeCell::new(Some(msg)),
        });
        self.shard(tref).lock().insert(tref, t.clone());
        if let Dest::Pid(p) = t.dest {
            self.dest_shard(p).lock().entry(p).or_default().insert(tref);
        }
        t
    }

    fn dest_shard(&self, p: Pid) -> &DestShard {
        &self.by_dest[(p.index() as usize) % SHARDS]
    }

    fn remove(&self, tref: u64) -> Option<Arc<Timer>> {
        let t = self.shard(tref).lock().remove(&tref)?;
        if let Dest::Pid(p) = t.dest {
            let mut d = self.dest_shard(p).lock();
            if let Some(set) = d.get_mut(&p) {
                set.remove(&tref);
                if set.is_empty() {
                    d.remove(&p);
                }
            }
        }
        Some(t)
    }

    /// Exit path: cancels every timer whose destination is `pid` (BEAM case 92).
    pub(crate) fn cancel_all_to(&self, pid: Pid) {
        let Some(set) = self.dest_shard(pid).lock().remove(&pid) else {
            return;
        };
        for tref in set {
            self.cancel(tref, 0, |_| false);
        }
    }

    fn get(&self, tref: u64) -> Option<Arc<Timer>> {
        self.shard(tref).lock().get(&tref).cloned()
    }

    /// Cancels a timer (`erlang:cancel_timer/1`): the ms that were left, or None when it
    /// already fired, was cancelled, never existed, or its destination process is gone.
    /// `alive` says whether a pid is alive.
    pub(crate) fn cancel(
        &self,
        tref: u64,
        now_ns: u64,
        alive: impl Fn(Pid) -> bool,
    ) -> Option<u64> {
        let t = self.remove(tref)?;
        let m = t.claim(CANCELED)?;
        // SAFETY: we won the CAS, so the message is ours and was never sent.
        unsafe { Msg::free(m.as_ptr()) };
        match t.dest {
            Dest::Pid(p) if !alive(p) => None,
            _ => Some(ms_left(t.deadline_ns, now_ns)),
        }
    }

    /// The ms left of an active timer (`erlang:read_timer/1`), or None (as `cancel`).
    pub(crate) fn read(&self, tref: u64, now_ns: u64, alive: impl Fn(Pid) -> bool) -> Option<u64> {
        let t = self.get(tref)?;
        if t.state.load(Acquire) != ACTIVE {
            return None;
        }
        if let Dest::Pid(p) = t.dest {
            if !alive(p) {
                // The destination died: the timer is cancelled (lazily, here).
                self.cancel(tref, now_ns, |_| false);
                return None;
            }
        }
        Some(ms_left(t.deadline_ns, now_ns))
    }

    /// The timer came due: returns its message if it is still active (the caller delivers
    /// it), after taking the timer out of the table.
    pub(crate) fn fire(&self, t: &Timer) -> Option<NonNull<Msg>> {
        let m = t.claim(FIRED)?;
        self.remove(t.tref);
        Some(m)
    }

    /// Drops every pending timer and its message (shutdown).
    pub(crate) fn clear(&self) {
        for d in self.by_dest.iter() {
            d.lock().clear();
        }
        for s in self.shards.iter() {
            let timers: Vec<_> = s.lock().drain().map(|(_, t)| t).collect();
            for t in timers {
                if let Some(m) = t.claim(CANCELED) {
                    // SAFETY: we won the CAS; the message was never sent.
                    unsafe { Msg::free(m.as_ptr()) };
                }
            }
        }
        let _ = std::mem::take(&mut *self.inbox.lock());
    }

    /// Timers in the table (set, not yet fired or cancelled).
    pub(crate) fn pending(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> NonNull<Msg> {
        Msg::with_data(b"x", Pid::NONE, std::ptr::null()).unwrap()
    }

    #[test]
    fn cancel_and_fire_exclude_each_other() {
        let ts = Timers::new();
        let t = ts.create(ts.new_ref(), 5_000_000_000, Dest::Pid(Pid(7)), msg());
        assert_eq!(ts.read(t.tref, 0, |_| true), Some(5000));
        assert_eq!(ts.cancel(t.tref, 1_000_000_000, |_| true), Some(4000));
        assert!(ts.fire(&t).is_none(), "no message after a cancel");
        assert_eq!(ts.cancel(t.tref, 0, |_| true), None, "second cancel");
        assert_eq!(ts.read(t.tref, 0, |_| true), None);

        let t2 = ts.create(ts.new_ref(), 10, Dest::Name(b"n".to_vec().into()), msg());
        let m = ts.fire(&t2).expect("fires");
        // SAFETY: the firing handed us the message.
        unsafe { Msg::free(m.as_ptr()) };
        assert_eq!(ts.cancel(t2.tref, 0, |_| true), None, "cancel after expiry");
        assert_eq!(ts.pending(), 0);
    }

    #[test]
    fn a_dead_destination_cancels_the_timer() {
        let ts = Timers::new();
        let t = ts.create(ts.new_ref(), 5_000_000_000, Dest::Pid(Pid(7)), msg());
        assert_eq!(ts.read(t.tref, 0, |_| false), None);
        assert!(ts.fire(&t).is_none());
        assert_eq!(ts.cancel(12345, 0, |_| true), None, "unknown ref");
    }

    #[test]
    fn ms_left_rounds_up_but_never_exceeds_the_delay() {
        assert_eq!(ms_left(300_000_000, 0), 300);
        assert_eq!(ms_left(300_000_000, 1), 300);
        assert_eq!(ms_left(300_000_000, 300_000_000), 0);
        assert_eq!(ms_left(1, 5), 0);
    }
}
