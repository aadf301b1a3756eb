//! The soak's table of one tree of processes: each node's spec (drawn by its parent) and
//! the exit reason its terminate callback saw, checked against the reasons the BEAM allows
//! (`Tree::record_exit`).

use super::{bump, violation, Rng, MAX_MSGS, NEXT_ID, TOTALS, TREES_ALIVE};
use hive_rt::ExitReason;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

/// How a node ends when nothing kills it first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
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
    pub(crate) fn by_parent(self) -> bool {
        matches!(self, Fate::KilledByParent | Fate::ExitByParent)
    }
}

/// What a parent decides about a child before spawning it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    pub(crate) id: u64,
    pub(crate) parent_id: u64,
    pub(crate) depth: u32,
    pub(crate) seed: u64,
    pub(crate) link: bool,
    pub(crate) trap: bool,
    pub(crate) name: bool,
    pub(crate) msgs: u64,
    pub(crate) fate: Fate,
}

impl Spec {
    pub(crate) fn draw(rng: &mut Rng, parent_id: u64, depth: u32) -> Spec {
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
    pub(crate) fn fate_reason(&self) -> ExitReason {
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
pub(crate) struct Tree {
    recs: Mutex<HashMap<u64, Rec>>,
}

impl Tree {
    pub(crate) fn new() -> Arc<Tree> {
        TREES_ALIVE.fetch_add(1, Relaxed);
        Arc::new(Tree {
            recs: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn insert(&self, spec: Spec) {
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

    pub(crate) fn reason_of(&self, id: u64) -> Option<ExitReason> {
        self.recs
            .lock()
            .unwrap()
            .get(&id)
            .and_then(|r| r.reason.clone())
    }

    /// Checks `reason` against what the BEAM allows for node `id` and records it.
    pub(crate) fn record_exit(&self, id: u64, reason: &ExitReason) {
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
