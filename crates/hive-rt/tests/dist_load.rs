//! Distribution under load (`docs/distribution.md`, "Back-pressure"): a process sending to
//! a node faster than the connection drains is suspended at the busy limit, as the BEAM
//! suspends a sender on a busy distribution port, and loses nothing.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dist::{private_epmd, COOKIE};
use common::erl::ErlNode;
use hive_rt::dist::etf::{self, Term};
use hive_rt::dist::{self, Discovery, Options};
use hive_rt::{process, ProcessStatus};

/// Messages the sender tries to send, and their size (bytes): 128 MiB in all, far beyond
/// the busy limit plus the sockets' kernel buffers.
const N: u64 = 2_000;
const SIZE: usize = 64 * 1024;

/// A sender to a frozen (SIGSTOP) BEAM node is suspended once the busy limit is queued:
/// it sits WAITING with most of its sends not done, instead of queueing 128 MiB. Once the
/// node runs again every message arrives, in order, and the sender finishes.
#[test]
fn busy_connection_suspends_the_sender() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = common::rt(2);
    rt.dist_start(Options {
        name: "hvbusy@localhost".into(),
        cookie: Some(COOKIE.into()),
        listen: "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        discovery: Discovery::Epmd(epmd.port()),
        start_epmd: false,
        // Long enough that the frozen peer is not dropped while the test waits.
        tick_time_ms: 60_000,
        busy_limit_bytes: 1 << 20,
        ..Options::default()
    })
    .unwrap();
    let e = ErlNode::start(&epmd, "ebusy", COOKIE, &["-kernel", "net_ticktime", "60"]);
    // A sink that takes `{seq, I, Bin}` strictly in order and reports the count.
    e.eval(
        "register(sink, spawn(fun() -> L = fun L(I) -> receive {seq, I, B} when byte_size(B) =:= 65536 -> L(I + 1); \
         {done, From} -> From ! {count, I - 1} end end, L(1) end)), ok.",
    )
    .unwrap();
    let en = e.name().to_owned();
    // Connect first, so the whole run is on one connection.
    let en2 = en.clone();
    common::dist::run_normal(&rt, move || {
        dist::send_name(&en2, "sink", &etf::to_vec(&Term::atom("hello"))).unwrap();
    });
    e.sigstop();
    let sent = Arc::new(AtomicU64::new(0));
    let s2 = sent.clone();
    let bin = Term::Binary(vec![7u8; SIZE]);
    let sender = rt
        .spawn(move || {
            for i in 1..=N {
                let m = Term::tuple(vec![Term::atom("seq"), Term::Int(i as i64), bin.clone()]);
                dist::send_name(&en, "sink", &etf::to_vec(&m)).unwrap();
                s2.store(i, SeqCst);
            }
            let done = Term::tuple(vec![
                Term::atom("done"),
                Term::Pid(dist::pid_term(process::self_pid()).unwrap().unwrap()),
            ]);
            dist::send_name(&en, "sink", &etf::to_vec(&done)).unwrap();
            let m = process::receive(Some(60_000)).expect("the count");
            let t = etf::decode(m.data()).unwrap();
            assert_eq!(
                t,
                Term::tuple(vec![Term::atom("count"), Term::Int(N as i64)])
            );
        })
        .unwrap();
    // The sender ends up suspended (WAITING with an empty mailbox: nothing else makes it
    // wait) before it has sent everything. The deadline only bounds a failure.
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let info = rt.process_info(sender).unwrap().expect("the sender runs");
        let n = sent.load(SeqCst);
        assert!(n < N, "all {N} sends done: nothing held the sender back");
        if info.status == ProcessStatus::Waiting && info.mailbox_len == 0 {
            break;
        }
        assert!(
            Instant::now() < end,
            "the sender never suspended ({n} sent)"
        );
        std::thread::yield_now();
    }
    let held = sent.load(SeqCst);
    // A suspended sender still dies at once when killed.
    let en3 = e.name().to_owned();
    let victim = rt
        .spawn(move || loop {
            dist::send_name(&en3, "nobody", &[131, 106]).unwrap();
        })
        .unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    while rt.process_info(victim).unwrap().expect("runs").status != ProcessStatus::Waiting {
        assert!(Instant::now() < end, "the second sender never suspended");
        std::thread::yield_now();
    }
    common::dist::run_normal(&rt, move || {
        let mref = process::monitor(victim).unwrap();
        process::exit_pid(victim, hive_rt::ExitReason::Kill).unwrap();
        let m = process::receive_select(Some(30_000), |m| m.monitor_ref() == mref).unwrap();
        assert_eq!(m.reason().unwrap(), hive_rt::ExitReason::Killed);
    });
    e.sigcont();
    let r = rt.wait(sender).unwrap();
    assert!(r.is_normal(), "{}", common::dist::show_reason(&r));
    eprintln!("busy_connection_suspends_the_sender: suspended after {held} of {N} sends");
    rt.shutdown();
}
