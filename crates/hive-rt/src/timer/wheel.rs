//! A hierarchical timer wheel (after tokio's `runtime/time/wheel` and the BEAM's
//! `erts/emulator/beam/time.c`), owned by one worker and touched by no other thread.
//!
//! 6 levels; level L's slots are 256^L ticks wide (a *position* at level L is
//! `tick >> 8L`), so the wheel spans 2^48 ticks (about 290 years at 32.768 µs per tick),
//! more than the largest timer (2^36 ms). Each level is a ring of 512 slots: two windows of
//! 256, the one `elapsed` is in (one slot of the level above) and the next. An item with
//! deadline `d` goes to the lowest level L whose ring reaches it (`d`'s position at L + 1
//! is `elapsed`'s or the next), in slot `(d >> 8L) mod 512`. Each level keeps a 512-bit
//! `occupied` mask, so the next expiry is a few trailing-zero counts.
//!
//! Each slot is a vector of items `(deadline, entry index, entry generation)`; what a timer
//! does lives in a slab entry. Insert pushes an item. Cancel only frees the entry (its
//! generation then no longer matches the item's): the item stays behind as a *tombstone*,
//! skipped when its slot fires, dropped when the wheel holds no live entry, and swept (a
//! bounded step at a time, [`Wheel::sweep_step`]) once tombstones are at least half of the
//! items. Moving a slot down a level (a cascade) moves its items without touching the
//! entries.
//!
//! Why items, not intrusive linked lists of entries: the entries of one slot sit anywhere
//! in the slab (timers are set in any order), and under a storm of a million timers the
//! slab (tens of MB) is bigger than the cache. A linked list would make a cascade a chain
//! of dependent cache misses, during which nothing fires (a level-1 slot of a storm holds
//! thousands of entries). Items carry what a cascade needs, so it reads and writes vectors
//! in order; firing still reads each entry, prefetched `PREFETCH_AHEAD` items ahead.
//! Measurements: `docs/benchmarks.md`, "Measurements behind code comments (2026-12-03)".
//!
//! Why two windows per ring: a slot of level L ≥ 1 that cascaded only when time reached it
//! would move all at once. Its size is whatever was set for that span: timers set up to 1 s
//! ahead in a storm fill the next level-2 slot (2.1 s wide) with half a million items, and
//! reaching it would stop the worker for tens of ms. With room for the next window one
//! level down, the slot that time reaches next at each level can move down *ahead of
//! time*: the worker moves `PRECASCADE_STEP` items per scheduling round
//! ([`Wheel::precascade_step`]), and does not park while some are left, so reaching the
//! slot finds it (nearly) empty.
//!
//! Invariant: an item at level L has a position at L in `[p, p + 512)`, where `p` is
//! `elapsed`'s position at L, and no item is due before the earliest occupied slot's start.
//! `advance` keeps it by processing slots in time order and re-inserting (cascading) the
//! items of a higher-level slot when time reaches it; insert and the precascade place
//! items by the rule above, which keeps them inside their level's ring.

use crate::pid::Pid;

const LEVELS: usize = 6;
/// Bits of a level's digit: level L's slots are 2^(SLOT_BITS * L) ticks wide.
const SLOT_BITS: u32 = 8;
/// Slots per level: a ring of two windows of 256 (the current window of the level above and
/// the next one).
const SLOTS: usize = 2 << SLOT_BITS;
/// 64-bit words of a level's occupied mask.
const WORDS: usize = SLOTS / 64;
/// Items one [`Wheel::precascade_step`] moves at most (a few µs).
const PRECASCADE_STEP: usize = 512;
/// Ends the free list.
const NIL: u32 = u32::MAX;
/// [`Entry::link`] of a pending entry.
const LIVE: u32 = u32::MAX - 1;
/// How many items ahead a walk over a slot prefetches their entries.
const PREFETCH_AHEAD: usize = 8;

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

/// A pending timer's payload, in the slab.
#[derive(Clone, Copy, Debug)]
struct Entry {
    what: Fire,
    /// Bumped by every insert into this entry: an item or key of another generation is
    /// stale.
    gen: u32,
    /// [`LIVE`] while pending; while free, the next free entry ([`NIL`] ends the list).
    link: u32,
}

impl Entry {
    /// Whether this entry is pending with generation `gen` (an item or key of another
    /// generation, or of a freed entry, is stale).
    fn live_as(&self, gen: u32) -> bool {
        self.gen == gen && self.link == LIVE
    }
}

/// A slot's reference to an entry, with the deadline (ticks) a cascade needs. A tombstone
/// when the entry is no longer live with this generation.
#[derive(Clone, Copy, Debug)]
struct Item {
    deadline: u64,
    index: u32,
    gen: u32,
}

/// Entries per slab chunk (96 KiB).
const CHUNK: usize = 4096;

/// The wheel's entries, in fixed chunks that never move. A `Vec` that doubled instead would
/// copy up to 40 MB at a time under a million timers: with glibc's `realloc` that is a
/// cheap `mremap`, with mimalloc a copy into fresh pages, tens of ms during which the
/// worker fires nothing (measurements: `docs/benchmarks.md`, "Measurements behind code
/// comments (2026-12-03)").
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
                what: Fire::Receive {
                    pid: Pid::NONE,
                    seq: 0,
                },
                gen: 0,
                link: NIL,
            };
            self.chunks.push(vec![blank; CHUNK].into_boxed_slice());
        }
        assert!(self.len < LIVE as usize, "timer wheel slab full");
        self.len += 1;
        (self.len - 1) as u32
    }

    /// Hints the cache to load entry `i` (nothing when `i` is out of range).
    #[inline]
    fn prefetch(&self, i: u32) {
        let i = i as usize;
        if i < self.len {
            crate::sync::prefetch(&self.chunks[i / CHUNK][i % CHUNK] as *const Entry as usize);
        }
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
    /// The items of each slot, `level * SLOTS + slot`, in no order. A vector keeps its
    /// capacity when its slot empties (the slot comes round again every 256^(level+1)
    /// ticks), so the wheel's memory stays at its peak, like the slab's.
    slots: Box<[Vec<Item>]>,
    occupied: [[u64; WORDS]; LEVELS],
    entries: Slab,
    free: u32,
    /// Live entries.
    len: usize,
    /// Items in all slots, live or tombstones.
    items: usize,
    /// Where the next sweep step starts (slot, position in it); None when no pass is under
    /// way.
    sweep_at: Option<(usize, usize)>,
}

impl Wheel {
    /// An empty wheel whose time starts at `now` (ticks).
    pub(crate) fn new(now: u64) -> Wheel {
        Wheel {
            elapsed: now,
            slots: (0..LEVELS * SLOTS).map(|_| Vec::new()).collect(),
            occupied: [[0; WORDS]; LEVELS],
            entries: Slab::default(),
            free: NIL,
            len: 0,
            items: 0,
            sweep_at: None,
        }
    }

    /// Pending entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Items in the slots: the pending entries plus the tombstones of cancelled ones.
    pub(crate) fn items(&self) -> usize {
        self.items
    }

    /// Items left behind by cancels (see the module docs). 0 whenever `len()` is 0.
    pub(crate) fn tombstones(&self) -> usize {
        self.items - self.len
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
            self.free = self.entries[i as usize].link;
            i
        } else {
            self.entries.push()
        };
        let e = &mut self.entries[index as usize];
        e.what = what;
        e.gen = e.gen.wrapping_add(1);
        e.link = LIVE;
        let gen = e.gen;
        self.push_item(Item {
            deadline,
            index,
            gen,
        });
        self.len += 1;
        self.items += 1;
        Some(TimerKey { index, gen })
    }

    /// Cancels an entry. Returns false when it already fired or was cancelled.
    pub(crate) fn cancel(&mut self, key: TimerKey) -> bool {
        match self.entries.get(key.index) {
            Some(e) if e.live_as(key.gen) => {}
            _ => return false,
        }
        self.release(key.index);
        self.clear_if_empty();
        true
    }

    /// The earliest tick at which `advance` has work, if any item is in a slot.
    pub(crate) fn next_expiry(&self) -> Option<u64> {
        self.next_slot().map(|(_, _, t)| t)
    }

    /// The slot of level `level` (≥ 1) that time reaches next, if it holds items: they can
    /// already go one level down (see the module docs).
    fn precascade_target(&self, level: usize) -> Option<usize> {
        let shift = SLOT_BITS * level as u32;
        let slot = (((self.elapsed >> shift) + 1) as usize) & (SLOTS - 1);
        self.is_occupied(level, slot).then_some(slot)
    }

    /// Whether some items can be moved down ahead of time ([`Wheel::precascade_step`]).
    pub(crate) fn precascade_pending(&self) -> bool {
        (1..LEVELS).any(|level| self.precascade_target(level).is_some())
    }

    /// Moves up to `PRECASCADE_STEP` items of the slots that time reaches next at levels
    /// ≥ 1 one level (or more) down, so that when time gets there those slots are small
    /// or empty and `advance` does not stall on a cascade. Returns true when nothing is
    /// left to move.
    pub(crate) fn precascade_step(&mut self) -> bool {
        let mut left = PRECASCADE_STEP;
        for level in 1..LEVELS {
            let Some(slot) = self.precascade_target(level) else {
                continue;
            };
            let home = level * SLOTS + slot;
            while left > 0 {
                let Some(it) = self.slots[home].pop() else {
                    break;
                };
                left -= 1;
                self.push_item(it);
            }
            if !self.slots[home].is_empty() {
                return false;
            }
            self.clear_occupied(level, slot);
        }
        true
    }

    /// [`Wheel::advance_ahead`] without the look-ahead.
    #[cfg(test)]
    pub(crate) fn advance(&mut self, now: u64, fire: impl FnMut(Fire)) {
        self.advance_ahead(now, |_| {}, fire)
    }

    /// Moves time to `now` (ticks), calling `fire` for every entry whose deadline is ≤ `now`,
    /// in deadline order (ties in any order), and `ahead` with what an entry does
    /// `PREFETCH_AHEAD` entries before `fire` gets it, so that the caller can prefetch what
    /// firing it will touch (a user timer's slot): firing is then not one cache miss after
    /// another. Every entry handed to `ahead` is fired by the same call.
    pub(crate) fn advance_ahead(
        &mut self,
        now: u64,
        mut ahead: impl FnMut(Fire),
        mut fire: impl FnMut(Fire),
    ) {
        while let Some((level, slot, t)) = self.next_slot() {
            if t > now {
                break;
            }
            self.elapsed = self.elapsed.max(t);
            // Detach the whole slot, then fire or cascade each item. Cascaded items go to
            // lower levels, never back to this slot, so it is empty afterwards and gets its
            // vector (and capacity) back.
            let home = level * SLOTS + slot;
            let mut list = std::mem::take(&mut self.slots[home]);
            self.clear_occupied(level, slot);
            for (k, it) in list.iter().enumerate() {
                if it.deadline > self.elapsed {
                    self.push_item(*it);
                    continue;
                }
                if level == 0 {
                    // Two stages: the entry 2 × PREFETCH_AHEAD items ahead is prefetched;
                    // PREFETCH_AHEAD items later it has (likely) arrived and says what the
                    // caller should prefetch for it.
                    if let Some(far) = list.get(k + 2 * PREFETCH_AHEAD) {
                        self.entries.prefetch(far.index);
                    }
                    if let Some(near) = list.get(k + PREFETCH_AHEAD) {
                        let e = &self.entries[near.index as usize];
                        if e.live_as(near.gen) {
                            ahead(e.what);
                        }
                    }
                }
                self.items -= 1;
                let e = self.entries[it.index as usize];
                if e.live_as(it.gen) {
                    self.release(it.index);
                    fire(e.what);
                }
            }
            debug_assert!(self.slots[home].is_empty());
            list.clear();
            self.slots[home] = list;
        }
        self.elapsed = self.elapsed.max(now);
        self.clear_if_empty();
    }

    /// One step of a sweep: looks at up to `budget` items from where the last step stopped
    /// and drops the tombstones and the items of live entries for which `dead` is true
    /// (cancelled user timers), handing each such entry's `what` to `gone`. Returns true
    /// when this step finished a pass over the slots. Bounded steps keep a sweep from
    /// delaying due timers (a whole pass over a million items takes tens of ms).
    pub(crate) fn sweep_step(
        &mut self,
        budget: usize,
        mut dead: impl FnMut(Fire) -> bool,
        mut gone: impl FnMut(Fire),
    ) -> bool {
        let (mut home, mut pos) = self.sweep_at.unwrap_or((0, 0));
        let mut left = budget;
        while left > 0 && home < LEVELS * SLOTS {
            let list = &self.slots[home];
            let Some(&it) = list.get(pos) else {
                home += 1;
                pos = 0;
                continue;
            };
            if let Some(ahead) = list.get(pos + PREFETCH_AHEAD) {
                self.entries.prefetch(ahead.index);
            }
            left -= 1;
            let e = self.entries[it.index as usize];
            let live = e.live_as(it.gen);
            if live && !dead(e.what) {
                pos += 1;
                continue;
            }
            // Order within a slot does not matter: swap the last item in and look at it next.
            let list = &mut self.slots[home];
            list.swap_remove(pos);
            if list.is_empty() {
                self.clear_occupied(home / SLOTS, home % SLOTS);
            }
            self.items -= 1;
            if live {
                self.release(it.index);
                gone(e.what);
            }
        }
        self.clear_if_empty();
        if home >= LEVELS * SLOTS || self.items == 0 {
            self.sweep_at = None;
            true
        } else {
            self.sweep_at = Some((home, pos));
            false
        }
    }

    /// True while a sweep pass is under way.
    pub(crate) fn sweeping(&self) -> bool {
        self.sweep_at.is_some()
    }

    /// Removes every pending entry and returns what each would have done (shutdown).
    pub(crate) fn drain(&mut self) -> Vec<Fire> {
        let mut out = Vec::with_capacity(self.len);
        for i in 0..self.entries.len() {
            if self.entries[i].link == LIVE {
                out.push(self.entries[i].what);
                self.release(i as u32);
            }
        }
        self.clear_if_empty();
        out
    }

    /// With no live entry left, every item is a tombstone: drop them all (a look at each
    /// occupied slot), so a wheel that goes quiet holds no garbage and wakes nobody.
    fn clear_if_empty(&mut self) {
        if self.len != 0 || self.items == 0 {
            return;
        }
        for level in 0..LEVELS {
            for w in 0..WORDS {
                let mut bits = self.occupied[level][w];
                while bits != 0 {
                    let slot = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    self.slots[level * SLOTS + slot].clear();
                }
                self.occupied[level][w] = 0;
            }
        }
        self.items = 0;
        self.sweep_at = None;
    }

    /// (level, slot, start tick) of the earliest occupied slot.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        for level in 0..LEVELS {
            let shift = SLOT_BITS * level as u32;
            let pos = self.elapsed >> shift;
            let cur = (pos as usize) & (SLOTS - 1);
            // The ring holds positions pos..pos+SLOTS (module invariant): look from `cur`
            // to the end, then wrap.
            let Some(slot) = self
                .first_occupied(level, cur)
                .or_else(|| self.first_occupied(level, 0))
            else {
                continue;
            };
            let ahead = (slot.wrapping_sub(cur) & (SLOTS - 1)) as u64;
            let start = (pos + ahead) << shift;
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

    fn is_occupied(&self, level: usize, slot: usize) -> bool {
        self.occupied[level][slot / 64] & (1 << (slot % 64)) != 0
    }

    fn set_occupied(&mut self, level: usize, slot: usize) {
        self.occupied[level][slot / 64] |= 1 << (slot % 64);
    }

    fn clear_occupied(&mut self, level: usize, slot: usize) {
        self.occupied[level][slot / 64] &= !(1 << (slot % 64));
    }

    /// The lowest level whose ring reaches `deadline`: the level L at which `deadline` is
    /// in the current or the next window of level L + 1.
    fn level_for(&self, deadline: u64) -> usize {
        (0..LEVELS - 1)
            .find(|&level| {
                let up = SLOT_BITS * (level as u32 + 1);
                deadline >> up <= (self.elapsed >> up) + 1
            })
            .unwrap_or(LEVELS - 1)
    }

    fn push_item(&mut self, it: Item) {
        let level = self.level_for(it.deadline);
        let slot = ((it.deadline >> (SLOT_BITS * level as u32)) as usize) & (SLOTS - 1);
        self.slots[level * SLOTS + slot].push(it);
        self.set_occupied(level, slot);
    }

    /// Puts live entry `i` on the free list; its items become tombstones.
    fn release(&mut self, i: u32) {
        let e = &mut self.entries[i as usize];
        debug_assert_eq!(e.link, LIVE);
        e.link = self.free;
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

    /// What `advance_ahead` fires at `now`; checks that whatever it announced ahead was fired.
    fn fired(w: &mut Wheel, now: u64) -> Vec<u32> {
        let mut v = Vec::new();
        let mut announced = Vec::new();
        w.advance_ahead(now, |f| announced.push(seq_of(f)), |f| v.push(seq_of(f)));
        for a in &announced {
            assert!(v.contains(a), "{a} was announced ahead but not fired");
        }
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
        // Miri interprets: fewer rounds there (still every kind of step many times).
        let rounds = if cfg!(miri) { 400 } else { 20_000u32 };
        for round in 0..rounds {
            match rnd() % 8 {
                0..=2 => {
                    let d = now + 1 + rnd() % (1 << (rnd() % 30));
                    let k = w.insert(d, Pid(1), round).unwrap();
                    model.push((d, round, k));
                }
                3 if !model.is_empty() => {
                    let i = (rnd() as usize) % model.len();
                    let (_, _, k) = model.swap_remove(i);
                    assert!(w.cancel(k));
                    assert!(!w.cancel(k));
                }
                4 => {
                    w.precascade_step();
                }
                5 => {
                    // Drops tombstones only: nothing live is dead here.
                    w.sweep_step(
                        (rnd() % 64) as usize,
                        |_| false,
                        |_| panic!("nothing is gone"),
                    );
                }
                _ => {
                    now += rnd() % (1 << (rnd() % 20));
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
            assert!(w.items() >= w.len());
            if w.len() == 0 {
                assert_eq!(w.items(), 0, "an empty wheel keeps no tombstones");
                assert_eq!(w.next_expiry(), None);
            }
            if let Some(t) = w.next_expiry() {
                assert!(
                    model.iter().all(|m| m.0 >= t),
                    "next expiry {t} is after a pending deadline"
                );
            }
            assert_eq!(w.len(), model.len());
        }
    }

    #[test]
    fn a_big_slot_moves_down_ahead_of_time_and_fires_exactly() {
        // 5000 timers in the level-2 slot after the next: the precascade moves them down
        // in steps of PRECASCADE_STEP once time is in the slot before it, and each fires
        // at its own tick.
        let start = (1u64 << 16) - 10;
        let mut w = Wheel::new(start);
        let base = 3u64 << 16;
        // Miri interprets: fewer timers there (still several precascade steps).
        let count: u64 = if cfg!(miri) { 1100 } else { 5000 };
        let deadlines: Vec<u64> = (0..count).map(|i| base + (i * 7919) % 60_000).collect();
        for (i, d) in deadlines.iter().enumerate() {
            w.insert(*d, Pid(1), i as u32).unwrap();
        }
        assert!(!w.precascade_pending(), "two windows ahead: not yet");
        // Into the window just before theirs.
        w.advance(2 << 16, |_| panic!("nothing is due"));
        assert!(w.precascade_pending());
        let mut steps = 0;
        while !w.precascade_step() {
            steps += 1;
        }
        assert!(
            steps >= count as usize / PRECASCADE_STEP - 1,
            "{steps} steps"
        );
        assert!(!w.precascade_pending());
        let mut now = 2 << 16;
        let mut n = 0;
        while let Some(t) = w.next_expiry() {
            now = t;
            w.advance(now, |f| {
                assert_eq!(deadlines[seq_of(f) as usize], now);
                n += 1;
            });
            while !w.precascade_step() {}
        }
        assert_eq!(n, count);
        assert!(now >= base);
    }

    #[test]
    fn cancels_leave_tombstones_that_go_with_the_last_entry_or_a_sweep() {
        let mut w = Wheel::new(0);
        let keys: Vec<TimerKey> = (0..100)
            .map(|i| w.insert(1000 + i, Pid(1), i as u32).unwrap())
            .collect();
        for k in &keys[..99] {
            assert!(w.cancel(*k));
        }
        assert_eq!((w.len(), w.items(), w.tombstones()), (1, 100, 99));
        // A sweep drops the tombstones and keeps the live entry.
        while !w.sweep_step(7, |_| false, |_| panic!("live and not dead")) {}
        assert_eq!((w.len(), w.items()), (1, 1));
        // Reused entries: the stale keys stay dead.
        let k2 = w.insert(5000, Pid(1), 200).unwrap();
        assert!(!w.cancel(keys[0]));
        assert!(w.cancel(keys[99]));
        assert_eq!((w.len(), w.items()), (1, 2));
        assert!(w.cancel(k2));
        assert_eq!(
            (w.len(), w.items()),
            (0, 0),
            "the last cancel clears the slots"
        );
        assert_eq!(w.next_expiry(), None);
    }

    #[test]
    fn a_sweep_hands_over_the_entries_it_is_told_are_dead() {
        let mut w = Wheel::new(0);
        for i in 0..10u32 {
            w.insert(100 + u64::from(i), Pid(1), i).unwrap();
        }
        let mut gone = Vec::new();
        while !w.sweep_step(3, |f| seq_of(f).is_multiple_of(2), |f| gone.push(seq_of(f))) {}
        gone.sort();
        assert_eq!(gone, vec![0, 2, 4, 6, 8]);
        assert_eq!((w.len(), w.items()), (5, 5));
        let mut rest = fired(&mut w, 200);
        rest.sort();
        assert_eq!(rest, vec![1, 3, 5, 7, 9]);
    }
}
