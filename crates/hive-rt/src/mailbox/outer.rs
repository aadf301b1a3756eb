//! The outer queue: Vyukov's intrusive multi-producer single-consumer queue senders
//! append to (see the module docs of `mailbox`).

use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use super::msg::{next_of, Msg};
use crate::sync::AtomicPtr;

/// The lock-free part senders append to (Vyukov's intrusive MPSC queue): the tail and the
/// stub. The consumer's end (the head) lives in the owner's
/// [`InnerQueue`](super::InnerQueue), on the owner's cache lines: the consumer writes it on
/// every message taken, and beside the tail it would make every receive invalidate the line
/// every sender reads.
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

    pub(super) fn stub_ptr(&self) -> *mut Msg {
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

    /// Takes the oldest message; `head` is the consumer's end (see
    /// [`InnerQueue`](super::InnerQueue)). None when empty, or when the oldest message is
    /// still being linked by its sender (who will notify the process once it is).
    ///
    /// # Safety
    /// The caller is the queue's single consumer and `head` its end of this queue.
    pub(super) unsafe fn pop(&self, head_slot: &mut *mut Msg) -> Option<NonNull<Msg>> {
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
