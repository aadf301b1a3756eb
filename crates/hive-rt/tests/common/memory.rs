//! Resident memory of the test's OS process, for the tests that measure it (each in a
//! binary of its own, one test at a time).

use hive_rt::process;

/// Resident memory of this OS process, bytes (`VmRSS`).
pub(crate) fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Waits, napping 100 ms at a time, until this OS process holds less than a quarter of
/// `grown` bytes above `before` (its RSS before the growth), and panics after 30 s saying
/// how much was left and after what (`after`, e.g. "the drain").
pub(crate) fn until_a_quarter_is_left(before: u64, grown: u64, after: &str) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left = rss_bytes().saturating_sub(before);
        if left * 4 < grown {
            return;
        }
        assert!(
            std::time::Instant::now() < end,
            "{left} of {grown} bytes still resident 30 s after {after}"
        );
        process::sleep(100).unwrap();
    }
}
