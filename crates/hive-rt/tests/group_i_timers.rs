//! BEAM cases of group I (timers), named by case number. Timings are checked with
//! tolerance bounds only: at least the delay asked, at most a generous limit.

mod common;
use common::*;
use hive_rt::{process, MessageKind, Pid, Status, TimerDest, MAX_TIMER_MS};
use std::time::Instant;

/// Case 85: send_after delivers after at least T ms; 0 delivers at once.
#[test]
fn case_85_send_after_delivers_after_t() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let t0 = Instant::now();
        let r = process::send_after(TimerDest::Pid(me), 100, b"plipp").unwrap();
        let m = process::receive(Some(5000)).unwrap();
        let e = t0.elapsed().as_millis();
        assert_eq!(m.data(), b"plipp");
        assert_eq!(m.kind(), MessageKind::Data);
        assert!(m.sender().is_none());
        assert!((100..1000).contains(&e), "after {e} ms");
        assert_eq!(process::read_timer(r).unwrap(), None);
        let t0 = Instant::now();
        process::send_after(TimerDest::Pid(me), 0, b"now").unwrap();
        assert_eq!(process::receive(Some(5000)).unwrap().data(), b"now");
        assert!(t0.elapsed().as_millis() < 100);
    })
    .unwrap();
}

/// Case 86: start_timer delivers {timeout, TRef, Msg}, also to a registered name.
#[test]
fn case_86_start_timer_carries_its_reference() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let r = process::start_timer(TimerDest::Pid(me), 10, b"plopp").unwrap();
        let m = process::receive(Some(5000)).unwrap();
        assert_eq!(
            (m.kind(), m.timer_ref(), m.data()),
            (MessageKind::Timeout, r, &b"plopp"[..])
        );
        process::register(b"timer_target", me).unwrap();
        let r2 = process::start_timer(TimerDest::Name(b"timer_target"), 10, b"named").unwrap();
        let m = process::receive(Some(5000)).unwrap();
        assert_eq!((m.timer_ref(), m.data()), (r2, &b"named"[..]));
    })
    .unwrap();
}

/// Case 87: cancel returns the ms left while active, nothing arrives afterwards, and
/// cancel/read of a cancelled, expired or unknown timer say "no timer".
#[test]
fn case_87_cancel_timer() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let r = process::start_timer(TimerDest::Pid(me), 300, b"x").unwrap();
        let left = process::cancel_timer(r).unwrap().unwrap();
        assert!(200 < left && left <= 300, "{left}");
        assert_eq!(process::cancel_timer(r).unwrap(), None);
        assert_eq!(process::read_timer(r).unwrap(), None);
        assert_eq!(process::receive(Some(400)).unwrap_err().0, Status::Timeout);
        assert_eq!(process::cancel_timer(987_654_321).unwrap(), None);
        assert_eq!(process::read_timer(987_654_321).unwrap(), None);
        let r = process::send_after(TimerDest::Pid(me), 5, b"y").unwrap();
        process::receive(Some(5000)).unwrap();
        assert_eq!(process::cancel_timer(r).unwrap(), None, "expired");
    })
    .unwrap();
}

/// Case 88: read_timer returns the ms left, then "no timer" once it is gone.
#[test]
fn case_88_read_timer() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let r = process::send_after(TimerDest::Pid(me), 1000, b"x").unwrap();
        process::sleep(200).unwrap();
        let left = process::read_timer(r).unwrap().unwrap();
        assert!(500 < left && left <= 800, "{left}");
        let c = process::cancel_timer(r).unwrap().unwrap();
        assert!(c <= left);
        assert_eq!(process::read_timer(r).unwrap(), None);
    })
    .unwrap();
}

/// Case 90: timers fire in order of expiry, not of creation; equal expiries all arrive.
#[test]
fn case_90_expiry_order() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        for (i, d) in [600u64, 0, 200, 100, 500, 300, 400].iter().enumerate() {
            process::send_after(TimerDest::Pid(me), *d, &[i as u8]).unwrap();
        }
        let got: Vec<u8> = (0..7)
            .map(|_| process::receive(Some(5000)).unwrap().data()[0])
            .collect();
        assert_eq!(got, vec![1, 3, 2, 5, 6, 4, 0]);
        for i in 0..5u8 {
            process::send_after(TimerDest::Pid(me), 50, &[i]).unwrap();
        }
        let mut same: Vec<u8> = (0..5)
            .map(|_| process::receive(Some(5000)).unwrap().data()[0])
            .collect();
        same.sort();
        assert_eq!(same, vec![0, 1, 2, 3, 4]);
    })
    .unwrap();
}

/// Case 91: a timer to a name resolves it at expiry; no holder means the message is
/// dropped; the holder's death does not cancel a name timer.
#[test]
fn case_91_names_resolve_at_expiry() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        process::send_after(TimerDest::Name(b"later"), 50, b"found").unwrap();
        process::register(b"later", me).unwrap();
        assert_eq!(process::receive(Some(5000)).unwrap().data(), b"found");
        let r = process::send_after(TimerDest::Name(b"nobody"), 10, b"lost").unwrap();
        assert_eq!(process::receive(Some(200)).unwrap_err().0, Status::Timeout);
        assert_eq!(process::read_timer(r).unwrap(), None);
        let holder = process::spawn(|| {
            let _ = process::receive(Some(5000));
        })
        .unwrap();
        process::register(b"holder", holder).unwrap();
        let r = process::send_after(TimerDest::Name(b"holder"), 5000, b"z").unwrap();
        process::send(holder, b"stop").unwrap();
        while process::is_alive(holder).unwrap() {
            process::yield_now().unwrap();
        }
        assert!(process::read_timer(r).unwrap().is_some(), "still active");
        process::cancel_timer(r).unwrap();
    })
    .unwrap();
}

/// Case 92: a timer to a pid is cancelled when that process dies, or at once if dead.
#[test]
fn case_92_timers_die_with_their_destination() {
    let rt = rt(2);
    let dead = rt.spawn(|| {}).unwrap();
    while rt.is_alive(dead) {
        std::thread::yield_now();
    }
    rt.run(move || {
        let p = process::spawn(|| {
            let _ = process::receive(None);
        })
        .unwrap();
        let a = process::send_after(TimerDest::Pid(p), 5000, b"a").unwrap();
        let b = process::start_timer(TimerDest::Pid(p), 5000, b"b").unwrap();
        process::send(p, b"die").unwrap();
        while process::is_alive(p).unwrap() {
            process::yield_now().unwrap();
        }
        assert_eq!(process::read_timer(a).unwrap(), None);
        assert_eq!(process::read_timer(b).unwrap(), None);
        let c = process::send_after(TimerDest::Pid(dead), 5000, b"c").unwrap();
        assert_ne!(c, 0);
        assert_eq!(process::read_timer(c).unwrap(), None);
    })
    .unwrap();
}

/// Case 92, seen by a monitor: once the DOWN of a process has arrived, its long timers,
/// which its exit path cancels after sending its DOWNs, already read and cancel as gone.
/// Found by the soak (about 1 in 45,000 DOWNs overtook the cancel); this test rarely
/// catches that race itself (the watcher polls so that it may run on one worker while the
/// process, woken by a plain thread, exits on the other), the soak does.
#[test]
fn case_92_timers_are_gone_when_the_down_arrives() {
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    use std::sync::Arc;
    let rt = rt(2);
    for round in 0..100 {
        let victim = Arc::new(AtomicU64::new(0));
        // What the watcher saw after the DOWN: 1 + read_timer's answer was none, + 2 when
        // cancel_timer's was none too (so 3 is right, 0 not done yet).
        let seen = Arc::new(AtomicU64::new(0));
        let (v, sn) = (victim.clone(), seen.clone());
        let watcher = rt
            .spawn(move || {
                let (p, mref) = process::spawn_monitor(|| {
                    let me = process::self_pid();
                    let mut last = 0;
                    // Many long timers make the exit path's cancelling take a while.
                    for _ in 0..2000 {
                        last = process::start_timer(TimerDest::Pid(me), 60_000, b"t").unwrap();
                    }
                    let m = process::receive(None).unwrap();
                    process::send(m.sender(), &u64b(last)).unwrap();
                    let _ = process::receive(None);
                })
                .unwrap();
                process::send(p, b"tref?").unwrap();
                let t = bu64(process::receive_match(None, |s, _| s == p).unwrap().data());
                v.store(p.0, SeqCst);
                let down = loop {
                    if let Ok(m) = process::receive_select(Some(0), |m| m.monitor_ref() == mref) {
                        break m;
                    }
                };
                assert_eq!(down.kind(), MessageKind::Down);
                let read_gone = process::read_timer(t).unwrap().is_none();
                let cancel_gone = process::cancel_timer(t).unwrap().is_none();
                sn.store(1 + read_gone as u64 + 2 * cancel_gone as u64, SeqCst);
            })
            .unwrap();
        while victim.load(SeqCst) == 0 {
            std::thread::yield_now();
        }
        rt.send(Pid(victim.load(SeqCst)), b"die").unwrap();
        let _ = rt.wait(watcher);
        assert_eq!(
            seen.load(SeqCst),
            4,
            "round {round}: 1 + none from read + 2 × none from cancel"
        );
    }
    // The last process's exit path may still be cancelling (a bound, not a wait).
    let end = Instant::now() + std::time::Duration::from_secs(10);
    while rt.pending_timers() != 0 && Instant::now() < end {
        std::thread::yield_now();
    }
    assert_eq!(rt.pending_timers(), 0);
}

/// Case 93: a timer outlives its creator, and any process holding the ref may cancel it.
#[test]
fn case_93_timers_outlive_their_creator() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let creator = process::spawn(move || {
            let t1 = process::send_after(TimerDest::Pid(me), 50, b"delivered").unwrap();
            let t2 = process::send_after(TimerDest::Pid(me), 300, b"never").unwrap();
            process::send(me, &t1.to_le_bytes()).unwrap();
            process::send(me, &t2.to_le_bytes()).unwrap();
        })
        .unwrap();
        let _t1 = bu64(process::receive(Some(5000)).unwrap().data());
        let t2 = bu64(process::receive(Some(5000)).unwrap().data());
        while process::is_alive(creator).unwrap() {
            process::yield_now().unwrap();
        }
        assert_eq!(process::receive(Some(5000)).unwrap().data(), b"delivered");
        assert!(process::cancel_timer(t2).unwrap().is_some());
        assert_eq!(process::receive(Some(500)).unwrap_err().0, Status::Timeout);
    })
    .unwrap();
}

/// Case 94: cancelling after expiry gives "no timer" and leaves the message queued.
#[test]
fn case_94_cancel_after_expiry_leaves_the_message() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let r = process::send_after(TimerDest::Pid(me), 1, b"x").unwrap();
        process::sleep(50).unwrap();
        assert_eq!(process::cancel_timer(r).unwrap(), None);
        assert_eq!(process::mailbox_len().unwrap(), 1);
        assert_eq!(process::receive(Some(0)).unwrap().data(), b"x");
    })
    .unwrap();
}

/// Case 95: argument errors and ranges; a delay of 2^33 ms is accepted.
#[test]
fn case_95_arguments_and_ranges() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let e = |r: hive_rt::status::Result<u64>| r.unwrap_err().0;
        assert_eq!(
            e(process::send_after(
                TimerDest::Pid(me),
                MAX_TIMER_MS + 1,
                b""
            )),
            Status::ErrBadArgument
        );
        assert_eq!(
            e(process::send_after(TimerDest::Pid(Pid::NONE), 1, b"")),
            Status::ErrBadArgument
        );
        assert_eq!(
            e(process::start_timer(TimerDest::Name(b""), 1, b"")),
            Status::ErrBadArgument
        );
        assert_eq!(
            e(process::start_timer(TimerDest::Name(&[b'n'; 256]), 1, b"")),
            Status::ErrBadLength
        );
        let r = process::send_after(TimerDest::Pid(me), 1 << 33, b"far").unwrap();
        let left = process::cancel_timer(r).unwrap().unwrap();
        assert!(left > (1 << 33) - 1000 && left <= 1 << 33, "{left}");
    })
    .unwrap();
}

/// Timers set from a thread that is not a worker go through worker 0 and still fire.
#[test]
fn timers_set_from_plain_threads_fire() {
    let rt = rt(2);
    let (tx, rx) = std::sync::mpsc::channel();
    let p = rt
        .spawn(move || {
            let t0 = Instant::now();
            let m = process::receive(Some(5000)).unwrap();
            tx.send((m.data().to_vec(), t0.elapsed().as_millis()))
                .unwrap();
        })
        .unwrap();
    rt.send_after(TimerDest::Pid(p), 30, b"from outside")
        .unwrap();
    let (data, _ms) = rx.recv().unwrap();
    assert_eq!(data, b"from outside");
    assert_eq!(rt.pending_timers(), 0);
}
