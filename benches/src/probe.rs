//! Machine-state probes recorded next to every pass: page-fault cost and load average.
//!
//! `shared/bench/baselines.md` found that page faults dominate spawn_live and skynet, and
//! that their cost varies with the VM's state (fresh guest pages ~8 µs, reused ~1.3–2 µs),
//! so the cost is measured before each pass to tell comparable runs apart.

use std::time::Instant;

/// Size of a page as counted by the probe.
pub const PAGE: usize = 4096;

/// Writes one byte in every page of `bytes` of fresh anonymous memory and returns the
/// time per page in microseconds.
///
/// The memory comes from a zeroed allocation large enough that the allocator maps fresh
/// pages (glibc uses `mmap` above 128 KiB), so every first write faults.
pub fn page_fault_us(bytes: usize) -> f64 {
    let pages = bytes / PAGE;
    if pages == 0 {
        return 0.0;
    }
    let mut mem = vec![0u8; pages * PAGE];
    let start = Instant::now();
    for page in mem.chunks_mut(PAGE) {
        // SAFETY: `page` is a valid, exclusive slice of at least one byte.
        unsafe { std::ptr::write_volatile(page.as_mut_ptr(), 1) };
    }
    let elapsed = start.elapsed();
    std::hint::black_box(&mem);
    elapsed.as_secs_f64() * 1e6 / pages as f64
}

/// The 1-, 5- and 15-minute load averages from `/proc/loadavg`, if readable.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// The load averages as printed before a pass, `0.52 0.31 0.20`, or `?` if unreadable.
pub fn load_average_label() -> String {
    load_average()
        .map(|l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_fault_probe_measures_something() {
        let us = page_fault_us(8 << 20);
        assert!(us > 0.0 && us < 1000.0, "{us}");
        assert_eq!(page_fault_us(10), 0.0);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_load_average() {
        let l = load_average().unwrap();
        assert!(l.iter().all(|x| *x >= 0.0));
    }
}
