//! A driver of the multi-node soak: its bookkeeping of every process it deals with (the
//! remote workers, its local partners), the event loop that checks each message, exit
//! signal and DOWN as it arrives, and the cut-tolerant calls to a remote worker.
//! `round.rs` says what a round does.

use std::collections::HashMap;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::{Duration, Instant};

use super::{bump, violation, Rng, CUT_DONE, CUT_STARTED, TOTALS, WAIT_MS};
use common::hive_peer::{atom, items, me_t, pid_t, reason_term, to_pid, tup};
use hive_rt::dist::etf::{self, Term};
use hive_rt::{process, Message, MessageKind, Pid};

use super::common;

/// The Hive peer and the erl node, as indices.
pub(crate) const PEER: usize = 0;
pub(crate) const ERL: usize = 1;

/// The cut epoch of `node` now: the cuts finished. A monitor or link made now can end
/// with `noconnection` only if a cut starts later ([`cut_since`]).
pub(crate) fn epoch(node: usize) -> u64 {
    CUT_DONE[node].load(SeqCst)
}

/// Whether a cut of `node` started after epoch `e`.
pub(crate) fn cut_since(node: usize, e: u64) -> bool {
    CUT_STARTED[node].load(SeqCst) > e
}

pub(crate) fn noconnection() -> Term {
    atom("noconnection")
}

/// A link of the driver (which traps exits) to a remote worker.
pub(crate) struct LinkRec {
    pub(crate) epoch: u64,
    /// Made when the worker may have been dead already.
    pub(crate) noproc_ok: bool,
    /// Unlinked by the driver: at most one EXIT (queued before the unlink) may still come.
    pub(crate) unlinked: bool,
}

/// A process the driver deals with: a remote worker, or a local partner linked to one.
pub(crate) struct Ent {
    pub(crate) node: usize,
    /// The partner's worker (partners only).
    pub(crate) partner_of: Option<Pid>,
    /// Every exit reason the process may have (what it was told, or what may have reached
    /// it over a link): its DOWNs and EXITs must carry one of them (or noproc /
    /// noconnection where allowed).
    pub(crate) own: Vec<Term>,
    /// The reason a DOWN reported (not `noproc`, not `noconnection`).
    pub(crate) dead: Option<Term>,
    /// The monitor the driver's calls rely on (0: none, the process is lost or dead).
    pub(crate) main: u64,
    /// Its main monitor ended with `noconnection`: alive or not is unknown.
    pub(crate) cut: bool,
    pub(crate) cuts: u32,
    pub(crate) link: Option<LinkRec>,
    /// Whether it traps exits (None: unknown, a call was lost in a cut).
    pub(crate) traps: Option<bool>,
    /// Whether it may have a link (to the driver or a partner): after an `unlink`, until a
    /// reply shows the worker's node has carried it out (a cut may lose it).
    pub(crate) linked: bool,
    pub(crate) unlink_pending: bool,
    /// Whether a partner linked to it.
    pub(crate) partner_linked: bool,
    /// Epoch when it was made (partners: when they linked).
    pub(crate) epoch0: u64,
    pub(crate) noproc_ok: bool,
    // Numbered messages driver → worker: sent, seen by the worker, may be lost up to.
    pub(crate) out_sent: i64,
    pub(crate) out_seen: i64,
    pub(crate) out_lossy: i64,
    // Worker → driver: asked for, received, may be lost up to.
    pub(crate) in_asked: i64,
    pub(crate) in_got: i64,
    pub(crate) in_lossy: i64,
}

impl Ent {
    pub(crate) fn new(node: usize, epoch0: u64) -> Ent {
        Ent {
            node,
            partner_of: None,
            own: Vec::new(),
            dead: None,
            main: 0,
            cut: false,
            cuts: 0,
            link: None,
            traps: Some(false),
            linked: false,
            unlink_pending: false,
            partner_linked: false,
            epoch0,
            noproc_ok: false,
            out_sent: 0,
            out_seen: 0,
            out_lossy: 0,
            in_asked: 0,
            in_got: 0,
            in_lossy: 0,
        }
    }

    /// Whether a cut (even one in progress, not yet seen by the driver) may have killed it
    /// over a link: it may be dead although nothing was said to it.
    pub(crate) fn may_have_died_of_a_cut(&self) -> bool {
        (self.linked || self.partner_linked)
            && self.traps != Some(true)
            && cut_since(self.node, self.epoch0)
    }

    /// Neither dead nor lost: the driver can talk to it.
    pub(crate) fn usable(&self) -> bool {
        self.main != 0 && !self.cut && self.dead.is_none()
    }
}

/// A monitor the driver holds.
pub(crate) struct Mon {
    pub(crate) target: Pid,
    pub(crate) epoch: u64,
    pub(crate) noproc_ok: bool,
}

/// The driver's state.
pub(crate) struct Driver {
    pub(crate) id: u64,
    pub(crate) me: Pid,
    pub(crate) rng: Rng,
    pub(crate) nodes: [String; 2],
    pub(crate) ents: HashMap<Pid, Ent>,
    pub(crate) mons: HashMap<u64, Mon>,
    /// Spawn requests in flight: (node, epoch), and their results.
    pub(crate) spawns: HashMap<u64, (usize, u64)>,
    pub(crate) spawned: HashMap<u64, Option<Pid>>,
    /// The call in progress (target, name) and its reply.
    pub(crate) pending: Option<(Pid, String)>,
    pub(crate) reply: Option<Term>,
    /// Partners that reported their link.
    pub(crate) linked_partners: Vec<Pid>,
    pub(crate) round: u64,
}

/// A short description of a term for violation messages.
pub(crate) fn show(t: &Term) -> String {
    let s = t.to_string();
    if s.len() > 300 {
        format!("{}…", &s[..300])
    } else {
        s
    }
}

impl Driver {
    pub(crate) fn new(id: u64, seed: u64, nodes: [String; 2]) -> Driver {
        Driver {
            id,
            me: process::self_pid(),
            rng: Rng(seed),
            nodes,
            ents: HashMap::new(),
            mons: HashMap::new(),
            spawns: HashMap::new(),
            spawned: HashMap::new(),
            pending: None,
            reply: None,
            linked_partners: Vec::new(),
            round: 0,
        }
    }

    pub(crate) fn v(&self, what: String) {
        violation(format!("driver {} round {}: {what}", self.id, self.round));
    }

    /// Handles every message until `done` holds; false (and a violation) after
    /// [`WAIT_MS`] without it.
    pub(crate) fn wait(&mut self, what: &str, mut done: impl FnMut(&Driver) -> bool) -> bool {
        let end = Instant::now() + Duration::from_millis(u64::from(WAIT_MS()));
        while !done(self) {
            let left = end.saturating_duration_since(Instant::now()).as_millis() as u32;
            match process::receive(Some(left)) {
                Ok(m) => self.handle(&m),
                Err(_) => {
                    let nodes = hive_rt::dist::nodes();
                    self.v(format!(
                        "waited {} ms for {what} (connected: {nodes:?})",
                        WAIT_MS()
                    ));
                    return false;
                }
            }
        }
        true
    }

    /// Handles the messages already queued (none is waited for).
    pub(crate) fn drain(&mut self) {
        while let Ok(m) = process::receive(Some(0)) {
            self.handle(&m);
        }
    }

    /// Checks and records one message, exit signal or DOWN.
    pub(crate) fn handle(&mut self, m: &Message) {
        match m.kind() {
            MessageKind::Data => match etf::decode(m.data()) {
                Ok(t) => self.data(m.sender(), &t),
                Err(e) => self.v(format!("undecodable message from {:?}: {e:?}", m.sender())),
            },
            MessageKind::Exit => {
                let r = reason_term(&m.reason().expect("reason"));
                self.exit_sig(m.sender(), &r);
            }
            MessageKind::Down => {
                let r = reason_term(&m.reason().expect("reason"));
                self.down(m.monitor_ref(), m.sender(), &r);
            }
            k => self.v(format!("unexpected {k:?} from {:?}", m.sender())),
        }
    }

    fn data(&mut self, from: Pid, t: &Term) {
        let v = t.as_tuple().unwrap_or(&[]);
        match (v.first().and_then(Term::as_atom), v.len()) {
            (Some("seq"), 3) => {
                let (w, k) = (to_pid(&v[1]), v[2].as_int().unwrap_or(-1));
                self.seq_in(w, k);
            }
            (Some("$r"), 3 | 4) => {
                let name = v[1].as_atom().unwrap_or("");
                // The erl worker names itself: it may send without a sender.
                if from.is_none() {
                    bump(&TOTALS.no_sender);
                }
                let from = v.get(3).map_or(from, to_pid);
                match &self.pending {
                    Some((p, n)) if *p == from && n == name && self.reply.is_none() => {
                        self.reply = Some(v[2].clone());
                    }
                    _ => {
                        // A reply to a call cut off by a lost connection may come late,
                        // through the next connection (the command had arrived).
                        let lost = self.ents.get(&from).is_some_and(|e| e.cuts > 0);
                        if lost {
                            bump(&TOTALS.late_replies);
                        } else {
                            self.v(format!("unexpected reply {} from {from:?}", show(t)));
                        }
                    }
                }
            }
            (Some("spawn_reply"), 4) => self.spawn_reply(v),
            (Some("linked"), 2) => self.linked_partners.push(to_pid(&v[1])),
            _ => self.v(format!("unexpected message {} from {from:?}", show(t))),
        }
    }

    /// `{seq, W, K}` from worker `w`: in order, no duplicate, a gap only over numbers that
    /// a cut may have lost.
    fn seq_in(&mut self, w: Pid, k: i64) {
        let Some(e) = self.ents.get_mut(&w) else {
            return self.v(format!("seq {k} from an unknown process {w:?}"));
        };
        let (got, asked, lossy) = (e.in_got, e.in_asked, e.in_lossy);
        e.in_got = e.in_got.max(k);
        if k <= got {
            return self.v(format!(
                "{w:?} → driver: seq {k} after {got} (duplicate or out of order)"
            ));
        }
        if k > asked {
            self.v(format!("{w:?} → driver: seq {k}, only {asked} asked for"));
        } else if k > got + 1 && k - 1 > lossy {
            self.v(format!(
                "{w:?} → driver: seq {k} after {got}: a gap without a cut (lossy ≤ {lossy})"
            ));
        }
        if k > got + 1 {
            bump(&TOTALS.gaps_after_cut);
        }
        bump(&TOTALS.msgs_in);
    }

    fn spawn_reply(&mut self, v: &[Term]) {
        let Term::Ref(r) = &v[1] else {
            return self.v(format!("spawn reply without a reference: {v:?}"));
        };
        let req = u64::from(r.ids[0]) | (u64::from(r.ids[1]) << 32);
        let Some((node, ep)) = self.spawns.remove(&req) else {
            return self.v(format!("spawn reply for an unknown request {req}"));
        };
        match (v[2].as_atom(), &v[3]) {
            (Some("ok"), Term::Pid(_)) => {
                let w = to_pid(&v[3]);
                let mut e = Ent::new(node, ep);
                e.main = req;
                e.linked = true;
                e.link = Some(LinkRec {
                    epoch: ep,
                    noproc_ok: false,
                    unlinked: false,
                });
                self.ents.insert(w, e);
                self.mons.insert(
                    req,
                    Mon {
                        target: w,
                        epoch: ep,
                        noproc_ok: false,
                    },
                );
                self.spawned.insert(req, Some(w));
                bump(&TOTALS.spawned[node]);
            }
            (Some("error"), r) if *r == noconnection() && cut_since(node, ep) => {
                bump(&TOTALS.spawns_cut);
                self.spawned.insert(req, None);
            }
            _ => {
                self.v(format!("spawn on node {node} failed: {}", show(&v[3])));
                self.spawned.insert(req, None);
            }
        }
    }

    /// The reasons `p`'s DOWN or EXIT may carry (besides noproc / noconnection).
    fn reasons(&self, p: Pid) -> Vec<Term> {
        let Some(e) = self.ents.get(&p) else {
            return Vec::new();
        };
        let mut r = e.own.clone();
        if let Some(w) = e.partner_of.and_then(|w| self.ents.get(&w)) {
            // A partner (not trapping) dies of its worker's abnormal exit.
            r.extend(
                w.own
                    .iter()
                    .filter(|x| x.as_atom() != Some("normal"))
                    .cloned(),
            );
        }
        r
    }

    fn down(&mut self, mref: u64, from: Pid, r: &Term) {
        // A partner that linked to its worker after the worker died (of a cut) dies of
        // `noproc`: allowed once the worker may be dead.
        let partner_noproc = self
            .mons
            .get(&mref)
            .and_then(|m| self.ents.get(&m.target))
            .and_then(|e| e.partner_of)
            .and_then(|w| self.ents.get(&w))
            .is_some_and(|w| !w.own.is_empty());
        let Some(mon) = self.mons.remove(&mref) else {
            return self.v(format!(
                "DOWN {} from {from:?} for an unknown or already fired monitor {mref}",
                show(r)
            ));
        };
        bump(&TOTALS.downs);
        let p = mon.target;
        if from != p {
            self.v(format!("DOWN of {p:?} sent by {from:?}"));
        }
        let node = self.ents.get(&p).map_or(PEER, |e| e.node);
        let ok = if *r == noconnection() {
            bump(&TOTALS.noconnection_downs);
            cut_since(node, mon.epoch) || self.reasons(p).contains(r)
        } else if r.as_atom() == Some("noproc") {
            bump(&TOTALS.noproc_downs);
            mon.noproc_ok || partner_noproc
        } else {
            self.reasons(p).contains(r)
        };
        if !ok {
            let w = self.ents.get(&p).and_then(|e| e.partner_of);
            let ws = w.and_then(|w| self.ents.get(&w)).map(|w| {
                format!(
                    "; a partner of {:?}: main {}, cut {}, cuts {}, dead {:?}, traps {:?}, \
                     linked {}/{}, epoch0 {}, cuts now {}",
                    self.ents[&p].partner_of,
                    w.main,
                    w.cut,
                    w.cuts,
                    w.dead.as_ref().map(show),
                    w.traps,
                    w.linked,
                    w.partner_linked,
                    w.epoch0,
                    CUT_STARTED[w.node].load(SeqCst)
                )
            });
            self.v(format!(
                "DOWN of {p:?} (node {node}) with {}; allowed: {:?}, noproc {}, noconnection {} \
                 (monitor epoch {}){}",
                show(r),
                self.reasons(p).iter().map(show).collect::<Vec<_>>(),
                mon.noproc_ok,
                cut_since(node, mon.epoch),
                mon.epoch,
                ws.unwrap_or_default()
            ));
        }
        let Some(e) = self.ents.get_mut(&p) else {
            return;
        };
        let is_nc = *r == noconnection();
        if !is_nc && r.as_atom() != Some("noproc") {
            e.dead = Some(r.clone());
        }
        if is_nc && e.main == mref {
            // The connection went: everything in flight may be lost; the process may die
            // of the exit signal `noconnection` over a link unless it traps.
            e.cut = true;
            e.cuts += 1;
            e.main = 0;
            e.out_lossy = e.out_sent;
            e.in_lossy = e.in_asked;
            if (e.linked || e.partner_linked) && e.traps != Some(true) && e.partner_of.is_none() {
                e.own.push(noconnection());
            }
            // Every link across that connection is gone with it.
            e.linked = false;
            e.partner_linked = false;
        } else if e.main == mref {
            e.main = 0;
        }
    }

    fn exit_sig(&mut self, from: Pid, r: &Term) {
        bump(&TOTALS.exits);
        let reasons = self.reasons(from);
        let Some(e) = self.ents.get_mut(&from) else {
            return self.v(format!("EXIT {} from unknown {from:?}", show(r)));
        };
        let Some(l) = e.link.take() else {
            return self.v(format!(
                "EXIT {} from {from:?} without a link (a second EXIT?)",
                show(r)
            ));
        };
        let ok = if *r == noconnection() {
            cut_since(e.node, l.epoch) || reasons.contains(r)
        } else if r.as_atom() == Some("noproc") {
            l.noproc_ok
        } else {
            reasons.contains(r)
        };
        if !ok {
            let node = e.node;
            self.v(format!(
                "EXIT of {from:?} (node {node}) with {}; allowed: {:?}, noproc {}, noconnection {}",
                show(r),
                reasons.iter().map(show).collect::<Vec<_>>(),
                l.noproc_ok,
                cut_since(node, l.epoch)
            ));
        }
    }

    // ------------------------------------------------------------------ actions

    /// Monitors `p` (remote or local), recording what its DOWN may say.
    pub(crate) fn monitor(&mut self, p: Pid) -> u64 {
        let (node, noproc_ok) = self.ents.get(&p).map_or((PEER, true), |e| {
            (
                e.node,
                e.noproc_ok || !e.own.is_empty() || e.may_have_died_of_a_cut(),
            )
        });
        let ep = epoch(node);
        let m = process::monitor(p).expect("monitor");
        self.mons.insert(
            m,
            Mon {
                target: p,
                epoch: ep,
                noproc_ok,
            },
        );
        m
    }

    /// Sends worker `w` the command `{cmd, ReplyTo, args…}` (ReplyTo: the driver or none).
    pub(crate) fn wsend(&self, w: Pid, cmd: &str, reply: bool, args: Vec<Term>) {
        let mut v = vec![atom(cmd), if reply { me_t() } else { atom("none") }];
        v.extend(args);
        let m = tup(vec![atom("$w"), tup(v)]);
        process::send(w, &etf::to_vec(&m)).expect("send");
    }

    /// Calls worker `w`: its reply, or None when it died or its connection went first.
    pub(crate) fn call(&mut self, w: Pid, cmd: &str, args: Vec<Term>) -> Option<Term> {
        if !self.ents.get(&w).is_some_and(Ent::usable) {
            return None;
        }
        self.pending = Some((w, cmd.to_owned()));
        self.reply = None;
        self.wsend(w, cmd, true, args);
        self.wait(&format!("the reply to `{cmd}` from {w:?}"), |d| {
            d.reply.is_some() || !d.ents.get(&w).is_some_and(Ent::usable)
        });
        self.pending = None;
        let r = self.reply.take();
        if r.is_some() {
            // The reply came after the `unlink` was carried out over there.
            let e = self.ents.get_mut(&w).expect("ent");
            if e.unlink_pending {
                e.unlink_pending = false;
                e.linked = false;
            }
        }
        r
    }

    /// Cuts the connection to `node` (all its lanes), as `disconnect_node/1`.
    pub(crate) fn cut(&mut self, node: usize) {
        CUT_STARTED[node].fetch_add(1, SeqCst);
        let name = self.nodes[node].clone();
        let was = hive_rt::dist::disconnect(&name).expect("disconnect");
        CUT_DONE[node].fetch_add(1, SeqCst);
        if was {
            bump(&TOTALS.cuts[node]);
        }
    }

    /// Sends `n` numbered messages `{seq, Driver, K}` to worker `w`.
    pub(crate) fn send_seqs(&mut self, w: Pid, n: i64) {
        let me = pid_t(self.me);
        let e = self.ents.get_mut(&w).expect("ent");
        for _ in 0..n {
            e.out_sent += 1;
            let m = tup(vec![atom("seq"), me.clone(), Term::Int(e.out_sent)]);
            process::send(w, &etf::to_vec(&m)).expect("send");
            TOTALS.msgs_out.fetch_add(1, Relaxed);
        }
    }

    /// Checks the records of worker `w` (the list `await` returned): the driver's numbered
    /// messages in order, and exactly the `expect`ed EXITs and DOWNs (kind, from, reason);
    /// a missing one, or an extra one with `noconnection`, only after a cut.
    pub(crate) fn check_records(&mut self, w: Pid, list: &Term, expect: &[(&str, Pid, Term)]) {
        let mut seen = vec![false; expect.len()];
        let me = self.me;
        let node = self.ents[&w].node;
        let ep0 = self.ents[&w].epoch0;
        for it in items(list) {
            let v = it.as_tuple().unwrap_or(&[]).to_vec();
            match (v.first().and_then(Term::as_atom), v.len()) {
                (Some("msg"), 3) => {
                    let s = v[2].as_tuple().unwrap_or(&[]).to_vec();
                    if s.len() == 3 && s[0].as_atom() == Some("seq") && to_pid(&s[1]) == me {
                        self.seq_out(w, s[2].as_int().unwrap_or(-1));
                    } else {
                        self.v(format!(
                            "{w:?} recorded an unexpected message {}",
                            show(&it)
                        ));
                    }
                }
                (Some(kind @ ("EXIT" | "DOWN")), n) if n >= 3 => {
                    let (from, r) = (to_pid(&v[n - 2]), &v[n - 1]);
                    let hit = expect
                        .iter()
                        .enumerate()
                        .position(|(i, (k, f, x))| !seen[i] && *k == kind && *f == from && x == r);
                    match hit {
                        Some(i) => {
                            seen[i] = true;
                            bump(&TOTALS.remote_records);
                        }
                        // After a cut: `noconnection`, or `noproc` for a monitor of a
                        // partner that the cut had killed already.
                        None if (*r == noconnection() || r.as_atom() == Some("noproc"))
                            && cut_since(node, ep0) => {}
                        None => self.v(format!("{w:?} recorded an unexpected {}", show(&it))),
                    }
                }
                _ => self.v(format!("{w:?} recorded {}", show(&it))),
            }
        }
        for (i, (k, f, r)) in expect.iter().enumerate() {
            if !seen[i] && !cut_since(node, ep0) {
                self.v(format!(
                    "{w:?} did not record {k} from {f:?} with {}",
                    show(r)
                ));
            }
        }
        let e = &self.ents[&w];
        if e.out_seen != e.out_sent && e.out_sent > e.out_lossy && e.usable() {
            let (seen, sent, lossy) = (e.out_seen, e.out_sent, e.out_lossy);
            self.v(format!(
                "driver → {w:?}: {seen} of {sent} arrived before a later call (lossy ≤ {lossy})"
            ));
        }
    }

    /// A numbered message the worker recorded from this driver.
    fn seq_out(&mut self, w: Pid, k: i64) {
        let e = self.ents.get_mut(&w).expect("ent");
        let (seen, sent, lossy) = (e.out_seen, e.out_sent, e.out_lossy);
        e.out_seen = e.out_seen.max(k);
        if k <= seen {
            self.v(format!(
                "driver → {w:?}: seq {k} after {seen} (duplicate or out of order)"
            ));
        } else if k > sent {
            self.v(format!("driver → {w:?}: seq {k}, only {sent} sent"));
        } else if k > seen + 1 && k - 1 > lossy {
            self.v(format!(
                "driver → {w:?}: seq {k} after {seen}: a gap without a cut"
            ));
        }
        bump(&TOTALS.msgs_out_seen);
    }

    /// Whether anything is still owed for `p`: a monitor not fired, a link not ended.
    pub(crate) fn owed(&self, p: Pid) -> bool {
        self.mons.values().any(|m| m.target == p)
            || self
                .ents
                .get(&p)
                .is_some_and(|e| e.link.as_ref().is_some_and(|l| !l.unlinked))
    }
}
