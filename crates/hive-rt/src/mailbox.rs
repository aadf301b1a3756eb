//! Messages and mailboxes.
//!
//! A mailbox has two parts, after the BEAM's signal queues
//! (`erts/emulator/beam/erl_proc_sig_queue.h`):
//!
//! - the **outer queue**, Vyukov's intrusive multi-producer single-consumer queue
//!   (`OuterQueue`): a sender appends with one swap of the tail and one store of the old
//!   tail's `next`; the owner takes messages from the head one at a time, in arrival order,
//!   so each sender's messages come out in send order (BEAM cases 14, 15). Taking a message
//!   reads its `next`, which is the address of the following one: the owner prefetches it
//!   while the process handles the current message.
//! - the **inner queue**, private to the owning process (`InnerQueue`): a singly linked FIFO
//!   of messages already taken from the outer queue and not yet received, with a **save
//!   pointer** for selective receive: a receive that did not find a match and suspended
//!   resumes its scan where it stopped, so each message is examined once per receive, not
//!   once per wake-up (BEAM case 5, `docs/semantics.md`; the save pointer in `docs/design.md`,
//!   *Mailboxes and the wake-up handshake*).
//!
//! ## Invariants
//! - Only the owning process (or the exit path, after the process stopped running, or the
//!   PCB's destructor) consumes from the outer queue and touches the inner queue.
//! - A message is owned by exactly one party at a time: the sender until its push, then the
//!   mailbox until a receive takes it, then the receiver (who frees it with `hive_msg_free` /
//!   by dropping [`Message`]).
//! - Between a sender's tail swap and its `next` store the queue is briefly unlinked: the
//!   owner sees it as empty. That is safe for sleeping because the sender notifies the
//!   process (`process/state.rs`) only after the store, so the owner is woken once the
//!   message is reachable.
//! - A send to a process that has exited may still append (the sender found the PCB just
//!   before the exit). Such messages are freed when the PCB is: PCBs are reclaimed through
//!   the epoch only after every sender that could hold the pointer has finished, and the
//!   outer queue frees what it still holds when dropped.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::pid::Pid;
use crate::sync::AtomicPtr;

/// Largest payload of one message, in bytes (1 GiB).
pub(crate) const MAX_MESSAGE_LEN: usize = 1 << 30;

/// Alignment of a message's payload, in bytes.
pub(crate) const MESSAGE_ALIGN: usize = 16;

/// Kind of a message (`hive_msg_kind`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// Bytes sent with `hive_send` / `hive_send_msg` (or by `send_after`).
    Data = 0,
    /// A `start_timer` timeout: the BEAM's `{timeout, TRef, Msg}`; the payload is `Msg`,
    /// the timer reference is [`Message::timer_ref`].
    Timeout = 1,
    /// An exit signal received while trapping exits: the BEAM's `{'EXIT', From, Reason}`.
    /// [`Message::sender`] is `From`, [`Message::reason`] the reason; the payload is the
    /// reason's bytes.
    Exit = 2,
    /// A monitor fired: the BEAM's `{'DOWN', Ref, process, Pid, Reason}`.
    /// [`Message::sender`] is `Pid`, [`Message::monitor_ref`] is `Ref`,
    /// [`Message::reason`] the reason; the payload is the reason's bytes.
    Down = 3,
}

/// Kinds at or above this value are signals other than messages (link, unlink, exit,
/// monitor, demonitor, down); they travel in the mailbox's outer queue, so they keep their
/// order with the sender's messages, and are handled by the receiver before it sees any
/// message behind them (see `signal.rs`). They never reach the inner queue.
pub(crate) const SIG_BASE: u32 = 16;

/// Bytes before the user-visible payload of signals and of `Exit`/`Down` messages:
/// `[monitor ref: u64][reason kind: u32][signal ticket: u32]`, then the reason's bytes.
pub(crate) const SIG_PREFIX: usize = 16;

/// Header of a message; the payload follows at offset [`HEADER`].
#[repr(C, align(16))]
pub(crate) struct Msg {
    /// The message after this one (in the outer or the inner queue). Must stay the first
    /// field: the outer queue's stub node is only this field.
    next: AtomicPtr<Msg>,
    /// Payload length in bytes.
    len: usize,
    /// The sending process, or [`Pid::NONE`] when sent from a thread that is not a process.
    sender: Pid,
    kind: u32,
    /// Payload capacity: `SMALL_PAYLOAD` for small messages (recycled through a worker's
    /// [`MsgCache`]), else equal to `len`.
    cap: u32,
}

const HEADER: usize = std::mem::size_of::<Msg>();
const _: () = assert!(HEADER.is_multiple_of(MESSAGE_ALIGN));

impl Msg {
    fn layout(len: usize) -> Layout {
        // Cannot fail: len ≤ MAX_MESSAGE_LEN is checked by every caller.
        Layout::from_size_align(HEADER + len, MESSAGE_ALIGN).expect("message layout")
    }

    /// Allocates a message with `len` payload bytes (uninitialised).
    /// Returns None when `len` is too large or memory is exhausted.
    pub(crate) fn alloc(len: usize, sender: Pid, kind: MessageKind) -> Option<NonNull<Msg>> {
        Self::alloc_by(len, sender, kind, crate::sched::current_worker())
    }

    /// As [`Msg::alloc`], recycling through the cache of `worker` (the calling thread's
    /// worker, or null).
    #[inline(always)]
    pub(crate) fn alloc_by(
        len: usize,
        sender: Pid,
        kind: MessageKind,
        worker: *const crate::sched::local::WorkerLocal,
    ) -> Option<NonNull<Msg>> {
        Self::alloc_kind(len, sender, kind as u32, worker)
    }

    /// As [`Msg::alloc_by`], with a raw kind (a [`MessageKind`] or a signal kind).
    ///
    /// Inlined into every caller whatever codegen unit it lands in: the send path is a
    /// buffer from the worker's cache and a header write; the rest is [`Msg::alloc_fresh`].
    #[inline(always)]
    pub(crate) fn alloc_kind(
        len: usize,
        sender: Pid,
        kind: u32,
        worker: *const crate::sched::local::WorkerLocal,
    ) -> Option<NonNull<Msg>> {
        if len <= SMALL_PAYLOAD {
            if let Some(p) = crate::sched::with_msg_cache_of(worker, |c, d| c.take(d)).flatten() {
                // SAFETY: a cached buffer is an unused allocation of `SMALL_PAYLOAD` bytes.
                unsafe { Self::init(p, len, sender, kind, SMALL_PAYLOAD) };
                return Some(p);
            }
        }
        Self::alloc_fresh(len, sender, kind)
    }

    /// As [`Msg::alloc_kind`], from the allocator: a large message, or a small one when the
    /// worker's cache is empty or there is no worker.
    #[inline(never)]
    fn alloc_fresh(len: usize, sender: Pid, kind: u32) -> Option<NonNull<Msg>> {
        if len > MAX_MESSAGE_LEN {
            return None;
        }
        let cap = len.max(SMALL_PAYLOAD);
        // SAFETY: the layout has non-zero size (the header alone is 32 bytes).
        let p = NonNull::new(unsafe { alloc::alloc(Self::layout(cap)) } as *mut Msg)?;
        // SAFETY: `p` is a fresh allocation of `cap` payload bytes.
        unsafe { Self::init(p, len, sender, kind, cap) };
        Some(p)
    }

    /// Writes the header of a message with `len` payload bytes into buffer `p`.
    ///
    /// # Safety
    /// `p` is an unused allocation of `cap` payload bytes (`len <= cap`) with the layout of
    /// [`Msg::layout`]`(cap)`.
    #[inline(always)]
    unsafe fn init(p: NonNull<Msg>, len: usize, sender: Pid, kind: u32, cap: usize) {
        // SAFETY: the caller passes an unused allocation made with `Msg::layout(cap)`: it is
        // large and aligned enough for the header, and nothing else reads or writes it.
        unsafe {
            p.as_ptr().write(Msg {
                next: AtomicPtr::new(ptr::null_mut()),
                len,
                sender,
                kind,
                cap: cap as u32,
            })
        };
    }

    /// Allocates a message holding a copy of `data` (see [`Msg::alloc_by`] for `worker`).
    #[inline(always)]
    pub(crate) fn with_data(
        data: &[u8],
        sender: Pid,
        worker: *const crate::sched::local::WorkerLocal,
    ) -> Option<NonNull<Msg>> {
        let m = Self::alloc_by(data.len(), sender, MessageKind::Data, worker)?;
        // SAFETY: the payload area of `m` has exactly `data.len()` bytes and cannot overlap
        // `data`, which the caller owns.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), Self::payload(m.as_ptr()), data.len()) };
        Some(m)
    }

    /// Frees a message.
    ///
    /// # Safety
    /// `m` was returned by [`Msg::alloc`] and is owned by the caller; it is not used again.
    #[inline(always)]
    pub(crate) unsafe fn free(m: *mut Msg) {
        // SAFETY: the caller owns `m`, which came from `Msg::alloc` and is not used again
        // (this function's contract, which `free_by` also requires); `current_worker()` is
        // the calling thread's worker or null, as `free_by` expects.
        unsafe { Self::free_by(m, crate::sched::current_worker()) }
    }

    /// As [`Msg::free`], recycling through the cache of `worker` (the calling thread's
    /// worker, or null).
    ///
    /// Inlined into every caller whatever codegen unit it lands in: the common case is a
    /// push onto the worker's cache; the rest is [`Msg::free_slow`].
    ///
    /// # Safety
    /// As [`Msg::free`].
    #[inline(always)]
    pub(crate) unsafe fn free_by(m: *mut Msg, worker: *const crate::sched::local::WorkerLocal) {
        // SAFETY: `m` is a live message the caller owns (this function's contract): its header
        // is readable and nobody else writes it.
        if unsafe { (*m).cap } as usize == SMALL_PAYLOAD {
            // SAFETY: `m` is non-null (a live message).
            let nm = unsafe { NonNull::new_unchecked(m) };
            if crate::sched::with_msg_cache_of(worker, |c, _| c.try_put(nm)) == Some(true) {
                return; // kept for reuse
            }
        }
        // SAFETY: the cache did not keep `m`: it is still a live message the caller owns and
        // does not use again, and `worker` is the calling thread's worker or null, as passed
        // in (`free_slow`'s contract).
        unsafe { Self::free_slow(m, worker) }
    }

    /// As [`Msg::free_by`], when the worker's cache cannot simply keep `m`: a full cache
    /// (a batch goes to the depot), no worker (or the cache is busy), a large message.
    ///
    /// # Safety
    /// As [`Msg::free`].
    #[inline(never)]
    unsafe fn free_slow(m: *mut Msg, worker: *const crate::sched::local::WorkerLocal) {
        // SAFETY: `m` is a live message the caller owns (this function's contract), allocated
        // with `Msg::layout(cap)`: its header is readable.
        let cap = unsafe { (*m).cap } as usize;
        if cap == SMALL_PAYLOAD {
            // SAFETY: `m` is non-null (a live message).
            let m = unsafe { NonNull::new_unchecked(m) };
            if let Some(freed) = crate::sched::with_msg_cache_of(worker, |c, d| c.put(m, d)) {
                if freed > 0 {
                    // SAFETY: `with_msg_cache_of` ran, so `worker` is this thread's live worker.
                    unsafe { crate::sched::local::count_freed(worker, freed) };
                }
                return; // kept for reuse
            }
            // Not on a worker thread (or the cache is busy): straight to the allocator.
        } else if !worker.is_null() {
            // SAFETY: a non-null `worker` is the calling thread's live worker.
            unsafe { crate::sched::local::count_freed(worker, Self::layout(cap).size()) };
        }
        // SAFETY: allocated with this layout.
        unsafe { alloc::dealloc(m as *mut u8, Self::layout(cap)) }
    }

    /// Pointer to the payload.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn payload(m: *mut Msg) -> *mut u8 {
        // SAFETY: the payload follows the header inside the same allocation.
        unsafe { (m as *mut u8).add(HEADER) }
    }

    /// Sender pid.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn sender(m: *const Msg) -> Pid {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe { (*m).sender }
    }

    /// The sender as users see it: [`Pid::NONE`] for timer messages (whose `sender` field
    /// holds the timer reference).
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn sender_of(m: *const Msg) -> Pid {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe {
            if (*m).kind == MessageKind::Timeout as u32 {
                Pid::NONE
            } else {
                (*m).sender
            }
        }
    }

    /// The timer reference of a timeout message, else 0.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn timer_ref(m: *const Msg) -> u64 {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe {
            if (*m).kind == MessageKind::Timeout as u32 {
                (*m).sender.0
            } else {
                0
            }
        }
    }

    /// Kind.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn kind(m: *const Msg) -> u32 {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe { (*m).kind }
    }

    /// Sets the sender (used when a pre-allocated message is sent).
    ///
    /// # Safety
    /// `m` points to a live message owned by the caller.
    pub(crate) unsafe fn set_sender(m: *mut Msg, sender: Pid) {
        // SAFETY: `m` is a live message owned by the caller (this function's contract): no
        // other party reads or writes its header meanwhile.
        unsafe { (*m).sender = sender }
    }

    /// Changes the kind (a signal becoming an `Exit` or `Down` message).
    ///
    /// # Safety
    /// `m` points to a live message owned by the caller.
    pub(crate) unsafe fn set_kind(m: *mut Msg, kind: u32) {
        // SAFETY: `m` is a live message owned by the caller (this function's contract): no
        // other party reads or writes its header meanwhile.
        unsafe { (*m).kind = kind }
    }

    /// True for kinds whose payload starts with the [`SIG_PREFIX`] (signals, `Exit`,
    /// `Down`).
    fn has_prefix(kind: u32) -> bool {
        kind >= SIG_BASE || kind == MessageKind::Exit as u32 || kind == MessageKind::Down as u32
    }

    /// Allocates a signal (or an `Exit`/`Down` message) of kind `kind` from `sender`,
    /// carrying a monitor reference and an exit reason.
    pub(crate) fn signal(
        kind: u32,
        sender: Pid,
        mref: u64,
        reason: &crate::ExitReason,
        worker: *const crate::sched::local::WorkerLocal,
    ) -> Option<NonNull<Msg>> {
        let data = reason.data();
        let m = Self::alloc_kind(SIG_PREFIX + data.len(), sender, kind, worker)?;
        // SAFETY: the payload has SIG_PREFIX + data.len() bytes, 16-byte aligned, and does
        // not overlap `data`.
        unsafe {
            let p = Self::payload(m.as_ptr());
            (p as *mut u64).write(mref);
            (p.add(8) as *mut u32).write(reason.kind() as u32);
            (p.add(12) as *mut u32).write(0);
            ptr::copy_nonoverlapping(data.as_ptr(), p.add(SIG_PREFIX), data.len());
        }
        Some(m)
    }

    /// Stores a signal's ticket (`signal::SignalCounts`) in its prefix.
    ///
    /// # Safety
    /// `m` is a live signal made by [`Msg::signal`], owned by the caller.
    pub(crate) unsafe fn set_ticket(m: *mut Msg, ticket: u32) {
        // SAFETY: `m` is a live signal made by `Msg::signal` and owned by the caller (this
        // function's contract): its 16-byte-aligned payload starts with the SIG_PREFIX bytes, of
        // which bytes 12..16 are the ticket, ours to write.
        unsafe { (Self::payload(m).add(12) as *mut u32).write(ticket) }
    }

    /// A signal's ticket.
    ///
    /// # Safety
    /// `m` is a live signal made by [`Msg::signal`].
    pub(crate) unsafe fn ticket(m: *const Msg) -> u32 {
        // SAFETY: `m` is a live signal made by `Msg::signal` (this function's contract): its
        // 16-byte-aligned payload starts with the SIG_PREFIX bytes, of which 12..16 are the ticket.
        unsafe { (Self::payload(m as *mut Msg).add(12) as *const u32).read() }
    }

    /// The monitor reference a signal, `Exit` or `Down` message carries (0 for others).
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn monitor_ref(m: *const Msg) -> u64 {
        // SAFETY: `m` points to a live message (the caller's contract), so its header is
        // readable; a kind with the prefix was made by `Msg::signal`, so its 16-byte-aligned
        // payload has at least SIG_PREFIX bytes, the first 8 being the monitor reference.
        unsafe {
            if Self::has_prefix((*m).kind) {
                (Self::payload(m as *mut Msg) as *const u64).read()
            } else {
                0
            }
        }
    }

    /// The exit reason a signal, `Exit` or `Down` message carries (None for others).
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn reason(m: *const Msg) -> Option<crate::ExitReason> {
        // SAFETY: `m` points to a live message (the caller's contract), so its header is
        // readable; a kind with the prefix was made by `Msg::signal`: its 16-byte-aligned payload
        // holds the reason kind at bytes 8..12 and the reason's `len - SIG_PREFIX` bytes after
        // the SIG_PREFIX bytes, all inside the allocation.
        unsafe {
            if !Self::has_prefix((*m).kind) {
                return None;
            }
            let p = Self::payload(m as *mut Msg);
            let kind = crate::reason::ReasonKind::from_raw((p.add(8) as *const u32).read() as i32)?;
            Some(crate::ExitReason::from_kind(
                kind,
                std::slice::from_raw_parts(p.add(SIG_PREFIX), (*m).len - SIG_PREFIX),
            ))
        }
    }

    /// The reason kind a signal, `Exit` or `Down` message carries, else -1.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn reason_kind(m: *const Msg) -> i32 {
        // SAFETY: `m` points to a live message (the caller's contract), so its header is
        // readable; a kind with the prefix was made by `Msg::signal`, so its 16-byte-aligned
        // payload has at least SIG_PREFIX bytes, bytes 8..12 being the reason kind.
        unsafe {
            if Self::has_prefix((*m).kind) {
                (Self::payload(m as *mut Msg).add(8) as *const u32).read() as i32
            } else {
                -1
            }
        }
    }

    /// The user-visible payload: the reason's bytes for `Exit`/`Down`, else the payload.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn user_data(m: *mut Msg) -> *mut u8 {
        // SAFETY: `m` points to a live message (the caller's contract), so its header is
        // readable; a kind with the prefix has at least SIG_PREFIX payload bytes, so the offset
        // stays inside the allocation.
        unsafe {
            if Self::has_prefix((*m).kind) {
                Self::payload(m).add(SIG_PREFIX)
            } else {
                Self::payload(m)
            }
        }
    }

    /// Length of [`Msg::user_data`] in bytes.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn user_len(m: *const Msg) -> usize {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable;
        // a kind with the prefix has `len >= SIG_PREFIX`.
        unsafe {
            if Self::has_prefix((*m).kind) {
                (*m).len - SIG_PREFIX
            } else {
                (*m).len
            }
        }
    }
}

/// Payload capacity of a small message: messages up to this many bytes share one size and
/// are recycled through per-worker caches.
pub(crate) const SMALL_PAYLOAD: usize = 96;
/// Small message buffers moved between a worker and the depot at a time.
const MSG_BATCH: usize = 1024;
/// Batches the depot keeps at most (beyond that, buffers go back to the allocator).
const DEPOT_MAX_BATCHES: usize = 64;

/// A worker's free list of small message buffers (a "magazine").
///
/// Messages are allocated on the sender's worker and freed on the receiver's, a
/// producer/consumer pattern that is costly for a system allocator (glibc: arena locks and
/// consolidation; measurements: `docs/benchmarks.md`, "Measurements behind code comments
/// (2026-12-03)"). Each worker keeps a LIFO list touched only by its own thread; when it
/// holds two batches it hands one to the runtime's [`MsgDepot`], and when it is empty it
/// takes a batch back, so a worker that receives more than it sends feeds the one that
/// sends more, one lock per batch.
#[derive(Debug, Default)]
pub(crate) struct MsgCache {
    free: Vec<NonNull<Msg>>,
}

/// Full batches of free small-message buffers shared by a runtime's workers.
#[derive(Debug, Default)]
pub(crate) struct MsgDepot {
    batches: parking_lot::Mutex<Vec<Batch>>,
}

#[derive(Debug)]
struct Batch(Vec<NonNull<Msg>>);

// SAFETY: a batch holds unused heap buffers owned by nobody else; moving them between
// threads moves that ownership.
unsafe impl Send for Batch {}

impl MsgCache {
    /// A cached buffer, else one from a batch taken from the depot, else None.
    #[inline(always)]
    fn take(&mut self, depot: &MsgDepot) -> Option<NonNull<Msg>> {
        match self.free.pop() {
            Some(m) => Some(m),
            None => self.refill(depot),
        }
    }

    /// As [`MsgCache::take`] with an empty cache: takes a batch from the depot.
    #[inline(never)]
    fn refill(&mut self, depot: &MsgDepot) -> Option<NonNull<Msg>> {
        if let Some(Batch(b)) = depot.batches.lock().pop() {
            self.free = b;
        }
        self.free.pop()
    }

    /// Keeps `m` if the cache has room without handing a batch to the depot (nor growing
    /// its list); true if it did. Else the caller frees `m` through [`MsgCache::put`].
    #[inline(always)]
    fn try_put(&mut self, m: NonNull<Msg>) -> bool {
        if self.free.len() < 2 * MSG_BATCH && self.free.len() < self.free.capacity() {
            self.free.push(m);
            true
        } else {
            false
        }
    }

    /// Keeps `m`; when the cache is full, moves a batch to the depot, or frees it when the
    /// depot is full too. Returns the bytes handed back to the allocator.
    fn put(&mut self, m: NonNull<Msg>, depot: &MsgDepot) -> usize {
        let mut freed = 0;
        if self.free.len() >= 2 * MSG_BATCH {
            let batch = self.free.split_off(MSG_BATCH);
            let mut d = depot.batches.lock();
            if d.len() < DEPOT_MAX_BATCHES {
                d.push(Batch(batch));
            } else {
                drop(d);
                freed = batch.len() * Msg::layout(SMALL_PAYLOAD).size();
                free_buffers(batch);
            }
        }
        self.free.push(m);
        freed
    }
}

fn free_buffers(v: Vec<NonNull<Msg>>) {
    for m in v {
        // SAFETY: cached buffers are unused small-message allocations.
        unsafe { alloc::dealloc(m.as_ptr() as *mut u8, Msg::layout(SMALL_PAYLOAD)) };
    }
}

impl Drop for MsgCache {
    fn drop(&mut self) {
        free_buffers(std::mem::take(&mut self.free));
    }
}

impl Drop for MsgDepot {
    fn drop(&mut self) {
        for Batch(b) in self.batches.get_mut().drain(..) {
            free_buffers(b);
        }
    }
}

/// The `next` link of a message or of the outer queue's stub node.
///
/// # Safety
/// `m` points to a live message or to a stub (`next` is the first field of `Msg`, so both
/// start with an `AtomicPtr<Msg>`).
unsafe fn next_of<'a>(m: *mut Msg) -> &'a AtomicPtr<Msg> {
    // SAFETY: `m` points to a live message or a stub (the caller's contract); both start
    // with an `AtomicPtr<Msg>` (`Msg` is `repr(C)` with `next` first), so the cast only
    // narrows the pointee to that first field, which lives as long as the node.
    unsafe { &*(m as *const AtomicPtr<Msg>) }
}

/// A received message, owned by the Rust code that received it. Dropping it frees it.
pub struct Message {
    ptr: NonNull<Msg>,
}

// SAFETY: a `Message` is the unique owner of its heap allocation; nothing else refers to it.
unsafe impl Send for Message {}

impl Message {
    /// Takes ownership of a raw message.
    ///
    /// # Safety
    /// `ptr` is a live message owned by the caller.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Msg>) -> Message {
        Message { ptr }
    }

    /// The payload bytes (for `Exit` and `Down` messages: the reason's bytes).
    pub fn data(&self) -> &[u8] {
        // SAFETY: the message is live and owned by `self`; the payload has `len` bytes.
        unsafe { std::slice::from_raw_parts(Msg::user_data(self.ptr.as_ptr()), self.len()) }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        // SAFETY: the message is live.
        unsafe { Msg::user_len(self.ptr.as_ptr()) }
    }

    /// The exit reason of an `Exit` or `Down` message, else None.
    pub fn reason(&self) -> Option<crate::ExitReason> {
        // SAFETY: the message is live.
        unsafe { Msg::reason(self.ptr.as_ptr()) }
    }

    /// The monitor reference of a `Down` message, else 0.
    pub fn monitor_ref(&self) -> u64 {
        if self.kind() == MessageKind::Down {
            // SAFETY: the message is live.
            unsafe { Msg::monitor_ref(self.ptr.as_ptr()) }
        } else {
            0
        }
    }

    /// True when the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sending process, or [`Pid::NONE`] when sent from outside any process or by a
    /// timer.
    pub fn sender(&self) -> Pid {
        // SAFETY: the message is live.
        unsafe { Msg::sender_of(self.ptr.as_ptr()) }
    }

    /// The message kind.
    pub fn kind(&self) -> MessageKind {
        // SAFETY: the message is live.
        match unsafe { Msg::kind(self.ptr.as_ptr()) } {
            1 => MessageKind::Timeout,
            2 => MessageKind::Exit,
            3 => MessageKind::Down,
            _ => MessageKind::Data,
        }
    }

    /// The timer reference of a [`MessageKind::Timeout`] message, else 0.
    pub fn timer_ref(&self) -> u64 {
        // SAFETY: the message is live.
        unsafe { Msg::timer_ref(self.ptr.as_ptr()) }
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        // The buffer may go to the worker's cache: runtime code.
        let _rt = crate::sched::enter();
        // SAFETY: `self` owns the message and is being dropped.
        unsafe { Msg::free(self.ptr.as_ptr()) }
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("kind", &self.kind())
            .field("sender", &self.sender())
            .field("len", &self.len())
            .finish()
    }
}

/// The lock-free part senders append to (Vyukov's intrusive MPSC queue): the tail and the
/// stub. The consumer's end (the head) lives in the owner's [`InnerQueue`], on the owner's
/// cache lines: the consumer writes it on every message taken, and beside the tail it would
/// make every receive invalidate the line every sender reads.
///
/// Self-referential (the tail starts at the embedded stub): create it in place, then call
/// [`OuterQueue::init`] once it is at its final address (inside a PCB, which never moves).
#[repr(C)]
pub(crate) struct OuterQueue {
    /// The stub node: only a `next` link.
    stub: AtomicPtr<Msg>,
    /// The newest message (or the stub). Senders swap it.
    tail: AtomicPtr<Msg>,
}

/// Offset of the tail inside an [`OuterQueue`] (the PCB keeps it beside the state word).
#[cfg(test)]
pub(crate) const OUTER_TAIL_OFFSET: usize = std::mem::offset_of!(OuterQueue, tail);

impl OuterQueue {
    pub(crate) fn new() -> OuterQueue {
        OuterQueue {
            stub: AtomicPtr::new(ptr::null_mut()),
            tail: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Points the tail at the stub; call once the queue is at its final address.
    pub(crate) fn init(&mut self) {
        let stub = self.stub_ptr();
        self.tail = AtomicPtr::new(stub);
    }

    fn stub_ptr(&self) -> *mut Msg {
        &self.stub as *const AtomicPtr<Msg> as *mut Msg
    }

    /// The newest node (the stub when empty), for the exit path's drain.
    pub(crate) fn tail_snapshot(&self) -> *mut Msg {
        self.tail.load(Acquire)
    }

    /// True when no message is queued or being linked (only meaningful to the consumer
    /// right after a pop returned None).
    pub(crate) fn is_quiet(&self) -> bool {
        self.tail.load(Acquire) == self.stub_ptr()
    }

    /// The stub node's address (the tail of an empty queue).
    pub(crate) fn stub_addr(&self) -> *mut Msg {
        self.stub_ptr()
    }

    /// Appends a message (any thread).
    pub(crate) fn push(&self, m: NonNull<Msg>) {
        let m = m.as_ptr();
        // SAFETY: we own `m` until the store below links it.
        unsafe { next_of(m).store(ptr::null_mut(), Relaxed) };
        self.push_node(m);
    }

    fn push_node(&self, m: *mut Msg) {
        // AcqRel: Acquire so the old tail is a node whose `next` we may write; Release so
        // the consumer that later reaches `m` through that link sees its contents.
        let prev = self.tail.swap(m, AcqRel);
        // Release: publishes `m` (its header and payload) to the consumer's Acquire load.
        // SAFETY: `prev` is the stub or a message still in the queue: the consumer never
        // takes the last node (it first makes the stub the tail), so `prev` is live.
        unsafe { next_of(prev).store(m, Release) };
    }

    /// Takes the oldest message; `head` is the consumer's end (see [`InnerQueue`]). None
    /// when empty, or when the oldest message is still being linked by its sender (who
    /// will notify the process once it is).
    ///
    /// # Safety
    /// The caller is the queue's single consumer and `head` its end of this queue.
    unsafe fn pop(&self, head_slot: &mut *mut Msg) -> Option<NonNull<Msg>> {
        let stub = self.stub_ptr();
        let mut head = *head_slot;
        // SAFETY: `head` is the consumer's end (the caller's contract): the stub or the
        // oldest message the queue holds, live either way, and `next_of` needs a live node.
        let mut next = unsafe { next_of(head) }.load(Acquire);
        if head == stub {
            if next.is_null() {
                return None;
            }
            *head_slot = next;
            head = next;
            // SAFETY: `next` is a live message of the queue.
            next = unsafe { next_of(next) }.load(Acquire);
        }
        if !next.is_null() {
            *head_slot = next;
            crate::sync::prefetch(next as usize);
            return NonNull::new(head);
        }
        // `head` is the last node. Make the stub the tail again: if the CAS succeeds, no
        // sender can ever link after `head` (none swapped the tail since), so it can be taken.
        // The stub's own link still points where it pointed on its previous trip: clear it.
        // SAFETY: the stub is not in the queue now (head is past it), so only we touch it.
        unsafe { next_of(stub) }.store(ptr::null_mut(), Relaxed);
        match self.tail.compare_exchange(head, stub, AcqRel, Relaxed) {
            Ok(_) => {
                *head_slot = stub;
                NonNull::new(head)
            }
            // A sender swapped the tail after `head` and is about to link it: it will notify
            // the process once the link is stored.
            Err(_) => None,
        }
    }
}

/// The owner-only part: messages taken from the outer queue and not yet received, in
/// arrival order, and the selective-receive save pointer.
pub(crate) struct InnerQueue {
    /// The consumer's end of the [`OuterQueue`]: its oldest node (a message or its stub).
    outer_head: *mut Msg,
    head: AtomicPtr<Msg>,
    /// The link that holds the last message's successor (`&head` when empty).
    tail: *const AtomicPtr<Msg>,
    /// Where the current selective receive resumes scanning: the link holding the first
    /// message it has not yet examined. Reset at the start of every receive.
    save: *const AtomicPtr<Msg>,
    len: usize,
    /// The receive mark (see [`InnerQueue::mark`]): the link after which messages count as
    /// arrived after the mark; null when there is none.
    mark: *const AtomicPtr<Msg>,
    /// Identifies the current mark (0: none).
    mark_id: u64,
}

impl InnerQueue {
    /// An empty queue. Its self-pointers are set by [`InnerQueue::init`] once it is at its
    /// final address (inside a PCB, which never moves).
    pub(crate) fn new() -> InnerQueue {
        InnerQueue {
            outer_head: ptr::null_mut(),
            head: AtomicPtr::new(ptr::null_mut()),
            tail: ptr::null(),
            save: ptr::null(),
            len: 0,
            mark: ptr::null(),
            mark_id: 0,
        }
    }

    /// Points the queue's links at its own `head`, and its end of `outer` at that queue's
    /// stub (`outer` must be initialised and at its final address).
    pub(crate) fn init(&mut self, outer: &OuterQueue) {
        self.tail = &self.head;
        self.save = &self.head;
        self.outer_head = outer.stub_ptr();
    }

    /// Takes the oldest message of `outer` (see [`OuterQueue::pop`]).
    ///
    /// # Safety
    /// The caller is `outer`'s single consumer and this queue was initialised with it.
    pub(crate) unsafe fn take_outer(&mut self, outer: &OuterQueue) -> Option<NonNull<Msg>> {
        // SAFETY: the caller is `outer`'s single consumer and this queue was initialised with
        // it (this function's contract), so `outer_head` is the consumer's end of `outer`, as
        // `OuterQueue::pop` requires.
        unsafe { outer.pop(&mut self.outer_head) }
    }

    /// Frees every message of `outer` that is reachable (exit path, PCB destructor).
    ///
    /// # Safety
    /// As [`InnerQueue::take_outer`].
    pub(crate) unsafe fn drain_outer(&mut self, outer: &OuterQueue) {
        // SAFETY: the caller is `outer`'s single consumer and this queue was initialised with
        // it (this function's contract, the same as `take_outer`'s).
        while let Some(m) = unsafe { self.take_outer(outer) } {
            // SAFETY: a message taken from the queue is ours to free.
            unsafe { crate::alias::envelope::free_queued(m.as_ptr()) };
        }
    }

    /// Messages in the inner queue.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends a message the caller owns.
    pub(crate) fn push_back(&mut self, m: *mut Msg) {
        // SAFETY: `m` is a live message we own; `tail` is a link of this queue.
        unsafe {
            next_of(m).store(ptr::null_mut(), Relaxed);
            (*self.tail).store(m, Relaxed);
            self.tail = next_of(m);
        }
        self.len += 1;
    }

    /// Moves up to `limit` messages from `outer` to the back of this queue; returns how many.
    ///
    /// # Safety
    /// The caller is `outer`'s single consumer and this queue was initialised with it.
    pub(crate) unsafe fn fetch(&mut self, outer: &OuterQueue, limit: usize) -> usize {
        let mut n = 0;
        while n < limit {
            // SAFETY: the caller is `outer`'s single consumer and this queue was initialised
            // with it (this function's contract, the same as `take_outer`'s).
            match unsafe { self.take_outer(outer) } {
                Some(m) => self.push_back(m.as_ptr()),
                None => break,
            }
            n += 1;
        }
        n
    }

    /// Sets the receive mark at the end of the queue (after moving everything pending in
    /// `outer` here) and returns its id: a receive from this mark examines only messages
    /// that arrive afterwards (the BEAM's `recv_marker_reserve/bind/use`). One mark per
    /// process: a new mark replaces the old one.
    ///
    /// # Safety
    /// The caller is `outer`'s single consumer and this queue was initialised with it.
    pub(crate) unsafe fn mark(&mut self, outer: &OuterQueue) -> u64 {
        // SAFETY: the caller is `outer`'s single consumer and this queue was initialised with
        // it (this function's contract, the same as `fetch`'s).
        unsafe { self.fetch(outer, usize::MAX) };
        self.mark = self.tail;
        self.mark_id = self.mark_id.wrapping_add(1).max(1);
        self.mark_id
    }

    /// Starts a selective receive from the mark `id` if it is the current one (else from
    /// the oldest message, which is always correct, only slower).
    pub(crate) fn reset_save_to_mark(&mut self, id: u64) {
        self.save = if id != 0 && id == self.mark_id && !self.mark.is_null() {
            self.mark
        } else {
            &self.head
        };
    }

    /// Keeps the mark valid when the message behind `link` (whose own link is `next_link`)
    /// is unlinked: a mark on the removed message's link moves back to `link`.
    fn unlinking(&mut self, link: *const AtomicPtr<Msg>, next_link: *const AtomicPtr<Msg>) {
        if std::ptr::eq(self.mark, next_link) {
            self.mark = link;
        }
    }

    /// Removes and returns the oldest message.
    pub(crate) fn pop(&mut self) -> Option<NonNull<Msg>> {
        let m = NonNull::new(self.head.load(Relaxed))?;
        // SAFETY: `m` is the live first message, owned by the queue.
        let next = unsafe { next_of(m.as_ptr()) }.load(Relaxed);
        // SAFETY: `m` is still the live first message, owned by the queue: its `next` link
        // lives as long as it does.
        self.unlinking(&self.head, unsafe { next_of(m.as_ptr()) });
        self.head.store(next, Relaxed);
        self.len -= 1;
        if next.is_null() {
            self.tail = &self.head;
        }
        self.save = &self.head;
        Some(m)
    }

    /// Starts a new selective receive: the scan begins at the oldest message.
    pub(crate) fn reset_save(&mut self) {
        self.save = &self.head;
    }

    /// Scans from the save pointer for a message `matches` accepts, charging one unit of
    /// `budget` per message examined. Returns the matched message (unlinked), or None when
    /// the end was reached or the budget ran out (`*budget <= 0`); the save pointer then
    /// marks where to continue.
    pub(crate) fn scan(
        &mut self,
        budget: &mut i32,
        mut matches: impl FnMut(*mut Msg) -> bool,
    ) -> Option<NonNull<Msg>> {
        // Unlinking below only removes the message *after* `save`, and `pop`/`reset_save`
        // reset it.
        // SAFETY: `save` always holds a valid link of this queue (`&head` or a `next`).
        unsafe {
            loop {
                let m = (*self.save).load(Relaxed);
                if m.is_null() || *budget <= 0 {
                    return None;
                }
                *budget -= 1;
                let next = next_of(m).load(Relaxed);
                if !next.is_null() {
                    crate::sync::prefetch(next as usize);
                }
                if matches(m) {
                    self.unlinking(self.save, next_of(m));
                    (*self.save).store(next, Relaxed);
                    if std::ptr::eq(self.tail, next_of(m)) {
                        self.tail = self.save;
                    }
                    self.len -= 1;
                    self.save = &self.head;
                    return NonNull::new(m);
                }
                self.save = next_of(m);
            }
        }
    }

    /// Frees every message (exit path).
    pub(crate) fn clear(&mut self) {
        self.mark = ptr::null();
        self.mark_id = 0;
        while let Some(m) = self.pop() {
            // SAFETY: the queue owned it.
            unsafe { Msg::free(m.as_ptr()) };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn msg(v: u8) -> NonNull<Msg> {
        Msg::with_data(&[v], Pid::NONE, std::ptr::null()).unwrap()
    }

    /// The first payload byte of a live one-byte test message in a queue.
    fn first_byte(m: *mut Msg) -> u8 {
        // SAFETY: the scans pass live messages of the test's queue, all with a payload byte.
        unsafe { *Msg::payload(m) }
    }

    fn byte(m: NonNull<Msg>) -> u8 {
        // SAFETY: test messages are live and one byte long.
        let b = unsafe { *Msg::payload(m.as_ptr()) };
        // SAFETY: the test owns the message.
        unsafe { Msg::free(m.as_ptr()) };
        b
    }

    fn outer() -> Box<OuterQueue> {
        let mut q = Box::new(OuterQueue::new());
        q.init();
        q
    }

    fn inner(outer: &OuterQueue) -> Box<InnerQueue> {
        let mut q = Box::new(InnerQueue::new());
        q.init(outer);
        q
    }

    fn fetch_all(q: &mut InnerQueue, outer: &OuterQueue) -> usize {
        // SAFETY: the test is the single consumer.
        unsafe { q.fetch(outer, usize::MAX) }
    }

    /// The worker's cache of small buffers: `try_put` keeps a buffer only while the list
    /// has room and holds less than two batches; `put` then hands a batch to the depot, and
    /// `take` on an empty cache takes a batch back (LIFO order throughout).
    #[test]
    fn msg_cache_batches_through_the_depot() {
        let depot = MsgDepot::default();
        let mut c = MsgCache::default();
        let bufs: Vec<NonNull<Msg>> = (0..2 * MSG_BATCH + 1)
            .map(|_| Msg::alloc_kind(1, Pid::NONE, 0, std::ptr::null()).unwrap())
            .collect();
        // An empty list has no room: the first buffer goes through `put`.
        assert!(!c.try_put(bufs[0]));
        assert_eq!(c.put(bufs[0], &depot), 0);
        for &m in &bufs[1..2 * MSG_BATCH] {
            if !c.try_put(m) {
                assert_eq!(c.put(m, &depot), 0);
            }
        }
        assert_eq!(c.free.len(), 2 * MSG_BATCH);
        // Two batches held: no `try_put`; `put` moves the newer batch to the depot.
        let last = bufs[2 * MSG_BATCH];
        assert!(!c.try_put(last));
        assert_eq!(c.put(last, &depot), 0);
        assert_eq!(c.free.len(), MSG_BATCH + 1);
        assert_eq!(depot.batches.lock().len(), 1);
        for _ in 0..=MSG_BATCH {
            assert!(c.take(&depot).is_some());
        }
        assert_eq!(depot.batches.lock().len(), 1);
        // Empty: `take` refills from the depot, newest buffer first.
        assert_eq!(c.take(&depot), Some(bufs[2 * MSG_BATCH - 1]));
        assert!(depot.batches.lock().is_empty());
        while c.take(&depot).is_some() {}
        assert_eq!(c.take(&depot), None);
        for m in bufs {
            // SAFETY: every buffer was handed out of the cache and is owned by the test;
            // none is in the cache or the depot any more.
            unsafe { alloc::dealloc(m.as_ptr() as *mut u8, Msg::layout(SMALL_PAYLOAD)) };
        }
    }

    #[test]
    fn outer_queue_is_fifo_and_drains_to_empty() {
        let outer = outer();
        let mut q = inner(&outer);
        // SAFETY: the test is the queue's single consumer and `q` was set up on `outer`.
        assert!(unsafe { q.take_outer(&outer) }.is_none());
        for i in 0..5 {
            outer.push(msg(i));
        }
        let mut got = Vec::new();
        // SAFETY: the test is the single consumer.
        while let Some(m) = unsafe { q.take_outer(&outer) } {
            got.push(byte(m));
            if got.len() == 2 {
                outer.push(msg(5)); // interleave a late push
            }
        }
        assert_eq!(got, vec![0, 1, 2, 3, 4, 5]);
        // The stub is reusable: another round works.
        outer.push(msg(9));
        // SAFETY: the test is the single consumer.
        assert_eq!(byte(unsafe { q.take_outer(&outer) }.unwrap()), 9);
        // SAFETY: the test is the queue's single consumer and `q` was set up on `outer`.
        assert!(unsafe { q.take_outer(&outer) }.is_none());
    }

    #[test]
    fn fifo_across_batches() {
        let outer = outer();
        let mut q = inner(&outer);
        for i in 0..3 {
            outer.push(msg(i));
        }
        assert_eq!(fetch_all(&mut q, &outer), 3);
        for i in 3..5 {
            outer.push(msg(i));
        }
        assert_eq!(fetch_all(&mut q, &outer), 2);
        assert_eq!(q.len(), 5);
        let got: Vec<u8> = std::iter::from_fn(|| q.pop().map(byte)).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn selective_scan_keeps_order_and_resumes_at_save_pointer() {
        let outer = outer();
        let mut q = inner(&outer);
        for v in [b'a', b'b', b'c'] {
            outer.push(msg(v));
        }
        fetch_all(&mut q, &outer);
        q.reset_save();
        let mut examined = Vec::new();
        let mut budget = 100;
        // No match: the scan reaches the end, leaving the save pointer there.
        assert!(q
            .scan(&mut budget, |m| {
                // SAFETY: scan passes live messages.
                examined.push(unsafe { *Msg::payload(m) });
                false
            })
            .is_none());
        assert_eq!(examined, b"abc");
        // A new message arrives: the resumed scan examines only it.
        outer.push(msg(b'd'));
        fetch_all(&mut q, &outer);
        examined.clear();
        let hit = q
            .scan(&mut budget, |m| {
                // SAFETY: scan passes live messages of the test's queue, each one byte long.
                let b = unsafe { *Msg::payload(m) };
                examined.push(b);
                b == b'd'
            })
            .unwrap();
        assert_eq!(examined, b"d");
        assert_eq!(byte(hit), b'd');
        // Case 5: take `c` out of [a,b,c]; [a,b] stay in order.
        q.reset_save();
        let mut budget = 100;
        let c = q.scan(&mut budget, |m| first_byte(m) == b'c').unwrap();
        assert_eq!(byte(c), b'c');
        outer.push(msg(b'e'));
        fetch_all(&mut q, &outer);
        let got: Vec<u8> = std::iter::from_fn(|| q.pop().map(byte)).collect();
        assert_eq!(got, b"abe");
    }

    #[test]
    fn scan_stops_when_budget_runs_out_and_resumes() {
        let outer = outer();
        let mut q = inner(&outer);
        for v in 0..10 {
            outer.push(msg(v));
        }
        fetch_all(&mut q, &outer);
        q.reset_save();
        let mut budget = 4;
        assert!(q.scan(&mut budget, |m| first_byte(m) == 7).is_none());
        assert_eq!(budget, 0);
        let mut budget = 4;
        let hit = q.scan(&mut budget, |m| first_byte(m) == 7).unwrap();
        assert_eq!(budget, 0, "resumed at message 4, examined 4,5,6,7");
        assert_eq!(byte(hit), 7);
        q.clear();
    }

    #[test]
    fn receive_mark_survives_removal_of_the_messages_around_it() {
        let outer = outer();
        let mut q = inner(&outer);
        for v in [1u8, 2, 3] {
            outer.push(msg(v));
        }
        // SAFETY: single consumer.
        let id = unsafe { q.mark(&outer) };
        // The message just before the mark goes (selective unlink), then the oldest (pop).
        q.reset_save();
        let mut budget = 100;
        let three = q.scan(&mut budget, |m| first_byte(m) == 3).unwrap();
        assert_eq!(byte(three), 3);
        assert_eq!(byte(q.pop().unwrap()), 1);
        for v in [4u8, 5] {
            outer.push(msg(v));
        }
        // SAFETY: single consumer.
        unsafe { q.fetch(&outer, usize::MAX) };
        // From the mark only 4 and 5 are examined, though 2 would match too.
        q.reset_save_to_mark(id);
        let mut seen = Vec::new();
        let hit = q
            .scan(&mut budget, |m| {
                // SAFETY: scan passes live messages of the test's queue, each one byte long.
                let b = unsafe { *Msg::payload(m) };
                seen.push(b);
                b == 5 || b == 2
            })
            .unwrap();
        assert_eq!((seen, byte(hit)), (vec![4, 5], 5));
        // A stale mark id scans from the oldest message.
        q.reset_save_to_mark(id + 1);
        let mut budget = 100;
        let two = q.scan(&mut budget, |m| first_byte(m) == 2).unwrap();
        assert_eq!(byte(two), 2);
        q.clear();
    }

    #[test]
    fn draining_frees_what_the_queue_holds() {
        let outer = outer();
        let mut q = inner(&outer);
        for v in 0..100 {
            outer.push(msg(v));
        }
        // SAFETY: single consumer.
        unsafe { q.drain_outer(&outer) };
        // SAFETY: the test is the queue's single consumer and `q` was set up on `outer`.
        assert!(unsafe { q.take_outer(&outer) }.is_none());
    }

    #[test]
    fn concurrent_senders_keep_their_own_order() {
        // Initialised in place: moving an initialised queue would break its stub links.
        let mut outer = std::sync::Arc::new(OuterQueue::new());
        std::sync::Arc::get_mut(&mut outer).unwrap().init();
        let mut q = inner(&outer);
        // Miri interprets (and explores thread interleavings): fewer messages there.
        const N: u32 = if cfg!(miri) { 50 } else { 20_000 };
        let senders: Vec<_> = (0..4u8)
            .map(|id| {
                let outer = outer.clone();
                std::thread::spawn(move || {
                    for i in 0..N {
                        let mut data = [0u8; 5];
                        data[0] = id;
                        data[1..].copy_from_slice(&i.to_le_bytes());
                        outer.push(Msg::with_data(&data, Pid::NONE, std::ptr::null()).unwrap());
                    }
                })
            })
            .collect();
        let mut next = [0u32; 4];
        let mut seen = 0;
        while seen < 4 * N {
            fetch_all(&mut q, &outer);
            while let Some(m) = q.pop() {
                // SAFETY: 5-byte test messages.
                let d = unsafe { std::slice::from_raw_parts(Msg::payload(m.as_ptr()), 5) };
                let id = d[0] as usize;
                let i = u32::from_le_bytes(d[1..].try_into().unwrap());
                assert_eq!(i, next[id], "sender {id} out of order");
                next[id] += 1;
                seen += 1;
                // SAFETY: owned by the test.
                unsafe { Msg::free(m.as_ptr()) };
            }
        }
        for s in senders {
            s.join().unwrap();
        }
        assert_eq!(next, [N; 4]);
    }
}
