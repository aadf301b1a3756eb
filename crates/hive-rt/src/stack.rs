//! Process stacks: fixed-size slots carved from large, lazily committed arenas.
//!
//! One `mmap` per process stack cannot reach a million processes: each mapping (and each
//! `mprotect`ed guard) is a VMA, and `vm.max_map_count` is 65530 by default. So stacks come
//! from **chunks** of 1 GiB reserved with `MAP_NORESERVE` (one VMA each) and cut into
//! slots of `guard + usable size`. Only pages a process touches become resident; a
//! process blocked in `receive` right after starting touches one page of its stack.
//!
//! ```text
//!  chunk:  | guard | usable ...... | guard | usable ...... | ...
//!          ^ slot 0 limit          ^ slot 1 limit
//!                               ^ slot 0 base (top; the stack grows down towards its guard)
//! ```
//!
//! **Guards.** The lowest pages of each slot are a guard (`Config::guard_size`, one page by
//! default), so an overflow faults instead of writing into the slot below. Where the kernel
//! has `MADV_GUARD_INSTALL` (Linux ≥ 6.13) the guard is a page-table marker that costs no
//! VMA; this is probed once per pool. Elsewhere the guard is `mprotect(PROT_NONE)`, which
//! splits the chunk into VMAs and so limits the number of stacks to about half of
//! `vm.max_map_count`; a spawn past that fails with `HIVE_ERR_NO_MEMORY` rather than
//! running unguarded. Either way a guard costs no memory and no more VMAs the larger it is,
//! only address space. What happens on overflow is described in `docs/design.md` ("Stack
//! overflow"): the faulting access raises `SIGSEGV`.
//!
//! **Recycling.** Freed slots go to a LIFO free list (hot pages first) and keep their
//! resident pages; the scheduler keeps a small per-worker cache in front of the pool.
//!
//! **Decay.** A burst of processes leaves as many freed slots behind, each with the pages
//! its process touched: 100,000 short-lived connections would keep hundreds of MiB
//! resident for good. So slots that stay unused give their pages back
//! ([`StackPool::decay`]): a worker about to sleep, and a busy one every 64 ticks, looks
//! at each pool if the last look is [`DECAY_NS`] old, and a sleeping worker sleeps no
//! longer than until the next look while free slots wait; at a look, the
//! slots below the free list's low-water mark since the last look (none of them was taken
//! meanwhile), except the [`KEEP_HOT`] on top, are `madvise(MADV_DONTNEED)`ed, in address
//! order and merged into ranges (guards included: a `MADV_GUARD_INSTALL` guard survives it,
//! an `mprotect` guard has no pages). A slot being decommitted is out of the list, so no
//! process can take it meanwhile; taken later, it faults in zeroed pages. A pool in steady
//! use never decays (its low-water mark stays near the top); after a burst it takes one or
//! two looks, and an idle runtime then wakes for it no more.

use parking_lot::Mutex;
use std::io;

use corosensei::stack::{Stack, StackPointer};

const PAGE: usize = 4096;
/// How often a worker looks for free slots to decay, ns ([`StackPool::decay`]).
pub(crate) const DECAY_NS: u64 = 1_000_000_000;
/// Free slots on top of each pool's list that keep their pages (the next spawns' stacks).
const KEEP_HOT: usize = 256;
/// Bytes reserved per chunk (rounded down to whole slots).
const CHUNK_BYTES: usize = 1 << 30;
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// How slot guards are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GuardMode {
    /// `madvise(MADV_GUARD_INSTALL)`: no VMA per guard.
    GuardInstall,
    /// `mprotect(PROT_NONE)`: one extra VMA per guard.
    Mprotect,
}

/// A stack slot handed to a coroutine. It does not free itself: the owner returns it to
/// its pool with [`StackPool::free`] (a dropped slot is leaked, never reused unsafely).
///
/// One word: the slot's lowest address (page-aligned) with, in the 12 low bits, log2 of its
/// usable size (bits 0–4) and its guard's pages minus one (bits 5–11), so a coroutine (which
/// embeds its stack) and hence the PCB stay 8 bytes smaller.
#[derive(Debug)]
pub(crate) struct ArenaStack(usize);

/// The low bits of an [`ArenaStack`] word (below the page-aligned address).
const LOW_MASK: usize = PAGE - 1;
/// The bits of an [`ArenaStack`] word that hold log2 of the usable size.
const SHIFT_MASK: usize = 0x1f;
/// Where an [`ArenaStack`] word keeps its guard pages minus one (7 bits: 1 to 128 pages).
const GUARD_SHIFT: u32 = 5;
/// Largest guard, in bytes, an [`ArenaStack`] word can describe (128 pages, 512 KiB).
pub(crate) const MAX_GUARD: usize = (LOW_MASK >> GUARD_SHIFT) * PAGE + PAGE;
/// Size of a page, in bytes: guard sizes are multiples of it.
pub(crate) const GUARD_UNIT: usize = PAGE;

// SAFETY: `ArenaStack` names a slot of memory owned exclusively by this handle (the pool
// hands each slot to one owner at a time); moving it between threads moves that ownership.
unsafe impl Send for ArenaStack {}

// SAFETY: (1) the lowest pages of every slot are a guard that faults on access, made by
// `StackPool::carve` with MADV_GUARD_INSTALL or mprotect(PROT_NONE) before the slot is handed
// out, and `limit()` includes it; (2) the usable part is at least `config::MIN_STACK_SIZE`
// (16 KiB) ≥ corosensei's `MIN_STACK_SIZE` (4 KiB); (3) `base` and `limit` are page-aligned,
// hence aligned to `STACK_ALIGNMENT`; (4) the memory stays mapped as long as the pool lives,
// and the pool outlives every process.
unsafe impl Stack for ArenaStack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.top()).expect("stack base is non-null")
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.limit_addr()).expect("stack limit is non-null")
    }
}

impl ArenaStack {
    /// The slot at `limit` (page-aligned) with `usable` bytes (a power of two below 2^32)
    /// above a guard of `guard` bytes (whole pages, 1 to 128 of them).
    fn new(limit: usize, usable: usize, guard: usize) -> ArenaStack {
        debug_assert!(limit.is_multiple_of(PAGE) && usable.is_power_of_two());
        debug_assert!(usable.trailing_zeros() as usize <= SHIFT_MASK);
        debug_assert!(guard.is_multiple_of(PAGE) && (PAGE..=MAX_GUARD).contains(&guard));
        ArenaStack(limit | usable.trailing_zeros() as usize | (guard / PAGE - 1) << GUARD_SHIFT)
    }

    /// Bytes of the guard at the bottom of the slot.
    fn guard(&self) -> usize {
        ((self.0 & LOW_MASK) >> GUARD_SHIFT) * PAGE + PAGE
    }

    /// Lowest usable address (just above the guard).
    pub(crate) fn usable_bottom(&self) -> usize {
        self.limit_addr() + self.guard()
    }

    /// Highest address of the slot (one past the last usable byte): the stack's base.
    pub(crate) fn top(&self) -> usize {
        self.usable_bottom() + (1 << (self.0 & SHIFT_MASK))
    }

    /// Lowest address of the slot (the bottom of its guard): identifies the slot to its
    /// pool.
    pub(crate) fn limit_addr(&self) -> usize {
        self.0 & !LOW_MASK
    }
}

struct Bump {
    /// Next never-used slot address in the current chunk.
    next: usize,
    /// End of the current chunk.
    end: usize,
    /// Chunks reserved so far (address, length), unmapped when the pool is dropped.
    chunks: Vec<(usize, usize)>,
}

/// A pool of equally sized stack slots.
pub(crate) struct StackPool {
    usable: usize,
    /// Bytes of guard below each slot's usable part (whole pages).
    guard_size: usize,
    slot: usize,
    guard: GuardMode,
    free: Mutex<FreeList>,
    /// Set when free slots may decay at a later look ([`FreeList::candidates`]); shared
    /// by all the pools of a runtime ([`Stacks`]), so a sleeping worker checks one flag.
    pending: std::sync::Arc<std::sync::atomic::AtomicBool>,
    bump: Mutex<Bump>,
}

/// A pool's free slots (their limit addresses) and what decay knows of them.
#[derive(Default)]
struct FreeList {
    /// LIFO: the most recently freed slot last.
    slots: Vec<usize>,
    /// `slots[..clean]` have given their pages back.
    clean: usize,
    /// The shortest the list was since the last decay: `slots[..low]` were not taken
    /// meanwhile.
    low: usize,
    /// A decay has slots out of the list, returning their pages.
    decaying: bool,
}

impl FreeList {
    fn pop(&mut self) -> Option<usize> {
        let s = self.slots.pop()?;
        self.shrunk();
        Some(s)
    }

    /// After slots were taken from the top.
    fn shrunk(&mut self) {
        let n = self.slots.len();
        self.low = self.low.min(n);
        self.clean = self.clean.min(n);
    }

    /// Free slots that may decay at a later look (above the clean ones, below the hot).
    fn candidates(&self) -> bool {
        self.slots.len() > self.clean + KEEP_HOT
    }
}

impl std::fmt::Debug for StackPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackPool")
            .field("usable", &self.usable)
            .field("guard_size", &self.guard_size)
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl StackPool {
    /// A pool of slots with `usable` bytes each (a power of two, at least 4 pages) above a
    /// guard of `guard_size` bytes (whole pages, at most [`MAX_GUARD`]).
    #[cfg(test)]
    pub(crate) fn new(usable: usize, guard_size: usize) -> StackPool {
        Self::with_flag(usable, guard_size, Default::default())
    }

    /// [`StackPool::new`], setting `pending` when free slots may decay.
    fn with_flag(
        usable: usize,
        guard_size: usize,
        pending: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> StackPool {
        debug_assert!(usable.is_power_of_two() && usable >= 4 * PAGE);
        debug_assert!(guard_size.is_multiple_of(PAGE) && (PAGE..=MAX_GUARD).contains(&guard_size));
        StackPool {
            usable,
            guard_size,
            slot: usable + guard_size,
            guard: probe_guard_mode(),
            free: Mutex::new(FreeList::default()),
            pending,
            bump: Mutex::new(Bump {
                next: 0,
                end: 0,
                chunks: Vec::new(),
            }),
        }
    }

    /// How this pool guards its slots.
    #[cfg(test)]
    pub(crate) fn guard_mode(&self) -> GuardMode {
        self.guard
    }

    /// Takes one slot.
    pub(crate) fn alloc(&self) -> io::Result<ArenaStack> {
        let popped = self.free.lock().pop();
        if let Some(limit) = popped {
            return Ok(self.slot_at(limit));
        }
        self.carve()
    }

    /// Moves up to `n` slots into `out` (at least one, or an error).
    pub(crate) fn alloc_batch(&self, n: usize, out: &mut Vec<ArenaStack>) -> io::Result<()> {
        {
            let mut free = self.free.lock();
            let take = n.min(free.slots.len());
            let from = free.slots.len() - take;
            out.extend(free.slots.drain(from..).map(|l| self.slot_at(l)));
            free.shrunk();
        }
        if out.is_empty() {
            out.push(self.carve()?);
        }
        Ok(())
    }

    /// Returns a slot to the pool.
    pub(crate) fn free(&self, stack: ArenaStack) {
        let mut f = self.free.lock();
        f.slots.push(stack.limit_addr());
        self.note_candidates(&f);
    }

    /// Returns many slots to the pool.
    #[cfg(test)]
    pub(crate) fn free_batch(&self, stacks: impl Iterator<Item = ArenaStack>) {
        let mut free = self.free.lock();
        free.slots.extend(stacks.map(|s| s.limit_addr()));
        self.note_candidates(&free);
    }

    /// Returns slots, given by their `limit` addresses, to the pool.
    pub(crate) fn free_limits(&self, limits: impl Iterator<Item = usize>) {
        let mut f = self.free.lock();
        f.slots.extend(limits);
        self.note_candidates(&f);
    }

    /// The slot whose lowest address is `limit` (a slot of this pool).
    pub(crate) fn slot_at(&self, limit: usize) -> ArenaStack {
        ArenaStack::new(limit, self.usable, self.guard_size)
    }

    /// Cuts a never-used slot from the current chunk, reserving a new chunk when needed,
    /// and installs its guard.
    fn carve(&self) -> io::Result<ArenaStack> {
        let limit = {
            let mut b = self.bump.lock();
            if b.next + self.slot > b.end {
                let len = (CHUNK_BYTES / self.slot).max(1) * self.slot;
                let addr = reserve(len)?;
                b.chunks.push((addr, len));
                b.next = addr;
                b.end = addr + len;
            }
            let l = b.next;
            b.next += self.slot;
            l
        };
        let rc = match self.guard {
            // SAFETY: `limit..limit+guard_size` lies inside a private anonymous RW chunk we
            // mapped and handed to nobody yet; marking it as a guard affects only this slot.
            GuardMode::GuardInstall => unsafe {
                libc::madvise(
                    limit as *mut libc::c_void,
                    self.guard_size,
                    MADV_GUARD_INSTALL,
                )
            },
            // SAFETY: `limit..limit+guard_size` lies inside a private anonymous RW chunk we mapped
            // and handed to nobody yet; PROT_NONE on it affects only this slot.
            GuardMode::Mprotect => unsafe {
                libc::mprotect(limit as *mut libc::c_void, self.guard_size, libc::PROT_NONE)
            },
        };
        if rc != 0 {
            let err = io::Error::last_os_error();
            // The slot cannot be guarded: never hand it out. It stays reserved (leaked).
            return Err(err);
        }
        Ok(self.slot_at(limit))
    }
}

impl StackPool {
    /// Records, after slots were freed, that some may decay at a later look.
    fn note_candidates(&self, f: &FreeList) {
        use std::sync::atomic::Ordering::Relaxed;
        if f.candidates() && !self.pending.load(Relaxed) {
            self.pending.store(true, Relaxed);
        }
    }

    /// One look of the decay (module docs): the free slots that nobody took since the last
    /// look, but for the [`KEEP_HOT`] on top, give their pages back. Returns how many did,
    /// and whether free slots are left that may decay at the next look.
    pub(crate) fn decay(&self) -> (usize, bool) {
        let (cold, at) = {
            let mut f = self.free.lock();
            if f.decaying {
                // Another look is returning pages (one that took longer than DECAY_NS).
                return (0, true);
            }
            let end = f.low.min(f.slots.len().saturating_sub(KEEP_HOT));
            if end <= f.clean {
                f.low = f.slots.len();
                return (0, f.candidates());
            }
            let at = f.clean;
            let cold: Vec<usize> = f.slots.drain(at..end).collect();
            f.shrunk();
            f.decaying = true;
            (cold, at)
        };
        // Out of the list: nobody can take these slots while their pages go.
        let mut sorted = cold;
        sorted.sort_unstable();
        let mut i = 0;
        while i < sorted.len() {
            let start = sorted[i];
            let mut end = start + self.slot;
            i += 1;
            while i < sorted.len() && sorted[i] == end {
                end += self.slot;
                i += 1;
            }
            // `start..end` is a run of whole slots of this pool, inside one of its chunks
            // (mapped while the pool lives); their guards survive MADV_DONTNEED.
            // SAFETY: the slots are free and out of the free list: no coroutine uses them.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
        let n = sorted.len();
        let mut f = self.free.lock();
        // Back at the bottom, clean; slots taken meanwhile came from the top.
        let at = at.min(f.slots.len()).min(f.clean);
        f.slots.splice(at..at, sorted);
        f.clean = at + n;
        f.low = f.slots.len();
        f.decaying = false;
        (n, f.candidates())
    }

    /// Returns the physical pages of every slot to the OS (their contents become zero;
    /// guards installed with MADV_GUARD_INSTALL survive this).
    ///
    /// # Safety
    /// No slot of this pool is in use by a running or suspended coroutine.
    pub(crate) unsafe fn decommit_all(&self) {
        for &(addr, len) in &self.bump.lock().chunks {
            // SAFETY: `addr..addr+len` is a chunk this pool mapped and still maps; the caller
            // guarantees no running or suspended coroutine uses a slot in it, so zeroing its pages
            // loses nothing.
            unsafe {
                libc::madvise(addr as *mut libc::c_void, len, libc::MADV_DONTNEED);
            }
        }
    }
}

impl Drop for StackPool {
    fn drop(&mut self) {
        for &(addr, len) in &self.bump.get_mut().chunks {
            // SAFETY: each chunk was mapped by `reserve` with this length; the pool is being
            // dropped, which happens only after every process (and so every slot) is gone.
            unsafe {
                libc::munmap(addr as *mut libc::c_void, len);
            }
        }
    }
}

/// The stack pools of one runtime: one per size class (powers of two from
/// `config::MIN_STACK_SIZE` to `config::MAX_STACK_SIZE`), created on first use.
#[derive(Debug)]
pub(crate) struct Stacks {
    default_usable: usize,
    /// Guard bytes below every stack of every class (`Config::guard_size`).
    guard_size: usize,
    pools: Vec<std::sync::OnceLock<StackPool>>,
    /// When the decay last looked at the pools (the runtime's clock, ns).
    last_decay_ns: std::sync::atomic::AtomicU64,
    /// Some pool has free slots that may decay at a later look (set by the pools).
    pending: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Stacks {
    /// Pools whose default class holds `default_usable` bytes (a valid size class), each
    /// stack above a guard of `guard_size` bytes (a resolved `Config::guard_size`).
    pub(crate) fn new(default_usable: usize, guard_size: usize) -> Stacks {
        let classes = Self::class_index(crate::config::MAX_STACK_SIZE) + 1;
        Stacks {
            default_usable,
            guard_size,
            pools: (0..classes).map(|_| std::sync::OnceLock::new()).collect(),
            last_decay_ns: std::sync::atomic::AtomicU64::new(0),
            pending: Default::default(),
        }
    }

    fn class_index(usable: usize) -> usize {
        (usable.trailing_zeros() - crate::config::MIN_STACK_SIZE.trailing_zeros()) as usize
    }

    /// The pool for a size class (`usable` must be a value `config::stack_class` returned).
    pub(crate) fn pool(&self, usable: usize) -> &StackPool {
        self.pools[Self::class_index(usable)]
            .get_or_init(|| StackPool::with_flag(usable, self.guard_size, self.pending.clone()))
    }

    /// The pool of the runtime's default stack size.
    pub(crate) fn default_pool(&self) -> &StackPool {
        self.pool(self.default_usable)
    }

    /// Usable bytes of the default class.
    pub(crate) fn default_usable(&self) -> usize {
        self.default_usable
    }

    /// Called by a worker about to sleep and by busy ones, with the runtime's clock (ns, read only when
    /// free slots wait to decay): looks at every pool ([`StackPool::decay`]) if the last
    /// look is [`DECAY_NS`] old (one worker does), and returns how long the worker may
    /// sleep before the next look is due, ns — None when no free slot waits to decay (the
    /// worker may sleep for good).
    pub(crate) fn decay_if_due(&self, now_ns: impl FnOnce() -> u64) -> Option<u64> {
        use std::sync::atomic::Ordering::Relaxed;
        if !self.pending.load(Relaxed) {
            return None;
        }
        let now_ns = now_ns();
        let last = self.last_decay_ns.load(Relaxed);
        let since = now_ns.saturating_sub(last);
        if since < DECAY_NS {
            return Some(DECAY_NS - since);
        }
        if self
            .last_decay_ns
            .compare_exchange(last, now_ns, Relaxed, Relaxed)
            .is_ok()
        {
            // Cleared first: a pool that frees slots meanwhile sets it again.
            self.pending.store(false, Relaxed);
            let mut more = false;
            for p in self.pools.iter().filter_map(|p| p.get()) {
                more |= p.decay().1;
            }
            if more {
                self.pending.store(true, Relaxed);
            }
        }
        self.pending.load(Relaxed).then_some(DECAY_NS)
    }

    /// Returns the memory of every stack to the OS.
    ///
    /// # Safety
    /// No process of the runtime has a stack any more (after shutdown).
    pub(crate) unsafe fn decommit_all(&self) {
        for p in self.pools.iter().filter_map(|p| p.get()) {
            // SAFETY: `StackPool::decommit_all` needs no slot of the pool in use by a coroutine; the
            // caller guarantees no process of the runtime has a stack any more.
            unsafe { p.decommit_all() };
        }
    }
}

/// Reserves `len` bytes of address space: private, anonymous, read-write, not charged to
/// the commit limit (`MAP_NORESERVE`), never backed by huge pages.
fn reserve(len: usize) -> io::Result<usize> {
    // SAFETY: a fresh anonymous mapping chosen by the kernel; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // Under THP `always`, one touch could fault a 2 MiB page shared by many slots.
    // SAFETY: advice on the mapping just created; failure is harmless and ignored.
    unsafe {
        libc::madvise(p, len, libc::MADV_NOHUGEPAGE);
    }
    Ok(p as usize)
}

/// Detects once whether `MADV_GUARD_INSTALL` works here.
fn probe_guard_mode() -> GuardMode {
    static MODE: std::sync::OnceLock<GuardMode> = std::sync::OnceLock::new();
    *MODE.get_or_init(|| {
        let Ok(p) = reserve(2 * PAGE) else {
            return GuardMode::Mprotect;
        };
        // SAFETY: advice on a private mapping we own; then we unmap it.
        let rc = unsafe { libc::madvise(p as *mut libc::c_void, PAGE, MADV_GUARD_INSTALL) };
        // SAFETY: unmapping the probe mapping created above, used by nothing else.
        unsafe {
            libc::munmap(p as *mut libc::c_void, 2 * PAGE);
        }
        if rc == 0 {
            GuardMode::GuardInstall
        } else {
            GuardMode::Mprotect
        }
    })
}

/// Address of the calling frame's stack (approximately the stack pointer).
#[inline(always)]
pub(crate) fn approx_sp() -> usize {
    let marker = 0u8;
    std::ptr::addr_of!(marker) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_distinct_aligned_and_recycled_lifo() {
        let pool = StackPool::new(16 * 1024, PAGE);
        assert_eq!(pool.guard_mode(), probe_guard_mode());
        let a = pool.alloc().unwrap();
        let b = pool.alloc().unwrap();
        assert_ne!(a.limit_addr(), b.limit_addr());
        assert_eq!(a.limit_addr() % PAGE, 0);
        assert_eq!(a.top() - a.usable_bottom(), 16 * 1024);
        assert!(
            b.limit_addr() >= a.top() || b.top() <= a.limit_addr(),
            "slots overlap"
        );
        let a_limit = a.limit_addr();
        pool.free(a);
        let c = pool.alloc().unwrap();
        assert_eq!(c.limit_addr(), a_limit, "free list is LIFO");
        pool.free(b);
        pool.free(c);
    }

    /// Decay: slots freed since the last look are left alone; at the next look those not
    /// taken meanwhile give their pages back (they read as zero), but for the `KEEP_HOT`
    /// on top; a slot taken between two looks keeps what it holds; guards still fault.
    #[test]
    fn unused_free_slots_decay_and_the_hot_ones_stay() {
        let pool = StackPool::new(16 * 1024, PAGE);
        let n = KEEP_HOT + 100;
        let stacks: Vec<ArenaStack> = (0..n).map(|_| pool.alloc().unwrap()).collect();
        let mark = |s: &ArenaStack| s.usable_bottom() as *mut u64;
        for (i, s) in stacks.iter().enumerate() {
            // SAFETY: the slot's usable part is mapped read-write and ours.
            unsafe { mark(s).write(i as u64 + 1) };
        }
        let limits: Vec<usize> = stacks.iter().map(|s| s.limit_addr()).collect();
        pool.free_batch(stacks.into_iter());
        // The first look: every slot was freed since (above the low-water mark).
        assert_eq!(pool.decay(), (0, true));
        // More slots than the hot ones taken and given back between the looks: all of
        // them were in use since the last look, so none decays.
        let m = KEEP_HOT + 10;
        let taken: Vec<ArenaStack> = (0..m).map(|_| pool.alloc().unwrap()).collect();
        let taken_limits: Vec<usize> = taken.iter().map(|s| s.limit_addr()).collect();
        pool.free_batch(taken.into_iter().rev());
        let (decayed, more) = pool.decay();
        assert_eq!(decayed, n - m);
        assert!(
            more,
            "the taken slots below the hot ones decay at the next look"
        );
        let read = |limit: usize| {
            let s = pool.slot_at(limit);
            // SAFETY: a slot of this pool: its usable part stays mapped read-write.
            unsafe { mark(&s).read() }
        };
        let zeroed = limits.iter().filter(|&&l| read(l) == 0).count();
        assert_eq!(zeroed, n - m);
        for &l in &taken_limits {
            assert_ne!(read(l), 0, "a slot taken between the looks decayed");
        }
        assert!(
            !readable(limits[0]),
            "a decayed slot's guard no longer faults"
        );
        // The next look: the taken ones below the hot; then nothing is left to decay.
        assert_eq!(pool.decay(), (m - KEEP_HOT, false));
        assert_eq!(pool.decay(), (0, false));
        let zeroed = limits.iter().filter(|&&l| read(l) == 0).count();
        assert_eq!(zeroed, n - KEEP_HOT);
        // All slots are still there, the hot ones first out.
        let taken_limit = taken_limits[0];
        let again: Vec<ArenaStack> = (0..n).map(|_| pool.alloc().unwrap()).collect();
        let mut got: Vec<usize> = again.iter().map(|s| s.limit_addr()).collect();
        assert_eq!(got[0], taken_limit);
        got.sort_unstable();
        let mut want = limits.clone();
        want.sort_unstable();
        assert_eq!(got, want);
        pool.free_batch(again.into_iter());
    }

    #[test]
    fn one_word_names_the_slot_its_size_and_its_guard_in_every_class() {
        for guard in [PAGE, 2 * PAGE, 32 * PAGE, 127 * PAGE, MAX_GUARD] {
            let mut usable = crate::config::MIN_STACK_SIZE;
            while usable <= crate::config::MAX_STACK_SIZE {
                let pool = StackPool::new(usable, guard);
                let s = pool.alloc().unwrap();
                assert_eq!(std::mem::size_of_val(&s), std::mem::size_of::<usize>());
                assert_eq!(s.limit_addr() % PAGE, 0, "usable {usable}");
                assert_eq!(s.usable_bottom(), s.limit_addr() + guard, "guard {guard}");
                assert_eq!(s.top() - s.usable_bottom(), usable);
                assert_eq!(s.base().get(), s.top());
                assert_eq!(s.limit().get(), s.limit_addr());
                let again = pool.slot_at(s.limit_addr());
                assert_eq!((again.limit_addr(), again.top()), (s.limit_addr(), s.top()));
                pool.free(s); // once: `again` names the same slot and is just dropped
                usable *= 2;
            }
        }
        assert_eq!(MAX_GUARD, 512 * 1024);
    }

    /// Every page of a large guard faults (the whole guard is installed, not its first
    /// page), and the usable part starts right above it.
    #[test]
    fn every_page_of_the_guard_faults() {
        let guard = 8 * PAGE;
        let pool = StackPool::new(16 * 1024, guard);
        let s = pool.alloc().unwrap();
        for page in 0..guard / PAGE {
            let addr = s.limit_addr() + page * PAGE;
            assert!(!readable(addr), "guard page {page} is readable");
        }
        assert!(readable(s.usable_bottom()));
        pool.free(s);
    }

    /// Whether one byte at `addr` can be read, asked of the kernel (`process_vm_readv` on
    /// ourselves fails with EFAULT on a guard) so that the test itself never faults.
    fn readable(addr: usize) -> bool {
        let mut byte = 0u8;
        let local = libc::iovec {
            iov_base: (&raw mut byte).cast(),
            iov_len: 1,
        };
        let remote = libc::iovec {
            iov_base: addr as *mut libc::c_void,
            iov_len: 1,
        };
        // SAFETY: reads one byte into a local through the kernel, which checks `addr`.
        let n = unsafe { libc::process_vm_readv(libc::getpid(), &local, 1, &remote, 1, 0) };
        n == 1
    }

    #[test]
    fn usable_part_is_writable() {
        let pool = StackPool::new(16 * 1024, PAGE);
        let s = pool.alloc().unwrap();
        // SAFETY: the usable part of a slot we own.
        unsafe {
            std::ptr::write_bytes(
                s.usable_bottom() as *mut u8,
                0xAB,
                s.top() - s.usable_bottom(),
            );
        }
        pool.free(s);
    }

    #[test]
    fn many_slots_do_not_consume_vmas() {
        if probe_guard_mode() != GuardMode::GuardInstall {
            return; // mprotect guards cost a VMA each by design.
        }
        let pool = StackPool::new(16 * 1024, PAGE);
        let maps_before = std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .count();
        let mut v = Vec::new();
        for _ in 0..40_000 {
            v.push(pool.alloc().unwrap());
        }
        let maps_after = std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .count();
        // Other tests run in parallel and their threads map malloc arenas, so allow some
        // growth: what matters is that 40,000 guarded slots do not cost 40,000 VMAs
        // (mprotect guards would cost two each).
        assert!(
            maps_after < maps_before + 200,
            "{maps_before} -> {maps_after} VMAs for 40000 slots"
        );
        pool.free_batch(v.into_iter());
    }
}
