//! The global allocator with the `mimalloc` feature (off by default): mimalloc, with one
//! change to how the `mimalloc` crate maps Rust layouts onto it.
//!
//! Why one would: PCBs, link records and messages are allocated on one worker and freed on
//! another. Under glibc every such free takes the allocating thread's arena lock; in
//! `monitor_storm` (100k processes stopped and their DOWNs collected) the two workers
//! made 45k futex calls on that lock, most of the storm's time. mimalloc frees to the
//! owning page's lock-free list. Measured on the stress programs (2 schedulers, same
//! machine, same hour): monitor_storm 68–73 → 43–54 ms, skynet 0.47–0.81 → 0.33–0.37 s,
//! spawn 0.43–0.47 → 0.15 s, fan_in 0.09 → 0.034 s. Why it is off by default: the timer
//! storm's lateness p99 went from ~1 ms to 10–85 ms (see docs/design.md).
//!
//! The change: the crate's `GlobalAlloc` calls `mi_malloc_aligned(size, align)` for every
//! layout, and for a 16-byte alignment that pads into the next size class: a 320-byte PCB
//! took a 384-byte block (64 bytes more per process). mimalloc's size classes at or above
//! 16 bytes that hold a multiple of 16 are themselves multiples of 16, so a plain
//! `mi_malloc` already returns a 16-byte-aligned block for such a layout; we use it and
//! check the address, falling back to the aligned call if it ever is not.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// mimalloc with a plain `mi_malloc` wherever it already gives the alignment asked for.
#[derive(Debug)]
pub(crate) struct HiveAlloc;

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
        if plain_fits(&l) {
            // SAFETY: mimalloc's malloc has no preconditions.
            let p = unsafe { mi::mi_malloc(l.size()) };
            if (p as usize).is_multiple_of(l.align()) {
                return p as *mut u8;
            }
            // SAFETY: `p` came from `mi_malloc` (null is accepted too).
            unsafe { mi::mi_free(p) };
        }
        // SAFETY: as above; `align` is a power of two (a `Layout` invariant).
        unsafe { mi::mi_malloc_aligned(l.size(), l.align()) as *mut u8 }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if plain_fits(&l) {
            // SAFETY: as in `alloc`.
            let p = unsafe { mi::mi_zalloc(l.size()) };
            if (p as usize).is_multiple_of(l.align()) {
                return p as *mut u8;
            }
            // SAFETY: as in `alloc`.
            unsafe { mi::mi_free(p) };
        }
        // SAFETY: as in `alloc`.
        unsafe { mi::mi_zalloc_aligned(l.size(), l.align()) as *mut u8 }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _l: Layout) {
        // SAFETY: `ptr` was returned by one of the calls above (GlobalAlloc's contract).
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` is a live block of ours with layout `l` (GlobalAlloc's contract);
        // the aligned realloc keeps `l.align()`.
        unsafe { mi::mi_realloc_aligned(ptr as *mut c_void, new_size, l.align()) as *mut u8 }
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
