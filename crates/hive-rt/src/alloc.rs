//! The global allocator with the `mimalloc` feature (the default): mimalloc, with one
//! change to how the `mimalloc` crate maps Rust layouts onto it.
//!
//! Why: PCBs, link records and messages are allocated on one worker and freed on another.
//! Under glibc every such free takes the allocating thread's arena lock, which two workers
//! then contend for. mimalloc frees to the owning page's lock-free list (docs/design.md,
//! "Memory allocator"; measurements: `docs/benchmarks.md`, "Measurements behind code
//! comments (2026-12-03)").
//!
//! mimalloc is built with `no_thp`: otherwise it advises its arenas `MADV_HUGEPAGE`, and a
//! first touch then zeroes a whole 2 MiB page, a fault long enough to delay timers.
//!
//! The change: the crate's `GlobalAlloc` calls `mi_malloc_aligned(size, align)` for every
//! layout, and for a 16-byte alignment that pads into the next size class: a 320-byte PCB
//! took a 384-byte block (64 bytes more per process). mimalloc's size classes at or above
//! 16 bytes that hold a multiple of 16 are themselves multiples of 16, so a plain
//! `mi_malloc` already returns a 16-byte-aligned block for such a layout; we use it and
//! check the address, falling back to the aligned call if it ever is not.

use std::alloc::{GlobalAlloc, Layout};
#[cfg(feature = "alloc-stats")]
use std::cell::Cell;
use std::ffi::c_void;
#[cfg(feature = "alloc-stats")]
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use libmimalloc_sys as mi;

/// mimalloc with a plain `mi_malloc` wherever it already gives the alignment asked for.
#[derive(Debug)]
pub(crate) struct HiveAlloc;

/// Bytes handed out and not yet given back (requested sizes), with `alloc-stats`.
#[cfg(feature = "alloc-stats")]
static LIVE: AtomicIsize = AtomicIsize::new(0);

/// One thread's allocations since [`peak_begin`], with `alloc-stats`: the bytes it
/// allocated minus those it freed, and the highest that sum reached.
#[cfg(feature = "alloc-stats")]
#[derive(Clone, Copy)]
struct Peak {
    on: bool,
    live: isize,
    high: isize,
}

#[cfg(feature = "alloc-stats")]
thread_local! {
    // `const` and without `Drop`: reading it never allocates, so the allocator may.
    static PEAK: Cell<Peak> = const { Cell::new(Peak { on: false, live: 0, high: 0 }) };
}

/// Counts `delta` bytes handed out (negative: given back) when `p`, the block the call
/// returned, is not null (with `alloc-stats`; otherwise does nothing). `transient` bytes
/// more were live for a moment (a moving `realloc` holds both blocks). Returns `p`.
#[inline(always)]
fn counted(p: *mut u8, delta: isize, transient: isize) -> *mut u8 {
    #[cfg(feature = "alloc-stats")]
    if !p.is_null() {
        LIVE.fetch_add(delta, Relaxed);
        let _ = PEAK.try_with(|c| {
            let mut t = c.get();
            if t.on {
                t.high = t.high.max(t.live + delta.max(0) + transient);
                t.live += delta;
                c.set(t);
            }
        });
    }
    #[cfg(not(feature = "alloc-stats"))]
    let _ = (delta, transient);
    p
}

/// Starts measuring the calling thread's peak of live bytes from zero (with
/// `alloc-stats`; otherwise does nothing).
#[cfg(test)]
pub(crate) fn peak_begin() {
    #[cfg(feature = "alloc-stats")]
    let _ = PEAK.try_with(|c| {
        c.set(Peak {
            on: true,
            live: 0,
            high: 0,
        })
    });
}

/// Stops measuring and returns the highest number of bytes the calling thread had
/// allocated and not freed since [`peak_begin`] (blocks freed by this thread that another
/// allocated count as given back): with `alloc-stats`, else None.
#[cfg(test)]
pub(crate) fn peak_end() -> Option<usize> {
    #[cfg(feature = "alloc-stats")]
    return PEAK
        .try_with(|c| {
            let t = c.get();
            c.set(Peak {
                on: false,
                live: 0,
                high: 0,
            });
            t.high.max(0) as usize
        })
        .ok();
    #[cfg(not(feature = "alloc-stats"))]
    None
}

/// A block for `l` from mimalloc, zeroed when `zeroed`, or null.
///
/// # Safety
/// None beyond `GlobalAlloc::alloc`'s: `l` has a non-zero size.
#[inline(always)]
unsafe fn alloc_block(l: Layout, zeroed: bool) -> *mut u8 {
    if plain_fits(&l) {
        // SAFETY: mimalloc's malloc and zalloc have no preconditions.
        let p = unsafe {
            if zeroed {
                mi::mi_zalloc(l.size())
            } else {
                mi::mi_malloc(l.size())
            }
        };
        if (p as usize).is_multiple_of(l.align()) {
            return p as *mut u8;
        }
        // SAFETY: `p` came from mimalloc (null is accepted too).
        unsafe { mi::mi_free(p) };
    }
    // SAFETY: mimalloc's aligned malloc and zalloc need `align` a power of two, which a
    // `Layout` guarantees; the caller guarantees a non-zero size.
    unsafe {
        if zeroed {
            mi::mi_zalloc_aligned(l.size(), l.align()) as *mut u8
        } else {
            mi::mi_malloc_aligned(l.size(), l.align()) as *mut u8
        }
    }
}

/// Bytes of the global allocator in use (requested sizes of live blocks): with the
/// `alloc-stats` feature, else None.
pub(crate) fn live_bytes() -> Option<usize> {
    #[cfg(feature = "alloc-stats")]
    return Some(LIVE.load(Relaxed).max(0) as usize);
    #[cfg(not(feature = "alloc-stats"))]
    None
}

/// Alignment every `mi_malloc` block has (`MI_MAX_ALIGN_SIZE` is 16; 8 is what any block
/// of any size class has).
const PLAIN_ALIGN: usize = 8;

/// Whether a plain `mi_malloc(size)` is expected to be aligned for `l`.
fn plain_fits(l: &Layout) -> bool {
    l.align() <= PLAIN_ALIGN || (l.align() == 16 && l.size() >= 16 && l.size().is_multiple_of(16))
}

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` takes blocks of
// any of its allocation calls); each returned block is at least `size` bytes and aligned to
// `align` (checked for the plain path, guaranteed by the aligned calls otherwise).
unsafe impl GlobalAlloc for HiveAlloc {
    #[inline]
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: GlobalAlloc's contract (non-zero size) is `alloc_block`'s.
        counted(unsafe { alloc_block(l, false) }, l.size() as isize, 0)
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        counted(unsafe { alloc_block(l, true) }, l.size() as isize, 0)
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, l: Layout) {
        counted(ptr, -(l.size() as isize), 0);
        // SAFETY: `ptr` was returned by one of the calls above (GlobalAlloc's contract).
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` is a live block of ours with layout `l` (GlobalAlloc's contract);
        // the aligned realloc keeps `l.align()`. On failure (null) `ptr` stays as it was.
        let p = unsafe { mi::mi_realloc_aligned(ptr as *mut c_void, new_size, l.align()) };
        // A growing realloc may copy: both blocks are live until the old one is freed.
        let grow = new_size as isize - l.size() as isize;
        counted(
            p as *mut u8,
            grow,
            if grow > 0 { l.size() as isize } else { 0 },
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_320_byte_16_aligned_box_takes_a_320_byte_block() {
        #[repr(C, align(16))]
        struct A([u8; 320]);
        let b = Box::new(A([0; 320]));
        let p = &*b as *const A as *const std::ffi::c_void;
        assert_eq!(p as usize % 16, 0);
        // SAFETY: `p` is a live block from the global allocator (mimalloc).
        assert_eq!(unsafe { libmimalloc_sys::mi_usable_size(p) }, 320);
    }
}
