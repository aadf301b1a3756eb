//! User timers: `send_after`, `start_timer`, `cancel_timer`, `read_timer` (BEAM group I).
//!
//! ## The timer table: a slab of slots, no lock on the hot paths
//! Each timer is a [`Slot`] of a runtime-wide slab (chunks of 4096 slots, allocated on
//! demand, never moved). A timer reference is `generation << 32 | (slot index + 1)`; the
//! slot's `state` word holds the generation and one of FREE, ACTIVE, CANCELED(_FAR), FIRED.
//! Setting a timer takes a free slot (from the worker's cache of free slot indices, refilled
//! in batches from a shared bitmap, lowest index first), writes its fields — a payload of
//! up to 16 bytes inline, the message being made when it fires — and publishes `gen|ACTIVE`
//! (Release);
//! then the slot's index and generation go onto the timer wheel of the worker that set it
//! (timers set from threads that are not workers go through an inbox of worker 0).
//!
//! **One CAS decides** (cases 87, 94): firing moves `gen|ACTIVE → gen|FIRED`, cancelling
//! `gen|ACTIVE → gen|CANCELED`; exactly one wins, so no message arrives after a successful
//! cancel and a fired timer cannot be cancelled. A cancel reads what it reports (deadline,
//! destination) before its CAS; the CAS succeeding proves the slot was not reused meanwhile
//! (reuse goes through FREE and bumps the generation), so a stale reference can never
//! touch a newer timer.
//!
//! **Who frees a slot.** Only the thread of the worker whose wheel holds the entry (its
//! "home"), when the entry comes due (firing it, or dropping the message of a timer that
//! was cancelled) or when it sweeps its wheel. A cancel is one CAS (plus, for a timer more
//! than 2 s from its deadline, a counter of the home's cancelled entries), from any thread,
//! with no lock and no round trip. The home sweeps its wheel of cancelled entries, a bounded
//! step between process runs, once the counted ones and the wheel's tombstones are at
//! least half of its items (and at least 4096), so memory held by cancelled timers stays
//! within about twice the live ones plus two seconds' worth. (When the wheel kept linked
//! lists, unlinking an entry cost three cache misses: the entry and its two neighbours.
//! Freeing a wheel entry is now one write, so freeing far timers at once on the home
//! worker may pay too; not measured.)
//!
//! **Timers to a pid die with the process** (cases 92, 96): setting a timer of more than
//! 2 s to a pid also records its reference in the destination's link record (`Pcb::sig`,
//! under its lock); the exit path, which closes that record under the same lock, cancels
//! every timer recorded there; a setter that finds the record closed cancels its timer at
//! once. The list is compacted as it grows, so it holds O(active timers) entries. Shorter
//! timers are not recorded (a lock and a push per timer, for timers gone within 2 s
//! anyway): one whose destination died is dropped when it fires, and `read_timer` and
//! `cancel_timer` report it gone already, as they check that the destination lives. Timers to a name
//! resolve the name when they fire (case 91); timers outlive their creator and anyone
//! holding the reference may cancel them (case 93).

use crate::sync::{AtomicI64, AtomicIsize, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Mutex};
use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use super::TimerKey;

use crate::mailbox::cache::CacheSource;
use crate::mailbox::{MessageKind, Msg};
use crate::pid::Pid;

const FREE: u64 = 0;
const ACTIVE: u64 = 1;
const CANCELED: u64 = 2;
const FIRED: u64 = 3;
/// Cancelled more than [`FAR_NS`] before its deadline: counted for the home's sweep.
const CANCELED_FAR: u64 = 4;
/// A cancelled timer due sooner than this (ns) is left for its deadline, not swept.
const FAR_NS: u64 = 2_000_000_000;
const STATE_MASK: u64 = 0xFF;

/// Slots per chunk (4 in the loom model, where every atomic is tracked).
const CHUNK_BITS: u32 = if cfg!(loom) { 2 } else { 12 };
const CHUNK: usize = 1 << CHUNK_BITS;
/// Most timers pending at once (2^26, about 67 million; each slot is 64 bytes).
pub(crate) const MAX_TIMERS: usize = 1 << 26;
/// Free slot indices a worker keeps, and moves to or from the shared list at a time.
const FREE_BATCH: usize = 256;

/// Longest timer delay, in ms (2^36 ms, about 795 days; the BEAM accepts at least 2^33).
pub const MAX_TIMER_MS: u64 = 1 << 36;

/// No home worker (yet).
const NO_HOME: u32 = u32::MAX;

/// Where a timer's message goes.
#[derive(Debug)]
pub(crate) enum Dest {
    /// A process; the timer dies with it.
    Pid(Pid),
    /// A registered name, looked up when the timer fires.
    Name(Box<[u8]>),
}

/// One timer.
///
/// Written while FREE by the one thread that took the slot; after `gen|ACTIVE` is
/// published, `deadline_ns`, `dest_pid` and `home_*` are read by anyone (atomics), while
/// `msg` and `name` are touched only by the slot's home worker thread (which fires it,
/// frees it, or cancels it eagerly) — or by the setter before publication.
pub(crate) struct Slot {
    state: AtomicU64,
    deadline_ns: AtomicU64,
    /// The destination pid (0 for a name).
    dest_pid: AtomicU64,
    /// The home worker's index, or `NO_HOME`.
    home_worker: AtomicU32,
    /// The wheel key (index << 32 | generation) on the home worker's wheel.
    home_key: AtomicU64,
    msg: UnsafeCell<Option<NonNull<Msg>>>,
    name: UnsafeCell<Option<Box<[u8]>>>,
    /// 0, or (payload length + 1) | kind << 8 when the payload is in `inline` (small
    /// payloads: the message is made when the timer fires, so setting and cancelling a
    /// timer allocates nothing).
    inline_meta: UnsafeCell<u32>,
    inline: UnsafeCell<[u8; INLINE_PAYLOAD]>,
}

/// Payloads up to this many bytes are kept in the timer's slot.
const INLINE_PAYLOAD: usize = 16;

// SAFETY: see the type's docs: the non-atomic fields have one owner at a time, handed over
// by the state word (Release/Acquire).
unsafe impl Sync for Slot {}
// SAFETY: a `Slot` moves between threads only inside the shared table, and its
// non-atomic fields have one owner at a time, handed over by the state word
// (Release/Acquire), as the type's docs describe; `Box<[u8]>` and message pointers in
// them may be dropped on any thread.
unsafe impl Send for Slot {}

impl Slot {
    fn new() -> Slot {
        Slot {
            state: AtomicU64::new(FREE),
            deadline_ns: AtomicU64::new(0),
            dest_pid: AtomicU64::new(0),
            home_worker: AtomicU32::new(NO_HOME),
            home_key: AtomicU64::new(0),
            msg: UnsafeCell::new(None),
            name: UnsafeCell::new(None),
            inline_meta: UnsafeCell::new(0),
            inline: UnsafeCell::new([0; INLINE_PAYLOAD]),
        }
    }
}

/// A message of `kind` holding a copy of `data`, from timer `tref` (its sender field: the
/// reference for a timeout, 0 for data).
fn build_msg(
    tref: u64,
    data: &[u8],
    kind: MessageKind,
    worker: impl CacheSource,
) -> Option<NonNull<Msg>> {
    let m = Msg::alloc_by(data.len(), Pid(tref), kind, worker)?;
    // SAFETY: a fresh message we own with room for `data`.
    unsafe {
        std::ptr::copy_nonoverlapping(data.as_ptr(), Msg::payload(m.as_ptr()), data.len());
        if kind == MessageKind::Data {
            Msg::set_sender(m.as_ptr(), Pid::NONE);
        }
    }
    Some(m)
}

/// Milliseconds left until `deadline_ns`, rounded up (never more than the delay asked).
pub(crate) fn ms_left(deadline_ns: u64, now_ns: u64) -> u64 {
    deadline_ns.saturating_sub(now_ns).div_ceil(1_000_000)
}

fn tref_of(index: u32, gen: u32) -> u64 {
    (u64::from(gen) << 32) | (u64::from(index) + 1)
}

/// (slot index, generation) of a reference, if it can be one.
fn split(tref: u64) -> Option<(u32, u32)> {
    let low = tref as u32;
    if low == 0 {
        return None;
    }
    Some((low - 1, (tref >> 32) as u32))
}

/// A timer just created: its reference and slot, to be put on a wheel.
pub(crate) struct NewTimer {
    pub(crate) tref: u64,
    pub(crate) index: u32,
    pub(crate) gen: u32,
}

/// A timer set by a thread that is not a worker, waiting for worker 0's wheel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inboxed {
    pub(crate) index: u32,
    pub(crate) gen: u32,
    pub(crate) deadline_ns: u64,
}

/// What the home worker does with a timer that came due.
pub(crate) enum Due {
    /// Deliver this message to this destination.
    Deliver(NonNull<Msg>, Dest),
    /// It was cancelled (or is stale): nothing to deliver.
    Nothing,
}

/// The user timers of one runtime.
pub(crate) struct Timers {
    chunks: Box<[AtomicPtr<Slot>]>,
    /// Most slots (`MAX_TIMERS`, smaller in the loom model).
    capacity: usize,
    /// Slots handed out so far (fresh ones are taken from here).
    bump: AtomicUsize,
    /// Free slot indices shared between workers and other threads.
    free: Mutex<FreeSet>,
    /// Timers set and neither fired nor cancelled.
    pending: AtomicI64,
    /// Timers set by threads that are not workers, for worker 0's wheel.
    pub(crate) inbox: Mutex<Vec<Inboxed>>,
    pub(crate) inbox_len: AtomicUsize,
    /// Per home worker: timers cancelled while their entry is still on its wheel.
    lazily_cancelled: Box<[crossbeam_utils::CachePadded<AtomicIsize>]>,
}

impl std::fmt::Debug for Timers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timers")
            .field("pending", &self.pending())
            .finish_non_exhaustive()
    }
}

/// The shared free slots: a bitmap (1 = free) handed out lowest index first, so timers set
/// in a row get neighbouring slots. A later pass over them in set order (cancelling them,
/// say) then walks memory in order; with a stack of freed indices, slots came back in the
/// order their timers happened to fire, and every cancel of a far pass missed the cache
/// (5M cancels/s instead of about 19M).
#[derive(Debug, Default)]
struct FreeSet {
    bits: Vec<u64>,
    /// No free bit below this word.
    lowest: usize,
}

impl FreeSet {
    fn put(&mut self, i: u32) {
        let w = i as usize / 64;
        if w >= self.bits.len() {
            self.bits.resize(w + 1, 0);
        }
        self.bits[w] |= 1 << (i % 64);
        self.lowest = self.lowest.min(w);
    }

    /// Moves up to `n` free indices, lowest first, to `out`, in descending order (so that
    /// popping `out` yields them in ascending order).
    fn take(&mut self, n: usize, out: &mut Vec<u32>) {
        let start = out.len();
        let mut w = self.lowest;
        while out.len() - start < n && w < self.bits.len() {
            let mut b = self.bits[w];
            while b != 0 && out.len() - start < n {
                out.push((w * 64) as u32 + b.trailing_zeros());
                b &= b - 1;
            }
            self.bits[w] = b;
            if b != 0 {
                break;
            }
            w += 1;
        }
        self.lowest = w;
        out[start..].reverse();
    }
}

/// A worker's cache of free slot indices (in its `sched::local::WorkerLocal`).
#[derive(Debug, Default)]
pub(crate) struct SlotCache {
    free: Vec<u32>,
}

impl Timers {
    pub(crate) fn new(workers: usize) -> Timers {
        Self::with_capacity(workers, MAX_TIMERS)
    }

    /// A table of at most `capacity` timers (a multiple of the chunk size).
    pub(crate) fn with_capacity(workers: usize, capacity: usize) -> Timers {
        let capacity = capacity.max(CHUNK);
        Timers {
            capacity,
            lazily_cancelled: (0..workers).map(|_| Default::default()).collect(),
            chunks: (0..capacity / CHUNK)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
            bump: AtomicUsize::new(0),
            free: Mutex::new(FreeSet::default()),
            pending: AtomicI64::new(0),
            inbox: Mutex::new(Vec::new()),
            inbox_len: Default::default(),
        }
    }

    /// The slot `index`, if its chunk exists.
    fn slot(&self, index: u32) -> Option<&Slot> {
        let c = self.chunks.get(index as usize >> CHUNK_BITS)?.load(Acquire);
        if c.is_null() {
            return None;
        }
        // SAFETY: a published chunk holds CHUNK slots and lives as long as `self`.
        Some(unsafe { &*c.add(index as usize & (CHUNK - 1)) })
    }

    /// Hints the cache to load slot `index` (both of its lines), which firing it will read.
    pub(crate) fn prefetch_slot(&self, index: u32) {
        if let Some(slot) = self.slot(index) {
            let at = slot as *const Slot as usize;
            crate::sync::prefetch(at);
            crate::sync::prefetch(at + std::mem::size_of::<Slot>() - 1);
        }
    }

    /// A free slot index: from `cache` (refilled from the shared list), or a fresh one.
    fn alloc(&self, cache: Option<&mut SlotCache>) -> Option<u32> {
        match cache {
            Some(c) => {
                if let Some(i) = c.free.pop() {
                    return Some(i);
                }
                self.free.lock().take(FREE_BATCH, &mut c.free);
                if let Some(i) = c.free.pop() {
                    return Some(i);
                }
            }
            None => {
                let mut one = Vec::with_capacity(1);
                self.free.lock().take(1, &mut one);
                if let Some(i) = one.pop() {
                    return Some(i);
                }
            }
        }
        self.fresh()
    }

    fn fresh(&self) -> Option<u32> {
        let i = self.bump.fetch_add(1, Relaxed);
        if i >= self.capacity {
            self.bump.fetch_sub(1, Relaxed);
            return None;
        }
        let c = &self.chunks[i >> CHUNK_BITS];
        if c.load(Acquire).is_null() {
            let chunk: Box<[Slot]> = (0..CHUNK).map(|_| Slot::new()).collect();
            let p = Box::into_raw(chunk) as *mut Slot;
            if c.compare_exchange(std::ptr::null_mut(), p, AcqRel, Acquire)
                .is_err()
            {
                // Another thread installed it first.
                // SAFETY: ours, never published.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, CHUNK)) });
            }
        }
        Some(i as u32)
    }

    /// Returns slot `index` to the free lists.
    fn release(&self, index: u32, cache: Option<&mut SlotCache>) {
        match cache {
            Some(c) => {
                c.free.push(index);
                if c.free.len() >= 2 * FREE_BATCH {
                    let mut shared = self.free.lock();
                    for i in c.free.drain(..FREE_BATCH) {
                        shared.put(i);
                    }
                }
            }
            None => self.free.lock().put(index),
        }
    }

    /// Creates an active timer that will send a copy of `data` as a message of `kind`
    /// (sender 0, or for a timeout the reference), due at `deadline_ns`. `worker` is the
    /// calling thread's worker, for message buffers. Errors: `ErrSystemLimit` (table full),
    /// `ErrNoMemory`.
    pub(crate) fn create(
        &self,
        cache: Option<&mut SlotCache>,
        deadline_ns: u64,
        dest: Dest,
        data: &[u8],
        kind: MessageKind,
        worker: impl CacheSource,
    ) -> Result<NewTimer, crate::Status> {
        let index = self.alloc(cache).ok_or(crate::Status::ErrSystemLimit)?;
        let slot = self.slot(index).expect("allocated slot");
        // FREE: this thread owns the slot's fields.
        let gen = ((slot.state.load(Relaxed) >> 32) as u32)
            .wrapping_add(1)
            .max(1);
        let tref = tref_of(index, gen);
        if data.len() <= INLINE_PAYLOAD {
            // SAFETY: the slot is FREE and ours (see the type's docs).
            unsafe {
                (&mut *slot.inline.get())[..data.len()].copy_from_slice(data);
                *slot.inline_meta.get() = (data.len() as u32 + 1) | (kind as u32) << 8;
                *slot.msg.get() = None;
            }
        } else {
            let Some(m) = build_msg(tref, data, kind, worker) else {
                // Back to the free list untouched (the generation was not used).
                self.free.lock().put(index);
                return Err(crate::Status::ErrNoMemory);
            };
            // SAFETY: the slot is FREE and this thread took it from the free list, so it alone
            // touches `inline_meta` and `msg` until the state word publishes the timer (see the
            // type's docs).
            unsafe {
                *slot.inline_meta.get() = 0;
                *slot.msg.get() = Some(m);
            }
        }
        slot.deadline_ns.store(deadline_ns, Relaxed);
        slot.home_worker.store(NO_HOME, Relaxed);
        // SAFETY: the slot is FREE and ours (see the type's docs).
        unsafe {
            match dest {
                Dest::Pid(p) => {
                    slot.dest_pid.store(p.0, Relaxed);
                    *slot.name.get() = None;
                }
                Dest::Name(n) => {
                    slot.dest_pid.store(0, Relaxed);
                    *slot.name.get() = Some(n);
                }
            }
        }
        self.pending.fetch_add(1, Relaxed);
        slot.state.store((u64::from(gen) << 32) | ACTIVE, Release);
        Ok(NewTimer { tref, index, gen })
    }

    /// Records which worker's wheel holds timer `index` (its home), under which key.
    pub(crate) fn set_home(&self, index: u32, worker: usize, key: TimerKey) {
        if let Some(slot) = self.slot(index) {
            slot.home_key.store(key.to_u64(), Relaxed);
            slot.home_worker.store(worker as u32, Release);
        }
    }

    /// Cancels timer `tref` (`erlang:cancel_timer/1`): the ms that were left, or None when
    /// it already fired, was cancelled, never existed, or its destination process is gone
    /// (`alive` says whether a pid is alive). One CAS decides. Then, when the caller is the
    /// timer's home worker (`home`: its index, wheel and slot cache) and the deadline is
    /// near, the wheel entry, slot and message go at once; otherwise later, when the entry
    /// comes due or the home sweeps its wheel (timers far from their deadline are counted
    /// for that sweep).
    pub(crate) fn cancel(
        &self,
        tref: u64,
        now_ns: u64,
        alive: impl Fn(Pid) -> bool,
        home: Option<(usize, &mut super::Wheel, &mut SlotCache)>,
    ) -> Option<u64> {
        let (index, gen) = split(tref)?;
        let slot = self.slot(index)?;
        let active = (u64::from(gen) << 32) | ACTIVE;
        if slot.state.load(Acquire) != active {
            return None;
        }
        // Read before the CAS: its success proves these belong to this very timer.
        let deadline = slot.deadline_ns.load(Relaxed);
        let dest = Pid(slot.dest_pid.load(Relaxed));
        let far = deadline.saturating_sub(now_ns) > FAR_NS;
        let to = if far { CANCELED_FAR } else { CANCELED };
        if slot
            .state
            .compare_exchange(active, (u64::from(gen) << 32) | to, AcqRel, Acquire)
            .is_err()
        {
            return None;
        }
        self.pending.fetch_sub(1, Relaxed);
        let home_worker = slot.home_worker.load(Acquire);
        if far {
            // Counted for the home's sweep (a timer not on a wheel yet is dropped when it
            // gets there). A cancel is then one CAS, from any thread.
            if let Some(c) = self.lazily_cancelled.get(home_worker as usize) {
                c.fetch_add(1, Relaxed);
            }
        } else if let Some((w, wheel, cache)) = home {
            // Near its deadline, on its home: free the wheel entry now. Left on the wheel,
            // cancelled near timers slow the firing of a storm; swept, they cause pauses
            // (measurements: `docs/benchmarks.md`, "Measurements behind code comments
            // (2026-12-03)").
            let key = TimerKey::from_u64(slot.home_key.load(Relaxed));
            if home_worker as usize == w && wheel.cancel(key) {
                self.free_slot(index, gen, Some(cache));
            }
        }
        if !dest.is_none() && !alive(dest) {
            return None;
        }
        Some(ms_left(deadline, now_ns))
    }

    /// About how many timers cancelled since they went on `worker`'s wheel are still
    /// there (a cancel racing the entry's insertion can make it drift low).
    pub(crate) fn lazily_cancelled(&self, worker: usize) -> isize {
        self.lazily_cancelled
            .get(worker)
            .map_or(0, |c| c.load(Relaxed))
    }

    /// Whether timer (`index`, `gen`) was cancelled (its wheel entry can go).
    pub(crate) fn is_cancelled(&self, index: u32, gen: u32) -> bool {
        self.slot(index).is_some_and(|s| {
            let st = s.state.load(Acquire);
            st >> 32 == u64::from(gen) && matches!(st & STATE_MASK, CANCELED | CANCELED_FAR)
        })
    }

    /// The ms left of an active timer (`erlang:read_timer/1`), or None (as `cancel`).
    pub(crate) fn read(&self, tref: u64, now_ns: u64, alive: impl Fn(Pid) -> bool) -> Option<u64> {
        let (index, gen) = split(tref)?;
        let slot = self.slot(index)?;
        let active = (u64::from(gen) << 32) | ACTIVE;
        if slot.state.load(Acquire) != active {
            return None;
        }
        let deadline = slot.deadline_ns.load(Relaxed);
        let dest = Pid(slot.dest_pid.load(Relaxed));
        // Still the same timer after the reads (Acquire orders them before this load).
        if slot.state.load(Acquire) != active {
            return None;
        }
        if !dest.is_none() && !alive(dest) {
            // The destination died: the timer is cancelled (its exit path does it too).
            self.cancel(tref, now_ns, |_| false, None);
            return None;
        }
        Some(ms_left(deadline, now_ns))
    }

    /// The home worker's wheel says timer (`index`, `gen`) is due: claims it for firing
    /// (or finds it cancelled), frees the slot, and says what to deliver.
    pub(crate) fn due(
        &self,
        index: u32,
        gen: u32,
        cache: Option<&mut SlotCache>,
        worker: impl CacheSource,
    ) -> Due {
        let Some(slot) = self.slot(index) else {
            return Due::Nothing;
        };
        let active = (u64::from(gen) << 32) | ACTIVE;
        let fired = slot
            .state
            .compare_exchange(active, (u64::from(gen) << 32) | FIRED, AcqRel, Acquire)
            .is_ok();
        if fired {
            self.pending.fetch_sub(1, Relaxed);
        }
        if !fired {
            let st = slot.state.load(Acquire);
            if st >> 32 != u64::from(gen) {
                return Due::Nothing; // not this timer (never happens: only the home frees)
            }
            if st & STATE_MASK == CANCELED_FAR {
                let home = slot.home_worker.load(Relaxed);
                if let Some(c) = self.lazily_cancelled.get(home as usize) {
                    c.fetch_sub(1, Relaxed);
                }
            }
        }
        // SAFETY: the home worker owns `msg`, `name` and the inline payload (see the
        // type's docs).
        let (mut m, name, meta) = unsafe {
            (
                (*slot.msg.get()).take(),
                (*slot.name.get()).take(),
                std::mem::take(&mut *slot.inline_meta.get()),
            )
        };
        if fired && meta != 0 {
            let len = (meta & 0xFF) as usize - 1;
            let kind = if meta >> 8 == MessageKind::Timeout as u32 {
                MessageKind::Timeout
            } else {
                MessageKind::Data
            };
            // SAFETY: the home worker owns the inline payload (see the type's docs), and `meta`
            // says its first `len` bytes were written when the timer was set.
            let data = unsafe { &(&*slot.inline.get())[..len] };
            m = build_msg(tref_of(index, gen), data, kind, worker);
        }
        let dest_pid = Pid(slot.dest_pid.load(Relaxed));
        self.release_slot(slot, index, gen, cache);
        match (fired, m) {
            (true, Some(m)) => Due::Deliver(
                m,
                match name {
                    Some(n) => Dest::Name(n),
                    None => Dest::Pid(dest_pid),
                },
            ),
            (_, m) => {
                if let Some(m) = m {
                    // SAFETY: a cancelled timer's message, never sent: ours to free.
                    unsafe { Msg::free(m.as_ptr()) };
                }
                Due::Nothing
            }
        }
    }

    /// Frees a cancelled timer's message and slot (home worker only).
    fn free_slot(&self, index: u32, gen: u32, cache: Option<&mut SlotCache>) {
        let Some(slot) = self.slot(index) else {
            return;
        };
        // SAFETY: the home worker owns `msg` and `name` (see the type's docs).
        unsafe {
            if let Some(m) = (*slot.msg.get()).take() {
                Msg::free(m.as_ptr());
            }
            *slot.name.get() = None;
            *slot.inline_meta.get() = 0;
        }
        self.release_slot(slot, index, gen, cache);
    }

    fn release_slot(&self, slot: &Slot, index: u32, gen: u32, cache: Option<&mut SlotCache>) {
        slot.home_worker.store(NO_HOME, Relaxed);
        slot.state.store(u64::from(gen) << 32 | FREE, Release);
        self.release(index, cache);
    }

    /// Timers in the table (set, not yet fired or cancelled).
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Relaxed).max(0) as usize
    }

    /// Whether `tref` is an active timer (for the compaction of per-process lists).
    pub(crate) fn is_active(&self, tref: u64) -> bool {
        split(tref)
            .and_then(|(i, g)| self.slot(i).map(|s| (s, g)))
            .is_some_and(|(s, g)| s.state.load(Relaxed) == (u64::from(g) << 32) | ACTIVE)
    }

    /// Drops every timer still in the table and its message (shutdown, after the workers
    /// stopped and drained their wheels).
    pub(crate) fn clear(&self) {
        let _ = std::mem::take(&mut *self.inbox.lock());
        let used = self.bump.load(Relaxed).min(self.capacity);
        for i in 0..used as u32 {
            let Some(slot) = self.slot(i) else { continue };
            let st = slot.state.load(Acquire);
            if st & STATE_MASK == ACTIVE {
                self.pending.fetch_sub(1, Relaxed);
            }
            if st & STATE_MASK != FREE {
                let gen = (st >> 32) as u32;
                slot.state.store(u64::from(gen) << 32 | CANCELED, Release);
                self.free_slot(i, gen, None);
            }
        }
    }
}

impl Drop for Timers {
    fn drop(&mut self) {
        for c in self.chunks.iter() {
            let p = c.load(Acquire);
            if p.is_null() {
                continue;
            }
            // SAFETY: a chunk installed by `fresh`; nobody else uses the table now.
            let chunk = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, CHUNK)) };
            for slot in chunk.iter() {
                // SAFETY: exclusive access (drop).
                if let Some(m) = unsafe { (*slot.msg.get()).take() } {
                    // SAFETY: an unsent message owned by the table.
                    unsafe { Msg::free(m.as_ptr()) };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
