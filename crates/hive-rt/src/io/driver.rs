//! The event poller: one `mio::Poll` per runtime, taken by whichever worker is about to
//! sleep (`sched/poll.rs`), and the table of socket slots its events name.
//!
//! - Every socket is registered once, edge-triggered, for both directions, with its handle
//!   as the token ([`slot::handle`]); an event whose generation is not the slot's is
//!   dropped (the socket was closed meanwhile).
//! - Two more tokens: [`WAKE`], the waker another thread uses to interrupt the worker
//!   blocked in the poll (`sched::park`), and [`TIMER`], a `timerfd` on which that worker
//!   arms its own timer wheel's next deadline (the poll's own timeout has millisecond
//!   precision; the wheel ticks at 32 µs).
//! - Slots are allocated in chunks that live as long as the driver (a stale handle reads
//!   valid memory and finds another generation); freed slots are reused.
//!
//! The poller's lock is only ever *tried* (a worker that cannot take it parks on its
//! thread parker instead), so it is never waited for.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use parking_lot::{Mutex, MutexGuard};

use super::slot::{self, Handle, Kind, Slot, HUP, READABLE, WRITABLE};
use crate::pid::Pid;
use crate::status::Status;

/// The waker's token.
pub(crate) const WAKE: Token = Token(0);
/// The timerfd's token (no handle has an all-ones index).
pub(crate) const TIMER: Token = Token(usize::MAX);

/// Slots per chunk.
const CHUNK: usize = 1024;
/// Chunks at most: 1M sockets per runtime.
const MAX_CHUNKS: usize = 1024;
/// Events taken per poll.
const EVENTS: usize = 256;

/// What a poll found: a process to wake, or an active socket with data to deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ready {
    Wake(Pid),
    Active(Handle),
}

/// The poll and what only its holder touches.
pub(crate) struct Poller {
    poll: Poll,
    events: Events,
    /// Whether the timerfd is armed.
    timer_armed: bool,
    /// How long the last idle worker's spell in the poller lasted, ns (`sched/poll.rs`
    /// decides from it whether to busy-wait).
    pub(crate) last_spell_ns: u64,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").finish_non_exhaustive()
    }
}

/// A runtime's event poller and socket table (see the module docs).
#[derive(Debug)]
pub(crate) struct Driver {
    poller: Mutex<Poller>,
    registry: Registry,
    waker: Arc<Waker>,
    timerfd: OwnedFd,
    chunks: Box<[OnceLock<Box<[Slot]>>]>,
    /// Slot indexes free for reuse.
    free: Mutex<Vec<usize>>,
    /// Slots handed out so far (the next new index).
    high: AtomicUsize,
    /// Sockets open now: with none, no worker polls (idle or busy).
    pub(crate) open: AtomicUsize,
    /// When a worker last polled (`RtInner::now_ns`).
    pub(crate) last_poll_ns: AtomicU64,
    /// Where this driver's slots start their generations: different for each runtime, so
    /// a handle of one runtime's socket used with another runtime (the Rust API may run
    /// several) names no socket there, bar a 2^-32 chance.
    gen_seed: u32,
}

impl Driver {
    /// A poller with its waker and timerfd. Fails with `ErrSystemLimit` when the process
    /// is out of descriptors.
    pub(crate) fn new() -> Result<Driver, Status> {
        let poll = Poll::new().map_err(|_| Status::ErrSystemLimit)?;
        let registry = poll
            .registry()
            .try_clone()
            .map_err(|_| Status::ErrSystemLimit)?;
        let waker =
            Arc::new(Waker::new(poll.registry(), WAKE).map_err(|_| Status::ErrSystemLimit)?);
        // SAFETY: timerfd_create has no memory preconditions; the result is checked.
        let tfd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if tfd < 0 {
            return Err(Status::ErrSystemLimit);
        }
        // SAFETY: `tfd` is a descriptor we just created and own.
        let timerfd = unsafe { OwnedFd::from_raw_fd(tfd) };
        registry
            .register(&mut SourceFd(&tfd), TIMER, Interest::READABLE)
            .map_err(|_| Status::ErrSystemLimit)?;
        Ok(Driver {
            poller: Mutex::new(Poller {
                poll,
                events: Events::with_capacity(EVENTS),
                timer_armed: false,
                last_spell_ns: 0,
            }),
            registry,
            waker,
            timerfd,
            chunks: (0..MAX_CHUNKS).map(|_| OnceLock::new()).collect(),
            free: Mutex::new(Vec::new()),
            high: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            last_poll_ns: AtomicU64::new(0),
            gen_seed: {
                // Runtimes of one OS process get seeds far apart (the golden-ratio step);
                // the clock varies them between OS processes.
                static DRIVERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = DRIVERS.fetch_add(1, Relaxed).wrapping_add(1);
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                (n.wrapping_mul(0x9E37_79B9) ^ (t & 0xffff)) | 1
            },
        })
    }

    /// The waker that interrupts a poll in progress (for the workers' unparkers).
    pub(crate) fn waker(&self) -> Arc<Waker> {
        self.waker.clone()
    }

    /// Slot `index`, if allocated.
    pub(crate) fn slot(&self, index: usize) -> Option<&Slot> {
        self.chunks
            .get(index / CHUNK)?
            .get()
            .map(|c| &c[index % CHUNK])
    }

    /// The slot and generation `h` names (the socket may be closed: the generation tells).
    pub(crate) fn lookup(&self, h: Handle) -> Option<(&Slot, u32)> {
        let (index, gen) = slot::split(h)?;
        Some((self.slot(index)?, gen))
    }

    /// Takes a reference on the open socket `h` (see `slot.rs`); `ErrClosed` when `h`
    /// names no open socket. Dropping the [`SocketRef`] releases it.
    pub(crate) fn acquire(&self, h: Handle) -> Result<SocketRef<'_>, Status> {
        let (slot, gen) = self.lookup(h).ok_or(Status::ErrClosed)?;
        if !slot.acquire(gen) {
            return Err(Status::ErrClosed);
        }
        Ok(SocketRef {
            driver: self,
            slot,
            index: (h & 0xffff_ffff) as usize - 1,
        })
    }

    /// Registers descriptor `fd` (non-blocking, owned by the caller until this returns Ok,
    /// then by the driver) as a socket of `kind` owned by `owner`. On error the caller
    /// still owns `fd`.
    pub(crate) fn open(
        &self,
        fd: OwnedFd,
        kind: Kind,
        owner: Pid,
    ) -> Result<Handle, (Status, OwnedFd)> {
        let index = match self.free.lock().pop() {
            Some(i) => i,
            None => {
                let i = self.high.fetch_add(1, Relaxed);
                if i >= CHUNK * MAX_CHUNKS {
                    self.high.fetch_sub(1, Relaxed);
                    return Err((Status::ErrSystemLimit, fd));
                }
                let seed = self.gen_seed;
                self.chunks[i / CHUNK].get_or_init(|| {
                    (0..CHUNK)
                        .map(|j| Slot::new(seed.wrapping_add((j as u32).wrapping_mul(0x9E37_79B9))))
                        .collect()
                });
                i
            }
        };
        let slot = self.slot(index).expect("allocated above");
        let gen = slot.generation();
        let h = slot::handle(index, gen);
        let raw = fd.as_raw_fd();
        if let Err(e) = self.registry.register(
            &mut SourceFd(&raw),
            Token(h as usize),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.free.lock().push(index);
            let s = if e.raw_os_error() == Some(libc::ENOMEM) {
                Status::ErrNoMemory
            } else {
                Status::ErrSystemLimit
            };
            return Err((s, fd));
        }
        self.open.fetch_add(1, SeqCst);
        let fd = std::mem::ManuallyDrop::new(fd);
        slot.open(fd.as_raw_fd(), kind, owner);
        Ok(h)
    }

    /// Closes socket `h`: no new use can start, the poller forgets it, and the descriptor
    /// is closed once the uses in progress end. Returns the pids that were waiting on it
    /// (the caller wakes them; they find it closed). `ErrClosed` when already closed.
    pub(crate) fn close(&self, h: Handle) -> Result<Vec<Pid>, Status> {
        let (index, gen) = slot::split(h).ok_or(Status::ErrClosed)?;
        let slot = self.slot(index).ok_or(Status::ErrClosed)?;
        if !slot.begin_close(gen) {
            return Err(Status::ErrClosed);
        }
        // Deregister before the descriptor can be closed: a duplicated descriptor would
        // keep the registration alive.
        let fd = slot.fd();
        let _ = self.registry.deregister(&mut SourceFd(&fd));
        let waiters = slot.all_waiters();
        self.release(index);
        Ok(waiters)
    }

    /// Drops a reference on slot `index`; the last one of a closing socket closes it.
    fn release(&self, index: usize) {
        let slot = self.slot(index).expect("a referenced slot exists");
        if slot.release() {
            let (fd, _left) = slot.take_fd();
            // Uncounted before the descriptor closes: whoever sees the close (the peer)
            // finds the count down already (it is deregistered since `close`).
            self.open.fetch_sub(1, SeqCst);
            // SAFETY: the descriptor was the socket's and nothing uses it any more (its
            // last reference is gone and new ones are refused).
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            self.free.lock().push(index);
        }
    }

    /// The poller, unless another worker holds it.
    pub(crate) fn try_poller(&self) -> Option<MutexGuard<'_, Poller>> {
        self.poller.try_lock()
    }

    /// Waits for events on `poller` (held by the caller) for at most `timeout` (None:
    /// until an event or a wake), then hands each process to wake and each active socket
    /// with something to read to `found`. A timeout below a millisecond is kept precisely
    /// by the timerfd.
    pub(crate) fn poll(
        &self,
        poller: &mut Poller,
        timeout: Option<Duration>,
        mut found: impl FnMut(Ready),
    ) {
        let wait = match timeout {
            Some(d) if d.is_zero() => Some(Duration::ZERO),
            Some(d) => {
                self.arm_timer(poller, Some(d));
                None
            }
            None => {
                if poller.timer_armed {
                    self.arm_timer(poller, None);
                }
                None
            }
        };
        let Poller { poll, events, .. } = poller;
        if poll.poll(events, wait).is_err() {
            events.clear(); // EINTR: nothing to dispatch; the caller loops
        }
        for e in events.iter() {
            match e.token() {
                WAKE => {}
                TIMER => {
                    let mut buf = [0u8; 8];
                    // SAFETY: reads at most 8 bytes into a local buffer of 8.
                    let _ =
                        unsafe { libc::read(self.timerfd.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
                }
                Token(t) => {
                    let Some((slot, gen)) = self.lookup(t as Handle) else {
                        continue;
                    };
                    if slot.generation() != gen {
                        continue; // closed since: the event is stale
                    }
                    let mut bits = 0;
                    if e.is_readable() || e.is_read_closed() {
                        bits |= READABLE;
                    }
                    if e.is_writable() || e.is_write_closed() {
                        bits |= WRITABLE;
                    }
                    if e.is_error() || e.is_read_closed() && e.is_write_closed() {
                        bits |= HUP;
                    }
                    let [reader, writer] = slot.on_ready(bits);
                    if slot.is_active() && bits & (READABLE | HUP) != 0 {
                        found(Ready::Active(t as Handle));
                    } else if let Some(p) = reader {
                        found(Ready::Wake(p));
                    }
                    if let Some(p) = writer {
                        found(Ready::Wake(p));
                    }
                }
            }
        }
    }

    /// Arms the timerfd `d` from now (None: disarms it).
    fn arm_timer(&self, poller: &mut Poller, d: Option<Duration>) {
        let d = d.map(|d| d.max(Duration::from_nanos(1)));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: d.map_or(0, |d| d.as_secs() as libc::time_t),
                tv_nsec: d.map_or(0, |d| d.subsec_nanos() as libc::c_long),
            },
        };
        // SAFETY: `spec` is a valid itimerspec; the old value is not asked for.
        unsafe {
            libc::timerfd_settime(self.timerfd.as_raw_fd(), 0, &spec, std::ptr::null_mut());
        }
        poller.timer_armed = d.is_some();
    }
}

impl Drop for Driver {
    /// Closes any socket still open (the runtime's exit paths closed their owners' ones).
    fn drop(&mut self) {
        let high = self.high.load(Relaxed).min(CHUNK * MAX_CHUNKS);
        for i in 0..high {
            if let Some(s) = self.slot(i) {
                let fd = s.fd();
                if fd >= 0 {
                    // SAFETY: an open slot owns its descriptor; nothing uses it any more
                    // (the runtime is gone).
                    unsafe { libc::close(fd) };
                }
            }
        }
    }
}

/// A reference on an open socket (see `slot.rs`): its descriptor stays open while held.
#[derive(Debug)]
pub(crate) struct SocketRef<'a> {
    driver: &'a Driver,
    pub(crate) slot: &'a Slot,
    index: usize,
}

impl SocketRef<'_> {
    /// The descriptor.
    pub(crate) fn fd(&self) -> i32 {
        self.slot.fd()
    }
}

impl Drop for SocketRef<'_> {
    fn drop(&mut self) {
        self.driver.release(self.index);
    }
}
