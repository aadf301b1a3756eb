//! Re-entry into the mailbox from a match predicate (issue 14, defect 3). A predicate runs
//! while its selective receive's scan holds a place in the caller's mailbox: every call that
//! walks or takes from that mailbox (or re-arms the receive's timeout) must fail with
//! `ErrReentrant` and change nothing, and the messages must then be received complete and in
//! order. A predicate that panics or exits must leave the process usable or end it cleanly.
//! (On the BEAM a guard cannot call `receive` at all.)

mod common;
use common::*;
use hive_rt::{process, Error, ExitReason, MessageKind, Status};

const REENTRANT: Error = Error(Status::ErrReentrant);

/// Failure bound for waits that should end at once (never reached when the test passes).
const BOUND_MS: u32 = 10_000;

/// Sends `vals` to the calling process, one message each.
fn send_self(vals: &[u64]) {
    let me = process::self_pid();
    for &v in vals {
        process::send(me, &u64b(v)).unwrap();
    }
}

/// Takes every queued message (without waiting) and returns their values in order.
fn drain() -> Vec<u64> {
    let mut got = Vec::new();
    loop {
        match process::receive(Some(0)) {
            Ok(m) => got.push(bu64(m.data())),
            Err(e) => {
                assert_eq!(e, Error(Status::Timeout));
                return got;
            }
        }
    }
}

/// Every receive from inside a predicate is refused, takes nothing, and the scan goes on: the
/// match is found, and the other messages stay queued in order.
#[test]
fn receives_inside_a_predicate_are_refused_and_take_nothing() {
    let rt = rt(2);
    let reason = rt
        .run(|| {
            send_self(&[1, 2, 3, 4, 5, 6, 7, 8]);
            let mark = process::recv_mark().unwrap();
            let mut results = Vec::new();
            let mut examined = Vec::new();
            let m = process::receive_select(Some(BOUND_MS), |m| {
                let v = bu64(m.data());
                examined.push(v);
                if v == 1 {
                    // (Without the guard each of these took a message, the one being
                    // examined first, and the scan went on through freed memory.)
                    results.push(process::receive(Some(0)).map(|_| ()));
                    results.push(process::receive(Some(1)).map(|_| ()));
                    results.push(process::receive_match(Some(0), |_, _| true).map(|_| ()));
                    results.push(process::receive_select(Some(0), |_| true).map(|_| ()));
                    results
                        .push(process::receive_match_from(mark, Some(0), |_, _| true).map(|_| ()));
                    results.push(process::receive(None).map(|_| ()));
                }
                v == 3
            })
            .unwrap();
            assert_eq!(bu64(m.data()), 3);
            assert_eq!(examined, [1, 2, 3], "each message examined once");
            assert_eq!(results, [Err(REENTRANT); 6]);
            assert_eq!(process::mailbox_len().unwrap(), 7);
            assert_eq!(drain(), [1, 2, 4, 5, 6, 7, 8]);
            assert_eq!(process::mailbox_len().unwrap(), 0);
        })
        .unwrap();
    assert_eq!(reason, ExitReason::Normal);
}

/// The same through `receive_match` (the predicate on sender and bytes) and
/// `receive_match_from` (a scan from a receive mark).
#[test]
fn every_selective_receive_guards_its_predicate() {
    let rt = rt(1);
    let reason = rt
        .run(|| {
            send_self(&[1, 2, 3]);
            let mut refused = 0;
            let m = process::receive_match(Some(BOUND_MS), |_, data| {
                if process::receive(Some(0)).err() == Some(REENTRANT) {
                    refused += 1;
                }
                bu64(data) == 2
            })
            .unwrap();
            assert_eq!((bu64(m.data()), refused), (2, 2));
            let mark = process::recv_mark().unwrap();
            send_self(&[4, 5]);
            let mut seen = Vec::new();
            let m = process::receive_match_from(mark, Some(BOUND_MS), |_, data| {
                assert_eq!(process::receive(Some(0)).map(|_| ()), Err(REENTRANT));
                seen.push(bu64(data));
                bu64(data) == 5
            })
            .unwrap();
            assert_eq!((bu64(m.data()), seen), (5, vec![4, 5]));
            assert_eq!(drain(), [1, 3, 4]);
        })
        .unwrap();
    assert_eq!(reason, ExitReason::Normal);
}

/// The other calls that touch the own mailbox or the receive's timeout are refused with no
/// effect; what does not touch them works from a predicate.
#[test]
fn mailbox_calls_inside_a_predicate_are_refused_and_the_rest_works() {
    let rt = rt(2);
    let reason = rt
        .run(|| {
            let me = process::self_pid();
            let sleeper = process::spawn(|| {
                let _ = process::receive(None);
            })
            .unwrap();
            let kept = process::monitor(sleeper).unwrap();
            let dropped = process::monitor(sleeper).unwrap();
            send_self(&[1, 2]);
            let mark = process::recv_mark().unwrap();
            send_self(&[3]);
            let mut checked = false;
            let m = process::receive_select(Some(BOUND_MS), |m| {
                if bu64(m.data()) != 2 {
                    return false;
                }
                // Refused: they walk or take from this mailbox, or re-arm the timeout.
                assert_eq!(process::recv_mark(), Err(REENTRANT));
                assert_eq!(process::mailbox_len(), Err(REENTRANT));
                assert_eq!(process::demonitor(kept, true), Err(REENTRANT));
                assert_eq!(process::sleep(1), Err(REENTRANT));
                assert_eq!(process::exit_pid(me, ExitReason::Normal), Err(REENTRANT));
                assert_eq!(
                    process::exit_pid(me, ExitReason::error("boom")),
                    Err(REENTRANT)
                );
                assert_eq!(process::exit_pid(me, ExitReason::Kill), Err(REENTRANT));
                // Allowed: none of these touches the mailbox being scanned.
                assert_eq!(process::self_pid(), me);
                assert!(process::is_alive(me).unwrap());
                let info = process::process_info(me).unwrap().unwrap();
                assert_eq!(info.mailbox_len, 3);
                assert_eq!(process::demonitor(dropped, false), Ok(true));
                process::send(me, &u64b(4)).unwrap();
                process::sleep(0).unwrap();
                process::yield_now().unwrap();
                process::consume_reductions(10_000).unwrap();
                checked = true;
                true
            })
            .unwrap();
            assert!(checked);
            assert_eq!(bu64(m.data()), 2);
            // The refused calls had no effect: the monitor is active, the mark is the old
            // one (a scan from it sees 3 and 4, not 1), the process is alive.
            let m = process::receive_match_from(mark, Some(0), |_, _| true).unwrap();
            assert_eq!(bu64(m.data()), 3);
            assert_eq!(process::demonitor(kept, true), Ok(true));
            assert_eq!(drain(), [1, 4]);
            process::exit_pid(sleeper, ExitReason::Kill).unwrap();
        })
        .unwrap();
    assert_eq!(reason, ExitReason::Normal);
}

/// A predicate that panics (after a refused receive) leaves the mailbox intact, the guard
/// cleared and no timeout armed: the process receives everything, in order, afterwards.
#[test]
fn a_panicking_predicate_leaves_the_mailbox_intact_and_the_guard_cleared() {
    let rt = rt(2);
    let reason = rt
        .run(|| {
            let me = process::self_pid();
            // Sends 4 when told to: the receive below has then armed its timeout and waits.
            let helper = process::spawn(move || {
                let _ = process::receive(None);
                process::send(me, &u64b(4)).unwrap();
            })
            .unwrap();
            send_self(&[1, 2, 3]);
            let r = std::panic::catch_unwind(|| {
                process::receive_select(Some(BOUND_MS), |m| match bu64(m.data()) {
                    3 => {
                        process::send(helper, b"go").unwrap();
                        false
                    }
                    4 => {
                        let _ = process::receive(Some(0));
                        panic!("predicate panics on purpose");
                    }
                    _ => false,
                })
            });
            assert!(r.is_err(), "the predicate's panic reaches the caller");
            // The guard is cleared: receives work again and see every message in order.
            assert_eq!(process::mailbox_len().unwrap(), 4);
            let m = process::receive_select(Some(0), |m| bu64(m.data()) == 4).unwrap();
            assert_eq!(bu64(m.data()), 4);
            assert_eq!(drain(), [1, 2, 3]);
            // A later receive times out as usual (the unwound receive's timeout is ended).
            assert_eq!(
                process::receive(Some(1)).map(|_| ()),
                Err(Error(Status::Timeout))
            );
        })
        .unwrap();
    assert_eq!(reason, ExitReason::Normal);
}

/// A predicate that ends its process (`exit`) exits it cleanly with that reason; the terminate
/// callback, which runs on top of the abandoned scan, may use the mailbox, which is intact.
#[test]
fn a_predicate_that_exits_ends_the_process_cleanly() {
    let rt = rt(2);
    let reason = rt
        .run(|| {
            let me = process::self_pid();
            let (child, mref) = process::spawn_monitor(move || {
                process::set_terminate(move |_| {
                    let got = drain();
                    let mut report = Vec::new();
                    for v in got {
                        report.extend_from_slice(&u64b(v));
                    }
                    process::send(me, &report).unwrap();
                })
                .unwrap();
                send_self(&[1, 2, 3]);
                let _ = process::receive_select(None, |m| {
                    if bu64(m.data()) == 2 {
                        let _ = process::receive(Some(0));
                        process::exit(ExitReason::error("exit from a predicate"));
                    }
                    false
                });
                unreachable!("the predicate exited");
            })
            .unwrap();
            let report = process::receive_select(Some(BOUND_MS), |m| {
                m.kind() == MessageKind::Data && m.sender() == child
            })
            .unwrap();
            let vals: Vec<u64> = report.data().chunks(8).map(bu64).collect();
            assert_eq!(
                vals,
                [1, 2, 3],
                "the terminate callback drains the whole mailbox"
            );
            let down =
                process::receive_select(Some(BOUND_MS), |m| m.monitor_ref() == mref).unwrap();
            assert_eq!(down.kind(), MessageKind::Down);
            assert_eq!(
                down.reason(),
                Some(ExitReason::error("exit from a predicate"))
            );
            assert_eq!(down.sender(), child);
            assert!(!process::is_alive(child).unwrap());
        })
        .unwrap();
    assert_eq!(reason, ExitReason::Normal);
}
