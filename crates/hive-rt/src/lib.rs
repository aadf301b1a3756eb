//! # Hive runtime core
//!
//! Hive gives a compiled language Erlang's process model: millions of cheap processes
//! scheduled M:N over one worker thread per core, preempted by reduction counting,
//! communicating by copying messages into mailboxes, blocking in `receive` with a timeout.
//!
//! Two faces:
//! - the **C ABI** (`hive_*` functions in [`ffi`], declared in the generated `include/hive.h`),
//!   which compiler backends call;
//! - the **Rust API** ([`Runtime`] and the functions in [`process`]), used by Hive's own
//!   tests and benches and by Rust programs.
//!
//! Module map (one concern each, see `docs/design.md` for how they fit together):
//! - [`pid`]: the 64-bit process identifier (`[node:12 | serial:28 | index:24]`).
//! - `stack`: pooled coroutine stacks carved from large lazily committed arenas.
//! - `mailbox`: the lock-free outer queue senders push to and the owner-only inner queue
//!   with its save pointer for selective receive.
//! - `process`: the process control block (PCB), its wake-state word and the pid table.
//! - `sched`: workers, run queues, work stealing, parking.
//! - `timer`: the per-worker hierarchical timer wheel.
//! - [`net`] (`io/`): sockets for processes — TCP, UDP, Unix streams, active mode — over an
//!   event poller the idle workers wait in; the blocking pool and name resolution.
//! - [`ffi`]: the thin C layer: validation, conversion, `catch_unwind`.
//!
//! ```
//! use hive_rt::{Runtime, Config, process};
//! let rt = Runtime::new(Config::default()).unwrap();
//! let echo = rt.spawn(|| {
//!     let msg = process::receive(None).unwrap();
//!     let from = msg.sender();
//!     process::send(from, msg.data()).unwrap();
//! }).unwrap();
//! // `run` spawns a process and waits for its exit (atomically: no race with a quick exit).
//! let reason = rt.run(move || {
//!     process::send(echo, b"hello").unwrap();
//!     let reply = process::receive(Some(5_000)).unwrap();
//!     assert_eq!(reply.data(), b"hello");
//! }).unwrap();
//! assert!(reason.is_normal());
//! rt.shutdown();
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

#[cfg(feature = "mimalloc")]
mod alloc;
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: alloc::HiveAlloc = alloc::HiveAlloc;

/// Bytes of the runtime's global allocator (mimalloc) in use, counted when the crate is
/// built with the `alloc-stats` feature (its own tests are); None otherwise, and without the
/// `mimalloc` feature. For leak checks (the soak test), not for production use.
#[doc(hidden)]
pub fn heap_in_use() -> Option<usize> {
    #[cfg(feature = "mimalloc")]
    return alloc::live_bytes();
    #[cfg(not(feature = "mimalloc"))]
    None
}

/// Runs `f` and returns its result with the most bytes the calling thread had allocated and
/// not yet freed at any moment during `f` (requested sizes; a growing `realloc` counts
/// both blocks): with the `alloc-stats` and `mimalloc` features, else None. Other threads'
/// allocations do not count. For the fuzz tests' memory bounds.
#[cfg(test)]
pub(crate) fn peak_heap<R>(f: impl FnOnce() -> R) -> (R, Option<usize>) {
    #[cfg(feature = "mimalloc")]
    {
        alloc::peak_begin();
        let r = f();
        (r, alloc::peak_end())
    }
    #[cfg(not(feature = "mimalloc"))]
    (f(), None)
}

pub mod alias;
pub mod config;
pub mod dist;
pub mod ffi;
mod io;
mod mailbox;
mod overflow;
pub mod pid;
pub mod process;
pub mod reason;
mod registry;
mod runtime;
mod sched;
mod signal;
mod stack;
pub mod status;
mod sync;
mod timer;

pub use alias::AliasMode;
pub use config::{Config, Priority, SpawnOptions};
pub use io::api as net;
pub use mailbox::MessageKind;
pub use pid::Pid;
pub use process::message::Message;
pub use reason::ExitReason;
pub use registry::MAX_NAME_LEN;
pub use runtime::api::Runtime;
pub use runtime::info::{ProcessInfo, ProcessStatus, RuntimeStats};
pub use runtime::timers::TimerDest;
pub use signal::{DEMONITOR_FLUSH, DEMONITOR_INFO};
pub use status::{Error, Status};
pub use timer::user::MAX_TIMER_MS;

/// Reductions a process may spend in one time slice before it is preempted
/// (the BEAM's `CONTEXT_REDS`, 4000 since OTP 19.2).
pub const REDUCTIONS_PER_SLICE: i32 = 4000;

#[cfg(all(test, loom))]
mod tests;
