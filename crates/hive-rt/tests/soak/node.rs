//! A soak tree node's life: its state, the messages it exchanges with its parent, each
//! event it handles and checks (DOWN, EXIT, numbered messages, timers, names), and the
//! driver that builds trees back to back.

use super::tree::{Fate, Spec, Tree};
use super::{
    bump, violation, Rng, DRIVERS_DONE, MAX_CHILDREN, MAX_DEPTH, MAX_LONG_TIMERS, MAX_SHORT_TIMERS,
    NODES_ALIVE, TOTALS,
};
use hive_rt::{net, process, ExitReason, MessageKind, Pid, SpawnOptions, TimerDest};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

/// A child as its parent tracks it.
struct Child {
    spec: Spec,
    pid: Pid,
    mref: u64,
    /// Next message number expected from it.
    next_seq: u64,
    down: bool,
    /// Whether its EXIT is still owed (linked child of a trapping parent).
    exit_owed: bool,
    long_trefs: Vec<u64>,
}

/// A node's working state. It lives on the heap, owned by the node's terminate callback,
/// not on the process's stack: a process killed while blocked leaves its stack behind
/// unwound (the Rust API leaks the values on it), and the soak checks nothing leaks.
struct NodeState {
    tree: Arc<Tree>,
    spec: Spec,
    rng: Rng,
    children: Vec<Child>,
    /// Short timers: (reference, cancelled successfully, arrived).
    short: Vec<(u64, bool, bool)>,
    parent_mref: u64,
}

impl Drop for NodeState {
    fn drop(&mut self) {
        NODES_ALIVE.fetch_sub(1, Relaxed);
    }
}

/// The node state's pointer, moved into the terminate callback (null once taken).
struct StatePtr(*mut NodeState);

// SAFETY: the state is used by one process at a time: its body, then (after the body has
// stopped) its terminate callback, on the same process, possibly on another worker thread.
unsafe impl Send for StatePtr {}

impl StatePtr {
    /// Frees the state and records the node's exit reason (once).
    fn finish(&mut self, reason: &ExitReason) {
        let p = std::mem::replace(&mut self.0, std::ptr::null_mut());
        if !p.is_null() {
            // SAFETY: the pointer came from `Box::into_raw` in `node` and is turned back
            // into a box only here, once (nulled above); the body that used it has stopped
            // for good.
            let owned = unsafe { Box::from_raw(p) };
            owned.tree.record_exit(owned.spec.id, reason);
        }
    }
}

impl Drop for StatePtr {
    /// `exit(P, kill)` runs none of P's code: the terminate callback is dropped unrun (on
    /// P's stack, before its links and monitors are signalled), and this records `killed`.
    fn drop(&mut self) {
        self.finish(&ExitReason::Killed);
    }
}

const TAG_SEQ: u8 = 1;
const TAG_TREFS: u8 = 2;
const TAG_SHORT: u8 = 3;

/// A message in a stack buffer: `[tag][id][vals…]` (no heap: a process killed inside a
/// runtime call leaves its stack's values behind, unfreed).
struct Buf([u8; 1 + 8 * (1 + MAX_LONG_TIMERS as usize)], usize);

impl Buf {
    fn bytes(&self) -> &[u8] {
        &self.0[..self.1]
    }
}

fn encode(tag: u8, id: u64, vals: &[u64]) -> Buf {
    let mut b = Buf([0; 1 + 8 * (1 + MAX_LONG_TIMERS as usize)], 1);
    b.0[0] = tag;
    for x in std::iter::once(&id).chain(vals) {
        b.0[b.1..b.1 + 8].copy_from_slice(&x.to_le_bytes());
        b.1 += 8;
    }
    b
}

/// A node's registered name, `soak<id>`, in a stack buffer.
fn name_of(id: u64) -> Buf {
    use std::io::Write;
    let mut b = Buf([0; 1 + 8 * (1 + MAX_LONG_TIMERS as usize)], 0);
    let cap = b.0.len();
    let mut w = &mut b.0[..];
    write!(w, "soak{id}").unwrap();
    b.1 = cap - w.len();
    b
}

fn word(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[1 + 8 * i..9 + 8 * i].try_into().unwrap())
}

/// What a node makes of one message, copied out of it so that the message is freed before
/// the node calls into the runtime again (where an exit signal may end it).
enum Event {
    Seq {
        from: u64,
        seq: u64,
    },
    Trefs {
        from: u64,
        trefs: Vec<u64>,
    },
    Short {
        idx: u64,
    },
    Down {
        mref: u64,
        pid: Pid,
        reason: ExitReason,
    },
    Exit {
        from: Pid,
        reason: ExitReason,
    },
    Other(String),
}

fn next_event() -> Event {
    next_event_within(None).expect("receive")
}

/// The next event, waiting at most `ms` (None: as long as it takes).
fn next_event_within(ms: Option<u32>) -> Option<Event> {
    let m = match process::receive(ms) {
        Ok(m) => m,
        Err(e) if e.0 == hive_rt::Status::Timeout => return None,
        Err(e) => panic!("receive: {e:?}"),
    };
    let d = m.data();
    Some(match m.kind() {
        MessageKind::Down => Event::Down {
            mref: m.monitor_ref(),
            pid: m.sender(),
            reason: m.reason().expect("DOWN has a reason"),
        },
        MessageKind::Exit => Event::Exit {
            from: m.sender(),
            reason: m.reason().expect("EXIT has a reason"),
        },
        MessageKind::Data if !d.is_empty() && d[0] == TAG_SEQ => Event::Seq {
            from: word(d, 0),
            seq: word(d, 1),
        },
        MessageKind::Data if !d.is_empty() && d[0] == TAG_TREFS => Event::Trefs {
            from: word(d, 0),
            trefs: (1..(d.len() - 1) / 8).map(|i| word(d, i)).collect(),
        },
        MessageKind::Data if !d.is_empty() && d[0] == TAG_SHORT => Event::Short { idx: word(d, 0) },
        k => Event::Other(format!("{k:?} {d:?}")),
    })
}

/// Sockets a node may own (its exit closes them, whatever its fate, `kill` included): a
/// UDP socket that sends itself a datagram, and a TCP listener with a connection to
/// itself. Returns the accepted side of the connection, for a node to block on.
fn open_sockets(st: &mut NodeState) -> Option<net::Socket> {
    let id = st.spec.id;
    let local: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    if st.rng.chance(20) {
        let u = net::udp_open(local).unwrap();
        let a = net::local_addr(u).unwrap();
        net::udp_send_to(u, a, &id.to_le_bytes(), Some(30_000)).unwrap();
        let mut b = [0u8; 8];
        let (n, from) = net::udp_recv_from(u, &mut b, Some(30_000)).unwrap();
        if n != 8 || b != id.to_le_bytes() || from != a {
            violation(format!("node {id}: datagram {:?} from {from}", &b[..n]));
        }
        bump(&TOTALS.sockets_opened);
    }
    if st.rng.chance(10) {
        let l = net::tcp_listen(local, 0, net::LISTEN_REUSEADDR).unwrap();
        let c = net::tcp_connect(net::local_addr(l).unwrap(), Some(30_000)).unwrap();
        let s = net::tcp_accept(l, Some(30_000)).unwrap();
        net::send(c, &id.to_le_bytes(), Some(30_000)).unwrap();
        let mut b = [0u8; 8];
        net::recv(s, &mut b, 8, Some(30_000)).unwrap();
        if b != id.to_le_bytes() {
            violation(format!("node {id}: stream bytes {b:?}"));
        }
        TOTALS.sockets_opened.fetch_add(3, Relaxed);
        return Some(s);
    }
    None
}

/// Body of a tree node.
fn node(tree: Arc<Tree>, spec: Spec, parent: Pid) {
    bump(&TOTALS.processes);
    NODES_ALIVE.fetch_add(1, Relaxed);
    let st = Box::new(NodeState {
        tree,
        spec,
        rng: Rng(spec.seed),
        children: Vec::new(),
        short: Vec::new(),
        parent_mref: 0,
    });
    let st_ptr: *mut NodeState = Box::into_raw(st);
    let owner = StatePtr(st_ptr);
    process::set_terminate(move |reason| {
        let mut owner = owner;
        // No runtime call in here: nothing can interrupt it, so it always frees the state.
        owner.finish(reason);
    })
    .expect("set_terminate");
    // SAFETY: the state is owned by the terminate callback, which runs only after this
    // body has stopped; until then this is the only reference to it.
    let st = unsafe { &mut *st_ptr };
    let id = spec.id;
    if spec.trap {
        process::trap_exit(true).unwrap();
    }
    if spec.fate.by_parent() {
        st.parent_mref = process::monitor(parent).unwrap();
    }
    if spec.name {
        process::register(name_of(id).bytes(), process::self_pid()).unwrap();
        bump(&TOTALS.names_registered);
    }
    // Short timers to itself, some cancelled at once.
    let me = process::self_pid();
    for i in 0..st.rng.below(MAX_SHORT_TIMERS + 1) {
        let ms = st.rng.below(16);
        let tref =
            process::send_after(TimerDest::Pid(me), ms, encode(TAG_SHORT, i, &[]).bytes()).unwrap();
        bump(&TOTALS.timers_set);
        st.short.push((tref, false, false));
    }
    for i in 0..st.short.len() {
        if st.rng.chance(40) {
            let cancelled = process::cancel_timer(st.short[i].0).unwrap().is_some();
            st.short[i].1 = cancelled;
            if cancelled {
                bump(&TOTALS.timers_cancelled);
            }
        }
    }
    // Long timers: never fire; the exit path must cancel them. Their references go to the
    // parent, which checks after the DOWN that they are gone.
    let n_long = st.rng.below(MAX_LONG_TIMERS + 1);
    if n_long > 0 {
        let mut trefs = [0u64; MAX_LONG_TIMERS as usize];
        for t in trefs.iter_mut().take(n_long as usize) {
            let ms = 30_000 + st.rng.below(60_000);
            *t = process::start_timer(TimerDest::Pid(me), ms, b"long").unwrap();
            bump(&TOTALS.timers_set);
        }
        let b = encode(TAG_TREFS, id, &trefs[..n_long as usize]);
        process::send(parent, b.bytes()).unwrap();
    }
    let stream = open_sockets(st);
    for seq in 0..spec.msgs {
        process::send(parent, encode(TAG_SEQ, id, &[seq]).bytes()).unwrap();
        bump(&TOTALS.messages_sent);
        if st.rng.chance(10) {
            process::yield_now().unwrap();
        }
    }
    // Children.
    if spec.depth < MAX_DEPTH {
        for _ in 0..st.rng.below(MAX_CHILDREN + 1) {
            let cs = Spec::draw(&mut st.rng, id, spec.depth + 1);
            spawn_child(st, cs);
        }
    }
    // Kill the children whose fate is to be killed, sometimes after a yield.
    for i in 0..st.children.len() {
        let (pid, fate) = (st.children[i].pid, st.children[i].spec.fate);
        if fate.by_parent() {
            if st.rng.chance(50) {
                process::yield_now().unwrap();
            }
            kill_child(pid, &st.children[i].spec);
        }
    }
    // Wait for every child's DOWN (and EXIT, when owed) and every short timer.
    while !done(st) {
        let ev = next_event();
        handle(st, ev, parent);
    }
    match spec.fate {
        Fate::Normal => {}
        Fate::Error => {
            bump(&TOTALS.faults_error);
            process::exit(spec.fate_reason());
        }
        Fate::Panic => {
            bump(&TOTALS.faults_panic);
            panic!("soak-fault {id}");
        }
        // A node with a connection waits in a receive on it between events, so kills
        // find processes blocked on sockets (nothing ever arrives there).
        Fate::KilledByParent if stream.is_some() => loop {
            let mut b = [0u8; 1];
            match net::recv(stream.unwrap(), &mut b, 0, Some(2)) {
                Err(e) if e.0 == hive_rt::Status::Timeout => {}
                other => violation(format!(
                    "node {id}: receive on its idle connection: {other:?}"
                )),
            }
            bump(&TOTALS.socket_waits);
            while let Some(ev) = next_event_within(Some(0)) {
                handle(st, ev, parent);
            }
        },
        Fate::KilledByParent | Fate::ExitByParent => loop {
            let ev = next_event();
            handle(st, ev, parent);
        },
    }
}

fn kill_child(pid: Pid, spec: &Spec) {
    if spec.fate == Fate::KilledByParent {
        bump(&TOTALS.faults_kill);
        process::exit_pid(pid, ExitReason::Kill).unwrap();
    } else {
        bump(&TOTALS.faults_exit_signal);
        process::exit_pid(pid, spec.fate_reason()).unwrap();
    }
}

fn spawn_child(st: &mut NodeState, cs: Spec) {
    st.tree.insert(cs);
    let tree = st.tree.clone();
    let me = process::self_pid();
    let (pid, mref) = process::spawn_opt(SpawnOptions::default(), cs.link, true, move || {
        node(tree, cs, me)
    })
    .expect("spawn");
    st.children.push(Child {
        spec: cs,
        pid,
        mref,
        next_seq: 0,
        down: false,
        exit_owed: cs.link && st.spec.trap,
        long_trefs: Vec::new(),
    });
}

fn done(st: &NodeState) -> bool {
    st.children.iter().all(|c| c.down && !c.exit_owed)
        && st
            .short
            .iter()
            .all(|&(_, cancelled, arrived)| cancelled || arrived)
}

fn handle(st: &mut NodeState, ev: Event, parent: Pid) {
    let id = st.spec.id;
    match ev {
        Event::Seq { from, seq } => {
            bump(&TOTALS.messages_received);
            match st.children.iter_mut().find(|c| c.spec.id == from) {
                Some(c) if !c.down && c.next_seq == seq => c.next_seq += 1,
                Some(c) => violation(format!(
                    "node {id}: message {seq} from child {from} (expected {}, down {})",
                    c.next_seq, c.down
                )),
                None => violation(format!("node {id}: message from unknown node {from}")),
            }
        }
        Event::Trefs { from, trefs } => match st.children.iter_mut().find(|c| c.spec.id == from) {
            Some(c) if !c.down => c.long_trefs = trefs,
            _ => violation(format!("node {id}: timer list from {from} out of place")),
        },
        Event::Short { idx } => {
            bump(&TOTALS.timers_received);
            match st.short.get_mut(idx as usize) {
                Some(t) if !t.1 && !t.2 => t.2 = true,
                Some(t) => violation(format!(
                    "node {id}: short timer {idx} arrived (cancelled {}, arrived before {})",
                    t.1, t.2
                )),
                None => violation(format!("node {id}: unknown short timer {idx}")),
            }
        }
        Event::Down { mref, pid, reason } => {
            if mref != 0 && mref == st.parent_mref {
                // Our parent died before killing us.
                bump(&TOTALS.downs);
                bump(&TOTALS.orphans);
                st.parent_mref = 0;
                drop(reason);
                let e = process::exit(ExitReason::error("orphan"));
                unreachable!("exit returned {e:?}");
            }
            let Some(i) = st.children.iter().position(|c| c.mref == mref) else {
                violation(format!("node {id}: DOWN for unknown monitor {mref}"));
                return;
            };
            if st.children[i].down || st.children[i].pid != pid {
                violation(format!("node {id}: second DOWN or wrong pid for {mref}"));
                return;
            }
            bump(&TOTALS.downs);
            st.children[i].down = true;
            child_down(st, i, reason);
        }
        Event::Exit { from, reason } => {
            bump(&TOTALS.exits_trapped);
            if !st.spec.trap {
                violation(format!("node {id}: EXIT message without trapping"));
            } else if from == parent {
                on_parent_exit(st, reason);
            } else if let Some(c) = st.children.iter_mut().find(|c| c.pid == from) {
                let recorded = st.tree.reason_of(c.spec.id);
                if !c.exit_owed {
                    violation(format!("node {id}: EXIT from {} not owed", c.spec.id));
                } else if recorded.as_ref() != Some(&reason) && !never_ran_reason(&c.spec, &reason)
                {
                    violation(format!(
                        "node {id}: EXIT from child {} with {reason:?}, recorded {recorded:?}",
                        c.spec.id
                    ));
                }
                c.exit_owed = false;
            } else {
                violation(format!("node {id}: EXIT from a stranger {from:?}"));
            }
        }
        Event::Other(what) => violation(format!("node {id}: unexpected message {what}")),
    }
}

/// A child killed by its parent before it ran has no recorded reason: it must be the one
/// its parent sent.
fn never_ran_reason(spec: &Spec, reason: &ExitReason) -> bool {
    spec.fate.by_parent() && *reason == spec.fate_reason()
}

/// A trapping node's parent sent an exit signal: its own exit (linked), or `exit/2`.
fn on_parent_exit(st: &mut NodeState, reason: ExitReason) {
    let spec = st.spec;
    let parent_reason = st.tree.reason_of(spec.parent_id);
    let by_exit2 = spec.fate == Fate::ExitByParent && reason == spec.fate_reason();
    let by_link = spec.link && parent_reason.as_ref() == Some(&reason);
    if !by_exit2 && !by_link {
        violation(format!(
            "node {}: EXIT from parent with {reason:?} (recorded {parent_reason:?})",
            spec.id
        ));
    }
    drop(parent_reason);
    if !reason.is_normal() {
        process::exit(reason);
    }
}

fn child_down(st: &mut NodeState, i: usize, reason: ExitReason) {
    let id = st.spec.id;
    let c = &st.children[i];
    let recorded = st.tree.reason_of(c.spec.id);
    match &recorded {
        Some(r) if *r != reason => violation(format!(
            "node {id}: DOWN of {} says {reason:?}, its terminate saw {r:?}",
            c.spec.id
        )),
        None if !never_ran_reason(&c.spec, &reason) => violation(format!(
            "node {id}: DOWN of {} with {reason:?} and no recorded reason",
            c.spec.id
        )),
        _ => {}
    }
    // Ended by its own fate: every message it sent arrived before the DOWN.
    let own_end = matches!(c.spec.fate, Fate::Normal | Fate::Error | Fate::Panic)
        && reason == c.spec.fate_reason();
    if own_end && c.next_seq != c.spec.msgs {
        violation(format!(
            "node {id}: child {} ended ({reason:?}) after sending {}, {} arrived",
            c.spec.id, c.spec.msgs, c.next_seq
        ));
    }
    // Nothing owned stays on the stack across the runtime calls below.
    drop(recorded);
    drop(reason);
    // Its name is released before its DOWN.
    let (cid, cpid, named) = (c.spec.id, c.pid, c.spec.name);
    if named {
        let name = name_of(cid);
        let name = name.bytes();
        bump(&TOTALS.name_checks);
        if process::whereis(name) == Ok(cpid) {
            violation(format!(
                "node {id}: name of dead child {cid} still resolves"
            ));
        }
        // Reuse the freed name now and then (case 83).
        if st.rng.chance(30) && process::register(name, process::self_pid()).is_ok() {
            bump(&TOTALS.name_reuses);
            process::unregister(name).unwrap();
        }
    }
    // Its long timers died with it.
    for k in 0..st.children[i].long_trefs.len() {
        let t = st.children[i].long_trefs[k];
        bump(&TOTALS.timer_checks);
        if process::read_timer(t) != Ok(None) || process::cancel_timer(t) != Ok(None) {
            violation(format!(
                "node {id}: timer {t} of dead child {cid} still pending"
            ));
        }
    }
}

/// A driver: builds trees back to back until `deadline`.
pub(crate) fn driver(seed: u64, deadline: Instant) {
    let mut rng = Rng(seed);
    while Instant::now() < deadline {
        bump(&TOTALS.trees);
        let tree = Tree::new();
        let spec = Spec::draw(&mut rng, 0, 0);
        tree.insert(spec);
        let me = process::self_pid();
        let t = tree.clone();
        let (pid, mref) = process::spawn_opt(SpawnOptions::default(), false, true, move || {
            node(t, spec, me)
        })
        .unwrap();
        if spec.fate.by_parent() {
            if rng.chance(50) {
                process::yield_now().unwrap();
            }
            kill_child(pid, &spec);
        }
        let m = process::receive_select(None, |m| {
            m.kind() == MessageKind::Down && m.monitor_ref() == mref
        })
        .unwrap();
        let reason = m.reason().unwrap();
        drop(m);
        bump(&TOTALS.downs);
        let recorded = tree.reason_of(spec.id);
        if recorded.as_ref() != Some(&reason) && !never_ran_reason(&spec, &reason) {
            violation(format!(
                "driver: root {} DOWN {reason:?}, recorded {recorded:?}",
                spec.id
            ));
        }
        // Anything else in the driver's mailbox (the root's messages) is dropped.
        while let Ok(m) = process::receive(Some(0)) {
            if m.data().first() == Some(&TAG_SEQ) {
                bump(&TOTALS.messages_received);
            }
        }
    }
    bump(&DRIVERS_DONE);
}
