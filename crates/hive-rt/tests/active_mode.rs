//! Active mode (`{active, once | N}` and `{packet, …}` of `inet:setopts/2`): a socket's
//! frames, end of stream and errors arrive in its owner's mailbox as messages, bounded by
//! the active count; what is not delivered stays for a later passive receive, which with a
//! packet mode gets one whole frame. Real sockets
//! on loopback; synchronised with messages; timeouts are failure bounds.

mod common;
use common::*;
use hive_rt::net::{self, SockOpt, Socket};
use hive_rt::{process, Message, MessageKind, Status};

const BOUND: u32 = 30_000;

/// A connected pair (client, server side), both owned by the caller.
fn pair() -> (Socket, Socket, Socket) {
    let l = net::tcp_listen("127.0.0.1:0".parse().unwrap(), 0, net::LISTEN_REUSEADDR).unwrap();
    let addr = net::local_addr(l).unwrap();
    let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
    let s = net::tcp_accept(l, Some(BOUND)).unwrap();
    (l, c, s)
}

/// The next socket message about `s`.
fn next(s: Socket) -> Message {
    process::receive_select(Some(BOUND), |m| m.socket() == s).expect("a socket message")
}

#[test]
fn once_delivers_one_message_and_the_rest_waits_for_a_receive() {
    run_with_sockets(1, || {
        let (l, c, s) = pair();
        net::send(c, b"first", Some(BOUND)).unwrap();
        net::set_option(s, SockOpt::Active, -1).unwrap();
        let m = next(s);
        assert_eq!(m.kind(), MessageKind::Tcp);
        assert_eq!(m.data(), b"first");
        assert_eq!(m.sender(), hive_rt::Pid::NONE);
        // Passive again: the next bytes are not delivered, a receive gets them.
        assert_eq!(net::option(s, SockOpt::Active).unwrap(), 0);
        net::send(c, b"second", Some(BOUND)).unwrap();
        let mut b = [0u8; 6];
        net::recv(s, &mut b, 6, Some(BOUND)).unwrap();
        assert_eq!(&b, b"second");
        // Receiving is refused while active; active mode is the owner's.
        net::set_option(s, SockOpt::Active, -1).unwrap();
        assert_eq!(
            net::recv(s, &mut b, 0, Some(0)).unwrap_err().0,
            Status::ErrBadArgument
        );
        let me = process::self_pid();
        process::spawn(move || {
            let r = net::set_option(s, SockOpt::Active, 3);
            process::send(me, &(r.unwrap_err().0 as i32).to_le_bytes()).unwrap();
        })
        .unwrap();
        let m = process::receive_select(Some(BOUND), |m| m.kind() == MessageKind::Data).unwrap();
        assert_eq!(
            i32::from_le_bytes(m.data().try_into().unwrap()),
            Status::ErrNotOwner as i32
        );
        // Bad values.
        assert_eq!(
            net::set_option(s, SockOpt::Active, -2).unwrap_err().0,
            Status::ErrBadArgument
        );
        assert_eq!(
            net::set_option(s, SockOpt::Packet, 3).unwrap_err().0,
            Status::ErrBadArgument
        );
        assert_eq!(
            net::set_option(l, SockOpt::Active, 1).unwrap_err().0,
            Status::ErrBadArgument
        );
        // End of stream as a message.
        net::close(c).unwrap();
        let m = next(s);
        assert_eq!(m.kind(), MessageKind::TcpClosed);
        for h in [s, l] {
            net::close(h).unwrap();
        }
    });
}

#[test]
fn active_n_with_length_prefixes_delivers_n_frames_then_passive() {
    run_with_sockets(2, || {
        let (l, c, s) = pair();
        net::set_option(s, SockOpt::Packet, 2).unwrap();
        assert_eq!(net::option(s, SockOpt::Packet).unwrap(), 2);
        // Five frames in one write, the last split across two.
        let mut wire = Vec::new();
        for i in 0..5u8 {
            let body = vec![i; i as usize + 1];
            wire.extend_from_slice(&(body.len() as u16).to_be_bytes());
            wire.extend_from_slice(&body);
        }
        let (a, b) = wire.split_at(wire.len() - 2);
        net::send(c, a, Some(BOUND)).unwrap();
        net::set_option(s, SockOpt::Active, 3).unwrap();
        for i in 0..3u8 {
            let m = next(s);
            assert_eq!(m.kind(), MessageKind::Tcp);
            assert_eq!(m.data(), vec![i; i as usize + 1].as_slice());
        }
        assert_eq!(next(s).kind(), MessageKind::TcpPassive);
        assert_eq!(net::option(s, SockOpt::Active).unwrap(), 0);
        // The rest completes and comes with the next activation.
        net::send(c, b, Some(BOUND)).unwrap();
        net::set_option(s, SockOpt::Active, 5).unwrap();
        assert_eq!(next(s).data(), &[3u8; 4]);
        assert_eq!(next(s).data(), &[4u8; 5]);
        assert_eq!(net::option(s, SockOpt::Active).unwrap(), 3);
        // A frame too large for active mode is an error, and the last message.
        net::send(c, &[0xff, 0xff], Some(BOUND)).unwrap();
        net::set_option(s, SockOpt::Packet, 4).unwrap();
        net::send(c, &[0xff, 0xff], Some(BOUND)).unwrap(); // length ffffffff
        let m = next(s);
        assert_eq!(m.kind(), MessageKind::TcpError);
        let st = i32::from_le_bytes(m.data()[..4].try_into().unwrap());
        let errno = i32::from_le_bytes(m.data()[4..8].try_into().unwrap());
        assert_eq!(st, Status::ErrBadLength as i32);
        assert_eq!(errno, 90, "EMSGSIZE");
        for h in [c, s, l] {
            net::close(h).unwrap();
        }
    });
}

#[test]
fn lines_and_a_flood_that_stays_bounded() {
    run_with_sockets(2, || {
        let (l, c, s) = pair();
        net::set_option(s, SockOpt::Packet, -1).unwrap();
        net::send(c, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n", Some(BOUND)).unwrap();
        net::set_option(s, SockOpt::Active, 3).unwrap();
        assert_eq!(next(s).data(), b"GET / HTTP/1.0\r\n");
        assert_eq!(next(s).data(), b"Host: x\r\n");
        assert_eq!(next(s).data(), b"\r\n");
        assert_eq!(next(s).kind(), MessageKind::TcpPassive);
        // A flood: 4 MiB arrive, the owner asked for 10 raw messages. It gets those and
        // TcpPassive; the rest stays in the kernel (and the client's send buffer).
        net::set_option(s, SockOpt::Packet, 0).unwrap();
        let me = process::self_pid();
        let flooder = process::spawn(move || {
            let _ = net::send(c, &vec![7u8; 4 << 20], Some(BOUND));
            process::send(me, b"flooded").unwrap();
        })
        .unwrap();
        net::set_option(s, SockOpt::Active, 10).unwrap();
        let mut got = 0usize;
        for _ in 0..10 {
            let m = next(s);
            assert_eq!(m.kind(), MessageKind::Tcp);
            got += m.len();
        }
        assert_eq!(next(s).kind(), MessageKind::TcpPassive);
        assert!(got < 4 << 20);
        // No more socket messages: only the flooder's note may be queued.
        let queued = process::process_info(process::self_pid())
            .unwrap()
            .unwrap()
            .mailbox_len;
        assert!(queued <= 1, "{queued} messages queued");
        // Drain the rest passively so the flooder finishes.
        let mut buf = vec![0u8; 1 << 16];
        while got < 4 << 20 {
            got += net::recv(s, &mut buf, 0, Some(BOUND)).unwrap();
        }
        assert_eq!(got, 4 << 20);
        let m = process::receive_select(Some(BOUND), |m| m.sender() == flooder).unwrap();
        assert_eq!(m.data(), b"flooded");
        for h in [c, s, l] {
            net::close(h).unwrap();
        }
    });
}

#[test]
fn an_active_socket_closes_with_its_owner_and_errors_arrive_as_messages() {
    run_with_sockets(2, || {
        let (l, c, s) = pair();
        let me = process::self_pid();
        let owner = process::spawn(move || {
            let _ = process::receive(Some(BOUND)).unwrap(); // the hand-over
            net::set_option(s, SockOpt::Active, -1).unwrap();
            let m = next(s);
            process::send(me, &[m.kind() as u8]).unwrap();
            let _ = process::receive(None); // until killed
        })
        .unwrap();
        let mref = process::monitor(owner).unwrap();
        net::controlling_process(s, owner).unwrap();
        process::send(owner, b"yours").unwrap();
        net::send(c, b"x", Some(BOUND)).unwrap();
        let m = process::receive_select(Some(BOUND), |m| m.sender() == owner).unwrap();
        assert_eq!(m.data(), &[MessageKind::Tcp as u8]);
        process::exit_pid(owner, hive_rt::ExitReason::Kill).unwrap();
        assert_eq!(
            common::signals::down_reason(mref),
            hive_rt::ExitReason::Killed
        );
        let mut b = [0u8; 1];
        assert_eq!(
            net::recv(c, &mut b, 0, Some(BOUND)).unwrap_err().0,
            Status::ErrPeerClosed
        );
        // A reset arrives as TcpError.
        let (l2, c2, s2) = pair();
        net::set_option(s2, SockOpt::Active, -1).unwrap();
        net::set_option(c2, SockOpt::Active, 0).unwrap();
        net::send(s2, b"unread", Some(BOUND)).unwrap();
        // Closing with unread data sends RST.
        let mut one = [0u8; 1];
        let _ = net::recv(c2, &mut one, 1, Some(BOUND));
        net::close(c2).unwrap();
        let m = next(s2);
        assert_eq!(m.kind(), MessageKind::TcpError);
        let st = i32::from_le_bytes(m.data()[..4].try_into().unwrap());
        assert_eq!(st, Status::ErrConnReset as i32);
        for h in [c, l, s2, l2] {
            net::close(h).unwrap();
        }
    });
}

#[test]
fn a_passive_receive_with_a_packet_mode_gets_one_whole_frame() {
    run_with_sockets(2, || {
        let (l, c, s) = pair();
        net::set_option(s, SockOpt::Packet, 4).unwrap();
        let me = process::self_pid();
        // The frames come in pieces from another process.
        let writer = process::spawn(move || {
            let mut wire = Vec::new();
            for body in [&b"alpha"[..], b"", b"a longer frame, 30 bytes long!"] {
                wire.extend_from_slice(&(body.len() as u32).to_be_bytes());
                wire.extend_from_slice(body);
            }
            for piece in wire.chunks(3) {
                net::send(c, piece, Some(BOUND)).unwrap();
                process::yield_now().unwrap();
            }
            process::send(me, b"written").unwrap();
        })
        .unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(net::recv(s, &mut buf, 0, Some(BOUND)).unwrap(), 5);
        assert_eq!(&buf[..5], b"alpha");
        assert_eq!(net::recv(s, &mut buf, 0, Some(BOUND)).unwrap(), 0);
        // Too small a buffer: refused, and the frame stays for a larger one.
        let mut small = [0u8; 8];
        assert_eq!(
            net::recv(s, &mut small, 0, Some(BOUND)).unwrap_err().0,
            Status::ErrBadLength
        );
        assert_eq!(net::recv(s, &mut buf, 0, Some(BOUND)).unwrap(), 30);
        assert_eq!(&buf[..30], b"a longer frame, 30 bytes long!");
        let m = process::receive_select(Some(BOUND), |m| m.sender() == writer).unwrap();
        assert_eq!(m.data(), b"written");
        // Lines.
        net::set_option(s, SockOpt::Packet, -1).unwrap();
        net::send(c, b"one\ntw", Some(BOUND)).unwrap();
        assert_eq!(net::recv(s, &mut buf, 0, Some(BOUND)).unwrap(), 4);
        net::send(c, b"o\n", Some(BOUND)).unwrap();
        assert_eq!(net::recv(s, &mut buf, 0, Some(BOUND)).unwrap(), 4);
        assert_eq!(&buf[..4], b"two\n");
        // End of stream in the middle of a frame.
        net::send(c, b"unfinished", Some(BOUND)).unwrap();
        net::close(c).unwrap();
        assert_eq!(
            net::recv(s, &mut buf, 0, Some(BOUND)).unwrap_err().0,
            Status::ErrPeerClosed
        );
        for h in [s, l] {
            net::close(h).unwrap();
        }
    });
}
