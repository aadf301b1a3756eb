//! The inner queue: the owner's private FIFO of messages taken from the outer queue and
//! not yet received, with the selective-receive save pointer and the receive mark (see the
//! module docs of `mailbox`).

use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::Relaxed;

use super::msg::{next_of, Msg};
use super::outer::OuterQueue;
use crate::sync::AtomicPtr;

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

    /// Takes every message of `outer` that is reachable and hands each to `free`, which
    /// owns it from then on (exit path, PCB destructor: [`InnerQueue::drain_outer`] passes
    /// the function that also frees what an alias envelope carries).
    ///
    /// # Safety
    /// As [`InnerQueue::take_outer`].
    pub(crate) unsafe fn drain_outer_with(
        &mut self,
        outer: &OuterQueue,
        mut free: impl FnMut(NonNull<Msg>),
    ) {
        // SAFETY: the caller is `outer`'s single consumer and this queue was initialised with
        // it (this function's contract, the same as `take_outer`'s).
        while let Some(m) = unsafe { self.take_outer(outer) } {
            free(m);
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

    /// Empties the queue and drops the receive mark, handing each message to `free`, which
    /// owns it from then on (exit path: [`InnerQueue::clear`] frees them).
    pub(crate) fn clear_with(&mut self, mut free: impl FnMut(NonNull<Msg>)) {
        self.mark = ptr::null();
        self.mark_id = 0;
        while let Some(m) = self.pop() {
            free(m);
        }
    }
}
