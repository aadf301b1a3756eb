//! Helpers shared by the integration tests.
#![allow(dead_code)]

use hive_rt::{Config, Pid, Runtime};

pub(crate) mod dist;
pub(crate) mod erl;
pub(crate) mod fault_proxy;
pub(crate) mod hive_peer;
pub(crate) mod memory;
pub(crate) mod signals;
pub(crate) mod streams;
pub(crate) mod tls;

/// A runtime with `n` schedulers.
pub(crate) fn rt(n: usize) -> Runtime {
    Runtime::new(Config {
        schedulers: n,
        ..Config::default()
    })
    .expect("runtime starts")
}

/// Encodes a u64 as message bytes.
pub(crate) fn u64b(v: u64) -> [u8; 8] {
    v.to_le_bytes()
}

/// Decodes message bytes as a u64.
pub(crate) fn bu64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

/// Encodes a pid.
pub(crate) fn pidb(p: Pid) -> [u8; 8] {
    p.0.to_le_bytes()
}

/// Decodes a pid.
pub(crate) fn bpid(b: &[u8]) -> Pid {
    Pid(bu64(b))
}

/// Recurses without end, 512 bytes of stack per frame: overflows any process stack.
#[inline(never)]
#[allow(unconditional_recursion)]
pub(crate) fn recurse(depth: u64) -> u64 {
    let mut buf = [0u8; 512];
    buf[depth as usize % 512] = depth as u8;
    let buf = std::hint::black_box(buf);
    recurse(depth + 1) + buf[3] as u64
}

/// Runs `f` as a process on a fresh runtime with `n` schedulers, checks it ended normally
/// and left no socket open (the last descriptor closes when a use in progress on another
/// worker, such as a poll's delivery, ends: waited for with yields, 30 s at most), and
/// shuts the runtime down.
pub(crate) fn run_with_sockets(n: usize, f: impl FnOnce() + Send + 'static) {
    let rt = rt(n);
    let reason = rt
        .run(move || {
            f();
            let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while hive_rt::net::open_sockets().unwrap() != 0 {
                assert!(std::time::Instant::now() < end, "a socket leaked");
                hive_rt::process::yield_now().unwrap();
            }
        })
        .unwrap();
    assert!(reason.is_normal(), "{reason:?}");
    rt.shutdown();
}
