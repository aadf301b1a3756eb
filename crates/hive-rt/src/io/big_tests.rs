//! Large frames of [`Packet::Batch4`](super::frame::Packet::Batch4) sockets read straight
//! into their own messages (`active.rs`, "Large frames"): every frame arrives whole and in
//! order whatever the split of the stream, and a large frame whose head arrived first
//! arrives alone, with the bytes `locate` names 16-byte aligned.

use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixStream;

use super::api::{self as net, SockOpt};
use super::frame::BIG_FRAME;
use crate::mailbox::{MessageKind, MESSAGE_ALIGN};
use crate::{Config, Runtime};

/// For a test over a Unix socket: a fresh directory named after `tag`, the socket's path
/// in it, and a runtime with one scheduler.
pub(super) fn unix_test_setup(tag: &str) -> (std::path::PathBuf, std::path::PathBuf, Runtime) {
    let dir = std::env::temp_dir().join(format!("hive-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s");
    let rt = Runtime::new(Config {
        schedulers: 1,
        ..Config::default()
    })
    .unwrap();
    (dir, path, rt)
}

/// Where `locate` says a frame's payload starts (from its length prefix).
const AT: usize = 11;

fn locate(_head: &[u8]) -> Option<usize> {
    Some(AT)
}

/// Frame `i` of `len` bytes: its index, then a pattern.
fn frame(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|k| (k * 31 + i * 7) as u8).collect()
}

/// Bytes the peer has not read yet of what `s` sent (Linux `SIOCOUTQ` on a Unix stream).
fn unread(s: &UnixStream) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: `s` is an open socket and `n` a writable int, as SIOCOUTQ takes.
    let r = unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    assert_eq!(r, 0, "SIOCOUTQ");
    n
}

/// Waits (bounded) until the reader has read everything `s` sent: the next bytes then
/// start a read of their own.
fn drained(s: &UnixStream) {
    let t0 = std::time::Instant::now();
    while unread(s) > 0 {
        assert!(t0.elapsed().as_secs() < 30, "the reader stopped reading");
        std::thread::yield_now();
    }
}

#[test]
fn large_frames_arrive_whole_in_order_and_alone_with_the_payload_aligned() {
    // (length, bytes written before the reader has read them: a head, or everything).
    let big_max = 4 << 20;
    let plan: Vec<(usize, usize)> = vec![
        (5, usize::MAX),
        (BIG_FRAME, 2000),
        (70_000, 10), // a head shorter than what placing the payload needs
        (3, usize::MAX),
        (BIG_FRAME - 1, 2000),
        (200_000, 1500),
        (big_max + 1, 2000), // over the bound: through the buffer
        (7, usize::MAX),
        (65_536, 4),
        (65_536, 3000),
        (1, usize::MAX),
    ];
    let frames: Vec<Vec<u8>> = plan
        .iter()
        .enumerate()
        .map(|(i, &(len, _))| frame(i, len))
        .collect();
    let (dir, path, rt) = unix_test_setup("big");
    let (p, fr) = (path.clone(), frames.clone());
    let r = rt
        .run(move || {
            let l = net::unix_listen(&p, 1).unwrap();
            let plan2 = plan.clone();
            let p2 = p.clone();
            let writer = std::thread::spawn(move || {
                let mut s = UnixStream::connect(&p2).unwrap();
                for (f, &(_, head)) in fr.iter().zip(&plan2) {
                    let mut bytes = (f.len() as u32).to_be_bytes().to_vec();
                    bytes.extend_from_slice(f);
                    let cut = head.min(bytes.len());
                    s.write_all(&bytes[..cut]).unwrap();
                    if cut < bytes.len() {
                        drained(&s);
                        s.write_all(&bytes[cut..]).unwrap();
                    }
                    drained(&s);
                }
            });
            let s = net::tcp_accept(l, Some(30_000)).unwrap();
            net::set_batched_frames(s, locate).unwrap();
            net::set_option(s, SockOpt::Active, 1 << 30).unwrap();
            let mut got: Vec<Vec<u8>> = Vec::new();
            let mut alone_aligned = Vec::new();
            while got.len() < frames.len() {
                let m = crate::process::receive(Some(30_000)).expect("a frame in time");
                assert_eq!(m.kind(), MessageKind::Tcp);
                let d = m.data();
                let before = got.len();
                for f in crate::io::frame::batch_frames(d) {
                    got.push(f.expect("whole frames").to_vec());
                }
                if got.len() == before + 1
                    && (d.as_ptr() as usize + AT).is_multiple_of(MESSAGE_ALIGN)
                {
                    alone_aligned.push(before);
                }
            }
            writer.join().unwrap();
            assert_eq!(got.len(), frames.len());
            for (i, (g, f)) in got.iter().zip(&frames).enumerate() {
                assert!(g == f, "frame {i} ({} bytes) differs", f.len());
            }
            // Every large frame within the bound was read into its own message, placed.
            for (i, f) in frames.iter().enumerate() {
                if (BIG_FRAME..=big_max).contains(&f.len()) {
                    assert!(
                        alone_aligned.contains(&i),
                        "frame {i} ({} bytes) not alone and aligned",
                        f.len()
                    );
                }
            }
            let _ = net::close(s);
            let _ = net::close(l);
        })
        .unwrap();
    assert!(r.is_normal(), "{r:?}");
    rt.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
