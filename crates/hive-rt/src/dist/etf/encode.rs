//! The encoder: the canonical (OTP `term_to_binary`) form of each [`Term`].

use super::tag::*;
use super::term::{big_parts, mask_last_byte, Atom, Term};
use super::VERSION;

/// Appends [`VERSION`] and the encoding of `t` to `out`.
///
/// # Panics
///
/// If a binary, tuple, list or map has more than `u32::MAX` elements or bytes, or a
/// reference more than 65,535 words: ETF cannot represent them.
pub fn encode(t: &Term, out: &mut Vec<u8>) {
    out.push(VERSION);
    put(t, out);
}

/// The encoding of `t`, [`VERSION`] first (see [`encode`]).
pub fn to_vec(t: &Term) -> Vec<u8> {
    let mut out = Vec::new();
    encode(t, &mut out);
    out
}

fn len32(n: usize) -> [u8; 4] {
    match u32::try_from(n) {
        Ok(n) => n.to_be_bytes(),
        Err(_) => panic!("ETF cannot encode a length of {n}"),
    }
}

/// Writes `t` without recursion: containers write their header and queue their elements.
fn put(t: &Term, out: &mut Vec<u8>) {
    let mut todo: Vec<&Term> = vec![t];
    while let Some(t) = todo.pop() {
        match t {
            Term::Tuple(v) => {
                if let Ok(n) = u8::try_from(v.len()) {
                    out.extend_from_slice(&[SMALL_TUPLE, n]);
                } else {
                    out.push(LARGE_TUPLE);
                    out.extend_from_slice(&len32(v.len()));
                }
                todo.extend(v.iter().rev());
            }
            Term::List(v, tail) => {
                if !v.is_empty() {
                    out.push(LIST);
                    out.extend_from_slice(&len32(v.len()));
                }
                todo.push(tail);
                todo.extend(v.iter().rev());
            }
            Term::Map(pairs) => {
                out.push(MAP);
                out.extend_from_slice(&len32(pairs.len()));
                for (k, v) in pairs.iter().rev() {
                    todo.push(v);
                    todo.push(k);
                }
            }
            leaf => put_leaf(leaf, out),
        }
    }
}

/// Writes a term that holds no other term.
fn put_leaf(t: &Term, out: &mut Vec<u8>) {
    match t {
        Term::Int(i) => put_int(*i, out),
        Term::BigInt {
            negative,
            magnitude,
        } => match big_parts(*negative, magnitude) {
            Ok(i) => put_int(i, out),
            Err(magnitude) => put_big(*negative, magnitude, out),
        },
        Term::Float(x) => {
            out.push(NEW_FLOAT);
            out.extend_from_slice(&x.to_bits().to_be_bytes());
        }
        Term::Atom(a) => put_atom(a, out),
        Term::Binary(b) => {
            out.push(BINARY);
            out.extend_from_slice(&len32(b.len()));
            out.extend_from_slice(b);
        }
        Term::BitBinary { bytes, last_bits } => {
            out.push(BIT_BINARY);
            out.extend_from_slice(&len32(bytes.len()));
            out.push(*last_bits);
            out.extend_from_slice(bytes);
            let end = out.len();
            mask_last_byte(&mut out[end - bytes.len()..], *last_bits);
        }
        Term::Nil => out.push(NIL),
        Term::String(s) => {
            if let Ok(n) = u16::try_from(s.len()) {
                out.push(STRING);
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(s);
            } else {
                // What OTP writes for a long list of bytes.
                out.push(LIST);
                out.extend_from_slice(&len32(s.len()));
                for &b in s {
                    out.extend_from_slice(&[SMALL_INTEGER, b]);
                }
                out.push(NIL);
            }
        }
        Term::Pid(p) => put_pid(&p.node, p.id, p.serial, p.creation, out),
        Term::Ref(r) => {
            let n = match u16::try_from(r.ids.len()) {
                Ok(n) => n,
                Err(_) => panic!("ETF cannot encode a reference of {} words", r.ids.len()),
            };
            out.push(NEWER_REFERENCE);
            out.extend_from_slice(&n.to_be_bytes());
            put_atom(&r.node, out);
            out.extend_from_slice(&r.creation.to_be_bytes());
            for w in &r.ids {
                out.extend_from_slice(&w.to_be_bytes());
            }
        }
        Term::Port(p) => {
            match u32::try_from(p.id) {
                Ok(id) => {
                    out.push(NEW_PORT);
                    put_atom(&p.node, out);
                    out.extend_from_slice(&id.to_be_bytes());
                }
                Err(_) => {
                    out.push(V4_PORT);
                    put_atom(&p.node, out);
                    out.extend_from_slice(&p.id.to_be_bytes());
                }
            }
            out.extend_from_slice(&p.creation.to_be_bytes());
        }
        Term::Opaque(b) => out.extend_from_slice(b),
        Term::Tuple(_) | Term::List(..) | Term::Map(_) => put(t, out),
    }
}

fn put_int(i: i64, out: &mut Vec<u8>) {
    if let Ok(b) = u8::try_from(i) {
        out.extend_from_slice(&[SMALL_INTEGER, b]);
    } else if let Ok(w) = i32::try_from(i) {
        out.push(INTEGER);
        out.extend_from_slice(&w.to_be_bytes());
    } else {
        let digits = i.unsigned_abs().to_le_bytes();
        let n = digits.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        put_big(i < 0, &digits[..n], out);
    }
}

fn put_big(negative: bool, magnitude: &[u8], out: &mut Vec<u8>) {
    if let Ok(n) = u8::try_from(magnitude.len()) {
        out.extend_from_slice(&[SMALL_BIG, n]);
    } else {
        out.push(LARGE_BIG);
        out.extend_from_slice(&len32(magnitude.len()));
    }
    out.push(u8::from(negative));
    out.extend_from_slice(magnitude);
}

/// A pid (`NEW_PID_EXT`) as [`encode`] writes `Term::Pid`, from its parts (no [`Term`]
/// built).
pub(crate) fn put_pid(node: &Atom, id: u32, serial: u32, creation: u32, out: &mut Vec<u8>) {
    out.push(NEW_PID);
    put_atom(node, out);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&serial.to_be_bytes());
    out.extend_from_slice(&creation.to_be_bytes());
}

fn put_atom(a: &Atom, out: &mut Vec<u8>) {
    let s = a.as_str().as_bytes();
    if let Ok(n) = u8::try_from(s.len()) {
        out.extend_from_slice(&[SMALL_ATOM_UTF8, n]);
    } else {
        // At most 255 characters of at most 4 bytes: fits in 16 bits.
        out.push(ATOM_UTF8);
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(s);
}
