//! The mailbox bound to the runtime: what the mailbox layer (`mailbox/`) cannot define
//! because it needs the scheduler or the signal layer.
//!
//! - [`Message`], the received message Rust code owns (its drop may recycle the buffer into
//!   the worker's cache, so it enters the runtime first);
//! - [`Msg::alloc`] and [`Msg::free`]: [`Msg::alloc_by`] and [`Msg::free_by`] with the
//!   calling thread's worker;
//! - [`InnerQueue::clear`] and [`InnerQueue::drain_outer`], which free what the queues
//!   still hold on the exit path and in the PCB's destructor (an alias envelope with the
//!   message it carries).

use std::ptr::NonNull;

use crate::mailbox::{InnerQueue, MessageKind, Msg, OuterQueue};
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::sched::current_worker;

impl Msg {
    /// Allocates a message with `len` payload bytes (uninitialised) of kind `kind` from
    /// `sender`, recycling through the cache of the calling thread's worker (see
    /// [`Msg::alloc_by`]). Returns None when `len` is over
    /// [`MAX_MESSAGE_LEN`](crate::mailbox::MAX_MESSAGE_LEN) bytes or memory is exhausted.
    pub(crate) fn alloc(len: usize, sender: Pid, kind: MessageKind) -> Option<NonNull<Msg>> {
        Self::alloc_by(len, sender, kind, current_worker())
    }

    /// Frees a message, recycling through the cache of the calling thread's worker (see
    /// [`Msg::free_by`]).
    ///
    /// # Safety
    /// `m` was allocated by a `Msg` function and is owned by the caller; it is not used
    /// again.
    #[inline(always)]
    pub(crate) unsafe fn free(m: *mut Msg) {
        // SAFETY: the caller owns `m`, which came from a `Msg` allocation and is not used
        // again (this function's contract, which `free_by` also requires); `current_worker()`
        // is the calling thread's worker or null, as a worker source must be.
        unsafe { Self::free_by(m, current_worker()) }
    }
}

impl InnerQueue {
    /// Frees every message of `outer` that is reachable (exit path, PCB destructor), an
    /// alias envelope with the message it carries (`alias::free_queued`).
    ///
    /// # Safety
    /// The caller is `outer`'s single consumer and this queue was initialised with it.
    pub(crate) unsafe fn drain_outer(&mut self, outer: &OuterQueue) {
        let free = |m: NonNull<Msg>| {
            // SAFETY: the queue handed over a message taken from it: ours to free, and not
            // used again.
            unsafe { crate::alias::envelope::free_queued(m.as_ptr()) }
        };
        // SAFETY: the caller is `outer`'s single consumer and this queue was initialised with
        // it (this function's contract, the same as `drain_outer_with`'s).
        unsafe { self.drain_outer_with(outer, free) };
    }

    /// Frees every message and drops the receive mark (exit path, PCB destructor).
    pub(crate) fn clear(&mut self) {
        self.clear_with(|m| {
            // SAFETY: the queue handed over the message it owned; it is not used again.
            unsafe { Msg::free(m.as_ptr()) }
        });
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

    /// Gives up ownership of the raw message (for the runtime to send it on).
    pub(crate) fn into_raw(self) -> NonNull<Msg> {
        let p = self.ptr;
        std::mem::forget(self);
        p
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
    pub fn reason(&self) -> Option<ExitReason> {
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
        MessageKind::of(unsafe { Msg::kind(self.ptr.as_ptr()) })
    }

    /// The timer reference of a [`MessageKind::Timeout`] message, else 0.
    pub fn timer_ref(&self) -> u64 {
        // SAFETY: the message is live.
        unsafe { Msg::timer_ref(self.ptr.as_ptr()) }
    }

    /// The socket of an active-mode socket message ([`MessageKind::Tcp`], `TcpClosed`,
    /// `TcpError`, `TcpPassive`, `Udp`), else `Socket(0)`.
    pub fn socket(&self) -> crate::net::Socket {
        // SAFETY: the message is live.
        crate::net::Socket(unsafe { Msg::socket(self.ptr.as_ptr()) })
    }

    /// The sender of a [`MessageKind::Udp`] message (a datagram from a UDP socket in active
    /// mode), else None.
    pub fn udp_from(&self) -> Option<std::net::SocketAddr> {
        // SAFETY: the message is live.
        unsafe { Msg::udp_from(self.ptr.as_ptr()) }
    }

    /// The call reference of a [`MessageKind::Reply`] message (what
    /// [`crate::process::blocking_call`] returned), else 0.
    pub fn call_ref(&self) -> u64 {
        // SAFETY: the message is live.
        unsafe { Msg::call_ref(self.ptr.as_ptr()) }
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
