//! The pid table: pid → PCB without a lock.
//!
//! An array of slots sized at boot (`Config::max_processes`), each `{pcb, serial}`. A lookup
//! is two loads and a compare: Acquire-load the slot's PCB pointer, compare the PCB's
//! immutable `pid` with the one asked for. It writes nothing, so lookups from all workers
//! never contend (BEAM's process table, `erts/emulator/internal_doc/PTables.md`).
//!
//! ## Memory reclamation
//! A PCB is freed only through crossbeam-epoch: the exit path clears the slot and *defers*
//! the free. Every reader is pinned: workers stay pinned while they run processes and
//! re-pin between runs (a quiescent point), non-worker threads pin for the duration of
//! each call. So a reader that loaded a PCB pointer can always dereference it; a reader that
//! loaded a stale pointer finds either a different `pid` (slot reused) or an exited state.
//!
//! ## Index reuse
//! Never-used indices are handed out first (bump); freed ones go to a FIFO queue, so a slot
//! is reused only after all slots freed before it. Each reuse bumps the slot's serial;
//! a slot whose serial reaches `Pid::MAX_SERIAL` is retired for good. Together: a pid is
//! never issued twice while the runtime lives.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use crossbeam_queue::SegQueue;

use super::pcb::Pcb;
use crate::pid::Pid;
use crate::status::Status;
use crate::sync::{AtomicPtr, AtomicUsize};

#[repr(C)]
struct Slot {
    pcb: AtomicPtr<Pcb>,
    /// Serial of the pid most recently issued for this slot (0 = never used).
    serial: AtomicU32,
}

/// The table.
pub(crate) struct PidTable {
    slots: NonNull<Slot>,
    capacity: usize,
    bump: AtomicUsize,
    free: SegQueue<u32>,
    live: AtomicUsize,
}

// SAFETY: the slots are atomics, shared by design; the raw pointer is an owned allocation.
unsafe impl Send for PidTable {}
// SAFETY: a shared `&PidTable` reaches the slots only through their atomics, the
// SegQueue and the counters are Sync, and `slots` is never reallocated while it lives.
unsafe impl Sync for PidTable {}

impl std::fmt::Debug for PidTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PidTable")
            .field("capacity", &self.capacity)
            .field("live", &self.live())
            .finish()
    }
}

impl PidTable {
    fn layout(capacity: usize) -> Layout {
        Layout::array::<Slot>(capacity).expect("pid table layout")
    }

    /// A table for `capacity` processes (a power of two ≤ 2^24).
    pub(crate) fn new(capacity: usize) -> Result<PidTable, Status> {
        // Zeroed memory: large zeroed allocations come from fresh anonymous pages, so the
        // table costs nothing until slots are used.
        // SAFETY: the layout is non-zero sized (capacity ≥ 1).
        let p = unsafe { alloc::alloc_zeroed(Self::layout(capacity)) } as *mut Slot;
        // An all-zero `Slot` is valid: a null AtomicPtr and a zero AtomicU32.
        let slots = NonNull::new(p).ok_or(Status::ErrNoMemory)?;
        Ok(PidTable {
            slots,
            capacity,
            bump: AtomicUsize::new(0),
            free: SegQueue::new(),
            live: AtomicUsize::new(0),
        })
    }

    fn slot(&self, index: usize) -> &Slot {
        debug_assert!(index < self.capacity);
        // SAFETY: index < capacity, and the allocation lives as long as `self`.
        unsafe { &*self.slots.as_ptr().add(index) }
    }

    /// Processes currently in the table.
    pub(crate) fn live(&self) -> usize {
        self.live.load(Relaxed)
    }

    /// Issues a fresh pid and publishes `pcb` under it. `init` is called with the pid before
    /// the PCB becomes visible, to write the pid into it.
    pub(crate) fn insert(&self, pcb: *mut Pcb, init: impl FnOnce(Pid)) -> Result<Pid, Status> {
        loop {
            let index = match self.free.pop() {
                Some(i) => i as usize,
                None => {
                    let i = self.bump.fetch_add(1, Relaxed);
                    if i >= self.capacity {
                        self.bump.fetch_sub(1, Relaxed);
                        // A slot may have been freed since we looked.
                        match self.free.pop() {
                            Some(i) => i as usize,
                            None => return Err(Status::ErrSystemLimit),
                        }
                    } else {
                        i
                    }
                }
            };
            let slot = self.slot(index);
            // This index is ours alone now: only the holder of a free index writes serial.
            let serial = slot.serial.load(Relaxed) + 1;
            if serial > Pid::MAX_SERIAL {
                continue; // retired: never handed out again
            }
            slot.serial.store(serial, Relaxed);
            let pid = Pid::local(index as u32, serial);
            init(pid);
            // Release: the PCB's contents (pid included) are visible to any Acquire lookup.
            slot.pcb.store(pcb, Release);
            self.live.fetch_add(1, Relaxed);
            return Ok(pid);
        }
    }

    /// The PCB of a live (not yet removed) process.
    ///
    /// The caller must be pinned (see module docs) for as long as it uses the pointer.
    ///
    /// The pid is checked against the slot's serial, not the PCB's `pid`, so a lookup reads
    /// only the table (whose lines stay shared between cores) and not the PCB (whose lines
    /// senders and the owner keep writing). Why that is exact: `insert` writes the serial
    /// before it publishes the PCB (Release), so a reader that Acquire-loads the new PCB
    /// reads the new serial; a reader holding an older PCB either reads that PCB's serial
    /// (the process is live or exiting, which the state word tells) or a newer one (no match).
    pub(crate) fn lookup(&self, pid: Pid) -> Option<NonNull<Pcb>> {
        let index = pid.index() as usize;
        if index >= self.capacity || pid.node() != 0 || pid.is_none() {
            return None;
        }
        let slot = self.slot(index);
        let p = NonNull::new(slot.pcb.load(Acquire))?;
        if slot.serial.load(Relaxed) == pid.serial() {
            debug_assert_eq!(
                // SAFETY: pinned (see above); `pid` never changes after publication.
                unsafe { p.as_ref().pid },
                pid
            );
            Some(p)
        } else {
            None
        }
    }

    /// True when this table issued `pid` at some point (it may have exited since): its
    /// index was handed out and its slot's serial has reached the pid's. A pid that was
    /// never issued (a forged one, another node's) gives false. Serials only grow, so once
    /// true, always true.
    pub(crate) fn was_issued(&self, pid: Pid) -> bool {
        let index = pid.index() as usize;
        if pid.node() != 0 || pid.is_none() || index >= self.bump.load(Acquire).min(self.capacity) {
            return false;
        }
        self.slot(index).serial.load(Acquire) >= pid.serial()
    }

    /// Removes a process; its index becomes reusable (with a new serial).
    pub(crate) fn remove(&self, pid: Pid) {
        let slot = self.slot(pid.index() as usize);
        debug_assert_eq!(
            // SAFETY: the caller is the exit path of this very process; the PCB is live.
            unsafe { (*slot.pcb.load(Relaxed)).pid },
            pid
        );
        slot.pcb.store(ptr::null_mut(), Release);
        self.live.fetch_sub(1, Relaxed);
        self.free.push(pid.index());
    }

    /// Every PCB still in the table (shutdown, after all workers stopped).
    pub(crate) fn drain_live(&self) -> Vec<NonNull<Pcb>> {
        let used = self.bump.load(Relaxed).min(self.capacity);
        (0..used)
            .filter_map(|i| NonNull::new(self.slot(i).pcb.load(Acquire)))
            .collect()
    }
}

impl Drop for PidTable {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { alloc::dealloc(self.slots.as_ptr() as *mut u8, Self::layout(self.capacity)) }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::config::Priority;
    use crate::process::pcb::Entry;

    /// A PCB that never runs (no runtime, no entry), owned by the test through a raw
    /// pointer as the runtime owns it.
    fn pcb() -> *mut Pcb {
        Box::into_raw(Pcb::new(Priority::Normal, Entry::Taken, ptr::null()))
    }

    /// Publishes `p` under a fresh pid, as `RtInner::spawn` does.
    fn insert(t: &PidTable, p: *mut Pcb) -> Result<Pid, Status> {
        // SAFETY: the test owns `p`, which nobody else can see before `insert` publishes it.
        t.insert(p, |pid| unsafe { (*p).pid = pid })
    }

    fn free(p: *mut Pcb) {
        // SAFETY: made by `pcb()` with `Box::into_raw`, removed from its table, freed once.
        drop(unsafe { Box::from_raw(p) });
    }

    #[test]
    fn a_pid_resolves_until_removed_and_never_again() {
        let t = PidTable::new(4).unwrap();
        let p = pcb();
        let pid = insert(&t, p).unwrap();
        assert_eq!(t.lookup(pid).map(NonNull::as_ptr), Some(p));
        assert!(t.was_issued(pid));
        assert_eq!(t.live(), 1);
        t.remove(pid);
        assert_eq!(t.lookup(pid), None);
        assert!(t.was_issued(pid), "once issued, always issued");
        assert_eq!(t.live(), 0);
        free(p);
        // Forged pids: another index, another serial, another node, none.
        assert_eq!(t.lookup(Pid::local(pid.index(), pid.serial() + 1)), None);
        assert!(!t.was_issued(Pid::local(pid.index(), pid.serial() + 1)));
        assert!(!t.was_issued(Pid::local(3, 1)), "index never handed out");
        assert_eq!(
            t.lookup(Pid::local(100, 1)),
            None,
            "index past the capacity"
        );
        assert_eq!(t.lookup(Pid::NONE), None);
    }

    #[test]
    fn a_full_table_refuses_and_freed_indices_come_back_fifo_with_new_serials() {
        let t = PidTable::new(2).unwrap();
        let (a, b, c) = (pcb(), pcb(), pcb());
        let pa = insert(&t, a).unwrap();
        let pb = insert(&t, b).unwrap();
        assert_ne!(pa.index(), pb.index());
        assert_eq!(insert(&t, c), Err(Status::ErrSystemLimit));
        t.remove(pa);
        t.remove(pb);
        // The index freed first is reused first, under a new serial: the old pid stays dead.
        let pc = insert(&t, c).unwrap();
        assert_eq!(pc.index(), pa.index());
        assert_eq!(pc.serial(), pa.serial() + 1);
        assert_eq!(t.lookup(pa), None);
        assert_eq!(t.lookup(pc).map(NonNull::as_ptr), Some(c));
        let live: Vec<*mut Pcb> = t.drain_live().into_iter().map(NonNull::as_ptr).collect();
        assert_eq!(live, vec![c]);
        t.remove(pc);
        for p in [a, b, c] {
            free(p);
        }
    }

    #[test]
    fn a_slot_whose_serial_is_used_up_is_retired() {
        let t = PidTable::new(2).unwrap();
        // Slot 0 has issued its last serial; the next insert skips it for good.
        t.slot(0).serial.store(Pid::MAX_SERIAL, Relaxed);
        t.bump.store(1, Relaxed);
        t.free.push(0);
        let p = pcb();
        let pid = insert(&t, p).unwrap();
        assert_eq!((pid.index(), pid.serial()), (1, 1));
        t.remove(pid);
        free(p);
    }
}
