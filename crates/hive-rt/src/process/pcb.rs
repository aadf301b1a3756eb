//! The process control block.
//!
//! A PCB is heap-allocated at spawn, published in the pid table, and freed through
//! crossbeam-epoch after the process exited (see `table.rs`). It never moves, so pointers
//! into it (the inner queue's self-links, the [`HiveCtx`] handed to generated code) stay
//! valid while the process lives, on whichever worker it runs.
//!
//! ## Who touches what
//! - `pid`, `rt`: immutable after publication; anyone.
//! - `priority`: written by the process itself (`set_priority`), read by whoever queues it.
//! - `state`, `outer`, `timer_seq`, `timeout_fired`: atomics; anyone.
//! - `ctx`, `inner`, `coroutine`, `yielder`, `entry`, `exit`, `timer`: the process itself
//!   while it runs, or the worker that owns it while it is suspended or exiting. The state
//!   word hands ownership from one worker to the next (Acquire/Release on every transition),
//!   so these plain fields are never accessed by two threads at once.
//! - `sig` (links, monitors, waiters): under its mutex.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

use corosensei::trap::CoroutineTrapHandler;
use corosensei::{Coroutine, Yielder};
use parking_lot::{Condvar, Mutex};

use super::state::StateWord;
use crate::config::Priority;
use crate::mailbox::{InnerQueue, OuterQueue};
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::stack::ArenaStack;

/// Spawn arguments up to this size (bytes) are stored inside the PCB.
pub(crate) const INLINE_ARG_BYTES: usize = 32;

/// The per-process header that generated code may read and write directly
/// (`hive_ctx` in `hive.h`). It lives inside the PCB, so its address is stable for the
/// life of the process, also when the process migrates between workers.
#[repr(C)]
#[derive(Debug)]
pub struct HiveCtx {
    /// Reductions left in the current time slice. The scheduler sets it to
    /// [`crate::REDUCTIONS_PER_SLICE`] on every resume; generated code decrements it at loop
    /// back-edges and calls and calls `hive_yield()` when it drops to 0 or below.
    pub reductions: i32,
    /// Non-zero while a signal (exit, link, monitor, …) waits to be handled: set by the
    /// threads that send one, cleared by the runtime when it handles them. Generated code
    /// must not write it, and must read it with a relaxed atomic load
    /// (`hive_signal_pending(ctx)`; LLVM: `load atomic i32, ptr %p monotonic, align 4`); it
    /// may call `hive_reduction_check()` when it sees it non-zero, to let an exit signal
    /// stop the process before the slice ends (`hive_reduction_check_inline(ctx)` does both).
    pub signal_pending: u32,
}

/// Why a process suspended (the coroutine's yield value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Suspend {
    /// Time slice over or voluntary yield: back to the end of its run queue.
    Yield,
    /// Blocked in receive: becomes WAITING unless notified meanwhile.
    Receive,
    /// `exit` called: never resume; run the exit path.
    Exit,
    /// The thread lost its worker while the process ran its own code (`sched::held`): any
    /// worker resumes it, inside the runtime call it was entering.
    Migrate,
    /// Hibernated with an empty mailbox (`process/hibernate.rs`): its stack is discarded
    /// and it becomes WAITING unless notified meanwhile; it starts again at its new entry.
    Hibernate,
    /// Hibernated with a message queued: its stack is discarded and it starts again at its
    /// new entry at once.
    Restart,
}

/// The coroutine type of a process.
/// How a process coroutine ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The entry function returned (or the process exited, see `Suspend::Exit`).
    Returned,
    /// The process ran into its guard page.
    StackOverflow,
}

pub(crate) type ProcCoroutine = Coroutine<(), Suspend, Ending, ArenaStack>;

/// What the process runs.
pub(crate) enum Entry {
    /// Already started (or nothing to run).
    Taken,
    /// A C entry point and its argument (a copy owned by the runtime, or null).
    C {
        f: extern "C" fn(*mut c_void),
        arg: *mut c_void,
    },
    /// A Rust closure, wrapped by [`Entry::rust`]: it stays in the PCB while the process
    /// runs, so its box is freed by the exit path even when the process never returns from
    /// it (killed, or ended by `exit`). Called once.
    Rust(Box<dyn FnMut() + Send + 'static>),
}

impl Entry {
    /// The entry of a process that runs `f`. (Before, the closure's box was moved onto the
    /// process's stack to be called, and leaked with it whenever the process was killed or
    /// called `exit`: about 100 bytes a process, found by the soak as steady heap growth.)
    pub(crate) fn rust<F: FnOnce() + Send + 'static>(f: F) -> Entry {
        let mut f = Some(f);
        Entry::Rust(Box::new(move || {
            if let Some(f) = f.take() {
                f()
            }
        }))
    }
}

/// Rarely used parts of a PCB (see `Pcb::extras`).
#[derive(Default)]
struct Extras {
    /// Set by `exit` (None: `normal`).
    exit: Option<ExitReason>,
    /// A heap copy of a spawn argument larger than `INLINE_ARG_BYTES`, freed at exit (kept
    /// across hibernation: the spawn argument lives as long as the process).
    heap_arg: Option<Box<[u128]>>,
    /// The argument copy of the entry the process last hibernated into, freed when it
    /// hibernates again or exits.
    hibernation_arg: Option<Box<[u128]>>,
    /// The socket queue the process waits in (`io/`): (handle, direction), so its exit
    /// path can leave it if it dies there.
    io_wait: Option<(u64, u8)>,
    /// The OS error number of the process's last failed socket call (0: none).
    last_errno: i32,
    /// The entry (and its argument's heap copy) a hibernating process starts again at,
    /// until the worker installs it (`process/hibernate.rs`).
    hibernation: Option<(Entry, Option<Box<[u128]>>)>,
}

/// A receive timeout that is armed on some worker's wheel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ArmedTimer {
    pub(crate) worker: u32,
    pub(crate) key: crate::timer::TimerKey,
}

/// A process's links, monitors, exit waiters and terminate callback, and whether its exit
/// path has closed them (under `Pcb::sig`; see `signal/mod.rs` for the protocol).
/// Whether it is closed is `Pcb::life` (CLOSED), written and read under the same lock.
#[derive(Default)]
pub(crate) struct SigState {
    /// Boxed: most processes have no links, monitors or waiters, and the PCB stays small.
    pub(crate) data: Option<Box<LinkData>>,
}

impl LinkData {
    /// Records a request from `from`: a link (`monitor` None) adds `from` to the links, a
    /// monitor (`monitor` its reference) adds (reference, `from`) to the monitors held on
    /// this process. The receiver's handling of a LINK or MONITOR signal
    /// (`signal/handle.rs`), also run on arrival for a local receiver with nothing pending
    /// (`signal::Requestee::request`).
    pub(crate) fn record_request(&mut self, from: Pid, monitor: Option<u64>) {
        match monitor {
            None => {
                self.links.insert(from);
            }
            Some(mref) => {
                self.monitored_by.insert(mref, from);
            }
        }
    }
}

/// A process's last `exit/2` to another process, and how far the process had got then:
/// messages taken out of its mailbox, signals handled, receive timeouts and sleeps armed.
///
/// `link(P)` right after `exit(P, R)` reaches `P` behind the exit signal, so on the BEAM
/// it finds `P` exiting (still known, not yet gone), which answers with an exit signal
/// `noproc` (case 37). A Hive target may finish its whole exit before the link looks it
/// up; the link then answers as the exiting target would, but only while all three
/// counts are unchanged. Once the caller has taken a message (such as `P`'s DOWN or
/// `EXIT`, or any news sent after `P` died), handled a signal or waited on a timer, it
/// may know `P` is dead, and a link to a dead `P` is the `noproc` error of case 26 (the
/// BEAM's answer once `P` is gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LastExit {
    to: Pid,
    taken: u32,
    handled: u32,
    timers: u32,
}

impl LastExit {
    /// The state of the calling process `pcb` now, for an `exit/2` to `to`.
    pub(crate) fn now(pcb: &Pcb, to: Pid) -> LastExit {
        LastExit {
            to,
            taken: pcb.msgs_out.load(Relaxed),
            handled: pcb.sig_seen.get(),
            timers: pcb.timer_seq.load(Relaxed),
        }
    }
}

/// A terminate callback (see `process::set_terminate`).
pub(crate) type Terminate = Box<dyn FnOnce(&ExitReason) + Send>;

/// The bulky part of [`SigState`].
#[derive(Default)]
pub(crate) struct LinkData {
    /// Threads blocked in `hive_wait`.
    pub(crate) waiters: Vec<Arc<ExitWaiter>>,
    /// Linked processes (hash sets and maps: a supervisor may have 100k children, a
    /// server 100k monitors on it, a client 100k monitors out).
    pub(crate) links: fxhash::FxHashSet<Pid>,
    /// Monitors this process holds on others: (reference, target).
    pub(crate) monitors: fxhash::FxHashMap<u64, Pid>,
    /// Monitors others hold on this process: (reference, watcher).
    pub(crate) monitored_by: fxhash::FxHashMap<u64, Pid>,
    /// Signal tickets handled ahead of an earlier one still in flight (rare, short).
    pub(crate) early: Vec<u32>,
    /// References of the timers set to this process (some may have fired or been
    /// cancelled since: compacted as it grows); its exit cancels them (BEAM case 92).
    pub(crate) timers: Vec<u64>,
    /// This process's last `exit/2` to another process that was found (see
    /// [`LastExit`]): a link to it made right after, which finds it dead, is answered
    /// as by an exiting process (case 37).
    pub(crate) last_exit: Option<LastExit>,
    /// Run by the process itself when it exits (before anything is signalled).
    pub(crate) terminate: Option<Terminate>,
    /// The process's active aliases and how each is deactivated (see `alias/`).
    pub(crate) aliases: fxhash::FxHashMap<u64, crate::alias::mode::AliasMode>,
    /// Handles of the sockets this process owns (some may have been closed since:
    /// compacted as it grows); its exit closes those it still owns (`io/`).
    pub(crate) sockets: Vec<u64>,
}

impl SigState {
    /// The link data, created on first use.
    pub(crate) fn data(&mut self) -> &mut LinkData {
        self.data.get_or_insert_with(Default::default)
    }
}

/// One thread blocked in `hive_wait`.
#[derive(Default)]
pub(crate) struct ExitWaiter {
    pub(crate) reason: Mutex<Option<ExitReason>>,
    pub(crate) cond: Condvar,
}

impl ExitWaiter {
    pub(crate) fn complete(&self, reason: &ExitReason) {
        *self.reason.lock() = Some(reason.clone());
        self.cond.notify_all();
    }
}

/// The process control block.
///
/// **Layout.** Field order is chosen for the cache: the fields the running process and its
/// worker write all the time (`ctx.reductions`, the inner queue, the coroutine's stack
/// pointer) come first; the fields *other* threads write on every send or timeout (`state`,
/// the outer queue's head, `timeout_fired`) sit together further down, with cold fields on
/// both sides, at least 64 bytes of them after (so the next heap allocation's hot head
/// cannot share their line). Putting them on one line with `ctx` made every reduction check
/// of a receiver fight every send to it.
#[repr(C)]
pub(crate) struct Pcb {
    // ---- written by the process and its worker ----
    /// The header generated code reads (`hive_current_ctx()` points here).
    pub(crate) ctx: UnsafeCell<HiveCtx>,
    pub(crate) inner: UnsafeCell<InnerQueue>,
    pub(crate) yielder: Cell<*const Yielder<(), Suspend>>,
    pub(crate) coroutine: UnsafeCell<Option<ProcCoroutine>>,
    /// Owner-written flags ([`OWN_MATCHING`], [`OWN_EARLY`], [`OWN_IN_RT`],
    /// [`OWN_HIBERNATED`]): the process (and
    /// its worker) writes them with plain load-and-store; the held-worker monitor reads
    /// `OWN_IN_RT` (see `sched::held`).
    pub(crate) own: crate::sync::AtomicU8,
    /// The held-worker handshake's word the monitor writes (`sched::held::NOT_REVOKED`,
    /// `TRYING`, `REVOKED`): the thread running this process lost its worker.
    pub(crate) revoked: crate::sync::AtomicU8,
    /// True once the process registered a name (see `registry.rs`; written rarely).
    pub(crate) named: std::sync::atomic::AtomicBool,
    /// `process_flag(trap_exit)`: exit signals become `Exit` messages (owner writes,
    /// anyone reads).
    pub(crate) trap_exit: std::sync::atomic::AtomicBool,
    /// Messages taken out of the mailbox by receives (owner writes, anyone reads).
    pub(crate) msgs_out: AtomicU32,
    /// Reductions spent so far (its worker writes after each run, anyone reads).
    pub(crate) reductions: std::sync::atomic::AtomicU64,
    /// The runtime this process belongs to (outlives the process), type-erased: the PCB
    /// layer sits below the runtime object; `runtime::runtime_of` gives it its type back.
    /// Read by the process itself on every call that needs the runtime, so it sits on the
    /// owner's lines.
    pub(crate) rt: *const (),
    /// The armed receive timeout (touched only by receives with a timeout, so it sits after
    /// the fields every receive touches, which then share the first two cache lines).
    pub(crate) timer: Cell<Option<ArmedTimer>>,
    // ---- cold ----
    /// Lets the SIGSEGV handler end this coroutine (see `overflow.rs`).
    pub(crate) trap: Cell<Option<CoroutineTrapHandler<Ending>>>,
    /// Lowest usable address of the stack (just above its guard; 0 before the process has a
    /// stack), for overflow detection and the ABI calls' headroom check (`overflow.rs`).
    pub(crate) stack_guard: Cell<usize>,
    /// The exit reason and a large spawn argument's copy, boxed together: most processes
    /// have neither (they end `normal`, with a small argument), and one pointer keeps the
    /// PCB at 320 bytes, a size class of its own in mimalloc (336 took 384).
    extras: UnsafeCell<Option<Box<Extras>>>,
    /// Links, monitors, exit waiters (see [`SigState`]). A `crate::sync` mutex: the loom
    /// model of link requests (`signal::Requestee`) locks it.
    pub(crate) sig: crate::sync::Mutex<SigState>,
    // ---- read or written by other threads (senders, timers) ----
    /// About where the stack pointer was when the process last suspended in a receive (0
    /// before that): whoever wakes it prefetches the stack lines around it
    /// ([`Pcb::prefetch_for_resume`]). Written by the process, read by wakers (Relaxed: only
    /// a hint, never dereferenced). It sits 24 bytes before the state word, so it is on the
    /// line the waker's state RMW has just fetched unless the PCB (16-byte aligned) puts
    /// the two astride a line boundary.
    pub(crate) park_sp: std::sync::atomic::AtomicUsize,
    /// A sender swaps its tail, then RMWs `state`: the two share a 16-byte block.
    pub(crate) outer: OuterQueue,
    pub(crate) state: StateWord,
    /// Messages appended to the mailbox (senders add 1 after their push: the line is already
    /// theirs). Mailbox length = `msgs_in - msgs_out` (see `process::queued`).
    pub(crate) msgs_in: AtomicU32,
    /// Where the process this one last sent a message to had last suspended in a receive
    /// (its `park_sp` then; 0 before the first send to a process). Whoever wakes this
    /// process prefetches the stack lines there too ([`Pcb::prefetch_for_resume`]): a
    /// process that sent to P is likely to send to P again (a ring, a pipeline, a client
    /// and its server), so P's stack is on its way one message earlier. Written by the
    /// process when it changes, read by wakers (Relaxed: only a hint, never dereferenced).
    pub(crate) next_park: std::sync::atomic::AtomicUsize,
    /// Signals pushed to the mailbox and handled (`is_alive` and `process_info` wait for
    /// the handled count to pass the sent count they read, so they are ordered after the
    /// caller's earlier signals, BEAM case 23).
    pub(crate) sigs: crate::signal::counts::SignalCounts,
    pub(crate) pid: Pid,
    /// Incremented for every armed receive timeout; a timer firing with an older value is
    /// stale and ignored.
    pub(crate) timer_seq: AtomicU32,
    /// The `timer_seq` of the last timeout that fired.
    pub(crate) timeout_fired: AtomicU32,
    // ---- cold tail (≥ 64 bytes) ----
    /// The process's [`Priority`] as its numeric value (Relaxed: a change takes effect the
    /// next time the process is queued).
    pub(crate) priority: std::sync::atomic::AtomicU8,
    /// Where the process's exit has got to (`process/lifecycle.rs`): EXITING once it
    /// decided to exit (owner-only news), PUBLIC once its terminate callback ran and its
    /// name was released (from then on it counts as dead for `is_alive`, and a link or
    /// monitor to it gets `noproc`), CLOSED once the exit path took the links and monitors
    /// under `sig`'s lock (the exit reason is then final, a new waiter reads it instead of
    /// waiting, and a link or monitor request is answered with `noproc`). Not the state
    /// word's EXITED, which is set at the start of the exit path.
    pub(crate) life: super::lifecycle::Lifecycle,
    /// log2 of the usable bytes of the stack this process gets when it first runs (stack
    /// sizes are powers of two; see [`Pcb::stack_usable`]).
    pub(crate) stack_shift: Cell<u8>,
    /// Every signal ticket below this one has been handled (owner-only; see
    /// `signal::SignalCounts`).
    pub(crate) sig_seen: Cell<u32>,
    pub(crate) entry: UnsafeCell<Entry>,
    /// The spawn argument's copy when it fits (≤ `INLINE_ARG_BYTES`), 16-byte aligned.
    pub(crate) inline_arg: UnsafeCell<[u128; INLINE_ARG_BYTES / 16]>,
}

/// `Pcb::own`: a match predicate of the process's own selective receive runs: calls that
/// walk or take from the mailbox are then refused (see `process::outside_match`).
pub(crate) const OWN_MATCHING: u8 = 1;
/// `Pcb::own`: `LinkData::early` may hold tickets.
pub(crate) const OWN_EARLY: u8 = 2;
/// `Pcb::own`: the process runs runtime code, not its own (see `sched::held`); set while
/// it is not running.
pub(crate) const OWN_IN_RT: u8 = 4;
/// `Pcb::own`: hibernated; when it starts again, it waits for a message before its entry
/// runs (`process/hibernate.rs`).
pub(crate) const OWN_HIBERNATED: u8 = 8;

static NORMAL: ExitReason = ExitReason::Normal;

/// Prefetches the stack lines around `sp`, a recorded suspend point (nothing when 0). Only a
/// hint: the address may belong to a process that has exited since; a prefetch never faults.
#[inline(always)]
fn prefetch_stack_around(sp: usize) {
    if sp > PARK_BELOW {
        let mut a = (sp & !63) - PARK_BELOW;
        while a < sp + PARK_ABOVE {
            crate::sync::prefetch(a);
            a += 64;
        }
    }
}

/// Bytes below a process's recorded suspend point that a wake prefetches.
const PARK_BELOW: usize = 128;
/// Bytes above it.
const PARK_ABOVE: usize = 128;

impl Pcb {
    /// Is `flag` (an `OWN_*` bit) set? (Owner only, except `OWN_IN_RT` for the monitor.)
    #[inline(always)]
    pub(crate) fn own_flag(&self, flag: u8) -> bool {
        self.own.load(std::sync::atomic::Ordering::Relaxed) & flag != 0
    }

    /// Sets or clears `flag` (an `OWN_*` bit). Only the process and the worker running it
    /// call this, so a load and a store suffice.
    #[inline(always)]
    pub(crate) fn set_own_flag(&self, flag: u8, on: bool) {
        let v = self.own.load(std::sync::atomic::Ordering::Relaxed);
        let v = if on { v | flag } else { v & !flag };
        self.own.store(v, std::sync::atomic::Ordering::Release);
    }

    /// A match predicate of the process's own receive is running.
    #[inline(always)]
    pub(crate) fn matching(&self) -> bool {
        self.own_flag(OWN_MATCHING)
    }

    #[inline(always)]
    pub(crate) fn set_matching(&self, on: bool) {
        self.set_own_flag(OWN_MATCHING, on)
    }

    /// `LinkData::early` may hold tickets.
    #[inline(always)]
    pub(crate) fn early(&self) -> bool {
        self.own_flag(OWN_EARLY)
    }

    #[inline(always)]
    pub(crate) fn set_early(&self, on: bool) {
        self.set_own_flag(OWN_EARLY, on)
    }

    /// The `signal_pending` word of the process's context, as an atomic (other threads set
    /// it; the process clears it).
    pub(crate) fn signal_flag(&self) -> &std::sync::atomic::AtomicU32 {
        let field = (self.ctx.get() as *mut u8)
            .wrapping_add(std::mem::offset_of!(HiveCtx, signal_pending))
            .cast::<u32>();
        // SAFETY: an aligned u32 in the PCB, which outlives the reference; every access to
        // it goes through this atomic view (generated code only reads it, per the ABI).
        unsafe { std::sync::atomic::AtomicU32::from_ptr(field) }
    }

    /// The process's current priority.
    pub(crate) fn priority(&self) -> Priority {
        Priority::from_raw(
            self.priority
                .load(std::sync::atomic::Ordering::Relaxed)
                .into(),
        )
        .unwrap_or_default()
    }

    /// Usable bytes of the process's stack (a power of two).
    pub(crate) fn stack_usable(&self) -> usize {
        1 << self.stack_shift.get()
    }

    /// Prefetches what resuming the process touches first, into the calling core's cache:
    /// its PCB's owner lines and the stack lines around where it suspended; and the stack
    /// lines of the process it last sent to ([`Pcb::next_park`]), which it is likely to wake
    /// next. Called by the thread that just scheduled it (a wake puts the process on the
    /// waker's own worker), so the loads overlap with the rest of the waker's slice instead
    /// of stalling the resume one after another.
    ///
    /// The woken process's own lines arrive in time only when the waker's slice is long
    /// enough; the successor's stack lines, asked for one hop earlier, cover a short slice.
    /// The successor's PCB lines are not prefetched. This matters once the processes' state
    /// no longer fits in the cache (a ring of 10,000); with few processes, or where the hint
    /// is wrong (random peers), it is a few wasted loads. Measurements: `docs/benchmarks.md`,
    /// "Measurements behind code comments (2026-12-03)".
    #[inline(always)]
    pub(crate) fn prefetch_for_resume(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        let pcb = self as *const Pcb as usize;
        // The lines of `ctx` … `stack_guard`: the resume and the first ABI call read them.
        for line in 0..3 {
            crate::sync::prefetch(pcb + line * 64);
        }
        // The coroutine's saved registers lie below the recorded pointer, the frames that
        // return first just above it. No wider window: the extra lines would only compete
        // with the waker's own misses.
        prefetch_stack_around(self.park_sp.load(Relaxed));
        prefetch_stack_around(self.next_park.load(Relaxed));
    }

    /// Records that the process (the caller) just sent a message to `to`, for
    /// [`Pcb::prefetch_for_resume`]. Writes only when the hint changes, so a process that
    /// keeps sending to the same peer does not keep dirtying the line its senders write.
    #[inline(always)]
    pub(crate) fn note_sent_to(&self, to: &Pcb) {
        use std::sync::atomic::Ordering::Relaxed;
        let sp = to.park_sp.load(Relaxed);
        if self.next_park.load(Relaxed) != sp {
            self.next_park.store(sp, Relaxed);
        }
    }

    /// Suspends the calling process.
    ///
    /// # Safety
    /// `self` is the calling process (so its yielder is the one on this stack).
    pub(crate) unsafe fn suspend(&self, why: Suspend) {
        if why == Suspend::Receive {
            // For whoever wakes it (see `Pcb::prefetch_for_resume`).
            self.park_sp.store(
                crate::stack::approx_sp(),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        // SAFETY: `yielder` was set by `process_main` on this process's stack and stays
        // valid while the coroutine lives.
        unsafe { (*self.yielder.get()).suspend(why) }
    }

    /// True once the process counts as exiting (dead) for everybody.
    pub(crate) fn is_exiting(&self) -> bool {
        self.life.is_exiting()
    }

    /// Records the exit reason.
    ///
    /// # Safety
    /// Called by the process itself, or by the thread that exits it after it stopped
    /// running, before the state word says EXITED.
    pub(crate) unsafe fn set_exit(&self, reason: ExitReason) {
        // SAFETY: the caller is the process itself or the thread exiting it after it stopped
        // running, before the state word says EXITED: no other thread reads or writes `extras`
        // now, so this is the only reference.
        let extras = unsafe { &mut *self.extras.get() };
        if reason.is_normal() {
            if let Some(x) = extras {
                x.exit = None;
            }
        } else {
            extras.get_or_insert_with(Default::default).exit = Some(reason);
        }
    }

    /// The exit reason (`normal` unless set).
    ///
    /// # Safety
    /// Either the caller may write the field (see `set_exit`), or the state word says
    /// EXITED (read with Acquire), after which the field never changes.
    pub(crate) unsafe fn exit_reason(&self) -> &ExitReason {
        // SAFETY: shared read of `extras`: either the caller is the only writer (see `set_exit`)
        // or the state word says EXITED, after which nobody writes the field.
        unsafe { (*self.extras.get()).as_ref() }
            .and_then(|x| x.exit.as_ref())
            .unwrap_or(&NORMAL)
    }

    /// Records the socket queue the calling process waits in (None: it left it).
    ///
    /// # Safety
    /// As [`Pcb::set_exit`]: the process itself, or its exit path.
    pub(crate) unsafe fn set_io_wait(&self, w: Option<(u64, u8)>) {
        // SAFETY: the caller is the only one touching `extras` now (the contract).
        let extras = unsafe { &mut *self.extras.get() };
        match (extras, w) {
            (Some(x), w) => x.io_wait = w,
            (e @ None, Some(w)) => {
                *e = Some(Box::new(Extras {
                    io_wait: Some(w),
                    ..Default::default()
                }))
            }
            (None, None) => {}
        }
    }

    /// The socket queue the process waits in, if any.
    ///
    /// # Safety
    /// As [`Pcb::set_exit`].
    pub(crate) unsafe fn io_wait(&self) -> Option<(u64, u8)> {
        // SAFETY: the caller is the only one touching `extras` now (the contract).
        unsafe { (*self.extras.get()).as_ref() }.and_then(|x| x.io_wait)
    }

    /// Records `errno` as the calling process's last socket error.
    ///
    /// # Safety
    /// As [`Pcb::set_exit`].
    pub(crate) unsafe fn set_last_errno(&self, errno: i32) {
        // SAFETY: the caller is the only one touching `extras` now (the contract).
        let extras = unsafe { &mut *self.extras.get() };
        if errno == 0 && extras.is_none() {
            return;
        }
        extras.get_or_insert_with(Default::default).last_errno = errno;
    }

    /// The calling process's last socket error number (0: none).
    ///
    /// # Safety
    /// As [`Pcb::set_exit`].
    pub(crate) unsafe fn last_errno(&self) -> i32 {
        // SAFETY: the caller is the only one touching `extras` now (the contract).
        unsafe { (*self.extras.get()).as_ref() }.map_or(0, |x| x.last_errno)
    }

    /// Records the entry `entry` (with `arg`, the heap copy of its argument) the calling
    /// process starts again at once it hibernated, and marks it hibernated.
    ///
    /// # Safety
    /// Called by the process itself (the owner of `extras` while it runs).
    pub(crate) unsafe fn set_hibernation(&self, entry: Entry, arg: Option<Box<[u128]>>) {
        // SAFETY: the caller is the running process, the only one touching `extras` now.
        let extras = unsafe { &mut *self.extras.get() };
        extras.get_or_insert_with(Default::default).hibernation = Some((entry, arg));
        self.set_own_flag(OWN_HIBERNATED, true);
    }

    /// Installs the entry recorded by [`Pcb::set_hibernation`], if any, in place of the
    /// old one (whose stack is gone), with its argument copy.
    ///
    /// # Safety
    /// Called by the worker that ran the process, after it suspended with
    /// `Suspend::Hibernate` or `Suspend::Restart` and before it runs again.
    pub(crate) unsafe fn install_hibernation(&self) {
        // The old stack is gone: no suspend point to prefetch for whoever wakes it.
        self.park_sp.store(0, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the process is suspended and owned by the calling worker (the contract):
        // nobody else touches `extras` or `entry`.
        let extras = unsafe { &mut *self.extras.get() };
        if let Some((entry, arg)) = extras.as_mut().and_then(|x| x.hibernation.take()) {
            // SAFETY: as above; the old entry (a Rust closure that will not run again, or a
            // C entry already taken) is dropped here.
            unsafe { *self.entry.get() = entry };
            if let Some(x) = extras {
                x.hibernation_arg = arg;
            }
        }
    }

    /// Keeps `arg`, the heap copy of a large spawn argument, until the process exits.
    ///
    /// # Safety
    /// Before the PCB is published, or by its exit path (no concurrent access).
    pub(crate) unsafe fn set_heap_arg(&self, arg: Option<Box<[u128]>>) {
        // SAFETY: the caller guarantees the PCB is not yet published or this is its exit path,
        // so no other thread touches `extras` and this is the only reference.
        let extras = unsafe { &mut *self.extras.get() };
        match (extras, arg) {
            (Some(x), a) => x.heap_arg = a,
            (e @ None, Some(a)) => {
                *e = Some(Box::new(Extras {
                    heap_arg: Some(a),
                    ..Default::default()
                }))
            }
            (None, None) => {}
        }
    }

    pub(crate) fn new(priority: Priority, entry: Entry, rt: *const ()) -> Box<Pcb> {
        let mut pcb = Box::new(Pcb {
            ctx: UnsafeCell::new(HiveCtx {
                reductions: crate::REDUCTIONS_PER_SLICE,
                signal_pending: 0,
            }),
            pid: Pid::NONE,
            state: StateWord::new(),
            msgs_in: AtomicU32::new(0),
            priority: std::sync::atomic::AtomicU8::new(priority as u8),
            outer: OuterQueue::new(),
            inner: UnsafeCell::new(InnerQueue::new()),
            timer_seq: AtomicU32::new(0),
            timeout_fired: AtomicU32::new(0),
            park_sp: std::sync::atomic::AtomicUsize::new(0),
            next_park: std::sync::atomic::AtomicUsize::new(0),
            timer: Cell::new(None),
            own: crate::sync::AtomicU8::new(OWN_IN_RT),
            revoked: crate::sync::AtomicU8::new(0),
            named: std::sync::atomic::AtomicBool::new(false),
            trap_exit: std::sync::atomic::AtomicBool::new(false),
            life: super::lifecycle::Lifecycle::new(),
            sigs: crate::signal::counts::SignalCounts::new(),
            sig_seen: Cell::new(0),
            msgs_out: AtomicU32::new(0),
            reductions: std::sync::atomic::AtomicU64::new(0),
            coroutine: UnsafeCell::new(None),
            stack_guard: Cell::new(0),
            trap: Cell::new(None),
            yielder: Cell::new(std::ptr::null()),
            entry: UnsafeCell::new(entry),
            inline_arg: UnsafeCell::new([0; INLINE_ARG_BYTES / 16]),
            stack_shift: Cell::new(0),
            extras: UnsafeCell::new(None),
            sig: crate::sync::Mutex::new(SigState::default()),
            rt,
        });
        let p = &mut *pcb;
        p.outer.init();
        p.inner.get_mut().init(&p.outer);
        pcb
    }
}

impl Drop for Pcb {
    fn drop(&mut self) {
        // Messages a sender appended after the exit path drained the mailbox (it found the
        // PCB just before the exit). The PCB is freed only after every such sender finished
        // (epoch), so everything is linked now.
        let p = &mut *self;
        // SAFETY: `&mut self`: we are the only user; the inner queue was initialised with
        // this outer queue in `Pcb::new`.
        unsafe { p.inner.get_mut().drain_outer(&p.outer) };
        p.inner.get_mut().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, Pcb};
    use crate::config::Priority;
    use std::mem::offset_of;
    use std::sync::atomic::Ordering::Relaxed;

    #[test]
    fn a_send_records_where_the_receiver_parked_for_the_senders_next_wake() {
        let a = Pcb::new(Priority::Normal, Entry::Taken, std::ptr::null());
        let b = Pcb::new(Priority::Normal, Entry::Taken, std::ptr::null());
        assert_eq!(
            a.next_park.load(Relaxed),
            0,
            "no hint before the first send"
        );
        b.park_sp.store(0x7000_1234, Relaxed);
        a.note_sent_to(&b);
        assert_eq!(a.next_park.load(Relaxed), 0x7000_1234);
        // The receiver parked elsewhere since: the next send moves the hint.
        b.park_sp.store(0x7000_5678, Relaxed);
        a.note_sent_to(&b);
        assert_eq!(a.next_park.load(Relaxed), 0x7000_5678);
        assert_eq!(
            b.next_park.load(Relaxed),
            0,
            "the receiver's own hint is untouched"
        );
        // Stale hints (a stack unmapped since) cost nothing: prefetches never fault.
        let len = 4 * 4096;
        // SAFETY: a fresh private anonymous mapping, unmapped right away; only its
        // (now unmapped) addresses are used below, never dereferenced.
        let gone = unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(p, libc::MAP_FAILED);
            assert_eq!(libc::munmap(p, len), 0);
            p as usize
        };
        a.park_sp.store(gone + 4096 + 100, Relaxed);
        a.next_park.store(gone + 3 * 4096, Relaxed);
        a.prefetch_for_resume();
    }

    #[test]
    fn sender_written_fields_are_a_cache_line_away_from_owner_fields() {
        let hot_owner_end = offset_of!(Pcb, reductions) + 8;
        let shared_start = offset_of!(Pcb, outer);
        let shared_end = offset_of!(Pcb, timeout_fired) + 4;
        assert!(
            shared_start - hot_owner_end >= 64,
            "{hot_owner_end}..{shared_start}"
        );
        assert!(std::mem::size_of::<Pcb>() - shared_end >= 64);
        // A sender swaps the mailbox tail, then RMWs the state word: keep both in one
        // 16-byte block (PCBs are 16-byte aligned), so they never straddle a cache line.
        let tail = offset_of!(Pcb, outer) + crate::mailbox::OUTER_TAIL_OFFSET;
        let state = offset_of!(Pcb, state);
        assert_eq!(tail / 16, state / 16, "tail at {tail}, state at {state}");
        // A waker reads `park_sp` right after its RMW of the state word: next to it.
        assert!(state - offset_of!(Pcb, park_sp) <= 24);
        // And `next_park`: just after the state word.
        assert!(offset_of!(Pcb, next_park) - state <= 8);
        assert!(
            std::mem::size_of::<Pcb>() <= 320,
            "PCB grew: {}",
            std::mem::size_of::<Pcb>()
        );
    }
}
