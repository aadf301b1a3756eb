//! Messages and mailboxes.
//!
//! A mailbox has two parts, after the BEAM's signal queues
//! (`erts/emulator/beam/erl_proc_sig_queue.h`):
//!
//! - the **outer queue**, a lock-free stack that every sender pushes onto with one CAS
//!   (`OuterQueue`). The owner takes the whole stack at once with one swap and reverses it,
//!   so messages of one sender come out in send order (BEAM cases 14, 15). Exit closes it by
//!   swapping in a `CLOSED` sentinel; a push that finds `CLOSED` fails and the sender frees
//!   its message (a send to a dead process is silently dropped, case 2).
//! - the **inner queue**, private to the owning process (`InnerQueue`): a singly linked FIFO
//!   in arrival order, with a **save pointer** for selective receive: a receive that did not
//!   find a match and suspended resumes its scan where it stopped, so each message is
//!   examined once per receive, not once per wake-up (BEAM case 5 and the save pointer of
//!   `../shared/design/brief.md` §5).
//!
//! ## Invariants
//! - Only the owning process (or the exit path, after the process stopped running) touches
//!   the inner queue; all its fields are plain.
//! - A message is owned by exactly one party at a time: the sender until its push
//!   succeeds, the mailbox until a receive unlinks it, then the receiver (who frees it with
//!   `hive_msg_free` / by dropping [`Message`]).
//! - The outer queue's head is `null` (empty), `CLOSED`, or a pointer to the most recently
//!   pushed message whose `next` chain ends in `null`.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crate::pid::Pid;
use crate::sync::AtomicPtr;

/// Largest payload of one message, in bytes (1 GiB).
pub const MAX_MESSAGE_LEN: usize = 1 << 30;

/// Alignment of a message's payload, in bytes.
pub const MESSAGE_ALIGN: usize = 16;

/// Kind of a message (`hive_msg_kind`): ordinary data; further kinds (exit signals turned
/// into messages, DOWN, timeouts) are added by later modules.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// Bytes sent with `hive_send` / `hive_send_msg`.
    Data = 0,
}

/// Header of a message; the payload follows at offset [`HEADER`].
#[repr(C, align(16))]
pub(crate) struct Msg {
    /// Next message (outer stack: the one pushed before; inner queue: the one after).
    next: *mut Msg,
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
const _: () = assert!(HEADER % MESSAGE_ALIGN == 0);

impl Msg {
    fn layout(len: usize) -> Layout {
        // Cannot fail: len ≤ MAX_MESSAGE_LEN is checked by every caller.
        Layout::from_size_align(HEADER + len, MESSAGE_ALIGN).expect("message layout")
    }

    /// Allocates a message with `len` payload bytes (uninitialised).
    /// Returns None when `len` is too large or memory is exhausted.
    pub(crate) fn alloc(len: usize, sender: Pid, kind: MessageKind) -> Option<NonNull<Msg>> {
        if len > MAX_MESSAGE_LEN {
            return None;
        }
        let cap = if len <= SMALL_PAYLOAD {
            SMALL_PAYLOAD
        } else {
            len
        };
        let recycled = if cap == SMALL_PAYLOAD {
            crate::sched::with_msg_cache(|c, d| c.take(d)).flatten()
        } else {
            None
        };
        let p = match recycled {
            Some(p) => p,
            // SAFETY: the layout has non-zero size (the header alone is 32 bytes).
            None => NonNull::new(unsafe { alloc::alloc(Self::layout(cap)) } as *mut Msg)?,
        };
        // SAFETY: `p` is a fresh allocation large and aligned enough for a `Msg`.
        unsafe {
            p.as_ptr().write(Msg {
                next: ptr::null_mut(),
                len,
                sender,
                kind: kind as u32,
                cap: cap as u32,
            })
        };
        Some(p)
    }

    /// Allocates a message holding a copy of `data`.
    pub(crate) fn with_data(data: &[u8], sender: Pid) -> Option<NonNull<Msg>> {
        let m = Self::alloc(data.len(), sender, MessageKind::Data)?;
        // SAFETY: the payload area of `m` has exactly `data.len()` bytes and cannot overlap
        // `data`, which the caller owns.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), Self::payload(m.as_ptr()), data.len()) };
        Some(m)
    }

    /// Frees a message.
    ///
    /// # Safety
    /// `m` was returned by [`Msg::alloc`] and is owned by the caller; it is not used again.
    pub(crate) unsafe fn free(m: *mut Msg) {
        // SAFETY: per the contract, `m` is a live allocation of `cap` payload bytes.
        let cap = unsafe { (*m).cap } as usize;
        if cap == SMALL_PAYLOAD {
            // SAFETY: `m` is non-null (a live message).
            let m = unsafe { NonNull::new_unchecked(m) };
            if let Some(None) = crate::sched::with_msg_cache(|c, d| c.put(m, d)) {
                return; // kept for reuse
            }
            // Cache full, or not on a worker thread: fall through to the allocator.
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

    /// Payload length.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn len(m: *const Msg) -> usize {
        // SAFETY: per the contract.
        unsafe { (*m).len }
    }

    /// Sender pid.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn sender(m: *const Msg) -> Pid {
        // SAFETY: per the contract.
        unsafe { (*m).sender }
    }

    /// Kind.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn kind(m: *const Msg) -> u32 {
        // SAFETY: per the contract.
        unsafe { (*m).kind }
    }

    /// Sets the sender (used when a pre-allocated message is sent).
    ///
    /// # Safety
    /// `m` points to a live message owned by the caller.
    pub(crate) unsafe fn set_sender(m: *mut Msg, sender: Pid) {
        // SAFETY: per the contract.
        unsafe { (*m).sender = sender }
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
/// Messages are allocated on the sender's worker and freed on the receiver's; going through
/// the system allocator for that producer/consumer pattern made glibc spend a third of an
/// all-to-all benchmark in `malloc_consolidate`, `unlink_chunk` and arena locks. Each worker
/// keeps a LIFO list touched only by its own thread; when it holds two batches it hands one
/// to the runtime's [`MsgDepot`], and when it is empty it takes a batch back, so a worker
/// that receives more than it sends feeds the one that sends more, one lock per batch.
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
    fn take(&mut self, depot: &MsgDepot) -> Option<NonNull<Msg>> {
        if self.free.is_empty() {
            if let Some(Batch(b)) = depot.batches.lock().pop() {
                self.free = b;
            }
        }
        self.free.pop()
    }

    /// Keeps `m`, or hands it back when the cache and the depot are full.
    fn put(&mut self, m: NonNull<Msg>, depot: &MsgDepot) -> Option<NonNull<Msg>> {
        if self.free.len() >= 2 * MSG_BATCH {
            let batch = self.free.split_off(MSG_BATCH);
            let mut d = depot.batches.lock();
            if d.len() < DEPOT_MAX_BATCHES {
                d.push(Batch(batch));
            } else {
                drop(d);
                free_buffers(batch);
            }
        }
        self.free.push(m);
        None
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

/// Frees a chain of messages linked through `next`.
///
/// # Safety
/// Every message of the chain is owned by the caller.
unsafe fn free_chain(mut m: *mut Msg) {
    while !m.is_null() {
        // SAFETY: `m` is a live message of the chain, owned by the caller.
        unsafe {
            let next = (*m).next;
            Msg::free(m);
            m = next;
        }
    }
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

    /// The payload bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: the message is live and owned by `self`; the payload has `len` bytes.
        unsafe { std::slice::from_raw_parts(Msg::payload(self.ptr.as_ptr()), self.len()) }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        // SAFETY: the message is live.
        unsafe { Msg::len(self.ptr.as_ptr()) }
    }

    /// True when the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sending process, or [`Pid::NONE`] when sent from outside any process.
    pub fn sender(&self) -> Pid {
        // SAFETY: the message is live.
        unsafe { Msg::sender(self.ptr.as_ptr()) }
    }

    /// The message kind.
    pub fn kind(&self) -> MessageKind {
        MessageKind::Data
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        // SAFETY: `self` owns the message and is being dropped.
        unsafe { Msg::free(self.ptr.as_ptr()) }
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("sender", &self.sender())
            .field("len", &self.len())
            .finish()
    }
}

/// Sentinel head of a closed outer queue.
const CLOSED: *mut Msg = 1 as *mut Msg;

/// The lock-free part senders push to.
pub(crate) struct OuterQueue {
    head: AtomicPtr<Msg>,
}

/// Outcome of a push onto a closed queue: the message comes back to the sender.
pub(crate) struct Closed(pub(crate) NonNull<Msg>);

impl OuterQueue {
    pub(crate) fn new() -> OuterQueue {
        OuterQueue {
            head: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Pushes a message (any thread). Fails only when the queue is closed.
    pub(crate) fn push(&self, m: NonNull<Msg>) -> Result<(), Closed> {
        let mp = m.as_ptr();
        let mut head = self.head.load(Relaxed);
        loop {
            if head == CLOSED {
                return Err(Closed(m));
            }
            // SAFETY: we own `m` until the CAS below publishes it.
            unsafe { (*mp).next = head };
            // Release: the payload and `next` written above are visible to the owner's
            // Acquire swap in `take_all`.
            match self.head.compare_exchange_weak(head, mp, Release, Relaxed) {
                Ok(_) => return Ok(()),
                Err(h) => head = h,
            }
        }
    }

    /// Takes every pushed message (owner only), oldest first, as a chain.
    /// Returns (first, last, count), or None when empty or closed.
    pub(crate) fn take_all(&self) -> Option<(*mut Msg, *mut Msg, usize)> {
        // Cheap check first: an empty queue costs a load, not a write.
        let h = self.head.load(Relaxed);
        if h.is_null() || h == CLOSED {
            return None;
        }
        // Acquire pairs with the pushers' Release CAS.
        let mut m = self.head.swap(ptr::null_mut(), Acquire);
        if m.is_null() || m == CLOSED {
            // Only the owner swaps; a concurrent close cannot happen while the owner runs.
            debug_assert!(m.is_null());
            return None;
        }
        // Reverse the LIFO chain into arrival order.
        let last = m;
        let mut prev: *mut Msg = ptr::null_mut();
        let mut n = 0;
        while !m.is_null() {
            // SAFETY: the swapped-out chain is now owned by us; each node is live.
            unsafe {
                let next = (*m).next;
                (*m).next = prev;
                prev = m;
                m = next;
            }
            n += 1;
        }
        Some((prev, last, n))
    }

    /// Closes the queue and frees everything in it (exit path). Later pushes fail.
    pub(crate) fn close(&self) {
        let m = self.head.swap(CLOSED, Acquire);
        if m != CLOSED {
            // SAFETY: the chain was swapped out, so we own it; CLOSED is never a message.
            unsafe { free_chain(m) };
        }
    }

    /// True when nothing is pending (a hint: a concurrent push may land right after).
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        let h = self.head.load(Relaxed);
        h.is_null() || h == CLOSED
    }
}

/// The owner-only part: arrived messages in order, and the selective-receive save pointer.
pub(crate) struct InnerQueue {
    head: *mut Msg,
    /// The link that holds the last message's successor (`&head` when empty).
    tail: *mut *mut Msg,
    /// Where the current selective receive resumes scanning: the link holding the first
    /// message it has not yet examined. Reset at the start of every receive.
    save: *mut *mut Msg,
    len: usize,
}

impl InnerQueue {
    /// An empty queue. Its self-pointers are set by [`InnerQueue::init`] once it is at its
    /// final address (inside a PCB, which never moves).
    pub(crate) const fn new() -> InnerQueue {
        InnerQueue {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
            save: ptr::null_mut(),
            len: 0,
        }
    }

    /// Points the queue's links at its own `head`.
    pub(crate) fn init(&mut self) {
        self.tail = &mut self.head;
        self.save = &mut self.head;
    }

    /// Messages in the inner queue.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Moves everything pushed to `outer` to the back of this queue; returns how many.
    pub(crate) fn fetch(&mut self, outer: &OuterQueue) -> usize {
        match outer.take_all() {
            None => 0,
            Some((first, last, n)) => {
                // SAFETY: `tail` is the link after our last message (or `&head`), valid
                // because the queue never moves; `last` is a live message we now own.
                unsafe {
                    *self.tail = first;
                    self.tail = &mut (*last).next;
                }
                self.len += n;
                n
            }
        }
    }

    /// Removes and returns the oldest message.
    pub(crate) fn pop(&mut self) -> Option<NonNull<Msg>> {
        let m = NonNull::new(self.head)?;
        // SAFETY: `m` is the live first message, owned by the queue.
        unsafe {
            self.head = (*m.as_ptr()).next;
            (*m.as_ptr()).next = ptr::null_mut();
        }
        self.len -= 1;
        if self.head.is_null() {
            self.tail = &mut self.head;
        }
        self.save = &mut self.head;
        Some(m)
    }

    /// Starts a new selective receive: the scan begins at the oldest message.
    pub(crate) fn reset_save(&mut self) {
        self.save = &mut self.head;
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
        // SAFETY: `save` always holds a valid link of this queue (`&head` or the `next` of a
        // message still in the queue): unlinking below only removes the message *after*
        // `save`, and `pop`/`reset_save` reset it.
        unsafe {
            loop {
                let m = *self.save;
                if m.is_null() || *budget <= 0 {
                    return None;
                }
                *budget -= 1;
                if matches(m) {
                    *self.save = (*m).next;
                    if self.tail == &mut (*m).next as *mut *mut Msg {
                        self.tail = self.save;
                    }
                    (*m).next = ptr::null_mut();
                    self.len -= 1;
                    self.save = &mut self.head;
                    return NonNull::new(m);
                }
                self.save = &mut (*m).next;
            }
        }
    }

    /// Frees every message (exit path).
    pub(crate) fn clear(&mut self) {
        // SAFETY: the queue owns its chain.
        unsafe { free_chain(self.head) };
        self.head = ptr::null_mut();
        self.tail = &mut self.head;
        self.save = &mut self.head;
        self.len = 0;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn msg(v: u8) -> NonNull<Msg> {
        Msg::with_data(&[v], Pid::NONE).unwrap()
    }

    fn byte(m: NonNull<Msg>) -> u8 {
        // SAFETY: test messages are live and one byte long.
        let b = unsafe { *Msg::payload(m.as_ptr()) };
        // SAFETY: the test owns the message.
        unsafe { Msg::free(m.as_ptr()) };
        b
    }

    fn inner() -> Box<InnerQueue> {
        let mut q = Box::new(InnerQueue::new());
        q.init();
        q
    }

    #[test]
    fn fifo_across_batches() {
        let outer = OuterQueue::new();
        let mut q = inner();
        for i in 0..3 {
            outer.push(msg(i)).ok().unwrap();
        }
        assert_eq!(q.fetch(&outer), 3);
        for i in 3..5 {
            outer.push(msg(i)).ok().unwrap();
        }
        assert_eq!(q.fetch(&outer), 2);
        assert_eq!(q.len(), 5);
        let got: Vec<u8> = std::iter::from_fn(|| q.pop().map(byte)).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn selective_scan_keeps_order_and_resumes_at_save_pointer() {
        let outer = OuterQueue::new();
        let mut q = inner();
        for v in [b'a', b'b', b'c'] {
            outer.push(msg(v)).ok().unwrap();
        }
        q.fetch(&outer);
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
        outer.push(msg(b'd')).ok().unwrap();
        q.fetch(&outer);
        examined.clear();
        let hit = q
            .scan(&mut budget, |m| {
                // SAFETY: as above.
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
        // SAFETY: as above.
        let c = q
            .scan(&mut budget, |m| unsafe { *Msg::payload(m) } == b'c')
            .unwrap();
        assert_eq!(byte(c), b'c');
        outer.push(msg(b'e')).ok().unwrap();
        q.fetch(&outer);
        let got: Vec<u8> = std::iter::from_fn(|| q.pop().map(byte)).collect();
        assert_eq!(got, b"abe");
    }

    #[test]
    fn scan_stops_when_budget_runs_out_and_resumes() {
        let outer = OuterQueue::new();
        let mut q = inner();
        for v in 0..10 {
            outer.push(msg(v)).ok().unwrap();
        }
        q.fetch(&outer);
        q.reset_save();
        let mut budget = 4;
        // SAFETY: as above.
        assert!(q
            .scan(&mut budget, |m| unsafe { *Msg::payload(m) } == 7)
            .is_none());
        assert_eq!(budget, 0);
        let mut budget = 4;
        // SAFETY: as above.
        let hit = q
            .scan(&mut budget, |m| unsafe { *Msg::payload(m) } == 7)
            .unwrap();
        assert_eq!(budget, 0, "resumed at message 4, examined 4,5,6,7");
        assert_eq!(byte(hit), 7);
        q.clear();
    }

    #[test]
    fn closed_queue_refuses_and_frees() {
        let outer = OuterQueue::new();
        outer.push(msg(1)).ok().unwrap();
        outer.close();
        let m = msg(2);
        match outer.push(m) {
            Err(Closed(back)) => assert_eq!(byte(back), 2),
            Ok(()) => panic!("push to a closed queue succeeded"),
        }
        assert!(outer.is_empty());
    }

    #[test]
    fn concurrent_senders_keep_their_own_order() {
        let outer = std::sync::Arc::new(OuterQueue::new());
        let mut q = inner();
        let senders: Vec<_> = (0..4u8)
            .map(|id| {
                let outer = outer.clone();
                std::thread::spawn(move || {
                    for i in 0..2000u32 {
                        let mut data = [0u8; 5];
                        data[0] = id;
                        data[1..].copy_from_slice(&i.to_le_bytes());
                        outer
                            .push(Msg::with_data(&data, Pid::NONE).unwrap())
                            .ok()
                            .unwrap();
                    }
                })
            })
            .collect();
        let mut next = [0u32; 4];
        let mut seen = 0;
        while seen < 8000 {
            q.fetch(&outer);
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
        assert_eq!(next, [2000; 4]);
    }
}
