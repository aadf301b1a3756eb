//! Recycling of small message buffers: a worker's [`MsgCache`], the runtime's
//! [`MsgDepot`], and [`CacheSource`], the handle through which the layers above pass the
//! cache of the calling thread's worker in.

use std::alloc;
use std::ptr::NonNull;

use super::msg::Msg;

/// Where [`Msg`] functions recycle small buffers: the cache of the calling thread's worker
/// and its runtime's depot, or nothing.
///
/// The scheduler implements it for its worker handle (`sched/mod.rs`); the mailbox never
/// looks up the current worker itself. Functions taking a source are generic over it, so
/// each use is monomorphised and the cache access inlines as a direct call would.
pub(crate) trait CacheSource: Copy {
    /// Runs `f` on the source's cache and depot and returns its result; None, without
    /// running `f`, when there is no cache (not on a worker thread) or it is in use.
    fn with_cache<R>(self, f: impl FnOnce(&mut MsgCache, &MsgDepot) -> R) -> Option<R>;

    /// Records that `bytes` bytes of message buffers went back to the allocator from this
    /// source's worker (which has the allocator trim its free memory once enough did);
    /// nothing when there is no worker.
    fn count_freed(self, bytes: usize);
}

/// Payload capacity of a small message: messages up to this many bytes share one size and
/// are recycled through per-worker caches.
pub(super) const SMALL_PAYLOAD: usize = 96;
/// Small message buffers moved between a worker and the depot at a time.
pub(super) const MSG_BATCH: usize = 1024;
/// Batches the depot keeps at most (beyond that, buffers go back to the allocator).
const DEPOT_MAX_BATCHES: usize = 64;

/// A worker's free list of small message buffers (a "magazine").
///
/// Messages are allocated on the sender's worker and freed on the receiver's, a
/// producer/consumer pattern that is costly for a system allocator (glibc: arena locks and
/// consolidation; measurements: `docs/benchmarks.md`, "Measurements behind code comments
/// (2026-12-03)"). Each worker keeps a LIFO list touched only by its own thread; when it
/// holds two batches it hands one to the runtime's [`MsgDepot`], and when it is empty it
/// takes a batch back, so a worker that receives more than it sends feeds the one that
/// sends more, one lock per batch.
#[derive(Debug, Default)]
pub(crate) struct MsgCache {
    pub(super) free: Vec<NonNull<Msg>>,
}

/// Full batches of free small-message buffers shared by a runtime's workers.
#[derive(Debug, Default)]
pub(crate) struct MsgDepot {
    pub(super) batches: parking_lot::Mutex<Vec<Batch>>,
}

#[derive(Debug)]
pub(super) struct Batch(Vec<NonNull<Msg>>);

// SAFETY: a batch holds unused heap buffers owned by nobody else; moving them between
// threads moves that ownership.
unsafe impl Send for Batch {}

impl MsgCache {
    /// A cached buffer, else one from a batch taken from the depot, else None.
    #[inline(always)]
    pub(super) fn take(&mut self, depot: &MsgDepot) -> Option<NonNull<Msg>> {
        match self.free.pop() {
            Some(m) => Some(m),
            None => self.refill(depot),
        }
    }

    /// As [`MsgCache::take`] with an empty cache: takes a batch from the depot.
    #[inline(never)]
    fn refill(&mut self, depot: &MsgDepot) -> Option<NonNull<Msg>> {
        if let Some(Batch(b)) = depot.batches.lock().pop() {
            self.free = b;
        }
        self.free.pop()
    }

    /// Keeps `m` if the cache has room without handing a batch to the depot (nor growing
    /// its list); true if it did. Else the caller frees `m` through [`MsgCache::put`].
    #[inline(always)]
    pub(super) fn try_put(&mut self, m: NonNull<Msg>) -> bool {
        if self.free.len() < 2 * MSG_BATCH && self.free.len() < self.free.capacity() {
            self.free.push(m);
            true
        } else {
            false
        }
    }

    /// Keeps `m`; when the cache is full, moves a batch to the depot, or frees it when the
    /// depot is full too. Returns the bytes handed back to the allocator.
    pub(super) fn put(&mut self, m: NonNull<Msg>, depot: &MsgDepot) -> usize {
        let mut freed = 0;
        if self.free.len() >= 2 * MSG_BATCH {
            let batch = self.free.split_off(MSG_BATCH);
            let mut d = depot.batches.lock();
            if d.len() < DEPOT_MAX_BATCHES {
                d.push(Batch(batch));
            } else {
                drop(d);
                freed = batch.len() * Msg::layout(SMALL_PAYLOAD).size();
                free_buffers(batch);
            }
        }
        self.free.push(m);
        freed
    }
}

fn free_buffers(v: Vec<NonNull<Msg>>) {
    for m in v {
        // SAFETY: cached buffers are unused small-message allocations.
        unsafe { alloc::dealloc(m.as_ptr() as *mut u8, Msg::layout(SMALL_PAYLOAD)) };
    }
}

impl Drop for MsgCache {
    fn drop(&mut self) {
        free_buffers(std::mem::take(&mut self.free));
    }
}

impl Drop for MsgDepot {
    fn drop(&mut self) {
        for Batch(b) in self.batches.get_mut().drain(..) {
            free_buffers(b);
        }
    }
}
