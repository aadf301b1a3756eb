//! The blocking pool: threads that run blocking functions for processes and deliver each
//! result to the caller as a message (the BEAM's dirty I/O schedulers, Inko's blocking
//! threads, Go's threads in a system call), so a process can start a blocking call and go
//! on, or wait for the reply in a receive like any message.
//!
//! - A call gets a fresh reference; its result arrives as a [`MessageKind::Reply`]
//!   message whose `call_ref` is that reference (the `sender` field carries it, as for
//!   timer messages).
//! - Up to [`POOL_THREADS`] threads, started on demand, each taking jobs from one FIFO
//!   queue (crossbeam-channel); jobs wait in the queue when all are busy (10 dirty I/O
//!   schedulers is the BEAM's default).
//! - A caller that stops waiting marks its job abandoned ([`Ticket::abandon`]): either the
//!   pool has not delivered yet and never will, or the reply is on its way and the caller
//!   takes it out of its mailbox (`net::resolve` does).
//! - Shutdown closes the queue: idle threads end; a thread inside a function finishes it,
//!   finds the runtime gone (it holds only a weak reference) and ends. Nobody joins them,
//!   so a function that never returns cannot hang shutdown.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Weak};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use crate::mailbox::{MessageKind, Msg};
use crate::pid::Pid;
use crate::runtime::RtInner;
use crate::sched::Caller;
use crate::status::Status;

/// Threads in the pool at most.
pub(crate) const POOL_THREADS: usize = 16;

/// A blocking function: returns the reply's bytes.
pub(crate) type BlockingFn = Box<dyn FnOnce() -> Vec<u8> + Send>;

const PENDING: u8 = 0;
const DONE: u8 = 1;
const ABANDONED: u8 = 2;

/// The caller's hold on a job: whether its reply was or will be delivered.
#[derive(Clone, Debug)]
pub(crate) struct Ticket(Arc<AtomicU8>);

impl Ticket {
    /// The caller gives up on the reply. True when it will never be delivered; false when
    /// it was or is being delivered (the caller should take it out of its mailbox).
    pub(crate) fn abandon(&self) -> bool {
        self.0
            .compare_exchange(PENDING, ABANDONED, SeqCst, SeqCst)
            .is_ok()
    }
}

struct Job {
    f: BlockingFn,
    to: Pid,
    reference: u64,
    ticket: Ticket,
}

/// Queues `f` on the pool of the calling process `pcb`'s runtime; returns the call's
/// reference (its reply's `call_ref`) and the ticket to abandon it.
pub(crate) fn call(pcb: &crate::process::pcb::Pcb, f: BlockingFn) -> Result<(u64, Ticket), Status> {
    let rt = crate::runtime::runtime_of(pcb);
    if rt.is_shut_down() {
        return Err(Status::ErrShutDown);
    }
    let reference = rt.new_ref();
    let ticket = rt.pool.submit(rt.weak(), pcb.pid, reference, f)?;
    Ok((reference, ticket))
}

/// A runtime's blocking pool (see the module docs).
pub(crate) struct Pool {
    tx: Mutex<Option<Sender<Job>>>,
    rx: Receiver<Job>,
    threads: AtomicUsize,
    idle: AtomicUsize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl Default for Pool {
    fn default() -> Pool {
        let (tx, rx) = crossbeam_channel::unbounded();
        Pool {
            tx: Mutex::new(Some(tx)),
            rx,
            threads: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
        }
    }
}

impl Pool {
    /// Queues `f` to run on the pool for process `to`; its result goes to `to` as a reply
    /// with reference `reference`. `ErrShutDown` once the pool is closed; `ErrSystemLimit`
    /// when no pool thread could be started and none exists.
    pub(crate) fn submit(
        &self,
        rt: Weak<RtInner>,
        to: Pid,
        reference: u64,
        f: BlockingFn,
    ) -> Result<Ticket, Status> {
        let ticket = Ticket(Arc::new(AtomicU8::new(PENDING)));
        let job = Job {
            f,
            to,
            reference,
            ticket: ticket.clone(),
        };
        {
            let tx = self.tx.lock();
            let tx = tx.as_ref().ok_or(Status::ErrShutDown)?;
            tx.send(job).map_err(|_| Status::ErrShutDown)?;
        }
        if self.idle.load(SeqCst) == 0 {
            self.start_thread(rt);
        }
        if self.threads.load(SeqCst) == 0 {
            return Err(Status::ErrSystemLimit);
        }
        Ok(ticket)
    }

    /// Starts one more pool thread, unless there are [`POOL_THREADS`] already.
    fn start_thread(&self, rt: Weak<RtInner>) {
        let n = self.threads.fetch_add(1, SeqCst);
        if n >= POOL_THREADS {
            self.threads.fetch_sub(1, SeqCst);
            return;
        }
        let rx = self.rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("hive-blocking-{n}"))
            .spawn(move || pool_main(rt, rx));
        if spawned.is_err() {
            self.threads.fetch_sub(1, SeqCst);
        }
    }

    /// Shutdown: no new jobs; idle threads end, busy ones after their function.
    pub(crate) fn close(&self) {
        self.tx.lock().take();
    }
}

/// A pool thread: runs jobs until the queue is closed or the runtime is gone.
fn pool_main(rt: Weak<RtInner>, rx: Receiver<Job>) {
    loop {
        let pool_idle = |d: isize| {
            if let Some(rt) = rt.upgrade() {
                if d > 0 {
                    rt.pool.idle.fetch_add(1, SeqCst);
                } else {
                    rt.pool.idle.fetch_sub(1, SeqCst);
                }
            }
        };
        pool_idle(1);
        let job = rx.recv();
        pool_idle(-1);
        let Ok(job) = job else {
            if let Some(rt) = rt.upgrade() {
                rt.pool.threads.fetch_sub(1, SeqCst);
            }
            return;
        };
        // A panic in a Rust function gives an empty reply (C functions cannot unwind).
        let out = catch_unwind(AssertUnwindSafe(job.f)).unwrap_or_default();
        let Some(rt) = rt.upgrade() else {
            return;
        };
        if job
            .ticket
            .0
            .compare_exchange(PENDING, DONE, SeqCst, SeqCst)
            .is_err()
        {
            continue; // abandoned: nobody wants the reply
        }
        let caller = Caller {
            pcb: std::ptr::null(),
            worker: std::ptr::null(),
        };
        if let Some(m) = Msg::alloc_by(
            out.len(),
            Pid(job.reference),
            MessageKind::Reply,
            caller.worker,
        ) {
            // SAFETY: the payload of `m` has exactly `out.len()` bytes and does not overlap
            // `out`.
            unsafe {
                std::ptr::copy_nonoverlapping(out.as_ptr(), Msg::payload(m.as_ptr()), out.len())
            };
            let _ = rt.send_as(&caller, job.to, m);
        }
    }
}
