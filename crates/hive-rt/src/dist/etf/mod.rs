//! The External Term Format codec (Erlang's `erl_ext_dist`), safe on hostile input.
//!
//! [`decode`] and [`decode_prefix`] build a [`Term`]; [`skip`] validates a term and gives
//! its length without allocating (for passing payloads through); [`encode`] and
//! [`to_vec`] write one. Compressed terms (tag 80), atom-cache references (82) and
//! `LOCAL_EXT` (121) are refused with [`EtfError::Unsupported`].
//!
//! # Untrusted input
//!
//! Frames come from peers that may be hostile, so the decoder:
//! - never panics and never aborts: every read is bounds-checked;
//! - checks each length or count against the bytes left *before* allocating (a container
//!   of N elements needs at least N bytes, a map 2N, a list N + 1);
//! - validates the whole term first, as [`skip`] does, and only then builds it, so every
//!   reservation is backed by elements that are really there: the memory a decode
//!   allocates is proportional to the input (at most about 64 bytes of [`Term`] per input
//!   byte, plus a copy of the binaries and texts);
//! - bounds nesting by [`Limits::max_depth`] ([`EtfError::TooDeep`]). Decoding and
//!   [`skip`] do not recurse: open containers live in an explicit stack, on the machine
//!   stack (3 KiB; 6 KiB while a fun's free variables are walked over) up to 128 levels and
//!   on the heap beyond (only with a larger
//!   `max_depth`), so they run on a 64 KiB coroutine stack at any depth. Encoding and
//!   [`Term`]'s `Display` do not recurse either. Dropping a [`Term`] does, once per level;
//!   decoded terms are at most `max_depth` deep, and 128 levels of `Drop` fit.
//!
//! Depth counts containers: a tuple, list, map or fun's free variables one level deeper
//! than the term holding them. With `max_depth` 128, 128 nested tuples decode, 129 do not.
//!
//! # Canonical form and round trips
//!
//! The encoder writes what OTP's `term_to_binary/1` writes (without compression, with
//! UTF-8 atoms: OTP 26's default, `[{minor_version, 2}]` before): integers as 97, 98 or
//! the shortest big, atoms as 119 or 118, pids as 88, references as 90, ports as 89 or 120,
//! floats as 70. Our own encoder's output decodes to an equal term and re-encodes to the
//! same bytes. Decoding OTP's output and re-encoding it gives the same bytes, except for
//! these encodings, which decode to the canonical term and so re-encode differently:
//! - Latin-1 atoms (`ATOM_EXT` 100, `SMALL_ATOM_EXT` 115, OTP ≤ 25's default) become
//!   UTF-8 atoms (119/118);
//! - `PID_EXT` (103) becomes 88; `NEW_REFERENCE_EXT` (114) and `REFERENCE_EXT` (101)
//!   become 90; `PORT_EXT` (102) becomes 89; a `V4_PORT_EXT` (120) whose id fits in 32
//!   bits becomes 89 (OTP only writes 120 for larger ids);
//! - the old `FLOAT_EXT` (99) becomes `NEW_FLOAT_EXT` (70);
//! - integers in a non-shortest form (a small value in 98 or in a big, a big with
//!   trailing zero bytes or a `LARGE_BIG_EXT` of at most 255 bytes, a sign byte other than
//!   0 or 1, a negative zero) are normalised;
//! - the unused low bits of a `BIT_BINARY_EXT`'s last byte are cleared (OTP writes
//!   zeros);
//! - a `LIST_EXT` with no elements decodes as its tail; a `BIT_BINARY_EXT` of zero bytes
//!   and zero bits decodes as an empty binary (OTP writes neither).
//!
//! Terms that no decoder accepts are written as given, not rejected: non-finite floats, a
//! [`Term::BitBinary`] with no bytes or `last_bits` outside 1..=8, a [`Term::Ref`]
//! without 1..=5 id words, a [`Term::Opaque`] that is not a fun. A hand-built non-normal
//! [`Term::BigInt`] (trailing zeros, or a value that fits `i64`) is normalised on encode,
//! and so are the unused bits of a [`Term::BitBinary`].
//! [`Term::List`] with no elements is written as its tail.

mod decode;
mod encode;
mod term;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;

use std::fmt;

pub use decode::{decode, decode_prefix, skip};
pub(crate) use encode::put_pid;
pub use encode::{encode, to_vec};
pub use term::{Atom, ExtPid, ExtPort, ExtRef, Term};

/// The version byte that starts every encoded term.
pub const VERSION: u8 = 131;

/// Bounds for decoding untrusted input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The deepest nesting of containers (tuples, lists, maps, funs' free variables)
    /// accepted; deeper input fails with [`EtfError::TooDeep`]. Default 128.
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 128 }
    }
}

/// Why a buffer is not a valid encoded term.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EtfError {
    /// The input ends inside a fixed-size field.
    Truncated,
    /// The first byte is not [`VERSION`].
    BadVersion,
    /// A tag this codec does not know, or one not allowed where it stands (e.g. not a pid
    /// where a fun's pid must be).
    UnknownTag(u8),
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep,
    /// A length or count that the remaining input cannot hold, or out of range (a
    /// reference of 0 or more than 5 words, a bitstring's bit count, a fun's size field).
    BadLength,
    /// An atom that is not valid UTF-8, longer than 255 characters, or a non-atom where an
    /// atom must be.
    BadAtom,
    /// A NaN or infinite float, or an unparsable `FLOAT_EXT`.
    BadFloat,
    /// A known tag this codec does not handle: compressed terms (80), atom-cache references
    /// (82), `LOCAL_EXT` (121).
    Unsupported(u8),
    /// Bytes after the term ([`decode`] only).
    Trailing,
}

impl fmt::Display for EtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtfError::Truncated => f.write_str("ETF: input truncated"),
            EtfError::BadVersion => f.write_str("ETF: version byte is not 131"),
            EtfError::UnknownTag(t) => write!(f, "ETF: unknown or misplaced tag {t}"),
            EtfError::TooDeep => f.write_str("ETF: term nested too deep"),
            EtfError::BadLength => f.write_str("ETF: length field out of range"),
            EtfError::BadAtom => f.write_str("ETF: invalid atom"),
            EtfError::BadFloat => f.write_str("ETF: invalid float"),
            EtfError::Unsupported(t) => write!(f, "ETF: unsupported tag {t}"),
            EtfError::Trailing => f.write_str("ETF: bytes after the term"),
        }
    }
}

impl std::error::Error for EtfError {}

/// The tag bytes (erl_ext_dist).
mod tag {
    pub(super) const NEW_FLOAT: u8 = 70;
    pub(super) const BIT_BINARY: u8 = 77;
    pub(super) const COMPRESSED: u8 = 80;
    pub(super) const ATOM_CACHE_REF: u8 = 82;
    pub(super) const NEW_PID: u8 = 88;
    pub(super) const NEW_PORT: u8 = 89;
    pub(super) const NEWER_REFERENCE: u8 = 90;
    pub(super) const SMALL_INTEGER: u8 = 97;
    pub(super) const INTEGER: u8 = 98;
    pub(super) const FLOAT: u8 = 99;
    pub(super) const ATOM: u8 = 100;
    pub(super) const REFERENCE: u8 = 101;
    pub(super) const PORT: u8 = 102;
    pub(super) const PID: u8 = 103;
    pub(super) const SMALL_TUPLE: u8 = 104;
    pub(super) const LARGE_TUPLE: u8 = 105;
    pub(super) const NIL: u8 = 106;
    pub(super) const STRING: u8 = 107;
    pub(super) const LIST: u8 = 108;
    pub(super) const BINARY: u8 = 109;
    pub(super) const SMALL_BIG: u8 = 110;
    pub(super) const LARGE_BIG: u8 = 111;
    pub(super) const NEW_FUN: u8 = 112;
    pub(super) const EXPORT: u8 = 113;
    pub(super) const NEW_REFERENCE: u8 = 114;
    pub(super) const SMALL_ATOM: u8 = 115;
    pub(super) const MAP: u8 = 116;
    pub(super) const FUN: u8 = 117;
    pub(super) const ATOM_UTF8: u8 = 118;
    pub(super) const SMALL_ATOM_UTF8: u8 = 119;
    pub(super) const V4_PORT: u8 = 120;
    pub(super) const LOCAL: u8 = 121;
}
