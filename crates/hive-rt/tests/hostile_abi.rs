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

/// The status a copying send (`hive_send`, `hive_send_alias`) must return for payload `b`
/// to a destination that is 0 (`zero_dest`) or not.
fn expect_copying_send(s: i32, b: &Bytes, zero_dest: bool) {
    match b {
        Bytes::Null(_) => assert_eq!(s, HIVE_ERR_NULL_POINTER),
        Bytes::Huge(_) => assert_eq!(s, HIVE_ERR_BAD_LENGTH),
        _ if zero_dest => assert_eq!(s, HIVE_ERR_BAD_ARGUMENT),
        _ => assert_eq!(s, HIVE_OK),
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

/// Runs one op; `in_process` says whether the caller is a process.
fn run_op(w: &mut World, op: &Op, in_process: bool) {
    let not_proc = |what: &str, s: hive_status| {
        if in_process {
            check(what, s);
        } else {
            expect(what, s, HIVE_ERR_NOT_A_PROCESS);
        }
    };
    // SAFETY: for every call below, pointers are NULL or point to buffers at least as long
    // as the length passed, except `Bytes::Huge`, which the call must refuse before reading.
    unsafe {
        match op {
            Op::Send(p, b) => {
                let (v, len) = buf_of(b);
                let s = check("send", hive_send(pid_of(w, p), ptr(&v), len));
                expect_copying_send(s, b, matches!(p, PidArg::Zero));
            }
            Op::SendMsg(p, n) => {
                let mut m = null_mut();
                expect("msg_alloc", hive_msg_alloc(*n, &mut m), HIVE_OK);
                let s = check("send_msg", hive_send_msg(pid_of(w, p), m));
                if matches!(p, PidArg::Zero) {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                }
            }
            Op::Register(n, p) => {
                let (v, len) = name_of(w, n);
                let s = check("register", hive_register(ptr(&v), len, pid_of(w, p)));
                match n {
                    NameArg::Null(_) => assert_eq!(s, HIVE_ERR_NULL_POINTER),
                    NameArg::TooLong => assert_eq!(s, HIVE_ERR_BAD_LENGTH),
                    NameArg::Empty | NameArg::WithNul => assert_eq!(s, HIVE_ERR_BAD_ARGUMENT),
                    _ if matches!(p, PidArg::Dead(_)) => assert_eq!(s, HIVE_ERR_NO_PROCESS),
                    _ => {}
                }
            }
            Op::Unregister(n) => {
                let (v, len) = name_of(w, n);
                check("unregister", hive_unregister(ptr(&v), len));
            }
            Op::Whereis(n, null_out) => {
                let (v, len) = name_of(w, n);
                let mut out = 0;
                let o: *mut hive_pid = if *null_out { null_mut() } else { &mut out };
                let s = check("whereis", hive_whereis(ptr(&v), len, o));
                if *null_out {
                    assert_eq!(s, HIVE_ERR_NULL_POINTER);
                }
            }
            Op::SendNamed(n, b) => {
                let (nv, nl) = name_of(w, n);
                let (v, len) = buf_of(b);
                check("send_named", hive_send_named(ptr(&nv), nl, ptr(&v), len));
            }
            Op::SendAfter(p, ms, b) => {
                let (v, len) = buf_of(b);
                let mut t = 0;
                let s = check(
                    "send_after",
                    hive_send_after(pid_of(w, p), *ms, ptr(&v), len, &mut t),
                );
                if *ms < 0 {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                }
                if s == HIVE_OK {
                    assert_ne!(t, 0);
                    w.trefs.push(t);
                }
            }
            Op::StartTimerNamed(n, ms) => {
                let (nv, nl) = name_of(w, n);
                let mut t = 0;
                let s = check(
                    "start_timer_named",
                    hive_start_timer_named(
                        ptr(&nv),
                        nl,
                        *ms,
                        b"x".as_ptr() as *const c_void,
                        1,
                        &mut t,
                    ),
                );
                if s == HIVE_OK {
                    w.trefs.push(t);
                }
            }
            Op::CancelTimer(r, null_out) => {
                let mut left = 0;
                let o: *mut i64 = if *null_out { null_mut() } else { &mut left };
                let s = check("cancel_timer", hive_cancel_timer(ref_of(&w.trefs, r), o));
                assert!(s == HIVE_OK || s == HIVE_ERR_NO_TIMER, "cancel_timer: {s}");
            }
            Op::ReadTimer(r) => {
                let mut left = 0;
                let s = check(
                    "read_timer",
                    hive_read_timer(ref_of(&w.trefs, r), &mut left),
                );
                assert!(s == HIVE_OK || s == HIVE_ERR_NO_TIMER || s == HIVE_ERR_NULL_POINTER);
            }
            Op::ExitPid(p, kind, b) => {
                // Never kill the pool's live processes with a standard reason they would
                // die of: keep `kill` and errors for dead, random and foreign pids.
                let target = pid_of(w, p);
                if matches!(p, PidArg::Live(_)) && *kind != 0 {
                    return;
                }
                let (v, len) = buf_of(b);
                let s = check("exit_pid", hive_exit_pid(target, *kind, ptr(&v), len));
                if !(0..=6).contains(kind) {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                }
            }
            Op::IsAlive(p) => {
                let r = hive_is_alive(pid_of(w, p));
                CALLS.fetch_add(1, Relaxed);
                match p {
                    PidArg::Live(_) => assert_eq!(r, 1),
                    PidArg::Dead(_) | PidArg::Zero | PidArg::Foreign(_) => assert_eq!(r, 0),
                    PidArg::Random(_) => assert!(r == 0 || r == 1),
                }
            }
            Op::ProcessInfo(p, null_out) => {
                let mut info = std::mem::MaybeUninit::<hive_process_info>::uninit();
                let o = if *null_out {
                    null_mut()
                } else {
                    info.as_mut_ptr()
                };
                let s = check("get_process_info", hive_get_process_info(pid_of(w, p), o));
                if *null_out {
                    assert_eq!(s, HIVE_ERR_NULL_POINTER);
                }
            }
            Op::Links(p, cap, null_n) => {
                let mut out = [0u64; 4];
                let mut n = 0usize;
                let no: *mut usize = if *null_n { null_mut() } else { &mut n };
                let s = check(
                    "get_links",
                    hive_get_links(pid_of(w, p), out.as_mut_ptr(), *cap, no),
                );
                if *null_n {
                    assert_eq!(s, HIVE_ERR_NULL_POINTER);
                }
                let s = check(
                    "get_monitored_by",
                    hive_get_monitored_by(pid_of(w, p), null_mut(), *cap, &mut n),
                );
                if *cap > 0 {
                    assert_eq!(s, HIVE_ERR_NULL_POINTER);
                }
            }
            Op::Monitors(p, cap) => {
                let mut out = [hive_monitor_info::default(); 4];
                let mut n = 0usize;
                check(
                    "get_monitors",
                    hive_get_monitors(pid_of(w, p), out.as_mut_ptr(), *cap, &mut n),
                );
            }
            Op::Spawn(prio, flags, stack) => {
                let opts = hive_spawn_opts {
                    priority: *prio,
                    flags: *flags,
                    stack_size: *stack,
                };
                let mut pid = 0;
                let mut mref = 0;
                let s = check(
                    "spawn_opt",
                    hive_spawn_opt(Some(quick), null(), 0, &opts, &mut pid, &mut mref),
                );
                if *flags > 3 {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                } else if *flags != 0 && !in_process {
                    // A link or monitor needs a calling process: checked first.
                    assert_eq!(s, HIVE_ERR_NOT_A_PROCESS);
                } else if !(0..=2).contains(prio) {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                } else if *stack > (64 << 20) || (*stack != 0 && *stack < 16 * 1024) {
                    assert_eq!(s, HIVE_ERR_BAD_LENGTH);
                }
                if s == HIVE_OK {
                    w.spawned.push(pid);
                    if mref != 0 {
                        w.mrefs.push(mref);
                    }
                }
            }
            Op::Link(p) => {
                // Linking to a live pool process from the driver would tie their fates:
                // only dead, random, foreign and zero pids.
                if matches!(p, PidArg::Live(_)) {
                    return;
                }
                let s = hive_link(pid_of(w, p));
                if matches!(p, PidArg::Zero) && in_process {
                    expect("link", s, HIVE_ERR_BAD_ARGUMENT);
                } else {
                    not_proc("link", s);
                }
            }
            Op::Unlink(p) => not_proc("unlink", hive_unlink(pid_of(w, p))),
            Op::Monitor(p, null_out) => {
                let mut r = 0;
                let o: *mut u64 = if *null_out { null_mut() } else { &mut r };
                let s = hive_monitor(pid_of(w, p), o);
                if *null_out {
                    expect("monitor", s, HIVE_ERR_NULL_POINTER);
                } else {
                    not_proc("monitor", s);
                }
                if s == HIVE_OK {
                    w.mrefs.push(r);
                }
            }
            Op::MonitorName(n) => {
                let (v, len) = name_of(w, n);
                let mut r = 0;
                let s = check("monitor_name", hive_monitor_name(ptr(&v), len, &mut r));
                if s == HIVE_OK {
                    w.mrefs.push(r);
                }
            }
            Op::Demonitor(r, flags) => {
                let mut info = 0;
                let s = hive_demonitor(ref_of(&w.mrefs, r), *flags, &mut info);
                if in_process && (*flags > 3 || matches!(r, RefArg::Zero)) {
                    expect("demonitor", s, HIVE_ERR_BAD_ARGUMENT);
                } else {
                    not_proc("demonitor", s);
                }
            }
            Op::TrapExit(on) => {
                let mut old = 0;
                not_proc("trap_exit", hive_trap_exit(*on, &mut old));
            }
            Op::SetPriority(p) => {
                let s = hive_set_priority(*p, null_mut());
                if !(0..=2).contains(p) {
                    expect("set_priority", s, HIVE_ERR_BAD_ARGUMENT);
                } else {
                    not_proc("set_priority", s);
                }
            }
            Op::Receive(t) => {
                // Never wait: a negative timeout only from a plain thread (refused).
                if in_process && *t != 0 {
                    return;
                }
                let mut m = null_mut();
                let s = hive_receive(*t, &mut m);
                if s == HIVE_OK {
                    hive_msg_free(m);
                }
                if in_process {
                    check("receive", s);
                } else {
                    expect("receive", s, HIVE_ERR_NOT_A_PROCESS);
                }
            }
            Op::MailboxLen(null_out) => {
                let mut n = 0usize;
                let o: *mut usize = if *null_out { null_mut() } else { &mut n };
                let s = hive_mailbox_len(o);
                if *null_out {
                    expect("mailbox_len", s, HIVE_ERR_NULL_POINTER);
                } else {
                    not_proc("mailbox_len", s);
                }
            }
            Op::Sleep(ms) => {
                if in_process && *ms > 0 {
                    return; // keep the run short
                }
                let s = hive_sleep(*ms);
                if !(0..=0xFFFF_FFFF).contains(ms) {
                    expect("sleep", s, HIVE_ERR_BAD_ARGUMENT);
                } else {
                    not_proc("sleep", s);
                }
            }
            Op::Yield => not_proc("yield", hive_yield()),
            Op::MsgAccessors => {
                CALLS.fetch_add(7, Relaxed);
                assert!(hive_msg_data(null()).is_null());
                assert_eq!(hive_msg_len(null()), 0);
                assert_eq!(hive_msg_sender(null()), 0);
                assert_eq!(hive_msg_timer_ref(null()), 0);
                assert_eq!(hive_msg_monitor_ref(null()), 0);
                assert_eq!(hive_msg_reason_kind(null()), -1);
                assert_eq!(hive_msg_kind(null()), HIVE_ERR_NULL_POINTER);
                hive_msg_free(null_mut());
            }
            Op::MakeRef(null_out) => {
                let mut r = 0;
                let o: *mut hive_ref = if *null_out { null_mut() } else { &mut r };
                let s = check("make_ref", hive_make_ref(o));
                if *null_out {
                    assert_eq!(s, HIVE_ERR_NULL_POINTER);
                } else {
                    assert_eq!(s, HIVE_OK);
                    assert_ne!(r, 0);
                    w.mrefs.push(r);
                }
            }
            Op::Alias(mode, null_out) => {
                let mut r = 0;
                let o: *mut hive_ref = if *null_out { null_mut() } else { &mut r };
                let s = check("alias", hive_alias(*mode, o));
                if *null_out {
                    assert_eq!(s, HIVE_ERR_NULL_POINTER);
                } else if !(0..=3).contains(mode) {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                } else if !in_process {
                    assert_eq!(s, HIVE_ERR_NOT_A_PROCESS);
                } else if *mode == HIVE_ALIAS_EXPLICIT_UNALIAS || *mode == HIVE_ALIAS_REPLY {
                    assert_eq!(s, HIVE_OK);
                    w.mrefs.push(r);
                } else {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                }
            }
            Op::Unalias(r, null_out) => {
                let mut was = -1;
                let o: *mut i32 = if *null_out { null_mut() } else { &mut was };
                let s = hive_unalias(ref_of(&w.mrefs, r), o);
                if in_process && matches!(r, RefArg::Zero) {
                    expect("unalias", s, HIVE_ERR_BAD_ARGUMENT);
                } else {
                    not_proc("unalias", s);
                }
                if s == HIVE_OK && !*null_out {
                    assert!(was == 0 || was == 1);
                }
            }
            Op::MonitorAlias(p, mode, null_out) => {
                let mut r = 0;
                let o: *mut hive_ref = if *null_out { null_mut() } else { &mut r };
                let s = check("monitor_alias", hive_monitor_alias(pid_of(w, p), *mode, o));
                if *null_out {
                    assert_eq!(s, HIVE_ERR_NULL_POINTER);
                } else if !(0..=3).contains(mode) {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                } else if !in_process {
                    assert_eq!(s, HIVE_ERR_NOT_A_PROCESS);
                } else if *mode == HIVE_ALIAS_REPLY || matches!(p, PidArg::Zero) {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                } else {
                    assert_eq!(s, HIVE_OK);
                    w.mrefs.push(r);
                }
            }
            Op::SendAlias(r, b) => {
                let (v, len) = buf_of(b);
                let s = check(
                    "send_alias",
                    hive_send_alias(ref_of(&w.mrefs, r), ptr(&v), len),
                );
                expect_copying_send(s, b, matches!(r, RefArg::Zero));
            }
            Op::SendMsgAlias(r, n) => {
                let mut m = null_mut();
                if let Some(n) = n {
                    expect("msg_alloc", hive_msg_alloc(*n, &mut m), HIVE_OK);
                }
                let s = check(
                    "send_msg_alias",
                    hive_send_msg_alias(ref_of(&w.mrefs, r), m),
                );
                if n.is_none() {
                    assert_eq!(s, HIVE_ERR_NULL_POINTER);
                } else if matches!(r, RefArg::Zero) {
                    assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
                } else {
                    assert_eq!(s, HIVE_OK);
                }
            }
        }
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
