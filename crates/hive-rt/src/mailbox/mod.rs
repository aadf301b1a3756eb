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
//!   by dropping `Message`, `process/message.rs`).
//! - Between a sender's tail swap and its `next` store the queue is briefly unlinked: the
//!   owner sees it as empty. That is safe for sleeping because the sender notifies the
//!   process (`process/state.rs`) only after the store, so the owner is woken once the
//!   message is reachable.
//! - A send to a process that has exited may still append (the sender found the PCB just
//!   before the exit). Such messages are freed when the PCB is: PCBs are reclaimed through
//!   the epoch only after every sender that could hold the pointer has finished, and the
//!   outer queue frees what it still holds when dropped.
//!
//! ## Layers
//! The mailbox is a layer below the scheduler and the processes: it imports neither. Its
//! files import each other directly (this file only re-exports them):
//! - `kind.rs`: [`MessageKind`], the signal kinds' base, the sizes;
//! - `msg.rs`: the [`Msg`] header, its layout, allocation and freeing;
//! - `cache.rs`: the per-worker [`MsgCache`], the runtime's [`MsgDepot`], and
//!   [`CacheSource`], through which a caller hands in the cache to recycle through;
//! - `outer.rs`: the [`OuterQueue`];
//! - `inner.rs`: the [`InnerQueue`], its selective scan, save pointer and receive mark.
//!
//! What needs the runtime is defined above it, in `process/message.rs`: the public
//! `Message` handle (its drop enters the runtime), [`Msg::alloc`] and [`Msg::free`] (the
//! calling thread's worker), and [`InnerQueue::clear`] and [`InnerQueue::drain_outer`]
//! (which free alias envelopes with the message they carry).

pub(crate) mod cache;
mod inner;
mod kind;
mod msg;
mod outer;
#[cfg(all(test, not(loom)))]
mod tests;

pub(crate) use cache::{CacheSource, MsgCache, MsgDepot};
pub(crate) use inner::InnerQueue;
pub use kind::MessageKind;
pub(crate) use kind::{MAX_MESSAGE_LEN, MESSAGE_ALIGN, SIG_BASE, SIG_PREFIX};
pub(crate) use msg::Msg;
pub(crate) use outer::OuterQueue;
#[cfg(test)]
pub(crate) use outer::OUTER_TAIL_OFFSET;
