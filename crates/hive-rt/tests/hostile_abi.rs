//! Hostile input through the C ABI (issue 6, part 1), property-based (proptest).
//!
//! Random sequences of `hive_*` calls, made the way a C caller would make them, with valid,
//! stale, random and malicious arguments: live, dead, random and foreign-node pids, pid 0,
//! NULL pointers with lengths, lengths at and past the limits (up to `SIZE_MAX`, with a
//! buffer only as long as the contract requires), valid, empty, NUL-containing and
//! over-long names, live, spent and random timer and monitor references and aliases,
//! unknown flag bits and alias modes, and process-only calls from a thread that is not a
//! process. The same sequences also run inside a process. Every call must return a status
//! of `hive.h` — and, where the arguments decide it, exactly the documented one — and
//! nothing may crash or hang. At the end every process, timer and name the sequences created
//! is gone.
//!
//! The number of calls made is printed (`cargo test --test hostile_abi -- --nocapture`);
//! the sequences come from a fixed seed, 256 cases by default (`HOSTILE_CASES=n` for more).
//!
//! This file has the arguments, the strategies and the driver; `hostile_abi/ops.rs` has one
//! function per operation, with the call and the status it must return.

use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, Once};

use hive_rt::ffi::alias::*;
use hive_rt::ffi::info::*;
use hive_rt::ffi::lifecycle::*;
use hive_rt::ffi::message::*;
use hive_rt::ffi::proc::*;
use hive_rt::ffi::registry::*;
use hive_rt::ffi::signal::*;
use hive_rt::ffi::timer::*;
use hive_rt::ffi::*;
use proptest::prelude::*;

#[path = "hostile_abi/ops.rs"]
mod ops;
use ops::run_op;

static CALLS: AtomicU64 = AtomicU64::new(0);

/// Every status `hive.h` defines.
fn known(s: hive_status) -> bool {
    s == HIVE_OK
        || s == HIVE_TIMEOUT
        || (HIVE_ERR_REENTRANT..=HIVE_ERR_NOT_INITIALIZED).contains(&s)
}

fn check(what: &str, s: hive_status) -> hive_status {
    CALLS.fetch_add(1, Relaxed);
    assert!(known(s), "{what} returned {s}, not a status of hive.h");
    s
}

fn expect(what: &str, s: hive_status, want: hive_status) {
    check(what, s);
    assert_eq!(s, want, "{what}");
}

/// A pid argument.
#[derive(Clone, Debug)]
enum PidArg {
    Zero,
    Live(usize),
    Dead(usize),
    Random(u64),
    /// A pid of another node (node bits set).
    Foreign(u64),
}

/// A (pointer, length) argument: NULL with a length, or a real buffer of `len` bytes, or a
/// length past every limit with a small buffer (the call must refuse it before reading).
#[derive(Clone, Debug)]
enum Bytes {
    Null(usize),
    Buf(usize),
    Huge(usize),
}

/// A name argument.
#[derive(Clone, Debug)]
enum NameArg {
    Good(u8),
    Empty,
    WithNul,
    TooLong,
    Null(usize),
}

/// A reference (timer or monitor).
#[derive(Clone, Debug)]
enum RefArg {
    Zero,
    Known(usize),
    Random(u64),
}

#[derive(Clone, Debug)]
enum Op {
    Send(PidArg, Bytes),
    SendMsg(PidArg, usize),
    Register(NameArg, PidArg),
    Unregister(NameArg),
    Whereis(NameArg, bool),
    SendNamed(NameArg, Bytes),
    SendAfter(PidArg, i64, Bytes),
    StartTimerNamed(NameArg, i64),
    CancelTimer(RefArg, bool),
    ReadTimer(RefArg),
    ExitPid(PidArg, i32, Bytes),
    IsAlive(PidArg),
    ProcessInfo(PidArg, bool),
    Links(PidArg, usize, bool),
    Monitors(PidArg, usize),
    Spawn(i32, u32, usize),
    Link(PidArg),
    Unlink(PidArg),
    Monitor(PidArg, bool),
    MonitorName(NameArg),
    Demonitor(RefArg, u32),
    TrapExit(i32),
    SetPriority(i32),
    Receive(i64),
    MailboxLen(bool),
    Sleep(i64),
    Yield,
    MsgAccessors,
    MakeRef(bool),
    Alias(i32, bool),
    Unalias(RefArg, bool),
    MonitorAlias(PidArg, i32, bool),
    SendAlias(RefArg, Bytes),
    SendMsgAlias(RefArg, Option<usize>),
    Hibernate(u8),
}

fn pid_arg() -> impl Strategy<Value = PidArg> {
    prop_oneof![
        Just(PidArg::Zero),
        (0..8usize).prop_map(PidArg::Live),
        (0..8usize).prop_map(PidArg::Dead),
        any::<u64>().prop_map(PidArg::Random),
        (1..4095u64).prop_map(PidArg::Foreign),
    ]
}

fn bytes() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        (1..64usize).prop_map(Bytes::Null),
        (0..200usize).prop_map(Bytes::Buf),
        // Past every limit (messages 1 GiB, reasons 64 KiB): refused before any read.
        prop_oneof![
            Just(usize::MAX),
            Just(usize::MAX / 2),
            Just((1usize << 30) + 1),
        ]
        .prop_map(Bytes::Huge),
    ]
}

fn name_arg() -> impl Strategy<Value = NameArg> {
    prop_oneof![
        4 => (0..6u8).prop_map(NameArg::Good),
        1 => Just(NameArg::Empty),
        1 => Just(NameArg::WithNul),
        1 => Just(NameArg::TooLong),
        1 => (1..10usize).prop_map(NameArg::Null),
    ]
}

fn ref_arg() -> impl Strategy<Value = RefArg> {
    prop_oneof![
        Just(RefArg::Zero),
        (0..64usize).prop_map(RefArg::Known),
        any::<u64>().prop_map(RefArg::Random),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (pid_arg(), bytes()).prop_map(|(p, b)| Op::Send(p, b)),
        (pid_arg(), 0..100usize).prop_map(|(p, n)| Op::SendMsg(p, n)),
        (name_arg(), pid_arg()).prop_map(|(n, p)| Op::Register(n, p)),
        name_arg().prop_map(Op::Unregister),
        (name_arg(), any::<bool>()).prop_map(|(n, b)| Op::Whereis(n, b)),
        (name_arg(), bytes()).prop_map(|(n, b)| Op::SendNamed(n, b)),
        (
            pid_arg(),
            prop_oneof![Just(-5i64), 0..50i64, Just(1 << 40), Just(60_000)],
            bytes()
        )
            .prop_map(|(p, ms, b)| Op::SendAfter(p, ms, b)),
        (name_arg(), prop_oneof![Just(-1i64), 0..50i64, Just(60_000)])
            .prop_map(|(n, ms)| Op::StartTimerNamed(n, ms)),
        (ref_arg(), any::<bool>()).prop_map(|(r, b)| Op::CancelTimer(r, b)),
        ref_arg().prop_map(Op::ReadTimer),
        (pid_arg(), -2..9i32, bytes()).prop_map(|(p, k, b)| Op::ExitPid(p, k, b)),
        pid_arg().prop_map(Op::IsAlive),
        (pid_arg(), any::<bool>()).prop_map(|(p, b)| Op::ProcessInfo(p, b)),
        (pid_arg(), 0..4usize, any::<bool>()).prop_map(|(p, c, b)| Op::Links(p, c, b)),
        (pid_arg(), 0..4usize).prop_map(|(p, c)| Op::Monitors(p, c)),
        (
            -1..4i32,
            0..5u32,
            prop_oneof![
                Just(0usize),
                Just(1),
                Just(16 * 1024 - 1),
                Just(1 << 30),
                Just(usize::MAX)
            ]
        )
            .prop_map(|(pr, f, st)| Op::Spawn(pr, f, st)),
        pid_arg().prop_map(Op::Link),
        pid_arg().prop_map(Op::Unlink),
        (pid_arg(), any::<bool>()).prop_map(|(p, b)| Op::Monitor(p, b)),
        name_arg().prop_map(Op::MonitorName),
        (ref_arg(), 0..8u32).prop_map(|(r, f)| Op::Demonitor(r, f)),
        (-1..3i32).prop_map(Op::TrapExit),
        (-1..5i32).prop_map(Op::SetPriority),
        prop_oneof![Just(0i64), Just(-1), Just(1), Just(1 << 33)].prop_map(Op::Receive),
        any::<bool>().prop_map(Op::MailboxLen),
        prop_oneof![Just(-1i64), Just(0), Just(1), Just(1 << 33)].prop_map(Op::Sleep),
        Just(Op::Yield),
        (0..5u8).prop_map(Op::Hibernate),
        Just(Op::MsgAccessors),
        any::<bool>().prop_map(Op::MakeRef),
        (-1..5i32, any::<bool>()).prop_map(|(m, n)| Op::Alias(m, n)),
        (ref_arg(), any::<bool>()).prop_map(|(r, n)| Op::Unalias(r, n)),
        (pid_arg(), -1..5i32, any::<bool>()).prop_map(|(p, m, n)| Op::MonitorAlias(p, m, n)),
        (ref_arg(), bytes()).prop_map(|(r, b)| Op::SendAlias(r, b)),
        (ref_arg(), prop::option::of(0..200usize)).prop_map(|(r, n)| Op::SendMsgAlias(r, n)),
    ]
}

/// Processes and references the sequences use, shared by every case.
struct World {
    live: Vec<hive_pid>,
    dead: Vec<hive_pid>,
    trefs: Vec<u64>,
    mrefs: Vec<u64>,
    names: Vec<Vec<u8>>,
    spawned: Vec<hive_pid>,
}

static WORLD: Mutex<Option<World>> = Mutex::new(None);
static INIT: Once = Once::new();

extern "C" fn sleeper(_: *mut c_void) {
    loop {
        let mut m = null_mut();
        // SAFETY: `m` is writable.
        if unsafe { hive_receive(-1, &mut m) } == HIVE_OK {
            // SAFETY: we own the message.
            unsafe { hive_msg_free(m) };
        }
    }
}

extern "C" fn quick(_: *mut c_void) {}

fn spawn_sleeper() -> hive_pid {
    let mut p = 0;
    // SAFETY: valid arguments.
    let s = unsafe { hive_spawn(Some(sleeper), null(), 0, null(), &mut p) };
    expect("spawn", s, HIVE_OK);
    p
}

fn init() {
    INIT.call_once(|| {
        let mut c = std::mem::MaybeUninit::<hive_config>::uninit();
        // SAFETY: `c` is writable; then initialised.
        unsafe {
            assert_eq!(hive_config_default(c.as_mut_ptr()), HIVE_OK);
            let mut c = c.assume_init();
            c.schedulers = 2;
            assert_eq!(hive_init(&c), HIVE_OK);
        }
        let live = (0..8).map(|_| spawn_sleeper()).collect();
        let dead = (0..8)
            .map(|_| {
                let mut p = 0;
                let mut info = std::mem::MaybeUninit::<hive_exit_info>::uninit();
                // SAFETY: valid arguments. `quick` returns at once: the wait either sees it
                // exit or finds it already gone; it is dead either way.
                unsafe {
                    assert_eq!(hive_spawn(Some(quick), null(), 0, null(), &mut p), HIVE_OK);
                    let _ = hive_wait(p, -1, info.as_mut_ptr());
                }
                p
            })
            .collect();
        *WORLD.lock().unwrap_or_else(|e| e.into_inner()) = Some(World {
            live,
            dead,
            trefs: Vec::new(),
            mrefs: Vec::new(),
            names: (0..6).map(|i| format!("hostile{i}").into_bytes()).collect(),
            spawned: Vec::new(),
        });
    });
}

fn pid_of(w: &World, p: &PidArg) -> hive_pid {
    match *p {
        PidArg::Zero => 0,
        PidArg::Live(i) => w.live[i % w.live.len()],
        PidArg::Dead(i) => w.dead[i % w.dead.len()],
        PidArg::Random(v) => v,
        PidArg::Foreign(n) => (n << 52) | (w.live[0] & ((1 << 52) - 1)),
    }
}

/// A buffer behind a (pointer, length) argument; None for NULL.
fn buf_of(b: &Bytes) -> (Option<Vec<u8>>, usize) {
    match *b {
        Bytes::Null(n) => (None, n),
        Bytes::Buf(n) => (Some(vec![0xA5; n]), n),
        Bytes::Huge(n) => (Some(vec![0x5A; 16]), n),
    }
}

fn ptr(v: &Option<Vec<u8>>) -> *const c_void {
    v.as_ref().map_or(null(), |v| v.as_ptr() as *const c_void)
}

fn name_of(w: &World, n: &NameArg) -> (Option<Vec<u8>>, usize) {
    match *n {
        NameArg::Good(i) => {
            let v = w.names[i as usize % w.names.len()].clone();
            let l = v.len();
            (Some(v), l)
        }
        NameArg::Empty => (Some(vec![b'x']), 0),
        NameArg::WithNul => (Some(b"ab\0cd".to_vec()), 5),
        NameArg::TooLong => (Some(vec![b'n'; 300]), 300),
        NameArg::Null(l) => (None, l),
    }
}

fn ref_of(list: &[u64], r: &RefArg) -> u64 {
    match *r {
        RefArg::Zero => 0,
        RefArg::Known(i) if !list.is_empty() => list[i % list.len()],
        RefArg::Known(i) => i as u64 + 1,
        RefArg::Random(v) => v,
    }
}

struct Job {
    ops: Vec<Op>,
    done: bool,
}

extern "C" fn driver(arg: *mut c_void) {
    // SAFETY: the argument is a pointer to a `Job` that outlives this process (the test
    // thread waits in `hive_run`).
    let job = unsafe { &mut **(arg as *mut *mut Job) };
    let mut guard = WORLD.lock().unwrap_or_else(|e| e.into_inner());
    let w = guard.as_mut().unwrap();
    for op in &job.ops {
        run_op(w, op, true);
    }
    job.done = true;
}

/// One case: the sequence from a plain thread, then inside a process.
fn one_case(ops: &[Op]) -> Result<(), TestCaseError> {
    {
        let mut guard = WORLD.lock().unwrap_or_else(|e| e.into_inner());
        let w = guard.as_mut().unwrap();
        for op in ops {
            run_op(w, op, false);
        }
    }
    let mut job = Job {
        ops: ops.to_vec(),
        done: false,
    };
    let mut jp: *mut Job = &mut job;
    let mut info = std::mem::MaybeUninit::<hive_exit_info>::uninit();
    // SAFETY: the argument is a copy of `jp`; `job` outlives the call (hive_run waits).
    let s = unsafe {
        hive_run(
            Some(driver),
            &mut jp as *mut *mut Job as *const c_void,
            std::mem::size_of::<*mut Job>(),
            null(),
            info.as_mut_ptr(),
        )
    };
    prop_assert_eq!(s, HIVE_OK);
    prop_assert!(job.done, "the driver process did not finish its sequence");
    Ok(())
}

/// The property over random sequences, then the cleanup check: every process, timer and
/// name the sequences made can be removed, and the counts come back to zero.
#[test]
fn every_call_returns_a_documented_status_and_nothing_is_left() {
    init();
    // A fixed seed: the same sequences every run (tests here are deterministic); change
    // `HOSTILE_CASES` to explore more.
    let cases = std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let rng = proptest::test_runner::TestRng::deterministic_rng(
        proptest::test_runner::RngAlgorithm::ChaCha,
    );
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(config, rng);
    runner
        .run(&prop::collection::vec(op(), 1..60), |ops| one_case(&ops))
        .unwrap();
    let mut guard = WORLD.lock().unwrap_or_else(|e| e.into_inner());
    let w = guard.as_mut().unwrap();
    // SAFETY: plain calls with valid arguments.
    unsafe {
        for &t in &w.trefs {
            let s = hive_cancel_timer(t, null_mut());
            assert!(s == HIVE_OK || s == HIVE_ERR_NO_TIMER);
        }
        for n in &w.names {
            let _ = hive_unregister(n.as_ptr() as *const c_void, n.len());
        }
        for &p in w.live.iter().chain(&w.spawned) {
            assert_eq!(hive_exit_pid(p, 1, null(), 0), HIVE_OK);
        }
        let mut stats = std::mem::MaybeUninit::<hive_runtime_stats>::uninit();
        // Wait (bounded) for the killed processes and their timers to be gone.
        let start = std::time::Instant::now();
        loop {
            assert_eq!(hive_get_runtime_stats(stats.as_mut_ptr()), HIVE_OK);
            let st = stats.assume_init_ref();
            if st.live == 0 && st.pending_timers == 0 {
                break;
            }
            assert!(
                start.elapsed().as_secs() < 30,
                "live {} timers {}",
                st.live,
                st.pending_timers
            );
            std::thread::yield_now();
        }
        for n in &w.names {
            let mut p = 1;
            assert_eq!(
                hive_whereis(n.as_ptr() as *const c_void, n.len(), &mut p),
                HIVE_OK
            );
            assert_eq!(p, 0);
        }
    }
    println!("hostile_abi: {} calls checked", CALLS.load(Relaxed));
}
