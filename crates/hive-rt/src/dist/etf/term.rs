//! The term model: [`Term`], [`Atom`], the external identifiers and the text form.

use std::fmt;

use super::EtfError;

/// A decoded term.
///
/// Each variant names the tags it is decoded from and the tag it is encoded as; the
/// module documentation lists the decodings that do not re-encode to the same bytes.
///
/// Terms built by the decoder are at most [`Limits::max_depth`](super::Limits) containers
/// deep (128 by default), so dropping one (plain recursive `Drop`) cannot overflow the
/// stack. A term built by hand is as deep as its builder made it; encoding, printing and
/// dropping recurse once per level.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// An integer that fits in `i64`: decoded from `SMALL_INTEGER_EXT` (97), `INTEGER_EXT`
    /// (98) and from `SMALL_BIG_EXT`/`LARGE_BIG_EXT` values that fit; encoded as 97
    /// (0..=255), 98 (fits `i32`) or 110.
    Int(i64),
    /// An integer that does not fit in `i64` (`SMALL_BIG_EXT` 110, `LARGE_BIG_EXT` 111).
    BigInt {
        /// The sign.
        negative: bool,
        /// The magnitude, little-endian base-256 digits without trailing zero bytes.
        magnitude: Vec<u8>,
    },
    /// A finite float: `NEW_FLOAT_EXT` (70); the old 31-byte `FLOAT_EXT` (99) decodes too.
    /// Non-finite values are written as given but every decoder rejects them.
    Float(f64),
    /// An atom: decoded from tags 100, 115 (Latin-1), 118 and 119 (UTF-8); encoded as 119,
    /// or 118 when its UTF-8 form is longer than 255 bytes.
    Atom(Atom),
    /// A binary (`BINARY_EXT` 109).
    Binary(Vec<u8>),
    /// A bitstring whose size is not a whole number of bytes (`BIT_BINARY_EXT` 77).
    BitBinary {
        /// The bytes; the last one holds `last_bits` bits, from its most significant end,
        /// and zeros after them (the decoder clears them, the encoder writes them cleared).
        bytes: Vec<u8>,
        /// How many bits of the last byte are used, 1..=8.
        last_bits: u8,
    },
    /// A tuple (`SMALL_TUPLE_EXT` 104 up to 255 elements, else `LARGE_TUPLE_EXT` 105).
    Tuple(Vec<Term>),
    /// A non-empty list (`LIST_EXT` 108): its elements and its tail, [`Term::Nil`] for a
    /// proper list.
    List(Vec<Term>, Box<Term>),
    /// The empty list (`NIL_EXT` 106).
    Nil,
    /// A `STRING_EXT` (107): a proper list of bytes, kept apart from [`Term::List`] so that
    /// it re-encodes to the same bytes. Longer than 65,535 bytes, it is encoded as a
    /// `LIST_EXT` of small integers (and so decodes as a [`Term::List`]).
    String(Vec<u8>),
    /// A map (`MAP_EXT` 116), its pairs in wire order (duplicate keys are not checked).
    Map(Vec<(Term, Term)>),
    /// A pid: `NEW_PID_EXT` (88), or the old `PID_EXT` (103); encoded as 88.
    Pid(ExtPid),
    /// A reference: `NEWER_REFERENCE_EXT` (90), or the old 114 and 101; encoded as 90.
    Ref(ExtRef),
    /// A port: `V4_PORT_EXT` (120), `NEW_PORT_EXT` (89) or `PORT_EXT` (102); encoded as 120
    /// when the id exceeds `u32::MAX`, else 89.
    Port(ExtPort),
    /// A fun (`NEW_FUN_EXT` 112, `EXPORT_EXT` 113, `FUN_EXT` 117): the whole encoded term,
    /// tag included, validated structurally on decode and written back verbatim.
    Opaque(Vec<u8>),
}

/// An atom: UTF-8 text of at most 255 characters (not bytes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(String);

impl Atom {
    /// The most characters an atom may have.
    pub const MAX_CHARS: usize = 255;

    /// The atom `s`; [`EtfError::BadAtom`] if it has more than 255 characters.
    pub fn new(s: &str) -> Result<Atom, EtfError> {
        if s.chars().count() > Self::MAX_CHARS {
            return Err(EtfError::BadAtom);
        }
        Ok(Atom(s.to_owned()))
    }

    /// Wraps a string the decoder has already checked.
    pub(crate) fn from_checked(s: String) -> Atom {
        Atom(s)
    }

    /// The atom's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A pid of any node, as `NEW_PID_EXT` carries it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtPid {
    /// The node name.
    pub node: Atom,
    /// The process id (full 32 bits with `V4_NC`).
    pub id: u32,
    /// The serial (full 32 bits with `V4_NC`).
    pub serial: u32,
    /// The creation (incarnation) of the node.
    pub creation: u32,
}

/// A reference of any node, as `NEWER_REFERENCE_EXT` carries it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtRef {
    /// The node name.
    pub node: Atom,
    /// The creation (incarnation) of the node.
    pub creation: u32,
    /// The id words, 1..=5 of them, least significant first (uninterpreted data).
    pub ids: Vec<u32>,
}

/// A port of any node, as `V4_PORT_EXT` carries it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtPort {
    /// The node name.
    pub node: Atom,
    /// The port id.
    pub id: u64,
    /// The creation (incarnation) of the node.
    pub creation: u32,
}

impl Term {
    /// The atom `s`.
    ///
    /// # Panics
    ///
    /// If `s` has more than 255 characters; use [`Atom::new`] for untrusted text.
    pub fn atom(s: &str) -> Term {
        match Atom::new(s) {
            Ok(a) => Term::Atom(a),
            Err(_) => panic!("atom longer than 255 characters"),
        }
    }

    /// The tuple of `v`.
    pub fn tuple(v: Vec<Term>) -> Term {
        Term::Tuple(v)
    }

    /// The proper list of `v`: [`Term::Nil`] when `v` is empty.
    pub fn list(v: Vec<Term>) -> Term {
        if v.is_empty() {
            Term::Nil
        } else {
            Term::List(v, Box::new(Term::Nil))
        }
    }

    /// The text of an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Term::Atom(a) => Some(a.as_str()),
            _ => None,
        }
    }

    /// The value of an [`Int`](Term::Int).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Term::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The elements of a tuple.
    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes of a binary (not of a bitstring).
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Term::Binary(b) => Some(b),
            _ => None,
        }
    }
}

/// The normal form of a big integer: trailing zero bytes trimmed, an [`Term::Int`] when the
/// value fits in `i64`.
pub(crate) fn big_term(negative: bool, digits: &[u8]) -> Term {
    match big_parts(negative, digits) {
        Ok(i) => Term::Int(i),
        Err(magnitude) => Term::BigInt {
            negative,
            magnitude: magnitude.to_vec(),
        },
    }
}

/// A big integer's value if it fits in `i64`, else its magnitude without trailing zeros.
pub(crate) fn big_parts(negative: bool, digits: &[u8]) -> Result<i64, &[u8]> {
    let end = digits.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let magnitude = &digits[..end];
    if magnitude.len() <= 8 {
        let v = magnitude
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        if !negative && v <= i64::MAX as u64 {
            return Ok(v as i64);
        }
        if negative && v <= 1u64 << 63 {
            // 2^63 wraps to i64::MIN, which is its own negation.
            return Ok((v as i64).wrapping_neg());
        }
    }
    Err(magnitude)
}

/// Clears the bits of the last byte after the `last_bits` used ones, as OTP writes them.
pub(crate) fn mask_last_byte(bytes: &mut [u8], last_bits: u8) {
    if let Some(b) = bytes.last_mut() {
        *b &= 0xffu8
            .checked_shl(8 - u32::from(last_bits.clamp(1, 8)))
            .unwrap_or(0);
    }
}

const RESERVED: &[&str] = &[
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case",
    "catch", "cond", "div", "end", "fun", "if", "let", "maybe", "not", "of", "or", "orelse",
    "receive", "rem", "try", "when", "xor",
];

fn needs_quotes(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() => {}
        _ => return true,
    }
    !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@') || RESERVED.contains(&s)
}

fn write_escaped(f: &mut fmt::Formatter<'_>, c: char, quote: char) -> fmt::Result {
    match c {
        '\\' => f.write_str("\\\\"),
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\t' => f.write_str("\\t"),
        c if c == quote => write!(f, "\\{c}"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{{{:X}}}", c as u32),
        c => write!(f, "{c}"),
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !needs_quotes(&self.0) {
            return f.write_str(&self.0);
        }
        f.write_str("'")?;
        for c in self.0.chars() {
            write_escaped(f, c, '\'')?;
        }
        f.write_str("'")
    }
}

/// Decimal digits of a little-endian base-256 magnitude.
fn decimal(magnitude: &[u8]) -> String {
    // Base 10^9 limbs by repeated division of base-2^32 words.
    let mut words: Vec<u32> = magnitude
        .chunks(4)
        .map(|c| {
            c.iter()
                .rev()
                .fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
        })
        .collect();
    let mut limbs = Vec::new();
    while words.iter().any(|&w| w != 0) {
        let mut rem = 0u64;
        for w in words.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*w);
            *w = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        limbs.push(rem as u32);
        while words.last() == Some(&0) {
            words.pop();
        }
    }
    let mut s = limbs
        .pop()
        .map_or_else(|| "0".to_owned(), |l| l.to_string());
    for l in limbs.iter().rev() {
        s.push_str(&format!("{l:09}"));
    }
    s
}

/// Erlang-like text: quoted atoms where needed, `<node.id.serial>` pids,
/// `#Ref<node.w2.w1.w0>`, `#Port<node.id>`, `#{k => v}`, `<<1,2>>`, `<<1,2:3>>`, `"abc"`
/// for [`Term::String`], `#Fun<N bytes>` for [`Term::Opaque`].
impl fmt::Display for Term {
    /// Written without recursion: containers queue their parts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut todo = vec![Text::Term(self)];
        while let Some(item) = todo.pop() {
            let t = match item {
                Text::Str(s) => {
                    f.write_str(s)?;
                    continue;
                }
                Text::Term(t) => t,
            };
            let mut parts = Vec::new();
            match t {
                Term::Tuple(v) => {
                    parts.push(Text::Str("{"));
                    seq(&mut parts, v);
                    parts.push(Text::Str("}"));
                }
                Term::List(v, tail) => {
                    parts.push(Text::Str("["));
                    seq(&mut parts, v);
                    if **tail != Term::Nil {
                        parts.push(Text::Str("|"));
                        parts.push(Text::Term(tail));
                    }
                    parts.push(Text::Str("]"));
                }
                Term::Map(pairs) => {
                    parts.push(Text::Str("#{"));
                    for (i, (k, v)) in pairs.iter().enumerate() {
                        if i > 0 {
                            parts.push(Text::Str(","));
                        }
                        parts.extend([Text::Term(k), Text::Str(" => "), Text::Term(v)]);
                    }
                    parts.push(Text::Str("}"));
                }
                leaf => write_leaf(f, leaf)?,
            }
            todo.extend(parts.into_iter().rev());
        }
        Ok(())
    }
}

/// A piece of a term's text still to write.
enum Text<'a> {
    Term(&'a Term),
    Str(&'static str),
}

fn seq<'a>(parts: &mut Vec<Text<'a>>, items: &'a [Term]) {
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            parts.push(Text::Str(","));
        }
        parts.push(Text::Term(t));
    }
}

/// The text of a term that holds no other term.
fn write_leaf(f: &mut fmt::Formatter<'_>, t: &Term) -> fmt::Result {
    {
        match t {
            Term::Int(i) => write!(f, "{i}"),
            Term::BigInt {
                negative,
                magnitude,
            } => {
                let sign = if *negative { "-" } else { "" };
                write!(f, "{sign}{}", decimal(magnitude))
            }
            Term::Float(x) => {
                let s = format!("{x:?}");
                match s.split_once('e') {
                    Some((m, e)) if !m.contains('.') => write!(f, "{m}.0e{e}"),
                    _ => f.write_str(&s),
                }
            }
            Term::Atom(a) => write!(f, "{a}"),
            Term::Binary(b) => {
                f.write_str("<<")?;
                for (i, b) in b.iter().enumerate() {
                    write!(f, "{}{b}", if i > 0 { "," } else { "" })?;
                }
                f.write_str(">>")
            }
            Term::BitBinary { bytes, last_bits } => {
                f.write_str("<<")?;
                let n = bytes.len();
                for (i, b) in bytes.iter().enumerate() {
                    let sep = if i > 0 { "," } else { "" };
                    if i + 1 == n && *last_bits < 8 {
                        let v = b.checked_shr(8 - u32::from(*last_bits)).unwrap_or(0);
                        write!(f, "{sep}{v}:{last_bits}")?;
                    } else {
                        write!(f, "{sep}{b}")?;
                    }
                }
                f.write_str(">>")
            }
            Term::Nil => f.write_str("[]"),
            Term::String(s) => {
                f.write_str("\"")?;
                for &b in s {
                    write_escaped(f, char::from(b), '"')?;
                }
                f.write_str("\"")
            }
            Term::Pid(p) => write!(f, "<{}.{}.{}>", p.node, p.id, p.serial),
            Term::Ref(r) => {
                write!(f, "#Ref<{}", r.node)?;
                for w in r.ids.iter().rev() {
                    write!(f, ".{w}")?;
                }
                f.write_str(">")
            }
            Term::Port(p) => write!(f, "#Port<{}.{}>", p.node, p.id),
            Term::Opaque(b) => write!(f, "#Fun<{} bytes>", b.len()),
            Term::Tuple(_) | Term::List(..) | Term::Map(_) => write!(f, "{t}"),
        }
    }
}
