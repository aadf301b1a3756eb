//! The decoder: one walker, instantiated twice. With `B = false` it validates and
//! measures without allocating ([`skip`]); with `B = true` it builds the [`Term`], and
//! only ever runs on input the first instantiation has accepted.

use super::tag::*;
use super::term::{big_term, Atom, ExtPid, ExtPort, ExtRef, Term};
use super::{EtfError, Limits, VERSION};

type R<T> = Result<T, EtfError>;

/// Validates `buf` as [`VERSION`] followed by one term, without allocating, and returns
/// the length of that prefix (bytes after it are ignored).
pub fn skip(buf: &[u8], limits: &Limits) -> Result<usize, EtfError> {
    let mut w = Walker::new(buf, limits);
    w.version()?;
    w.term::<false>(0)?;
    Ok(w.pos)
}

/// Decodes [`VERSION`] and one term from the start of `buf`, returning the term and the
/// number of bytes it took; bytes after it are left alone (a distribution frame holds a
/// control term and then a payload term).
pub fn decode_prefix(buf: &[u8], limits: &Limits) -> Result<(Term, usize), EtfError> {
    let len = skip(buf, limits)?;
    Ok((build(&buf[..len], limits)?, len))
}

/// Decodes a buffer that holds [`VERSION`] and exactly one term
/// ([`EtfError::Trailing`] if bytes follow it), with the default [`Limits`].
pub fn decode(buf: &[u8]) -> Result<Term, EtfError> {
    let limits = Limits::default();
    let len = skip(buf, &limits)?;
    if len != buf.len() {
        return Err(EtfError::Trailing);
    }
    build(buf, &limits)
}

/// Builds the term of a buffer [`skip`] has accepted.
fn build(buf: &[u8], limits: &Limits) -> R<Term> {
    let mut w = Walker::new(buf, limits);
    w.version()?;
    // With B = true the walker always returns Some.
    w.term::<true>(0)?.ok_or(EtfError::Truncated)
}

struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
    max_depth: u32,
}

/// Keeps `Some` only when building.
fn built<const B: bool>(f: impl FnOnce() -> Term) -> Option<Term> {
    if B {
        Some(f())
    } else {
        None
    }
}

impl<'a> Walker<'a> {
    fn new(buf: &'a [u8], limits: &Limits) -> Self {
        Walker {
            buf,
            pos: 0,
            max_depth: limits.max_depth,
        }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.left() {
            return Err(EtfError::Truncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> R<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> R<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> R<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// A length field: the bytes it announces, which must all be there.
    fn bytes(&mut self, n: u64) -> R<&'a [u8]> {
        self.need(n, 1)?;
        self.take(n as usize)
    }

    /// `count` items of at least `min` bytes each must fit in what is left.
    fn need(&self, count: u64, min: u64) -> R<()> {
        match count.checked_mul(min) {
            Some(n) if n <= self.left() as u64 => Ok(()),
            _ => Err(EtfError::BadLength),
        }
    }

    /// The depth of a container's elements.
    fn enter(&self, depth: u32) -> R<u32> {
        if depth >= self.max_depth {
            return Err(EtfError::TooDeep);
        }
        Ok(depth + 1)
    }

    fn version(&mut self) -> R<()> {
        match self.u8()? {
            VERSION => Ok(()),
            _ => Err(EtfError::BadVersion),
        }
    }

    /// One term at `depth` (the number of containers around it). The recursive path is
    /// this function and the container ones; leaves go through `leaf`, kept out of line so
    /// that the recursive frames stay small.
    fn term<const B: bool>(&mut self, depth: u32) -> R<Option<Term>> {
        let tag = self.u8()?;
        match tag {
            SMALL_TUPLE => {
                let n = self.u8()?;
                self.tuple::<B>(u64::from(n), depth)
            }
            LARGE_TUPLE => {
                let n = self.u32()?;
                self.tuple::<B>(u64::from(n), depth)
            }
            LIST => self.list::<B>(depth),
            MAP => self.map::<B>(depth),
            NEW_FUN | EXPORT | FUN => self.fun::<B>(tag, depth),
            _ => self.leaf::<B>(tag),
        }
    }

    fn tuple<const B: bool>(&mut self, n: u64, depth: u32) -> R<Option<Term>> {
        let inner = self.enter(depth)?;
        self.need(n, 1)?;
        let mut v = Vec::new();
        if B {
            v.reserve_exact(n as usize);
        }
        for _ in 0..n {
            if let Some(t) = self.term::<B>(inner)? {
                v.push(t);
            }
        }
        Ok(built::<B>(|| Term::Tuple(v)))
    }

    fn list<const B: bool>(&mut self, depth: u32) -> R<Option<Term>> {
        let n = u64::from(self.u32()?);
        let inner = self.enter(depth)?;
        self.need(n + 1, 1)?;
        let mut v = Vec::new();
        if B {
            v.reserve_exact(n as usize);
        }
        for _ in 0..n {
            if let Some(t) = self.term::<B>(inner)? {
                v.push(t);
            }
        }
        let tail = self.term::<B>(inner)?;
        if v.is_empty() {
            // LIST_EXT without elements: the BEAM reads it as its tail.
            return Ok(tail);
        }
        Ok(tail.map(|t| Term::List(v, Box::new(t))))
    }

    fn map<const B: bool>(&mut self, depth: u32) -> R<Option<Term>> {
        let n = u64::from(self.u32()?);
        let inner = self.enter(depth)?;
        self.need(n, 2)?;
        let mut v = Vec::new();
        if B {
            v.reserve_exact(n as usize);
        }
        for _ in 0..n {
            let k = self.term::<B>(inner)?;
            let val = self.term::<B>(inner)?;
            if let (Some(k), Some(val)) = (k, val) {
                v.push((k, val));
            }
        }
        Ok(built::<B>(|| Term::Map(v)))
    }

    /// A fun, checked field by field and kept as its bytes.
    fn fun<const B: bool>(&mut self, tag: u8, depth: u32) -> R<Option<Term>> {
        let start = self.pos - 1;
        match tag {
            EXPORT => {
                self.atom::<false>()?;
                self.atom::<false>()?;
                match self.u8()? {
                    SMALL_INTEGER => {
                        self.u8()?;
                    }
                    t => return Err(EtfError::UnknownTag(t)),
                }
            }
            NEW_FUN => {
                let size = self.u32()?;
                // Arity, Uniq (16 bytes), Index.
                self.take(1 + 16 + 4)?;
                let num_free = self.u32()?;
                self.atom::<false>()?;
                self.small_int()?;
                self.small_int()?;
                self.fun_pid()?;
                self.free_vars(num_free, depth)?;
                if self.pos - (start + 1) != size as usize {
                    return Err(EtfError::BadLength);
                }
            }
            _ => {
                // FUN_EXT: NumFree, Pid, Module, Index, Uniq, free variables.
                let num_free = self.u32()?;
                self.fun_pid()?;
                self.atom::<false>()?;
                self.small_int()?;
                self.small_int()?;
                self.free_vars(num_free, depth)?;
            }
        }
        let bytes = &self.buf[start..self.pos];
        Ok(built::<B>(|| Term::Opaque(bytes.to_vec())))
    }

    fn free_vars(&mut self, n: u32, depth: u32) -> R<()> {
        let inner = self.enter(depth)?;
        self.need(u64::from(n), 1)?;
        for _ in 0..n {
            self.term::<false>(inner)?;
        }
        Ok(())
    }

    /// A fun's index or uniq: an integer tag.
    fn small_int(&mut self) -> R<()> {
        match self.u8()? {
            SMALL_INTEGER => self.take(1).map(drop),
            INTEGER => self.take(4).map(drop),
            t => Err(EtfError::UnknownTag(t)),
        }
    }

    fn fun_pid(&mut self) -> R<()> {
        match self.u8()? {
            t @ (NEW_PID | PID) => self.leaf::<false>(t).map(drop),
            t => Err(EtfError::UnknownTag(t)),
        }
    }

    /// An atom field (the node of a pid, the module of a fun).
    fn atom<const B: bool>(&mut self) -> R<Option<Atom>> {
        let tag = self.u8()?;
        self.atom_body::<B>(tag)
    }

    fn atom_body<const B: bool>(&mut self, tag: u8) -> R<Option<Atom>> {
        let (len, latin1) = match tag {
            ATOM => (usize::from(self.u16()?), true),
            SMALL_ATOM => (usize::from(self.u8()?), true),
            ATOM_UTF8 => (usize::from(self.u16()?), false),
            SMALL_ATOM_UTF8 => (usize::from(self.u8()?), false),
            ATOM_CACHE_REF => return Err(EtfError::Unsupported(tag)),
            _ => return Err(EtfError::BadAtom),
        };
        let bytes = self.take(len)?;
        if latin1 {
            if len > Atom::MAX_CHARS {
                return Err(EtfError::BadAtom);
            }
            return Ok(
                B.then(|| Atom::from_checked(bytes.iter().map(|&b| char::from(b)).collect()))
            );
        }
        let s = std::str::from_utf8(bytes).map_err(|_| EtfError::BadAtom)?;
        // At most 4 bytes a character: only long atoms need counting.
        if len > Atom::MAX_CHARS && s.chars().count() > Atom::MAX_CHARS {
            return Err(EtfError::BadAtom);
        }
        Ok(B.then(|| Atom::from_checked(s.to_owned())))
    }

    /// Every term that holds no other term.
    #[inline(never)]
    fn leaf<const B: bool>(&mut self, tag: u8) -> R<Option<Term>> {
        Ok(match tag {
            SMALL_INTEGER => {
                let v = self.u8()?;
                built::<B>(|| Term::Int(i64::from(v)))
            }
            INTEGER => {
                let v = self.u32()? as i32;
                built::<B>(|| Term::Int(i64::from(v)))
            }
            SMALL_BIG | LARGE_BIG => {
                let n = if tag == SMALL_BIG {
                    u64::from(self.u8()?)
                } else {
                    u64::from(self.u32()?)
                };
                let negative = self.u8()? != 0;
                let digits = self.bytes(n)?;
                built::<B>(|| big_term(negative, digits))
            }
            NEW_FLOAT => {
                let x = f64::from_bits(self.u64()?);
                if !x.is_finite() {
                    return Err(EtfError::BadFloat);
                }
                built::<B>(|| Term::Float(x))
            }
            FLOAT => {
                let x = old_float(self.take(31)?)?;
                built::<B>(|| Term::Float(x))
            }
            ATOM | SMALL_ATOM | ATOM_UTF8 | SMALL_ATOM_UTF8 | ATOM_CACHE_REF => {
                self.atom_body::<B>(tag)?.map(Term::Atom)
            }
            NIL => built::<B>(|| Term::Nil),
            STRING => {
                let n = self.u16()?;
                let s = self.bytes(u64::from(n))?;
                built::<B>(|| Term::String(s.to_vec()))
            }
            BINARY => {
                let n = self.u32()?;
                let s = self.bytes(u64::from(n))?;
                built::<B>(|| Term::Binary(s.to_vec()))
            }
            BIT_BINARY => {
                let n = self.u32()?;
                let last_bits = self.u8()?;
                let s = self.bytes(u64::from(n))?;
                if n == 0 && last_bits == 0 {
                    built::<B>(|| Term::Binary(Vec::new()))
                } else if n == 0 || !(1..=8).contains(&last_bits) {
                    return Err(EtfError::BadLength);
                } else {
                    built::<B>(|| Term::BitBinary {
                        bytes: s.to_vec(),
                        last_bits,
                    })
                }
            }
            NEW_PID | PID => {
                let node = self.atom::<B>()?;
                let id = self.u32()?;
                let serial = self.u32()?;
                let creation = self.creation(tag == NEW_PID)?;
                node.map(|node| {
                    Term::Pid(ExtPid {
                        node,
                        id,
                        serial,
                        creation,
                    })
                })
            }
            NEWER_REFERENCE | NEW_REFERENCE => {
                let n = self.u16()?;
                if !(1..=5).contains(&n) {
                    return Err(EtfError::BadLength);
                }
                let node = self.atom::<B>()?;
                let creation = self.creation(tag == NEWER_REFERENCE)?;
                let words = self.take(4 * usize::from(n))?;
                node.map(|node| ref_term(node, creation, words))
            }
            REFERENCE => {
                let node = self.atom::<B>()?;
                let words = self.take(4)?;
                let creation = self.creation(false)?;
                node.map(|node| ref_term(node, creation, words))
            }
            V4_PORT | NEW_PORT | PORT => {
                let node = self.atom::<B>()?;
                let id = if tag == V4_PORT {
                    self.u64()?
                } else {
                    u64::from(self.u32()?)
                };
                let creation = self.creation(tag != PORT)?;
                node.map(|node| Term::Port(ExtPort { node, id, creation }))
            }
            COMPRESSED | LOCAL => return Err(EtfError::Unsupported(tag)),
            _ => return Err(EtfError::UnknownTag(tag)),
        })
    }

    /// A creation field: 32 bits in the new encodings, 8 in the old ones.
    fn creation(&mut self, wide: bool) -> R<u32> {
        if wide {
            self.u32()
        } else {
            self.u8().map(u32::from)
        }
    }
}

fn ref_term(node: Atom, creation: u32, words: &[u8]) -> Term {
    let ids = words
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Term::Ref(ExtRef {
        node,
        creation,
        ids,
    })
}

/// The old `FLOAT_EXT`: `"%.20e"` text, NUL-padded to 31 bytes.
fn old_float(field: &[u8]) -> R<f64> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let text = std::str::from_utf8(&field[..end]).map_err(|_| EtfError::BadFloat)?;
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(EtfError::BadFloat),
    }
}
