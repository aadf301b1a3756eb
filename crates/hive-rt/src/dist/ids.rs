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
