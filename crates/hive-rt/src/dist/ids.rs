//! Identity across nodes: node incarnations, pids and references in the External Term
//! Format.
//!
//! - A remote pid is a Hive [`Pid`] whose node field (12 bits) indexes the table of
//!   *incarnations*, a node name with its creation. A node restarted under the same name
//!   has a new creation, hence a new node field: pids of the old incarnation never equal
//!   the new ones, and behave as processes of a node that is gone (case 141). Node fields
//!   are not reused while the node runs; the 4,095th incarnation seen is the last one
//!   (later ones cannot be named: their signals are dropped, documented in
//!   `docs/distribution.md`).
//! - The remote pid's ID and Serial fill the index (24 bits) and serial (28 bits) fields.
//!   The BEAM's ID is its process-table index, below its `process_limit` (2^18 by
//!   default, 2^27 at most): a pid of a BEAM node started with `+P` above 2^24 cannot be
//!   named, nor a Serial past 2^28.
//! - A local pid goes out as `NEW_PID_EXT {ThisNode, index, serial, ThisCreation}`.
//! - A local reference (u64) goes out as `NEWER_REFERENCE_EXT` with the words
//!   `[low, high, 0]`; a reference made elsewhere is interned by the connection that
//!   carried it (`conn.rs`).

use std::collections::HashMap;

use parking_lot::RwLock;

use super::etf::{Atom, ExtPid, ExtRef};
use crate::pid::{Pid, INDEX_BITS, NODE_BITS, SERIAL_BITS};

/// This node's identity.
#[derive(Clone, Debug)]
pub(crate) struct Me {
    /// The full node name, `name@host`.
    pub(crate) name: Atom,
    /// The creation EPMD gave (or one picked at random without EPMD); never 0.
    pub(crate) creation: u32,
}

/// The incarnations seen so far: node field (1-based) → (name, creation).
#[derive(Debug, Default)]
pub(crate) struct Incarnations {
    inner: RwLock<Table>,
}

#[derive(Debug, Default)]
struct Table {
    by_id: Vec<(Atom, u32)>,
    by_key: HashMap<(Atom, u32), u32>,
}

impl Incarnations {
    /// The node field of incarnation (`name`, `creation`), added if new; None when the
    /// 12-bit field is exhausted.
    pub(crate) fn id_of(&self, name: &Atom, creation: u32) -> Option<u32> {
        let key = (name.clone(), creation);
        if let Some(&id) = self.inner.read().by_key.get(&key) {
            return Some(id);
        }
        let mut t = self.inner.write();
        if let Some(&id) = t.by_key.get(&key) {
            return Some(id);
        }
        let id = t.by_id.len() as u32 + 1;
        if id >= 1 << NODE_BITS {
            return None;
        }
        t.by_id.push(key.clone());
        t.by_key.insert(key, id);
        Some(id)
    }

    /// The (name, creation) of node field `id`.
    pub(crate) fn get(&self, id: u32) -> Option<(Atom, u32)> {
        let t = self.inner.read();
        t.by_id.get((id as usize).checked_sub(1)?).cloned()
    }
}

/// `pid` as a term: a local pid with this node's name and creation, a remote one with its
/// incarnation's. None for [`Pid::NONE`] or an unknown node field.
pub(crate) fn pid_to_ext(me: &Me, inc: &Incarnations, pid: Pid) -> Option<ExtPid> {
    if pid.is_none() {
        return None;
    }
    let (node, creation) = if pid.node() == 0 {
        (me.name.clone(), me.creation)
    } else {
        inc.get(pid.node())?
    };
    Some(ExtPid {
        node,
        id: pid.index(),
        serial: pid.serial(),
        creation,
    })
}

/// The Hive pid of a pid term: local when it names this node's incarnation, else a
/// remote pid of its incarnation. None when it cannot be named (ID or Serial too large,
/// incarnations exhausted, or a local pid that no process can have had).
pub(crate) fn ext_to_pid(me: &Me, inc: &Incarnations, p: &ExtPid) -> Option<Pid> {
    if u64::from(p.id) >= 1 << INDEX_BITS || u64::from(p.serial) >= 1 << SERIAL_BITS {
        return None;
    }
    if p.node == me.name && p.creation == me.creation {
        if p.serial == 0 {
            return None;
        }
        return Some(Pid::local(p.id, p.serial));
    }
    let node = inc.id_of(&p.node, p.creation)?;
    Some(Pid::remote(node, p.id, p.serial))
}

/// [`ext_to_pid`] for a pid read straight from its bytes (`NEW_PID_EXT` with a UTF-8
/// atom), when its node is this one or `peer`, the connection's node: `node` is the atom's
/// bytes. The peer's node field is cached in `cache` (`creation << 32 | field`, 0 = none);
/// fields are never reused, so a hit stays right. `Err(())`: another node (the caller
/// takes the general path); `Ok(None)`: a pid that names no process, as `ext_to_pid`'s.
pub(crate) fn raw_pid_to_pid(
    me: &Me,
    inc: &Incarnations,
    peer: &Atom,
    cache: &std::sync::atomic::AtomicU64,
    raw: RawPid<'_>,
) -> Result<Option<Pid>, ()> {
    use std::sync::atomic::Ordering::Relaxed;
    if u64::from(raw.id) >= 1 << INDEX_BITS || u64::from(raw.serial) >= 1 << SERIAL_BITS {
        return Ok(None);
    }
    if raw.node == me.name.as_str().as_bytes() {
        if raw.creation != me.creation {
            return Err(()); // an older incarnation of this node's name
        }
        return Ok((raw.serial != 0).then(|| Pid::local(raw.id, raw.serial)));
    }
    if raw.node != peer.as_str().as_bytes() {
        return Err(());
    }
    let c = cache.load(Relaxed);
    let field = if c != 0 && (c >> 32) as u32 == raw.creation {
        c as u32
    } else {
        let Some(field) = inc.id_of(peer, raw.creation) else {
            return Ok(None);
        };
        cache.store(u64::from(raw.creation) << 32 | u64::from(field), Relaxed);
        field
    };
    Ok(Some(Pid::remote(field, raw.id, raw.serial)))
}

/// A `NEW_PID_EXT` as its bytes give it (see [`raw_pid_to_pid`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawPid<'a> {
    pub(crate) node: &'a [u8],
    pub(crate) id: u32,
    pub(crate) serial: u32,
    pub(crate) creation: u32,
}

impl<'a> RawPid<'a> {
    /// Reads a `NEW_PID_EXT` (88) whose node is a UTF-8 atom (119 or 118) at the start of
    /// `b`: the pid and the bytes after it. None for anything else (the general decoder
    /// handles it, or refuses it).
    pub(crate) fn read(b: &'a [u8]) -> Option<(RawPid<'a>, &'a [u8])> {
        let (&88, b) = b.split_first()? else {
            return None;
        };
        let (node, b) = match b.split_first()? {
            (119, b) => {
                let (&n, b) = b.split_first()?;
                (b.get(..n as usize)?, &b[n as usize..])
            }
            (118, b) => {
                let n = u16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
                (b.get(2..2 + n)?, &b[2 + n..])
            }
            _ => return None,
        };
        let w = |i: usize| -> Option<u32> {
            Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
        };
        let pid = RawPid {
            node,
            id: w(0)?,
            serial: w(4)?,
            creation: w(8)?,
        };
        Some((pid, &b[12..]))
    }
}

/// A local reference as a term.
pub(crate) fn ref_to_ext(me: &Me, r: u64) -> ExtRef {
    ExtRef {
        node: me.name.clone(),
        creation: me.creation,
        ids: vec![r as u32, (r >> 32) as u32, 0],
    }
}

/// The local reference a reference term stands for, if it was made by this node
/// incarnation (as [`ref_to_ext`] writes them).
pub(crate) fn ext_to_local_ref(me: &Me, r: &ExtRef) -> Option<u64> {
    if r.node != me.name || r.creation != me.creation || r.ids.len() < 2 {
        return None;
    }
    if r.ids[2..].iter().any(|&w| w != 0) {
        return None;
    }
    Some(u64::from(r.ids[0]) | (u64::from(r.ids[1]) << 32))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use proptest::prelude::*;

    use super::*;
    use crate::dist::etf::{to_vec, Term};

    fn atom(s: &str) -> Atom {
        Atom::new(s).unwrap()
    }

    proptest! {
        /// A pid read from its bytes names what the general decoder's pid names, for this
        /// node, the peer (cached or not) and others (left to the general path), at any
        /// creation, id and serial (fields of 32 bits, beyond what a Hive pid holds).
        #[test]
        fn a_raw_pid_names_what_the_decoded_pid_names(
            who in 0u8..4,
            creation in prop_oneof![Just(7u32), Just(8u32), any::<u32>()],
            id in prop_oneof![0u32..4, any::<u32>()],
            serial in prop_oneof![0u32..4, any::<u32>()],
            warm in any::<bool>(),
        ) {
            let me = Me { name: atom("me@host"), creation: 7 };
            let peer = atom("peer@host");
            let node = match who {
                0 => me.name.clone(),
                1 | 2 => peer.clone(),
                _ => atom("other@host"),
            };
            let ext = ExtPid { node, id, serial, creation };
            let inc = Incarnations::default();
            let cache = AtomicU64::new(0);
            if warm {
                // An earlier frame of another incarnation of the peer filled the cache.
                let _ = raw_pid_to_pid(&me, &inc, &peer, &cache, RawPid {
                    node: b"peer@host", id: 1, serial: 1, creation: creation.wrapping_add(1),
                });
            }
            let bytes = to_vec(&Term::Pid(ext.clone()));
            let (raw, rest) = RawPid::read(&bytes[1..]).expect("a NEW_PID_EXT with a UTF-8 atom");
            prop_assert!(rest.is_empty());
            let want = ext_to_pid(&me, &inc, &ext);
            match raw_pid_to_pid(&me, &inc, &peer, &cache, raw) {
                Ok(got) => prop_assert_eq!(got, want),
                Err(()) => prop_assert!(who == 3 || who == 0 && creation != 7),
            }
            // A second read takes the cache, and still agrees.
            if let Ok(got) = raw_pid_to_pid(&me, &inc, &peer, &cache, raw) {
                prop_assert_eq!(got, ext_to_pid(&me, &inc, &ext));
            }
        }

        /// Cut anywhere, a pid's bytes are refused, never misread.
        #[test]
        fn a_cut_raw_pid_is_refused(cut in 0usize..40) {
            let ext = ExtPid { node: atom("peer@host"), id: 5, serial: 6, creation: 7 };
            let bytes = to_vec(&Term::Pid(ext));
            let b = &bytes[1..];
            prop_assume!(cut < b.len());
            prop_assert!(RawPid::read(&b[..cut]).is_none());
        }
    }
}
