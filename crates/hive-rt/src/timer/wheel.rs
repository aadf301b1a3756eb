//! A hierarchical timer wheel (after tokio's `runtime/time/wheel` and the BEAM's
//! `erts/emulator/beam/time.c`), owned by one worker and touched by no other thread.
//!
//! 6 levels × 256 slots; level L's slots are 256^L ticks wide, so the wheel spans 2^48
//! ticks (about 290 years at 32.768 µs per tick), more than the largest timer (2^36 ms).
//! An entry with deadline `d` lives at the level of the highest 8-bit digit in which `d`
//! and the wheel's current time `elapsed` differ, in the slot given by `d`'s digit at that
//! level. Each level keeps a 256-bit `occupied` mask, so the next expiry is a few
//! trailing-zero counts, and each slot is an intrusive doubly linked list of entries kept
//! in a slab, so insert and cancel are O(1).
//!
//! Why 256 slots, not 64: when time reaches a higher-level slot, all its entries are
//! moved down at once (a cascade). With 64 slots a level-2 slot spans 134 ms, and a storm
//! of 1000 timers per ms cascaded 130k entries in one go: several ms during which nothing
//! fired, which made the storm's lateness p99 5–7 ms. With 256, timers under 2.1 s pass
//! through level 1 only, whose slots span 8.4 ms.
//!
//! Invariant: every occupied slot at level L has a digit ≥ the digit of `elapsed` at L, and
//! all its entries share `elapsed`'s digits above L. `advance` keeps it by processing slots
//! in time order and re-inserting (cascading) the entries of a higher-level slot when time
//! reaches it.

use crate::pid::Pid;

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 8;
const SLOTS: usize = 1 << SLOT_BITS;
/// 64-bit words of a level's occupied mask.
const WORDS: usize = SLOTS / 64;
const NIL: u32 = u32::MAX;

/// Handle to cancel an entry: its slab index and the generation it was inserted with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    gen: u32,
}

impl TimerKey {
    /// The key packed in a u64 (index << 32 | generation).
    pub(crate) fn to_u64(self) -> u64 {
        (u64::from(self.index) << 32) | u64::from(self.gen)
    }

    /// The key packed by [`TimerKey::to_u64`].
    pub(crate) fn from_u64(v: u64) -> TimerKey {
        TimerKey {
            index: (v >> 32) as u32,
            gen: v as u32,
        }
    }
}

/// What an entry does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fire {
    /// A receive (or sleep) timeout of process `pid`, valid while its `timer_seq` is `seq`.
    Receive { pid: Pid, seq: u32 },
    /// A user timer (`send_after`, `start_timer`): its slot in the timer table and the
    /// slot's generation.
    User { index: u32, gen: u32 },
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    deadline: u64,
    what: Fire,
    gen: u32,
    prev: u32,
    next: u32,
    /// level * SLOTS + slot while linked; NIL when free.
    home: u32,
}

/// Entries per slab chunk (160 KiB).
const CHUNK: usize = 4096;

/// The wheel's entries, in fixed chunks that never move. A `Vec` that doubled instead
/// copied up to 40 MB at a time under a million timers: with glibc's `realloc` that is a
/// cheap `mremap`, with mimalloc a copy into fresh pages, 20–60 ms during which the worker
/// fired nothing (the timer storm's lateness p99 went from ~1 ms to 50 ms).
#[derive(Debug, Default)]
struct Slab {
    chunks: Vec<Box<[Entry]>>,
    len: usize,
}

impl Slab {
    /// Entries created so far (free or not).
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: u32) -> Option<&Entry> {
        let i = i as usize;
        (i < self.len).then(|| &self[i])
    }

    /// Creates a free entry and returns its index.
    fn push(&mut self) -> u32 {
        if self.len == self.chunks.len() * CHUNK {
            let blank = Entry {
                deadline: 0,
                what: Fire::Receive {
                    pid: Pid::NONE,
                    seq: 0,
                },
                gen: 0,
                prev: NIL,
                next: NIL,
                home: NIL,
            };
            self.chunks.push(vec![blank; CHUNK].into_boxed_slice());
        }
        self.len += 1;
        (self.len - 1) as u32
    }
}

impl std::ops::Index<usize> for Slab {
    type Output = Entry;
    #[inline]
    fn index(&self, i: usize) -> &Entry {
        debug_assert!(i < self.len);
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl std::ops::IndexMut<usize> for Slab {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Entry {
        debug_assert!(i < self.len);
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// One worker's timer wheel.
#[derive(Debug)]
pub(crate) struct Wheel {
    elapsed: u64,
    heads: [[u32; SLOTS]; LEVELS],
    occupied: [[u64; WORDS]; LEVELS],
    entries: Slab,
    free: u32,
    len: usize,
    /// Where the next sweep step starts (0: no pass under way).
    sweep_at: usize,
}

impl Wheel {
    /// An empty wheel whose time starts at `now` (ticks).
    pub(crate) fn new(now: u64) -> Wheel {
        Wheel {
            elapsed: now,
            heads: [[NIL; SLOTS]; LEVELS],
            occupied: [[0; WORDS]; LEVELS],
            entries: Slab::default(),
            free: NIL,
            len: 0,
            sweep_at: 0,
        }
    }

    /// Pending entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a timer for process `pid` (receive timeout sequence `seq`) at `deadline` ticks.
    /// Returns None when the deadline has already passed: the caller handles it at once.
    pub(crate) fn insert(&mut self, deadline: u64, pid: Pid, seq: u32) -> Option<TimerKey> {
        self.insert_fire(deadline, Fire::Receive { pid, seq })
    }

    /// Adds an entry that does `what` at `deadline` ticks; None when the deadline passed.
    pub(crate) fn insert_fire(&mut self, deadline: u64, what: Fire) -> Option<TimerKey> {
        if deadline <= self.elapsed {
            return None;
        }
        let index = if self.free != NIL {
            let i = self.free;
            self.free = self.entries[i as usize].next;
            i
        } else {
            self.entries.push()
        };
        let e = &mut self.entries[index as usize];
        e.deadline = deadline;
        e.what = what;
        e.gen = e.gen.wrapping_add(1);
        let gen = e.gen;
        self.link(index);
        self.len += 1;
        Some(TimerKey { index, gen })
    }

    /// Cancels an entry. Returns false when it already fired or was cancelled.
    pub(crate) fn cancel(&mut self, key: TimerKey) -> bool {
        match self.entries.get(key.index) {
            Some(e) if e.gen == key.gen && e.home != NIL => {}
            _ => return false,
        }
        self.unlink(key.index);
        self.release(key.index);
        true
    }

    /// The earliest tick at which `advance` has work, if any entry is pending.
    pub(crate) fn next_expiry(&self) -> Option<u64> {
        self.next_slot().map(|(_, _, t)| t)
    }

    /// Moves time to `now` (ticks), calling `fire` for every entry whose deadline is ≤ `now`,
    /// in deadline order (ties in any order).
    pub(crate) fn advance(&mut self, now: u64, mut fire: impl FnMut(Fire)) {
        while let Some((level, slot, t)) = self.next_slot() {
            if t > now {
                break;
            }
            self.elapsed = self.elapsed.max(t);
            // Detach the whole slot, then fire or cascade each entry.
            let mut i = self.heads[level][slot];
            self.heads[level][slot] = NIL;
            self.clear_occupied(level, slot);
            while i != NIL {
                let next = self.entries[i as usize].next;
                let e = self.entries[i as usize];
                if e.deadline <= self.elapsed {
                    self.entries[i as usize].home = NIL;
                    self.release(i);
                    fire(e.what);
                } else {
                    self.link(i);
                }
                i = next;
            }
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// One step of a sweep: looks at up to `budget` slab entries from where the last step
    /// stopped, removes those for which `dead` is true (cancelled user timers) and hands
    /// each to `gone`. Returns true when this step finished a pass over the slab. Bounded
    /// steps keep a sweep from delaying due timers (a whole pass over a million entries
    /// took 20–30 ms).
    pub(crate) fn sweep_step(
        &mut self,
        budget: usize,
        mut dead: impl FnMut(Fire) -> bool,
        mut gone: impl FnMut(Fire),
    ) -> bool {
        let end = (self.sweep_at + budget).min(self.entries.len());
        for i in self.sweep_at..end {
            let e = self.entries[i];
            if e.home != NIL && dead(e.what) {
                self.unlink(i as u32);
                self.release(i as u32);
                gone(e.what);
            }
        }
        if end >= self.entries.len() {
            self.sweep_at = 0;
            true
        } else {
            self.sweep_at = end;
            false
        }
    }

    /// True while a sweep pass is under way.
    pub(crate) fn sweeping(&self) -> bool {
        self.sweep_at != 0
    }

    /// Removes every pending entry and returns what each would have done (shutdown).
    pub(crate) fn drain(&mut self) -> Vec<Fire> {
        let mut out = Vec::with_capacity(self.len);
        for i in 0..self.entries.len() {
            if self.entries[i].home != NIL {
                out.push(self.entries[i].what);
                self.unlink(i as u32);
                self.release(i as u32);
            }
        }
        out
    }

    /// (level, slot, start tick) of the earliest occupied slot.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        for level in 0..LEVELS {
            let shift = SLOT_BITS * level as u32;
            let cur = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            // Occupied slots are never behind `elapsed`'s digit (module invariant).
            debug_assert!(self.first_occupied(level, 0).is_none_or(|s| s >= cur));
            let Some(slot) = self.first_occupied(level, cur) else {
                continue;
            };
            let window = self.elapsed & !((1u64 << (shift + SLOT_BITS)) - 1);
            let start = window + ((slot as u64) << shift);
            if best.is_none_or(|(_, _, t)| start < t) {
                best = Some((level, slot, start));
            }
        }
        best
    }

    /// The first occupied slot of `level` at or after `from`.
    fn first_occupied(&self, level: usize, from: usize) -> Option<usize> {
        let words = &self.occupied[level];
        let mut w = from / 64;
        let mut bits = words[w] & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            if w == WORDS {
                return None;
            }
            bits = words[w];
        }
    }

    fn set_occupied(&mut self, level: usize, slot: usize) {
        self.occupied[level][slot / 64] |= 1 << (slot % 64);
    }

    fn clear_occupied(&mut self, level: usize, slot: usize) {
        self.occupied[level][slot / 64] &= !(1 << (slot % 64));
    }

    fn level_for(&self, deadline: u64) -> usize {
        // Highest differing bit, ignoring the level-0 digit.
        let masked = (self.elapsed ^ deadline) | (SLOTS as u64 - 1);
        let significant = 63 - masked.leading_zeros();
        (significant / SLOT_BITS) as usize
    }

    fn link(&mut self, i: u32) {
        let deadline = self.entries[i as usize].deadline;
        let level = self.level_for(deadline).min(LEVELS - 1);
        let slot = ((deadline >> (SLOT_BITS * level as u32)) as usize) & (SLOTS - 1);
        let head = self.heads[level][slot];
        {
            let e = &mut self.entries[i as usize];
            e.prev = NIL;
            e.next = head;
            e.home = (level * SLOTS + slot) as u32;
        }
        if head != NIL {
            self.entries[head as usize].prev = i;
        }
        self.heads[level][slot] = i;
        self.set_occupied(level, slot);
    }

    fn unlink(&mut self, i: u32) {
        let e = self.entries[i as usize];
        let (level, slot) = (e.home as usize / SLOTS, e.home as usize % SLOTS);
        if e.prev != NIL {
            self.entries[e.prev as usize].next = e.next;
        } else {
            self.heads[level][slot] = e.next;
            if e.next == NIL {
                self.clear_occupied(level, slot);
            }
        }
        if e.next != NIL {
            self.entries[e.next as usize].prev = e.prev;
        }
        self.entries[i as usize].home = NIL;
    }

    fn release(&mut self, i: u32) {
        let e = &mut self.entries[i as usize];
        e.home = NIL;
        e.next = self.free;
        self.free = i;
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq_of(f: Fire) -> u32 {
        match f {
            Fire::Receive { seq, .. } => seq,
            Fire::User { .. } => unreachable!("tests insert receive timeouts only"),
        }
    }

    fn fired(w: &mut Wheel, now: u64) -> Vec<u32> {
        let mut v = Vec::new();
        w.advance(now, |f| v.push(seq_of(f)));
        v
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let mut w = Wheel::new(100);
        w.insert(105, Pid(1), 1).unwrap();
        assert_eq!(w.next_expiry(), Some(105));
        assert!(fired(&mut w, 104).is_empty());
        assert_eq!(fired(&mut w, 105), vec![1]);
        assert_eq!(w.len(), 0);
        assert_eq!(w.next_expiry(), None);
    }

    #[test]
    fn past_deadline_is_refused() {
        let mut w = Wheel::new(100);
        assert!(w.insert(100, Pid(1), 1).is_none());
        assert!(w.insert(3, Pid(1), 1).is_none());
    }

    #[test]
    fn far_timers_cascade_down_and_fire_in_order() {
        let mut w = Wheel::new(0);
        let deadlines = [70u64, 5, 4096 + 3, 64 * 64 * 64 + 17, 1 << 40, 63, 64, 65];
        for (i, d) in deadlines.iter().enumerate() {
            w.insert(*d, Pid(1), i as u32).unwrap();
        }
        let mut order = Vec::new();
        let mut now = 0;
        while let Some(t) = w.next_expiry() {
            assert!(t >= now, "expiry went backwards");
            now = t;
            w.advance(now, |f| order.push((now, deadlines[seq_of(f) as usize])));
        }
        let mut sorted = deadlines.to_vec();
        sorted.sort();
        assert_eq!(order.iter().map(|x| x.1).collect::<Vec<_>>(), sorted);
        for (at, d) in order {
            assert_eq!(at, d, "fired at {at}, deadline {d}");
        }
    }

    #[test]
    fn cancel_is_exact_and_idempotent() {
        let mut w = Wheel::new(0);
        let a = w.insert(10, Pid(1), 1).unwrap();
        let b = w.insert(10, Pid(1), 2).unwrap();
        let c = w.insert(10, Pid(1), 3).unwrap();
        assert!(w.cancel(b));
        assert!(!w.cancel(b));
        assert_eq!(fired(&mut w, 10).len(), 2);
        assert!(!w.cancel(a), "already fired");
        assert!(!w.cancel(c));
        // The slab slot of `b` is reused with a new generation: the old key stays dead.
        let d = w.insert(20, Pid(1), 4).unwrap();
        assert!(!w.cancel(b));
        assert!(w.cancel(d));
    }

    #[test]
    fn randomized_against_a_sorted_model() {
        // A small LCG keeps the test deterministic.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        let mut w = Wheel::new(1000);
        let mut model: Vec<(u64, u32, TimerKey)> = Vec::new();
        let mut now = 1000;
        for round in 0..2000u32 {
            match rnd() % 4 {
                0 | 1 => {
                    let d = now + 1 + rnd() % (1 << (rnd() % 30));
                    let k = w.insert(d, Pid(1), round).unwrap();
                    model.push((d, round, k));
                }
                2 if !model.is_empty() => {
                    let i = (rnd() as usize) % model.len();
                    let (_, _, k) = model.swap_remove(i);
                    assert!(w.cancel(k));
                }
                _ => {
                    now += rnd() % 5000;
                    let mut got = fired(&mut w, now);
                    let mut want: Vec<u32> =
                        model.iter().filter(|m| m.0 <= now).map(|m| m.1).collect();
                    model.retain(|m| m.0 > now);
                    got.sort();
                    want.sort();
                    assert_eq!(got, want, "round {round}");
                }
            }
            assert_eq!(w.len(), model.len());
        }
    }
}
