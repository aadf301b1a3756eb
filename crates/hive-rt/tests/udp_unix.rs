//! UDP and Unix stream sockets for processes (`hive_rt::net`), on real sockets: datagrams
//! both ways with their senders' addresses, a receive that waits (suspended, with one
//! scheduler) until a datagram comes, ownership, and a Unix stream echo through the same
//! stream calls as TCP. Synchronised with messages; timeouts are failure bounds.

mod common;
use common::*;
use hive_rt::net;
use hive_rt::{process, Status};
use std::net::SocketAddr;

const BOUND: u32 = 30_000;

fn err<T: std::fmt::Debug>(r: Result<T, hive_rt::Error>) -> Status {
    r.expect_err("an error").0
}

#[test]
fn datagrams_both_ways_and_a_receive_that_waits() {
    // One scheduler: the waiting receiver must not hold the worker the sender needs.
    run_with_sockets(1, || {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let a = net::udp_open(any).unwrap();
        let a_addr = net::local_addr(a).unwrap();
        let me = process::self_pid();
        let b_proc = process::spawn(move || {
            let b = net::udp_open(any).unwrap();
            let b_addr = net::local_addr(b).unwrap();
            process::send(me, &b_addr.port().to_le_bytes()).unwrap();
            let mut buf = [0u8; 64];
            // Waits (suspended) for the first datagram.
            let (n, from) = net::udp_recv_from(b, &mut buf, Some(BOUND)).unwrap();
            assert_eq!(&buf[..n], b"ping");
            assert_eq!(from, a_addr);
            net::udp_send_to(b, from, b"pong", Some(BOUND)).unwrap();
            // Nothing more comes.
            assert_eq!(
                err(net::udp_recv_from(b, &mut buf, Some(10))),
                Status::Timeout
            );
            net::close(b).unwrap();
        })
        .unwrap();
        let mref = process::monitor(b_proc).unwrap();
        let m = process::receive(Some(BOUND)).unwrap();
        let port = u16::from_le_bytes(m.data().try_into().unwrap());
        let b_addr: SocketAddr = SocketAddr::new(a_addr.ip(), port);
        net::udp_send_to(a, b_addr, b"ping", Some(BOUND)).unwrap();
        let mut buf = [0u8; 2];
        // A datagram longer than the buffer is cut to it.
        let (n, from) = net::udp_recv_from(a, &mut buf, Some(BOUND)).unwrap();
        assert_eq!((n, &buf[..]), (2, &b"po"[..]));
        assert_eq!(from, b_addr);
        assert!(common::signals::down_reason(mref).is_normal());
        // Bad inputs.
        assert_eq!(
            err(net::udp_recv_from(a, &mut [], Some(0))),
            Status::ErrBadLength
        );
        let huge = vec![0u8; 70_000];
        assert_eq!(
            err(net::udp_send_to(a, b_addr, &huge, Some(0))),
            Status::ErrBadLength
        );
        assert_eq!(err(net::send(a, b"x", Some(0))), Status::ErrBadArgument);
        assert_eq!(err(net::tcp_accept(a, Some(0))), Status::ErrBadArgument);
        net::close(a).unwrap();
        assert_eq!(
            err(net::udp_send_to(a, b_addr, b"x", Some(0))),
            Status::ErrClosed
        );
    });
}

#[test]
fn only_the_owner_receives_datagrams() {
    run_with_sockets(2, || {
        let s = net::udp_open("127.0.0.1:0".parse().unwrap()).unwrap();
        let me = process::self_pid();
        process::spawn(move || {
            let r = net::udp_recv_from(s, &mut [0u8; 8], Some(0));
            process::send(me, &(r.unwrap_err().0 as i32).to_le_bytes()).unwrap();
        })
        .unwrap();
        let m = process::receive(Some(BOUND)).unwrap();
        assert_eq!(
            i32::from_le_bytes(m.data().try_into().unwrap()),
            Status::ErrNotOwner as i32
        );
        net::close(s).unwrap();
    });
}

#[test]
fn a_unix_stream_socket_works_with_the_stream_calls() {
    let dir = std::env::temp_dir().join(format!("hive-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    let p2 = path.clone();
    run_with_sockets(1, move || {
        let l = net::unix_listen(&p2, 0).unwrap();
        assert_eq!(err(net::unix_listen(&p2, 0)), Status::ErrAddrInUse);
        let p3 = p2.clone();
        let me = process::self_pid();
        process::spawn(move || {
            let c = net::unix_connect(&p3, Some(BOUND)).unwrap();
            net::send(c, b"over unix", Some(BOUND)).unwrap();
            let mut b = [0u8; 9];
            net::recv(c, &mut b, 9, Some(BOUND)).unwrap();
            assert_eq!(&b, b"over unix");
            net::close(c).unwrap();
            process::send(me, b"done").unwrap();
        })
        .unwrap();
        let s = net::tcp_accept(l, Some(BOUND)).unwrap();
        let mut b = [0u8; 9];
        net::recv(s, &mut b, 9, Some(BOUND)).unwrap();
        net::send(s, &b, Some(BOUND)).unwrap();
        assert_eq!(process::receive(Some(BOUND)).unwrap().data(), b"done");
        assert_eq!(
            err(net::recv(s, &mut b, 0, Some(BOUND))),
            Status::ErrPeerClosed
        );
        // A Unix socket has no IP address.
        assert_eq!(err(net::local_addr(s)), Status::ErrBadArgument);
        net::close(s).unwrap();
        net::close(l).unwrap();
        // Nobody listens any more (the file is still there).
        assert_eq!(
            err(net::unix_connect(&p2, Some(BOUND))),
            Status::ErrConnRefused
        );
        let long = std::path::PathBuf::from("/".repeat(200));
        assert_eq!(err(net::unix_listen(&long, 0)), Status::ErrBadLength);
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn active_udp_delivers_datagrams_with_their_senders_then_passive() {
    run_with_sockets(2, || {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let a = net::udp_open(any).unwrap();
        let b = net::udp_open(any).unwrap();
        let (a_addr, b_addr) = (net::local_addr(a).unwrap(), net::local_addr(b).unwrap());
        for i in 0..3u8 {
            net::udp_send_to(a, b_addr, &[i; 5], Some(BOUND)).unwrap();
        }
        net::set_option(b, net::SockOpt::Active, 2).unwrap();
        for i in 0..2u8 {
            let m = process::receive_select(Some(BOUND), |m| m.socket() == b).unwrap();
            assert_eq!(m.kind(), hive_rt::MessageKind::Udp);
            assert_eq!(m.data(), &[i; 5]);
            assert_eq!(m.udp_from(), Some(a_addr));
            assert_eq!(m.sender(), hive_rt::Pid::NONE);
        }
        let m = process::receive_select(Some(BOUND), |m| m.socket() == b).unwrap();
        assert_eq!(m.kind(), hive_rt::MessageKind::TcpPassive);
        // The third stays for a passive receive; an active socket refuses one.
        let mut buf = [0u8; 16];
        let (n, from) = net::udp_recv_from(b, &mut buf, Some(BOUND)).unwrap();
        assert_eq!((&buf[..n], from), (&[2u8; 5][..], a_addr));
        net::set_option(b, net::SockOpt::Active, -1).unwrap();
        assert_eq!(
            err(net::udp_recv_from(b, &mut buf, Some(0))),
            Status::ErrBadArgument
        );
        // A datagram arriving later is delivered too.
        net::udp_send_to(a, b_addr, b"late", Some(BOUND)).unwrap();
        let m = process::receive_select(Some(BOUND), |m| m.socket() == b).unwrap();
        assert_eq!(
            (m.kind(), m.data()),
            (hive_rt::MessageKind::Udp, &b"late"[..])
        );
        assert_eq!(net::option(b, net::SockOpt::Active).unwrap(), 0);
        net::close(a).unwrap();
        net::close(b).unwrap();
    });
}
