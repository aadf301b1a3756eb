//! Remote spawn (`erlang:spawn_request/5`, `SPAWN_REQUEST`/`SPAWN_REPLY` [P]).
//!
//! No Erlang code runs on Hive, so a node offers *entry points registered by name*: a
//! `{Module, Function}` pair bound to a C function or a Rust closure
//! ([`register_entry`](super::api::register_entry), `hive_dist_register_entry`). A
//! `spawn_request(Node, M, F, Args, Opts)` from a BEAM or Hive node to such a pair spawns a
//! process that gets the argument list as ETF bytes; an unknown pair is answered with the
//! error `undef` (where the BEAM would spawn a process that fails with `undef`, case 151).
//! With the `link` and `monitor` options the new process has the link and the monitor
//! before it can run (`RtInner::spawn_for_remote`), and the reply is queued under the
//! connection's lock before the process can send anything, so its exit is reported with
//! its real reason, after the reply (cases 153, 154, 156).
//!
//! From Hive, [`spawn_request`](super::api::spawn_request) sends the request; the reply
//! arrives as the message `{spawn_reply, ReqId, ok, Pid}` or `{spawn_reply, ReqId, error,
//! Reason}` (ETF, as on the BEAM).

use std::ffi::c_void;
use std::sync::Arc;

use super::control::{op, push_frame};
use super::etf::{Atom, Term};
use super::ids::{ext_to_local_ref, ext_to_pid};
use super::node::{Entry, HeldMonitor, Node};
use crate::config::SpawnOptions;
use crate::pid::Pid;
use crate::process::pcb::Entry as ProcEntry;
use crate::signal::route::Delivery;
use crate::signal::Signal;

/// What a registered entry point runs.
#[derive(Clone)]
pub(crate) enum EntryFn {
    /// A C function; its argument points to a `uint64_t` length (little-endian, native)
    /// followed by that many bytes: the ETF list of arguments.
    C(extern "C" fn(*mut c_void)),
    /// A Rust closure, given the ETF list of arguments.
    Rust(Arc<dyn Fn(Vec<u8>) + Send + Sync>),
}

impl std::fmt::Debug for EntryFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryFn::C(p) => write!(f, "C({p:p})"),
            EntryFn::Rust(_) => f.write_str("Rust(..)"),
        }
    }
}

/// True for an option list entry `name` or `{name, _}`.
fn has_opt(opts: &Term, name: &str) -> bool {
    let items: &[Term] = match opts {
        Term::List(v, _) => v,
        _ => return false,
    };
    items.iter().any(|o| {
        o.as_atom() == Some(name)
            || o.as_tuple().and_then(|t| t.first()).and_then(Term::as_atom) == Some(name)
    })
}

/// `SPAWN_REQUEST {29, ReqId, From, GroupLeader, {M, F, A}, Opts}` + the argument list.
pub(crate) fn request(node: &Arc<Node>, entry: &Arc<Entry>, t: &[Term], args: &[u8]) {
    let (Some(req), Some(from_t), Some(mfa), Some(opts)) = (t.get(1), t.get(2), t.get(4), t.get(5))
    else {
        return;
    };
    let Some(rt) = node.rt.upgrade() else { return };
    let Some(from) = (match from_t {
        Term::Pid(p) => ext_to_pid(&node.me, &node.inc, p),
        _ => None,
    }) else {
        return;
    };
    let key = match mfa.as_tuple() {
        Some([m, f, _]) => m
            .as_atom()
            .zip(f.as_atom())
            .map(|(m, f)| (m.to_owned(), f.to_owned())),
        _ => None,
    };
    let func = key.and_then(|k| node.spawn_entries.read().get(&k).cloned());
    let link = has_opt(opts, "link");
    let monitor = has_opt(opts, "monitor");
    let reply = |result: Term, flags: i64| {
        Term::tuple(vec![
            Term::Int(op::SPAWN_REPLY),
            req.clone(),
            from_t.clone(),
            Term::Int(flags),
            result,
        ])
    };
    let Some(func) = func else {
        node.queue(
            entry,
            None,
            Pid::NONE,
            &reply(Term::atom("undef"), 0),
            None,
            |_| {},
        );
        return;
    };
    let ext_ref = match req {
        Term::Ref(r) => Some(r.clone()),
        _ => None,
    };
    let token = if monitor && ext_ref.is_some() {
        rt.new_ref()
    } else {
        0
    };
    let (pentry, arg) = match func {
        EntryFn::C(f) => {
            let mut a = (args.len() as u64).to_ne_bytes().to_vec();
            a.extend_from_slice(args);
            (
                ProcEntry::C {
                    f,
                    arg: std::ptr::null_mut(),
                },
                a,
            )
        }
        EntryFn::Rust(f) => {
            let a = args.to_vec();
            (ProcEntry::rust(move || f(a)), Vec::new())
        }
    };
    // Under the connection's lock: the reply goes out before anything the new process
    // sends on this connection.
    node.queue_built(entry, None, false, |s| {
        let r = rt.spawn_for_remote(pentry, &arg, SpawnOptions::default(), from, link, token);
        // The reply travels on the new process's lane, before anything it sends.
        let mut key = Pid::NONE;
        let frame = match r {
            Ok(pid) => {
                key = pid;
                if link {
                    s.links.insert((pid, from));
                }
                if let (true, Some(ext)) = (token != 0, ext_ref) {
                    s.held_refs.insert(ext.clone(), token);
                    s.held.insert(
                        token,
                        HeldMonitor {
                            target: pid,
                            watcher: from,
                            ext,
                            name: None,
                        },
                    );
                }
                let flags = i64::from(link) | (i64::from(token != 0) << 1);
                match node.pid_term(pid) {
                    Some(p) => reply(p, flags),
                    None => reply(Term::atom("system_limit"), 0),
                }
            }
            Err(crate::status::Status::ErrSystemLimit) => reply(Term::atom("system_limit"), 0),
            Err(_) => reply(Term::atom("badarg"), 0),
        };
        push_frame(s.out_for(key), &frame, None);
        Some(key)
    });
}

/// `SPAWN_REPLY {31, ReqId, To, Flags, Result}` to a `spawn_request` of a local process.
pub(crate) fn reply(node: &Arc<Node>, entry: &Arc<Entry>, t: &[Term]) {
    let (Some(Term::Ref(req)), Some(Term::Pid(to)), Some(flags), Some(result)) = (
        t.get(1),
        t.get(2),
        t.get(3).and_then(Term::as_int),
        t.get(4),
    ) else {
        return;
    };
    let Some(to) = ext_to_pid(&node.me, &node.inc, to) else {
        return;
    };
    let Some(reqid) = ext_to_local_ref(&node.me, req) else {
        return;
    };
    let pending = entry.state.lock().spawns.remove(&reqid);
    let Some((_, link, monitor)) = pending else {
        return;
    };
    // The requester's own side of the link and the monitor is set up first (nothing it
    // sees), then the reply goes, and only then are they recorded on the connection:
    // `controller::end`, which may run at any moment on another process (a
    // `disconnect`), ends only what is recorded there, after the reply. If it ran in
    // between, the connection this reply came on is gone and the link and monitor end
    // here, with `noconnection`, after the reply (found by `tests/dist_soak.rs`: the DOWN
    // came before the reply, or never).
    let mut child = None;
    let (mut held, mut linked) = (false, false);
    let (status, what) = match result {
        Term::Pid(p) => {
            child = ext_to_pid(&node.me, &node.inc, p);
            if let (true, true, Some(child)) = (monitor, flags & 2 != 0, child) {
                // The child's node monitors it for us under the request's reference.
                held = hold_monitor(node, to, reqid, child);
                if !held {
                    // The requester is gone: end the monitor on the child's node.
                    if let (Some(f), Some(c)) = (node.pid_term(to), node.pid_term(child)) {
                        let ctl = Term::tuple(vec![
                            Term::Int(op::DEMONITOR_P),
                            f,
                            c,
                            Term::Ref(req.clone()),
                        ]);
                        node.queue(entry, None, to, &ctl, None, |_| {});
                    }
                }
            }
            if let (true, true, Some(child)) = (link, flags & 1 != 0, child) {
                // The child's side is set up.
                linked = node.deliver_local(child, to, Signal::Link) == Some(Delivery::Delivered);
                if !linked {
                    if let (Some(f), Some(c)) = (node.pid_term(to), node.pid_term(child)) {
                        let ctl = Term::tuple(vec![Term::Int(op::PAYLOAD_EXIT), f, c]);
                        let r = crate::reason::ExitReason::Noproc;
                        node.queue(
                            entry,
                            None,
                            to,
                            &ctl,
                            Some(super::control::Payload::reason(&r)),
                            |_| {},
                        );
                    }
                }
            }
            ("ok", result.clone())
        }
        other => ("error", other.clone()),
    };
    let msg = super::etf::to_vec(&Term::tuple(vec![
        Term::atom("spawn_reply"),
        Term::Ref(req.clone()),
        Term::atom(status),
        what,
    ]));
    node.send_local(Pid::NONE, to, &msg);
    let Some(child) = child.filter(|_| held || linked) else {
        return;
    };
    // Still the connection this frame came on: carried out by one of its controllers.
    let me = crate::process::self_pid();
    let up = {
        let mut s = entry.state.lock();
        let up =
            !me.is_none() && (s.controller == me || s.lanes.iter().any(|l| l.controller == me));
        if up {
            if held {
                s.monitors.insert(reqid, (to, child, None));
            }
            if linked {
                s.links.insert((to, child));
            }
        }
        up
    };
    if !up {
        let nc = crate::reason::ExitReason::Noconnection;
        if linked {
            node.deliver_local(child, to, Signal::LinkExit(&nc));
        }
        if held {
            node.deliver_local(child, to, Signal::Down(reqid, &nc));
        }
    }
}

/// Records, in the local process `holder`'s own set, its monitor `mref` on the remote
/// `child` (a `spawn_request` with `monitor`). False when `holder` has exited (its exit
/// path took its set, or it never existed).
fn hold_monitor(node: &Node, holder: Pid, mref: u64, child: Pid) -> bool {
    let Some(rt) = node.rt.upgrade() else {
        return false;
    };
    let Some(_access) = rt.access() else {
        return false;
    };
    let Some(pcb) = rt.table.lookup(holder) else {
        return false;
    };
    // SAFETY: `_access` pins us: the PCB stays allocated while we use it.
    let pcb = unsafe { pcb.as_ref() };
    let mut s = pcb.sig.lock();
    if pcb.life.is_closed() {
        return false;
    }
    s.data().monitors.insert(mref, child);
    true
}

/// The `{M, F, Arity}` of a request.
pub(crate) fn mfa(module: &Atom, function: &Atom, arity: usize) -> Term {
    Term::tuple(vec![
        Term::Atom(module.clone()),
        Term::Atom(function.clone()),
        Term::Int(arity as i64),
    ])
}
