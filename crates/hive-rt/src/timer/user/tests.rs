//! Unit tests of the user-timer table (`timer/user.rs`).

use super::*;

const X: &[u8] = b"x";
const BIG: &[u8] = &[7u8; 40];

/// A timer with payload `X` to pid 7, due at `deadline_ns`.
fn data_timer(ts: &Timers, cache: Option<&mut SlotCache>, deadline_ns: u64) -> NewTimer {
    ts.create(
        cache,
        deadline_ns,
        Dest::Pid(Pid(7)),
        X,
        MessageKind::Data,
        std::ptr::null(),
    )
    .unwrap()
}

fn deliver(d: Due) -> bool {
    match d {
        Due::Deliver(m, _) => {
            // SAFETY: the firing handed us the message.
            unsafe { Msg::free(m.as_ptr()) };
            true
        }
        Due::Nothing => false,
    }
}

#[test]
fn cancel_and_fire_exclude_each_other() {
    let ts = Timers::new(2);
    let mut cache = SlotCache::default();
    let t = data_timer(&ts, Some(&mut cache), 5_000_000_000);
    assert_eq!(ts.pending(), 1);
    assert_eq!(ts.read(t.tref, 0, |_| true), Some(5000));
    assert_eq!(ts.cancel(t.tref, 1_000_000_000, |_| true, None), Some(4000));
    assert_eq!(ts.pending(), 0);
    assert!(
        !deliver(ts.due(t.index, t.gen, Some(&mut cache), std::ptr::null())),
        "no message after a cancel"
    );
    assert_eq!(ts.cancel(t.tref, 0, |_| true, None), None, "second cancel");
    assert_eq!(ts.read(t.tref, 0, |_| true), None);

    let t2 = ts
        .create(
            Some(&mut cache),
            10,
            Dest::Name(b"n".to_vec().into()),
            X,
            MessageKind::Data,
            std::ptr::null(),
        )
        .unwrap();
    assert!(
        deliver(ts.due(t2.index, t2.gen, Some(&mut cache), std::ptr::null())),
        "fires"
    );
    assert_eq!(
        ts.cancel(t2.tref, 0, |_| true, None),
        None,
        "cancel after expiry"
    );
    assert_eq!(ts.pending(), 0);
}

#[test]
fn a_reused_slot_never_answers_for_its_old_timer() {
    let ts = Timers::new(2);
    let mut cache = SlotCache::default();
    let t = data_timer(&ts, Some(&mut cache), 10);
    assert!(deliver(ts.due(
        t.index,
        t.gen,
        Some(&mut cache),
        std::ptr::null()
    )));
    let t2 = data_timer(&ts, Some(&mut cache), 10);
    assert_eq!(t2.index, t.index, "the slot is reused");
    assert_ne!(t2.tref, t.tref, "with a new reference");
    assert_eq!(
        ts.cancel(t.tref, 0, |_| true, None),
        None,
        "the old reference is dead"
    );
    assert_eq!(ts.read(t2.tref, 0, |_| true), Some(1));
    assert_eq!(ts.cancel(t2.tref, 0, |_| true, None), Some(1));
    assert!(!deliver(ts.due(
        t2.index,
        t2.gen,
        Some(&mut cache),
        std::ptr::null()
    )));
}

#[test]
fn a_cancel_is_counted_for_the_home_workers_sweep() {
    let ts = Timers::new(4);
    let mut cache = SlotCache::default();
    let mut wheel = super::super::Wheel::new(0);
    let t = data_timer(&ts, Some(&mut cache), 5_000_000_000);
    let key = wheel
        .insert_fire(
            1000,
            super::super::Fire::User {
                index: t.index,
                gen: t.gen,
            },
        )
        .unwrap();
    ts.set_home(t.index, 3, key);
    assert_eq!(ts.cancel(t.tref, 0, |_| true, None), Some(5000));
    assert_eq!(ts.lazily_cancelled(3), 1);
    assert!(ts.is_cancelled(t.index, t.gen));
    let done = wheel.sweep_step(
        100,
        |w| matches!(w, super::super::Fire::User { index, gen } if ts.is_cancelled(index, gen)),
        |w| {
            if let super::super::Fire::User { index, gen } = w {
                assert!(!deliver(ts.due(
                    index,
                    gen,
                    Some(&mut cache),
                    std::ptr::null()
                )));
            }
        },
    );
    assert!(done);
    assert_eq!(wheel.len(), 0);
    assert_eq!(
        ts.lazily_cancelled(3),
        0,
        "the due after the sweep uncounts it"
    );
    assert_eq!(cache.free, vec![t.index], "and the slot is free");
}

#[test]
fn a_near_cancel_on_the_home_worker_frees_at_once() {
    let ts = Timers::new(4);
    let mut cache = SlotCache::default();
    let mut wheel = super::super::Wheel::new(0);
    let t = data_timer(&ts, Some(&mut cache), 500_000_000);
    let what = super::super::Fire::User {
        index: t.index,
        gen: t.gen,
    };
    let key = wheel.insert_fire(1000, what).unwrap();
    ts.set_home(t.index, 3, key);
    assert_eq!(
        ts.cancel(t.tref, 0, |_| true, Some((3, &mut wheel, &mut cache))),
        Some(500)
    );
    assert_eq!(wheel.len(), 0, "the wheel entry went with the cancel");
    assert_eq!(cache.free, vec![t.index], "and the slot");
    assert_eq!(ts.lazily_cancelled(3), 0, "nothing left for a sweep");
}

#[test]
fn a_dead_destination_cancels_the_timer() {
    let ts = Timers::new(2);
    let t = data_timer(&ts, None, 5_000_000_000);
    assert_eq!(ts.read(t.tref, 0, |_| false), None);
    assert!(!deliver(ts.due(t.index, t.gen, None, std::ptr::null())));
    assert_eq!(ts.cancel(12345, 0, |_| true, None), None, "unknown ref");
    assert_eq!(ts.cancel(0, 0, |_| true, None), None, "ref 0");
    assert_eq!(ts.cancel(u64::MAX, 0, |_| true, None), None, "out of range");
}

#[test]
fn small_payloads_stay_in_the_slot_and_large_ones_in_a_message() {
    let ts = Timers::new(2);
    let small = ts
        .create(
            None,
            10,
            Dest::Pid(Pid(7)),
            b"tick",
            MessageKind::Timeout,
            std::ptr::null(),
        )
        .unwrap();
    let big = ts
        .create(
            None,
            10,
            Dest::Pid(Pid(7)),
            BIG,
            MessageKind::Data,
            std::ptr::null(),
        )
        .unwrap();
    for (t, want, kind) in [(small, &b"tick"[..], 1u32), (big, BIG, 0)] {
        match ts.due(t.index, t.gen, None, std::ptr::null()) {
            Due::Deliver(m, _) => {
                // SAFETY: the firing handed us the message.
                unsafe {
                    assert_eq!(Msg::kind(m.as_ptr()), kind);
                    assert_eq!(
                        std::slice::from_raw_parts(Msg::payload(m.as_ptr()), want.len()),
                        want
                    );
                    if kind == 1 {
                        assert_eq!(Msg::timer_ref(m.as_ptr()), t.tref);
                    }
                    Msg::free(m.as_ptr());
                }
            }
            Due::Nothing => panic!("did not fire"),
        }
    }
}

#[test]
fn free_slots_are_handed_out_lowest_first() {
    let mut f = FreeSet::default();
    for i in [300u32, 5, 64, 7, 6, 1000] {
        f.put(i);
    }
    let mut out = vec![99];
    f.take(4, &mut out);
    assert_eq!(out, vec![99, 64, 7, 6, 5], "descending, so pops ascend");
    let mut rest = Vec::new();
    f.take(10, &mut rest);
    assert_eq!(rest, vec![1000, 300]);
    f.take(10, &mut rest);
    assert_eq!(rest.len(), 2, "empty now");
    f.put(3);
    f.take(1, &mut rest);
    assert_eq!(rest.last(), Some(&3), "a freed low slot is found again");
}

#[test]
fn ms_left_rounds_up_but_never_exceeds_the_delay() {
    assert_eq!(ms_left(300_000_000, 0), 300);
    assert_eq!(ms_left(300_000_000, 1), 300);
    assert_eq!(ms_left(300_000_000, 300_000_000), 0);
    assert_eq!(ms_left(1, 5), 0);
}
