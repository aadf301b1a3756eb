//! Valid ETF for the decoder and frame targets: random terms of every tag, nested, with the
//! old encodings OTP still sends (Latin-1 atoms, `PID_EXT`, old references and ports,
//! `FLOAT_EXT`, `FUN_EXT`, non-canonical integers) mixed in as verbatim fragments.

use super::Rng;
use crate::dist::etf::{to_vec, Atom, ExtPid, ExtPort, ExtRef, Term};

/// Every ETF tag, the version byte and two unknown tags: bytes a tag mutation writes.
pub(super) const TAGS: &[u8] = &[
    70, 77, 80, 82, 88, 89, 90, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110,
    111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 131, 0, 255,
];

/// Node names: this node's and its peer's in the frame target, and others.
pub(super) const NODES: &[&str] = &["hive@localhost", "peer@localhost", "a@b", "nonode@nohost"];

/// Atoms the distribution code looks for.
const WORDS: &[&str] = &[
    "",
    "normal",
    "kill",
    "killed",
    "noproc",
    "noconnection",
    "shutdown",
    "net_kernel",
    "$gen_call",
    "is_auth",
    "link",
    "monitor",
    "undef",
    "ok",
    "m",
    "f",
];

pub(super) fn atom(rng: &mut Rng) -> Atom {
    let s = match rng.below(32) {
        0..=11 => rng.pick(WORDS).to_string(),
        12..=17 => rng.pick(NODES).to_string(),
        // Long ones, around the 255-character limit.
        18 => "é".repeat(rng.below(300)),
        19 => "\u{1F41D}".repeat(rng.below(64)),
        20 => "x".repeat(rng.below(256)),
        _ => (0..rng.below(12))
            .map(|_| char::from(b'a' + rng.below(26) as u8))
            .collect(),
    };
    Atom::new(&s).unwrap_or_else(|_| Atom::new("too_long").expect("short atom"))
}

pub(super) fn node(rng: &mut Rng) -> Atom {
    if rng.one_in(8) {
        return atom(rng);
    }
    Atom::new(rng.pick(NODES)).expect("short atom")
}

/// A small or edge 32-bit value.
fn word(rng: &mut Rng) -> u32 {
    match rng.below(4) {
        0 => rng.below(8) as u32,
        1 => rng.pick(&[1 << 24, (1 << 28) - 1, 1 << 28, u32::MAX, 0x7fff_ffff]),
        _ => rng.next_u64() as u32,
    }
}

/// The creations of this node (7) and its peer (9) in the frame target, and others.
fn creation(rng: &mut Rng) -> u32 {
    match rng.below(4) {
        0 => 7,
        1 => 9,
        2 => 0,
        _ => word(rng),
    }
}

pub(super) fn pid(rng: &mut Rng) -> ExtPid {
    ExtPid {
        node: node(rng),
        id: word(rng),
        serial: word(rng),
        creation: creation(rng),
    }
}

pub(super) fn reference(rng: &mut Rng) -> ExtRef {
    ExtRef {
        node: node(rng),
        creation: creation(rng),
        ids: (0..1 + rng.below(5)).map(|_| word(rng)).collect(),
    }
}

/// A term that holds no other term.
pub(super) fn leaf(rng: &mut Rng) -> Term {
    match rng.below(16) {
        0 => Term::Int(rng.below(256) as i64),
        1 => Term::Int(i64::from(rng.next_u64() as i32)),
        2 => Term::Int(rng.pick(&[i64::MIN, i64::MAX, -1, 1 << 31, -(1 << 31) - 1])),
        3 => {
            let max = if rng.one_in(32) { 300 } else { 24 };
            let n = 9 + rng.below(max);
            let mut magnitude = rng.bytes(n);
            if let Some(last) = magnitude.last_mut() {
                *last |= 1;
            }
            Term::BigInt {
                negative: rng.one_in(2),
                magnitude,
            }
        }
        4 => Term::Float(match rng.below(3) {
            0 => 0.5,
            1 => -1e300,
            _ => (rng.next_u64() >> 12) as f64 / 3.0,
        }),
        5 | 6 => Term::Atom(atom(rng)),
        7 => Term::Binary(rng.bytes_below(40)),
        8 => Term::BitBinary {
            bytes: {
                let n = 1 + rng.below(6);
                rng.bytes(n)
            },
            last_bits: 1 + rng.below(7) as u8,
        },
        9 => Term::Nil,
        10 => Term::String(rng.bytes_below(20)),
        11 => Term::Pid(pid(rng)),
        12 => Term::Ref(reference(rng)),
        13 => Term::Port(ExtPort {
            node: node(rng),
            id: if rng.one_in(2) {
                u64::from(word(rng))
            } else {
                rng.next_u64()
            },
            creation: creation(rng),
        }),
        14 => Term::Opaque(rng.pick(OLD).to_vec()),
        _ => Term::Opaque(export(rng)),
    }
}

/// A random term at most `depth` containers deep, of at most about 300 terms.
pub(super) fn term(rng: &mut Rng, depth: u32) -> Term {
    let mut budget = 300;
    tree(rng, depth, &mut budget)
}

fn tree(rng: &mut Rng, depth: u32, budget: &mut usize) -> Term {
    *budget = budget.saturating_sub(1);
    if depth == 0 || *budget == 0 || rng.one_in(3) {
        return leaf(rng);
    }
    let width = |rng: &mut Rng, budget: usize| {
        let w = if rng.one_in(32) {
            250 + rng.below(20) // around the small/large tuple boundary
        } else {
            rng.below(5)
        };
        w.min(budget)
    };
    match rng.below(5) {
        0 | 1 => {
            let n = width(rng, *budget);
            Term::Tuple((0..n).map(|_| tree(rng, depth - 1, budget)).collect())
        }
        2 => {
            let n = 1 + width(rng, *budget);
            let v = (0..n).map(|_| tree(rng, depth - 1, budget)).collect();
            let tail = if rng.one_in(4) {
                tree(rng, depth - 1, budget)
            } else {
                Term::Nil
            };
            Term::List(v, Box::new(tail))
        }
        3 => {
            let n = rng.below(5);
            Term::Map(
                (0..n)
                    .map(|_| (tree(rng, depth - 1, budget), tree(rng, depth - 1, budget)))
                    .collect(),
            )
        }
        _ => Term::Opaque(new_fun(rng, depth - 1, budget)),
    }
}

/// A term's encoding without the version byte.
fn body(t: &Term) -> Vec<u8> {
    to_vec(t)[1..].to_vec()
}

fn atom_bytes(rng: &mut Rng) -> Vec<u8> {
    body(&Term::Atom(atom(rng)))
}

/// `EXPORT_EXT`: `fun M:F/A`.
fn export(rng: &mut Rng) -> Vec<u8> {
    let mut b = vec![113];
    b.extend(atom_bytes(rng));
    b.extend(atom_bytes(rng));
    b.extend([97, rng.byte()]);
    b
}

/// `NEW_FUN_EXT` (or, one time in four, the old `FUN_EXT`) with random free variables.
fn new_fun(rng: &mut Rng, depth: u32, budget: &mut usize) -> Vec<u8> {
    let free: Vec<Term> = (0..rng.below(3))
        .map(|_| tree(rng, depth, budget))
        .collect();
    let pid = body(&Term::Pid(pid(rng)));
    let module = atom_bytes(rng);
    if rng.one_in(4) {
        let mut b = vec![117];
        b.extend((free.len() as u32).to_be_bytes());
        b.extend(&pid);
        b.extend(&module);
        b.extend([97, 1, 98, 0, 0, 0, 2]);
        free.iter().for_each(|t| b.extend(body(t)));
        return b;
    }
    let mut b = vec![rng.byte()]; // arity
    b.extend(rng.bytes(16)); // uniq
    b.extend(word(rng).to_be_bytes()); // index
    b.extend((free.len() as u32).to_be_bytes());
    b.extend(&module);
    b.extend([97, 0, 98, 0, 0, 1, 0]); // old index, old uniq
    b.extend(&pid);
    free.iter().for_each(|t| b.extend(body(t)));
    let mut f = vec![112];
    f.extend(((b.len() + 4) as u32).to_be_bytes());
    f.extend(b);
    f
}

/// Old and non-canonical encodings (without the version byte), as OTP may send them.
const OLD: &[&[u8]] = &[
    // FLOAT_EXT 1.5
    b"c1.50000000000000000000e+00\0\0\0\0\0",
    &[100, 0, 2, b'o', b'k'],                                 // ATOM_EXT
    &[100, 0, 3, b'n', 0xe9, b'e'],                           // ATOM_EXT, Latin-1
    &[115, 4, b'l', b'i', b'n', b'k'],                        // SMALL_ATOM_EXT
    &[118, 0, 2, 0xc3, 0xa9],                                 // ATOM_UTF8_EXT
    &[103, 115, 1, b'a', 0, 0, 0, 1, 0, 0, 0, 2, 3],          // PID_EXT
    &[114, 0, 1, 115, 1, b'a', 3, 0, 0, 0, 1],                // NEW_REFERENCE_EXT
    &[101, 115, 1, b'a', 0, 0, 0, 1, 3],                      // REFERENCE_EXT
    &[102, 115, 1, b'a', 0, 0, 0, 1, 3],                      // PORT_EXT
    &[120, 115, 1, b'a', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2], // V4_PORT_EXT
    &[98, 0, 0, 0, 5],                                        // INTEGER_EXT of a small value
    &[110, 2, 1, 0, 0],                                       // SMALL_BIG_EXT -0, trailing zero
    &[111, 0, 0, 0, 1, 0, 7],                                 // LARGE_BIG_EXT of 7
    &[110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80],                  // -2^63
    &[108, 0, 0, 0, 0, 97, 1],                                // LIST_EXT without elements
    &[77, 0, 0, 0, 0, 0],                                     // empty BIT_BINARY_EXT
    &[77, 0, 0, 0, 1, 3, 0xff],                               // 3 bits, unused ones set
    &[107, 0, 0],                                             // empty STRING_EXT
    &[105, 0, 0, 0, 1, 106],                                  // LARGE_TUPLE_EXT of one
    &[104, 2, 97, 1, 106],                                    // small tuple
    &[116, 0, 0, 0, 1, 106, 106],                             // map, duplicate-free
    // FUN_EXT with no free variables.
    &[
        117, 0, 0, 0, 0, 88, 115, 1, b'a', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 115, 1, b'm', 97, 1,
        97, 2,
    ],
];

/// A valid encoded term (version byte first): a random term, or an old encoding alone.
pub(super) fn seed(rng: &mut Rng) -> Vec<u8> {
    if rng.one_in(16) {
        let mut b = vec![131];
        b.extend_from_slice(rng.pick(OLD));
        return b;
    }
    let depth = rng.below(6) as u32;
    to_vec(&term(rng, depth))
}

/// Containers nested `depth` deep around a leaf, near and past the depth limit (128).
pub(super) fn deep(rng: &mut Rng) -> Vec<u8> {
    let depth = rng.pick(&[127usize, 128, 129, 200, 1000]);
    let mut b = vec![131];
    let mut closes = Vec::new();
    // One kind all the way down (the least input per level), or mixed.
    let uniform = rng.one_in(2).then(|| rng.below(4));
    for _ in 0..depth {
        match uniform.unwrap_or_else(|| rng.below(4)) {
            0 => b.extend([104, 1]),
            1 => {
                b.extend([108, 0, 0, 0, 1]);
                closes.push(106u8);
            }
            2 => b.extend([116, 0, 0, 0, 1, 106]),
            _ => b.extend([105, 0, 0, 0, 1]),
        }
    }
    b.push(97);
    b.push(1);
    b.extend(closes.iter().rev());
    b
}

/// Containers of the cheapest elements (one byte each: `NIL_EXT`), which make the decoder
/// build the most per input byte.
pub(super) fn dense(rng: &mut Rng) -> Vec<u8> {
    let max = if rng.one_in(4) { 16_000 } else { 4000 };
    let n = 1 + rng.below(max);
    let mut b = vec![131];
    match rng.below(5) {
        4 => {
            // A fun with n free variables: its bytes are kept whole beside them.
            b.push(117);
            b.extend((n as u32).to_be_bytes());
            b.extend([88, 119, 1, b'a', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
            b.extend([119, 1, b'm', 97, 1, 97, 2]);
            b.resize(b.len() + n, 106);
        }
        0 => {
            b.push(105);
            b.extend((n as u32).to_be_bytes());
            b.resize(b.len() + n, 106);
        }
        1 => {
            b.push(108);
            b.extend((n as u32).to_be_bytes());
            b.resize(b.len() + n + 1, 106);
        }
        2 => {
            b.push(116);
            b.extend((n as u32).to_be_bytes());
            b.resize(b.len() + 2 * n, 106);
        }
        _ => {
            // A tuple of one-character atoms.
            b.push(105);
            b.extend((n as u32).to_be_bytes());
            for _ in 0..n {
                b.extend([119, 1, b'a' + rng.below(26) as u8]);
            }
        }
    }
    b
}
