//! Unit tests of the ETF codec: every tag, boundaries, round trips, the text form.

use super::*;

/// `bytes` decodes to `t`, and `t` encodes back to `bytes`.
fn exact(bytes: &[u8], t: &Term) {
    assert_eq!(decode(bytes).as_ref(), Ok(t), "decode {bytes:?}");
    assert_eq!(to_vec(t), bytes, "encode {t:?}");
    assert_eq!(skip(bytes, &Limits::default()), Ok(bytes.len()));
}

/// `bytes` (a non-canonical encoding) decodes to `t`, which encodes as `canonical`.
fn normalised(bytes: &[u8], t: &Term, canonical: &[u8]) {
    assert_eq!(decode(bytes).as_ref(), Ok(t), "decode {bytes:?}");
    exact(canonical, t);
}

fn v(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn atom_bytes(s: &str) -> Vec<u8> {
    v(&[&[119, s.len() as u8], s.as_bytes()])
}

fn node() -> Atom {
    Atom::new("nonode@nohost").unwrap()
}

#[test]
fn small_and_32_bit_integers() {
    exact(&[131, 97, 0], &Term::Int(0));
    exact(&[131, 97, 255], &Term::Int(255));
    exact(&[131, 98, 0, 0, 1, 0], &Term::Int(256));
    exact(&[131, 98, 255, 255, 255, 255], &Term::Int(-1));
    exact(
        &[131, 98, 0x7f, 0xff, 0xff, 0xff],
        &Term::Int(i32::MAX.into()),
    );
    exact(&[131, 98, 0x80, 0, 0, 0], &Term::Int(i32::MIN.into()));
}

#[test]
fn integers_beyond_32_bits() {
    exact(&[131, 110, 4, 0, 0, 0, 0, 0x80], &Term::Int(1 << 31));
    exact(&[131, 110, 4, 1, 1, 0, 0, 0x80], &Term::Int(-(1 << 31) - 1));
    let mut max = vec![131, 110, 8, 0];
    max.extend_from_slice(&i64::MAX.to_le_bytes());
    exact(&max, &Term::Int(i64::MAX));
    exact(
        &[131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80],
        &Term::Int(i64::MIN),
    );
    exact(
        &[
            131, 110, 8, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ],
        &Term::Int(-i64::MAX),
    );
}

#[test]
fn big_integers() {
    // 2^63: just beyond i64::MAX.
    exact(
        &[131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0x80],
        &Term::BigInt {
            negative: false,
            magnitude: vec![0, 0, 0, 0, 0, 0, 0, 0x80],
        },
    );
    // -(2^63 + 1): just beyond i64::MIN.
    exact(
        &[131, 110, 8, 1, 1, 0, 0, 0, 0, 0, 0, 0x80],
        &Term::BigInt {
            negative: true,
            magnitude: vec![1, 0, 0, 0, 0, 0, 0, 0x80],
        },
    );
    // 2^64.
    let m = vec![0, 0, 0, 0, 0, 0, 0, 0, 1];
    exact(
        &v(&[&[131, 110, 9, 0], &m]),
        &Term::BigInt {
            negative: false,
            magnitude: m,
        },
    );
    // 256 bytes of magnitude: LARGE_BIG_EXT.
    let m = vec![7u8; 256];
    exact(
        &v(&[&[131, 111, 0, 0, 1, 0, 1], &m]),
        &Term::BigInt {
            negative: true,
            magnitude: m,
        },
    );
}

#[test]
fn integers_are_normalised() {
    normalised(&[131, 98, 0, 0, 0, 5], &Term::Int(5), &[131, 97, 5]);
    normalised(&[131, 110, 0, 0], &Term::Int(0), &[131, 97, 0]);
    normalised(&[131, 110, 0, 1], &Term::Int(0), &[131, 97, 0]);
    normalised(&[131, 110, 2, 0, 5, 0], &Term::Int(5), &[131, 97, 5]);
    normalised(&[131, 111, 0, 0, 0, 1, 0, 7], &Term::Int(7), &[131, 97, 7]);
    normalised(
        &[131, 110, 1, 2, 7],
        &Term::Int(-7),
        &[131, 98, 255, 255, 255, 249],
    );
    let m = vec![0, 0, 0, 0, 0, 0, 0, 0, 1];
    normalised(
        &[131, 110, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
        &Term::BigInt {
            negative: false,
            magnitude: m.clone(),
        },
        &v(&[&[131, 110, 9, 0], &m]),
    );
    // A hand-built non-normal BigInt is normalised on encode.
    let t = Term::BigInt {
        negative: true,
        magnitude: vec![3, 0, 0],
    };
    assert_eq!(to_vec(&t), [131, 98, 255, 255, 255, 253]);
}

#[test]
fn floats() {
    let mut b = vec![131, 70];
    b.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
    exact(&b, &Term::Float(1.5));
    let mut b = vec![131, 70];
    b.extend_from_slice(&(-0.0f64).to_bits().to_be_bytes());
    assert_eq!(to_vec(&decode(&b).unwrap()), b, "-0.0 keeps its sign bit");
    // term_to_binary(1.5, [{minor_version, 0}]).
    let mut old = vec![131, 99];
    old.extend_from_slice(b"1.50000000000000000000e+00");
    old.resize(2 + 31, 0);
    let mut new = vec![131, 70];
    new.extend_from_slice(&1.5f64.to_bits().to_be_bytes());
    normalised(&old, &Term::Float(1.5), &new);
}

#[test]
fn atoms() {
    exact(&[131, 119, 3, b'a', b'b', b'c'], &Term::atom("abc"));
    exact(&[131, 119, 0], &Term::atom(""));
    let canonical = [131, 119, 3, b'a', b'b', b'c'];
    normalised(
        &[131, 100, 0, 3, b'a', b'b', b'c'],
        &Term::atom("abc"),
        &canonical,
    );
    normalised(
        &[131, 115, 3, b'a', b'b', b'c'],
        &Term::atom("abc"),
        &canonical,
    );
    normalised(
        &[131, 118, 0, 3, b'a', b'b', b'c'],
        &Term::atom("abc"),
        &canonical,
    );
    // Latin-1 é becomes UTF-8.
    normalised(
        &[131, 115, 1, 0xe9],
        &Term::atom("é"),
        &[131, 119, 2, 0xc3, 0xa9],
    );
    normalised(
        &[131, 100, 0, 1, 0xe9],
        &Term::atom("é"),
        &[131, 119, 2, 0xc3, 0xa9],
    );
    // 255 characters: the longest atom, in 255 bytes (119) and in 510 (118).
    let a255 = "a".repeat(255);
    exact(&v(&[&[131, 119, 255], a255.as_bytes()]), &Term::atom(&a255));
    let e255 = "é".repeat(255);
    exact(
        &v(&[&[131, 118, 1, 254], e255.as_bytes()]),
        &Term::atom(&e255),
    );
    let latin = vec![b'x'; 255];
    assert_eq!(
        decode(&v(&[&[131, 100, 0, 255], &latin])),
        Ok(Term::atom(&"x".repeat(255)))
    );
}

#[test]
fn atoms_longer_than_255_characters_are_refused() {
    assert_eq!(Atom::new(&"a".repeat(256)), Err(EtfError::BadAtom));
    assert!(Atom::new(&"é".repeat(255)).is_ok());
    let e256 = "é".repeat(256);
    assert_eq!(
        decode(&v(&[&[131, 118, 2, 0], e256.as_bytes()])),
        Err(EtfError::BadAtom)
    );
    let a256 = vec![b'a'; 256];
    assert_eq!(
        decode(&v(&[&[131, 118, 1, 0], &a256])),
        Err(EtfError::BadAtom)
    );
    assert_eq!(
        decode(&v(&[&[131, 100, 1, 0], &a256])),
        Err(EtfError::BadAtom)
    );
}

#[test]
#[should_panic(expected = "atom longer than 255 characters")]
fn term_atom_panics_beyond_255_characters() {
    let _ = Term::atom(&"a".repeat(256));
}

#[test]
fn binaries_and_bitstrings() {
    exact(&[131, 109, 0, 0, 0, 0], &Term::Binary(vec![]));
    exact(
        &[131, 109, 0, 0, 0, 3, 1, 2, 3],
        &Term::Binary(vec![1, 2, 3]),
    );
    // term_to_binary(<<1:3>>).
    exact(
        &[131, 77, 0, 0, 0, 1, 3, 32],
        &Term::BitBinary {
            bytes: vec![32],
            last_bits: 3,
        },
    );
    exact(
        &[131, 77, 0, 0, 0, 2, 8, 1, 2],
        &Term::BitBinary {
            bytes: vec![1, 2],
            last_bits: 8,
        },
    );
    normalised(
        &[131, 77, 0, 0, 0, 0, 0],
        &Term::Binary(vec![]),
        &[131, 109, 0, 0, 0, 0],
    );
    assert_eq!(
        decode(&[131, 77, 0, 0, 0, 1, 0, 5]),
        Err(EtfError::BadLength)
    );
    assert_eq!(
        decode(&[131, 77, 0, 0, 0, 1, 9, 5]),
        Err(EtfError::BadLength)
    );
    assert_eq!(decode(&[131, 77, 0, 0, 0, 0, 3]), Err(EtfError::BadLength));
}

#[test]
fn tuples() {
    exact(&[131, 104, 0], &Term::tuple(vec![]));
    exact(
        &[131, 104, 2, 97, 1, 106],
        &Term::tuple(vec![Term::Int(1), Term::Nil]),
    );
    let t255 = Term::tuple(vec![Term::Nil; 255]);
    exact(&v(&[&[131, 104, 255], &[106; 255]]), &t255);
    let t256 = Term::tuple(vec![Term::Nil; 256]);
    exact(&v(&[&[131, 105, 0, 0, 1, 0], &[106; 256]]), &t256);
    normalised(
        &[131, 105, 0, 0, 0, 1, 106],
        &Term::tuple(vec![Term::Nil]),
        &[131, 104, 1, 106],
    );
}

#[test]
fn lists_and_strings() {
    exact(&[131, 106], &Term::Nil);
    assert_eq!(Term::list(vec![]), Term::Nil);
    exact(
        &[131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 106],
        &Term::list(vec![Term::Int(1), Term::Int(2)]),
    );
    // [1 | 2]
    exact(
        &[131, 108, 0, 0, 0, 1, 97, 1, 97, 2],
        &Term::List(vec![Term::Int(1)], Box::new(Term::Int(2))),
    );
    // A LIST_EXT without elements reads as its tail.
    normalised(&[131, 108, 0, 0, 0, 0, 106], &Term::Nil, &[131, 106]);
    normalised(&[131, 108, 0, 0, 0, 0, 97, 4], &Term::Int(4), &[131, 97, 4]);
    assert_eq!(
        to_vec(&Term::List(vec![], Box::new(Term::Int(4)))),
        [131, 97, 4]
    );
    exact(
        &[131, 107, 0, 3, b'a', b'b', b'c'],
        &Term::String(b"abc".to_vec()),
    );
    exact(&[131, 107, 0, 0], &Term::String(vec![]));
    // Too long for STRING_EXT: a list of small integers, as OTP writes it.
    let long = Term::String(vec![7; 65536]);
    let b = to_vec(&long);
    assert_eq!(&b[..8], &[131, 108, 0, 1, 0, 0, 97, 7]);
    assert_eq!(decode(&b), Ok(Term::list(vec![Term::Int(7); 65536])));
    exact(
        &v(&[&[131, 107, 255, 255], &[1; 65535]]),
        &Term::String(vec![1; 65535]),
    );
}

#[test]
fn maps() {
    exact(&[131, 116, 0, 0, 0, 0], &Term::Map(vec![]));
    let m = Term::Map(vec![
        (Term::atom("b"), Term::Int(1)),
        (Term::atom("a"), Term::Nil),
    ]);
    exact(
        &[131, 116, 0, 0, 0, 2, 119, 1, b'b', 97, 1, 119, 1, b'a', 106],
        &m,
    );
}

#[test]
fn pids() {
    // term_to_binary(self()) on OTP 25, with its Latin-1 node atom.
    let otp25 = [
        131, 88, 100, 0, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0, 0,
        0, 9, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let p = Term::Pid(ExtPid {
        node: node(),
        id: 9,
        serial: 0,
        creation: 0,
    });
    let canonical = v(&[
        &[131, 88],
        &atom_bytes("nonode@nohost"),
        &[0, 0, 0, 9],
        &[0; 8],
    ]);
    normalised(&otp25, &p, &canonical);
    let p = Term::Pid(ExtPid {
        node: node(),
        id: u32::MAX,
        serial: u32::MAX,
        creation: u32::MAX,
    });
    exact(
        &v(&[&[131, 88], &atom_bytes("nonode@nohost"), &[255; 12]]),
        &p,
    );
    // The old PID_EXT: 8-bit creation.
    let old = v(&[
        &[131, 103],
        &atom_bytes("a@b"),
        &[0, 0, 0, 5, 0, 0, 0, 6, 2],
    ]);
    let p = Term::Pid(ExtPid {
        node: Atom::new("a@b").unwrap(),
        id: 5,
        serial: 6,
        creation: 2,
    });
    normalised(
        &old,
        &p,
        &v(&[
            &[131, 88],
            &atom_bytes("a@b"),
            &[0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 2],
        ]),
    );
}

#[test]
fn references() {
    let r3 = Term::Ref(ExtRef {
        node: node(),
        creation: 7,
        ids: vec![1, 2, 3],
    });
    exact(
        &v(&[
            &[131, 90, 0, 3],
            &atom_bytes("nonode@nohost"),
            &[0, 0, 0, 7],
            &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
        ]),
        &r3,
    );
    let r5 = Term::Ref(ExtRef {
        node: node(),
        creation: 7,
        ids: vec![u32::MAX; 5],
    });
    exact(
        &v(&[
            &[131, 90, 0, 5],
            &atom_bytes("nonode@nohost"),
            &[0, 0, 0, 7],
            &[255; 20],
        ]),
        &r5,
    );
    let r1 = Term::Ref(ExtRef {
        node: node(),
        creation: 7,
        ids: vec![9],
    });
    let canonical = v(&[
        &[131, 90, 0, 1],
        &atom_bytes("nonode@nohost"),
        &[0, 0, 0, 7, 0, 0, 0, 9],
    ]);
    // NEW_REFERENCE_EXT (8-bit creation) and REFERENCE_EXT (one word).
    normalised(
        &v(&[
            &[131, 114, 0, 1],
            &atom_bytes("nonode@nohost"),
            &[7, 0, 0, 0, 9],
        ]),
        &r1,
        &canonical,
    );
    normalised(
        &v(&[&[131, 101], &atom_bytes("nonode@nohost"), &[0, 0, 0, 9, 7]]),
        &r1,
        &canonical,
    );
    for n in [0u8, 6] {
        let b = v(&[&[131, 90, 0, n], &atom_bytes("a"), &[0; 28]]);
        assert_eq!(decode(&b), Err(EtfError::BadLength));
    }
}

#[test]
fn ports() {
    let big = Term::Port(ExtPort {
        node: node(),
        id: 1 << 40,
        creation: 3,
    });
    exact(
        &v(&[
            &[131, 120],
            &atom_bytes("nonode@nohost"),
            &(1u64 << 40).to_be_bytes(),
            &[0, 0, 0, 3],
        ]),
        &big,
    );
    let small = Term::Port(ExtPort {
        node: node(),
        id: 5,
        creation: 3,
    });
    let canonical = v(&[
        &[131, 89],
        &atom_bytes("nonode@nohost"),
        &[0, 0, 0, 5, 0, 0, 0, 3],
    ]);
    exact(&canonical, &small);
    normalised(
        &v(&[
            &[131, 120],
            &atom_bytes("nonode@nohost"),
            &5u64.to_be_bytes(),
            &[0, 0, 0, 3],
        ]),
        &small,
        &canonical,
    );
    normalised(
        &v(&[&[131, 102], &atom_bytes("nonode@nohost"), &[0, 0, 0, 5, 3]]),
        &small,
        &canonical,
    );
    let max = Term::Port(ExtPort {
        node: node(),
        id: u64::MAX,
        creation: u32::MAX,
    });
    assert_eq!(decode(&to_vec(&max)), Ok(max));
}

/// A NEW_FUN_EXT with one free variable `Free` (its bytes).
pub(super) fn new_fun(free: &[u8]) -> Vec<u8> {
    let pid = v(&[&[88], &atom_bytes("a@b"), &[0; 12]]);
    let body = v(&[
        &[0],          // arity
        &[9; 16],      // uniq
        &[0, 0, 0, 1], // index
        &[0, 0, 0, 1], // num_free
        &atom_bytes("m"),
        &[97, 0],
        &[98, 0, 0, 1, 0],
        &pid,
        free,
    ]);
    let size = (body.len() + 4) as u32;
    v(&[&[112], &size.to_be_bytes(), &body])
}

#[test]
fn funs_are_opaque() {
    // term_to_binary(fun erlang:abs/1) on OTP 25.
    let export = [
        131, 113, 100, 0, 6, 101, 114, 108, 97, 110, 103, 100, 0, 3, 97, 98, 115, 97, 1,
    ];
    exact(&export, &Term::Opaque(export[1..].to_vec()));
    let f = new_fun(&[104, 1, 97, 5]);
    exact(&v(&[&[131], &f]), &Term::Opaque(f.clone()));
    let t = Term::tuple(vec![Term::Opaque(f.clone()), Term::Int(1)]);
    assert_eq!(decode(&to_vec(&t)), Ok(t));
    // A size field that disagrees with the contents.
    let mut bad = v(&[&[131], &f]);
    bad[5] ^= 1;
    assert_eq!(decode(&bad), Err(EtfError::BadLength));
    // FUN_EXT: NumFree, Pid, Module, Index, Uniq, free variables.
    let old = v(&[
        &[131, 117, 0, 0, 0, 1],
        &[88],
        &atom_bytes("a@b"),
        &[0; 12],
        &atom_bytes("m"),
        &[97, 1, 98, 0, 0, 0, 2],
        &[106],
    ]);
    exact(&old, &Term::Opaque(old[1..].to_vec()));
    // Not a pid where the pid must be.
    let bad = v(&[&[131, 117, 0, 0, 0, 0, 97, 1]]);
    assert_eq!(decode(&bad), Err(EtfError::UnknownTag(97)));
}

#[test]
fn framing_errors() {
    assert_eq!(decode(&[]), Err(EtfError::Truncated));
    assert_eq!(decode(&[131]), Err(EtfError::Truncated));
    assert_eq!(decode(&[130, 97, 0]), Err(EtfError::BadVersion));
    assert_eq!(decode(&[131, 97, 0, 0]), Err(EtfError::Trailing));
    let l = Limits::default();
    assert_eq!(
        decode_prefix(&[131, 97, 7, 131, 106], &l),
        Ok((Term::Int(7), 3))
    );
    assert_eq!(skip(&[131, 97, 7, 131, 106], &l), Ok(3));
    assert_eq!(
        decode(&[131, 80, 0, 0, 0, 1, 120, 156]),
        Err(EtfError::Unsupported(80))
    );
    assert_eq!(decode(&[131, 82, 0]), Err(EtfError::Unsupported(82)));
    assert_eq!(decode(&[131, 121, 0]), Err(EtfError::Unsupported(121)));
    for t in [0u8, 1, 69, 71, 81, 99 + 23, 200, 255] {
        assert_eq!(
            decode(&[131, t, 0, 0, 0, 0]),
            Err(EtfError::UnknownTag(t)),
            "tag {t}"
        );
    }
    // A pid whose node is not an atom, or an atom-cache reference.
    assert_eq!(decode(&[131, 88, 97, 1]), Err(EtfError::BadAtom));
    assert_eq!(decode(&[131, 88, 82, 1]), Err(EtfError::Unsupported(82)));
}

#[test]
fn accessors() {
    assert_eq!(Term::atom("ok").as_atom(), Some("ok"));
    assert_eq!(Term::Int(3).as_atom(), None);
    assert_eq!(Term::Int(3).as_int(), Some(3));
    assert_eq!(Term::Nil.as_int(), None);
    let t = Term::tuple(vec![Term::Nil]);
    assert_eq!(t.as_tuple(), Some(&[Term::Nil][..]));
    assert_eq!(Term::Binary(vec![1]).as_binary(), Some(&[1u8][..]));
    assert_eq!(Term::String(vec![1]).as_binary(), None);
    assert_eq!(Atom::new("x").unwrap().as_str(), "x");
}

#[test]
fn display() {
    let n = || Atom::new("a@b").unwrap();
    let cases: Vec<(Term, &str)> = vec![
        (Term::Int(-5), "-5"),
        (
            Term::BigInt {
                negative: false,
                magnitude: vec![0, 0, 0, 0, 0, 0, 0, 0, 1],
            },
            "18446744073709551616",
        ),
        (
            Term::BigInt {
                negative: true,
                magnitude: vec![0, 0, 0, 0, 0, 0, 0, 0x80],
            },
            "-9223372036854775808",
        ),
        (
            Term::BigInt {
                negative: false,
                magnitude: vec![0, 0, 0, 0, 10, 91, 193, 56, 147, 141, 68, 198, 77, 49],
            },
            "1000000000000000000000000000000000",
        ),
        (Term::Float(1.5), "1.5"),
        (Term::Float(1e100), "1.0e100"),
        (Term::atom("ok"), "ok"),
        (Term::atom("Ok"), "'Ok'"),
        (Term::atom("a b'c"), "'a b\\'c'"),
        (Term::atom("receive"), "'receive'"),
        (Term::atom(""), "''"),
        (Term::atom("node@host_1"), "node@host_1"),
        (Term::Binary(vec![1, 2]), "<<1,2>>"),
        (
            Term::BitBinary {
                bytes: vec![1, 0xa0],
                last_bits: 3,
            },
            "<<1,5:3>>",
        ),
        (Term::tuple(vec![Term::Int(1), Term::atom("a")]), "{1,a}"),
        (Term::list(vec![Term::Int(1), Term::Int(2)]), "[1,2]"),
        (
            Term::List(vec![Term::Int(1)], Box::new(Term::Int(2))),
            "[1|2]",
        ),
        (Term::Nil, "[]"),
        (Term::String(b"ab\"\n".to_vec()), "\"ab\\\"\\n\""),
        (
            Term::Map(vec![
                (Term::atom("k"), Term::Int(1)),
                (Term::Int(2), Term::Nil),
            ]),
            "#{k => 1,2 => []}",
        ),
        (
            Term::Pid(ExtPid {
                node: n(),
                id: 9,
                serial: 2,
                creation: 1,
            }),
            "<a@b.9.2>",
        ),
        (
            Term::Ref(ExtRef {
                node: n(),
                creation: 1,
                ids: vec![1, 2, 3],
            }),
            "#Ref<a@b.3.2.1>",
        ),
        (
            Term::Port(ExtPort {
                node: n(),
                id: 4,
                creation: 1,
            }),
            "#Port<a@b.4>",
        ),
        (Term::Opaque(vec![113, 1, 2]), "#Fun<3 bytes>"),
    ];
    for (t, s) in cases {
        assert_eq!(t.to_string(), s);
    }
    assert_eq!(
        EtfError::UnknownTag(3).to_string(),
        "ETF: unknown or misplaced tag 3"
    );
}

#[test]
fn term_size_backs_the_memory_bound() {
    // The module documentation bounds decoded memory by about 64 bytes of Term per input
    // byte (every element takes at least one input byte).
    assert!(
        std::mem::size_of::<Term>() <= 64,
        "{}",
        std::mem::size_of::<Term>()
    );
}
