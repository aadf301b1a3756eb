//! What a driver does, round after round: spawn a worker on the Hive peer or the erl node
//! (`spawn_request` with link and monitor), maybe unlink it, make it trap exits, monitor
//! it twice, give it a local partner linked to it (and monitored by it), exchange numbered
//! messages both ways with cuts in between, end it by one of several fates, check the
//! monitors and links of a dead pid give `noproc`, and make sure it is gone.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::driver::{epoch, Driver, Ent, LinkRec, ERL, PEER};
use super::{bump, CUT_PER_MILLE, DRIVERS_DONE, NODES, TOTALS, WAIT_MS};
use common::hive_peer::{atom, me_t, pid_t, term_reason, tup};
use hive_rt::dist::{self, etf, etf::Term};
use hive_rt::{process, ExitReason, Pid};

use super::common;

/// A driver: rounds until `deadline`, then a check that nothing is left owed.
pub(crate) fn driver(id: u64, seed: u64, nodes: [String; 2], deadline: Instant) {
    process::trap_exit(true).expect("trap_exit");
    let mut d = Driver::new(id, seed, nodes);
    while Instant::now() < deadline {
        d.round += 1;
        bump(&TOTALS.rounds);
        d.one_round();
    }
    d.drain();
    if !d.mons.is_empty() || !d.spawns.is_empty() {
        d.v(format!(
            "at the end: {} monitors never fired, {} spawn requests unanswered",
            d.mons.len(),
            d.spawns.len()
        ));
    }
    DRIVERS_DONE.fetch_add(1, Relaxed);
}

/// A local partner: links to worker `w`, makes sure the link is there (a `sync` call of
/// `w` after it), tells the driver, then waits for `{die, Reason}`. It does not trap, so
/// `w`'s abnormal exit, or `noconnection`, kills it.
fn partner(d: Pid, w: Pid) {
    process::link(w).expect("link");
    let c = tup(vec![atom("$w"), tup(vec![atom("sync"), me_t()])]);
    process::send(w, &etf::to_vec(&c)).expect("send");
    let is_sync = |m: &hive_rt::Message| {
        etf::decode(m.data()).is_ok_and(|t| match t.as_tuple() {
            Some([r, n, ..]) => r.as_atom() == Some("$r") && n.as_atom() == Some("sync"),
            _ => false,
        })
    };
    if process::receive_select(Some(WAIT_MS()), is_sync).is_err() {
        let _ = process::exit(ExitReason::error(etf::to_vec(&atom("partner_timeout"))));
    }
    let m = tup(vec![atom("linked"), me_t()]);
    process::send(d, &etf::to_vec(&m)).expect("send");
    loop {
        let m = process::receive(None).expect("receive");
        let Ok(t) = etf::decode(m.data()) else {
            continue;
        };
        if let Some([tag, r]) = t.as_tuple() {
            if tag.as_atom() == Some("die") {
                match term_reason(r) {
                    ExitReason::Normal => return,
                    why => {
                        let _ = process::exit(why);
                    }
                }
            }
        }
    }
}

impl Driver {
    fn chance(&mut self, p: u64) -> bool {
        self.rng.chance(p)
    }

    /// A custom reason `{Tag, DriverId, Round}`.
    fn custom(&self, tag: &str) -> Term {
        tup(vec![
            atom(tag),
            Term::Int(self.id as i64),
            Term::Int(self.round as i64),
        ])
    }

    fn maybe_cut(&mut self, node: usize) {
        if self.rng.below(1000) < CUT_PER_MILLE.load(Relaxed) {
            self.cut(node);
        }
    }

    /// Spawns a worker on `node`, linked and monitored; None when a cut lost the request.
    fn spawn_worker(&mut self, node: usize) -> Option<Pid> {
        let (m, f) = if node == PEER {
            ("hive_peer", "worker")
        } else {
            ("dist_soak", "actor")
        };
        let ep = epoch(node);
        let args = etf::to_vec(&Term::Nil);
        let req =
            dist::spawn_request(&self.nodes[node], m, f, &args, true, true).expect("spawn_request");
        self.spawns.insert(req, (node, ep));
        self.wait("a spawn reply", |d| d.spawned.contains_key(&req));
        self.spawned.remove(&req).flatten()
    }

    /// After a cut: monitors `w` again (which reconnects) and checks it answers; false
    /// when it is gone (it died of `noconnection`, or another cut came).
    fn recover(&mut self, w: Pid) -> bool {
        if !self.ents[&w].cut {
            return self.ents[&w].usable();
        }
        let m = self.monitor(w);
        let e = self.ents.get_mut(&w).expect("ent");
        e.cut = false;
        e.main = m;
        if self.call(w, "sync", vec![]).is_some() {
            bump(&TOTALS.recoveries);
            true
        } else {
            false
        }
    }

    /// Makes sure `w` is gone: monitors it and kills it, until a DOWN other than
    /// `noconnection` says so (a few tries: each cut ends the try).
    fn ensure_dead(&mut self, w: Pid) {
        for _ in 0..8 {
            if self.ents[&w].dead.is_some() {
                return;
            }
            let m = self.monitor(w);
            let e = self.ents.get_mut(&w).expect("ent");
            e.main = m;
            e.own.push(atom("killed"));
            process::exit_pid(w, ExitReason::Kill).expect("exit");
            self.wait("the DOWN of a killed worker", |d| !d.mons.contains_key(&m));
            let e = &self.ents[&w];
            if e.dead.is_none() && !e.cut {
                // noproc: it had died already.
                return;
            }
            self.ents.get_mut(&w).expect("ent").cut = false;
        }
        self.v(format!("could not make sure {w:?} is gone"));
    }

    fn one_round(&mut self) {
        let node = match NODES.load(Relaxed) {
            0 => PEER,
            1 => ERL,
            _ if self.chance(50) => PEER,
            _ => ERL,
        };
        let Some(w) = self.spawn_worker(node) else {
            return;
        };
        // The link comes with the spawn; sometimes it goes at once.
        if self.chance(30) {
            process::unlink(w).expect("unlink");
            let e = self.ents.get_mut(&w).expect("ent");
            e.link.as_mut().expect("link").unlinked = true;
            e.unlink_pending = true;
        }
        if self.chance(40) {
            self.ents.get_mut(&w).expect("ent").traps = None;
            let old = self.call(w, "trap_exit", vec![atom("true")]);
            if old.is_some() {
                self.ents.get_mut(&w).expect("ent").traps = Some(true);
            }
        }
        if self.chance(30) {
            self.monitor(w);
        }
        let mut partner_pid = None;
        if self.chance(35) && self.ents[&w].usable() {
            partner_pid = self.add_partner(w);
        }
        let mut w_monitors_partner = false;
        if let Some(p) = partner_pid {
            if self.chance(50) && self.call(w, "monitor", vec![pid_t(p)]).is_some() {
                w_monitors_partner = true;
            }
        }
        // Traffic, with cuts.
        for _ in 0..1 + self.rng.below(4) {
            self.maybe_cut(node);
            if !self.recover(w) {
                break;
            }
            self.traffic(w);
        }
        // The fate.
        if self.recover(w) {
            self.fate(w, partner_pid, w_monitors_partner);
        }
        self.finish(w, partner_pid);
    }

    /// A local partner linked to `w`; None when it could not link (it died: a cut).
    fn add_partner(&mut self, w: Pid) -> Option<Pid> {
        let node = self.ents[&w].node;
        let mut e = Ent::new(node, epoch(node));
        e.partner_of = Some(w);
        e.noproc_ok = !self.ents[&w].own.is_empty();
        e.traps = Some(false);
        let me = self.me;
        let p = process::spawn(move || partner(me, w)).expect("spawn");
        self.ents.insert(p, e);
        let m = self.monitor(p);
        self.ents.get_mut(&p).expect("ent").main = m;
        self.ents.get_mut(&w).expect("ent").partner_linked = true;
        self.wait("a partner's link", |d| {
            d.linked_partners.contains(&p) || !d.mons.contains_key(&m)
        });
        self.linked_partners.retain(|&x| x != p);
        self.mons.contains_key(&m).then_some(p)
    }

    /// Numbered messages both ways, then the worker's records.
    fn traffic(&mut self, w: Pid) {
        let out = 1 + self.rng.below(20) as i64;
        self.send_seqs(w, out);
        if self.chance(50) {
            self.maybe_cut(self.ents[&w].node);
        }
        let n = self.rng.below(20) as i64;
        let e = self.ents.get_mut(&w).expect("ent");
        let (a, b) = (e.in_asked + 1, e.in_asked + n);
        e.in_asked = b;
        let r = self.call(w, "send_range", vec![me_t(), Term::Int(a), Term::Int(b)]);
        if r.is_some() {
            let e = &self.ents[&w];
            if e.in_got != b && b > e.in_lossy {
                let (got, lossy) = (e.in_got, e.in_lossy);
                self.v(format!(
                    "{w:?} → driver: {got} of {b} arrived before the reply (lossy ≤ {lossy})"
                ));
            }
        }
        let recs = self.call(w, "await", vec![Term::Int(0), Term::Int(0)]);
        if let Some(list) = recs {
            self.check_records(w, &list, &[]);
        }
    }

    /// Asks `w`, alive and expected to stay so, for `expect` records (and checks them).
    fn expect_records(&mut self, w: Pid, expect: &[(&str, Pid, Term)]) {
        let n = Term::Int(expect.len() as i64);
        let ms = Term::Int(i64::from(WAIT_MS()) / 2);
        if let Some(list) = self.call(w, "await", vec![n, ms]) {
            self.check_records(w, &list, expect);
        }
    }

    /// Ends `w` one way or another.
    fn fate(&mut self, w: Pid, partner_pid: Option<Pid>, w_mon_p: bool) {
        let traps = self.ents[&w].traps;
        let me = self.me;
        let die = |d: &mut Driver, r: Term| {
            d.ents.get_mut(&w).expect("ent").own.push(r.clone());
            d.wsend(w, "die", false, vec![r]);
        };
        match self.rng.below(6) {
            0 => die(self, atom("normal")),
            1 => {
                let r = self.custom("boom");
                die(self, r);
            }
            2 => {
                self.ents.get_mut(&w).expect("ent").own.push(atom("killed"));
                process::exit_pid(w, ExitReason::Kill).expect("exit");
            }
            k @ (3 | 4) => {
                // exit/2 with a reason of ours, or `normal`.
                let r = if k == 3 {
                    self.custom("bang")
                } else {
                    atom("normal")
                };
                if traps != Some(true) && k == 3 {
                    self.ents.get_mut(&w).expect("ent").own.push(r.clone());
                }
                process::exit_pid(w, term_reason(&r)).expect("exit");
                if traps == Some(true) {
                    self.expect_records(w, &[("EXIT", me, r)]);
                }
                let r = self.custom("after_exit2");
                die(self, r);
            }
            _ => {
                let Some(p) = partner_pid else {
                    let r = self.custom("boom");
                    return die(self, r);
                };
                // The partner dies; the worker dies of it, or records it when trapping.
                let r = self.custom("pboom");
                self.ents.get_mut(&p).expect("ent").own.push(r.clone());
                if traps != Some(true) {
                    self.ents.get_mut(&w).expect("ent").own.push(r.clone());
                }
                let pm = self.ents[&p].main;
                process::send(p, &etf::to_vec(&tup(vec![atom("die"), r.clone()]))).expect("send");
                self.wait("a partner's DOWN", |d| !d.mons.contains_key(&pm));
                bump(&TOTALS.partner_deaths);
                if traps == Some(true) && self.ents[&w].usable() {
                    let dead = self.ents[&p].dead.clone().unwrap_or(r);
                    let mut ex = vec![("EXIT", p, dead.clone())];
                    if w_mon_p {
                        ex.push(("DOWN", p, dead));
                    }
                    self.expect_records(w, &ex);
                    die(self, atom("normal"));
                } else if traps.is_none() {
                    let r = self.custom("boom");
                    die(self, r);
                }
            }
        }
    }

    /// Waits until everything owed for `w` and its partner has come, cleans up what a
    /// cut left alive, and sometimes checks a dead pid's monitor and link give `noproc`.
    fn finish(&mut self, w: Pid, partner_pid: Option<Pid>) {
        // The main monitor fires with the fate's reason or noconnection.
        let m = self.ents[&w].main;
        if m != 0 {
            self.wait("a worker's DOWN", |d| !d.mons.contains_key(&m));
        }
        if self.ents[&w].dead.is_none() {
            self.ensure_dead(w);
        }
        if let Some(p) = partner_pid {
            let alive = self.mons.values().any(|x| x.target == p);
            let wd = self.ents[&w].dead.clone();
            let abnormal = wd.as_ref().is_some_and(|r| r.as_atom() != Some("normal"));
            if alive && !abnormal {
                self.ents.get_mut(&p).expect("ent").own.push(atom("normal"));
                let m = tup(vec![atom("die"), atom("normal")]);
                process::send(p, &etf::to_vec(&m)).expect("send");
            }
        }
        let dead = self.ents[&w].dead.is_some();
        if dead && self.chance(30) {
            self.monitor(w);
            bump(&TOTALS.noproc_checks);
        }
        if dead && self.chance(20) {
            let node = self.ents[&w].node;
            let e = self.ents.get_mut(&w).expect("ent");
            if e.link.is_none() {
                e.link = Some(LinkRec {
                    epoch: epoch(node),
                    noproc_ok: true,
                    unlinked: false,
                });
                process::link(w).expect("link");
                bump(&TOTALS.noproc_checks);
            }
        }
        self.wait("the DOWNs and EXITs of a round", |d| {
            !d.owed(w) && partner_pid.is_none_or(|p| !d.owed(p))
        });
        // A message to the dead pid is dropped without error.
        if dead && self.chance(20) {
            process::send(w, &etf::to_vec(&atom("late"))).expect("send");
        }
    }
}
