//! The decoder: one iterative walker, instantiated twice. With `B = false` it validates
//! and measures without allocating ([`skip`]); with `B = true` it builds the [`Term`], and
//! only ever runs on input the first instantiation has accepted, so that every vector it
//! reserves is backed by elements that are really there. A fun is kept as its bytes: the
//! building walker hands its free variables to the validating one, which builds nothing
//! (two frame stacks, 6 KiB, on the machine stack then).

use super::tag::*;
use super::term::{big_term, mask_last_byte, Atom, ExtPid, ExtPort, ExtRef, Term};
use super::{EtfError, Limits, VERSION};

type R<T> = Result<T, EtfError>;

/// Validates `buf` as [`VERSION`] followed by one term, without allocating, and returns
/// the length of that prefix (bytes after it are ignored).
pub fn skip(buf: &[u8], limits: &Limits) -> Result<usize, EtfError> {
    let mut w = Walker::new(buf, limits);
    w.version()?;
    w.term::<false>()?;
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
    w.term::<true>()?.ok_or(EtfError::Truncated)
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

    fn version(&mut self) -> R<()> {
        match self.u8()? {
            VERSION => Ok(()),
            _ => Err(EtfError::BadVersion),
        }
    }

    /// One term, walked without recursion: open containers are [`Open`] frames (and,
    /// when building, a vector of the elements so far each), so the machine stack use
    /// does not depend on the nesting.
    fn term<const B: bool>(&mut self) -> R<Option<Term>> {
        let mut frames = Frames::new();
        let mut items: Vec<Items> = Vec::new();
        loop {
            let start = self.pos;
            let tag = self.u8()?;
            let (kind, count, size) = match tag {
                SMALL_TUPLE => (Kind::Tuple, u64::from(self.u8()?), 0),
                LARGE_TUPLE => (Kind::Tuple, u64::from(self.u32()?), 0),
                // The elements and the tail.
                LIST => (Kind::List, u64::from(self.u32()?) + 1, 0),
                MAP => (Kind::Map, 2 * u64::from(self.u32()?), 0),
                NEW_FUN => {
                    let size = self.u32()?;
                    (Kind::NewFun, u64::from(self.new_fun_head()?), size)
                }
                FUN => (Kind::OldFun, u64::from(self.old_fun_head()?), 0),
                EXPORT => {
                    self.export_body()?;
                    (Kind::Export, 0, 0)
                }
                _ => (Kind::Leaf, 0, 0),
            };
            let mut value = if kind == Kind::Leaf {
                self.leaf::<B>(tag)?
            } else if kind == Kind::Export {
                built::<B>(|| Term::Opaque(self.buf[start..self.pos].to_vec()))
            } else {
                if frames.len >= self.max_depth as usize {
                    return Err(EtfError::TooDeep);
                }
                self.need(count, 1)?;
                let open = Open {
                    kind,
                    left: count,
                    start,
                    size,
                };
                if B && matches!(kind, Kind::NewFun | Kind::OldFun) {
                    // A fun is kept as its bytes: its free variables (validated already)
                    // are walked over, not built only to be dropped.
                    for _ in 0..count {
                        self.term::<false>()?;
                    }
                    self.close::<B>(open, Items::Seq(Vec::new()))?
                } else if count > 0 {
                    frames.push(open);
                    if B {
                        items.push(Items::new(kind, count));
                    }
                    continue;
                } else {
                    self.close::<B>(open, Items::Seq(Vec::new()))?
                }
            };
            // A complete term: give it to the open container, closing those it completes.
            loop {
                let Some(top) = frames.last_mut() else {
                    return Ok(value);
                };
                if let (Some(v), Some(list)) = (value, items.last_mut()) {
                    list.push(v);
                }
                top.left -= 1;
                if top.left > 0 {
                    break;
                }
                let open = *top;
                frames.pop();
                let list = match items.pop() {
                    Some(list) if B => list,
                    _ => Items::Seq(Vec::new()),
                };
                value = self.close::<B>(open, list)?;
            }
        }
    }

    /// The term of a container whose last element has been read.
    fn close<const B: bool>(&self, open: Open, list: Items) -> R<Option<Term>> {
        Ok(match open.kind {
            Kind::Tuple => built::<B>(|| Term::Tuple(list.seq())),
            Kind::List => {
                let mut list = list.seq();
                let tail = list.pop();
                if list.is_empty() {
                    // LIST_EXT without elements: the BEAM reads it as its tail.
                    tail
                } else {
                    tail.map(|t| Term::List(list, Box::new(t)))
                }
            }
            Kind::Map => built::<B>(|| Term::Map(list.pairs())),
            _ => {
                if open.kind == Kind::NewFun && self.pos - (open.start + 1) != open.size as usize {
                    return Err(EtfError::BadLength);
                }
                built::<B>(|| Term::Opaque(self.buf[open.start..self.pos].to_vec()))
            }
        })
    }

    /// `EXPORT_EXT` after its tag: Module, Function, Arity.
    fn export_body(&mut self) -> R<()> {
        self.atom::<false>()?;
        self.atom::<false>()?;
        match self.u8()? {
            SMALL_INTEGER => self.take(1).map(drop),
            t => Err(EtfError::UnknownTag(t)),
        }
    }

    /// `NEW_FUN_EXT` after its size, up to its free variables; returns their number.
    fn new_fun_head(&mut self) -> R<u32> {
        // Arity, Uniq (16 bytes), Index.
        self.take(1 + 16 + 4)?;
        let num_free = self.u32()?;
        self.atom::<false>()?;
        self.small_int()?;
        self.small_int()?;
        self.fun_pid()?;
        Ok(num_free)
    }

    /// `FUN_EXT` after its tag: NumFree, Pid, Module, Index, Uniq; returns NumFree.
    fn old_fun_head(&mut self) -> R<u32> {
        let num_free = self.u32()?;
        self.fun_pid()?;
        self.atom::<false>()?;
        self.small_int()?;
        self.small_int()?;
        Ok(num_free)
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
                    built::<B>(|| {
                        let mut bytes = s.to_vec();
                        mask_last_byte(&mut bytes, last_bits);
                        Term::BitBinary { bytes, last_bits }
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

/// The elements of an open container so far, when building. A map's go straight into
/// pairs (a key waits for its value), so that building a map holds one [`Term`] per
/// element, as for the other containers, not a list of them and then the pairs.
enum Items {
    Seq(Vec<Term>),
    Pairs(Vec<(Term, Term)>, Option<Term>),
}

impl Items {
    /// Room for the `count` terms of a container of `kind`. The building pass runs on
    /// input the validating pass has accepted, so the elements are all there.
    fn new(kind: Kind, count: u64) -> Items {
        match kind {
            Kind::Map => Items::Pairs(Vec::with_capacity((count / 2) as usize), None),
            _ => Items::Seq(Vec::with_capacity(count as usize)),
        }
    }

    fn push(&mut self, t: Term) {
        match self {
            Items::Seq(v) => v.push(t),
            Items::Pairs(v, key) => match key.take() {
                Some(k) => v.push((k, t)),
                None => *key = Some(t),
            },
        }
    }

    /// The terms of a tuple, list or fun (a map's are not asked for this way).
    fn seq(self) -> Vec<Term> {
        match self {
            Items::Seq(v) => v,
            Items::Pairs(..) => Vec::new(),
        }
    }

    /// The pairs of a map.
    fn pairs(self) -> Vec<(Term, Term)> {
        match self {
            Items::Pairs(v, _) => v,
            Items::Seq(_) => Vec::new(),
        }
    }
}

/// What an open container is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tuple,
    List,
    Map,
    NewFun,
    OldFun,
    Export,
    Leaf,
}

/// An open container: how many terms it still holds, where it started (funs keep
/// their bytes) and a `NEW_FUN_EXT`'s size field.
#[derive(Clone, Copy)]
struct Open {
    left: u64,
    start: usize,
    size: u32,
    kind: Kind,
}

/// Frames this deep live on the machine stack (3 KiB); deeper ones, only possible with a
/// `max_depth` above the default, go to the heap.
const INLINE_FRAMES: usize = 128;

/// The stack of open containers.
struct Frames {
    inline: [Open; INLINE_FRAMES],
    spill: Vec<Open>,
    len: usize,
}

impl Frames {
    fn new() -> Self {
        let empty = Open {
            left: 0,
            start: 0,
            size: 0,
            kind: Kind::Leaf,
        };
        Frames {
            inline: [empty; INLINE_FRAMES],
            spill: Vec::new(),
            len: 0,
        }
    }

    fn push(&mut self, open: Open) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = open,
            None => self.spill.push(open),
        }
        self.len += 1;
    }

    fn last_mut(&mut self) -> Option<&mut Open> {
        if self.len > INLINE_FRAMES {
            self.spill.last_mut()
        } else {
            self.len.checked_sub(1).and_then(|i| self.inline.get_mut(i))
        }
    }

    fn pop(&mut self) {
        if self.len > INLINE_FRAMES {
            self.spill.pop();
        }
        self.len = self.len.saturating_sub(1);
    }
}
