//! The ETF decoder's entry points on what peers send: [`decode`] (exit reasons,
//! `net_kernel` calls, spawn arguments, `hive_term_decode`), [`decode_prefix`] (control
//! terms) and [`skip`] at any depth (payloads passed through, `control::is_term`).
//!
//! Beyond "no panic, bounded memory", the entry points must agree: `decode_prefix` accepts
//! exactly what `skip` accepts, with the same length; `decode` accepts exactly the inputs
//! that are one whole term; a deeper limit accepts a superset; a decoded term re-encodes to
//! bytes that decode to the same term.

// The targets' functions take `&C`, here `&Vec<u8>`.
#![allow(clippy::ptr_arg)]

use super::etf_gen::{self, TAGS};
use super::{hex, mutate, run, Bound, Rng, Target};
use crate::dist::etf::{decode, decode_prefix, skip, to_vec, EtfError, Limits, Term};

/// The longest input made.
const MAX_LEN: usize = 16 * 1024;

/// Inputs per target under plain `cargo test` (debug): a few seconds.
const DEFAULT_ITERS: u64 = 5_000;

/// The decoder's bound. The building pass runs after the validating pass has found every
/// element, and holds one [`Term`] per element; an element takes at least one input byte
/// (`NIL_EXT`), and a map's elements go straight into pairs, so the terms take at most
/// `size_of::<Term>()` bytes (56) per input byte: a tuple of NILs reaches it. What else is
/// allocated is less per byte than a `Term` of the bytes it stands for: a copy of a binary,
/// string, big integer or fun (whose free variables are not built); an atom's text (a
/// Latin-1 one grows to UTF-8, at most 3 bytes per byte while its `String` grows); a
/// `List`'s boxed tail. `skip` at unbounded depth keeps its open containers (24 bytes each,
/// 2 input bytes at least) in a doubling vector: at most 36 bytes per byte. The fixed part
/// is the stack of open containers' element lists when building, which costs more than a
/// `Term` per byte of a deep nest of one-element tuples (2 bytes a level): at most 128
/// levels (`Limits::max_depth`) of an `Items` (80 bytes) in a doubling vector, and the
/// per-level vectors: under 16 KiB.
pub(super) fn decoder_bound() -> Bound {
    Bound {
        per_byte: std::mem::size_of::<Term>(),
        fixed: 16 * 1024,
    }
}

pub(super) fn make(rng: &mut Rng, pool: &[Vec<u8>]) -> Vec<u8> {
    match rng.below(256) {
        0..=7 => rng.bytes_below(64),
        8..=15 => {
            let mut b = vec![131];
            b.extend(rng.bytes_below(64));
            b
        }
        16..=19 => etf_gen::deep(rng),
        20 => etf_gen::dense(rng),
        21..=63 => etf_gen::seed(rng),
        _ => {
            let mut b = if !pool.is_empty() && rng.one_in(2) {
                rng.choose(pool).clone()
            } else {
                etf_gen::seed(rng)
            };
            let mut donors = vec![etf_gen::seed(rng)];
            if !pool.is_empty() {
                donors.push(rng.choose(pool).clone());
            }
            mutate(rng, &mut b, &donors, TAGS, MAX_LEN);
            b
        }
    }
}

/// What the measured part returns: `decode`, `decode_prefix`'s length (its term is
/// dropped at once, so the two terms are not both live) and `skip` at any depth.
type Out = (
    Result<Term, EtfError>,
    Result<usize, EtfError>,
    Result<usize, EtfError>,
);

fn exec(b: &Vec<u8>) -> Out {
    let prefix = decode_prefix(b, &Limits::default()).map(|(_, n)| n);
    let any_depth = skip(
        b,
        &Limits {
            max_depth: u32::MAX,
        },
    );
    (decode(b), prefix, any_depth)
}

fn check(b: &Vec<u8>, (full, prefix, any_depth): Out) -> bool {
    let l = Limits::default();
    assert_eq!(prefix, skip(b, &l), "decode_prefix and skip disagree");
    match &full {
        Ok(_) => assert_eq!(prefix, Ok(b.len()), "decode accepted a prefix"),
        Err(EtfError::Trailing) => assert!(prefix.is_ok_and(|n| n < b.len())),
        Err(e) => assert_eq!(prefix, Err(*e), "decode and decode_prefix disagree"),
    }
    if let Ok(n) = prefix {
        assert_eq!(any_depth, Ok(n), "a deeper limit refused a term");
    }
    if let Ok(t) = &full {
        let again = to_vec(t);
        assert_eq!(
            decode(&again).as_ref(),
            Ok(t),
            "re-encoding {}",
            hex(&again)
        );
        assert_eq!(to_vec(&decode(&again).unwrap()), again, "not canonical");
        let (pt, _) = decode_prefix(b, &l).expect("accepted above");
        assert_eq!(&pt, t);
        let _ = t.to_string();
    }
    full.is_ok()
}

fn len(b: &Vec<u8>) -> usize {
    b.len()
}

fn show(b: &Vec<u8>) -> String {
    hex(b)
}

#[test]
fn fuzz_etf_decode() {
    run(&Target {
        name: "etf_decode",
        default_iters: DEFAULT_ITERS,
        bound: decoder_bound(),
        strict: None,
        make,
        len,
        show,
        exec,
        check,
    });
}
