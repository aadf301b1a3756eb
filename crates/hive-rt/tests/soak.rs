//! Soak with invariants (issue 6): random trees of processes that link, monitor, trap
//! exits, send, register names, set and cancel timers and die with random reasons, for a
//! fixed time, while every process checks what it observes against what the BEAM allows.
//!
//! `cargo test -p hive-rt --test soak` runs a short version (3 s, part of `make test`);
//! `make soak` runs it for minutes in release mode (`HIVE_SOAK_SECS`, default 300 there).
//! Knobs: `HIVE_SOAK_SECS`, `HIVE_SOAK_SEED`, `HIVE_SOAK_SCHEDULERS`, `HIVE_SOAK_DRIVERS`.
//!
//! ## What runs
//! `HIVE_SOAK_DRIVERS` driver processes each build trees back to back until the time is up.
//! A tree node (`node`) picks, from its spec (drawn by its parent from a seeded generator):
//! whether it traps exits, whether it is linked to its parent (every node is monitored by
//! its parent), whether it registers a name, how many messages it sends its parent, how
//! many short timers (0–15 ms, some cancelled) and long timers (30–90 s, never fired) it
//! sets, how many children it spawns (0–3, depth ≤ 4) and its fate: return (`normal`),
//! `exit` with its own reason, a panic, or waiting until its parent kills it (`kill`) or
//! sends it an exit signal with a reason of its own. Abnormal exits then cascade over links.
//!
//! ## What is checked (a violation is recorded and fails the test at the end)
//! - **Exit reasons.** Each process's terminate callback checks its reason is one the
//!   BEAM allows: its fate's, or that of a linked neighbour that died abnormally before it
//!   (a non-trapping process dies of it; a trapping one propagates its parent's), or
//!   `orphan` when its parent died before killing it. The reason is recorded once; a second
//!   run of the callback is a violation.
//! - **Monitors fire exactly once**, with the reason the process recorded: a second DOWN
//!   for one monitor, or one for an unknown reference, is a violation; a missing one leaves
//!   its parent waiting and fails the drain at the end.
//! - **Link signals arrive once with the right reason**: a trapping parent takes exactly one
//!   EXIT from each linked child (reason = the child's recorded reason); a trapping child
//!   takes its parent's EXIT only with the parent's recorded reason or the reason the parent
//!   sent it with `exit/2`.
//! - **Messages**: each child numbers its messages to its parent; the parent checks they
//!   arrive in order without gaps or duplicates and, when the child ended by its own fate,
//!   that all of them arrived before its DOWN (BEAM case 16: signals keep their order with
//!   messages).
//! - **Names**: after a child's DOWN, its name no longer resolves to it (case 82); the parent
//!   sometimes registers the freed name itself and releases it again (case 83).
//! - **Timers**: a short timer cancelled with success never arrives; every other short timer
//!   arrives exactly once; after a child's DOWN each of its long timers reads as gone
//!   (`read_timer` → none, case 92: a timer to a pid dies with it).
//! - **At the end**: processes, pending timers and registered names are back at their
//!   baseline, every tree and node state was freed (no closure or callback leaked), and RSS
//!   after the drain is within bounds of a mid-run sample.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hive_rt::{process, Config, ExitReason, MessageKind, Pid, Runtime, SpawnOptions, TimerDest};

// ---------------------------------------------------------------------------------------
// Knobs and counters

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const MAX_DEPTH: u32 = 4;
const MAX_CHILDREN: u64 = 3;
const MAX_MSGS: u64 = 12;
const MAX_SHORT_TIMERS: u64 = 3;
const MAX_LONG_TIMERS: u64 = 2;

/// Totals, printed at the end.
#[derive(Default)]
struct Totals {
    processes: AtomicU64,
    trees: AtomicU64,
    messages_sent: AtomicU64,
    messages_received: AtomicU64,
    downs: AtomicU64,
    exits_trapped: AtomicU64,
    faults_error: AtomicU64,
    faults_panic: AtomicU64,
    faults_kill: AtomicU64,
    faults_exit_signal: AtomicU64,
    cascades: AtomicU64,
    orphans: AtomicU64,
    names_registered: AtomicU64,
    name_checks: AtomicU64,
    name_reuses: AtomicU64,
    timers_set: AtomicU64,
    timers_cancelled: AtomicU64,
    timers_received: AtomicU64,
    timer_checks: AtomicU64,
    reasons_checked: AtomicU64,
}

static TOTALS: std::sync::LazyLock<Totals> = std::sync::LazyLock::new(Totals::default);
/// Trees and node states alive (their `Drop` decrements): 0 at the end, or something leaked.
static TREES_ALIVE: AtomicI64 = AtomicI64::new(0);
static NODES_ALIVE: AtomicI64 = AtomicI64::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static DRIVERS_DONE: AtomicU64 = AtomicU64::new(0);
static VIOLATIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

fn violation(msg: String) {
    let mut v = VIOLATIONS.lock().unwrap();
    if v.len() < 50 {
        v.push(msg);
    }
}

/// splitmix64: a small seeded generator (the test only needs spread, not quality).
#[derive(Clone, Copy)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

// ---------------------------------------------------------------------------------------
// Trees

/// How a node ends when nothing kills it first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// Returns: `normal`.
    Normal,
    /// `exit(e<id>)`.
    Error,
    /// Panics: `panic: soak-fault <id>`.
    Panic,
    /// Waits until its parent sends `exit(Pid, kill)`: `killed`.
    KilledByParent,
    /// Waits until its parent sends `exit(Pid, x<id>)`.
    ExitByParent,
}

impl Fate {
    fn by_parent(self) -> bool {
        matches!(self, Fate::KilledByParent | Fate::ExitByParent)
    }
}

/// What a parent decides about a child before spawning it.
#[derive(Clone, Copy, Debug)]
struct Spec {
    id: u64,
    parent_id: u64,
    depth: u32,
    seed: u64,
    link: bool,
    trap: bool,
    name: bool,
    msgs: u64,
    fate: Fate,
}

impl Spec {
    fn draw(rng: &mut Rng, parent_id: u64, depth: u32) -> Spec {
        let fate = match rng.below(100) {
            0..=54 => Fate::Normal,
            55..=69 => Fate::Error,
            70..=77 => Fate::Panic,
            78..=88 => Fate::KilledByParent,
            _ => Fate::ExitByParent,
        };
        Spec {
            id: NEXT_ID.fetch_add(1, Relaxed),
            parent_id,
            depth,
            seed: rng.next(),
            link: rng.chance(60),
            trap: rng.chance(35),
            name: rng.chance(30),
            msgs: rng.below(MAX_MSGS + 1),
            fate,
        }
    }

    /// The reason this node's fate gives it.
    fn fate_reason(&self) -> ExitReason {
        match self.fate {
            Fate::Normal => ExitReason::Normal,
            Fate::Error => ExitReason::error(format!("e{}", self.id)),
            Fate::Panic => ExitReason::error(format!("panic: soak-fault {}", self.id)),
            Fate::KilledByParent => ExitReason::Killed,
            Fate::ExitByParent => ExitReason::error(format!("x{}", self.id)),
        }
    }
}

/// One node's entry in its tree's table.
struct Rec {
    spec: Spec,
    /// Its children, in spawn order.
    children: Vec<u64>,
    /// The reason its terminate callback saw (set once).
    reason: Option<ExitReason>,
}

/// The shared table of one tree; freed when its last node state and the driver let go.
struct Tree {
    recs: Mutex<HashMap<u64, Rec>>,
}

impl Tree {
    fn new() -> Arc<Tree> {
        TREES_ALIVE.fetch_add(1, Relaxed);
        Arc::new(Tree {
            recs: Mutex::new(HashMap::new()),
        })
    }

    fn insert(&self, spec: Spec) {
        let mut recs = self.recs.lock().unwrap();
        recs.insert(
            spec.id,
            Rec {
                spec,
                children: Vec::new(),
                reason: None,
            },
        );
        if let Some(p) = recs.get_mut(&spec.parent_id) {
            p.children.push(spec.id);
        }
    }

    fn reason_of(&self, id: u64) -> Option<ExitReason> {
        self.recs
            .lock()
            .unwrap()
            .get(&id)
            .and_then(|r| r.reason.clone())
    }

    /// Checks `reason` against what the BEAM allows for node `id` and records it.
    fn record_exit(&self, id: u64, reason: &ExitReason) {
        let mut recs = self.recs.lock().unwrap();
        let Some(rec) = recs.get(&id) else {
            violation(format!("node {id}: no record at exit"));
            return;
        };
        if rec.reason.is_some() {
            violation(format!("node {id}: terminate ran twice"));
            return;
        }
        let spec = rec.spec;
        let abnormal = |r: &Option<ExitReason>| r.as_ref().filter(|r| !r.is_normal()).cloned();
        let parent_reason = recs.get(&spec.parent_id).and_then(|p| p.reason.clone());
        let mut allowed = vec![spec.fate_reason()];
        if spec.fate.by_parent() && parent_reason.is_some() {
            allowed.push(ExitReason::error("orphan"));
        }
        // A linked parent's abnormal exit: a non-trapping child dies of it, a trapping one
        // propagates it (see `on_parent_exit`).
        if spec.link {
            if let Some(r) = abnormal(&parent_reason) {
                allowed.push(r);
            }
        }
        // A linked child's abnormal exit kills a non-trapping parent.
        if !spec.trap {
            for c in &rec.children {
                let c = &recs[c];
                if c.spec.link {
                    if let Some(r) = abnormal(&c.reason) {
                        allowed.push(r);
                    } else if c.reason.is_none() && c.spec.fate.by_parent() {
                        // Killed by us before it ran: no terminate, its reason is ours.
                        allowed.push(c.spec.fate_reason());
                    }
                }
            }
        }
        bump(&TOTALS.reasons_checked);
        if !allowed.contains(reason) {
            violation(format!(
                "node {id} ({:?}, link {}, trap {}): exit reason {reason:?} not in {allowed:?}",
                spec.fate, spec.link, spec.trap
            ));
        } else if *reason != spec.fate_reason() {
            bump(&TOTALS.cascades);
        }
        recs.get_mut(&id).unwrap().reason = Some(reason.clone());
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        TREES_ALIVE.fetch_sub(1, Relaxed);
    }
}

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
    let m = process::receive(None).expect("receive");
    let d = m.data();
    match m.kind() {
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
    }
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
fn driver(seed: u64, deadline: Instant) {
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

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|v| v.parse().unwrap_or(0)))
        })
        .unwrap_or(0)
}

/// Heap bytes in use, in kB: unlike RSS it does not count memory the allocator keeps
/// cached after a free. The runtime's own count when it has one (mimalloc, built with
/// `alloc-stats` for tests), else glibc's `mallinfo2` (small blocks + mmapped ones).
fn heap_kb() -> u64 {
    if let Some(b) = hive_rt::heap_in_use() {
        return (b / 1024) as u64;
    }
    // SAFETY: `mallinfo2` only reads the allocator's statistics.
    let m = unsafe { libc::mallinfo2() };
    ((m.uordblks + m.hblkhd) / 1024) as u64
}

/// Polls `cond` until it holds or `bound` passes (a failure bound, not a synchronisation:
/// the runtime's cleanup after the last DOWN, and short timers to dead processes expiring,
/// have no event to wait for).
fn eventually(bound: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + bound;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::yield_now();
    }
    cond()
}

#[test]
fn soak_with_invariants() {
    let secs = env_u64("HIVE_SOAK_SECS", 3);
    let seed = env_u64("HIVE_SOAK_SEED", 0x5eed_0f41_fe00);
    let schedulers = env_u64("HIVE_SOAK_SCHEDULERS", 2) as usize;
    let drivers = env_u64("HIVE_SOAK_DRIVERS", 8 * schedulers as u64);
    // The injected panics are expected: keep them off stderr, report any other.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if !text.starts_with("soak-fault") {
            default_hook(info);
        }
    }));

    let rt = Runtime::new(Config {
        schedulers,
        ..Config::default()
    })
    .unwrap();
    let base = rt.stats();
    let rss_before = rss_kb();
    let heap_before = heap_kb();
    eprintln!(
        "soak: {secs} s, {schedulers} schedulers, {drivers} drivers, seed {seed:#x}; \
         baseline: {} processes, {} timers, {} names, RSS {rss_before} kB",
        base.live, base.pending_timers, base.registered_names
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut pids = Vec::new();
    for d in 0..drivers {
        let s = seed.wrapping_add(d.wrapping_mul(0x9E37_79B9));
        pids.push(rt.spawn(move || driver(s, deadline)).unwrap());
    }
    // Progress, and an RSS sample a quarter of the way in (warm: stacks and slabs grown).
    let mut rss_mid = 0;
    let mut heap_mid = 0;
    let mut next_report = start + Duration::from_secs(10);
    let quarter = start + Duration::from_secs(secs) / 4;
    // Waits on the first driver's exit (it ends at the deadline), waking for the RSS sample
    // and the progress lines; an early end of that driver only ends this loop early.
    while Instant::now() < deadline {
        let wake = [deadline, next_report]
            .into_iter()
            .chain((rss_mid == 0).then_some(quarter))
            .min()
            .unwrap();
        let r = rt.wait_timeout(pids[0], wake.saturating_duration_since(Instant::now()));
        if !matches!(r, Err(hive_rt::Error(hive_rt::Status::Timeout))) {
            break;
        }
        let now = Instant::now();
        if rss_mid == 0 && now >= quarter {
            rss_mid = rss_kb();
            heap_mid = heap_kb();
        }
        if now >= next_report {
            next_report += Duration::from_secs(10);
            eprintln!(
                "soak: {:>4} s: {} processes, {} messages, {} DOWNs, {} violations",
                start.elapsed().as_secs(),
                TOTALS.processes.load(Relaxed),
                TOTALS.messages_sent.load(Relaxed),
                TOTALS.downs.load(Relaxed),
                VIOLATIONS.lock().unwrap().len()
            );
        }
    }
    for p in pids {
        // Ok(reason), or noproc: it ended before we looked.
        let r = rt.wait_timeout(p, Duration::from_secs(30));
        if !matches!(r, Ok(ExitReason::Normal) | Ok(ExitReason::Noproc)) {
            // A lost signal, message or timer leaves some process waiting for ever.
            panic!(
                "driver ended {r:?} (a process waits for something that never came?); {:?}; \
                 violations so far:\n{}",
                rt.stats(),
                VIOLATIONS.lock().unwrap().join("\n")
            );
        }
    }
    assert_eq!(
        DRIVERS_DONE.load(Relaxed),
        drivers,
        "a driver did not finish"
    );
    // Drain: orphans finish, short timers to dead processes expire.
    let drained = eventually(Duration::from_secs(30), || {
        let s = rt.stats();
        s.live == base.live
            && s.pending_timers == base.pending_timers
            && NODES_ALIVE.load(Relaxed) == 0
            && TREES_ALIVE.load(Relaxed) == 0
    });
    let end = rt.stats();
    let rss_after = rss_kb();
    let heap_after = heap_kb();
    let t = &*TOTALS;
    let g = |c: &AtomicU64| c.load(Relaxed);
    let faults =
        g(&t.faults_error) + g(&t.faults_panic) + g(&t.faults_kill) + g(&t.faults_exit_signal);
    eprintln!(
        "soak: {:.1} s: {} trees, {} processes, {} messages sent / {} received, \
         {} DOWNs, {} trapped EXITs, {} reasons checked ({} cascaded, {} orphans)",
        start.elapsed().as_secs_f64(),
        g(&t.trees),
        g(&t.processes),
        g(&t.messages_sent),
        g(&t.messages_received),
        g(&t.downs),
        g(&t.exits_trapped),
        g(&t.reasons_checked),
        g(&t.cascades),
        g(&t.orphans)
    );
    eprintln!(
        "soak: faults injected: {faults} ({} exit, {} panic, {} kill, {} exit signal); \
         timers: {} set, {} cancelled, {} received, {} checked gone; names: {} registered, \
         {} checked after DOWN, {} reused",
        g(&t.faults_error),
        g(&t.faults_panic),
        g(&t.faults_kill),
        g(&t.faults_exit_signal),
        g(&t.timers_set),
        g(&t.timers_cancelled),
        g(&t.timers_received),
        g(&t.timer_checks),
        g(&t.names_registered),
        g(&t.name_checks),
        g(&t.name_reuses),
    );
    eprintln!(
        "soak: end: {} processes, {} timers, {} names, {} trees and {} node states alive; \
         RSS {rss_before} kB before, {rss_mid} kB at 1/4, {rss_after} kB after; heap in use \
         {heap_before} kB before, {heap_mid} kB at 1/4, {heap_after} kB after",
        end.live,
        end.pending_timers,
        end.registered_names,
        TREES_ALIVE.load(Relaxed),
        NODES_ALIVE.load(Relaxed)
    );
    let violations = VIOLATIONS.lock().unwrap().clone();
    let ok = violations.is_empty() && drained && end.registered_names == base.registered_names;
    eprintln!("soak: {}", if ok { "PASS" } else { "FAIL" });
    assert!(
        violations.is_empty(),
        "violations:\n{}",
        violations.join("\n")
    );
    assert!(drained, "not back to baseline after 30 s: {end:?}");
    assert_eq!(end.registered_names, base.registered_names, "names leaked");
    assert!(
        g(&t.processes) > 0 && g(&t.downs) > 0 && faults > 0,
        "the soak did nothing"
    );
    // Memory comes back. Heap in use (what is allocated and not freed) after the drain is
    // at most the warm mid-run sample plus 4 MB: a leak of tens of bytes per process shows
    // (the entry-closure leak fixed with this test grew it by ~30 B per process, 57 MB in
    // 10 s). RSS, which also counts what the allocator keeps cached, gets a looser bound.
    if rss_mid > 0 {
        assert!(
            heap_after <= heap_mid + 4 * 1024,
            "heap in use grew: {heap_mid} kB at 1/4, {heap_after} kB after the drain"
        );
        assert!(
            rss_after <= rss_mid + (rss_mid / 2).max(16 * 1024),
            "RSS grew: {rss_mid} kB at 1/4, {rss_after} kB after the drain"
        );
    }
}
