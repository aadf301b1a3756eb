//! BEAM cases of group H (registry), named by case number (82–84 are in `cleanup.rs`),
//! plus the registry's behaviour under concurrent use and `sleep`.

mod common;
use common::*;
use hive_rt::{process, ExitReason, Pid, Status};
use std::sync::Arc;
use std::time::Instant;

fn err<T: std::fmt::Debug>(r: hive_rt::status::Result<T>) -> Status {
    r.unwrap_err().0
}

/// Case 79: register another process and self; whereis and send by name.
#[test]
fn case_79_register_whereis_send_by_name() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let p = process::spawn(move || {
            let m = process::receive(Some(5000)).unwrap();
            process::send(me, m.data()).unwrap();
        })
        .unwrap();
        process::register(b"other", p).unwrap();
        process::register(b"me", me).unwrap();
        assert_eq!(process::whereis(b"other").unwrap(), p);
        assert_eq!(process::whereis(b"me").unwrap(), me);
        assert_eq!(process::whereis(b"unknown").unwrap(), Pid::NONE);
        process::send_named(b"other", b"hi").unwrap();
        assert_eq!(process::receive(Some(5000)).unwrap().data(), b"hi");
    })
    .unwrap();
}

/// Case 80: the failures of register, each with its own code.
#[test]
fn case_80_register_failures() {
    let rt = rt(2);
    let dead = rt.spawn(|| {}).unwrap();
    while rt.is_alive(dead) {
        std::thread::yield_now();
    }
    rt.run(move || {
        let me = process::self_pid();
        let p = process::spawn(|| {
            let _ = process::receive(None);
        })
        .unwrap();
        process::register(b"taken", p).unwrap();
        assert_eq!(err(process::register(b"taken", me)), Status::ErrNameTaken);
        assert_eq!(
            err(process::register(b"second", p)),
            Status::ErrAlreadyNamed
        );
        assert_eq!(err(process::register(b"taken", p)), Status::ErrNameTaken);
        assert_eq!(err(process::register(b"ghost", dead)), Status::ErrNoProcess);
        assert_eq!(
            err(process::register(b"zero", Pid::NONE)),
            Status::ErrBadArgument
        );
        assert_eq!(err(process::register(b"", me)), Status::ErrBadArgument);
        assert_eq!(err(process::register(b"a\0b", me)), Status::ErrBadArgument);
        assert_eq!(
            err(process::register(&[b'n'; 256], me)),
            Status::ErrBadLength
        );
        process::register(&[b'n'; 255], me).unwrap();
        // Sending to a name that failed to register is an error (badarg).
        assert_eq!(
            err(process::send_named(b"ghost", b"x")),
            Status::ErrNotRegistered
        );
        process::send(p, b"stop").unwrap();
    })
    .unwrap();
}

/// Case 81: unregister; the name and the process are both free again afterwards.
#[test]
fn case_81_unregister_frees_name_and_process() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        let other = process::spawn(|| {
            let _ = process::receive(None);
        })
        .unwrap();
        process::register(b"n", me).unwrap();
        process::unregister(b"n").unwrap();
        assert_eq!(process::whereis(b"n").unwrap(), Pid::NONE);
        assert_eq!(err(process::unregister(b"n")), Status::ErrNotRegistered);
        assert_eq!(err(process::unregister(b"never")), Status::ErrNotRegistered);
        process::register(b"new", me).unwrap();
        process::register(b"n", other).unwrap();
        assert_eq!(process::whereis(b"n").unwrap(), other);
        process::send(other, b"stop").unwrap();
    })
    .unwrap();
    assert_eq!(
        rt.registered_name(rt.whereis(b"new").unwrap()),
        None,
        "exited"
    );
}

/// The part of cases 82/83 that needs no monitors: once an exit has been observed
/// (`wait` returned), the name is free and can be registered again at once.
#[test]
fn name_is_released_before_the_exit_is_observed() {
    let rt = Arc::new(rt(2));
    for i in 0..300u64 {
        let p = rt
            .spawn(|| {
                let _ = process::receive(None);
            })
            .unwrap();
        rt.register(b"svc", p).unwrap();
        assert_eq!(rt.registered_name(p).as_deref(), Some(&b"svc"[..]));
        let rt2 = rt.clone();
        let w = std::thread::spawn(move || rt2.wait(p));
        // Let the waiter register before the process may exit: poll, then release it.
        if i % 2 == 0 {
            std::thread::yield_now();
        }
        rt.send(p, b"stop").unwrap();
        match w.join().unwrap() {
            Ok(r) => assert!(r.is_normal() || r == ExitReason::Noproc, "{r:?}"), // noproc: exited before wait looked
            Err(e) => panic!("wait: {e:?}"),
        }
        while rt.is_alive(p) {
            std::thread::yield_now();
        }
        assert_eq!(rt.whereis(b"svc").unwrap(), Pid::NONE, "round {i}");
        let q = rt
            .spawn(|| {
                let _ = process::receive(None);
            })
            .unwrap();
        rt.register(b"svc", q).unwrap();
        rt.send(q, b"stop").unwrap();
        while rt.is_alive(q) {
            std::thread::yield_now();
        }
    }
}

/// Register/whereis/unregister from all workers and plain threads at once: a registered
/// name always resolves to its owner, and no name resolves to a process after it exited.
#[test]
fn concurrent_registry_use_keeps_the_invariants() {
    let rt = Arc::new(rt(2));
    let (tx, rx) = std::sync::mpsc::channel();
    for w in 0..4u64 {
        let tx = tx.clone();
        rt.spawn(move || {
            let me = process::self_pid();
            for i in 0..5000u64 {
                let name = format!("w{w}-{}", i % 100);
                process::register(name.as_bytes(), me).unwrap();
                assert_eq!(process::whereis(name.as_bytes()).unwrap(), me);
                process::unregister(name.as_bytes()).unwrap();
                if i % 64 == 0 {
                    process::yield_now().unwrap();
                }
            }
            tx.send(()).unwrap();
        })
        .unwrap();
    }
    // Processes that die holding a name while a plain thread keeps looking the name up.
    let rt2 = rt.clone();
    let churn = std::thread::spawn(move || {
        for _ in 0..500 {
            let p = rt2
                .spawn(|| {
                    let _ = process::receive(None);
                })
                .unwrap();
            rt2.register(b"churn", p).unwrap();
            rt2.send(p, b"stop").unwrap();
            while rt2.is_alive(p) {
                let _ = rt2.whereis(b"churn");
            }
            // The process is gone: its name must be too.
            assert_eq!(rt2.whereis(b"churn").unwrap(), Pid::NONE);
        }
    });
    for _ in 0..4 {
        rx.recv().unwrap();
    }
    churn.join().unwrap();
}

/// `sleep` waits at least the time asked, takes no message, and leaves messages queued.
#[test]
fn sleep_waits_and_keeps_messages() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        process::spawn(move || process::send(me, b"early").unwrap()).unwrap();
        let t0 = Instant::now();
        process::sleep(50).unwrap();
        let e = t0.elapsed().as_millis();
        assert!((50..1000).contains(&e), "slept {e} ms");
        assert_eq!(process::receive(Some(0)).unwrap().data(), b"early");
        process::sleep(0).unwrap(); // just yields
    })
    .unwrap();
    assert_eq!(process::sleep(1).unwrap_err().0, Status::ErrNotAProcess);
}

/// The registry invariant under concurrency, observed through DOWN messages: four
/// processes at once register short-lived processes under shared names, monitor them, kill
/// them, and after each DOWN the name no longer resolves to the dead pid (cases 82–83);
/// another keeps looking the names up meanwhile.
#[test]
fn no_name_resolves_to_a_dead_pid_after_its_down() {
    let rt = rt(2);
    rt.run(|| {
        let me = process::self_pid();
        for w in 0..4u64 {
            process::spawn(move || {
                for i in 0..500u64 {
                    let name = format!("d{}", (w + i) % 8);
                    let p = process::spawn(|| loop {
                        let _ = process::receive(None);
                    })
                    .unwrap();
                    // The name may be held by another worker's process right now.
                    if process::register(name.as_bytes(), p).is_err() {
                        process::exit_pid(p, hive_rt::ExitReason::Kill).unwrap();
                        continue;
                    }
                    let m = process::monitor(p).unwrap();
                    process::exit_pid(p, hive_rt::ExitReason::error("bye")).unwrap();
                    let d = process::receive_select(Some(10_000), |x| x.monitor_ref() == m)
                        .expect("DOWN");
                    assert_eq!(d.sender(), p);
                    assert_ne!(process::whereis(name.as_bytes()).unwrap(), p, "{name}");
                }
                process::send(me, b"done").unwrap();
            })
            .unwrap();
        }
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = stop.clone();
        process::spawn(move || {
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                for k in 0..8 {
                    let _ = process::whereis(format!("d{k}").as_bytes()).unwrap();
                }
                process::yield_now().unwrap();
            }
        })
        .unwrap();
        for _ in 0..4 {
            assert_eq!(process::receive(Some(60_000)).unwrap().data(), b"done");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
}
