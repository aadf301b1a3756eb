//! The ETF codec (`hive_rt::dist::etf`) against itself (property tests), against the
//! `eetf` crate (an independent implementation, fed only well-formed input: it aborts on
//! hostile lengths) and against `term_to_binary` of a real `erl`, when one is on PATH.

use std::collections::HashSet;
use std::process::Command;

use hive_rt::dist::etf::{
    self, decode, decode_prefix, skip, to_vec, Atom, EtfError, ExtPid, ExtPort, ExtRef, Limits,
    Term,
};
use num_bigint::{BigInt, Sign};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// Random terms

/// The normal form of a big integer, as the decoder produces it.
fn big(negative: bool, mut magnitude: Vec<u8>) -> Term {
    while magnitude.last() == Some(&0) {
        magnitude.pop();
    }
    if magnitude.len() <= 8 {
        let mut b = [0u8; 8];
        b[..magnitude.len()].copy_from_slice(&magnitude);
        let v = u64::from_le_bytes(b);
        if !negative && v <= i64::MAX as u64 {
            return Term::Int(v as i64);
        }
        if negative && v <= 1 << 63 {
            return Term::Int((v as i64).wrapping_neg());
        }
    }
    Term::BigInt {
        negative,
        magnitude,
    }
}

fn arb_atom() -> impl Strategy<Value = Atom> {
    prop_oneof![
        "[a-z][a-zA-Z0-9_@]{0,12}",
        "\\PC{0,20}",
        "é{200,255}",
        "[a-z]{250,255}",
    ]
    .prop_map(|s| Atom::new(&s).expect("at most 255 characters"))
}

fn arb_float() -> impl Strategy<Value = f64> {
    // Finite, and without -0.0 (eetf's maps merge it with 0.0).
    any::<f64>().prop_map(|x| if x.is_finite() && x != 0.0 { x } else { 0.0 })
}

/// Terms without funs (which eetf re-encodes in its own way).
fn arb_plain_leaf() -> impl Strategy<Value = Term> {
    prop_oneof![
        any::<i64>().prop_map(Term::Int),
        (0i64..300).prop_map(Term::Int),
        (any::<bool>(), prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(n, m)| big(n, m)),
        arb_float().prop_map(Term::Float),
        arb_atom().prop_map(Term::Atom),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(Term::Binary),
        (prop::collection::vec(any::<u8>(), 1..5), 1u8..=8).prop_map(|(mut bytes, last_bits)| {
            // The unused bits are zero, as the decoder leaves them.
            if let Some(b) = bytes.last_mut() {
                *b &= 0xffu8 << (8 - last_bits);
            }
            Term::BitBinary { bytes, last_bits }
        }),
        prop::collection::vec(any::<u8>(), 0..20).prop_map(Term::String),
        Just(Term::Nil),
        (arb_atom(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
            |(node, id, serial, creation)| {
                Term::Pid(ExtPid {
                    node,
                    id,
                    serial,
                    creation,
                })
            }
        ),
        (
            arb_atom(),
            any::<u32>(),
            prop::collection::vec(any::<u32>(), 1..=5)
        )
            .prop_map(|(node, creation, ids)| Term::Ref(ExtRef {
                node,
                creation,
                ids
            })),
        (
            arb_atom(),
            prop_oneof![any::<u64>(), 0u64..1000],
            any::<u32>()
        )
            .prop_map(|(node, id, creation)| Term::Port(ExtPort { node, id, creation })),
    ]
}

/// Funs: an `EXPORT_EXT`, or a hand-made `NEW_FUN_EXT` with one free variable.
fn arb_fun() -> impl Strategy<Value = Term> {
    (arb_atom(), arb_atom(), any::<u8>(), any::<u8>()).prop_map(|(m, f, arity, free)| {
        let atom = |a: &Atom| to_vec(&Term::Atom(a.clone()))[1..].to_vec();
        if free % 2 == 0 {
            Term::Opaque([&[113][..], &atom(&m), &atom(&f), &[97, arity]].concat())
        } else {
            let pid = to_vec(&Term::Pid(ExtPid {
                node: m.clone(),
                id: 1,
                serial: 2,
                creation: 3,
            }));
            let body = [
                &[arity][..],
                &[7; 16],
                &[0, 0, 0, 1],
                &[0, 0, 0, 1],
                &atom(&m),
                &[97, 0, 97, 1],
                &pid[1..],
                &[97, free],
            ]
            .concat();
            let size = (body.len() + 4) as u32;
            Term::Opaque([&[112][..], &size.to_be_bytes(), &body].concat())
        }
    })
}

fn containers(leaf: BoxedStrategy<Term>, unique_keys: bool) -> impl Strategy<Value = Term> {
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Term::Tuple),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Term::list),
            (prop::collection::vec(inner.clone(), 1..4), inner.clone())
                .prop_map(|(v, tail)| Term::List(v, Box::new(tail))),
            prop::collection::vec((inner.clone(), inner), 0..5).prop_map(move |pairs| {
                let mut seen = HashSet::new();
                Term::Map(
                    pairs
                        .into_iter()
                        .filter(|(k, _)| !unique_keys || seen.insert(to_vec(k)))
                        .collect(),
                )
            }),
        ]
    })
}

fn arb_term() -> impl Strategy<Value = Term> {
    containers(
        prop_oneof![4 => arb_plain_leaf(), 1 => arb_fun()].boxed(),
        false,
    )
}

fn arb_plain_term() -> impl Strategy<Value = Term> {
    containers(arb_plain_leaf().boxed(), true)
}

// ---------------------------------------------------------------------------------------
// Conversions to and from eetf

fn to_eetf(t: &Term) -> eetf::Term {
    use eetf::Term as E;
    let atom = |a: &Atom| eetf::Atom::from(a.as_str());
    match t {
        Term::Int(i) => match i32::try_from(*i) {
            Ok(i) => E::from(eetf::FixInteger::from(i)),
            Err(_) => E::from(eetf::BigInteger::from(*i)),
        },
        Term::BigInt {
            negative,
            magnitude,
        } => {
            let sign = if *negative { Sign::Minus } else { Sign::Plus };
            E::from(eetf::BigInteger {
                value: BigInt::from_bytes_le(sign, magnitude),
            })
        }
        Term::Float(x) => E::from(eetf::Float { value: *x }),
        Term::Atom(a) => E::from(atom(a)),
        Term::Binary(b) => E::from(eetf::Binary::from(b.clone())),
        Term::BitBinary { bytes, last_bits } => {
            // eetf keeps the last byte's bits right-aligned.
            let mut bytes = bytes.clone();
            if let Some(b) = bytes.last_mut() {
                *b >>= 8 - last_bits;
            }
            E::from(eetf::BitBinary {
                bytes,
                tail_bits_size: *last_bits,
            })
        }
        Term::Tuple(v) => E::from(eetf::Tuple::from(v.iter().map(to_eetf).collect::<Vec<_>>())),
        Term::List(v, tail) => {
            let elements = v.iter().map(to_eetf).collect::<Vec<_>>();
            match **tail {
                Term::Nil => E::from(eetf::List::from(elements)),
                _ => E::from(eetf::ImproperList::from((elements, to_eetf(tail)))),
            }
        }
        Term::Nil => E::from(eetf::List::nil()),
        Term::String(s) => E::from(eetf::ByteList::from(s.clone())),
        Term::Map(pairs) => E::from(eetf::Map::from(
            pairs
                .iter()
                .map(|(k, v)| (to_eetf(k), to_eetf(v)))
                .collect::<std::collections::HashMap<_, _>>(),
        )),
        Term::Pid(p) => E::from(eetf::Pid {
            node: atom(&p.node),
            id: p.id,
            serial: p.serial,
            creation: p.creation,
        }),
        Term::Ref(r) => E::from(eetf::Reference {
            node: atom(&r.node),
            id: r.ids.clone(),
            creation: r.creation,
        }),
        Term::Port(p) => E::from(eetf::Port {
            node: atom(&p.node),
            id: p.id,
            creation: p.creation,
        }),
        Term::Opaque(_) => panic!("funs are not converted"),
    }
}

fn from_eetf(e: &eetf::Term) -> Term {
    use eetf::Term as E;
    let atom = |a: &eetf::Atom| Atom::new(&a.name).expect("eetf atom");
    match e {
        E::Atom(a) => Term::Atom(atom(a)),
        E::FixInteger(i) => Term::Int(i.value.into()),
        E::BigInteger(b) => {
            let (sign, magnitude) = b.value.to_bytes_le();
            big(sign == Sign::Minus, magnitude)
        }
        E::Float(x) => Term::Float(x.value),
        E::Pid(p) => Term::Pid(ExtPid {
            node: atom(&p.node),
            id: p.id,
            serial: p.serial,
            creation: p.creation,
        }),
        E::Port(p) => Term::Port(ExtPort {
            node: atom(&p.node),
            id: p.id,
            creation: p.creation,
        }),
        E::Reference(r) => Term::Ref(ExtRef {
            node: atom(&r.node),
            creation: r.creation,
            ids: r.id.clone(),
        }),
        E::Binary(b) => Term::Binary(b.bytes.clone()),
        E::BitBinary(b) => {
            let mut bytes = b.bytes.clone();
            if let Some(x) = bytes.last_mut() {
                *x <<= 8 - b.tail_bits_size;
            }
            Term::BitBinary {
                bytes,
                last_bits: b.tail_bits_size,
            }
        }
        E::ByteList(b) => Term::String(b.bytes.clone()),
        E::List(l) => Term::list(l.elements.iter().map(from_eetf).collect()),
        E::ImproperList(l) => Term::List(
            l.elements.iter().map(from_eetf).collect(),
            Box::new(from_eetf(&l.last)),
        ),
        E::Tuple(t) => Term::Tuple(t.elements.iter().map(from_eetf).collect()),
        E::Map(m) => Term::Map(
            m.map
                .iter()
                .map(|(k, v)| (from_eetf(k), from_eetf(v)))
                .collect(),
        ),
        E::ExternalFun(_) | E::InternalFun(_) => panic!("funs are not converted"),
    }
}

/// Maps with their pairs sorted by key encoding (eetf keeps maps in a `HashMap`), and
/// strings as lists (eetf, like OTP, writes a list of bytes as `STRING_EXT`).
fn comparable(t: &Term) -> Term {
    match t {
        Term::Tuple(v) => Term::Tuple(v.iter().map(comparable).collect()),
        Term::List(v, tail) => Term::List(
            v.iter().map(comparable).collect(),
            Box::new(comparable(tail)),
        ),
        Term::Map(pairs) => {
            let mut p: Vec<_> = pairs
                .iter()
                .map(|(k, v)| (comparable(k), comparable(v)))
                .collect();
            // By key, then value: generated maps may repeat a key (Erlang's never do).
            p.sort_by_key(|(k, v)| (to_vec(k), to_vec(v)));
            Term::Map(p)
        }
        Term::String(s) => Term::list(s.iter().map(|&b| Term::Int(b.into())).collect()),
        t => t.clone(),
    }
}

/// False for terms eetf 0.12 encodes wrongly: it writes some lists of integers as a
/// `STRING_EXT` after casting them to bytes (-1 became 255, -256 became 0; found by
/// `we_read_eetf_encoding`); lists of integers with one outside 0..=255 are left out of
/// that property.
fn eetf_writes_faithfully(t: &Term) -> bool {
    match t {
        Term::List(v, tail) => {
            let all_ints = v.iter().all(|e| matches!(e, Term::Int(_)));
            let non_byte = v
                .iter()
                .any(|e| matches!(e, Term::Int(i) if !(0..=255).contains(i)));
            !(all_ints && non_byte)
                && v.iter().all(eetf_writes_faithfully)
                && eetf_writes_faithfully(tail)
        }
        Term::Tuple(v) => v.iter().all(eetf_writes_faithfully),
        Term::Map(p) => p
            .iter()
            .all(|(k, v)| eetf_writes_faithfully(k) && eetf_writes_faithfully(v)),
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------
// Properties

proptest! {
    // A fixed seed: the same 2,000 cases every run (tests are deterministic); set
    // PROPTEST_RNG_SEED to another number to explore.
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(
            std::env::var("PROPTEST_RNG_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x4849_5645),
        ),
        ..ProptestConfig::default()
    })]

    #[test]
    fn round_trip(t in arb_term()) {
        let bytes = to_vec(&t);
        prop_assert_eq!(decode(&bytes), Ok(t.clone()));
        prop_assert_eq!(skip(&bytes, &Limits::default()), Ok(bytes.len()));
        let mut framed = bytes.clone();
        framed.extend_from_slice(&to_vec(&Term::Nil));
        prop_assert_eq!(decode_prefix(&framed, &Limits::default()), Ok((t.clone(), bytes.len())));
        prop_assert_eq!(decode(&framed), Err(EtfError::Trailing));
        let mut out = vec![1, 2];
        etf::encode(&t, &mut out);
        prop_assert_eq!(&out[2..], &bytes[..]);
        // Display never fails and shows every element.
        prop_assert!(!t.to_string().is_empty());
    }

    #[test]
    fn every_prefix_and_mutation_fails_cleanly(t in arb_term(), at in any::<usize>(), x in any::<u8>()) {
        let bytes = to_vec(&t);
        let l = Limits::default();
        let cut = at % bytes.len();
        prop_assert!(decode(&bytes[..cut]).is_err());
        prop_assert!(skip(&bytes[..cut], &l).is_err());
        let mut m = bytes.clone();
        m[cut] = x;
        let d = decode_prefix(&m, &l).map(|(_, n)| n);
        prop_assert_eq!(d, skip(&m, &l));
        if let Ok((t2, n)) = decode_prefix(&m, &l) {
            // What decodes re-encodes to something that decodes to the same term.
            prop_assert_eq!(decode(&to_vec(&t2)), Ok(t2));
            prop_assert!(n <= m.len());
        }
    }

    #[test]
    fn random_bytes_never_panic(mut b in prop::collection::vec(any::<u8>(), 0..64)) {
        if !b.is_empty() {
            b[0] = 131;
        }
        let l = Limits::default();
        let d = decode_prefix(&b, &l).map(|(_, n)| n);
        prop_assert_eq!(d, skip(&b, &l));
    }

    #[test]
    fn eetf_reads_our_encoding(t in arb_plain_term()) {
        let bytes = to_vec(&t);
        let e = eetf::Term::decode(&bytes[..]).expect("eetf decodes our encoding");
        prop_assert_eq!(comparable(&from_eetf(&e)), comparable(&t));
    }

    #[test]
    fn we_read_eetf_encoding(t in arb_plain_term()) {
        prop_assume!(eetf_writes_faithfully(&t));
        let mut bytes = Vec::new();
        to_eetf(&t).encode(&mut bytes).expect("eetf encodes");
        let ours = decode(&bytes).expect("we decode eetf's encoding");
        prop_assert_eq!(comparable(&ours), comparable(&t));
        prop_assert_eq!(skip(&bytes, &Limits::default()), Ok(bytes.len()));
    }
}

// ---------------------------------------------------------------------------------------
// Against a real erl

/// Erlang terms printed by `erl`, each as `term_to_binary(T, [{minor_version, 2}])` (UTF-8
/// atoms, the canonical form) and `term_to_binary(T)` (OTP 25: Latin-1 atoms).
const ERL_TERMS: &str = r#"[
    0, 255, 256, -1, 2147483647, -2147483648, 2147483648, -2147483649,
    9223372036854775807, -9223372036854775808, 9223372036854775808, -9223372036854775809,
    1 bsl 2100, -(1 bsl 2100), 1.5, -2.0e-300, 1.0e300, 0.1,
    abc, 'hello world', '', list_to_atom([937, 8776, 231]), list_to_atom(lists:duplicate(255, $z)),
    list_to_atom(lists:duplicate(255, 1001)),
    <<>>, <<1,2,3>>, <<1:3>>, <<1,2,3:5>>, <<0:1>>,
    {}, {a, {b, []}}, list_to_tuple(lists:seq(1, 300)),
    [], "abc", [1,2|3], [a, "x", <<"y">>, 1.0], lists:seq(1, 300), [[[]]],
    lists:duplicate(70000, 7), [300|"ab"],
    #{}, #{a => 1, b => [2], {c} => #{}}, maps:from_list([{I, I * I} || I <- lists:seq(1, 40)]),
    self(), make_ref(), hd(erlang:ports()), list_to_pid("<0.1234.5>"),
    binary_to_term(<<131,88,119,3,"a@b",0,0,0,5,0,0,0,6,0,0,0,7>>),
    binary_to_term(<<131,90,0,3,119,3,"a@b",0,0,0,9,0,0,0,1,0,0,0,2,0,0,0,3>>),
    fun erlang:abs/1, fun lists:map/2, fun(X) -> X + 1 end,
    {self(), make_ref(), [{k, <<"v">>}], 'UPPER', 'with space'}
]"#;

/// The hex pairs `erl` prints for [`ERL_TERMS`], or `None` when there is no `erl`.
fn erl_encodings() -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let script = format!(
        "[io:format(\"~s ~s~n\", [binary:encode_hex(term_to_binary(T, [{{minor_version, 2}}])), \
         binary:encode_hex(term_to_binary(T))]) || T <- {ERL_TERMS}], halt()."
    );
    let out = match Command::new("erl")
        .args(["-noshell", "-eval", &script, "-s", "init", "stop"])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: no erl on PATH ({e})");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "erl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let text = String::from_utf8(out.stdout).unwrap();
    Some(
        text.lines()
            .map(|l| {
                let (v2, v1) = l.split_once(' ').expect("two encodings");
                (hex(v2), hex(v1))
            })
            .collect(),
    )
}

#[test]
fn erl_term_to_binary_round_trips_byte_exact() {
    let Some(encodings) = erl_encodings() else {
        return;
    };
    assert_eq!(encodings.len(), 53, "one line per term");
    let mut funs = 0;
    for (v2, v1) in &encodings {
        let t = decode(v2).unwrap_or_else(|e| panic!("{e}: {v2:?}"));
        // UTF-8 atoms are the canonical form: byte-exact.
        assert_eq!(&to_vec(&t), v2, "re-encoding {t}");
        assert_eq!(skip(v2, &Limits::default()), Ok(v2.len()));
        if matches!(t, Term::Opaque(_)) {
            // A fun is kept verbatim, Latin-1 atoms and all.
            funs += 1;
            assert_eq!(&to_vec(&decode(v1).unwrap()), v1);
            continue;
        }
        // OTP 25's default Latin-1 atoms: the same term (re-encoded as UTF-8 atoms).
        assert_eq!(decode(v1).as_ref(), Ok(&t), "Latin-1 form of {t}");
        if v1 == v2 {
            assert_eq!(&to_vec(&t), v1);
        }
    }
    assert_eq!(funs, 3);
}

#[test]
fn erl_terms_are_what_we_expect() {
    let Some(encodings) = erl_encodings() else {
        return;
    };
    let t = |i: usize| decode(&encodings[i].0).unwrap();
    assert_eq!(t(0), Term::Int(0));
    assert_eq!(t(7), Term::Int(-2147483649));
    assert_eq!(t(9), Term::Int(i64::MIN));
    assert_eq!(
        t(10),
        Term::BigInt {
            negative: false,
            magnitude: vec![0, 0, 0, 0, 0, 0, 0, 0x80]
        }
    );
    assert_eq!(
        t(11),
        Term::BigInt {
            negative: true,
            magnitude: vec![1, 0, 0, 0, 0, 0, 0, 0x80]
        }
    );
    assert_eq!(encodings[12].0[1], 111, "1 bsl 2100 is a LARGE_BIG_EXT");
    assert_eq!(t(14), Term::Float(1.5));
    assert_eq!(t(19), Term::atom("hello world"));
    assert_eq!(t(21).to_string(), "'Ω≈ç'");
    assert_eq!(t(23).as_atom().map(|a| a.chars().count()), Some(255));
    assert_eq!(
        encodings[23].0[1], 118,
        "255 two-byte characters need ATOM_UTF8_EXT"
    );
    assert_eq!(
        t(26),
        Term::BitBinary {
            bytes: vec![0x20],
            last_bits: 3
        }
    );
    assert_eq!(t(31).as_tuple().map(<[Term]>::len), Some(300));
    assert_eq!(t(33), Term::String(b"abc".to_vec()));
    assert_eq!(
        t(34),
        Term::List(vec![Term::Int(1), Term::Int(2)], Box::new(Term::Int(3)))
    );
    assert_eq!(t(38), Term::list(vec![Term::Int(7); 70000]));
    assert_eq!(
        t(39),
        Term::list(vec![Term::Int(300), Term::Int(97), Term::Int(98)])
    );
    assert_eq!(t(40), Term::Map(vec![]));
    assert!(matches!(t(43), Term::Pid(ref p) if p.node.as_str() == "nonode@nohost"));
    assert!(t(43).to_string().starts_with("<nonode@nohost."));
    assert_eq!(
        t(47),
        Term::Pid(ExtPid {
            node: Atom::new("a@b").unwrap(),
            id: 5,
            serial: 6,
            creation: 7
        })
    );
    assert_eq!(t(48).to_string(), "#Ref<a@b.3.2.1>");
    assert!(matches!(t(44), Term::Ref(ExtRef { ref ids, .. }) if ids.len() == 3));
    assert!(matches!(t(45), Term::Port(_)));
}
