//! Terms in the External Term Format for backends: a bounded encoder (`hive_term_enc_*`)
//! and decoder (`hive_term_decode`, then `hive_term_*` accessors), so that generated code
//! can put pids and references in its messages and talk to Erlang code
//! (`docs/distribution.md`, "Terms at the edge"). Messages that cross to another node are
//! these bytes: bytes that are one ETF term go as that term, other bytes as a binary.
//!
//! The encoder writes terms depth-first, as `ei`'s `ei_encode_*` do: a tuple, list or map
//! header, then its elements (a list's elements, then its tail, usually
//! `hive_term_enc_nil`). It counts the terms still owed, so `hive_term_enc_bytes` refuses
//! an unfinished term and a term after the end is refused.
//!
//! The decoder validates the whole input first (every length checked against the bytes
//! there, nesting at most 128 deep, allocation proportional to the input), then hands
//! out read-only nodes of the decoded tree, valid until `hive_term_free` of the root.

use std::ffi::{c_char, c_void};

use super::*;
use crate::dist::etf::{self, Atom, Term};

/// The kind of a decoded term (`hive_term_kind`).
pub const HIVE_TERM_INT: i32 = 1;
/// An integer that does not fit `int64_t` (`hive_term_int` gives `HIVE_ERR_SYSTEM_LIMIT`).
pub const HIVE_TERM_BIG: i32 = 2;
/// A float.
pub const HIVE_TERM_FLOAT: i32 = 3;
/// An atom (`hive_term_atom`).
pub const HIVE_TERM_ATOM: i32 = 4;
/// A binary (`hive_term_bytes`).
pub const HIVE_TERM_BINARY: i32 = 5;
/// A bitstring that is not whole bytes (`hive_term_bytes` gives its bytes).
pub const HIVE_TERM_BITSTRING: i32 = 6;
/// A tuple (`hive_term_size`, `hive_term_elem`).
pub const HIVE_TERM_TUPLE: i32 = 7;
/// A non-empty list (`hive_term_size` elements, `hive_term_elem`, `hive_term_tail`).
pub const HIVE_TERM_LIST: i32 = 8;
/// The empty list `[]`.
pub const HIVE_TERM_NIL: i32 = 9;
/// A list of bytes sent compactly (Erlang strings, e.g. `"abc"`): `hive_term_bytes`.
pub const HIVE_TERM_STRING: i32 = 10;
/// A map (`hive_term_size` pairs, `hive_term_map_key`, `hive_term_map_value`).
pub const HIVE_TERM_MAP: i32 = 11;
/// A pid (`hive_term_pid`).
pub const HIVE_TERM_PID: i32 = 12;
/// A reference (`hive_term_ref` for references this node made).
pub const HIVE_TERM_REF: i32 = 13;
/// A port (carried, not interpreted).
pub const HIVE_TERM_PORT: i32 = 14;
/// A fun (carried, not interpreted).
pub const HIVE_TERM_FUN: i32 = 15;

/// A term being encoded (opaque; `hive_term_enc_new`).
#[derive(Debug)]
pub struct hive_term_enc {
    buf: Vec<u8>,
    /// Terms still owed: 1 at the start, each term takes one and a container adds its
    /// elements.
    need: u64,
}

/// A node of a decoded term (opaque; `hive_term_decode`).
#[repr(C)]
#[derive(Debug)]
pub struct hive_term {
    _opaque: [u8; 0],
}

/// Starts a term; `*out` gets the encoder (free it with `hive_term_enc_free`). Returns
/// `HIVE_OK`; `HIVE_ERR_NULL_POINTER`.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_new(out: *mut *mut hive_term_enc) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        let e = Box::new(hive_term_enc {
            buf: vec![etf::VERSION],
            need: 1,
        });
        // SAFETY: non-null and writable per the contract.
        unsafe { out.write(Box::into_raw(e)) };
        HIVE_OK
    })
}

/// Frees an encoder (NULL is ignored).
///
/// # Safety
/// `e` is NULL or came from `hive_term_enc_new` and is not used again.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_free(e: *mut hive_term_enc) {
    if !e.is_null() {
        // SAFETY: made by `Box::into_raw` in `hive_term_enc_new`, freed once.
        drop(unsafe { Box::from_raw(e) });
    }
}

/// Runs `f` on the encoder `e` for one term that owes `adds` more terms, checking that a
/// term is owed.
///
/// # Safety
/// `e` is NULL or a live encoder.
unsafe fn with_enc(
    e: *mut hive_term_enc,
    adds: u64,
    f: impl FnOnce(&mut Vec<u8>) -> Result<(), Status>,
) -> hive_status {
    guard(|| {
        // SAFETY: NULL or a live encoder, used by this call only.
        let Some(e) = (unsafe { e.as_mut() }) else {
            return HIVE_ERR_NULL_POINTER;
        };
        if e.need == 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        let mark = e.buf.len();
        match f(&mut e.buf) {
            Ok(()) => {
                e.need = e.need - 1 + adds;
                HIVE_OK
            }
            Err(s) => {
                e.buf.truncate(mark);
                code(s)
            }
        }
    })
}

/// Appends the atom `s[0..len]` (UTF-8, at most 255 characters). Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_LENGTH` (over 255 characters),
/// `HIVE_ERR_BAD_ARGUMENT` (not UTF-8, or the term is complete).
///
/// # Safety
/// `e` is NULL or a live encoder; `s` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_atom(
    e: *mut hive_term_enc,
    s: *const c_char,
    len: usize,
) -> hive_status {
    if s.is_null() {
        return HIVE_ERR_NULL_POINTER;
    }
    if len > 255 * 4 {
        return HIVE_ERR_BAD_LENGTH;
    }
    // SAFETY: readable for `len` bytes per the contract.
    let b = unsafe { std::slice::from_raw_parts(s as *const u8, len) };
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, 0, |out| {
            let t = std::str::from_utf8(b).map_err(|_| Status::ErrBadArgument)?;
            let a = Atom::new(t).map_err(|_| Status::ErrBadLength)?;
            encode_body(&Term::Atom(a), out);
            Ok(())
        })
    }
}

/// Appends `t`'s encoding without the version byte.
fn encode_body(t: &Term, out: &mut Vec<u8>) {
    let mut v = Vec::new();
    etf::encode(t, &mut v);
    out.extend_from_slice(&v[1..]);
}

/// Appends an integer. Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_ARGUMENT` (the term is complete).
///
/// # Safety
/// `e` is NULL or a live encoder.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_int(e: *mut hive_term_enc, v: i64) -> hive_status {
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, 0, |out| {
            encode_body(&Term::Int(v), out);
            Ok(())
        })
    }
}

/// Appends a float. Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT`
/// (NaN or infinite: Erlang has neither; or the term is complete).
///
/// # Safety
/// `e` is NULL or a live encoder.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_float(e: *mut hive_term_enc, v: f64) -> hive_status {
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, 0, |out| {
            if !v.is_finite() {
                return Err(Status::ErrBadArgument);
            }
            encode_body(&Term::Float(v), out);
            Ok(())
        })
    }
}

/// Appends a binary with a copy of `data[0..len]`. Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER` (data NULL with len > 0), `HIVE_ERR_BAD_LENGTH` (over 1 GiB),
/// `HIVE_ERR_BAD_ARGUMENT` (the term is complete).
///
/// # Safety
/// `e` is NULL or a live encoder; `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_binary(
    e: *mut hive_term_enc,
    data: *const c_void,
    len: usize,
) -> hive_status {
    if len > crate::mailbox::MAX_MESSAGE_LEN {
        return HIVE_ERR_BAD_LENGTH;
    }
    let b: &[u8] = if len == 0 {
        &[]
    } else if data.is_null() {
        return HIVE_ERR_NULL_POINTER;
    } else {
        // SAFETY: readable for `len` bytes per the contract.
        unsafe { std::slice::from_raw_parts(data as *const u8, len) }
    };
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, 0, |out| {
            out.push(109);
            out.extend_from_slice(&(len as u32).to_be_bytes());
            out.extend_from_slice(b);
            Ok(())
        })
    }
}

/// Appends a tuple header; its `arity` elements follow. Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (the term is complete).
///
/// # Safety
/// `e` is NULL or a live encoder.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_tuple(e: *mut hive_term_enc, arity: u32) -> hive_status {
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, u64::from(arity), |out| {
            if arity <= 255 {
                out.extend_from_slice(&[104, arity as u8]);
            } else {
                out.push(105);
                out.extend_from_slice(&arity.to_be_bytes());
            }
            Ok(())
        })
    }
}

/// Appends a list header: its `n` elements follow, then its tail (`hive_term_enc_nil` for
/// a proper list). `n` = 0 appends `[]` itself (no tail follows). Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (the term is complete).
///
/// # Safety
/// `e` is NULL or a live encoder.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_list(e: *mut hive_term_enc, n: u32) -> hive_status {
    let adds = if n == 0 { 0 } else { u64::from(n) + 1 };
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, adds, |out| {
            if n == 0 {
                out.push(106);
            } else {
                out.push(108);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Ok(())
        })
    }
}

/// Appends `[]`. Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT`.
///
/// # Safety
/// `e` is NULL or a live encoder.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_nil(e: *mut hive_term_enc) -> hive_status {
    // SAFETY: `e` per the contract.
    unsafe { hive_term_enc_list(e, 0) }
}

/// Appends a map header; `pairs` keys and values follow, key first. Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (the term is complete).
///
/// # Safety
/// `e` is NULL or a live encoder.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_map(e: *mut hive_term_enc, pairs: u32) -> hive_status {
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, 2 * u64::from(pairs), |out| {
            out.push(116);
            out.extend_from_slice(&pairs.to_be_bytes());
            Ok(())
        })
    }
}

/// Appends a pid (local, or of another node): with a running node it carries the node's
/// name and creation (`NEW_PID_EXT`), without one `nonode@nohost` and 0, as the BEAM
/// writes it. Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (pid 0,
/// a remote pid while no node runs, or the term is complete),
/// `HIVE_ERR_NOT_INITIALIZED`.
///
/// # Safety
/// `e` is NULL or a live encoder.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_pid(e: *mut hive_term_enc, pid: hive_pid) -> hive_status {
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, 0, |out| {
            let rt = runtime()?;
            let p = crate::dist::terms::pid_out(rt, crate::Pid(pid))?;
            encode_body(&Term::Pid(p), out);
            Ok(())
        })
    }
}

/// Appends a reference made by this runtime (`hive_make_ref`, a monitor reference or an
/// alias), as `NEWER_REFERENCE_EXT` of this node (or `nonode@nohost`). Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (0, or the term is complete),
/// `HIVE_ERR_NOT_INITIALIZED`.
///
/// # Safety
/// `e` is NULL or a live encoder.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_ref(e: *mut hive_term_enc, r: u64) -> hive_status {
    // SAFETY: `e` per the contract.
    unsafe {
        with_enc(e, 0, |out| {
            if r == 0 {
                return Err(Status::ErrBadArgument);
            }
            let rt = runtime()?;
            encode_body(&Term::Ref(crate::dist::terms::ref_out(rt, r)), out);
            Ok(())
        })
    }
}

/// The encoded term: `*data` points to its bytes (owned by the encoder, valid until the
/// next call on it), `*len` gets their count. Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_ARGUMENT` (terms are still owed: a container is not complete).
///
/// # Safety
/// `e` is NULL or a live encoder; `data` and `len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_enc_bytes(
    e: *const hive_term_enc,
    data: *mut *const u8,
    len: *mut usize,
) -> hive_status {
    guard(|| {
        // SAFETY: NULL or a live encoder.
        let Some(e) = (unsafe { e.as_ref() }) else {
            return HIVE_ERR_NULL_POINTER;
        };
        if data.is_null() || len.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        if e.need != 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        // SAFETY: both writable per the contract.
        unsafe {
            data.write(e.buf.as_ptr());
            len.write(e.buf.len());
        }
        HIVE_OK
    })
}

/// Decodes `buf[0..len]`, which must be exactly one term (version byte 131 first); `*out`
/// gets the root (free it with `hive_term_free`). Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (not one well-formed term: truncated,
/// a length beyond the input, trailing bytes, an unknown tag, a compressed term),
/// `HIVE_ERR_SYSTEM_LIMIT` (nested over 128 deep).
///
/// # Safety
/// `buf` is NULL or readable for `len` bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_decode(
    buf: *const c_void,
    len: usize,
    out: *mut *mut hive_term,
) -> hive_status {
    guard(|| {
        if buf.is_null() || out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: readable for `len` bytes per the contract.
        let b = unsafe { std::slice::from_raw_parts(buf as *const u8, len) };
        match etf::decode(b) {
            Ok(t) => {
                // SAFETY: writable per the contract.
                unsafe { out.write(Box::into_raw(Box::new(t)) as *mut hive_term) };
                HIVE_OK
            }
            Err(etf::EtfError::TooDeep) => HIVE_ERR_SYSTEM_LIMIT,
            Err(_) => HIVE_ERR_BAD_ARGUMENT,
        }
    })
}

/// Frees a decoded term and every node of it (NULL is ignored).
///
/// # Safety
/// `t` is NULL or a root from `hive_term_decode`, not used (nor its nodes) again.
#[no_mangle]
pub unsafe extern "C" fn hive_term_free(t: *mut hive_term) {
    if !t.is_null() {
        // SAFETY: made by `Box::into_raw` of a `Term` in `hive_term_decode`, freed once.
        drop(unsafe { Box::from_raw(t as *mut Term) });
    }
}

/// The term behind a node pointer.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term.
unsafe fn node<'a>(t: *const hive_term) -> Option<&'a Term> {
    // SAFETY: per the contract, a node is a `Term` inside a live root.
    unsafe { (t as *const Term).as_ref() }
}

/// The kind of a node (`HIVE_TERM_*`), or `HIVE_ERR_NULL_POINTER`.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term.
#[no_mangle]
pub unsafe extern "C" fn hive_term_kind(t: *const hive_term) -> i32 {
    // SAFETY: per the contract.
    let Some(t) = (unsafe { node(t) }) else {
        return HIVE_ERR_NULL_POINTER;
    };
    match t {
        Term::Int(_) => HIVE_TERM_INT,
        Term::BigInt { .. } => HIVE_TERM_BIG,
        Term::Float(_) => HIVE_TERM_FLOAT,
        Term::Atom(_) => HIVE_TERM_ATOM,
        Term::Binary(_) => HIVE_TERM_BINARY,
        Term::BitBinary { .. } => HIVE_TERM_BITSTRING,
        Term::Tuple(_) => HIVE_TERM_TUPLE,
        Term::List(..) => HIVE_TERM_LIST,
        Term::Nil => HIVE_TERM_NIL,
        Term::String(_) => HIVE_TERM_STRING,
        Term::Map(_) => HIVE_TERM_MAP,
        Term::Pid(_) => HIVE_TERM_PID,
        Term::Ref(_) => HIVE_TERM_REF,
        Term::Port(_) => HIVE_TERM_PORT,
        Term::Opaque(_) => HIVE_TERM_FUN,
    }
}

/// The size of a node: elements of a tuple or list (without the tail), pairs of a map,
/// bytes of a binary, bitstring, string or atom (UTF-8); 0 for other kinds. Returns
/// `HIVE_OK`; `HIVE_ERR_NULL_POINTER`.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_size(t: *const hive_term, out: *mut usize) -> hive_status {
    // SAFETY: per the contract.
    let Some(t) = (unsafe { node(t) }) else {
        return HIVE_ERR_NULL_POINTER;
    };
    if out.is_null() {
        return HIVE_ERR_NULL_POINTER;
    }
    let n = match t {
        Term::Tuple(v) | Term::List(v, _) => v.len(),
        Term::Map(v) => v.len(),
        Term::Binary(b) | Term::String(b) | Term::BitBinary { bytes: b, .. } => b.len(),
        Term::Atom(a) => a.as_str().len(),
        _ => 0,
    };
    // SAFETY: writable per the contract.
    unsafe { out.write(n) };
    HIVE_OK
}

/// Element `i` of a tuple or list, or NULL (not a tuple or list, `i` out of range, `t`
/// NULL). Valid as long as the root.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term.
#[no_mangle]
pub unsafe extern "C" fn hive_term_elem(t: *const hive_term, i: usize) -> *const hive_term {
    // SAFETY: per the contract.
    match unsafe { node(t) } {
        Some(Term::Tuple(v)) | Some(Term::List(v, _)) => v
            .get(i)
            .map_or(std::ptr::null(), |e| e as *const Term as *const hive_term),
        _ => std::ptr::null(),
    }
}

/// The tail of a non-empty list (`[]` for a proper list), or NULL.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term.
#[no_mangle]
pub unsafe extern "C" fn hive_term_tail(t: *const hive_term) -> *const hive_term {
    // SAFETY: per the contract.
    match unsafe { node(t) } {
        Some(Term::List(_, tail)) => &**tail as *const Term as *const hive_term,
        _ => std::ptr::null(),
    }
}

/// Key `i` of a map (wire order), or NULL.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term.
#[no_mangle]
pub unsafe extern "C" fn hive_term_map_key(t: *const hive_term, i: usize) -> *const hive_term {
    // SAFETY: per the contract.
    match unsafe { node(t) } {
        Some(Term::Map(v)) => v.get(i).map_or(std::ptr::null(), |(k, _)| {
            k as *const Term as *const hive_term
        }),
        _ => std::ptr::null(),
    }
}

/// Value `i` of a map (wire order), or NULL.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term.
#[no_mangle]
pub unsafe extern "C" fn hive_term_map_value(t: *const hive_term, i: usize) -> *const hive_term {
    // SAFETY: per the contract.
    match unsafe { node(t) } {
        Some(Term::Map(v)) => v.get(i).map_or(std::ptr::null(), |(_, x)| {
            x as *const Term as *const hive_term
        }),
        _ => std::ptr::null(),
    }
}

/// Reads a node of one kind into `out`.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term; `out` NULL or writable.
unsafe fn get<T>(
    t: *const hive_term,
    out: *mut T,
    f: impl FnOnce(&Term) -> Result<T, Status>,
) -> hive_status {
    guard(|| {
        // SAFETY: per the contract.
        let Some(t) = (unsafe { node(t) }) else {
            return HIVE_ERR_NULL_POINTER;
        };
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        match f(t) {
            Ok(v) => {
                // SAFETY: writable per the contract.
                unsafe { out.write(v) };
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// The value of an integer node. Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_SYSTEM_LIMIT` (a big integer), `HIVE_ERR_BAD_ARGUMENT` (not an integer).
///
/// # Safety
/// `t` is NULL or a node of a live decoded term; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_int(t: *const hive_term, out: *mut i64) -> hive_status {
    // SAFETY: per the contract.
    unsafe {
        get(t, out, |t| match t {
            Term::Int(v) => Ok(*v),
            Term::BigInt { .. } => Err(Status::ErrSystemLimit),
            _ => Err(Status::ErrBadArgument),
        })
    }
}

/// The value of a float node. Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_ARGUMENT` (not a float).
///
/// # Safety
/// `t` is NULL or a node of a live decoded term; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_float(t: *const hive_term, out: *mut f64) -> hive_status {
    // SAFETY: per the contract.
    unsafe {
        get(t, out, |t| match t {
            Term::Float(v) => Ok(*v),
            _ => Err(Status::ErrBadArgument),
        })
    }
}

/// The text of an atom node: `*data` points to its UTF-8 bytes (not NUL-terminated,
/// `hive_term_size` long), valid as long as the root. Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (not an atom).
///
/// # Safety
/// `t` is NULL or a node of a live decoded term; `data` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_atom(t: *const hive_term, data: *mut *const u8) -> hive_status {
    // SAFETY: per the contract.
    unsafe {
        get(t, data, |t| match t {
            Term::Atom(a) => Ok(a.as_str().as_ptr()),
            _ => Err(Status::ErrBadArgument),
        })
    }
}

/// The bytes of a binary, bitstring or string node: `*data` points to them
/// (`hive_term_size` long), valid as long as the root. Returns `HIVE_OK`;
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (another kind).
///
/// # Safety
/// `t` is NULL or a node of a live decoded term; `data` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_bytes(t: *const hive_term, data: *mut *const u8) -> hive_status {
    // SAFETY: per the contract.
    unsafe {
        get(t, data, |t| match t {
            Term::Binary(b) | Term::String(b) | Term::BitBinary { bytes: b, .. } => Ok(b.as_ptr()),
            _ => Err(Status::ErrBadArgument),
        })
    }
}

/// The Hive pid of a pid node: a local pid, or a pid of another node (with a running
/// node). Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_ARGUMENT` (not a
/// pid), `HIVE_ERR_NOT_DISTRIBUTED` (a pid of another node while no node runs),
/// `HIVE_ERR_SYSTEM_LIMIT` (its ID or Serial do not fit Hive's pid, see
/// `docs/distribution.md`), `HIVE_ERR_NOT_INITIALIZED`.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_pid(t: *const hive_term, out: *mut hive_pid) -> hive_status {
    // SAFETY: per the contract.
    unsafe {
        get(t, out, |t| match t {
            Term::Pid(p) => crate::dist::terms::pid_in(runtime()?, p).map(|p| p.0),
            _ => Err(Status::ErrBadArgument),
        })
    }
}

/// The reference of a reference node made by this runtime (`hive_make_ref`, monitor
/// references, aliases). Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_ARGUMENT` (not a reference), `HIVE_ERR_NOT_FOUND` (a reference made
/// elsewhere: compare it as bytes), `HIVE_ERR_NOT_INITIALIZED`.
///
/// # Safety
/// `t` is NULL or a node of a live decoded term; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_term_ref(t: *const hive_term, out: *mut u64) -> hive_status {
    // SAFETY: per the contract.
    unsafe {
        get(t, out, |t| match t {
            Term::Ref(r) => crate::dist::terms::ref_in(runtime()?, r).ok_or(Status::ErrNotFound),
            _ => Err(Status::ErrBadArgument),
        })
    }
}
