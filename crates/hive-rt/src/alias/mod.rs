//! References and process aliases: `make_ref/0`, `alias/0,1`, `unalias/1`,
//! `monitor(process, Pid, [{alias, Mode}])` and sending to an alias (OTP 24, EEP 53).
//!
//! ## References
//! A reference is a `u64` laid out as `[node:12 | serial:52]`, the same type as a monitor
//! reference (`hive_monitor` returns one) and an alias: one counter of the runtime
//! (`RtInner::next_ref`) hands out the serials, so every reference — made by `make_ref`,
//! by a monitor, or as an alias — is distinct from every other while fewer than 2^52 have
//! been made (at 10^8 references a second, 1.4 years). 0 is never a reference. `node` is 0
//! for references made on this node; once distribution lands, a non-zero node identifies
//! the node that made a reference received from elsewhere (the node's name and creation
//! are kept by the distribution layer, as for pids). Timer references are a separate
//! space (`timer/user.rs`).
//!
//! ## Aliases
//! An alias is a reference its owner (the process that made it) has **activated**: others
//! can send to it ([`send_alias`]), and while it is active each such message is delivered to
//! the owner as an ordinary data message; a message to an inactive alias, to an alias of a
//! dead process, or to a reference that never was an alias is dropped silently (a send to an
//! alias never fails, as on the BEAM). Only the owner deactivates it: [`unalias`] (from
//! another process: false, no effect), or automatically, by its mode ([`AliasMode`]); and
//! every alias of a process dies with it.
//!
//! ## Where aliases live: a routing map and the owner's set
//! 64 bits cannot hold the owner's pid and enough unique bits, so an alias does not encode
//! its owner. Two records:
//! - the **owner's set** (`LinkData::aliases`, alias → mode, under `Pcb::sig`, behind the
//!   PCB's boxed link record: a process without aliases pays nothing, and the PCB keeps its
//!   320 bytes). It is the truth: a message is delivered only if its alias is in the set
//!   when the owner handles it;
//! - the runtime's **routing map** (`AliasTable`, alias → owner pid, 64 shards each under
//!   its own cache line's lock) tells a sender where to push. It is written when an alias
//!   is activated and deactivated (after the owner's set), and on exit.
//!
//! A send looks the owner up in the map, then pushes an **envelope** — a signal of kind
//! `SIG_ALIAS_MSG` carrying the alias and a pointer to the data message, so a message
//! sent with `hive_send_msg_alias` is never copied — into the owner's mailbox like every
//! other signal. It keeps its order with the sender's other messages and signals (the
//! BEAM's one ordering guarantee). The owner handles it where it handles every signal
//! (`signal::settle`): it looks the alias up in its set and appends the data message to its
//! private queue, or frees it. So the check happens when the message reaches the owner, not
//! when it is sent: a message still on its way when the owner deactivates the alias is
//! dropped (`unalias` in the middle of a call, a second reply after `reply_demonitor`), as the
//! BEAM does when it handles an alias message signal. Receives of processes without
//! aliases are untouched: only signal handling knows the envelope kind.
//!
//! Lock order: `Pcb::sig`, then a map shard; never the other way round (a sender holds a
//! shard only to read the owner's pid).

pub(crate) mod envelope;
pub(crate) mod mode;
pub(crate) mod table;
pub use mode::AliasMode;
pub use table::{ref_node, REF_NODE_BITS, REF_SERIAL_BITS};

use std::ptr::NonNull;

use crate::mailbox::{Msg, MAX_MESSAGE_LEN};
use crate::pid::Pid;
use crate::process::context::current;
use crate::process::pcb::Pcb;
use crate::runtime::runtime_of;
use crate::runtime::RtInner;
use crate::sched::Caller;
use crate::status::{Error, Result, Status};
use crate::Runtime;

/// Activates `alias` for the calling process `pcb`: its set first, then the route, so a
/// sender that finds the route finds the alias active.
fn activate(rt: &RtInner, pcb: &Pcb, alias: u64, mode: AliasMode) {
    pcb.sig.lock().data().aliases.insert(alias, mode);
    rt.aliases.insert(alias, pcb.pid);
}

/// `make_ref/0` on `rt`.
pub(crate) fn make_ref_on(rt: &RtInner) -> u64 {
    rt.new_ref()
}

/// `alias/0,1` for the calling process `pcb`.
pub(crate) fn alias_for(pcb: &Pcb, mode: AliasMode) -> std::result::Result<u64, Status> {
    if !matches!(mode, AliasMode::ExplicitUnalias | AliasMode::Reply) {
        return Err(Status::ErrBadArgument);
    }
    let rt = runtime_of(pcb);
    let alias = rt.new_ref();
    activate(rt, pcb, alias, mode);
    Ok(alias)
}

/// `unalias/1` for the calling process `pcb`: whether `alias` was one of its active
/// aliases.
pub(crate) fn unalias_for(pcb: &Pcb, alias: u64) -> std::result::Result<bool, Status> {
    if alias == 0 {
        return Err(Status::ErrBadArgument);
    }
    let was = pcb
        .sig
        .lock()
        .data
        .as_deref_mut()
        .is_some_and(|d| d.aliases.remove(&alias).is_some());
    if was {
        runtime_of(pcb).aliases.remove(alias);
    }
    Ok(was)
}

/// `monitor(process, To, [{alias, Mode}])` for the calling process `pcb`.
pub(crate) fn monitor_alias_for(
    pcb: &Pcb,
    to: Pid,
    mode: AliasMode,
) -> std::result::Result<u64, Status> {
    if mode == AliasMode::Reply {
        return Err(Status::ErrBadArgument);
    }
    let mref = crate::signal::request::monitor(pcb, to)?;
    // A target that is dead or exiting gave a DOWN at once (cases 57, 67): the monitor is
    // already gone, and with it an alias that ends with the monitor. (Nothing handles
    // signals between `monitor` returning and this check: only this process does, on its
    // own stack.) A monitor of oneself never fires (case 71) and is in no set.
    let fired = to != pcb.pid
        && !pcb
            .sig
            .lock()
            .data
            .as_deref()
            .is_some_and(|d| d.monitors.contains_key(&mref));
    if !(fired && mode.on_demonitor()) {
        activate(runtime_of(pcb), pcb, mref, mode);
    }
    Ok(mref)
}

/// Checks a payload length and copies `data` into a new data message from the caller.
fn data_msg(caller: &Caller, data: &[u8]) -> std::result::Result<NonNull<Msg>, Status> {
    if data.len() > MAX_MESSAGE_LEN {
        return Err(Status::ErrBadLength);
    }
    Msg::with_data(data, caller.pid(), caller.worker).ok_or(Status::ErrNoMemory)
}

/// Sends a copy of `data` through `alias` from any thread of `rt`.
pub(crate) fn send_alias_on(
    rt: &RtInner,
    caller: &Caller,
    alias: u64,
    data: &[u8],
) -> std::result::Result<(), Status> {
    if alias == 0 {
        return Err(Status::ErrBadArgument);
    }
    let m = data_msg(caller, data)?;
    envelope::send_alias_msg(rt, caller, alias, m)
}

// ---- the Rust API ----------------------------------------------------------------------

/// A new reference (`erlang:make_ref/0`): never 0, distinct from every other reference of
/// the runtime — `make_ref`s, monitor references and aliases alike — from every process
/// and thread (shape: see the module docs). Errors: `ErrNotAProcess` (from a thread that
/// is not a process use [`Runtime::make_ref`]).
pub fn make_ref() -> Result<u64> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    Ok(make_ref_on(runtime_of(pcb)))
}

/// Gives the calling process a new alias (`erlang:alias/0` with
/// [`AliasMode::ExplicitUnalias`], `erlang:alias([reply])` with [`AliasMode::Reply`]):
/// a reference others can send to with [`send_alias`]; each message arrives as an
/// ordinary data message while the alias is active. Deactivated by [`unalias`], by the
/// first message through it in `Reply` mode, and when the process exits.
/// Errors: `ErrNotAProcess`, `ErrBadArgument` (`Demonitor` or `ReplyDemonitor`: those
/// are for [`monitor_alias`]).
pub fn alias(mode: AliasMode) -> Result<u64> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    alias_for(pcb, mode).map_err(Error)
}

/// Deactivates the calling process's alias `alias` (`erlang:unalias/1`), whatever its
/// mode; returns true if it was an active alias of the caller, false otherwise (already
/// inactive, another process's alias — which stays active: only the owner can deactivate
/// it — or not an alias). Messages sent through it afterwards, and those still on their
/// way, are dropped; those already received stay. Errors: `ErrNotAProcess`,
/// `ErrBadArgument` (reference 0).
pub fn unalias(alias: u64) -> Result<bool> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    unalias_for(pcb, alias).map_err(Error)
}

/// Monitors `pid` with an alias (`erlang:monitor(process, Pid, [{alias, Mode}])`): as
/// [`crate::process::monitor`] (one DOWN when `pid` exits, at once with `Noproc` if it is
/// dead or exiting), and the returned monitor reference is also an alias of the caller,
/// deactivated according to `mode`: `ExplicitUnalias` (only [`unalias`]), `Demonitor`
/// (when the monitor is removed by `demonitor` or by its DOWN; a monitor that fires at
/// once leaves it inactive), `ReplyDemonitor` (also when the first message through the
/// alias arrives, which removes the monitor too: no DOWN follows). Errors:
/// `ErrNotAProcess`, `ErrBadArgument` (pid 0, or `Reply`, which is for [`alias`]).
pub fn monitor_alias(pid: Pid, mode: AliasMode) -> Result<u64> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    monitor_alias_for(pcb, pid, mode).map_err(Error)
}

/// Sends a copy of `data` through `alias` (`Alias ! Msg`): delivered to the alias's owner
/// as an ordinary data message (sender: the calling process) if the alias is active when
/// the message reaches the owner; dropped silently otherwise — inactive alias, dead owner,
/// a reference that is no alias, another node's alias — as a send never fails. Keeps its
/// order with the caller's other messages to the owner. Errors: `ErrNotAProcess`,
/// `ErrBadArgument` (reference 0), `ErrBadLength` (above 1 GiB), `ErrNoMemory`.
pub fn send_alias(alias: u64, data: &[u8]) -> Result<()> {
    let _rt = crate::sched::enter();
    let pcb = current()?;
    send_alias_on(runtime_of(pcb), &Caller::get(), alias, data).map_err(Error)
}

impl Runtime {
    /// A new reference (`erlang:make_ref/0`) from any thread: see [`make_ref`].
    pub fn make_ref(&self) -> u64 {
        let _rt = crate::sched::enter();
        make_ref_on(&self.inner)
    }

    /// Sends a copy of `data` through `alias` from any thread (the message's sender is
    /// [`Pid::NONE`] outside a process): see [`send_alias`]. Errors: `ErrBadArgument`
    /// (reference 0), `ErrBadLength`, `ErrNoMemory`, `ErrShutDown` (from a thread that is
    /// not a process, after shutdown).
    pub fn send_alias(&self, alias: u64, data: &[u8]) -> Result<()> {
        let _rt = crate::sched::enter();
        send_alias_on(&self.inner, &Caller::get(), alias, data).map_err(Error)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::Config;

    #[test]
    fn reference_shape() {
        assert_eq!(REF_NODE_BITS + REF_SERIAL_BITS, 64);
        assert_eq!(ref_node(1), 0);
        assert_eq!(ref_node((1 << REF_SERIAL_BITS) - 1), 0);
        assert_eq!(ref_node(3 << REF_SERIAL_BITS), 3);
        assert_eq!(AliasMode::from_raw(4), None);
        assert_eq!(AliasMode::from_raw(-1), None);
    }

    /// The exit path removes the routes of the aliases a process held, and the owner's
    /// unalias removes its route: the map does not grow with dead or inactive aliases.
    #[test]
    fn routes_go_with_unalias_and_exit() {
        let rt = Runtime::new(Config {
            schedulers: 1,
            ..Config::default()
        })
        .unwrap();
        let r = rt
            .run(|| {
                for _ in 0..10 {
                    alias(AliasMode::ExplicitUnalias).unwrap();
                }
                let a = alias(AliasMode::Reply).unwrap();
                assert!(unalias(a).unwrap());
            })
            .unwrap();
        assert!(r.is_normal());
        assert_eq!(rt.inner.aliases.len(), 0);
        rt.shutdown();
    }
}
