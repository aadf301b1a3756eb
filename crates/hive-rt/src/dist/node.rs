//! The running node: its identity, its connections (one [`Entry`] per remote node name),
//! and the outgoing side of every signal (`hook::Remote`).
//!
//! ## Connections and order
//! Each remote node has one entry and at most one connection, as the BEAM has one
//! `DistEntry` per node ([R §Delivery of Signals]: signals of one sender to one receiver
//! keep their order; all of them travel one TCP stream). Senders encode their frame into
//! the entry's output buffer under its lock and return at once; the connection's
//! controller process (`controller.rs`) writes the buffer. While the connection is being
//! set up (auto-connect on the first send, link or monitor, case 108), frames wait in the
//! same buffer, in order; if it cannot be set up they are dropped (case 107).
//!
//! ## What a connection carries, for `noconnection`
//! The entry records the links and monitors that cross it (both directions, as they are
//! sent and received). When the connection goes (closed, reset, tick timeout,
//! `disconnect_node`, or a connect attempt that failed), the entry is emptied under its
//! lock and each is ended exactly once on this side: an exit signal `noconnection` over
//! each link, a DOWN `noconnection` for each monitor this node's processes hold, the
//! monitors held by remote processes forgotten, and `{nodedown, Node}` to each
//! `monitor_node` caller (cases 131, 134–136). The peer does the same for its side.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};

use super::control::{op, push_frame, push_send_sender, Payload};
use super::etf::{Atom, ExtRef, Term};
use super::hook::{Remote, RemoteSignal};
use super::ids::{pid_to_ext, ref_to_ext, Incarnations, Me};
pub(crate) use super::lanes::Lane;
use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::runtime::RtInner;
use crate::sched::Caller;
use crate::signal::route::deliver;
use crate::signal::{Sender, Signal};
use crate::status::Status;

/// How a node finds other nodes' ports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// EPMD on this port of each host (registration with the local one, `ERL_EPMD_PORT`'s
    /// default 4369).
    Epmd(u16),
    /// No EPMD: every node listens on this port (erl's `-erl_epmd_port P -start_epmd
    /// false` shape); this node does not register anywhere.
    FixedPort(u16),
}

/// The state of a connection to one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not connected: the next signal starts a connect attempt.
    Idle,
    /// A connect attempt (or an accepted connection's handshake) is under way; frames
    /// wait in the buffer.
    Pending,
    /// Connected to incarnation `creation` with the negotiated `flags`.
    Up { creation: u32, flags: u64 },
}

/// A monitor a remote process holds on a local one; its reference was made by the remote
/// node and stands here as a local token.
#[derive(Clone, Debug)]
pub(crate) struct HeldMonitor {
    /// The monitored local process.
    pub(crate) target: Pid,
    /// The remote monitoring process.
    pub(crate) watcher: Pid,
    /// The remote reference.
    pub(crate) ext: ExtRef,
    /// The name the monitor was set up with (`monitor(process, {Name, Node})`): the DOWN
    /// names it (case 126).
    pub(crate) name: Option<Atom>,
}

/// What one node's connection carries (see the module docs).
#[derive(Debug)]
pub(crate) struct EntryState {
    pub(crate) phase: Phase,
    /// Encoded frames not yet written, in order.
    pub(crate) out: Vec<u8>,
    /// The controller was told to flush `out` and has not yet taken it.
    pub(crate) notified: bool,
    /// The process that writes the connection (or sets it up); `NONE` when idle.
    pub(crate) controller: Pid,
    /// Links across: (local pid, remote pid).
    pub(crate) links: HashSet<(Pid, Pid)>,
    /// Monitors local processes hold on remote ones: reference → (local, remote, the name
    /// for a monitor of `{Name, Node}`, whose remote pid is the node's placeholder
    /// [`Node::name_placeholder`]).
    pub(crate) monitors: HashMap<u64, (Pid, Pid, Option<Atom>)>,
    /// Monitors remote processes hold on local ones: local token → monitor.
    pub(crate) held: HashMap<u64, HeldMonitor>,
    /// Remote references of `held`, to their tokens.
    pub(crate) held_refs: HashMap<ExtRef, u64>,
    /// `monitor_node(Node, true)` callers, once per call.
    pub(crate) node_monitors: Vec<Pid>,
    /// `spawn_request`s of local processes awaiting their reply: request reference →
    /// (the requesting process, whether the `link` option was given, whether `monitor`).
    pub(crate) spawns: HashMap<u64, (Pid, bool, bool)>,
    /// Senders suspended because `out` was over the busy limit ([`Node::wait_not_busy`]);
    /// woken when the controller takes `out` or the connection ends.
    pub(crate) busy_waiters: Vec<Pid>,
    /// The further connections (lanes 1, 2 …) of a Hive peer; empty with a BEAM peer or
    /// one lane (`controller.rs`, "Lanes"). `controller`, `out`, `notified` and
    /// `busy_waiters` above are lane 0's, the connection the handshake made first.
    pub(crate) lanes: Vec<Lane>,
    /// Senders use their own lane (all lanes are up and the switch marker is queued on
    /// lane 0); before, every frame goes on lane 0.
    pub(crate) lanes_on: bool,
    /// The peer's switch marker has been carried out: frames arriving on lanes 1, 2 … may
    /// be carried out (before, their controllers hold them back).
    pub(crate) lanes_rx: bool,
    /// The peer incarnation the lanes belong to (a lane of another one is refused).
    pub(crate) lanes_creation: u32,
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// A fresh entry's state, for unit tests.
    pub(crate) fn state() -> super::EntryState {
        super::Entry::new(super::Atom::new("t@h").expect("atom"))
            .state
            .into_inner()
    }
}

impl EntryState {
    /// The lane of frames whose sender is `key`: every signal of one sender takes one lane,
    /// so their order holds; 0 (the first connection) until the lanes are on.
    pub(crate) fn lane_of(&self, key: Pid) -> usize {
        if !self.lanes_on || key.is_none() {
            return 0;
        }
        let n = self.lanes.len() as u64 + 1;
        ((key.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % n) as usize
    }

    /// The output buffer of `lane`.
    pub(crate) fn out_of(&mut self, lane: usize) -> &mut Vec<u8> {
        match lane {
            0 => &mut self.out,
            k => &mut self.lanes[k - 1].out,
        }
    }

    /// Makes room for `n` lanes (lane 0 included) unless there is: free lanes 1 … n−1 (a
    /// lane that already registered itself is kept).
    pub(crate) fn size_lanes(&mut self, n: usize) {
        if self.lanes.len() + 1 != n {
            self.lanes = (1..n).map(|_| Lane::default()).collect();
            self.lanes_on = false;
            self.lanes_rx = false;
        }
    }

    /// Switches to lanes when all are up (`lanes.rs`, "How lanes come up"): queues
    /// [`super::lanes::MARKER`] on lane 0 and returns true when lane 0's controller must be
    /// told to flush (the caller pokes it). Under the lock.
    pub(crate) fn switch_lanes_on(&mut self) -> bool {
        if self.lanes_on
            || self.lanes.is_empty()
            || !matches!(self.phase, Phase::Up { .. })
            || !self.lanes.iter().all(|l| l.up)
        {
            return false;
        }
        let m = super::lanes::MARKER;
        self.out.extend_from_slice(&(m.len() as u32).to_be_bytes());
        self.out.extend_from_slice(m);
        self.lanes_on = true;
        if self.notified {
            false
        } else {
            self.notified = true;
            true
        }
    }

    /// The output buffer of the lane of sender `key`.
    pub(crate) fn out_for(&mut self, key: Pid) -> &mut Vec<u8> {
        let l = self.lane_of(key);
        self.out_of(l)
    }
}

/// One remote node, by name.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) name: Atom,
    pub(crate) state: Mutex<EntryState>,
    /// How many times a connection of this entry ended on this side (`controller::end`,
    /// under `state`'s lock): a controller that saw another number at its start no longer
    /// holds the entry, and drops what still arrives (the BEAM's connection id).
    pub(crate) ended: AtomicU64,
    /// The node field of the peer's latest incarnation seen in a frame (`creation << 32 |
    /// field`; 0 = none yet), for reading pids straight from frames (`dispatch.rs`).
    pub(crate) peer_field: AtomicU64,
}

impl Entry {
    fn new(name: Atom) -> Entry {
        Entry {
            name,
            ended: AtomicU64::new(0),
            peer_field: AtomicU64::new(0),
            state: Mutex::new(EntryState {
                phase: Phase::Idle,
                out: Vec::new(),
                notified: false,
                controller: Pid::NONE,
                links: HashSet::new(),
                monitors: HashMap::new(),
                held: HashMap::new(),
                held_refs: HashMap::new(),
                node_monitors: Vec::new(),
                spawns: HashMap::new(),
                busy_waiters: Vec::new(),
                lanes: Vec::new(),
                lanes_on: false,
                lanes_rx: false,
                lanes_creation: 0,
            }),
        }
    }
}

/// Settings of a running node (`dist::Options` resolved).
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) cookie: Vec<u8>,
    pub(crate) discovery: Discovery,
    /// `net_ticktime`, ms: a peer silent this long is dropped; a tick goes out after a
    /// quarter of it without writes.
    pub(crate) tick_ms: u32,
    /// Handshake and connect timeout, ms (`net_setuptime`, 7 s by default).
    pub(crate) setup_ms: u32,
    pub(crate) flags: u64,
    /// Bytes queued to one node beyond which a process sending a message there is
    /// suspended until the controller has taken the queue (`dist_buf_busy_limit`).
    pub(crate) busy_limit: usize,
    /// Accepted connections allowed in their handshake at once; more are closed at once.
    pub(crate) max_handshakes: usize,
    /// Connections offered per Hive peer (`lanes.rs`); 1: one, as the BEAM.
    pub(crate) lanes: usize,
    /// TLS distribution, when configured.
    pub(crate) tls: Option<super::tls::Tls>,
    /// Hive's own port mapper, when this node started it: kept running while the node is.
    pub(crate) _mapper: Option<super::epmd::PortMapperHandle>,
}

/// A running node.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) rt: Weak<RtInner>,
    pub(crate) me: Me,
    pub(crate) settings: Settings,
    pub(crate) inc: Incarnations,
    pub(crate) entries: RwLock<HashMap<Atom, Arc<Entry>>>,
    /// [`Node::target`]'s answers by node field: a field is never reused and an entry
    /// never removed, so an answer stays right.
    targets: RwLock<Vec<Option<Target>>>,
    /// The next `UNLINK_ID` id.
    unlink_ids: AtomicU64,
    /// The acceptor process (listener and EPMD registration).
    pub(crate) acceptor: Mutex<Pid>,
    /// Set by `stop`: no new connections.
    pub(crate) stopping: std::sync::atomic::AtomicBool,
    /// Accepted connections whose handshake has not ended (bounded by
    /// `Settings::max_handshakes`).
    pub(crate) handshaking: std::sync::atomic::AtomicUsize,
    /// Entry points for `spawn_request` from other nodes, by `(module, function)`.
    pub(crate) spawn_entries: RwLock<HashMap<(String, String), super::spawn::EntryFn>>,
}

/// A remote pid's entry and its incarnation's creation.
type Target = (Arc<Entry>, u32);

impl Node {
    pub(crate) fn new(rt: Weak<RtInner>, me: Me, settings: Settings) -> Node {
        Node {
            rt,
            me,
            settings,
            inc: Incarnations::default(),
            entries: RwLock::new(HashMap::new()),
            targets: RwLock::new(Vec::new()),
            unlink_ids: AtomicU64::new(1),
            acceptor: Mutex::new(Pid::NONE),
            stopping: Default::default(),
            spawn_entries: RwLock::new(HashMap::new()),
            handshaking: Default::default(),
        }
    }

    /// The entry of node `name`, made if new.
    pub(crate) fn entry(&self, name: &Atom) -> Arc<Entry> {
        if let Some(e) = self.entries.read().get(name) {
            return e.clone();
        }
        self.entries
            .write()
            .entry(name.clone())
            .or_insert_with(|| Arc::new(Entry::new(name.clone())))
            .clone()
    }

    /// The entry and creation of remote pid `to`'s incarnation.
    fn target(&self, to: Pid) -> Option<Target> {
        let field = to.node() as usize;
        if let Some(Some(t)) = self.targets.read().get(field) {
            return Some(t.clone());
        }
        let (name, creation) = self.inc.get(to.node())?;
        let t = (self.entry(&name), creation);
        let mut targets = self.targets.write();
        if targets.len() <= field {
            targets.resize(field + 1, None);
        }
        targets[field] = Some(t.clone());
        Some(t)
    }

    /// The pid that stands for node `name` in monitors of `{Name, Node}`: the node's
    /// incarnation with creation 0 (which no node has), ID 0 and Serial 0. The DOWN of
    /// such a monitor comes from it. None when incarnations are exhausted.
    pub(crate) fn name_placeholder(&self, name: &Atom) -> Option<Pid> {
        Some(Pid::remote(self.inc.id_of(name, 0)?, 0, 0))
    }

    /// `pid` as a term (None for `NONE` or an unknown node field).
    pub(crate) fn pid_term(&self, pid: Pid) -> Option<Term> {
        pid_to_ext(&self.me, &self.inc, pid).map(Term::Pid)
    }

    /// Queues a frame to `entry` (whose incarnation must be `creation`, or any when None),
    /// starting a connection when idle. `track` records what the frame sets up or ends,
    /// under the same lock. Returns false when the frame was not queued because the pid
    /// belongs to a gone incarnation: the caller ends what it set up with `noconnection`.
    /// `from` is the local process the signal comes from (`NONE`: none): its lane.
    pub(crate) fn queue(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        creation: Option<u32>,
        from: Pid,
        ctl: &Term,
        payload: Option<Payload<'_>>,
        track: impl FnOnce(&mut EntryState),
    ) -> bool {
        self.queue_built(entry, creation, true, |s| {
            track(s);
            push_frame(s.out_for(from), ctl, payload);
            Some(from)
        })
    }

    /// As [`Node::queue`] for a signal tied to the connection it travels on (the exit
    /// signal of a link, an unlink, a demonitor, a DOWN, an answer to the peer): never
    /// connects, and sends only when `check` (run under the lock) says the signal still
    /// applies. The BEAM sends these without auto-connect: a link or monitor ends with its
    /// connection (`noconnection`), it is not carried over to the next one.
    pub(crate) fn queue_on_connection(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        creation: Option<u32>,
        from: Pid,
        ctl: &Term,
        payload: Option<Payload<'_>>,
        check: impl FnOnce(&mut EntryState) -> bool,
    ) -> bool {
        self.queue_built(entry, creation, false, |s| {
            if !check(s) {
                return None;
            }
            push_frame(s.out_for(from), ctl, payload);
            Some(from)
        })
    }

    /// As [`Node::queue`], with the frame written by `build` under the entry's lock (which
    /// it holds for its whole run: nothing else reaches the connection meanwhile) into
    /// `EntryState::out_for(sender)`; `build` returns that sender, or None when it wrote
    /// nothing. Connects when idle only with `connect`.
    pub(crate) fn queue_built(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        creation: Option<u32>,
        connect: bool,
        build: impl FnOnce(&mut EntryState) -> Option<Pid>,
    ) -> bool {
        let Some(mut s) = self.connected(entry, creation, connect) else {
            return false;
        };
        let Some(key) = build(&mut s) else {
            return false;
        };
        let lane = s.lane_of(key);
        let (notify, controller) = if lane == 0 {
            let n = matches!(s.phase, Phase::Up { .. }) && !s.notified;
            if n {
                s.notified = true;
            }
            (n, s.controller)
        } else {
            let l = &mut s.lanes[lane - 1];
            let n = l.up && !l.notified;
            if n {
                l.notified = true;
            }
            (n, l.controller)
        };
        drop(s);
        if notify {
            self.poke(controller, b"F");
        }
        true
    }

    /// The entry's state, locked, once it is connected or a connection is under way
    /// (started here when idle). None when `creation` names a gone incarnation, for this
    /// node's own name, while stopping, or when no controller could be spawned.
    fn connected<'a>(
        self: &Arc<Self>,
        entry: &'a Arc<Entry>,
        creation: Option<u32>,
        connect: bool,
    ) -> Option<parking_lot::MutexGuard<'a, EntryState>> {
        if entry.name == self.me.name {
            return None; // an old incarnation of this node
        }
        let mut s = entry.state.lock();
        match s.phase {
            Phase::Up { creation: c, .. } if creation.is_some_and(|w| w != c) => return None,
            Phase::Idle => {
                if !connect || self.stopping.load(Relaxed) {
                    return None;
                }
                s.phase = Phase::Pending;
                s.notified = false;
                match super::controller::spawn_connect(self, entry) {
                    Ok(pid) => s.controller = pid,
                    Err(_) => {
                        s.phase = Phase::Idle;
                        return None;
                    }
                }
            }
            _ => {}
        }
        Some(s)
    }

    /// Connects to `entry`'s node if not connected, and runs `track` on its state under
    /// the lock. False when it cannot be reached (as [`Node::queue`]).
    pub(crate) fn connect(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        track: impl FnOnce(&mut EntryState),
    ) -> bool {
        match self.connected(entry, None, true) {
            Some(mut s) => {
                track(&mut s);
                true
            }
            None => false,
        }
    }

    /// Queues a message frame from `from` ([`Node::queue`]) and, when that left its lane
    /// over the busy limit (seen under the same lock), suspends the sender
    /// ([`Node::wait_not_busy`]).
    pub(crate) fn queue_message(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        creation: Option<u32>,
        from: Pid,
        ctl: &Term,
        data: &[u8],
    ) {
        self.queue_frame(entry, creation, from, data, |out, payload| {
            push_frame(out, ctl, Some(payload))
        });
    }

    /// [`Node::queue_message`] with the frame written by `write` (given the buffer and
    /// the checked payload).
    fn queue_frame(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        creation: Option<u32>,
        from: Pid,
        data: &[u8],
        write: impl FnOnce(&mut Vec<u8>, Payload<'_>),
    ) {
        let limit = self.settings.busy_limit;
        // Checked before the lock is taken (`Payload`).
        let payload = Payload::data(data);
        let mut busy = false;
        self.queue_built(entry, creation, true, |s| {
            let out = s.out_for(from);
            write(out, payload);
            busy = out.len() > limit;
            Some(from)
        });
        if busy {
            self.wait_not_busy(entry);
        }
    }

    /// The busy distribution port of the BEAM (`dist_buf_busy_limit`): when more than the
    /// busy limit is queued to `entry`'s node, the calling process (after queueing its
    /// message) is suspended until the controller has taken the queue to write it, or the
    /// connection ends. Exit signals are handled while it waits (a `kill` ends it there).
    /// Does nothing for a thread that is not a process, for the controller itself, and
    /// inside a receive match predicate (which must not suspend).
    pub(crate) fn wait_not_busy(&self, entry: &Entry) {
        let p = crate::sched::current_pcb();
        if p.is_null() {
            return;
        }
        // SAFETY: the current process's PCB lives while it runs, and it is the caller.
        let pcb = unsafe { &*p };
        if pcb.matching() {
            return;
        }
        let me = pcb.pid;
        let limit = self.settings.busy_limit;
        loop {
            {
                let mut s = entry.state.lock();
                let lane = s.lane_of(me);
                let idle = s.phase == Phase::Idle;
                let mine = s.controller == me || s.lanes.iter().any(|l| l.controller == me);
                let (out, waiters) = match lane {
                    0 => (s.out.len(), &mut s.busy_waiters),
                    k => {
                        let l = &mut s.lanes[k - 1];
                        (l.out.len(), &mut l.busy_waiters)
                    }
                };
                if out <= limit || mine || idle {
                    waiters.retain(|&w| w != me);
                    return;
                }
                if !waiters.contains(&me) {
                    waiters.push(me);
                }
            }
            // A wake-up between the unlock and the suspension is not lost: a process
            // notified while running does not become WAITING (`Suspend::Receive`).
            // SAFETY: `pcb` is the calling process, outside a match predicate.
            unsafe {
                pcb.suspend(crate::process::pcb::Suspend::Receive);
                crate::signal::handle::check(pcb);
            }
        }
    }

    /// Wakes the senders suspended on a busy connection (taken from its state).
    pub(crate) fn wake_busy(&self, waiters: Vec<Pid>) {
        if waiters.is_empty() {
            return;
        }
        let _rt = crate::sched::enter();
        if let Some(rt) = self.rt.upgrade() {
            let caller = Caller::get();
            for w in waiters {
                crate::io::owner::wake_pid(&rt, &caller, w);
            }
        }
    }

    /// Sends the internal message `what` to a controller process.
    pub(crate) fn poke(&self, controller: Pid, what: &[u8]) {
        let _rt = crate::sched::enter();
        if let Some(rt) = self.rt.upgrade() {
            let caller = Caller::get();
            if let Some(m) = crate::mailbox::Msg::with_data(what, Pid::NONE, caller.worker) {
                let _ = rt.send_as(&caller, controller, m);
            }
        }
    }

    /// Kills the local process `c`, a controller (its socket closes with it).
    pub(crate) fn kill(&self, c: Pid) {
        let _rt = crate::sched::enter();
        if let Some(rt) = self.rt.upgrade() {
            let caller = Caller::get();
            let _ = crate::signal::request::exit_pid(&rt, &caller, c, &ExitReason::Kill);
        }
    }

    /// Sends `data` as a message from `from` to the local process `to` (dropped if it is
    /// not alive).
    pub(crate) fn send_local(&self, from: Pid, to: Pid, data: &[u8]) {
        let _rt = crate::sched::enter();
        if let Some(rt) = self.rt.upgrade() {
            let caller = Caller::get();
            if let Some(m) = crate::mailbox::Msg::with_data(data, from, caller.worker) {
                let _ = rt.send_as(&caller, to, m);
            }
        }
    }

    /// Delivers `sig` from `from` (a remote pid) to the local `to` through the one route.
    pub(crate) fn deliver_local(
        &self,
        from: Pid,
        to: Pid,
        sig: Signal<'_>,
    ) -> Option<crate::signal::route::Delivery> {
        let _rt = crate::sched::enter();
        let rt = self.rt.upgrade()?;
        let caller = Caller::get();
        let sender = Sender {
            pid: from,
            worker: caller.worker,
            lifo: false,
        };
        deliver(&rt, &sender, to, sig).ok()
    }

    /// Ends, on this side, what a signal that could not be queued set up: a link or a
    /// monitor from `from` to `to` gets `noconnection` when the node cannot be reached
    /// (case 142), `noproc` when `to` is a pid of an old incarnation of a node connected now
    /// (case 141: the new node has no such process).
    fn unreachable(&self, from: Pid, to: Pid, sig: RemoteSignal<'_>, stale: bool) {
        let r = if stale {
            ExitReason::Noproc
        } else {
            ExitReason::Noconnection
        };
        match sig {
            RemoteSignal::Link => {
                self.deliver_local(to, from, Signal::LinkExit(&r));
            }
            RemoteSignal::Monitor(mref) => {
                self.deliver_local(to, from, Signal::Down(mref, &r));
            }
            _ => {}
        }
    }
}

impl Remote for Arc<Node> {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn send(&self, from: Pid, to: Pid, data: &[u8]) -> Result<(), Status> {
        let Some((entry, creation)) = self.target(to) else {
            return Ok(());
        };
        if !from.is_none() && from.node() == 0 {
            // A local sender, the usual case: the frame is written from the pids' parts.
            let (me, peer) = (
                (&self.me.name, self.me.creation, from),
                (&entry.name, creation, to),
            );
            self.queue_frame(&entry, Some(creation), from, data, |out, payload| {
                push_send_sender(out, me, peer, payload)
            });
            return Ok(());
        }
        let Some(to_t) = self.pid_term(to) else {
            return Ok(());
        };
        let ctl = match self.pid_term(from) {
            Some(f) => Term::tuple(vec![Term::Int(op::SEND_SENDER), f, to_t]),
            None => Term::tuple(vec![Term::Int(op::SEND), Term::atom(""), to_t]),
        };
        self.queue_message(&entry, Some(creation), from, &ctl, data);
        Ok(())
    }

    fn signal(&self, from: Pid, to: Pid, sig: RemoteSignal<'_>) -> Result<(), Status> {
        let (Some((entry, creation)), Some(from_t), Some(to_t)) =
            (self.target(to), self.pid_term(from), self.pid_term(to))
        else {
            self.unreachable(from, to, sig, false);
            return Ok(());
        };
        let t3 = |o: i64, a: Term, b: Term| Term::tuple(vec![Term::Int(o), a, b]);
        let queued = match sig {
            RemoteSignal::Link => self.queue(
                &entry,
                Some(creation),
                from,
                &t3(op::LINK, from_t, to_t),
                None,
                |s| {
                    s.links.insert((from, to));
                },
            ),
            RemoteSignal::Unlink => {
                let id = self.unlink_ids.fetch_add(1, Relaxed);
                let ctl = Term::tuple(vec![
                    Term::Int(op::UNLINK_ID),
                    Term::Int(id as i64),
                    from_t,
                    to_t,
                ]);
                self.queue_on_connection(&entry, Some(creation), from, &ctl, None, |s| {
                    s.links.remove(&(from, to))
                })
            }
            RemoteSignal::Exit(r) => self.queue(
                &entry,
                Some(creation),
                from,
                &t3(op::PAYLOAD_EXIT2, from_t, to_t),
                Some(Payload::reason(r)),
                |_| {},
            ),
            // Only over a link this connection carries.
            RemoteSignal::LinkExit(r) => self.queue_on_connection(
                &entry,
                Some(creation),
                from,
                &t3(op::PAYLOAD_EXIT, from_t, to_t),
                Some(Payload::reason(r)),
                |s| s.links.remove(&(from, to)),
            ),
            RemoteSignal::Monitor(mref) => {
                let ctl = Term::tuple(vec![
                    Term::Int(op::MONITOR_P),
                    from_t,
                    to_t,
                    Term::Ref(ref_to_ext(&self.me, mref)),
                ]);
                self.queue(&entry, Some(creation), from, &ctl, None, |s| {
                    s.monitors.insert(mref, (from, to, None));
                })
            }
            RemoteSignal::Demonitor(mref) => {
                // A monitor of `{Name, Node}` is ended by name, to any incarnation.
                let name = entry
                    .state
                    .lock()
                    .monitors
                    .get(&mref)
                    .and_then(|m| m.2.clone());
                let (to_t, creation) = match name {
                    Some(n) => (Term::Atom(n), None),
                    None => (to_t, Some(creation)),
                };
                let ctl = Term::tuple(vec![
                    Term::Int(op::DEMONITOR_P),
                    from_t,
                    to_t,
                    Term::Ref(ref_to_ext(&self.me, mref)),
                ]);
                self.queue_on_connection(&entry, creation, from, &ctl, None, |s| {
                    s.monitors.remove(&mref).is_some()
                })
            }
            RemoteSignal::Down(token, r) => {
                // The monitor is the remote node's: its reference and, for a monitor by
                // name, the name the DOWN carries.
                let held = {
                    let mut s = entry.state.lock();
                    let h = s.held.remove(&token);
                    if let Some(h) = &h {
                        s.held_refs.remove(&h.ext);
                    }
                    h
                };
                let Some(h) = held else { return Ok(()) };
                let who = h.name.clone().map_or(from_t, Term::Atom);
                let ctl = Term::tuple(vec![
                    Term::Int(op::PAYLOAD_MONITOR_P_EXIT),
                    who,
                    to_t,
                    Term::Ref(h.ext),
                ]);
                self.queue_on_connection(
                    &entry,
                    Some(creation),
                    from,
                    &ctl,
                    Some(Payload::reason(r)),
                    |_| true,
                )
            }
        };
        if !queued {
            // A pid of an old incarnation of a node connected now, or of this node: no such
            // process (`noproc`); else the node cannot be reached (`noconnection`).
            let stale = entry.name == self.me.name
                || matches!(entry.state.lock().phase, Phase::Up { creation: c, .. } if c != creation);
            self.unreachable(from, to, sig, stale);
        }
        Ok(())
    }
}
