//! Unit tests of the ETF codec on hostile input: truncation, huge lengths, deep nesting,
//! bad atoms and floats. Every case must fail cleanly, without panicking or allocating
//! what the length fields claim.

use super::tests::new_fun;
use super::*;

fn v(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Valid encodings covering every tag.
fn samples() -> Vec<Vec<u8>> {
    let node = Atom::new("nonode@nohost").unwrap();
    let pid = Term::Pid(ExtPid {
        node: node.clone(),
        id: 1,
        serial: 2,
        creation: 3,
    });
    let terms = vec![
        Term::Int(7),
        Term::Int(-70000),
        Term::Int(i64::MIN),
        Term::BigInt {
            negative: true,
            magnitude: vec![1; 300],
        },
        Term::Float(-2.5),
        Term::atom("hello"),
        Term::atom(&"é".repeat(200)),
        Term::Binary(vec![1, 2, 3]),
        Term::BitBinary {
            bytes: vec![1, 2],
            last_bits: 5,
        },
        Term::tuple(vec![Term::Int(1), Term::tuple(vec![]), Term::Nil]),
        Term::tuple(vec![Term::Int(1); 300]),
        Term::List(
            vec![Term::Int(1), Term::atom("x")],
            Box::new(Term::Binary(vec![9])),
        ),
        Term::String(b"abc".to_vec()),
        Term::Map(vec![(Term::atom("k"), Term::list(vec![Term::Int(1)]))]),
        pid.clone(),
        Term::Ref(ExtRef {
            node: node.clone(),
            creation: 1,
            ids: vec![1, 2, 3, 4, 5],
        }),
        Term::Port(ExtPort {
            node: node.clone(),
            id: 1 << 33,
            creation: 1,
        }),
        Term::Port(ExtPort {
            node,
            id: 1,
            creation: 1,
        }),
        Term::Opaque(new_fun(&[104, 2, 97, 1, 106])),
        Term::tuple(vec![
            pid,
            Term::Opaque(vec![113, 119, 1, b'm', 119, 1, b'f', 97, 2]),
        ]),
    ];
    let mut out: Vec<Vec<u8>> = terms.iter().map(to_vec).collect();
    // Old and non-canonical encodings.
    let mut old_float = vec![131, 99];
    old_float.extend_from_slice(b"1.50000000000000000000e+00");
    old_float.resize(33, 0);
    out.push(old_float);
    out.push(vec![131, 100, 0, 2, b'o', b'k']);
    out.push(vec![131, 103, 115, 1, b'a', 0, 0, 0, 1, 0, 0, 0, 2, 3]);
    out.push(vec![131, 114, 0, 1, 115, 1, b'a', 3, 0, 0, 0, 1]);
    out.push(vec![131, 101, 115, 1, b'a', 0, 0, 0, 1, 3]);
    out.push(vec![131, 102, 115, 1, b'a', 0, 0, 0, 1, 3]);
    out.push(vec![
        131, 117, 0, 0, 0, 0, 88, 115, 1, b'a', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 115, 1, b'm',
        97, 1, 97, 2,
    ]);
    out
}

#[test]
fn samples_are_valid() {
    for s in samples() {
        let t = decode(&s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        assert_eq!(skip(&s, &Limits::default()), Ok(s.len()));
        assert_eq!(decode(&to_vec(&t)), Ok(t));
    }
}

#[test]
fn every_truncation_fails() {
    let l = Limits::default();
    for s in samples() {
        for n in 0..s.len() {
            let p = &s[..n];
            assert!(decode(p).is_err(), "prefix {p:?}");
            assert!(decode_prefix(p, &l).is_err(), "prefix {p:?}");
            assert!(skip(p, &l).is_err(), "prefix {p:?}");
        }
    }
}

#[test]
fn every_single_byte_change_is_handled() {
    // No panic, and skip and decode_prefix always agree.
    let l = Limits::default();
    for s in samples() {
        for i in 1..s.len() {
            for x in [0u8, 1, 0x7f, 0x80, 0xff, s[i] ^ 1] {
                let mut m = s.clone();
                m[i] = x;
                let d = decode_prefix(&m, &l).map(|(_, n)| n);
                assert_eq!(d, skip(&m, &l), "{m:?}");
            }
        }
    }
}

#[test]
fn huge_lengths_are_refused_before_allocating() {
    let cases: &[&[u8]] = &[
        &[131, 108, 255, 255, 255, 255],
        &[131, 108, 255, 255, 255, 255, 106],
        &[131, 109, 255, 255, 255, 255],
        &[131, 116, 255, 255, 255, 255],
        &[131, 116, 128, 0, 0, 0, 106, 106],
        &[131, 105, 255, 255, 255, 255],
        &[131, 105, 255, 255, 255, 255, 106, 106, 106],
        &[131, 104, 255, 106],
        &[131, 111, 255, 255, 255, 255, 0, 1],
        &[131, 110, 255, 0, 1],
        &[131, 107, 255, 255, b'a'],
        &[131, 77, 255, 255, 255, 255, 3, 1],
        &[131, 118, 255, 255, b'a'],
        &[131, 100, 255, 255, b'a'],
        &[131, 112, 255, 255, 255, 255],
        &[131, 117, 255, 255, 255, 255, 88],
    ];
    for c in cases {
        let e = decode(c).expect_err("must fail");
        assert!(
            matches!(e, EtfError::BadLength | EtfError::Truncated),
            "{c:?}: {e:?}"
        );
        assert!(skip(c, &Limits::default()).is_err());
    }
}

#[test]
fn nested_claims_do_not_multiply_reservations() {
    // 128 nested tuples, each claiming as many elements as the input has bytes: each
    // claim passes the bytes-left check, but the validation pass fails before the
    // building pass reserves anything.
    let mut b = vec![131];
    for _ in 0..128 {
        b.extend_from_slice(&[105, 0, 1, 0, 0]);
    }
    b.resize(70_000, 106);
    assert!(decode(&b).is_err());
}

fn nested(open: &[u8], leaf: &[u8], close: &[u8], depth: usize) -> Vec<u8> {
    let mut b = vec![131];
    for _ in 0..depth {
        b.extend_from_slice(open);
    }
    b.extend_from_slice(leaf);
    for _ in 0..depth {
        b.extend_from_slice(close);
    }
    b
}

#[test]
fn deep_nesting_is_refused() {
    let l = Limits::default();
    let deep: Vec<Vec<u8>> = vec![
        nested(&[104, 1], &[106], &[], 10_000),
        nested(&[108, 0, 0, 0, 1], &[106], &[106], 10_000),
        // Improper tails: [1 | [1 | ...]].
        nested(&[108, 0, 0, 0, 1, 97, 1], &[106], &[], 10_000),
        nested(&[116, 0, 0, 0, 1, 106], &[106], &[], 10_000),
        nested(&[116, 0, 0, 0, 1], &[106], &[106], 10_000),
        nested(&[105, 0, 0, 0, 1], &[106], &[], 10_000),
        nested(
            &[
                117, 0, 0, 0, 1, 103, 115, 1, b'a', 0, 0, 0, 1, 0, 0, 0, 2, 3, 115, 1, b'm', 97, 1,
                97, 2,
            ],
            &[106],
            &[],
            10_000,
        ),
    ];
    for b in &deep {
        assert_eq!(decode(b), Err(EtfError::TooDeep));
        assert_eq!(skip(b, &l), Err(EtfError::TooDeep));
    }
    // Truncated after 10,000 levels: still TooDeep, found first.
    assert_eq!(decode(&deep[0][..10_001]), Err(EtfError::TooDeep));
}

#[test]
fn depth_limit_is_exact() {
    let l = Limits::default();
    let ok = nested(&[104, 1], &[106], &[], 128);
    assert!(decode(&ok).is_ok());
    assert_eq!(
        decode(&nested(&[104, 1], &[106], &[], 129)),
        Err(EtfError::TooDeep)
    );
    assert_eq!(
        skip(&ok, &Limits { max_depth: 127 }),
        Err(EtfError::TooDeep)
    );
    assert_eq!(skip(&ok, &l), Ok(ok.len()));
    let none = Limits { max_depth: 0 };
    assert_eq!(decode_prefix(&[131, 97, 1], &none), Ok((Term::Int(1), 3)));
    assert_eq!(decode_prefix(&[131, 104, 0], &none), Err(EtfError::TooDeep));
    // A fun's free variables are one level deeper.
    let f = v(&[&[131], &new_fun(&[106])]);
    assert!(decode_prefix(&f, &Limits { max_depth: 1 }).is_ok());
    assert_eq!(decode_prefix(&f, &none), Err(EtfError::TooDeep));
}

#[test]
fn depth_beyond_the_inline_frames() {
    // 1,000 levels: the frame stack spills to the heap; the result is the same.
    let deep = Limits { max_depth: 1000 };
    let b = nested(&[108, 0, 0, 0, 1], &[97, 1], &[106], 1000);
    assert_eq!(skip(&b, &deep), Ok(b.len()));
    let (t, n) = decode_prefix(&b, &deep).expect("decodes");
    assert_eq!((to_vec(&t), n), (b.clone(), b.len()));
    assert_eq!(skip(&b, &Limits { max_depth: 999 }), Err(EtfError::TooDeep));
}

#[test]
fn depth_128_fits_a_64k_stack() {
    // Decoding, skipping, encoding, printing and dropping 128 levels of mixed containers
    // on a thread with a coroutine-sized stack.
    let mut b = vec![131];
    for i in 0..128 {
        match i % 4 {
            0 => b.extend_from_slice(&[104, 2, 97, 1]),
            1 => b.extend_from_slice(&[108, 0, 0, 0, 1]),
            2 => b.extend_from_slice(&[116, 0, 0, 0, 1, 119, 1, b'k']),
            _ => b.extend_from_slice(&[104, 1]),
        }
    }
    b.push(106);
    for i in (0..128).rev() {
        if i % 4 == 1 {
            b.push(106);
        }
    }
    let h = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let l = Limits::default();
            assert_eq!(skip(&b, &l), Ok(b.len()));
            let t = decode(&b).expect("decodes");
            assert_eq!(to_vec(&t), b);
            assert!(t.to_string().len() > 128);
            drop(t);
            assert_eq!(decode(&[&b[..], &[0]].concat()), Err(EtfError::Trailing));
        })
        .unwrap();
    h.join().unwrap();
}

#[test]
fn bad_atoms() {
    let cases: &[&[u8]] = &[
        &[131, 119, 1, 0xff],
        &[131, 119, 2, 0xc3, 0x28],
        &[131, 119, 1, 0xc3],
        &[131, 119, 2, 0xc0, 0x80],                // overlong NUL
        &[131, 119, 3, 0xed, 0xa0, 0x80],          // surrogate
        &[131, 118, 0, 4, 0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
    ];
    for c in cases {
        assert_eq!(decode(c), Err(EtfError::BadAtom), "{c:?}");
    }
    // A pid whose node is a binary.
    assert_eq!(decode(&[131, 88, 109, 0, 0, 0, 0]), Err(EtfError::BadAtom));
}

#[test]
fn bad_floats() {
    for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut b = vec![131, 70];
        b.extend_from_slice(&x.to_bits().to_be_bytes());
        assert_eq!(decode(&b), Err(EtfError::BadFloat));
    }
    for text in [&b"inf"[..], b"nan", b"", b"1.5x", b"\xff"] {
        let mut b = vec![131, 99];
        b.extend_from_slice(text);
        b.resize(33, 0);
        assert_eq!(decode(&b), Err(EtfError::BadFloat), "{text:?}");
    }
}

#[test]
fn bad_fun_fields() {
    // EXPORT_EXT whose arity is not a small integer.
    let b = [131, 113, 119, 1, b'm', 119, 1, b'f', 98, 0, 0, 0, 1];
    assert_eq!(decode(&b), Err(EtfError::UnknownTag(98)));
    // NEW_FUN_EXT whose old index is a float.
    let mut f = new_fun(&[106]);
    let at = f.iter().position(|&x| x == 97).unwrap();
    f[at] = 70;
    assert!(decode(&v(&[&[131], &f])).is_err());
}

#[test]
fn a_map_holds_one_term_per_element_while_decoding() {
    // A map of N pairs of NIL_EXT is 2N + 6 bytes; building it must not hold its 2N
    // elements in a list and in pairs at once (twice the memory of a tuple that size).
    let n = 4000;
    let mut b = vec![131, 116];
    b.extend((n as u32).to_be_bytes());
    b.resize(b.len() + 2 * n, 106);
    let (t, peak) = crate::peak_heap(|| decode(&b));
    assert!(matches!(t, Ok(Term::Map(ref p)) if p.len() == n));
    if let Some(peak) = peak {
        let per_byte = std::mem::size_of::<Term>();
        assert!(
            peak <= per_byte * b.len() + 8192,
            "peak {peak} B for {} input bytes",
            b.len()
        );
    }
}

#[test]
fn a_funs_free_variables_are_not_built() {
    // A fun is kept as its bytes: decoding one with N free variables holds a copy of its
    // bytes, not N terms besides.
    let n = 10_000;
    let mut b = vec![131, 117];
    b.extend((n as u32).to_be_bytes());
    b.extend([88, 119, 1, b'a', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
    b.extend([119, 1, b'm', 97, 1, 97, 2]);
    b.resize(b.len() + n, 106);
    let (t, peak) = crate::peak_heap(|| decode(&b));
    assert_eq!(t, Ok(Term::Opaque(b[1..].to_vec())));
    if let Some(peak) = peak {
        assert!(
            peak <= 2 * b.len(),
            "peak {peak} B for {} input bytes",
            b.len()
        );
    }
}
