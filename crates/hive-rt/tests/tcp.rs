//! TCP for processes (`hive_rt::net`), on real sockets over loopback: a process blocked in
//! accept, connect, receive or send is suspended, not its worker; ownership, close, stale
//! handles, kill while blocked, peer close, half-close, timeouts, several acceptors in
//! order, a large transfer with a checksum. Synchronised with messages and monitors only;
//! every timeout is a failure bound.

mod common;
use common::signals::down_reason;
use common::*;
use hive_rt::net::{self, Socket};
use hive_rt::{process, ExitReason, Pid, Status};
use std::net::SocketAddr;

/// Failure bound of every wait, in ms.
const BOUND: u32 = 30_000;

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn sock_b(s: Socket) -> [u8; 8] {
    s.0.to_le_bytes()
}

fn b_sock(b: &[u8]) -> Socket {
    Socket(bu64(b))
}

fn err<T: std::fmt::Debug>(r: Result<T, hive_rt::Error>) -> Status {
    r.expect_err("an error").0
}

#[test]
fn echo_between_processes_with_one_scheduler() {
    // One scheduler: if a blocked accept or receive held the worker, nothing else could run.
    let rt = rt(1);
    let reason = rt
        .run(|| {
            let l = net::tcp_listen(any_port(), 0, net::LISTEN_REUSEADDR).unwrap();
            let addr = net::local_addr(l).unwrap();
            let server = process::spawn(move || {
                let s = net::tcp_accept(l, Some(BOUND)).unwrap();
                let mut buf = [0u8; 64];
                loop {
                    match net::recv(s, &mut buf, 0, Some(BOUND)) {
                        Ok(n) => net::send(s, &buf[..n], Some(BOUND)).unwrap(),
                        Err(e) => {
                            assert_eq!(e.0, Status::ErrPeerClosed);
                            break;
                        }
                    }
                }
            })
            .unwrap();
            // `l` is owned by this process; the server may accept on it all the same.
            let mref = process::monitor(server).unwrap();
            let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
            for i in 0..100u32 {
                let msg = i.to_le_bytes();
                net::send(c, &msg, Some(BOUND)).unwrap();
                let mut back = [0u8; 4];
                assert_eq!(net::recv(c, &mut back, 4, Some(BOUND)).unwrap(), 4);
                assert_eq!(back, msg);
            }
            net::close(c).unwrap();
            assert!(down_reason(mref).is_normal());
        })
        .unwrap();
    assert!(reason.is_normal(), "{reason:?}");
    rt.shutdown();
}

/// Yields until `pid` is suspended (after its last message to us, only the socket call
/// can suspend it).
fn wait_until_waiting(pid: Pid) {
    let end = std::time::Instant::now() + std::time::Duration::from_millis(BOUND as u64);
    loop {
        let info = process::process_info(pid).unwrap().expect("alive");
        if info.status == hive_rt::ProcessStatus::Waiting {
            return;
        }
        assert!(std::time::Instant::now() < end, "{pid:?} never blocked");
        process::yield_now().unwrap();
    }
}

/// A listener and its address, owned by the calling process.
fn listener() -> (Socket, SocketAddr) {
    let l = net::tcp_listen(any_port(), 0, net::LISTEN_REUSEADDR).unwrap();
    (l, net::local_addr(l).unwrap())
}

#[test]
fn timeouts_come_back_with_what_arrived() {
    run_with_sockets(2, || {
        let (l, addr) = listener();
        assert_eq!(err(net::tcp_accept(l, Some(0))), Status::Timeout);
        assert_eq!(err(net::tcp_accept(l, Some(20))), Status::Timeout);
        let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
        let s = net::tcp_accept(l, Some(BOUND)).unwrap();
        net::send(c, b"abc", Some(BOUND)).unwrap();
        let mut buf = [0u8; 8];
        // Asks for 8, only 3 come: Timeout, and the 3 are in the buffer.
        let (n, r) = net::recv_partial(s, &mut buf, 8, Some(30));
        assert_eq!(r.unwrap_err().0, Status::Timeout);
        assert_eq!(&buf[..n], b"abc");
        // A poll finds nothing.
        assert_eq!(err(net::recv(s, &mut buf, 0, Some(0))), Status::Timeout);
        for h in [c, s, l] {
            net::close(h).unwrap();
        }
    });
}

#[test]
fn a_closed_handle_is_refused_even_after_its_descriptor_is_reused() {
    run_with_sockets(1, || {
        let (l, addr) = listener();
        let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
        net::close(c).unwrap();
        assert_eq!(err(net::close(c)), Status::ErrClosed);
        // The OS reuses the lowest free descriptor, and Hive its slot: a new connection
        // gets both, with another generation.
        let c2 = net::tcp_connect(addr, Some(BOUND)).unwrap();
        assert_ne!(c, c2);
        assert_eq!(c.0 & 0xffff_ffff, c2.0 & 0xffff_ffff, "slot reused");
        assert_eq!(err(net::send(c, b"x", Some(0))), Status::ErrClosed);
        let mut b = [0u8; 1];
        assert_eq!(err(net::recv(c, &mut b, 0, Some(0))), Status::ErrClosed);
        assert_eq!(err(net::local_addr(c)), Status::ErrClosed);
        net::send(c2, b"x", Some(BOUND)).unwrap();
        // Handles that never named a socket.
        for bad in [Socket(0), Socket(u64::MAX), Socket(12345 << 32 | 7)] {
            assert_eq!(err(net::close(bad)), Status::ErrClosed);
            assert_eq!(err(net::send(bad, b"x", Some(0))), Status::ErrClosed);
        }
        // Bad arguments.
        assert_eq!(
            err(net::recv(c2, &mut [], 0, Some(0))),
            Status::ErrBadLength
        );
        assert_eq!(err(net::recv(c2, &mut b, 2, Some(0))), Status::ErrBadLength);
        assert_eq!(
            err(net::recv(l, &mut b, 0, Some(0))),
            Status::ErrBadArgument
        );
        assert_eq!(err(net::send(l, b"x", Some(0))), Status::ErrBadArgument);
        assert_eq!(err(net::tcp_accept(c2, Some(0))), Status::ErrBadArgument);
        assert_eq!(err(net::tcp_connect(addr, Some(0))), Status::ErrBadArgument);
        assert_eq!(
            err(net::tcp_listen(any_port(), -1, 0)),
            Status::ErrBadArgument
        );
        assert_eq!(
            err(net::tcp_listen(any_port(), 0, 1 << 9)),
            Status::ErrBadArgument
        );
        net::close(c2).unwrap();
        net::close(l).unwrap();
    });
}

#[test]
fn calls_from_a_plain_thread_are_refused() {
    let _rt = rt(1);
    assert_eq!(
        err(net::tcp_listen(any_port(), 0, 0)),
        Status::ErrNotAProcess
    );
    assert_eq!(err(net::close(Socket(1 << 32 | 1))), Status::ErrNotAProcess);
    let (_, r) = net::recv_partial(Socket(1), &mut [0u8; 4], 0, None);
    assert_eq!(r.unwrap_err().0, Status::ErrNotAProcess);
}

#[test]
fn refused_connection_and_address_in_use() {
    run_with_sockets(1, || {
        let (l, addr) = listener();
        assert_eq!(err(net::tcp_listen(addr, 0, 0)), Status::ErrAddrInUse);
        net::close(l).unwrap();
        // Nobody listens there any more.
        assert_eq!(
            err(net::tcp_connect(addr, Some(BOUND))),
            Status::ErrConnRefused
        );
        assert_eq!(net::last_errno().unwrap(), libc_econnrefused());
    });
}

fn libc_econnrefused() -> i32 {
    111 // ECONNREFUSED on Linux
}

#[test]
fn only_the_owner_receives_until_it_hands_the_socket_over() {
    run_with_sockets(2, || {
        let (l, addr) = listener();
        let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
        let s = net::tcp_accept(l, Some(BOUND)).unwrap();
        net::send(c, b"hello", Some(BOUND)).unwrap();
        let me = process::self_pid();
        let other = process::spawn(move || {
            let m = process::receive(Some(BOUND)).unwrap();
            let s = b_sock(m.data());
            let mut buf = [0u8; 5];
            let r = net::recv(s, &mut buf, 5, Some(0));
            process::send(me, &(r.unwrap_err().0 as i32).to_le_bytes()).unwrap();
            // Wait to be made the owner.
            let _ = process::receive(Some(BOUND)).unwrap();
            assert_eq!(net::recv(s, &mut buf, 5, Some(BOUND)).unwrap(), 5);
            assert_eq!(&buf, b"hello");
            // Sending is open to any process; this one owns `s` now and exits: `s` closes.
        })
        .unwrap();
        let mref = process::monitor(other).unwrap();
        process::send(other, &sock_b(s)).unwrap();
        let m = process::receive(Some(BOUND)).unwrap();
        assert_eq!(
            i32::from_le_bytes(m.data().try_into().unwrap()),
            Status::ErrNotOwner as i32
        );
        assert_eq!(
            err(net::controlling_process(s, Pid(0))),
            Status::ErrNoProcess
        );
        net::controlling_process(s, other).unwrap();
        assert_eq!(
            err(net::controlling_process(s, me)),
            Status::ErrNotOwner,
            "no longer the owner"
        );
        process::send(other, b"go").unwrap();
        assert!(down_reason(mref).is_normal());
        // The new owner's exit closed the socket: the peer sees end of stream.
        let mut b = [0u8; 1];
        assert_eq!(
            err(net::recv(c, &mut b, 0, Some(BOUND))),
            Status::ErrPeerClosed
        );
        assert_eq!(err(net::close(s)), Status::ErrClosed);
        net::close(c).unwrap();
        net::close(l).unwrap();
    });
}

/// Spawns a process that opens a connection to `addr` and blocks in `what`, monitors it,
/// waits until it reports it is about to block, then kills it; returns the DOWN reason.
fn kill_while_blocked(addr: SocketAddr, l: Socket, what: &'static str) -> ExitReason {
    let me = process::self_pid();
    let victim = process::spawn(move || {
        match what {
            "accept" => {
                process::send(me, b"ready").unwrap();
                let _ = net::tcp_accept(l, None);
            }
            "recv" => {
                let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
                process::send(me, b"ready").unwrap();
                let _ = net::recv(c, &mut [0u8; 16], 0, None);
            }
            "send" => {
                let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
                net::set_option(c, net::SockOpt::SendBuffer, 4096).unwrap();
                process::send(me, b"ready").unwrap();
                // Nobody reads the other end: the send blocks once the buffers are full.
                let big = vec![7u8; 64 << 20];
                let _ = net::send(c, &big, None);
            }
            "connect" => {
                process::send(me, b"ready").unwrap();
                // The listener's backlog is full and nobody accepts: the SYN goes
                // unanswered and the connect waits.
                let _ = net::tcp_connect(addr, None);
            }
            _ => unreachable!(),
        }
        unreachable!("the blocked call returned");
    })
    .unwrap();
    let mref = process::monitor(victim).unwrap();
    assert_eq!(process::receive(Some(BOUND)).unwrap().data(), b"ready");
    wait_until_waiting(victim);
    process::exit_pid(victim, ExitReason::Kill).unwrap();
    down_reason(mref)
}

#[test]
fn a_process_killed_while_blocked_dies_at_once_and_its_sockets_close() {
    run_with_sockets(2, || {
        let (l, addr) = listener();
        for what in ["accept", "recv", "send"] {
            let before = net::open_sockets().unwrap();
            let reason = kill_while_blocked(addr, l, what);
            assert_eq!(reason, ExitReason::Killed, "{what}");
            // Accept the connections the victims made, and drop them.
            while let Ok(s) = net::tcp_accept(l, Some(0)) {
                net::close(s).unwrap();
            }
            assert_eq!(
                net::open_sockets().unwrap(),
                before,
                "{what}: the victim's socket closed"
            );
        }
        // Several acceptors can still use the listener the killed acceptor waited on.
        let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
        let s = net::tcp_accept(l, Some(BOUND)).unwrap();
        net::close(c).unwrap();
        net::close(s).unwrap();
        net::close(l).unwrap();
    });
}

#[test]
fn a_process_killed_while_connecting_dies_at_once() {
    run_with_sockets(2, || {
        let l = net::tcp_listen(any_port(), 1, net::LISTEN_REUSEADDR).unwrap();
        let addr = net::local_addr(l).unwrap();
        // Fill the backlog (never accepted): later SYNs are dropped, connects wait.
        let mut fill = Vec::new();
        let mut blocked = false;
        for _ in 0..16 {
            match net::tcp_connect(addr, Some(200)) {
                Ok(c) => fill.push(c),
                Err(e) => {
                    assert_eq!(e.0, Status::Timeout);
                    blocked = true;
                    break;
                }
            }
        }
        assert!(blocked, "a connect to a full backlog waits");
        let reason = kill_while_blocked(addr, l, "connect");
        assert_eq!(reason, ExitReason::Killed);
        for c in fill {
            net::close(c).unwrap();
        }
        net::close(l).unwrap();
    });
}

#[test]
fn close_wakes_the_waiters_and_acceptors_are_served_in_order() {
    run_with_sockets(2, || {
        let (l, addr) = listener();
        let me = process::self_pid();
        let mut acceptors = Vec::new();
        for i in 0..4u64 {
            let p = process::spawn(move || {
                process::send(me, &u64b(i)).unwrap();
                let r = net::tcp_accept(l, None);
                match r {
                    Ok(s) => {
                        // Which connection: the client sent its number.
                        let mut b = [0u8; 8];
                        net::recv(s, &mut b, 8, Some(BOUND)).unwrap();
                        let mut out = u64b(i).to_vec();
                        out.extend_from_slice(&b);
                        process::send(me, &out).unwrap();
                    }
                    Err(e) => {
                        process::send(me, &[0xEE, e.0 as i32 as u8]).unwrap();
                    }
                }
            })
            .unwrap();
            // Each acceptor is queued before the next starts.
            assert_eq!(bu64(process::receive(Some(BOUND)).unwrap().data()), i);
            wait_until_waiting(p);
            acceptors.push(p);
        }
        // Two connections: the first two acceptors get them, in order.
        let mut conns = Vec::new();
        for k in 0..2u64 {
            let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
            net::send(c, &u64b(100 + k), Some(BOUND)).unwrap();
            let m = process::receive(Some(BOUND)).unwrap();
            assert_eq!(bu64(&m.data()[..8]), k, "acceptor {k} served in order");
            assert_eq!(bu64(&m.data()[8..]), 100 + k);
            conns.push(c);
        }
        // Closing the listener wakes the other two with ErrClosed.
        net::close(l).unwrap();
        for _ in 0..2 {
            let m = process::receive(Some(BOUND)).unwrap();
            assert_eq!(m.data(), &[0xEE, Status::ErrClosed as i32 as u8]);
        }
        for c in conns {
            net::close(c).unwrap();
        }
    });
}

#[test]
fn half_close_and_peer_reset() {
    run_with_sockets(2, || {
        let (l, addr) = listener();
        let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
        let s = net::tcp_accept(l, Some(BOUND)).unwrap();
        // Half-close: the client stops sending, the server reads end of stream and can
        // still answer.
        net::send(c, b"last words", Some(BOUND)).unwrap();
        net::shutdown(c, net::Shutdown::Write).unwrap();
        let mut buf = [0u8; 32];
        let (n, r) = net::recv_partial(s, &mut buf, 32, Some(BOUND));
        assert_eq!(r.unwrap_err().0, Status::ErrPeerClosed);
        assert_eq!(&buf[..n], b"last words");
        net::send(s, b"reply", Some(BOUND)).unwrap();
        assert_eq!(net::recv(c, &mut buf, 5, Some(BOUND)).unwrap(), 5);
        assert_eq!(&buf[..5], b"reply");
        // Reset: unread data at close makes the kernel send RST.
        net::send(c, b"unread", Some(BOUND)).ok();
        net::send(s, b"unread by c", Some(BOUND)).unwrap();
        net::close(c).unwrap();
        // The server's receive or send now fails with reset or end of stream, never
        // crashes, never SIGPIPE.
        let mut got = Vec::new();
        for _ in 0..100 {
            match net::send(s, &[1u8; 1024], Some(BOUND)) {
                Ok(()) => {}
                Err(e) => {
                    got.push(e.0);
                    break;
                }
            }
        }
        assert_eq!(got, vec![Status::ErrConnReset]);
        net::close(s).unwrap();
        net::close(l).unwrap();
    });
}

#[test]
fn a_large_transfer_arrives_whole() {
    // 1 GiB with a checksum, both ends processes on a 2-scheduler runtime.
    const TOTAL: usize = 1 << 30;
    run_with_sockets(2, || {
        let (l, addr) = listener();
        let me = process::self_pid();
        let sender = process::spawn(move || {
            let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
            let mut chunk = vec![0u8; 1 << 20];
            let mut sum = 0u64;
            let mut x = 0x1234_5678u32;
            for _ in 0..TOTAL / chunk.len() {
                for b in chunk.iter_mut() {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    *b = (x >> 24) as u8;
                }
                sum = chunk
                    .iter()
                    .fold(sum, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
                net::send(c, &chunk, Some(BOUND)).unwrap();
            }
            net::close(c).unwrap();
            process::send(me, &u64b(sum)).unwrap();
        })
        .unwrap();
        let s = net::tcp_accept(l, Some(BOUND)).unwrap();
        let mut buf = vec![0u8; 256 << 10];
        let mut sum = 0u64;
        let mut total = 0usize;
        loop {
            match net::recv(s, &mut buf, 0, Some(BOUND)) {
                Ok(n) => {
                    sum = buf[..n]
                        .iter()
                        .fold(sum, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
                    total += n;
                }
                Err(e) => {
                    assert_eq!(e.0, Status::ErrPeerClosed);
                    break;
                }
            }
        }
        assert_eq!(total, TOTAL);
        let m = process::receive_select(Some(BOUND), |m| m.sender() == sender).unwrap();
        assert_eq!(bu64(m.data()), sum, "checksum");
        net::close(s).unwrap();
        net::close(l).unwrap();
    });
}

#[test]
fn a_handle_from_another_runtime_names_no_socket() {
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    let (closed_tx, closed_rx) = std::sync::mpsc::channel::<bool>();
    let a = rt(1);
    let b = rt(1);
    let holder = a
        .spawn(move || {
            let (l, _) = listener();
            tx.send(l.0).unwrap();
            // Keep it open until the other runtime has tried it.
            let _ = process::receive(Some(BOUND));
            closed_tx.send(net::close(l).is_ok()).unwrap();
        })
        .unwrap();
    let foreign = Socket(rx.recv().unwrap());
    // In `b`, a socket open in the same slot.
    let r = b
        .run(move || {
            let (mine, _) = listener();
            assert_eq!(mine.0 & 0xffff_ffff, foreign.0 & 0xffff_ffff, "same slot");
            assert_ne!(mine, foreign, "another generation");
            assert_eq!(err(net::local_addr(foreign)), Status::ErrClosed);
            assert_eq!(err(net::close(foreign)), Status::ErrClosed);
            net::close(mine).unwrap();
        })
        .unwrap();
    assert!(r.is_normal(), "{r:?}");
    a.send(holder, b"done").unwrap();
    // The holder's own socket was untouched by `b`'s calls: it closes normally. (Waited
    // for on a channel: the holder may be gone before a wait for its exit would start.)
    let closed = closed_rx.recv_timeout(std::time::Duration::from_millis(BOUND as u64));
    assert_eq!(closed, Ok(true));
    a.shutdown();
    b.shutdown();
}

#[test]
fn sockets_are_served_while_every_worker_is_busy() {
    // One scheduler, kept busy by a process that only yields: the worker never sleeps, so
    // only its periodic poll can wake the receiver.
    run_with_sockets(1, || {
        let (l, addr) = listener();
        let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
        let s = net::tcp_accept(l, Some(BOUND)).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = stop.clone();
        let spinner = process::spawn(move || {
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                process::yield_now().unwrap();
            }
        })
        .unwrap();
        let mref = process::monitor(spinner).unwrap();
        let me = process::self_pid();
        let reader = process::spawn(move || {
            let mut b = [0u8; 5];
            net::recv(s, &mut b, 5, Some(BOUND)).unwrap();
            process::send(me, &b).unwrap();
        })
        .unwrap();
        net::controlling_process(s, reader).unwrap();
        wait_until_waiting(reader);
        net::send(c, b"polls", Some(BOUND)).unwrap();
        let m = process::receive_select(Some(BOUND), |m| m.sender() == reader).unwrap();
        assert_eq!(m.data(), b"polls");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(down_reason(mref).is_normal());
        net::close(c).unwrap();
        net::close(l).unwrap();
    });
}

#[test]
fn ipv6_loopback_with_v6_only() {
    // Runs where the machine has IPv6 loopback (a plain std bind tells); says so otherwise.
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    }
    run_with_sockets(1, || {
        let l = net::tcp_listen(
            "[::1]:0".parse().unwrap(),
            0,
            net::LISTEN_REUSEADDR | net::LISTEN_IPV6_ONLY,
        )
        .unwrap();
        let addr = net::local_addr(l).unwrap();
        assert!(addr.is_ipv6());
        let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
        let s = net::tcp_accept(l, Some(BOUND)).unwrap();
        assert_eq!(net::peer_addr(s).unwrap(), net::local_addr(c).unwrap());
        net::send(c, b"v6", Some(BOUND)).unwrap();
        let mut b = [0u8; 2];
        net::recv(s, &mut b, 2, Some(BOUND)).unwrap();
        assert_eq!(&b, b"v6");
        for h in [c, s, l] {
            net::close(h).unwrap();
        }
    });
}
