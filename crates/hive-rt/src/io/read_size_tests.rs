//! How much an active socket's reads ask for (`active.rs`, `read_some`): a socket of a
//! request-response protocol keeps a small buffer while idle; one that streams reads in
//! 64 KiB pieces once a read filled the small buffer.

use std::io::Write;
use std::os::unix::net::UnixStream;

use super::api::{self as net, SockOpt};
use crate::mailbox::MessageKind;

/// The capacity of socket `s`'s receive buffer and whether it streams.
fn buffer_of(s: net::Socket) -> (usize, bool) {
    let pcb = crate::process::current().unwrap();
    let rt = crate::runtime::runtime_of(pcb);
    let sock = rt.io.acquire(s.0).unwrap();
    let rx = sock.slot.rx.lock();
    (rx.buf.capacity(), rx.streaming)
}

#[test]
fn idle_request_sockets_keep_a_small_buffer_and_streams_read_large() {
    let (dir, path, rt) = super::big_tests::unix_test_setup("readsize");
    let p = path.clone();
    let r = rt
        .run(move || {
            let l = net::unix_listen(&p, 1).unwrap();
            let (to_peer, from_me) = std::sync::mpsc::channel::<usize>();
            let p2 = p.clone();
            let writer = std::thread::spawn(move || {
                let mut s = UnixStream::connect(&p2).unwrap();
                // Each request only after the previous one was taken.
                while let Ok(n) = from_me.recv() {
                    s.write_all(&vec![0x5a; n]).unwrap();
                }
            });
            let s = net::tcp_accept(l, Some(30_000)).unwrap();
            net::set_option(s, SockOpt::Active, 1 << 30).unwrap();
            let take = |n: usize| {
                to_peer.send(n).unwrap();
                let mut got = 0;
                while got < n {
                    let m = crate::process::receive(Some(30_000)).expect("data in time");
                    assert_eq!(m.kind(), MessageKind::Tcp);
                    assert!(m.data().iter().all(|&b| b == 0x5a));
                    got += m.data().len();
                }
                assert_eq!(got, n);
            };
            for _ in 0..20 {
                take(64);
            }
            let (cap, streaming) = buffer_of(s);
            assert!(!streaming);
            assert!(cap <= 1024, "an idle request socket keeps {cap} bytes");
            take(4 << 20);
            let (cap, streaming) = buffer_of(s);
            assert!(streaming);
            assert!(cap >= 64 << 10, "a stream reads into {cap} bytes");
            drop(to_peer);
            writer.join().unwrap();
            let _ = net::close(s);
            let _ = net::close(l);
        })
        .unwrap();
    assert!(r.is_normal(), "{r:?}");
    rt.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
