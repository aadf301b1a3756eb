//! Process I/O: sockets that block the calling process, not its worker.
//!
//! - `slot`: one socket's slot: lifetime word (generation, CLOSING, references), readiness
//!   bits and the queues of waiting processes; the wake-up handshake.
//! - `driver`: the runtime's event poller (mio) and slot table; the worker about to sleep
//!   waits in it (`sched/poll.rs`).
//! - `owner`: the exit path's part (leave the queue, close the sockets owned) and waking a
//!   waiter.
//! - `socket`: the process side: waiting like `receive`, ownership, close, OS errors as
//!   status codes.
//! - `pool`: the blocking pool: blocking functions run on threads of their own, their
//!   results delivered as messages.
//! - `tcp`: TCP calls (and Unix stream sockets, as `gen_tcp` with `{local, Path}`).
//! - `udp`: UDP calls.
//! - `api`: the Rust API ([`crate::net`]).
//!
//! See `docs/io.md` for the design and what follows `gen_tcp`.

pub(crate) mod active;
pub mod api;
#[cfg(test)]
mod big_tests;
pub(crate) mod driver;
pub(crate) mod frame;
pub(crate) mod owner;
pub(crate) mod pool;
#[cfg(test)]
mod read_size_tests;
pub(crate) mod slot;
pub(crate) mod socket;
pub(crate) mod tcp;
pub(crate) mod udp;
