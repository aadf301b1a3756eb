//! Deterministic fuzzing of everything a peer sends (issue 18, hostile peers;
//! `docs/distribution.md`, "Fuzzing"): the ETF decoder (`etf.rs`), distribution frames
//! through the active-mode framing and `dispatch::frame` (`frames.rs`), the handshake in
//! both roles and both framings (`handshake.rs`), and what the EPMD client and Hive's port
//! mapper parse (`epmd.rs`).
//!
//! Stable Rust, no cargo-fuzz and no coverage feedback: each input is a valid seed
//! mutated by [`mutate`] (bit flips, byte insertions and deletions, length fields rewritten
//! to edge values such as `0xFFFFFFFF`, truncation, splicing with other seeds, tag bytes),
//! a freshly generated valid input, or random bytes; inputs a target accepts go back to a
//! small pool that later mutations start from. Everything comes from one splitmix64 stream
//! ([`Rng`]), so a run is reproduced by its seed.
//!
//! Knobs: `HIVE_FUZZ_ITERS` (inputs per target; the default is small so that `cargo test`
//! stays fast) and `HIVE_FUZZ_SEED`. `make fuzz` runs millions per target in release and
//! prints one line per target (`--nocapture`).
//!
//! Every input runs under `catch_unwind`: a panic is a failure, reported with the input in
//! hex. Every input's peak heap, the bytes the fuzzing thread had allocated and not freed at
//! any moment while the target ran ([`crate::peak_heap`]), must stay within the target's
//! [`Bound`], linear in the input's length: a node never allocates more than what it
//! received warrants.

mod epmd;
mod etf;
mod etf_gen;
mod frames;
mod handshake;

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// A splitmix64 stream: small, fast, and the same on every machine.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(super) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// True once in `n` draws.
    pub(super) fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub(super) fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    pub(super) fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    pub(super) fn choose<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub(super) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    /// Fewer than `max` random bytes.
    pub(super) fn bytes_below(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        self.bytes(n)
    }
}

/// Values a length or count field is rewritten to.
const EDGES: [u32; 16] = [
    0,
    1,
    2,
    3,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    0x0100_0000,
];

/// Mutates `buf` in place by one to four stacked operations, keeping it at most `max_len`
/// bytes. `donors` give the bytes of splices; `tags` are the bytes that start a structure
/// of the format (ETF tags, handshake message tags), written where a tag may stand.
pub(super) fn mutate(
    rng: &mut Rng,
    buf: &mut Vec<u8>,
    donors: &[Vec<u8>],
    tags: &[u8],
    max_len: usize,
) {
    for _ in 0..1 + rng.below(4) {
        let len = buf.len();
        let at = rng.below(len + 1);
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                buf[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                buf[i] = match rng.below(3) {
                    0 => rng.pick(&[0, 1, 0x7f, 0x80, 0xfe, 0xff]),
                    1 => buf[i].wrapping_add(1 + rng.below(4) as u8),
                    _ => rng.byte(),
                };
            }
            2 => {
                let n = 1 + rng.below(8);
                let ins = rng.bytes(n);
                buf.splice(at..at, ins);
            }
            3 if len > 0 => {
                let n = 1 + rng.below((len - at).clamp(1, 16));
                buf.drain(at..(at + n).min(len));
            }
            4 => {
                // A length field rewritten: an edge value, or one near what is left.
                let width = rng.pick(&[1usize, 2, 4]);
                let v = match rng.below(3) {
                    0 | 1 => rng.pick(&EDGES),
                    _ => ((len - at) as u32)
                        .wrapping_add(rng.below(5) as u32)
                        .wrapping_sub(2),
                };
                let bytes = v.to_be_bytes();
                let field = &bytes[4 - width..];
                let end = (at + width).min(len);
                buf.splice(at..end, field.iter().copied());
            }
            5 => buf.truncate(at),
            6 if !donors.is_empty() => {
                // Our head, a donor's tail.
                let d = rng.choose(donors);
                let from = rng.below(d.len() + 1);
                buf.truncate(at);
                buf.extend_from_slice(&d[from..]);
            }
            7 if !donors.is_empty() => {
                let d = rng.choose(donors);
                let from = rng.below(d.len() + 1);
                let n = rng.below(d.len() - from + 1).min(64);
                buf.splice(at..at, d[from..from + n].iter().copied());
            }
            8 if len > 0 => {
                let from = rng.below(len);
                let n = 1 + rng.below((len - from).min(32));
                let chunk = buf[from..from + n].to_vec();
                buf.splice(at..at, chunk);
            }
            9 if !tags.is_empty() => {
                let t = rng.pick(tags);
                if at < len && rng.one_in(2) {
                    buf[at] = t;
                } else {
                    buf.insert(at, t);
                }
            }
            _ => {
                // Swap two bytes.
                if len > 1 {
                    let (i, j) = (rng.below(len), rng.below(len));
                    buf.swap(i, j);
                }
            }
        }
    }
    buf.truncate(max_len);
}

/// How much a target may allocate for an input of `len` bytes: `per_byte * len + fixed`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bound {
    pub(super) per_byte: usize,
    pub(super) fixed: usize,
}

impl Bound {
    pub(super) fn of(&self, len: usize) -> usize {
        self.per_byte * len + self.fixed
    }
}

/// Inputs per target: `HIVE_FUZZ_ITERS`, else `default`.
fn iterations(default: u64) -> u64 {
    std::env::var("HIVE_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The run's seed: `HIVE_FUZZ_SEED` (decimal or `0x` hex), else a fixed one.
fn seed() -> u64 {
    let v = std::env::var("HIVE_FUZZ_SEED").unwrap_or_default();
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
    .unwrap_or(0x0048_6976_652d_3138) // "Hive-18"
}

/// `b` in hex, cut at 8 KiB of input.
pub(super) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len().min(8192) + 32);
    for x in b.iter().take(8192) {
        let _ = write!(s, "{x:02x}");
    }
    if b.len() > 8192 {
        let _ = write!(s, "... ({} bytes)", b.len());
    }
    s
}

/// One target: how its inputs are made, run and judged.
pub(super) struct Target<C, R> {
    pub(super) name: &'static str,
    /// Inputs when `HIVE_FUZZ_ITERS` is not set.
    pub(super) default_iters: u64,
    /// The memory bound every input must keep.
    pub(super) bound: Bound,
    /// A tighter bound, counted but not enforced (a known over-allocation, reported).
    pub(super) strict: Option<Bound>,
    /// The next input, from the stream and the pool of accepted inputs.
    pub(super) make: fn(&mut Rng, &[C]) -> C,
    /// The bytes the peer sent in an input.
    pub(super) len: fn(&C) -> usize,
    /// An input in hex, for failure reports.
    pub(super) show: fn(&C) -> String,
    /// Runs the code under test; what it allocates counts against the bound.
    pub(super) exec: fn(&C) -> R,
    /// Checks the result (not measured); true when the input was accepted.
    pub(super) check: fn(&C, R) -> bool,
}

/// What a run found.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub(super) iters: u64,
    pub(super) accepted: u64,
    pub(super) panics: u64,
    pub(super) over_bound: u64,
    pub(super) over_strict: u64,
    pub(super) max_peak: usize,
    /// Input bytes, all inputs together.
    pub(super) bytes: u64,
    /// The largest peak / input length.
    pub(super) max_ratio: f64,
    /// The largest peak / bound (at most 1 in a passing run), and the peak and length of
    /// that input.
    pub(super) max_of_bound: f64,
    pub(super) closest: (usize, usize),
    /// Up to 8 failures: what and the input.
    pub(super) failures: Vec<String>,
}

/// How many accepted inputs the pool keeps.
const POOL: usize = 512;

/// Runs `t` for `HIVE_FUZZ_ITERS` inputs, prints its line and fails on any panic or input
/// over the bound, naming the inputs in hex.
pub(super) fn run<C: Clone, R>(t: &Target<C, R>) -> Report {
    let iters = iterations(t.default_iters);
    let seed = seed();
    // Each target its own stream of the same seed.
    let salt = t.name.bytes().fold(0u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = Rng::new(seed ^ salt);
    let mut pool: Vec<C> = Vec::new();
    let mut rep = Report {
        iters,
        ..Report::default()
    };
    let start = Instant::now();
    for _ in 0..iters {
        let c = (t.make)(&mut rng, &pool);
        let len = (t.len)(&c);
        rep.bytes += len as u64;
        let ran = catch_unwind(AssertUnwindSafe(|| {
            let (r, peak) = crate::peak_heap(|| (t.exec)(&c));
            ((t.check)(&c, r), peak)
        }));
        let (accepted, peak) = match ran {
            Ok(x) => x,
            Err(e) => {
                rep.panics += 1;
                let msg = e
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| e.downcast_ref::<&str>().copied())
                    .unwrap_or("?");
                if rep.failures.len() < 8 {
                    rep.failures
                        .push(format!("panic `{msg}` on input {}", (t.show)(&c)));
                }
                continue;
            }
        };
        if accepted {
            rep.accepted += 1;
            if pool.len() < POOL {
                pool.push(c.clone());
            } else if rng.one_in(4) {
                let i = rng.below(POOL);
                pool[i] = c.clone();
            }
        }
        let Some(peak) = peak else { continue };
        rep.max_peak = rep.max_peak.max(peak);
        rep.max_ratio = rep.max_ratio.max(peak as f64 / len.max(1) as f64);
        let bound = t.bound.of(len);
        if peak as f64 / bound as f64 > rep.max_of_bound {
            rep.max_of_bound = peak as f64 / bound as f64;
            rep.closest = (peak, len);
        }
        if peak > bound {
            rep.over_bound += 1;
            if rep.failures.len() < 8 {
                rep.failures.push(format!(
                    "peak heap {peak} B over the bound {bound} B for {len} input bytes: {}",
                    (t.show)(&c)
                ));
            }
        }
        if t.strict.is_some_and(|s| peak > s.of(len)) {
            rep.over_strict += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let strict = match t.strict {
        Some(s) => format!(
            ", {} over the strict bound {}x+{}",
            rep.over_strict, s.per_byte, s.fixed
        ),
        None => String::new(),
    };
    println!(
        "fuzz {}: {} inputs (seed {seed:#x}, mean {} B), {} accepted, {} rejected, {} panics, {} over the \
         memory bound {}x+{}{strict}; peak heap max {} B, max peak/len {:.1}, max peak/bound \
         {:.3} ({} B for {} B); {secs:.1} s",
        t.name,
        rep.iters,
        rep.bytes / rep.iters.max(1),
        rep.accepted,
        rep.iters - rep.accepted - rep.panics,
        rep.panics,
        rep.over_bound,
        t.bound.per_byte,
        t.bound.fixed,
        rep.max_peak,
        rep.max_ratio,
        rep.max_of_bound,
        rep.closest.0,
        rep.closest.1,
    );
    assert!(
        rep.panics == 0 && rep.over_bound == 0,
        "fuzz {}: {} panics, {} over the memory bound (seed {seed:#x}):\n{}",
        t.name,
        rep.panics,
        rep.over_bound,
        rep.failures.join("\n")
    );
    rep
}

#[test]
fn mutations_stay_within_the_length_limit_and_are_reproducible() {
    let donors = vec![vec![1u8, 2, 3], vec![9; 40]];
    let mut a = Rng::new(7);
    let mut b = Rng::new(7);
    let (mut x, mut y) = (vec![0u8; 10], vec![0u8; 10]);
    for _ in 0..10_000 {
        mutate(&mut a, &mut x, &donors, &[104, 108], 64);
        mutate(&mut b, &mut y, &donors, &[104, 108], 64);
        assert!(x.len() <= 64);
        if x.is_empty() {
            x.push(0);
            y.push(0);
        }
    }
    assert_eq!(x, y);
}

#[test]
fn peak_heap_sees_this_threads_allocations() {
    let ((), peak) = crate::peak_heap(|| {
        let v = vec![0u8; 10_000];
        std::hint::black_box(&v);
        drop(v);
        let w = vec![0u8; 100];
        std::hint::black_box(&w);
    });
    if let Some(p) = peak {
        assert!((10_000..12_000).contains(&p), "{p}");
    }
    // A growing realloc counts both blocks.
    let ((), peak) = crate::peak_heap(|| {
        let mut v = vec![0u8; 1000];
        v.reserve_exact(3000);
        std::hint::black_box(&v);
    });
    if let Some(p) = peak {
        assert!((5000..5200).contains(&p), "{p}");
    }
}
