//! Registered names: name → pid and pid → name (BEAM group H).
//!
//! Two sharded maps, 64 shards each, every shard a `RwLock<FxHashMap>`: registrations and
//! lookups from all workers contend only when they hash to the same shard. A name maps to
//! one pid and a pid holds at most one name.
//!
//! ## Locking and the race with exit
//! - `register` and `unregister` lock the name's shard, then the pid's shard (always in
//!   that order), and change both maps under both locks.
//! - The exit path never nests them: it takes the pid's entry out under the pid shard lock,
//!   then removes the name under the name shard lock (if it still maps to that pid).
//! - A process that never registered pays nothing at exit: its PCB's `named` flag is false.
//!   `register` sets the flag (SeqCst) *before* it checks that the process has not exited
//!   (SeqCst); the exit path marks the process EXITED (SeqCst) *before* it reads the flag.
//!   So either `register` sees EXITED and backs out, or the exit path sees the flag and
//!   removes the name (waiting for the pid shard lock `register` holds, if need be).
//!
//! The exit path releases the name before it notifies anyone of the exit, so once a waiter
//! (later: a DOWN or EXIT message) learns of the exit, `whereis` finds nothing and the name
//! can be registered again (cases 82, 83).

use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering::SeqCst;

use fxhash::{FxHashMap, FxHasher};
use parking_lot::RwLock;

use crate::pid::Pid;
use crate::process::pcb::Pcb;
use crate::status::Status;

/// Longest registered name, in bytes (the BEAM's atom limit is 255 characters).
pub const MAX_NAME_LEN: usize = 255;

const SHARDS: usize = 64;

/// A name → pid shard.
type NameShard = RwLock<FxHashMap<Box<[u8]>, Pid>>;
/// A pid → name shard.
type PidShard = RwLock<FxHashMap<Pid, Box<[u8]>>>;

/// The registry of one runtime.
pub(crate) struct Registry {
    names: Box<[NameShard]>,
    pids: Box<[PidShard]>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

fn shard_of<T: Hash + ?Sized>(v: &T) -> usize {
    let mut h = FxHasher::default();
    v.hash(&mut h);
    (h.finish() as usize) % SHARDS
}

/// Checks a name: 1 to [`MAX_NAME_LEN`] bytes, no NUL byte.
pub(crate) fn validate(name: &[u8]) -> Result<(), Status> {
    if name.len() > MAX_NAME_LEN {
        return Err(Status::ErrBadLength);
    }
    if name.is_empty() || name.contains(&0) {
        return Err(Status::ErrBadArgument);
    }
    Ok(())
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            names: (0..SHARDS).map(|_| RwLock::default()).collect(),
            pids: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }
    }

    /// Registers `name` for the live process `pcb` (BEAM `register/2`, cases 79, 80).
    /// Errors: `ErrNameTaken`, `ErrAlreadyNamed`, `ErrNoProcess` (the process exited).
    pub(crate) fn register(&self, name: &[u8], pcb: &Pcb) -> Result<(), Status> {
        let pid = pcb.pid;
        let mut names = self.names[shard_of(name)].write();
        if names.contains_key(name) {
            return Err(Status::ErrNameTaken);
        }
        let mut pids = self.pids[shard_of(&pid)].write();
        if pids.contains_key(&pid) {
            return Err(Status::ErrAlreadyNamed);
        }
        // Flag first, then look at the state (see the module docs).
        let was_named = pcb.named.swap(true, SeqCst);
        if pcb.state.is_exited_seqcst() {
            pcb.named.store(was_named, SeqCst);
            return Err(Status::ErrNoProcess);
        }
        names.insert(name.into(), pid);
        pids.insert(pid, name.into());
        Ok(())
    }

    /// Removes `name` (BEAM `unregister/1`, case 81). Errors: `ErrNotRegistered`.
    pub(crate) fn unregister(&self, name: &[u8]) -> Result<(), Status> {
        let mut names = self.names[shard_of(name)].write();
        let pid = names.remove(name).ok_or(Status::ErrNotRegistered)?;
        self.pids[shard_of(&pid)].write().remove(&pid);
        Ok(())
    }

    /// Names registered now (`length(erlang:registered())`); a snapshot, shard by shard.
    pub(crate) fn len(&self) -> usize {
        self.names.iter().map(|s| s.read().len()).sum()
    }

    /// The pid registered under `name` (BEAM `whereis/1`), or None.
    pub(crate) fn whereis(&self, name: &[u8]) -> Option<Pid> {
        self.names[shard_of(name)].read().get(name).copied()
    }

    /// The name of `pid`, if it has one (`process_info(P, registered_name)`).
    pub(crate) fn name_of(&self, pid: Pid) -> Option<Box<[u8]>> {
        self.pids[shard_of(&pid)].read().get(&pid).cloned()
    }

    /// Exit path: releases the name of an exiting process (after it was marked EXITED).
    pub(crate) fn release(&self, pcb: &Pcb) {
        if !pcb.named.load(SeqCst) {
            return;
        }
        let pid = pcb.pid;
        let Some(name) = self.pids[shard_of(&pid)].write().remove(&pid) else {
            return; // unregistered meanwhile
        };
        let mut names = self.names[shard_of(&*name)].write();
        if names.get(&*name) == Some(&pid) {
            names.remove(&*name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert_eq!(validate(b"ok"), Ok(()));
        assert_eq!(validate(b""), Err(Status::ErrBadArgument));
        assert_eq!(validate(b"a\0b"), Err(Status::ErrBadArgument));
        assert_eq!(validate(&[b'x'; MAX_NAME_LEN]), Ok(()));
        assert_eq!(
            validate(&[b'x'; MAX_NAME_LEN + 1]),
            Err(Status::ErrBadLength)
        );
    }
}
