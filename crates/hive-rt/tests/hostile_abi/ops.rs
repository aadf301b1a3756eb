//! One function per operation of the property: each makes its `hive_*` call(s) with the
//! op's arguments and checks the status; `run_op` dispatches.

use super::*;

/// Runs one op; `in_process` says whether the caller is a process.
pub(super) fn run_op(w: &mut World, op: &Op, in_process: bool) {
    match op {
        Op::Send(p, b) => send(w, p, b),
        Op::SendMsg(p, n) => send_msg(w, p, *n),
        Op::Register(n, p) => register(w, n, p),
        Op::Unregister(n) => unregister(w, n),
        Op::Whereis(n, null_out) => whereis(w, n, *null_out),
        Op::SendNamed(n, b) => send_named(w, n, b),
        Op::SendAfter(p, ms, b) => send_after(w, p, *ms, b),
        Op::StartTimerNamed(n, ms) => start_timer_named(w, n, *ms),
        Op::CancelTimer(r, null_out) => cancel_timer(w, r, *null_out),
        Op::ReadTimer(r) => read_timer(w, r),
        Op::ExitPid(p, kind, b) => exit_pid(w, p, *kind, b),
        Op::IsAlive(p) => is_alive(w, p),
        Op::ProcessInfo(p, null_out) => process_info(w, p, *null_out),
        Op::Links(p, cap, null_n) => links(w, p, *cap, *null_n),
        Op::Monitors(p, cap) => monitors(w, p, *cap),
        Op::Spawn(prio, flags, stack) => spawn(w, *prio, *flags, *stack, in_process),
        Op::Link(p) => link(w, p, in_process),
        Op::Unlink(p) => not_proc(in_process, "unlink", hive_unlink(pid_of(w, p))),
        Op::Monitor(p, null_out) => monitor(w, p, *null_out, in_process),
        Op::MonitorName(n) => monitor_name(w, n),
        Op::Demonitor(r, flags) => demonitor(w, r, *flags, in_process),
        Op::TrapExit(on) => trap_exit(*on, in_process),
        Op::SetPriority(p) => set_priority(*p, in_process),
        Op::Receive(t) => receive(*t, in_process),
        Op::MailboxLen(null_out) => mailbox_len(*null_out, in_process),
        Op::Sleep(ms) => sleep(*ms, in_process),
        Op::Yield => not_proc(in_process, "yield", hive_yield()),
        Op::Hibernate(how) => hibernate(*how, in_process),
        Op::MsgAccessors => msg_accessors(),
        Op::MakeRef(null_out) => make_ref(w, *null_out),
        Op::Alias(mode, null_out) => alias(w, *mode, *null_out, in_process),
        Op::Unalias(r, null_out) => unalias(w, r, *null_out, in_process),
        Op::MonitorAlias(p, mode, null_out) => monitor_alias(w, p, *mode, *null_out, in_process),
        Op::SendAlias(r, b) => send_alias(w, r, b),
        Op::SendMsgAlias(r, n) => send_msg_alias(w, r, *n),
    }
}

/// Checks the status `s` of `what`, a call that needs a calling process: any status of
/// `hive.h` inside a process (`in_process`), `HIVE_ERR_NOT_A_PROCESS` from a plain thread.
fn not_proc(in_process: bool, what: &str, s: hive_status) {
    if in_process {
        check(what, s);
    } else {
        expect(what, s, HIVE_ERR_NOT_A_PROCESS);
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

// ---------------------------------------------------------------- sends

fn send(w: &World, p: &PidArg, b: &Bytes) {
    let (v, len) = buf_of(b);
    // SAFETY: `ptr(&v)` is NULL or points to `len` bytes, except with `Bytes::Huge`, a
    // length the call must refuse before reading.
    let s = check("send", unsafe { hive_send(pid_of(w, p), ptr(&v), len) });
    expect_copying_send(s, b, matches!(p, PidArg::Zero));
}

fn send_msg(w: &World, p: &PidArg, n: usize) {
    let mut m = null_mut();
    // SAFETY: `m` is a writable `hive_msg *`.
    expect("msg_alloc", unsafe { hive_msg_alloc(n, &mut m) }, HIVE_OK);
    // SAFETY: `m` is a message this thread owns; the call takes it.
    let s = check("send_msg", unsafe { hive_send_msg(pid_of(w, p), m) });
    if matches!(p, PidArg::Zero) {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    }
}

fn send_named(w: &World, n: &NameArg, b: &Bytes) {
    let (nv, nl) = name_of(w, n);
    let (v, len) = buf_of(b);
    // SAFETY: `ptr(&nv)` is NULL or points to `nl` bytes; `ptr(&v)` is NULL or points to
    // `len` bytes, except with `Bytes::Huge`, a length the call must refuse before reading.
    let s = unsafe { hive_send_named(ptr(&nv), nl, ptr(&v), len) };
    check("send_named", s);
}

fn send_alias(w: &World, r: &RefArg, b: &Bytes) {
    let (v, len) = buf_of(b);
    // SAFETY: `ptr(&v)` is NULL or points to `len` bytes, except with `Bytes::Huge`, a
    // length the call must refuse before reading.
    let s = unsafe { hive_send_alias(ref_of(&w.mrefs, r), ptr(&v), len) };
    check("send_alias", s);
    expect_copying_send(s, b, matches!(r, RefArg::Zero));
}

fn send_msg_alias(w: &World, r: &RefArg, n: Option<usize>) {
    let mut m = null_mut();
    if let Some(n) = n {
        // SAFETY: `m` is a writable `hive_msg *`.
        expect("msg_alloc", unsafe { hive_msg_alloc(n, &mut m) }, HIVE_OK);
    }
    // SAFETY: `m` is NULL or a message this thread owns; the call takes it.
    let s = unsafe { hive_send_msg_alias(ref_of(&w.mrefs, r), m) };
    check("send_msg_alias", s);
    if n.is_none() {
        assert_eq!(s, HIVE_ERR_NULL_POINTER);
    } else if matches!(r, RefArg::Zero) {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    } else {
        assert_eq!(s, HIVE_OK);
    }
}

// ---------------------------------------------------------------- registry

fn register(w: &World, n: &NameArg, p: &PidArg) {
    let (v, len) = name_of(w, n);
    // SAFETY: `ptr(&v)` is NULL or points to `len` bytes.
    let s = check("register", unsafe {
        hive_register(ptr(&v), len, pid_of(w, p))
    });
    match n {
        NameArg::Null(_) => assert_eq!(s, HIVE_ERR_NULL_POINTER),
        NameArg::TooLong => assert_eq!(s, HIVE_ERR_BAD_LENGTH),
        NameArg::Empty | NameArg::WithNul => assert_eq!(s, HIVE_ERR_BAD_ARGUMENT),
        _ if matches!(p, PidArg::Dead(_)) => assert_eq!(s, HIVE_ERR_NO_PROCESS),
        _ => {}
    }
}

fn unregister(w: &World, n: &NameArg) {
    let (v, len) = name_of(w, n);
    // SAFETY: `ptr(&v)` is NULL or points to `len` bytes.
    check("unregister", unsafe { hive_unregister(ptr(&v), len) });
}

fn whereis(w: &World, n: &NameArg, null_out: bool) {
    let (v, len) = name_of(w, n);
    let mut out = 0;
    let o: *mut hive_pid = if null_out { null_mut() } else { &mut out };
    // SAFETY: `ptr(&v)` is NULL or points to `len` bytes; `o` is NULL or a writable pid.
    let s = check("whereis", unsafe { hive_whereis(ptr(&v), len, o) });
    if null_out {
        assert_eq!(s, HIVE_ERR_NULL_POINTER);
    }
}

// ---------------------------------------------------------------- timers

fn send_after(w: &mut World, p: &PidArg, ms: i64, b: &Bytes) {
    let (v, len) = buf_of(b);
    let mut t = 0;
    // SAFETY: `ptr(&v)` is NULL or points to `len` bytes, except with `Bytes::Huge`, a
    // length the call must refuse before reading; `t` is a writable reference.
    let s = unsafe { hive_send_after(pid_of(w, p), ms, ptr(&v), len, &mut t) };
    check("send_after", s);
    if ms < 0 {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    }
    if s == HIVE_OK {
        assert_ne!(t, 0);
        w.trefs.push(t);
    }
}

fn start_timer_named(w: &mut World, n: &NameArg, ms: i64) {
    let (nv, nl) = name_of(w, n);
    let mut t = 0;
    // SAFETY: `ptr(&nv)` is NULL or points to `nl` bytes; the message is 1 byte of a
    // static; `t` is a writable reference.
    let s = unsafe {
        hive_start_timer_named(ptr(&nv), nl, ms, b"x".as_ptr() as *const c_void, 1, &mut t)
    };
    check("start_timer_named", s);
    if s == HIVE_OK {
        w.trefs.push(t);
    }
}

fn cancel_timer(w: &World, r: &RefArg, null_out: bool) {
    let mut left = 0;
    let o: *mut i64 = if null_out { null_mut() } else { &mut left };
    // SAFETY: `o` is NULL or a writable `int64_t`.
    let s = unsafe { hive_cancel_timer(ref_of(&w.trefs, r), o) };
    check("cancel_timer", s);
    assert!(s == HIVE_OK || s == HIVE_ERR_NO_TIMER, "cancel_timer: {s}");
}

fn read_timer(w: &World, r: &RefArg) {
    let mut left = 0;
    // SAFETY: `left` is a writable `int64_t`.
    let s = unsafe { hive_read_timer(ref_of(&w.trefs, r), &mut left) };
    check("read_timer", s);
    assert!(s == HIVE_OK || s == HIVE_ERR_NO_TIMER || s == HIVE_ERR_NULL_POINTER);
}

// ---------------------------------------------------------------- exit and introspection

fn exit_pid(w: &World, p: &PidArg, kind: i32, b: &Bytes) {
    // Never kill the pool's live processes with a standard reason they would
    // die of: keep `kill` and errors for dead, random and foreign pids.
    let target = pid_of(w, p);
    if matches!(p, PidArg::Live(_)) && kind != 0 {
        return;
    }
    let (v, len) = buf_of(b);
    // SAFETY: `ptr(&v)` is NULL or points to `len` bytes, except with `Bytes::Huge`, a
    // length the call must refuse before reading.
    let s = check("exit_pid", unsafe {
        hive_exit_pid(target, kind, ptr(&v), len)
    });
    if !(0..=6).contains(&kind) {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    }
}

fn is_alive(w: &World, p: &PidArg) {
    let r = hive_is_alive(pid_of(w, p));
    CALLS.fetch_add(1, Relaxed);
    match p {
        PidArg::Live(_) => assert_eq!(r, 1),
        PidArg::Dead(_) | PidArg::Zero => assert_eq!(r, 0),
        // Another node's pid: `badarg`, as `is_process_alive/1` on the BEAM (case 143).
        PidArg::Foreign(_) => assert_eq!(r, HIVE_ERR_BAD_ARGUMENT),
        PidArg::Random(_) if pid_of(w, p) >> 52 != 0 => assert_eq!(r, HIVE_ERR_BAD_ARGUMENT),
        PidArg::Random(_) => assert!(r == 0 || r == 1),
    }
}

fn process_info(w: &World, p: &PidArg, null_out: bool) {
    let mut info = std::mem::MaybeUninit::<hive_process_info>::uninit();
    let o = if null_out {
        null_mut()
    } else {
        info.as_mut_ptr()
    };
    // SAFETY: `o` is NULL or a writable `hive_process_info`.
    let s = unsafe { hive_get_process_info(pid_of(w, p), o) };
    check("get_process_info", s);
    if null_out {
        assert_eq!(s, HIVE_ERR_NULL_POINTER);
    }
}

fn links(w: &World, p: &PidArg, cap: usize, null_n: bool) {
    let mut out = [0u64; 4];
    let mut n = 0usize;
    let no: *mut usize = if null_n { null_mut() } else { &mut n };
    // SAFETY: `out` is writable for 4 ≥ `cap` pids; `no` is NULL or a writable `size_t`.
    let s = unsafe { hive_get_links(pid_of(w, p), out.as_mut_ptr(), cap, no) };
    check("get_links", s);
    if null_n {
        assert_eq!(s, HIVE_ERR_NULL_POINTER);
    }
    // SAFETY: `out` is NULL (allowed: the call must refuse it when `cap` > 0); `n` is a
    // writable `size_t`.
    let s = unsafe { hive_get_monitored_by(pid_of(w, p), null_mut(), cap, &mut n) };
    check("get_monitored_by", s);
    if cap > 0 {
        assert_eq!(s, HIVE_ERR_NULL_POINTER);
    }
}

fn monitors(w: &World, p: &PidArg, cap: usize) {
    let mut out = [hive_monitor_info::default(); 4];
    let mut n = 0usize;
    // SAFETY: `out` is writable for 4 ≥ `cap` items; `n` is a writable `size_t`.
    let s = unsafe { hive_get_monitors(pid_of(w, p), out.as_mut_ptr(), cap, &mut n) };
    check("get_monitors", s);
}

// ---------------------------------------------------------------- spawn, links, monitors

fn spawn(w: &mut World, prio: i32, flags: u32, stack: usize, in_process: bool) {
    let opts = hive_spawn_opts {
        priority: prio,
        flags,
        stack_size: stack,
    };
    let mut pid = 0;
    let mut mref = 0;
    // SAFETY: no argument (NULL, length 0); `opts`, `pid` and `mref` are valid and
    // writable.
    let s = unsafe { hive_spawn_opt(Some(quick), null(), 0, &opts, &mut pid, &mut mref) };
    check("spawn_opt", s);
    if flags > 3 {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    } else if flags != 0 && !in_process {
        // A link or monitor needs a calling process: checked first.
        assert_eq!(s, HIVE_ERR_NOT_A_PROCESS);
    } else if !(0..=2).contains(&prio) {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    } else if stack > (64 << 20) || (stack != 0 && stack < 16 * 1024) {
        assert_eq!(s, HIVE_ERR_BAD_LENGTH);
    }
    if s == HIVE_OK {
        w.spawned.push(pid);
        if mref != 0 {
            w.mrefs.push(mref);
        }
    }
}

fn link(w: &World, p: &PidArg, in_process: bool) {
    // Linking to a live pool process from the driver would tie their fates:
    // only dead, random, foreign and zero pids.
    if matches!(p, PidArg::Live(_)) {
        return;
    }
    let s = hive_link(pid_of(w, p));
    if matches!(p, PidArg::Zero) && in_process {
        expect("link", s, HIVE_ERR_BAD_ARGUMENT);
    } else {
        not_proc(in_process, "link", s);
    }
}

fn monitor(w: &mut World, p: &PidArg, null_out: bool, in_process: bool) {
    let mut r = 0;
    let o: *mut u64 = if null_out { null_mut() } else { &mut r };
    // SAFETY: `o` is NULL or a writable `uint64_t`.
    let s = unsafe { hive_monitor(pid_of(w, p), o) };
    if null_out {
        expect("monitor", s, HIVE_ERR_NULL_POINTER);
    } else {
        not_proc(in_process, "monitor", s);
    }
    if s == HIVE_OK {
        w.mrefs.push(r);
    }
}

fn monitor_name(w: &mut World, n: &NameArg) {
    let (v, len) = name_of(w, n);
    let mut r = 0;
    // SAFETY: `ptr(&v)` is NULL or points to `len` bytes; `r` is a writable `uint64_t`.
    let s = unsafe { hive_monitor_name(ptr(&v), len, &mut r) };
    check("monitor_name", s);
    if s == HIVE_OK {
        w.mrefs.push(r);
    }
}

fn demonitor(w: &World, r: &RefArg, flags: u32, in_process: bool) {
    let mut info = 0;
    // SAFETY: `info` is a writable `int32_t`.
    let s = unsafe { hive_demonitor(ref_of(&w.mrefs, r), flags, &mut info) };
    if in_process && (flags > 3 || matches!(r, RefArg::Zero)) {
        expect("demonitor", s, HIVE_ERR_BAD_ARGUMENT);
    } else {
        not_proc(in_process, "demonitor", s);
    }
}

fn trap_exit(on: i32, in_process: bool) {
    let mut old = 0;
    // SAFETY: `old` is a writable `int32_t`.
    not_proc(in_process, "trap_exit", unsafe {
        hive_trap_exit(on, &mut old)
    });
}

// ---------------------------------------------------------------- calls of a process

fn set_priority(p: i32, in_process: bool) {
    // SAFETY: `old_out` is NULL (allowed: not written).
    let s = unsafe { hive_set_priority(p, null_mut()) };
    if !(0..=2).contains(&p) {
        expect("set_priority", s, HIVE_ERR_BAD_ARGUMENT);
    } else {
        not_proc(in_process, "set_priority", s);
    }
}

fn receive(t: i64, in_process: bool) {
    // Never wait: a negative timeout only from a plain thread (refused).
    if in_process && t != 0 {
        return;
    }
    let mut m = null_mut();
    // SAFETY: `m` is a writable `hive_msg *`.
    let s = unsafe { hive_receive(t, &mut m) };
    if s == HIVE_OK {
        // SAFETY: the receive gave this process `m`; it is not used afterwards.
        unsafe { hive_msg_free(m) };
    }
    if in_process {
        check("receive", s);
    } else {
        expect("receive", s, HIVE_ERR_NOT_A_PROCESS);
    }
}

fn mailbox_len(null_out: bool, in_process: bool) {
    let mut n = 0usize;
    let o: *mut usize = if null_out { null_mut() } else { &mut n };
    // SAFETY: `o` is NULL or a writable `size_t`.
    let s = unsafe { hive_mailbox_len(o) };
    if null_out {
        expect("mailbox_len", s, HIVE_ERR_NULL_POINTER);
    } else {
        not_proc(in_process, "mailbox_len", s);
    }
}

fn sleep(ms: i64, in_process: bool) {
    if in_process && ms > 0 {
        return; // keep the run short
    }
    let s = hive_sleep(ms);
    if !(0..=0xFFFF_FFFF).contains(&ms) {
        expect("sleep", s, HIVE_ERR_BAD_ARGUMENT);
    } else {
        not_proc(in_process, "sleep", s);
    }
}

extern "C" fn never_entered(_: *mut c_void) {
    unreachable!("a refused hibernation ran its entry");
}

/// `hive_hibernate` with bad input (each refused before anything happens), or with good
/// input from a plain thread; a good call from a process would hibernate the driver.
fn hibernate(how: u8, in_process: bool) {
    let b = [7u8; 16];
    let bp: *const c_void = b.as_ptr().cast();
    let (entry, arg, len, want): (Option<extern "C" fn(*mut c_void)>, *const c_void, usize, _) =
        match how {
            0 => (None, bp, b.len(), Some(HIVE_ERR_NULL_POINTER)),
            1 => (Some(never_entered), null(), 8, Some(HIVE_ERR_NULL_POINTER)),
            2 => (
                Some(never_entered),
                bp,
                HIVE_MAX_ARG_LEN + 1,
                Some(HIVE_ERR_BAD_LENGTH),
            ),
            3 => (
                Some(never_entered),
                bp,
                usize::MAX,
                Some(HIVE_ERR_BAD_LENGTH),
            ),
            _ if in_process => return,
            _ => (Some(never_entered), bp, b.len(), None),
        };
    // SAFETY: `arg` is NULL or `b`; the lengths past `b` are refused before any read (the
    // documented checks come first), which is what this op checks.
    let s = unsafe { hive_hibernate(entry, arg, len) };
    match want {
        Some(code) if in_process => expect("hibernate", s, code),
        // From a plain thread the caller is checked first.
        _ => expect("hibernate", s, HIVE_ERR_NOT_A_PROCESS),
    }
}

// ---------------------------------------------------------------- messages, references, aliases

fn msg_accessors() {
    CALLS.fetch_add(7, Relaxed);
    // SAFETY: every accessor and `hive_msg_free` take NULL (no message).
    unsafe {
        assert!(hive_msg_data(null()).is_null());
        assert_eq!(hive_msg_len(null()), 0);
        assert_eq!(hive_msg_sender(null()), 0);
        assert_eq!(hive_msg_timer_ref(null()), 0);
        assert_eq!(hive_msg_monitor_ref(null()), 0);
        assert_eq!(hive_msg_reason_kind(null()), -1);
        assert_eq!(hive_msg_kind(null()), HIVE_ERR_NULL_POINTER);
        hive_msg_free(null_mut());
    }
}

fn make_ref(w: &mut World, null_out: bool) {
    let mut r = 0;
    let o: *mut hive_ref = if null_out { null_mut() } else { &mut r };
    // SAFETY: `o` is NULL or a writable `hive_ref`.
    let s = check("make_ref", unsafe { hive_make_ref(o) });
    if null_out {
        assert_eq!(s, HIVE_ERR_NULL_POINTER);
    } else {
        assert_eq!(s, HIVE_OK);
        assert_ne!(r, 0);
        w.mrefs.push(r);
    }
}

fn alias(w: &mut World, mode: i32, null_out: bool, in_process: bool) {
    let mut r = 0;
    let o: *mut hive_ref = if null_out { null_mut() } else { &mut r };
    // SAFETY: `o` is NULL or a writable `hive_ref`.
    let s = check("alias", unsafe { hive_alias(mode, o) });
    if null_out {
        assert_eq!(s, HIVE_ERR_NULL_POINTER);
    } else if !(0..=3).contains(&mode) {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    } else if !in_process {
        assert_eq!(s, HIVE_ERR_NOT_A_PROCESS);
    } else if mode == HIVE_ALIAS_EXPLICIT_UNALIAS || mode == HIVE_ALIAS_REPLY {
        assert_eq!(s, HIVE_OK);
        w.mrefs.push(r);
    } else {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    }
}

fn unalias(w: &World, r: &RefArg, null_out: bool, in_process: bool) {
    let mut was = -1;
    let o: *mut i32 = if null_out { null_mut() } else { &mut was };
    // SAFETY: `o` is NULL or a writable `int32_t`.
    let s = unsafe { hive_unalias(ref_of(&w.mrefs, r), o) };
    if in_process && matches!(r, RefArg::Zero) {
        expect("unalias", s, HIVE_ERR_BAD_ARGUMENT);
    } else {
        not_proc(in_process, "unalias", s);
    }
    if s == HIVE_OK && !null_out {
        assert!(was == 0 || was == 1);
    }
}

fn monitor_alias(w: &mut World, p: &PidArg, mode: i32, null_out: bool, in_process: bool) {
    let mut r = 0;
    let o: *mut hive_ref = if null_out { null_mut() } else { &mut r };
    // SAFETY: `o` is NULL or a writable `hive_ref`.
    let s = unsafe { hive_monitor_alias(pid_of(w, p), mode, o) };
    check("monitor_alias", s);
    if null_out {
        assert_eq!(s, HIVE_ERR_NULL_POINTER);
    } else if !(0..=3).contains(&mode) {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    } else if !in_process {
        assert_eq!(s, HIVE_ERR_NOT_A_PROCESS);
    } else if mode == HIVE_ALIAS_REPLY || matches!(p, PidArg::Zero) {
        assert_eq!(s, HIVE_ERR_BAD_ARGUMENT);
    } else {
        assert_eq!(s, HIVE_OK);
        w.mrefs.push(r);
    }
}
