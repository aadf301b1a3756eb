//! The blocking pool (`process::blocking_call`, `net::resolve`): a blocking function runs on
//! a thread that is not a worker and its result arrives as a `Reply` message with the
//! call's reference; more calls than pool threads wait their turn; name resolution on top.
//! Synchronised with messages and OS channels; timeouts are failure bounds.

mod common;
use common::*;
use hive_rt::{net, process, MessageKind, Pid, Status};
use std::sync::mpsc;

const BOUND: u32 = 30_000;

#[test]
fn a_blocking_function_holds_no_worker_and_its_result_comes_as_a_message() {
    // One scheduler: while the function blocks, another process must run to release it.
    let rt = rt(1);
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_tx = std::sync::Mutex::new(Some(release_tx));
    let reason = rt
        .run(move || {
            let r = process::blocking_call(move || {
                release_rx.recv().unwrap(); // blocks this pool thread only
                b"done".to_vec()
            })
            .unwrap();
            assert_ne!(r, 0);
            let tx = release_tx.lock().unwrap().take().unwrap();
            let me = process::self_pid();
            process::spawn(move || {
                tx.send(()).unwrap();
                process::send(me, b"released").unwrap();
            })
            .unwrap();
            let m = process::receive_select(Some(BOUND), |m| m.data() == b"released").unwrap();
            assert_eq!(m.kind(), MessageKind::Data);
            let reply = process::receive_select(Some(BOUND), |m| m.call_ref() == r).unwrap();
            assert_eq!(reply.kind(), MessageKind::Reply);
            assert_eq!(reply.data(), b"done");
            assert_eq!(reply.sender(), Pid::NONE);
            assert_eq!(reply.timer_ref(), 0);
        })
        .unwrap();
    assert!(reason.is_normal(), "{reason:?}");
    rt.shutdown();
}

#[test]
fn more_calls_than_pool_threads_all_complete() {
    let rt = rt(2);
    let reason = rt
        .run(|| {
            let mut refs = Vec::new();
            for i in 0..100u64 {
                let r = process::blocking_call(move || {
                    std::thread::yield_now();
                    u64b(i * 3).to_vec()
                })
                .unwrap();
                refs.push((r, i));
            }
            // A panicking function gives an empty reply.
            let p = process::blocking_call(|| panic!("in the pool")).unwrap();
            for (r, i) in refs {
                let m = process::receive_select(Some(BOUND), |m| m.call_ref() == r).unwrap();
                assert_eq!(bu64(m.data()), i * 3);
            }
            let m = process::receive_select(Some(BOUND), |m| m.call_ref() == p).unwrap();
            assert!(m.data().is_empty());
        })
        .unwrap();
    assert!(reason.is_normal(), "{reason:?}");
    rt.shutdown();
    // From a plain thread.
    assert_eq!(
        process::blocking_call(Vec::new).unwrap_err().0,
        Status::ErrNotAProcess
    );
}

#[test]
fn names_resolve_on_the_pool() {
    let rt = rt(1);
    let reason = rt
        .run(|| {
            let ips = net::resolve("localhost", Some(BOUND)).unwrap();
            assert!(ips.iter().any(|ip| ip.is_loopback()), "{ips:?}");
            let ips = net::resolve("127.0.0.1", Some(BOUND)).unwrap();
            assert_eq!(ips, vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
            assert_eq!(
                net::resolve("no-such-host.invalid", Some(BOUND))
                    .unwrap_err()
                    .0,
                Status::ErrNotFound
            );
            assert_eq!(
                net::resolve("", Some(BOUND)).unwrap_err().0,
                Status::ErrBadArgument
            );
            // The replies were all taken: nothing is left in the mailbox.
            assert!(process::receive(Some(0)).is_err());
            // Resolve, then connect by name.
            let l =
                net::tcp_listen("127.0.0.1:0".parse().unwrap(), 0, net::LISTEN_REUSEADDR).unwrap();
            let port = net::local_addr(l).unwrap().port();
            let ip = net::resolve("localhost", Some(BOUND))
                .unwrap()
                .into_iter()
                .find(|ip| ip.is_ipv4())
                .unwrap();
            let c = net::tcp_connect((ip, port).into(), Some(BOUND)).unwrap();
            let s = net::tcp_accept(l, Some(BOUND)).unwrap();
            for h in [c, s, l] {
                net::close(h).unwrap();
            }
        })
        .unwrap();
    assert!(reason.is_normal(), "{reason:?}");
    rt.shutdown();
}
