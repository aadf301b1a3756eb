//! Machine-state probes recorded next to every pass: page-fault cost, load average, and
//! the two latencies that set the message workloads' pace.
//!
//! The loopback TCP probe ([`loopback_tcp_bytes_per_s`]) is the ceiling of the
//! distribution workloads that move large messages: both nodes run on this machine and
//! talk over loopback TCP, so no node pair can move more than two threads doing nothing
//! but write and read.
//!
//! `shared/bench/baselines.md` found that page faults dominate spawn_live and skynet, and
//! that their cost varies with the VM's state (fresh guest pages ~8 µs, reused ~1.3–2 µs),
//! so the cost is measured before each pass to tell comparable runs apart. Two VMs of the
//! same kind also differed 2.5× on `ring` at 10,000 processes, with the same binaries: a
//! hop there is a few dependent loads from memory ([`dependent_load_ns`]), and a message
//! between workers moves cache lines between CPUs ([`cache_line_round_trip_ns`]).

use std::sync::atomic::{AtomicU64, Ordering};
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

/// How long one cache line takes to go from one thread to another and back, in ns: two
/// threads take turns writing a shared counter, up to `rounds` round trips or 50 ms,
/// whichever comes first, and the median of 5 such trials is returned. None with fewer
/// than 2 CPUs (the threads would take turns on one). The threads are not pinned; on a
/// machine with 2+ idle CPUs they run on two of them, so this is what a wake-up or a
/// mailbox push costs when the sender and the receiver are on different workers (on a busy
/// machine it also counts the waits for a CPU).
pub fn cache_line_round_trip_ns(rounds: u64) -> Option<f64> {
    const STOP: u64 = u64::MAX;
    const TRIAL: std::time::Duration = std::time::Duration::from_millis(50);
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 || rounds == 0 {
        return None;
    }
    let mut trials: Vec<f64> = (0..5)
        .map(|_| {
            let flag = AtomicU64::new(0);
            std::thread::scope(|s| {
                s.spawn(|| {
                    // Answers every odd value with the next even one, until STOP.
                    let mut seen = 0;
                    loop {
                        let v = flag.load(Ordering::Acquire);
                        if v == STOP {
                            return;
                        }
                        if v % 2 == 1 && v != seen {
                            seen = v;
                            flag.store(v + 1, Ordering::Release);
                        }
                        std::hint::spin_loop();
                    }
                });
                let start = Instant::now();
                let mut done = 0;
                while done < rounds && (done % 1024 != 0 || start.elapsed() < TRIAL) {
                    flag.store(2 * done + 1, Ordering::Release);
                    while flag.load(Ordering::Acquire) != 2 * done + 2 {
                        std::hint::spin_loop();
                    }
                    done += 1;
                }
                let ns = start.elapsed().as_secs_f64() * 1e9 / done as f64;
                flag.store(STOP, Ordering::Release);
                ns
            })
        })
        .collect();
    trials.sort_by(f64::total_cmp);
    Some(trials[2])
}

/// The time of one dependent load, in ns, following a random cycle through `bytes` of
/// memory, one 64-byte line at a time (Sattolo's shuffle, fixed seed). With `bytes` well
/// above the caches this is a load from memory plus, usually, a TLB miss: what resuming a
/// process whose PCB and stack fell out of the cache pays per line.
pub fn dependent_load_ns(bytes: usize) -> f64 {
    const LINE: usize = 64;
    const STRIDE: usize = LINE / std::mem::size_of::<usize>();
    let lines = bytes / LINE;
    if lines < 2 {
        return 0.0;
    }
    let mut next = vec![0usize; lines * STRIDE];
    // Sattolo: a single cycle through every line.
    let mut order: Vec<usize> = (0..lines).collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..lines).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % i as u64) as usize;
        order.swap(i, j);
    }
    for i in 0..lines {
        next[order[i] * STRIDE] = order[(i + 1) % lines] * STRIDE;
    }
    let loads = lines.max(1 << 20);
    let mut at = 0usize;
    let start = Instant::now();
    for _ in 0..loads {
        at = next[at];
    }
    let elapsed = start.elapsed();
    std::hint::black_box(at);
    elapsed.as_secs_f64() * 1e9 / loads as f64
}

/// Bytes per second that loopback TCP carries between two threads doing nothing else: a
/// writer thread sends `total` bytes in `write_chunk`-byte writes (blocking), this thread
/// reads them in `read_chunk`-byte reads, timed from the connection's first byte read to
/// its end. Both sockets keep the kernel's default buffer sizes (autotuned), as the
/// distribution's do. The payload is never touched in user space, so this is the kernel's
/// part alone: a node pair moving the same bytes also copies and handles them.
///
/// Errors: the socket calls' (none expected on a machine with loopback), or
/// `InvalidInput` when a size is 0.
pub fn loopback_tcp_bytes_per_s(
    total: usize,
    write_chunk: usize,
    read_chunk: usize,
) -> std::io::Result<f64> {
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener, TcpStream};
    if total == 0 || write_chunk == 0 || read_chunk == 0 {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut s = TcpStream::connect(addr)?;
        let buf = vec![7u8; write_chunk];
        let mut left = total;
        while left > 0 {
            let n = left.min(write_chunk);
            s.write_all(&buf[..n])?;
            left -= n;
        }
        Ok(())
    });
    let (mut s, _) = listener.accept()?;
    let mut buf = vec![0u8; read_chunk];
    let mut got = s.read(&mut buf)?;
    let start = Instant::now();
    let mut timed = 0usize;
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n;
        timed += n;
    }
    let elapsed = start.elapsed().as_secs_f64();
    writer
        .join()
        .map_err(|_| std::io::Error::other("the writer thread panicked"))??;
    if got != total {
        return Err(std::io::Error::other(format!(
            "read {got} bytes of {total}"
        )));
    }
    Ok(timed as f64 / elapsed.max(1e-9))
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
    fn latency_probes_measure_something() {
        let ns = dependent_load_ns(1 << 20);
        assert!(ns > 0.0 && ns < 100_000.0, "{ns}");
        assert_eq!(dependent_load_ns(64), 0.0);
        if let Some(rt) = cache_line_round_trip_ns(1000) {
            assert!(rt > 0.0 && rt < 1e9, "{rt}");
        }
        assert_eq!(cache_line_round_trip_ns(0), None);
    }

    #[test]
    fn loopback_probe_moves_every_byte() {
        let bps = loopback_tcp_bytes_per_s(8 << 20, 1 << 20, 64 << 10).unwrap();
        assert!(bps > 1e6 && bps < 1e12, "{bps}");
        // A total that is not a multiple of the write size is sent whole.
        assert!(loopback_tcp_bytes_per_s((1 << 20) + 5, 1 << 16, 4096).is_ok());
        assert_eq!(
            loopback_tcp_bytes_per_s(0, 1, 1).unwrap_err().kind(),
            std::io::ErrorKind::InvalidInput
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_load_average() {
        let l = load_average().unwrap();
        assert!(l.iter().all(|x| *x >= 0.0));
    }
}
