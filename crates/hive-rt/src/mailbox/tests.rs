//! Unit tests of the mailbox layer on its own: no runtime, no worker (buffers come from and
//! go to the allocator, through [`NoCache`]). `make miri` runs them.

use std::alloc;
use std::ptr::NonNull;

use super::cache::{MSG_BATCH, SMALL_PAYLOAD};
use super::*;
use crate::pid::Pid;

/// A cache source without a cache: every buffer comes from and goes to the allocator.
#[derive(Clone, Copy)]
struct NoCache;

impl CacheSource for NoCache {
    fn with_cache<R>(self, _: impl FnOnce(&mut MsgCache, &MsgDepot) -> R) -> Option<R> {
        None
    }

    fn count_freed(self, _: usize) {}
}

/// Frees a message the test owns.
fn free(m: NonNull<Msg>) {
    // SAFETY: the tests pass messages they own (taken from a queue or never queued) and do
    // not use again.
    unsafe { Msg::free_by(m.as_ptr(), NoCache) };
}

fn msg(v: u8) -> NonNull<Msg> {
    Msg::with_data(&[v], Pid::NONE, NoCache).unwrap()
}

/// The first payload byte of a live one-byte test message in a queue.
fn first_byte(m: *mut Msg) -> u8 {
    // SAFETY: the scans pass live messages of the test's queue, all with a payload byte.
    unsafe { *Msg::payload(m) }
}

fn byte(m: NonNull<Msg>) -> u8 {
    // SAFETY: test messages are live and one byte long.
    let b = unsafe { *Msg::payload(m.as_ptr()) };
    free(m);
    b
}

fn outer() -> Box<OuterQueue> {
    let mut q = Box::new(OuterQueue::new());
    q.init();
    q
}

fn inner(outer: &OuterQueue) -> Box<InnerQueue> {
    let mut q = Box::new(InnerQueue::new());
    q.init(outer);
    q
}

fn fetch_all(q: &mut InnerQueue, outer: &OuterQueue) -> usize {
    // SAFETY: the test is the single consumer.
    unsafe { q.fetch(outer, usize::MAX) }
}

/// The worker's cache of small buffers: `try_put` keeps a buffer only while the list
/// has room and holds less than two batches; `put` then hands a batch to the depot, and
/// `take` on an empty cache takes a batch back (LIFO order throughout).
#[test]
fn msg_cache_batches_through_the_depot() {
    let depot = MsgDepot::default();
    let mut c = MsgCache::default();
    let bufs: Vec<NonNull<Msg>> = (0..2 * MSG_BATCH + 1)
        .map(|_| Msg::alloc_kind(1, Pid::NONE, 0, NoCache).unwrap())
        .collect();
    // An empty list has no room: the first buffer goes through `put`.
    assert!(!c.try_put(bufs[0]));
    assert_eq!(c.put(bufs[0], &depot), 0);
    for &m in &bufs[1..2 * MSG_BATCH] {
        if !c.try_put(m) {
            assert_eq!(c.put(m, &depot), 0);
        }
    }
    assert_eq!(c.free.len(), 2 * MSG_BATCH);
    // Two batches held: no `try_put`; `put` moves the newer batch to the depot.
    let last = bufs[2 * MSG_BATCH];
    assert!(!c.try_put(last));
    assert_eq!(c.put(last, &depot), 0);
    assert_eq!(c.free.len(), MSG_BATCH + 1);
    assert_eq!(depot.batches.lock().len(), 1);
    for _ in 0..=MSG_BATCH {
        assert!(c.take(&depot).is_some());
    }
    assert_eq!(depot.batches.lock().len(), 1);
    // Empty: `take` refills from the depot, newest buffer first.
    assert_eq!(c.take(&depot), Some(bufs[2 * MSG_BATCH - 1]));
    assert!(depot.batches.lock().is_empty());
    while c.take(&depot).is_some() {}
    assert_eq!(c.take(&depot), None);
    for m in bufs {
        // SAFETY: every buffer was handed out of the cache and is owned by the test;
        // none is in the cache or the depot any more.
        unsafe { alloc::dealloc(m.as_ptr() as *mut u8, Msg::layout(SMALL_PAYLOAD)) };
    }
}

#[test]
fn outer_queue_is_fifo_and_drains_to_empty() {
    let outer = outer();
    let mut q = inner(&outer);
    // SAFETY: the test is the queue's single consumer and `q` was set up on `outer`.
    assert!(unsafe { q.take_outer(&outer) }.is_none());
    for i in 0..5 {
        outer.push(msg(i));
    }
    let mut got = Vec::new();
    // SAFETY: the test is the single consumer.
    while let Some(m) = unsafe { q.take_outer(&outer) } {
        got.push(byte(m));
        if got.len() == 2 {
            outer.push(msg(5)); // interleave a late push
        }
    }
    assert_eq!(got, vec![0, 1, 2, 3, 4, 5]);
    // The stub is reusable: another round works.
    outer.push(msg(9));
    // SAFETY: the test is the single consumer.
    assert_eq!(byte(unsafe { q.take_outer(&outer) }.unwrap()), 9);
    // SAFETY: the test is the queue's single consumer and `q` was set up on `outer`.
    assert!(unsafe { q.take_outer(&outer) }.is_none());
}

#[test]
fn fifo_across_batches() {
    let outer = outer();
    let mut q = inner(&outer);
    for i in 0..3 {
        outer.push(msg(i));
    }
    assert_eq!(fetch_all(&mut q, &outer), 3);
    for i in 3..5 {
        outer.push(msg(i));
    }
    assert_eq!(fetch_all(&mut q, &outer), 2);
    assert_eq!(q.len(), 5);
    let got: Vec<u8> = std::iter::from_fn(|| q.pop().map(byte)).collect();
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
    assert_eq!(q.len(), 0);
}

#[test]
fn selective_scan_keeps_order_and_resumes_at_save_pointer() {
    let outer = outer();
    let mut q = inner(&outer);
    for v in [b'a', b'b', b'c'] {
        outer.push(msg(v));
    }
    fetch_all(&mut q, &outer);
    q.reset_save();
    let mut examined = Vec::new();
    let mut budget = 100;
    // No match: the scan reaches the end, leaving the save pointer there.
    assert!(q
        .scan(&mut budget, |m| {
            // SAFETY: scan passes live messages.
            examined.push(unsafe { *Msg::payload(m) });
            false
        })
        .is_none());
    assert_eq!(examined, b"abc");
    // A new message arrives: the resumed scan examines only it.
    outer.push(msg(b'd'));
    fetch_all(&mut q, &outer);
    examined.clear();
    let hit = q
        .scan(&mut budget, |m| {
            // SAFETY: scan passes live messages of the test's queue, each one byte long.
            let b = unsafe { *Msg::payload(m) };
            examined.push(b);
            b == b'd'
        })
        .unwrap();
    assert_eq!(examined, b"d");
    assert_eq!(byte(hit), b'd');
    // Case 5: take `c` out of [a,b,c]; [a,b] stay in order.
    q.reset_save();
    let mut budget = 100;
    let c = q.scan(&mut budget, |m| first_byte(m) == b'c').unwrap();
    assert_eq!(byte(c), b'c');
    outer.push(msg(b'e'));
    fetch_all(&mut q, &outer);
    let got: Vec<u8> = std::iter::from_fn(|| q.pop().map(byte)).collect();
    assert_eq!(got, b"abe");
}

#[test]
fn scan_stops_when_budget_runs_out_and_resumes() {
    let outer = outer();
    let mut q = inner(&outer);
    for v in 0..10 {
        outer.push(msg(v));
    }
    fetch_all(&mut q, &outer);
    q.reset_save();
    let mut budget = 4;
    assert!(q.scan(&mut budget, |m| first_byte(m) == 7).is_none());
    assert_eq!(budget, 0);
    let mut budget = 4;
    let hit = q.scan(&mut budget, |m| first_byte(m) == 7).unwrap();
    assert_eq!(budget, 0, "resumed at message 4, examined 4,5,6,7");
    assert_eq!(byte(hit), 7);
    q.clear_with(free);
}

#[test]
fn receive_mark_survives_removal_of_the_messages_around_it() {
    let outer = outer();
    let mut q = inner(&outer);
    for v in [1u8, 2, 3] {
        outer.push(msg(v));
    }
    // SAFETY: single consumer.
    let id = unsafe { q.mark(&outer) };
    // The message just before the mark goes (selective unlink), then the oldest (pop).
    q.reset_save();
    let mut budget = 100;
    let three = q.scan(&mut budget, |m| first_byte(m) == 3).unwrap();
    assert_eq!(byte(three), 3);
    assert_eq!(byte(q.pop().unwrap()), 1);
    for v in [4u8, 5] {
        outer.push(msg(v));
    }
    // SAFETY: single consumer.
    unsafe { q.fetch(&outer, usize::MAX) };
    // From the mark only 4 and 5 are examined, though 2 would match too.
    q.reset_save_to_mark(id);
    let mut seen = Vec::new();
    let hit = q
        .scan(&mut budget, |m| {
            // SAFETY: scan passes live messages of the test's queue, each one byte long.
            let b = unsafe { *Msg::payload(m) };
            seen.push(b);
            b == 5 || b == 2
        })
        .unwrap();
    assert_eq!((seen, byte(hit)), (vec![4, 5], 5));
    // A stale mark id scans from the oldest message.
    q.reset_save_to_mark(id + 1);
    let mut budget = 100;
    let two = q.scan(&mut budget, |m| first_byte(m) == 2).unwrap();
    assert_eq!(byte(two), 2);
    q.clear_with(free);
}

#[test]
fn draining_frees_what_the_queue_holds() {
    let outer = outer();
    let mut q = inner(&outer);
    for v in 0..100 {
        outer.push(msg(v));
    }
    // SAFETY: single consumer.
    unsafe { q.drain_outer_with(&outer, free) };
    // SAFETY: the test is the queue's single consumer and `q` was set up on `outer`.
    assert!(unsafe { q.take_outer(&outer) }.is_none());
}

#[test]
fn concurrent_senders_keep_their_own_order() {
    // Initialised in place: moving an initialised queue would break its stub links.
    let mut outer = std::sync::Arc::new(OuterQueue::new());
    std::sync::Arc::get_mut(&mut outer).unwrap().init();
    let mut q = inner(&outer);
    // Miri interprets (and explores thread interleavings): fewer messages there.
    const N: u32 = if cfg!(miri) { 50 } else { 20_000 };
    let senders: Vec<_> = (0..4u8)
        .map(|id| {
            let outer = outer.clone();
            std::thread::spawn(move || {
                for i in 0..N {
                    let mut data = [0u8; 5];
                    data[0] = id;
                    data[1..].copy_from_slice(&i.to_le_bytes());
                    outer.push(Msg::with_data(&data, Pid::NONE, NoCache).unwrap());
                }
            })
        })
        .collect();
    let mut next = [0u32; 4];
    let mut seen = 0;
    while seen < 4 * N {
        fetch_all(&mut q, &outer);
        while let Some(m) = q.pop() {
            // SAFETY: 5-byte test messages.
            let d = unsafe { std::slice::from_raw_parts(Msg::payload(m.as_ptr()), 5) };
            let id = d[0] as usize;
            let i = u32::from_le_bytes(d[1..].try_into().unwrap());
            assert_eq!(i, next[id], "sender {id} out of order");
            next[id] += 1;
            seen += 1;
            free(m);
        }
    }
    for s in senders {
        s.join().unwrap();
    }
    assert_eq!(next, [N; 4]);
}

/// The mailbox is a layer below the scheduler and the processes (`docs/design.md`,
/// *Mailboxes and the wake-up handshake*): outside comments, its files name no module of
/// the crate but the ones below it.
#[test]
fn the_mailbox_names_no_module_above_it() {
    const BELOW: [&str; 4] = ["mailbox", "pid", "reason", "sync"];
    let files = [
        ("mod.rs", include_str!("mod.rs")),
        ("kind.rs", include_str!("kind.rs")),
        ("msg.rs", include_str!("msg.rs")),
        ("cache.rs", include_str!("cache.rs")),
        ("outer.rs", include_str!("outer.rs")),
        ("inner.rs", include_str!("inner.rs")),
    ];
    for (file, src) in files {
        for line in src.lines() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let module: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    BELOW.contains(&module.as_str()),
                    "mailbox/{file} names `crate::{module}`, above the mailbox: {line}"
                );
            }
        }
    }
}
