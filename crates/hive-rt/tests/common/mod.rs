//! Helpers shared by the integration tests.
#![allow(dead_code)]

use hive_rt::{Config, Pid, Runtime};

pub(crate) mod signals;

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
