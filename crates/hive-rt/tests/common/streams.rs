//! Sequence-numbered message streams across a connection, for the fault tests
//! (`tests/dist_faults.rs`): a [`sender`] sends `{seq, Self, 1..}` to one receiver until
//! told `stop`, then `{fin, Self, Last}`; a [`collector`] receives the streams of any number
//! of senders and keeps, per sender, the runs of consecutive numbers it got, the numbers that
//! came out of order or twice, and the sender's `Last`. The same processes run on the test
//! node, on a Hive peer (agent commands `stream_send`, `stream_recv`, `common/hive_peer.rs`)
//! and, written in Erlang, on an `erl` node (`dist_faults.rs`).
//!
//! Messages (ETF):
//! - `{seq, Sender, I}` — the stream, `I` = 1, 2, …
//! - `stop` — to a sender: send one more `{seq, Sender, Last}` and `{fin, Sender, Last}`, and
//!   end (that last message leaves after `stop` arrived, so after whatever the test did
//!   before sending `stop`, such as reconnecting);
//! - `{report, ReplyTo, N, Cond, TimeoutMs}` — to a collector: answer
//!   `{'$r', report, [{Sender, Last | undefined, [{From, To}], [{Prev, Got}], Count}]}` once
//!   `N` streams have finished (`Cond` = `fin`) or have at least `Cond` messages (an
//!   integer), or when `TimeoutMs` has passed.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hive_rt::dist::etf::{self, Term};
use hive_rt::{process, MessageKind, Pid};

use super::hive_peer::{atom, items, me_t, to_pid, tup};

/// Messages a sender sends between two looks at its mailbox.
pub(crate) const BATCH: i64 = 5;

/// What a collector knows of one stream.
#[derive(Clone, Debug, Default)]
struct Seen {
    who: Option<Term>,
    runs: Vec<(i64, i64)>,
    bad: Vec<(i64, i64)>,
    fin: Option<i64>,
    count: i64,
}

impl Seen {
    fn record(&mut self, i: i64) {
        self.count += 1;
        if self.fin.is_some() {
            self.bad.push((-1, i));
            return;
        }
        match self.runs.last_mut() {
            None => self.runs.push((i, i)),
            Some(r) if i == r.1 + 1 => r.1 = i,
            Some(r) if i > r.1 + 1 => self.runs.push((i, i)),
            Some(r) => {
                let prev = r.1;
                self.bad.push((prev, i));
            }
        }
    }

    fn term(&self) -> Term {
        let pair = |&(a, b): &(i64, i64)| tup(vec![Term::Int(a), Term::Int(b)]);
        tup(vec![
            self.who.clone().unwrap_or_else(|| atom("undefined")),
            self.fin.map_or_else(|| atom("undefined"), Term::Int),
            Term::list(self.runs.iter().map(pair).collect()),
            Term::list(self.bad.iter().map(pair).collect()),
            Term::Int(self.count),
        ])
    }
}

/// Whether `m` is the message `stop`.
fn is_stop(m: &hive_rt::Message) -> bool {
    m.kind() == MessageKind::Data
        && etf::decode(m.data()).is_ok_and(|t| t.as_atom() == Some("stop"))
}

/// A sender's body: `{seq, Self, 1..}` to `to`, [`BATCH`] at a time, until `stop`; then
/// one more and `{fin, Self, Last}`.
pub(crate) fn sender(to: Pid) {
    let me = me_t();
    let mut i = 0i64;
    loop {
        for _ in 0..BATCH {
            i += 1;
            let m = tup(vec![atom("seq"), me.clone(), Term::Int(i)]);
            process::send(to, &etf::to_vec(&m)).expect("send");
        }
        // Waits up to 1 ms for `stop`: that bounds the stream's rate (about BATCH per ms);
        // nothing waits on it.
        if process::receive_select(Some(1), is_stop).is_ok() {
            i += 1;
            let m = tup(vec![atom("seq"), me.clone(), Term::Int(i)]);
            process::send(to, &etf::to_vec(&m)).expect("send");
            let fin = tup(vec![atom("fin"), me, Term::Int(i)]);
            process::send(to, &etf::to_vec(&fin)).expect("send");
            return;
        }
    }
}

/// A collector's body (module docs).
pub(crate) fn collector() {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    // (reply to, streams, condition: None = fin, Some(k) = k messages, deadline)
    let mut waiting: Option<(Pid, usize, Option<i64>, Instant)> = None;
    loop {
        let timeout = waiting
            .as_ref()
            .map(|w| w.3.saturating_duration_since(Instant::now()).as_millis() as u32);
        let mut timed_out = false;
        match process::receive(timeout) {
            Ok(m) if m.kind() == MessageKind::Data => {
                let Ok(t) = etf::decode(m.data()) else {
                    continue;
                };
                let Some(v) = t.as_tuple() else { continue };
                match (v.first().and_then(Term::as_atom), v.len()) {
                    (Some("seq"), 3) => {
                        let s = seen.entry(v[1].to_string()).or_default();
                        s.who = Some(v[1].clone());
                        s.record(v[2].as_int().unwrap_or(0));
                    }
                    (Some("fin"), 3) => {
                        let s = seen.entry(v[1].to_string()).or_default();
                        s.who = Some(v[1].clone());
                        s.fin = v[2].as_int();
                    }
                    (Some("report"), 5) => {
                        let cond = v[3].as_int();
                        let ms = v[4].as_int().unwrap_or(0).max(0) as u64;
                        waiting = Some((
                            to_pid(&v[1]),
                            v[2].as_int().unwrap_or(0) as usize,
                            cond,
                            Instant::now() + Duration::from_millis(ms),
                        ));
                    }
                    _ => {}
                }
            }
            Ok(_) => {}
            Err(_) => timed_out = true,
        }
        let Some((to, n, cond, _)) = waiting else {
            continue;
        };
        let done = seen
            .values()
            .filter(|s| match cond {
                None => s.fin.is_some(),
                Some(k) => s.count >= k,
            })
            .count();
        if done >= n || timed_out {
            let list = Term::list(seen.values().map(Seen::term).collect());
            let r = tup(vec![atom("$r"), atom("report"), list]);
            let _ = process::send(to, &etf::to_vec(&r));
            waiting = None;
        }
    }
}

/// One stream of a collector's report.
#[derive(Clone, Debug)]
pub(crate) struct Stream {
    /// The sender's pid term.
    pub(crate) who: Term,
    /// The sender's last number, when its `fin` arrived.
    pub(crate) fin: Option<i64>,
    /// Runs of consecutive numbers, in arrival order.
    pub(crate) runs: Vec<(i64, i64)>,
    /// Numbers that came twice or out of order: (the greatest before, the number).
    pub(crate) bad: Vec<(i64, i64)>,
    /// Messages received.
    pub(crate) count: i64,
}

/// The streams of a report's value.
pub(crate) fn parse_report(t: &Term) -> Vec<Stream> {
    let pairs = |t: &Term| -> Vec<(i64, i64)> {
        items(t)
            .iter()
            .map(|p| match p.as_tuple() {
                Some([a, b]) => (a.as_int().expect("int"), b.as_int().expect("int")),
                _ => panic!("not a pair: {p}"),
            })
            .collect()
    };
    items(t)
        .iter()
        .map(|s| match s.as_tuple() {
            Some([who, fin, runs, bad, count]) => Stream {
                who: who.clone(),
                fin: fin.as_int(),
                runs: pairs(runs),
                bad: pairs(bad),
                count: count.as_int().expect("count"),
            },
            _ => panic!("not a stream report: {s}"),
        })
        .collect()
}

/// Asks collector `c` for its report once `n` streams satisfy `cond` (None: finished;
/// Some(k): at least k messages), within `ms`; call from a process.
pub(crate) fn report(c: Pid, n: usize, cond: Option<i64>, ms: u32) -> Vec<Stream> {
    let cond_t = cond.map_or_else(|| atom("fin"), Term::Int);
    let req = tup(vec![
        atom("report"),
        me_t(),
        Term::Int(n as i64),
        cond_t,
        Term::Int(i64::from(ms)),
    ]);
    process::send(c, &etf::to_vec(&req)).expect("send");
    let m = process::receive_select(Some(ms + 10_000), |m| {
        super::hive_peer::reply_of(m, "report").is_some()
    })
    .unwrap_or_else(|e| {
        panic!("no report from collector {c:?} (of {n} streams, {cond:?}, {ms} ms): {e:?}")
    });
    parse_report(&super::hive_peer::reply_of(&m, "report").expect("report"))
}

/// How a stream must look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Everything arrived: `1..=Last`, in order, once each.
    Complete,
    /// In order, once each, at most one gap (the loss at a cut), and `Last` arrived (the
    /// message sent after `stop`, so after the reconnect).
    OneGap,
    /// A prefix: `1..=K`, in order, once each, no `fin` (a sender still running, or one
    /// that died).
    Prefix,
}

/// Checks stream `s` against `e`; `min` is the least number of messages it must hold.
pub(crate) fn check(s: &Stream, e: Expect, min: i64) {
    assert!(s.bad.is_empty(), "duplicated or reordered: {s:?}");
    assert!(s.count >= min, "fewer than {min} messages: {s:?}");
    assert_eq!(
        s.runs.first().map(|r| r.0),
        Some(1),
        "does not start at 1: {s:?}"
    );
    match e {
        Expect::Complete => {
            let last = s.fin.unwrap_or_else(|| panic!("no fin: {s:?}"));
            assert_eq!(s.runs, [(1, last)], "not complete: {s:?}");
        }
        Expect::OneGap => {
            let last = s.fin.unwrap_or_else(|| panic!("no fin: {s:?}"));
            assert!(s.runs.len() <= 2, "more than one gap: {s:?}");
            assert_eq!(
                s.runs.last().map(|r| r.1),
                Some(last),
                "the end is missing: {s:?}"
            );
        }
        Expect::Prefix => {
            assert_eq!(s.fin, None, "{s:?}");
            assert_eq!(s.runs.len(), 1, "not a prefix: {s:?}");
        }
    }
}
