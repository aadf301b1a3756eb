//! The layout of references, the routing map of aliases (active alias → owner) and the upkeep of an owner's set of
//! aliases when a monitor ends or the owner exits (module docs of `alias`).

use crossbeam_utils::CachePadded;
use fxhash::FxHashMap;
use parking_lot::Mutex;

use crate::pid::Pid;
use crate::process::pcb::LinkData;

/// Bits of a reference's serial (the low bits).
pub const REF_SERIAL_BITS: u32 = 52;
/// Bits of a reference's node (the high bits; 0 = made on this node).
pub const REF_NODE_BITS: u32 = 12;

/// The node bits of reference `r`: 0 for a reference made on this node.
pub fn ref_node(r: u64) -> u32 {
    (r >> REF_SERIAL_BITS) as u32
}

const SHARDS: usize = 64;

/// One shard of the routing map: alias → owner.
type Shard = Mutex<FxHashMap<u64, Pid>>;

/// The routing map of a runtime: active alias → owner (see the module docs).
pub(crate) struct AliasTable {
    shards: Box<[CachePadded<Shard>]>,
}

impl std::fmt::Debug for AliasTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AliasTable").finish_non_exhaustive()
    }
}

impl AliasTable {
    pub(crate) fn new() -> AliasTable {
        AliasTable {
            shards: (0..SHARDS).map(|_| Default::default()).collect(),
        }
    }

    /// References come from a counter: consecutive aliases go to consecutive shards.
    fn shard(&self, alias: u64) -> &Shard {
        &self.shards[(alias as usize) % SHARDS]
    }

    pub(crate) fn insert(&self, alias: u64, owner: Pid) {
        self.shard(alias).lock().insert(alias, owner);
    }

    pub(crate) fn remove(&self, alias: u64) {
        self.shard(alias).lock().remove(&alias);
    }

    /// The owner of `alias` if it is active (or was deactivated a moment ago).
    pub(crate) fn owner(&self, alias: u64) -> Option<Pid> {
        self.shard(alias).lock().get(&alias).copied()
    }

    /// Routes in the map (for tests of the exit path).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

/// The monitor `mref` of the process owning `d` has ended (its DOWN was handled, or it was
/// demonitored): deactivates an alias that ends with it. Called under `Pcb::sig`. A
/// process without aliases pays one branch (inlined into the signal handling).
#[inline(always)]
pub(crate) fn monitor_ended(table: &AliasTable, d: &mut LinkData, mref: u64) {
    if !d.aliases.is_empty() {
        monitor_ended_with_aliases(table, d, mref);
    }
}

/// [`monitor_ended`] for a process that has aliases.
#[cold]
#[inline(never)]
fn monitor_ended_with_aliases(table: &AliasTable, d: &mut LinkData, mref: u64) {
    if d.aliases.get(&mref).is_some_and(|m| m.on_demonitor()) {
        d.aliases.remove(&mref);
        table.remove(mref);
    }
}

/// The exit path: the routes of every alias the process held go (the set itself goes with
/// its link record).
pub(crate) fn process_exited(table: &AliasTable, d: &LinkData) {
    for &alias in d.aliases.keys() {
        table.remove(alias);
    }
}
