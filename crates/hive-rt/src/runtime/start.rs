//! Starting a runtime: its workers, their threads, the held-worker monitor.

use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use crossbeam_deque::Worker;
use parking_lot::Mutex;

use super::RtInner;
use crate::config::Config;
use crate::overflow;
use crate::process::table::PidTable;
use crate::sched::local::WorkerLocal;
use crate::sched::worker::thread_main;
use crate::sched::{Idle, Scheduler, WorkerShared};
use crate::stack::Stacks;
use crate::status::Status;

impl RtInner {
    /// Builds a runtime and starts its workers.
    pub(crate) fn start(config: &Config) -> std::result::Result<Arc<RtInner>, Status> {
        let config = config.resolve()?;
        overflow::install_handler();
        let n = config.schedulers;
        let table = PidTable::new(config.max_processes)?;
        let io = crate::io::driver::Driver::new()?;
        let mut queues = Vec::with_capacity(n);
        let mut shared = Vec::with_capacity(n);
        for _ in 0..n {
            let q = [Worker::new_fifo(), Worker::new_fifo(), Worker::new_fifo()];
            let (parker, unparker) = crate::sched::park::Parker::new(Some({
                let w = io.waker();
                Arc::new(move || {
                    let _ = w.wake();
                })
            }));
            shared.push(WorkerShared {
                stealers: [q[0].stealer(), q[1].stealer(), q[2].stealer()],
                unparker,
                local: Default::default(),
                stats: Default::default(),
            });
            queues.push((q, parker));
        }
        let rt = Arc::new(RtInner {
            stacks: Stacks::new(config.stack_size, config.guard_size),
            table,
            sched: Scheduler {
                workers: shared.into_boxed_slice(),
                injector: [Default::default(), Default::default(), Default::default()],
                idle: Idle::new(n),
                monitor: Default::default(),
                trim_epoch: Default::default(),
                trim_rss: Default::default(),
            },
            registry: crate::registry::Registry::new(),
            timers: crate::timer::user::Timers::new(n),
            msg_depot: Default::default(),
            external_stats: Default::default(),
            start: Instant::now(),
            shut_down: AtomicBool::new(false),
            threads: Mutex::new(Vec::with_capacity(n)),
            monitor_thread: Mutex::new(None),
            stopped: Mutex::new(None),
            external: std::sync::atomic::AtomicUsize::new(0),
            shutdown_begun: AtomicBool::new(false),
            self_ref: std::sync::OnceLock::new(),
            next_ref: std::sync::atomic::AtomicU64::new(0),
            aliases: crate::alias::table::AliasTable::new(),
            io,
            pool: Default::default(),
            remote: Default::default(),
            config,
        });
        let _ = rt.self_ref.set(Arc::downgrade(&rt));
        for (index, (q, parker)) in queues.into_iter().enumerate() {
            let local = Box::new(WorkerLocal::new(rt.clone(), index, q, parker));
            rt.sched.workers[index]
                .local
                .store(Box::into_raw(local), SeqCst);
        }
        // Every worker registers its thread handle before `start` returns, so shutdown can
        // always unpark it.
        let ready = Arc::new(Barrier::new(n + 1));
        for index in 0..n {
            let rt2 = rt.clone();
            let ready2 = ready.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("hive-worker-{index}"))
                .spawn(move || {
                    ready2.wait();
                    thread_main(rt2, Some(index))
                });
            match spawned {
                Ok(h) => rt.threads.lock().push(h),
                Err(_) => {
                    // Let the started workers pass the barrier and stop.
                    rt.shut_down.store(true, SeqCst);
                    for _ in index..n {
                        ready.wait();
                    }
                    rt.sched.unpark_all();
                    for h in rt.threads.lock().drain(..) {
                        let _ = h.join();
                    }
                    // The workers that got no thread: free them here (each holds an Arc).
                    for w in &rt.sched.workers[index..] {
                        let p = w.local.swap(ptr::null_mut(), SeqCst);
                        if !p.is_null() {
                            // SAFETY: allocated above by Box::into_raw and never run.
                            drop(unsafe { Box::from_raw(p) });
                        }
                    }
                    return Err(Status::ErrSystemLimit);
                }
            }
        }
        ready.wait();
        if n > 0 && crate::sched::handshake::membarrier_available() {
            rt.sched.monitor.prepare();
            let rt2 = rt.clone();
            if let Ok(h) = std::thread::Builder::new()
                .name("hive-monitor".into())
                .spawn(move || crate::sched::held::monitor_main(rt2))
            {
                *rt.monitor_thread.lock() = Some(h);
            }
        }
        Ok(rt)
    }
}
