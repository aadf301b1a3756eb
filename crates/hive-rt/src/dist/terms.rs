//! Pids and references inside terms, with or without a running node: the identity the
//! term calls of the ABI (`ffi/term.rs`) use. A runtime without distribution names its
//! pids and references as the BEAM does when not distributed: node `nonode@nohost`,
//! creation 0.

use std::sync::Arc;

use super::etf::{Atom, ExtPid, ExtRef};
use super::ids::{ext_to_local_ref, ext_to_pid, pid_to_ext, ref_to_ext, Incarnations, Me};
use super::node::Node;
use crate::pid::{Pid, INDEX_BITS, SERIAL_BITS};
use crate::runtime::RtInner;
use crate::status::Status;

/// The identity of a runtime that is not a node.
fn nonode() -> Me {
    Me {
        name: Atom::new("nonode@nohost").expect("a short atom"),
        creation: 0,
    }
}

fn running(rt: &RtInner) -> Option<Arc<Node>> {
    super::api::node_of(rt)
}

/// `pid` as a term. Errors: `ErrBadArgument` (`Pid::NONE`, or a remote pid while no node
/// runs: its node is gone).
pub(crate) fn pid_out(rt: &RtInner, pid: Pid) -> Result<ExtPid, Status> {
    match running(rt) {
        Some(n) => pid_to_ext(&n.me, &n.inc, pid).ok_or(Status::ErrBadArgument),
        None if pid.node() == 0 => {
            pid_to_ext(&nonode(), &Incarnations::default(), pid).ok_or(Status::ErrBadArgument)
        }
        None => Err(Status::ErrBadArgument),
    }
}

/// The Hive pid of a pid term. Errors: `ErrSystemLimit` (its ID or Serial do not fit, or
/// too many node incarnations), `ErrNotDistributed` (a pid of another node while no node
/// runs).
pub(crate) fn pid_in(rt: &RtInner, p: &ExtPid) -> Result<Pid, Status> {
    match running(rt) {
        Some(n) => ext_to_pid(&n.me, &n.inc, p).ok_or(Status::ErrSystemLimit),
        None => {
            let me = nonode();
            if p.node != me.name {
                return Err(Status::ErrNotDistributed);
            }
            if u64::from(p.id) >= 1 << INDEX_BITS
                || u64::from(p.serial) >= 1 << SERIAL_BITS
                || p.serial == 0
            {
                return Err(Status::ErrSystemLimit);
            }
            Ok(Pid::local(p.id, p.serial))
        }
    }
}

/// A local reference as a term.
pub(crate) fn ref_out(rt: &RtInner, r: u64) -> ExtRef {
    match running(rt) {
        Some(n) => ref_to_ext(&n.me, r),
        None => ref_to_ext(&nonode(), r),
    }
}

/// The local reference a reference term stands for; None for one made elsewhere.
pub(crate) fn ref_in(rt: &RtInner, r: &ExtRef) -> Option<u64> {
    match running(rt) {
        Some(n) => ext_to_local_ref(&n.me, r),
        None => ext_to_local_ref(&nonode(), r),
    }
}
