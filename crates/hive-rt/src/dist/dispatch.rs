//! The receiving side of a connection: each frame's control message, carried out on this
//! node with the BEAM's semantics (`docs/distribution.md`, "What maps to what"), in the
//! order the frames came ([`Rx`]: held back on a further lane until the peer's switch to
//! lanes, `lanes.rs`, "Order"); a large message frame goes on in its own message
//! ([`send_in_place`]).
//!
//! Signals from a remote process go to local processes by the one route
//! (`signal::route::deliver`) with the remote pid as sender, so they keep their order with
//! everything else the receiver gets and are handled as local signals are. Requests to a
//! process that is gone are answered here, as the BEAM's node answers them: a `LINK` with
//! an exit signal `noproc`, a `MONITOR_P` with a DOWN `noproc` (cases 117, 127).
//! `UNLINK_ID` is acknowledged before the unlink is delivered, so the acknowledgement
//! precedes every later signal to the unlinker ([P §Link Protocol]).

use std::sync::Arc;

use super::control::{check_payload, op, reason_of, split_frame, Payload};
use super::etf::{EtfError, ExtRef, Term};
use super::ids::{ext_to_local_ref, ext_to_pid, raw_pid_to_pid, RawPid};
use super::lanes;
use super::node::{Entry, HeldMonitor, Node};
use crate::io::frame::{batch_frames, BIG_FRAME};
use crate::mailbox::{MessageKind, Msg, MESSAGE_ALIGN};
use crate::pid::Pid;
use crate::process::message::Message;
use crate::reason::ExitReason;
use crate::signal::route::Delivery;
use crate::signal::Signal;

/// Frames arriving on a connection, in order: carried out (`dispatch.rs`), except the
/// lane switch marker on lane 0, and frames on a further lane before that marker, which
/// are held back (`lanes.rs`, "Order").
pub(crate) struct Rx {
    pub(crate) lane: usize,
    /// The peer's marker was carried out (always true on lane 0).
    pub(crate) on: bool,
    pub(crate) held: lanes::Holdback,
}

impl Rx {
    pub(crate) fn frame(
        &mut self,
        node: &Arc<Node>,
        entry: &Arc<Entry>,
        f: &[u8],
    ) -> Result<(), ()> {
        if f.is_empty() {
            return Ok(()); // a tick
        }
        if self.lane == 0 {
            if f == lanes::MARKER {
                let ctls: Vec<Pid> = {
                    let mut st = entry.state.lock();
                    st.lanes_rx = true;
                    st.lanes.iter().map(|l| l.controller).collect()
                };
                for c in ctls.into_iter().filter(|c| !c.is_none()) {
                    node.poke(c, b"E");
                }
                return Ok(());
            }
            return frame(node, entry, f).map_err(drop);
        }
        if !self.on && entry.state.lock().lanes_rx {
            self.release(node, entry)?;
        }
        if self.on {
            frame(node, entry, f).map_err(drop)
        } else if self.held.hold(f) {
            Ok(())
        } else {
            Err(())
        }
    }

    /// A large frame alone in its message goes on in it when it is a message to a local
    /// process (`dispatch::send_in_place`); `Err(m)` when it is not, or when it must wait
    /// behind held-back frames.
    pub(crate) fn in_place(
        &self,
        node: &Arc<Node>,
        entry: &Arc<Entry>,
        m: Message,
    ) -> Result<Result<(), &'static str>, Message> {
        if m.len() < BIG_FRAME || !(self.lane == 0 || self.on) {
            return Err(m);
        }
        let alone =
            matches!(batch_frames(m.data()).next(), Some(Some(f)) if f.len() + 4 == m.len());
        if !alone {
            return Err(m);
        }
        send_in_place(node, entry, m).map(|r| r.map_err(|_| "bad frame"))
    }

    /// The marker was carried out: the frames held back go first.
    pub(crate) fn release(&mut self, node: &Arc<Node>, entry: &Arc<Entry>) -> Result<(), ()> {
        self.on = true;
        for f in self.held.take() {
            frame(node, entry, &f).map_err(drop)?;
        }
        Ok(())
    }
}

/// Carries out one frame (not a tick). Errors: a frame that is not well formed; the
/// connection is then dropped. Control messages Hive does not know are ignored.
pub(crate) fn frame(node: &Arc<Node>, entry: &Arc<Entry>, frame: &[u8]) -> Result<(), EtfError> {
    let _rt = crate::sched::enter();
    if let Some(r) = send_sender(node, entry, frame) {
        return r;
    }
    let (ctl, payload) = split_frame(frame)?;
    let Some(t) = ctl.as_tuple() else {
        return Ok(());
    };
    let Some(o) = t.first().and_then(Term::as_int) else {
        return Ok(());
    };
    let pid = |i: usize| match t.get(i) {
        Some(Term::Pid(p)) => ext_to_pid(&node.me, &node.inc, p),
        _ => None,
    };
    let reason = |i: usize| -> ExitReason {
        match t.get(i) {
            Some(r) => reason_of(&super::etf::to_vec(r)),
            None => reason_of(payload),
        }
    };
    match o {
        op::SEND | op::SEND_TT => {
            if let Some(to) = pid(2) {
                node.send_local(Pid::NONE, to, payload);
            }
        }
        op::SEND_SENDER | op::SEND_SENDER_TT => {
            if let (Some(from), Some(to)) = (pid(1), pid(2)) {
                node.send_local(from, to, payload);
            }
        }
        op::REG_SEND | op::REG_SEND_TT => {
            let from = pid(1).unwrap_or(Pid::NONE);
            if let Some(name) = t.get(3).and_then(Term::as_atom) {
                reg_send(node, entry, from, name, payload);
            }
        }
        op::ALIAS_SEND | op::ALIAS_SEND_TT => {
            if let (Some(from), Some(Term::Ref(r))) = (pid(1), t.get(2)) {
                if let Some(alias) = ext_to_local_ref(&node.me, r) {
                    alias_send(node, from, alias, payload);
                }
            }
        }
        op::LINK => {
            if let (Some(from), Some(to)) = (pid(1), pid(2)) {
                link(node, entry, from, to);
            }
        }
        op::UNLINK => {
            if let (Some(from), Some(to)) = (pid(1), pid(2)) {
                entry.state.lock().links.remove(&(to, from));
                node.deliver_local(from, to, Signal::Unlink);
            }
        }
        op::UNLINK_ID => {
            if let (Some(from), Some(to), Some(id)) = (pid(2), pid(3), t.get(1)) {
                let ack = Term::tuple(vec![
                    Term::Int(op::UNLINK_ID_ACK),
                    id.clone(),
                    t[3].clone(),
                    t[2].clone(),
                ]);
                node.queue(entry, None, to, &ack, None, |s| {
                    s.links.remove(&(to, from));
                });
                node.deliver_local(from, to, Signal::Unlink);
            }
        }
        op::EXIT | op::EXIT_TT | op::PAYLOAD_EXIT | op::PAYLOAD_EXIT_TT => {
            if let (Some(from), Some(to)) = (pid(1), pid(2)) {
                let r = reason(if o == op::EXIT {
                    3
                } else if o == op::EXIT_TT {
                    4
                } else {
                    99
                });
                entry.state.lock().links.remove(&(to, from));
                node.deliver_local(from, to, Signal::LinkExit(&r));
            }
        }
        op::EXIT2 | op::EXIT2_TT | op::PAYLOAD_EXIT2 | op::PAYLOAD_EXIT2_TT => {
            if let (Some(from), Some(to)) = (pid(1), pid(2)) {
                let r = reason(if o == op::EXIT2 {
                    3
                } else if o == op::EXIT2_TT {
                    4
                } else {
                    99
                });
                node.deliver_local(from, to, Signal::Exit(&r));
            }
        }
        op::MONITOR_P => {
            if let (Some(from), Some(target), Some(Term::Ref(r))) = (pid(1), t.get(2), t.get(3)) {
                monitor(node, entry, from, target, r);
            }
        }
        op::DEMONITOR_P => {
            if let (Some(from), Some(Term::Ref(r))) = (pid(1), t.get(3)) {
                let held = {
                    let mut s = entry.state.lock();
                    let token = s.held_refs.remove(r);
                    token.and_then(|k| s.held.remove(&k).map(|h| (k, h)))
                };
                if let Some((token, h)) = held {
                    node.deliver_local(from, h.target, Signal::Demonitor(token));
                }
            }
        }
        op::MONITOR_P_EXIT | op::PAYLOAD_MONITOR_P_EXIT => {
            if let Some(Term::Ref(r)) = t.get(3) {
                if let Some(mref) = ext_to_local_ref(&node.me, r) {
                    let r = reason(if o == op::MONITOR_P_EXIT { 4 } else { 99 });
                    let m = entry.state.lock().monitors.remove(&mref);
                    if let Some((local, remote, _)) = m {
                        node.deliver_local(remote, local, Signal::Down(mref, &r));
                    }
                }
            }
        }
        op::SPAWN_REQUEST | op::SPAWN_REQUEST_TT => super::spawn::request(node, entry, t, payload),
        op::SPAWN_REPLY | op::SPAWN_REPLY_TT => super::spawn::reply(node, entry, t),
        _ => {}
    }
    Ok(())
}

/// `REG_SEND` to `name`: a registered local process gets the payload; `net_kernel`'s
/// `is_auth` call (what `net_adm:ping/1` sends) is answered `yes` (case 144); other
/// sends to names nobody holds are dropped (case 106).
/// The bytes of a `SEND_SENDER` control term up to its first pid: pass-through, version,
/// a 3-tuple, the small integer 22.
const SEND_SENDER_HEAD: [u8; 6] = [112, 131, 104, 3, 97, op::SEND_SENDER as u8];

/// The message frames from one process to another, most of all traffic, read straight from
/// their bytes: `{SEND_SENDER, From, To}` whose pids name this node and the peer. None
/// when the frame is anything else (the general path decodes it: an older incarnation,
/// another node's pid, Latin-1 atoms, other control messages). The payload is checked as
/// `split_frame` checks it.
fn send_sender(node: &Node, entry: &Entry, frame: &[u8]) -> Option<Result<(), EtfError>> {
    let (from, to, rest) = send_sender_parts(frame)?;
    let pid = |raw| raw_pid_to_pid(&node.me, &node.inc, &entry.name, &entry.peer_field, raw);
    let (Ok(from), Ok(to)) = (pid(from), pid(to)) else {
        return None;
    };
    Some(check_payload(rest).map(|payload| {
        if let (Some(from), Some(to)) = (from, to) {
            node.send_local(from, to, payload);
        }
    }))
}

/// Where the payload of a `SEND_SENDER` frame starts, counted from its 4-byte length
/// prefix, given the frame's first bytes (`head`, prefix included); None for other frames
/// or when `head` is too short to tell. The socket places a large frame so that this
/// offset is 16-byte aligned (`io::active`, "Large frames"), and [`send_in_place`] can
/// then pass the payload on in the frame's own message.
pub(crate) fn payload_at(head: &[u8]) -> Option<usize> {
    let (_, _, rest) = send_sender_parts(head.get(4..)?)?;
    Some(head.len() - rest.len())
}

/// The sender, the receiver and the payload bytes of a `SEND_SENDER` frame (no length
/// prefix) read from its bytes; None when it is not one in the form [`send_sender`] reads
/// (or is cut short).
fn send_sender_parts(frame: &[u8]) -> Option<(RawPid<'_>, RawPid<'_>, &[u8])> {
    let rest = frame.strip_prefix(&SEND_SENDER_HEAD)?;
    let (from, rest) = RawPid::read(rest)?;
    let (to, rest) = RawPid::read(rest)?;
    Some((from, to, rest))
}

/// A large frame alone in its message `m` (length prefix included): a `SEND_SENDER`
/// whose pids [`send_sender`] reads, with its payload 16-byte aligned, becomes the
/// receiver's message in place — narrowed to the payload, with the sender's pid — so its
/// bytes are not copied again. `Err(m)` when the frame is anything else: the caller
/// carries it out the ordinary way. `Ok(Err(_))`: a malformed payload (the connection is
/// dropped, as [`frame`] would).
pub(crate) fn send_in_place(
    node: &Node,
    entry: &Entry,
    m: Message,
) -> Result<Result<(), EtfError>, Message> {
    let data = m.data();
    let Some((from, to, rest)) = data.get(4..).and_then(send_sender_parts) else {
        return Err(m);
    };
    if !(rest.as_ptr() as usize).is_multiple_of(MESSAGE_ALIGN) {
        return Err(m);
    }
    let pid = |raw| raw_pid_to_pid(&node.me, &node.inc, &entry.name, &entry.peer_field, raw);
    let (Ok(from), Ok(to)) = (pid(from), pid(to)) else {
        return Err(m);
    };
    let payload = match check_payload(rest) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let (start, len) = (data.len() - payload.len(), payload.len());
    if let (Some(from), Some(to)) = (from, to) {
        let raw = m.into_raw();
        // SAFETY: `raw` is the message `m` owned (given up above); its payload holds
        // `start + len` bytes, the payload at `start` is 16-byte aligned (checked above),
        // as a message reaching user code must be.
        unsafe {
            Msg::narrow(raw.as_ptr(), start, len);
            Msg::set_kind(raw.as_ptr(), MessageKind::Data as u32);
            Msg::set_sender(raw.as_ptr(), from);
        }
        send_msg(node, to, raw);
    }
    Ok(Ok(()))
}

/// Sends message `m`, received whole from the peer, to the local `to`.
fn send_msg(node: &Node, to: Pid, m: std::ptr::NonNull<Msg>) {
    let _rt = crate::sched::enter();
    let caller = crate::sched::Caller::get();
    match node.rt.upgrade() {
        Some(rt) => {
            let _ = rt.send_as(&caller, to, m);
        }
        // SAFETY: `m` is owned here and not used again.
        None => unsafe { Msg::free_by(m.as_ptr(), caller.worker) },
    }
}

fn reg_send(node: &Arc<Node>, entry: &Arc<Entry>, from: Pid, name: &str, payload: &[u8]) {
    let Some(rt) = node.rt.upgrade() else { return };
    if let Some(to) = rt.registry.whereis(name.as_bytes()) {
        node.send_local(from, to, payload);
        return;
    }
    if name == "net_kernel" {
        // {'$gen_call', {From, Tag}, {is_auth, Node}} -> {Tag, yes} to From.
        let Ok(msg) = super::etf::decode(payload) else {
            return;
        };
        let Some([call, fromtag, req]) =
            msg.as_tuple().and_then(|v| <&[Term; 3]>::try_from(v).ok())
        else {
            return;
        };
        let is_auth = req
            .as_tuple()
            .and_then(|r| r.first())
            .and_then(Term::as_atom)
            == Some("is_auth");
        if call.as_atom() != Some("$gen_call") || !is_auth {
            return;
        }
        let Some([caller, tag]) = fromtag
            .as_tuple()
            .and_then(|v| <&[Term; 2]>::try_from(v).ok())
        else {
            return;
        };
        let reply = super::etf::to_vec(&Term::tuple(vec![tag.clone(), Term::atom("yes")]));
        let ctl = Term::tuple(vec![Term::Int(op::SEND), Term::atom(""), caller.clone()]);
        node.queue(
            entry,
            None,
            Pid::NONE,
            &ctl,
            Some(Payload::data(&reply)),
            |_| {},
        );
    }
}

/// `ALIAS_SEND` to a local alias.
fn alias_send(node: &Node, from: Pid, alias: u64, payload: &[u8]) {
    let Some(rt) = node.rt.upgrade() else { return };
    let caller = crate::sched::Caller::get();
    if let Some(m) = crate::mailbox::Msg::with_data(payload, from, caller.worker) {
        let _ = crate::alias::envelope::send_alias_msg(&rt, &caller, alias, m);
    }
}

/// `LINK` from remote `from` to local `to`.
fn link(node: &Arc<Node>, entry: &Arc<Entry>, from: Pid, to: Pid) {
    entry.state.lock().links.insert((to, from));
    // A pid of an old incarnation of this node (`to.node() != 0`) has no process here.
    let delivered =
        to.node() == 0 && node.deliver_local(from, to, Signal::Link) == Some(Delivery::Delivered);
    match delivered {
        true => {}
        _ => {
            // Case 117: the link to a process that is gone ends at once with `noproc`.
            entry.state.lock().links.remove(&(to, from));
            let (Some(f), Some(t)) = (node.pid_term(to), node.pid_term(from)) else {
                return;
            };
            let ctl = Term::tuple(vec![Term::Int(op::PAYLOAD_EXIT), f, t]);
            node.queue(
                entry,
                None,
                to,
                &ctl,
                Some(Payload::reason(&ExitReason::Noproc)),
                |_| {},
            );
        }
    }
}

/// `MONITOR_P` from remote `from` on a local pid or registered name.
fn monitor(node: &Arc<Node>, entry: &Arc<Entry>, from: Pid, target: &Term, r: &ExtRef) {
    let Some(rt) = node.rt.upgrade() else { return };
    let (to, name) = match target {
        Term::Pid(p) => (super::ids::ext_to_pid(&node.me, &node.inc, p), None),
        Term::Atom(a) => {
            // `net_kernel` is there for as long as distribution runs: `net_adm:ping/1`
            // monitors it around its call.
            if a.as_str() == "net_kernel" {
                return;
            }
            (rt.registry.whereis(a.as_str().as_bytes()), Some(a.clone()))
        }
        _ => return,
    };
    let token = rt.new_ref();
    let held = HeldMonitor {
        target: to.unwrap_or(Pid::NONE),
        watcher: from,
        ext: r.clone(),
        name: name.clone(),
    };
    let delivered = match to {
        Some(to) if to.node() == 0 => {
            {
                let mut s = entry.state.lock();
                s.held.insert(token, held);
                s.held_refs.insert(r.clone(), token);
            }
            node.deliver_local(from, to, Signal::Monitor(token)) == Some(Delivery::Delivered)
        }
        _ => false,
    };
    if !delivered {
        // Case 127: a DOWN `noproc` at once.
        {
            let mut s = entry.state.lock();
            s.held.remove(&token);
            s.held_refs.remove(r);
        }
        let who = match name {
            Some(a) => Term::Atom(a),
            None => target.clone(),
        };
        let Some(watcher) = node.pid_term(from) else {
            return;
        };
        let ctl = Term::tuple(vec![
            Term::Int(op::PAYLOAD_MONITOR_P_EXIT),
            who,
            watcher,
            Term::Ref(r.clone()),
        ]);
        node.queue(
            entry,
            None,
            to.unwrap_or(Pid::NONE),
            &ctl,
            Some(Payload::reason(&ExitReason::Noproc)),
            |_| {},
        );
    }
}
