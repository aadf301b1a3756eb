//! Descriptors are never leaked: thousands of socket owners killed while blocked, a
//! shutdown with processes blocked on sockets, and accept at the descriptor limit. Its
//! own test binary, and its tests serialised: they count the OS process's descriptors
//! and change its limit.

mod common;
use common::signals::down_reason;
use common::*;
use hive_rt::net::{self, Socket};
use hive_rt::{process, ExitReason, Status};
use std::net::SocketAddr;
use std::sync::Mutex;

const BOUND: u32 = 30_000;
static SERIAL: Mutex<()> = Mutex::new(());

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn listener() -> (Socket, SocketAddr) {
    let l = net::tcp_listen("127.0.0.1:0".parse().unwrap(), 0, net::LISTEN_REUSEADDR).unwrap();
    (l, net::local_addr(l).unwrap())
}

#[test]
fn killed_socket_owners_leave_no_descriptor_behind() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = open_fds();
    let rt = rt(2);
    const N: u64 = 2000;
    let reason = rt
        .run(|| {
            let (l, addr) = listener();
            let me = process::self_pid();
            for i in 0..N {
                // Each victim connects, tells us, and blocks receiving (or, every third,
                // accepting on the shared listener); we accept its connection, so both
                // ends are open, then kill it.
                let victim = process::spawn(move || {
                    if i % 3 == 0 {
                        process::send(me, b"accepting").unwrap();
                        let _ = net::tcp_accept(l, None);
                    } else {
                        let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
                        process::send(me, b"connected").unwrap();
                        let _ = net::recv(c, &mut [0u8; 8], 0, None);
                    }
                })
                .unwrap();
                let mref = process::monitor(victim).unwrap();
                let m = process::receive_select(Some(BOUND), |m| m.sender() == victim).unwrap();
                let mine = if m.data() == b"connected" {
                    Some(net::tcp_accept(l, Some(BOUND)).unwrap())
                } else {
                    None
                };
                process::exit_pid(victim, ExitReason::Kill).unwrap();
                assert_eq!(down_reason(mref), ExitReason::Killed);
                if let Some(s) = mine {
                    net::close(s).unwrap();
                }
            }
            net::close(l).unwrap();
            assert_eq!(net::open_sockets().unwrap(), 0);
        })
        .unwrap();
    assert!(reason.is_normal(), "{reason:?}");
    rt.shutdown();
    drop(rt); // the poller's own descriptors go with the runtime
    assert_eq!(open_fds(), before, "descriptors back to the baseline");
}

#[test]
fn shutdown_closes_every_socket_and_ends_the_blocked_processes() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = open_fds();
    let rt = rt(2);
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(move || {
        let (l, addr) = listener();
        for _ in 0..10 {
            let tx = tx.clone();
            process::spawn(move || {
                let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
                tx.send(()).unwrap();
                let _ = net::recv(c, &mut [0u8; 8], 0, None);
            })
            .unwrap();
        }
        let mut mine = Vec::new();
        for _ in 0..10 {
            mine.push(net::tcp_accept(l, Some(BOUND)).unwrap());
        }
        tx.send(()).unwrap();
        let _ = process::receive(None);
    })
    .unwrap();
    for _ in 0..11 {
        rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
    }
    assert!(open_fds() >= before + 21);
    rt.shutdown();
    drop(rt);
    assert_eq!(
        open_fds(),
        before,
        "shutdown closed every socket, and the runtime its poller"
    );
}

#[test]
fn accept_at_the_descriptor_limit_fails_and_recovers() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rt = rt(1);
    let reason = rt
        .run(|| {
            let (l, addr) = listener();
            let c = net::tcp_connect(addr, Some(BOUND)).unwrap();
            // Use up the descriptors: the soft limit just above the highest one open,
            // and the holes below it filled.
            let old = libc_rlimit();
            set_nofile(max_fd() + 1);
            let mut fillers = Vec::new();
            while let Ok(f) = std::fs::File::open("/dev/null") {
                fillers.push(f);
            }
            let r = net::tcp_accept(l, Some(BOUND));
            let errno = net::last_errno().unwrap();
            drop(fillers);
            set_nofile(old.0);
            assert_eq!(r.unwrap_err().0, Status::ErrSystemLimit);
            assert_eq!(errno, 24, "EMFILE");
            // The pending connection was not lost: with a descriptor free it is accepted.
            let s = net::tcp_accept(l, Some(BOUND)).unwrap();
            net::send(c, b"ok", Some(BOUND)).unwrap();
            let mut b = [0u8; 2];
            net::recv(s, &mut b, 2, Some(BOUND)).unwrap();
            assert_eq!(&b, b"ok");
            for h in [s, c, l] {
                net::close(h).unwrap();
            }
        })
        .unwrap();
    assert!(reason.is_normal(), "{reason:?}");
    rt.shutdown();
}

/// The highest descriptor open.
fn max_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap()
}

/// (soft, hard) RLIMIT_NOFILE.
fn libc_rlimit() -> (u64, u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
    (r.rlim_cur, r.rlim_max)
}

fn set_nofile(soft: u64) {
    let (_, hard) = libc_rlimit();
    let r = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: a valid rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) }, 0);
}
