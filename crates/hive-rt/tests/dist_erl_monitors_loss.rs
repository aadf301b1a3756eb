//! Distribution against a real Erlang/OTP node: remote monitors (cases 125–133), node loss
//! (134–142) and node names and connections (143–146), each test named by its case
//! (`/work/shared/semantics/dist-cases.md`). Every test starts a private EPMD, its own `erl`
//! node(s) (`common/erl.rs`) and a Hive node with unique names.
//!
//! On the Erlang side a registered `srv` spawns *targets* (see [`ERL_SETUP`]); on the Hive
//! side an *agent* ([`spawn_agent`]) obeys commands sent from Erlang. Tests that need the
//! test thread to act on the Erlang node while a Hive process waits run that process on a
//! thread of their own ([`with_proc`]), and step it with `rt.send_named(b"s", b"step")`.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::dist::{erl_with, hive_node, private_epmd, run_normal, show_reason, start_hive_node};
use common::erl::{require_erl, Epmd, ErlNode};
use common::hive_peer::TICK_MS;
use hive_rt::dist;
use hive_rt::dist::etf::{self, ExtPid, Term};
use hive_rt::{process, ExitReason, Message, MessageKind, Pid, Runtime};

/// Erlang code run once on every node: `srv` spawns targets. A target answers `{sync, F}`
/// with `{synced, self()}`, exits `boom` on `die` and `R` on `{die, R}`, returns on
/// `stop`, echoes `{echo, F, M}` as `{echo, self(), M}`, starts trapping on `{trap, F}`,
/// keeps the `'EXIT'` messages it gets and reports them on `{exits, F}`; `{mq, F}` gives
/// its queue length, `{info, F}` its links. `srv` answers `{spawn, F}` and `{spawn, Name, F}` with
/// `{target, Pid}`, and `{counter, F}` with a counter (case 138).
const ERL_SETUP: &str = r#"
TargetF = fun TL(Ex) -> receive
    {sync, F} -> F ! {synced, self()}, TL(Ex);
    die -> exit(boom);
    {die, R} -> exit(R);
    stop -> ok;
    {trap, F} -> process_flag(trap_exit, true), F ! {trapping, self()}, TL(Ex);
    {'EXIT', _, _} = E -> TL([E | Ex]);
    {exits, F} -> F ! {exits, self(), lists:reverse(Ex)}, TL(Ex);
    {echo, F, M} -> F ! {echo, self(), M}, TL(Ex);
    {mq, F} -> {message_queue_len, N} = process_info(self(), message_queue_len), F ! {mq, self(), N}, TL(Ex);
    {info, F} -> {links, L} = process_info(self(), links), F ! {info, self(), L}, TL(Ex)
  end end,
CounterF = fun CL(Acc) -> receive
    {n, I} -> CL([I | Acc]);
    {get, F} ->
      L = lists:reverse(Acc),
      {Pre, Rest} = lists:splitwith(fun(X) -> X =< 20000 end, L),
      F ! {got, self(), length(Pre), Pre =:= lists:seq(1, length(Pre)), Rest}
  end end,
Srv = spawn(fun SL() -> receive
    {spawn, F} -> P = spawn(fun() -> TargetF([]) end), F ! {target, P}, SL();
    {spawn, N, F} -> P = spawn(fun() -> TargetF([]) end), register(N, P), F ! {target, P}, SL();
    {counter, F} -> P = spawn(fun() -> CounterF([]) end), F ! {target, P}, SL()
  end end),
register(srv, Srv), ok.
"#;

/// An erl node `name@localhost` (`-connect_all false`) with the targets' server.
fn erl(epmd: &Epmd, name: &str) -> ErlNode {
    let e = erl_with(epmd, name, &["-connect_all", "false"]);
    assert_eq!(e.eval(ERL_SETUP).unwrap(), "ok");
    e
}

/// Unless the test is skipped: a private EPMD, and on it the Hive node `hv<case>@localhost`
/// and the erl node `e<case>@localhost`.
fn setup(case: &str) -> Option<(Epmd, Runtime, ErlNode)> {
    let epmd = private_epmd()?;
    let rt = hive_node(&epmd, &format!("hv{case}"));
    let e = erl(&epmd, &format!("e{case}"));
    Some((epmd, rt, e))
}

// ---- Hive-side helpers (called inside a Hive process) ----

fn me_t() -> Term {
    Term::Pid(dist::pid_term(process::self_pid()).unwrap().unwrap())
}

fn pid_t(p: Pid) -> Term {
    Term::Pid(dist::pid_term(p).unwrap().unwrap())
}

fn send_t(to: Pid, t: &Term) {
    process::send(to, &etf::to_vec(t)).unwrap();
}

fn to_name(node: &str, name: &str, t: &Term) {
    dist::send_name(node, name, &etf::to_vec(t)).unwrap();
}

fn pid_from(t: &Term) -> Pid {
    let Term::Pid(p) = t else {
        panic!("not a pid: {t}")
    };
    dist::pid_of(p).unwrap().expect("a known pid")
}

/// The tag of a data message that is an ETF tuple `{Tag, ...}`.
fn tag_of(m: &Message) -> Option<String> {
    if m.kind() != MessageKind::Data {
        return None;
    }
    let t = etf::decode(m.data()).ok()?;
    let v = t.as_tuple()?;
    v.first()?.as_atom().map(str::to_owned)
}

/// Takes the next data message `{tag, ...}` (others stay), within 10 s; its elements.
fn recv_tagged(tag: &str) -> Vec<Term> {
    let m = process::receive_select(Some(10_000), |m| tag_of(m).as_deref() == Some(tag))
        .unwrap_or_else(|e| panic!("no {{{tag}, ...}} within 10 s: {e:?}"));
    match etf::decode(m.data()).unwrap() {
        Term::Tuple(v) => v,
        _ => unreachable!(),
    }
}

/// A new target on `node` (registered as `name` if given).
fn spawn_target(node: &str, name: Option<&str>) -> Pid {
    let req = match name {
        Some(n) => Term::tuple(vec![Term::atom("spawn"), Term::atom(n), me_t()]),
        None => Term::tuple(vec![Term::atom("spawn"), me_t()]),
    };
    to_name(node, "srv", &req);
    pid_from(&recv_tagged("target")[1])
}

/// `sync(P)`: once it returns, `p` has handled every signal this process sent it before.
fn sync(p: Pid) {
    send_t(p, &Term::tuple(vec![Term::atom("sync"), me_t()]));
    let v = recv_tagged("synced");
    assert_eq!(pid_from(&v[1]), p);
}

fn atom_bytes(a: &str) -> Vec<u8> {
    etf::to_vec(&Term::atom(a))
}

/// A reason as Erlang text.
fn reason_str(r: &ExitReason) -> String {
    match r {
        ExitReason::Error(b) => etf::decode(b)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| format!("bytes {b:?}")),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// What a received message was, for assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Got {
    Exit(Pid, String),
    Down(u64, Pid, String),
    Data(String),
    Other(MessageKind),
}

fn got(m: &Message) -> Got {
    match m.kind() {
        MessageKind::Exit => Got::Exit(m.sender(), reason_str(&m.reason().unwrap())),
        MessageKind::Down => Got::Down(
            m.monitor_ref(),
            m.sender(),
            reason_str(&m.reason().unwrap()),
        ),
        MessageKind::Data => Got::Data(
            etf::decode(m.data())
                .map(|t| t.to_string())
                .unwrap_or_else(|_| format!("{:?}", m.data())),
        ),
        k => Got::Other(k),
    }
}

/// The next `n` messages, each within 10 s.
fn collect(n: usize) -> Vec<Got> {
    let mut v = Vec::new();
    for _ in 0..n {
        match process::receive(Some(10_000)) {
            Ok(m) => v.push(got(&m)),
            Err(e) => panic!("only {v:?} of {n} messages: {e:?}"),
        }
    }
    v
}

/// Every message that arrives until none has for `ms` (the bounded `receive ... after`).
fn drain(ms: u32) -> Vec<Got> {
    let mut v = Vec::new();
    while let Ok(m) = process::receive(Some(ms)) {
        v.push(got(&m));
    }
    v
}

/// How many queued messages match, leaving them all in place.
fn queued(pred: impl Fn(&Message) -> bool) -> usize {
    let mut n = 0;
    let _ = process::receive_select(Some(0), |m| {
        if pred(m) {
            n += 1;
        }
        false
    });
    n
}

/// Yields until `pred` holds on the mailbox (a DOWN known to be on its way is queued),
/// within 10 s.
fn until_queued(pred: impl Fn(&Message) -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while queued(&pred) == 0 {
        assert!(Instant::now() < end, "the message was never queued");
        process::yield_now().unwrap();
    }
}

/// Sorted, for comparisons where the order is not promised.
fn sorted(mut v: Vec<Got>) -> Vec<Got> {
    v.sort_by_key(|g| format!("{g:?}"));
    v
}

/// Waits for the test thread's `step` (sent with `rt.send_named(b"s", b"step")`).
fn wait_step() {
    process::receive_select(Some(60_000), |m| {
        m.kind() == MessageKind::Data && m.sender().is_none() && m.data() == b"step"
    })
    .expect("step from the test thread");
}

/// Tiny xorshift for jitter.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A spin of 0–1.5 ms, then a yield half of the time (`rjitter()`).
    fn jitter(&mut self) {
        let us = self.next() % 1500;
        let end = Instant::now() + Duration::from_micros(us);
        while Instant::now() < end {
            std::hint::spin_loop();
        }
        if self.next().is_multiple_of(2) {
            process::yield_now().unwrap();
        }
    }
}

/// Runs `f` as a Hive process (registered by itself as `s` when it wants steps) on its
/// own thread while `drive` runs on this one; asserts that it ended normally.
fn with_proc(rt: &Runtime, f: impl FnOnce() + Send + 'static, drive: impl FnOnce()) {
    std::thread::scope(|s| {
        let h = s.spawn(|| rt.run(f).unwrap());
        drive();
        let reason = h.join().unwrap();
        assert!(reason.is_normal(), "{}", show_reason(&reason));
    });
}

/// A Hive agent registered as `name` that obeys Erlang: `{pid, F}` → `{hpid, Self}`;
/// `{exit_with, R}` ends it with `R`; `{mb, F}` → `{mb, MonitoredBy}`; `{links, F}` →
/// `{links, Links}`; `{unregister, F}` unregisters it, then `{unregistered}`; `{echo, F, M}`
/// → `{echo, Self, M}`; it keeps the exit signals it traps and `{exits, F}` →
/// `{exits, [{Pid, ReasonText}]}`. `trap` sets `trap_exit`.
fn spawn_agent(rt: &Runtime, name: &str, trap: bool) -> Pid {
    let n = name.to_owned();
    let pid = rt
        .spawn(move || {
            process::trap_exit(trap).unwrap();
            let mut exits = Vec::new();
            loop {
                let m = process::receive(None).unwrap();
                if m.kind() == MessageKind::Exit {
                    exits.push(Term::tuple(vec![
                        pid_t(m.sender()),
                        Term::atom(&reason_str(&m.reason().unwrap())),
                    ]));
                    continue;
                }
                if m.kind() != MessageKind::Data {
                    continue;
                }
                let Ok(Term::Tuple(v)) = etf::decode(m.data()) else {
                    continue;
                };
                let me = process::self_pid();
                let info = || process::process_info(me).unwrap().unwrap();
                match v.first().and_then(Term::as_atom) {
                    Some("pid") => send_t(
                        pid_from(&v[1]),
                        &Term::tuple(vec![Term::atom("hpid"), me_t()]),
                    ),
                    Some("exit_with") => {
                        let r = match v[1].as_atom() {
                            Some("normal") => ExitReason::Normal,
                            _ => ExitReason::error(etf::to_vec(&v[1])),
                        };
                        let _ = process::exit(r);
                    }
                    Some("mb") => {
                        let l = info().monitored_by.into_iter().map(pid_t).collect();
                        send_t(
                            pid_from(&v[1]),
                            &Term::tuple(vec![Term::atom("mb"), Term::list(l)]),
                        );
                    }
                    Some("links") => {
                        let l = info().links.into_iter().map(pid_t).collect();
                        send_t(
                            pid_from(&v[1]),
                            &Term::tuple(vec![Term::atom("links"), Term::list(l)]),
                        );
                    }
                    Some("unregister") => {
                        process::unregister(n.as_bytes()).unwrap();
                        send_t(
                            pid_from(&v[1]),
                            &Term::tuple(vec![Term::atom("unregistered")]),
                        );
                    }
                    Some("echo") => send_t(
                        pid_from(&v[1]),
                        &Term::tuple(vec![Term::atom("echo"), me_t(), v[2].clone()]),
                    ),
                    Some("exits") => send_t(
                        pid_from(&v[1]),
                        &Term::tuple(vec![Term::atom("exits"), Term::list(exits.clone())]),
                    ),
                    _ => {}
                }
            }
        })
        .unwrap();
    rt.register(name.as_bytes(), pid).unwrap();
    pid
}

/// Evaluates `expr` on `e` and expects `want`.
fn expect(e: &ErlNode, expr: &str, want: &str) {
    let got = e.eval(expr);
    assert_eq!(
        got.as_deref(),
        Ok(want),
        "`{expr}` on {}; output:\n{}",
        e.name(),
        e.output_tail()
    );
}

// ---- N. Remote monitors ----

/// Case 125, both ways. Hive monitors an Erlang target: Erlang lists the Hive process in
/// `monitored_by`, Hive in `monitors`; the DOWN has the full reason, exactly once. Erlang
/// monitors a Hive process: Hive lists the Erlang pid in `monitored_by`; the DOWN has the
/// full reason.
#[test]
fn case_125_remote_monitor_full_reason_both_ways() {
    let Some((_epmd, rt, e)) = setup("125") else {
        return;
    };
    let (tx, rx) = mpsc::channel::<()>();
    with_proc(
        &rt,
        move || {
            process::register(b"s", process::self_pid()).unwrap();
            let p = spawn_target("e125@localhost", Some("t125"));
            let m = process::monitor(p).unwrap();
            sync(p);
            let info = process::process_info(process::self_pid()).unwrap().unwrap();
            assert_eq!(info.monitors, vec![(m, p)]);
            tx.send(()).unwrap();
            wait_step();
            let big = Term::tuple(vec![
                Term::atom("big"),
                Term::list(vec![
                    Term::atom("reason"),
                    Term::Int(1),
                    Term::Binary(b"x".to_vec()),
                ]),
            ]);
            let reason = big.to_string();
            send_t(p, &Term::tuple(vec![Term::atom("die"), big]));
            assert_eq!(collect(1), vec![Got::Down(m, p, reason)]);
            assert_eq!(drain(300), vec![]);
            let info = process::process_info(process::self_pid()).unwrap().unwrap();
            assert_eq!(info.monitors, vec![]);
        },
        || {
            rx.recv_timeout(Duration::from_secs(30))
                .expect("monitor set");
            expect(
                &e,
                "{monitored_by, Mb} = process_info(whereis(t125), monitored_by), [node(Y) || Y <- Mb].",
                "[hv125@localhost]",
            );
            rt.send_named(b"s", b"step").unwrap();
        },
    );
    // Erlang monitors a Hive process.
    spawn_agent(&rt, "a125", false);
    expect(
        &e,
        "{a125, 'hv125@localhost'} ! {pid, self()}, \
         HP = receive {hpid, X} -> X after 5000 -> timeout end, \
         M = monitor(process, HP), \
         {a125, 'hv125@localhost'} ! {mb, self()}, \
         receive {mb, L} -> L =:= [self()] after 5000 -> timeout end.",
        "true",
    );
    expect(
        &e,
        "{a125, 'hv125@localhost'} ! {exit_with, {big, [reason, 1, <<\"x\">>]}}, \
         receive {'DOWN', M, process, HP, R} -> R after 5000 -> timeout end.",
        "{big,[reason,1,<<\"x\">>]}",
    );
    expect(&e, "receive Any -> Any after 300 -> none end.", "none");
    rt.shutdown();
}

/// Case 126 (Erlang side; the Hive side is `dist_erl.rs::case_126_127_hive_monitors_remote_name`):
/// `monitor(process, {Name, HiveNode})` lists `{Name, Node}`, resolves the name once on the Hive node (a
/// new holder of the name dying gives no DOWN) and the DOWN names `{Name, Node}`.
#[test]
fn case_126_erlang_monitors_hive_name_resolved_once() {
    let Some((_epmd, rt, e)) = setup("126") else {
        return;
    };
    spawn_agent(&rt, "n126", false);
    expect(
        &e,
        "N = {n126, 'hv126@localhost'}, N ! {pid, self()}, \
         H1 = receive {hpid, X} -> X after 5000 -> timeout end, \
         M = monitor(process, N), \
         {monitors, Ms} = process_info(self(), monitors), \
         N ! {mb, self()}, \
         {Ms, receive {mb, L} -> L =:= [self()] after 5000 -> timeout end}.",
        "{[{process,{n126,hv126@localhost}}],true}",
    );
    expect(
        &e,
        "N ! {unregister, self()}, receive {unregistered} -> ok after 5000 -> timeout end.",
        "ok",
    );
    spawn_agent(&rt, "n126", false);
    expect(
        &e,
        "N ! {pid, self()}, H2 = receive {hpid, Y} -> Y after 5000 -> timeout end, \
         M2 = monitor(process, H2), N ! {exit_with, two}, \
         D2 = receive {'DOWN', M2, process, H2, R2} -> R2 after 5000 -> timeout end, \
         {H2 =/= H1, D2, receive {'DOWN', M, _, _, _} = D -> D after 300 -> none end}.",
        "{true,two,none}",
    );
    expect(
        &e,
        "H1 ! {exit_with, one}, \
         receive {'DOWN', M, process, Obj, R} -> {Obj, R} after 5000 -> timeout end.",
        "{{n126,hv126@localhost},one}",
    );
    rt.shutdown();
}

/// Case 127: a monitor on a dead remote pid gives one DOWN `noproc`, from Hive; from
/// Erlang, a monitor on an unregistered Hive name and on a dead Hive pid give DOWN
/// `noproc` (no exception).
#[test]
fn case_127_monitor_dead_remote_pid_or_name_noproc() {
    let Some((_epmd, rt, e)) = setup("127") else {
        return;
    };
    run_normal(&rt, || {
        let p = spawn_target("e127@localhost", None);
        let m0 = process::monitor(p).unwrap();
        send_t(p, &Term::atom("stop"));
        assert_eq!(collect(1), vec![Got::Down(m0, p, "normal".into())]);
        let m1 = process::monitor(p).unwrap();
        assert_eq!(collect(1), vec![Got::Down(m1, p, "noproc".into())]);
        assert_eq!(drain(300), vec![]);
    });
    expect(
        &e,
        "M1 = monitor(process, {nosuch, 'hv127@localhost'}), \
         receive {'DOWN', M1, process, O1, R1} -> {O1, R1} after 5000 -> timeout end.",
        "{{nosuch,hv127@localhost},noproc}",
    );
    spawn_agent(&rt, "a127", false);
    expect(
        &e,
        "{a127, 'hv127@localhost'} ! {pid, self()}, \
         HP = receive {hpid, X} -> X after 5000 -> timeout end, \
         M2 = monitor(process, HP), {a127, 'hv127@localhost'} ! {exit_with, normal}, \
         R2 = receive {'DOWN', M2, process, HP, A} -> A after 5000 -> timeout end, \
         M3 = monitor(process, HP), \
         R3 = receive {'DOWN', M3, process, HP, B} -> B after 5000 -> timeout end, \
         {R2, R3}.",
        "{normal,noproc}",
    );
    rt.shutdown();
}

/// Case 128: `demonitor` across nodes: before the exit, no DOWN arrives (and `info` says
/// it was active); with the DOWN queued, a plain demonitor leaves it, a flushing one
/// removes it; `flush` + `info` on a fired monitor gives false and removes the DOWN.
#[test]
fn case_128_demonitor_flush_info_across_nodes() {
    let Some((_epmd, rt, _e)) = setup("128") else {
        return;
    };
    run_normal(&rt, || {
        let node = "e128@localhost";
        // demonitor before the remote exit: active (info true), no DOWN later.
        let p = spawn_target(node, None);
        let m = process::monitor(p).unwrap();
        let m2 = process::monitor(p).unwrap();
        assert!(process::demonitor(m, false).unwrap(), "info: was active");
        send_t(p, &Term::atom("die"));
        assert_eq!(collect(1), vec![Got::Down(m2, p, "boom".into())]);
        assert_eq!(drain(200), vec![]);
        // DOWN queued: demonitor leaves it, demonitor with flush removes it.
        let p = spawn_target(node, None);
        let m = process::monitor(p).unwrap();
        let m2 = process::monitor(p).unwrap();
        send_t(p, &Term::atom("die"));
        process::receive_select(Some(10_000), |x| x.monitor_ref() == m2).unwrap();
        until_queued(|x| x.monitor_ref() == m);
        assert!(!process::demonitor(m, false).unwrap(), "info: had fired");
        assert_eq!(queued(|x| x.monitor_ref() == m), 1, "demonitor left it");
        process::demonitor(m, true).unwrap();
        assert_eq!(queued(|x| x.monitor_ref() == m), 0, "flush removed it");
        // flush + info on a fired monitor: false, and the DOWN is gone.
        let p = spawn_target(node, None);
        let m = process::monitor(p).unwrap();
        let m2 = process::monitor(p).unwrap();
        send_t(p, &Term::atom("die"));
        process::receive_select(Some(10_000), |x| x.monitor_ref() == m2).unwrap();
        until_queued(|x| x.monitor_ref() == m);
        assert!(!process::demonitor(m, true).unwrap());
        assert_eq!(queued(|x| x.monitor_ref() == m), 0);
        assert_eq!(drain(200), vec![]);
    });
    rt.shutdown();
}

/// Case 129 [RACE]: `exit(RemoteP, bang)` then `demonitor(M)`: the DOWN is queued or
/// not, and after one `after 0` flush no DOWN of `M` ever arrives.
#[test]
fn case_129_race_exit_then_demonitor_no_late_down() {
    let Some((_epmd, rt, _e)) = setup("129") else {
        return;
    };
    run_normal(&rt, || {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut was_queued, mut nothing) = (0, 0);
        let mut refs = Vec::new();
        for _ in 0..150 {
            let p = spawn_target("e129@localhost", None);
            let m = process::monitor(p).unwrap();
            let m2 = process::monitor(p).unwrap();
            sync(p);
            process::exit_pid(p, ExitReason::error(atom_bytes("bang"))).unwrap();
            rng.jitter();
            process::demonitor(m, false).unwrap();
            match process::receive_select(Some(0), |x| x.monitor_ref() == m) {
                Ok(x) => {
                    assert_eq!(got(&x), Got::Down(m, p, "bang".into()));
                    was_queued += 1;
                }
                Err(_) => nothing += 1,
            }
            let d = process::receive_select(Some(10_000), |x| x.monitor_ref() == m2).unwrap();
            assert_eq!(got(&d), Got::Down(m2, p, "bang".into()));
            refs.push(m);
        }
        let late = drain(300);
        assert_eq!(late, vec![], "late DOWNs");
        println!("case 129: down_was_queued x{was_queued}, nothing_queued x{nothing}");
    });
    rt.shutdown();
}

/// Case 130 [RACE]: `monitor(RemoteP)` then `RemoteP ! die`: always the real reason
/// `boom`, never `noproc`.
#[test]
fn case_130_race_monitor_then_die_real_reason() {
    let Some((_epmd, rt, _e)) = setup("130") else {
        return;
    };
    run_normal(&rt, || {
        for i in 0..200 {
            let p = spawn_target("e130@localhost", None);
            let m = process::monitor(p).unwrap();
            send_t(p, &Term::atom("die"));
            let d = process::receive_select(Some(10_000), |x| x.monitor_ref() == m).unwrap();
            assert_eq!(got(&d), Got::Down(m, p, "boom".into()), "iteration {i}");
        }
        assert_eq!(drain(100), vec![]);
    });
    rt.shutdown();
}

/// Case 131: `monitor_node/2`: one `{nodedown, N}` per `true` call, once; a reconnect
/// does not renew them; `false` removes one and never fails.
#[test]
fn case_131_monitor_node_once_per_call() {
    let Some((_epmd, rt, _e)) = setup("131") else {
        return;
    };
    run_normal(&rt, || {
        let node = "e131@localhost";
        let down = Got::Data("{nodedown,'e131@localhost'}".into());
        let down_alt = Got::Data("{nodedown,e131@localhost}".into());
        let is_down = |g: &Got| *g == down || *g == down_alt;
        // Connected (a target answered), then two `true`.
        spawn_target(node, None);
        dist::monitor_node(node, true).unwrap();
        dist::monitor_node(node, true).unwrap();
        assert!(dist::disconnect(node).unwrap());
        let g = collect(2);
        assert!(g.iter().all(is_down), "{g:?}");
        assert_eq!(drain(300), vec![]);
        // Reconnect and disconnect: nothing.
        spawn_target(node, None);
        assert!(dist::disconnect(node).unwrap());
        assert_eq!(drain(300), vec![]);
        // true, true, false: one.
        spawn_target(node, None);
        dist::monitor_node(node, true).unwrap();
        dist::monitor_node(node, true).unwrap();
        dist::monitor_node(node, false).unwrap();
        assert!(dist::disconnect(node).unwrap());
        let g = collect(1);
        assert!(g.iter().all(is_down), "{g:?}");
        assert_eq!(drain(300), vec![]);
        // true, false, false: none.
        spawn_target(node, None);
        dist::monitor_node(node, true).unwrap();
        dist::monitor_node(node, false).unwrap();
        dist::monitor_node(node, false).unwrap();
        assert!(dist::disconnect(node).unwrap());
        assert_eq!(drain(300), vec![]);
    });
    rt.shutdown();
}

/// Case 132: an unreachable node: `monitor_node` gives one `{nodedown, N}`; a node name
/// without `@` is a bad argument. (A monitor on `{Name, N}` there gives a DOWN
/// `noconnection`: `runtime-tests/dist_abi.c`; a monitor and a link on a pid of the
/// unreachable node give `noconnection`, case 142.)
#[test]
fn case_132_unreachable_node_monitor_node_nodedown() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv132");
    run_normal(&rt, || {
        let nosuch = "hv132_nosuch@localhost";
        dist::monitor_node(nosuch, true).unwrap();
        let g = collect(1);
        assert!(
            g == vec![Got::Data("{nodedown,'hv132_nosuch@localhost'}".into())]
                || g == vec![Got::Data("{nodedown,hv132_nosuch@localhost}".into())],
            "{g:?}"
        );
        assert_eq!(drain(300), vec![]);
        assert!(dist::monitor_node("str", true).is_err(), "badarg");
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
    });
    rt.shutdown();
}

/// Cases 133 and 146 (Erlang side): the Hive node is hidden: not in `nodes()`, in
/// `nodes(hidden)` and `nodes(connected)`; `monitor_nodes(true)` reports nothing about
/// it, `monitor_nodes(true, [{node_type, all}])` reports its nodeup and nodedown with
/// `{node_type, hidden}`, and with `nodedown_reason` the reason of its going.
#[test]
fn case_133_146_monitor_nodes_sees_hidden_hive_node() {
    let Some((_epmd, rt, e)) = setup("133") else {
        return;
    };
    // Subscriptions in separate processes; `{get, N, F}` waits until N messages came.
    expect(
        &e,
        "Sub = fun(Opts) -> Self = self(), spawn(fun() -> \
             case Opts of plain -> ok = net_kernel:monitor_nodes(true); \
                          _ -> ok = net_kernel:monitor_nodes(true, Opts) end, \
             Self ! subscribed, \
             (fun Loop(Acc) -> receive \
                  {get, N, F} when length(Acc) >= N -> \
                      F ! {got, [{T, Nd, lists:sort(I)} || {T, Nd, I} <- lists:reverse(Acc)]}, Loop([]); \
                  {T, Nd} when T =:= nodeup; T =:= nodedown -> Loop([{T, Nd, []} | Acc]); \
                  {T, Nd, I} when T =:= nodeup; T =:= nodedown -> Loop([{T, Nd, I} | Acc]) \
              end end)([]) end) end, \
         Plain = Sub(plain), receive subscribed -> ok end, \
         All = Sub([{node_type, all}]), receive subscribed -> ok end, \
         AllR = Sub([{node_type, all}, nodedown_reason]), receive subscribed -> ok end, \
         Get = fun(P, N) -> P ! {get, N, self()}, receive {got, L} -> L after 10000 -> timeout end end, \
         ok.",
        "ok",
    );
    expect(&e, "net_adm:ping('hv133@localhost').", "pong");
    expect(
        &e,
        "{nodes(), nodes(hidden), lists:member('hv133@localhost', nodes(connected))}.",
        "{[],[hv133@localhost],true}",
    );
    run_normal(&rt, || {
        assert_eq!(dist::nodes().unwrap(), vec!["e133@localhost".to_string()]);
        assert!(dist::disconnect("e133@localhost").unwrap());
        assert!(!dist::disconnect("e133@localhost").unwrap());
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
    });
    // Erlang sees the nodeup and the nodedown (`connection_closed`) with node_type hidden.
    expect(
        &e,
        "{Get(AllR, 2), Get(All, 2)}.",
        "{[{nodeup,hv133@localhost,[{node_type,hidden}]},\
          {nodedown,hv133@localhost,[{node_type,hidden},{nodedown_reason,connection_closed}]}],\
          [{nodeup,hv133@localhost,[{node_type,hidden}]},\
          {nodedown,hv133@localhost,[{node_type,hidden}]}]}",
    );
    expect(&e, "Get(Plain, 0).", "[]");
    rt.shutdown();
}

// ---- O. Node loss ----

/// The messages a process linked to and monitoring `p` (`m`), with `monitor_node(node,
/// true)`, gets when the connection goes: each exactly once.
fn loss_set(p: Pid, m: u64, node: &str) -> Vec<Got> {
    vec![
        Got::Exit(p, "noconnection".into()),
        Got::Down(m, p, "noconnection".into()),
        Got::Data(format!("{{nodedown,'{node}'}}")),
    ]
}

/// Normalises `{nodedown,Node}` text (Hive's `Display` may or may not quote the atom).
fn norm(v: Vec<Got>) -> Vec<Got> {
    sorted(
        v.into_iter()
            .map(|g| match g {
                Got::Data(s) if s.starts_with("{nodedown,") && !s.contains('\'') => {
                    let n = &s["{nodedown,".len()..s.len() - 1];
                    Got::Data(format!("{{nodedown,'{n}'}}"))
                }
                g => g,
            })
            .collect(),
    )
}

/// The Hive side of cases 134/135: `S` traps, links to and monitors target `t134`,
/// calls `monitor_node`; a non-trapping `W` linked to the target is monitored by `S`.
/// Returns (target, monitor, W, W's monitor).
fn hive_side_setup(node: &str, name: &str) -> (Pid, u64, Pid, u64) {
    process::trap_exit(true).unwrap();
    let p = spawn_target(node, Some(name));
    process::link(p).unwrap();
    let m = process::monitor(p).unwrap();
    dist::monitor_node(node, true).unwrap();
    let s = process::self_pid();
    let (w, mw) = process::spawn_monitor(move || {
        process::link(p).unwrap();
        sync(p);
        process::send(s, b"w linked").unwrap();
        let _ = process::receive_select(None, |_| false);
    })
    .unwrap();
    process::receive_select(Some(10_000), |x| x.data() == b"w linked").unwrap();
    sync(p);
    (p, m, w, mw)
}

/// Case 134 with Erlang disconnecting (the Hive node is the other node, case 135):
/// `erlang:disconnect_node(Hive)` gives `true`, then `false`; on Hive, exactly once
/// each: `'EXIT'` `noconnection` on the trapped link, DOWN `noconnection`, the non-trapping
/// linked process killed with `noconnection`, `{nodedown, N}`; on Erlang the target linked
/// to Hive processes dies with `noconnection`.
#[test]
fn case_134_135_erlang_disconnects_hive_sees_noconnection_once() {
    let Some((_epmd, rt, e)) = setup("134") else {
        return;
    };
    let (tx, rx) = mpsc::channel::<()>();
    with_proc(
        &rt,
        move || {
            let node = "e134@localhost";
            let (p, m, w, mw) = hive_side_setup(node, "t134");
            tx.send(()).unwrap();
            let mut want = loss_set(p, m, node);
            want.push(Got::Down(mw, w, "noconnection".into()));
            assert_eq!(norm(collect(4)), sorted(want));
            assert_eq!(drain(300), vec![]);
            assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        },
        || {
            rx.recv_timeout(Duration::from_secs(30)).expect("set up");
            expect(
                &e,
                "T = whereis(t134), Mt = monitor(process, T), \
                 {erlang:disconnect_node('hv134@localhost'), erlang:disconnect_node('hv134@localhost'), \
                  receive {'DOWN', Mt, process, T, R} -> R after 5000 -> timeout end, nodes(hidden)}.",
                "{true,false,noconnection,[]}",
            );
        },
    );
    rt.shutdown();
}

/// Cases 134 and 135 with Hive disconnecting: `dist::disconnect` gives true, then false;
/// the Hive side gets exactly the `noconnection` set (and the `'EXIT'`s of the Erlang
/// processes linked to it); the Erlang side sees, in order, `{'EXIT',S,noconnection}`,
/// `{'DOWN',_,process,S,noconnection}`, `{nodedown,Hive}` and `{nodedown,Hive,Info}`
/// with reason `connection_closed`, and its non-trapping process linked to `S` dies.
#[test]
fn case_134_135_hive_disconnects_both_sides_see_noconnection() {
    let Some((_epmd, rt, e)) = setup("135") else {
        return;
    };
    e.eval("register(ev, self()).").unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    with_proc(
        &rt,
        move || {
            let node = "e135@localhost";
            process::register(b"s", process::self_pid()).unwrap();
            let (p, m, w, mw) = hive_side_setup(node, "t135");
            to_name(node, "ev", &Term::tuple(vec![Term::atom("spid"), me_t()]));
            tx.send(()).unwrap();
            // The Erlang side's links and monitor came before this message.
            process::receive_select(Some(30_000), |x| {
                x.kind() == MessageKind::Data && x.data() == atom_bytes("go").as_slice()
            })
            .unwrap();
            let info = process::process_info(process::self_pid()).unwrap().unwrap();
            let remote_links: Vec<Pid> = info
                .links
                .iter()
                .copied()
                .filter(|&l| l != p && l.node() != 0)
                .collect();
            assert_eq!(remote_links.len(), 2, "We and Qe linked: {:?}", info.links);
            assert_eq!(info.monitored_by.len(), 1, "We monitors S");
            assert!(dist::disconnect(node).unwrap());
            assert!(!dist::disconnect(node).unwrap());
            let mut want = loss_set(p, m, node);
            want.push(Got::Down(mw, w, "noconnection".into()));
            for l in remote_links {
                want.push(Got::Exit(l, "noconnection".into()));
            }
            assert_eq!(norm(collect(6)), sorted(want));
            assert_eq!(drain(300), vec![]);
        },
        || {
            rx.recv_timeout(Duration::from_secs(30)).expect("set up");
            expect(
                &e,
                "S = receive {spid, X} -> X after 10000 -> timeout end, Ev = self(), \
                 We = spawn(fun() -> process_flag(trap_exit, true), link(S), monitor(process, S), \
                     monitor_node('hv135@localhost', true), \
                     ok = net_kernel:monitor_nodes(true, [nodedown_reason, {node_type, all}]), \
                     Ev ! we_ready, \
                     (fun L(Acc) -> receive {get, F} when length(Acc) >= 4 -> F ! {we_got, lists:reverse(Acc)}; \
                                            {get, _} = G -> self() ! G, receive after 10 -> ok end, L(Acc); \
                                            Msg -> L([Msg | Acc]) end end)([]) end), \
                 receive we_ready -> ok end, \
                 Qe = spawn(fun() -> link(S), Ev ! qe_ready, receive after infinity -> ok end end), \
                 receive qe_ready -> ok end, Mq = monitor(process, Qe), \
                 {s, 'hv135@localhost'} ! go, ok.",
                "ok",
            );
            expect(
                &e,
                "We ! {get, self()}, \
                 Got = receive {we_got, L} -> L after 10000 -> timeout end, \
                 Norm = [case G of {'EXIT', P, R} -> {'EXIT', P =:= S, R}; \
                                   {'DOWN', _, process, P, R} -> {'DOWN', P =:= S, R}; \
                                   {nodedown, N, I} -> {nodedown, N, lists:sort(I)}; \
                                   O -> O end || G <- Got], \
                 {Norm, receive {'DOWN', Mq, process, Qe, Rq} -> Rq after 5000 -> timeout end, nodes(hidden)}.",
                "{[{'EXIT',true,noconnection},{'DOWN',true,noconnection},{nodedown,hv135@localhost},\
                 {nodedown,hv135@localhost,[{node_type,hidden},{nodedown_reason,connection_closed}]}],\
                 noconnection,[]}",
            );
        },
    );
    rt.shutdown();
}

/// Case 136: the Erlang node halts (gracefully, and killed): exactly one `'EXIT'`
/// `noconnection`, one DOWN `noconnection` and one `{nodedown, N}`, never `killed` or
/// `noproc`. The other way, the Hive node stopping distribution gives the Erlang side
/// `noconnection` on its link and monitor.
#[test]
fn case_136_remote_node_halts_noconnection_once() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv136");
    let ea = erl(&epmd, "e136a");
    let eb = erl(&epmd, "e136b");
    let (tx, rx) = mpsc::channel::<()>();
    with_proc(
        &rt,
        move || {
            process::trap_exit(true).unwrap();
            for node in ["e136a@localhost", "e136b@localhost"] {
                let p = spawn_target(node, None);
                process::link(p).unwrap();
                let m = process::monitor(p).unwrap();
                dist::monitor_node(node, true).unwrap();
                sync(p);
                tx.send(()).unwrap();
                assert_eq!(norm(collect(3)), sorted(loss_set(p, m, node)), "{node}");
                assert_eq!(drain(300), vec![], "{node}");
                assert!(!dist::nodes().unwrap().contains(&node.to_string()));
            }
        },
        || {
            rx.recv_timeout(Duration::from_secs(30)).expect("set up a");
            ea.stop();
            rx.recv_timeout(Duration::from_secs(30)).expect("set up b");
            eb.kill();
        },
    );
    // The other way: a Hive node stops; Erlang's link and monitor end with noconnection.
    let rt2 = hive_node(&epmd, "hv136b");
    let ec = erl(&epmd, "e136c");
    spawn_agent(&rt2, "a136", false);
    expect(
        &ec,
        "process_flag(trap_exit, true), {a136, 'hv136b@localhost'} ! {pid, self()}, \
         HP = receive {hpid, X} -> X after 5000 -> timeout end, link(HP), M = monitor(process, HP), \
         {a136, 'hv136b@localhost'} ! {links, self()}, \
         receive {links, L} -> L =:= [self()] after 5000 -> timeout end.",
        "true",
    );
    rt2.dist_stop().unwrap();
    expect(
        &ec,
        "R1 = receive {'EXIT', HP, A} -> A after 10000 -> timeout end, \
         R2 = receive {'DOWN', M, process, HP, B} -> B after 10000 -> timeout end, \
         {R1, R2, receive Any -> Any after 300 -> none end}.",
        "{noconnection,noconnection,none}",
    );
    rt2.shutdown();
    rt.shutdown();
}

/// Case 137: an Erlang node frozen with SIGSTOP is dropped after about `net_ticktime`
/// (4 s): one `'EXIT'` and one DOWN `noconnection`, one `{nodedown, N}`; after SIGCONT
/// the Erlang node finds itself disconnected.
#[test]
fn case_137_frozen_erlang_node_dropped_after_ticktime() {
    let Some((_epmd, rt, e)) = setup("137") else {
        return;
    };
    expect(
        &e,
        "ok = net_kernel:monitor_nodes(true, [{node_type, all}]), ok.",
        "ok",
    );
    let (tx, rx) = mpsc::channel::<Instant>();
    with_proc(
        &rt,
        move || {
            let node = "e137@localhost";
            process::trap_exit(true).unwrap();
            let p = spawn_target(node, None);
            process::link(p).unwrap();
            let m = process::monitor(p).unwrap();
            dist::monitor_node(node, true).unwrap();
            sync(p);
            tx.send(Instant::now()).unwrap();
            let mut g = collect(3);
            let at = Instant::now();
            g.extend(drain(300));
            tx.send(at).unwrap();
            assert_eq!(norm(g), sorted(loss_set(p, m, node)));
        },
        || {
            rx.recv_timeout(Duration::from_secs(30)).expect("set up");
            e.sigstop();
            let t0 = Instant::now();
            let at = rx.recv_timeout(Duration::from_secs(40));
            e.sigcont();
            let at = at.expect("the Hive process saw the node go");
            let after = at.saturating_duration_since(t0);
            assert!(
                after >= Duration::from_millis(2_500) && after <= Duration::from_millis(7_500),
                "nodedown {after:?} after SIGSTOP (net_ticktime 4 s)"
            );
            println!("case 137: Hive dropped the frozen node {after:?} after SIGSTOP");
        },
    );
    expect(
        &e,
        "N = receive {nodeup, 'hv137@localhost', _} -> up after 0 -> noup end, \
         D = receive {nodedown, 'hv137@localhost', _} -> down after 10000 -> timeout end, \
         {N, D, nodes(hidden)}.",
        "{up,down,[]}",
    );
    rt.shutdown();
}

/// Case 137, the other way: the Hive node keeps an idle connection alive with ticks for
/// 3 × `net_ticktime`, and also while its 2 schedulers are saturated by 4 CPU-bound
/// processes for 15 s: neither side sees the connection go.
#[test]
fn case_137_hive_ticks_keep_idle_and_saturated_connection() {
    let Some((_epmd, rt, e)) = setup("137t") else {
        return;
    };
    expect(
        &e,
        "ok = net_kernel:monitor_nodes(true, [{node_type, all}]), ok.",
        "ok",
    );
    run_normal(&rt, || {
        let node = "e137t@localhost";
        process::trap_exit(true).unwrap();
        let p = spawn_target(node, None);
        process::link(p).unwrap();
        process::monitor(p).unwrap();
        dist::monitor_node(node, true).unwrap();
        sync(p);
        // Idle: nothing at all for 12 s.
        assert_eq!(drain(12_000), vec![], "idle");
        // Saturated: 4 spinners on 2 schedulers for 15 s.
        let start = Instant::now();
        let mut spinners = Vec::new();
        for _ in 0..4 {
            spinners.push(
                process::spawn_monitor(move || {
                    let mut x = 0u64;
                    while start.elapsed() < Duration::from_secs(15) {
                        for i in 0..2_000u64 {
                            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                        }
                        process::consume_reductions(50).unwrap();
                    }
                })
                .unwrap()
                .1,
            );
        }
        let mut seen = Vec::new();
        while spinners.iter().any(|&r| r != 0) {
            let m = process::receive(Some(30_000)).expect("spinners end");
            match spinners.iter().position(|&r| r == m.monitor_ref()) {
                Some(i) if m.kind() == MessageKind::Down => {
                    assert_eq!(m.reason(), Some(ExitReason::Normal));
                    spinners[i] = 0;
                }
                _ => seen.push(got(&m)),
            }
        }
        assert_eq!(seen, vec![], "while saturated");
        assert!(start.elapsed() >= Duration::from_secs(15));
        assert_eq!(dist::nodes().unwrap(), vec![node.to_string()]);
        sync(p);
        assert_eq!(drain(100), vec![]);
    });
    expect(
        &e,
        "Ms = (fun F(A) -> receive M -> F([M | A]) after 0 -> lists:reverse(A) end end)([]), \
         {Ms, nodes(hidden)}.",
        "{[{nodeup,hv137t@localhost,[{node_type,hidden}]}],[hv137t@localhost]}",
    );
    rt.shutdown();
}

/// Case 138 [RACE]: messages in flight when Hive drops the connection: the counter gets
/// exactly `1..K` and then the message sent after the disconnect (which reconnects);
/// never a hole inside the prefix, never an old message after the new one.
#[test]
fn case_138_race_messages_in_flight_at_disconnect() {
    let Some((_epmd, rt, _e)) = setup("138") else {
        return;
    };
    run_normal(&rt, || {
        let node = "e138@localhost";
        let (mut all, mut tail_lost) = (0, 0);
        let mut min_k = i64::MAX;
        for i in 0..8 {
            to_name(
                node,
                "srv",
                &Term::tuple(vec![Term::atom("counter"), me_t()]),
            );
            let p = pid_from(&recv_tagged("target")[1]);
            for n in 1..=20_000 {
                send_t(p, &Term::tuple(vec![Term::atom("n"), Term::Int(n)]));
            }
            assert!(dist::disconnect(node).unwrap(), "iteration {i}");
            send_t(p, &Term::tuple(vec![Term::atom("n"), Term::Int(20_001)]));
            send_t(p, &Term::tuple(vec![Term::atom("get"), me_t()]));
            let v = recv_tagged("got");
            let k = v[2].as_int().unwrap();
            assert_eq!(v[3].as_atom(), Some("true"), "a hole in 1..{k}");
            assert_eq!(v[4].to_string(), "[20001]", "after the prefix 1..{k}");
            min_k = min_k.min(k);
            if k == 20_000 {
                all += 1;
            } else {
                tail_lost += 1;
            }
        }
        println!(
            "case 138: all_delivered x{all}, tail_lost_then_later_msg_delivered x{tail_lost}, min K {min_k}"
        );
    });
    rt.shutdown();
}

/// Case 140: after a reconnect the pids are still valid, but links and monitors are not
/// restored: `noconnection` once each, then the same pid answers, neither side lists a
/// link, the trapping target holds `{'EXIT',S,noconnection}`, and a new link works.
#[test]
fn case_140_reconnect_pids_valid_links_not_restored() {
    let Some((_epmd, rt, _e)) = setup("140") else {
        return;
    };
    run_normal(&rt, || {
        let node = "e140@localhost";
        process::trap_exit(true).unwrap();
        let p = spawn_target(node, None);
        send_t(p, &Term::tuple(vec![Term::atom("trap"), me_t()]));
        recv_tagged("trapping");
        process::link(p).unwrap();
        let m = process::monitor(p).unwrap();
        sync(p);
        assert!(dist::disconnect(node).unwrap());
        assert_eq!(
            sorted(collect(2)),
            sorted(vec![
                Got::Exit(p, "noconnection".into()),
                Got::Down(m, p, "noconnection".into()),
            ])
        );
        assert_eq!(drain(300), vec![]);
        let info = process::process_info(process::self_pid()).unwrap().unwrap();
        assert_eq!((info.links, info.monitors), (vec![], vec![]));
        // The send reconnects; the same pid answers.
        send_t(
            p,
            &Term::tuple(vec![Term::atom("echo"), me_t(), Term::atom("again")]),
        );
        let v = recv_tagged("echo");
        assert_eq!((pid_from(&v[1]), v[2].to_string()), (p, "again".into()));
        send_t(p, &Term::tuple(vec![Term::atom("info"), me_t()]));
        assert_eq!(recv_tagged("info")[2].to_string(), "[]", "P's links");
        send_t(p, &Term::tuple(vec![Term::atom("exits"), me_t()]));
        let v = recv_tagged("exits");
        let want = Term::list(vec![Term::tuple(vec![
            Term::atom("EXIT"),
            me_t(),
            Term::atom("noconnection"),
        ])]);
        assert_eq!(v[2].to_string(), want.to_string());
        // A new link works.
        process::link(p).unwrap();
        send_t(p, &Term::atom("stop"));
        assert_eq!(collect(1), vec![Got::Exit(p, "normal".into())]);
        assert_eq!(drain(300), vec![]);
    });
    rt.shutdown();
}

/// Case 141: the Erlang node restarted with the same name has a new creation; a pid of
/// the old incarnation (also one with the new pid's numbers) never reaches the new
/// process; with the node up, monitor and link of an old pid give `noproc`.
#[test]
fn case_141_restarted_node_new_creation_old_pids_noproc() {
    let Some((epmd, rt, e)) = setup("141") else {
        return;
    };
    let (tx, rx) = mpsc::channel::<()>();
    let mut e2 = None;
    with_proc(
        &rt,
        move || {
            let node = "e141@localhost";
            process::register(b"s", process::self_pid()).unwrap();
            process::trap_exit(true).unwrap();
            let old = spawn_target(node, None);
            let old_ext = dist::pid_term(old).unwrap().unwrap();
            let m0 = process::monitor(old).unwrap();
            sync(old);
            tx.send(()).unwrap();
            assert_eq!(collect(1), vec![Got::Down(m0, old, "noconnection".into())]);
            tx.send(()).unwrap();
            wait_step();
            let new = spawn_target(node, None);
            let new_ext = dist::pid_term(new).unwrap().unwrap();
            assert_ne!(new, old);
            assert_ne!(new_ext.creation, old_ext.creation, "a new creation");
            assert_eq!(new_ext.node, old_ext.node);
            // OldR: the new pid's numbers with the old creation.
            let old_r_ext = ExtPid {
                creation: old_ext.creation,
                ..new_ext.clone()
            };
            let old_r = dist::pid_of(&old_r_ext).unwrap().unwrap();
            assert_ne!(old_r, new);
            send_t(old_r, &Term::atom("hello_old"));
            send_t(old, &Term::atom("hello_old"));
            send_t(new, &Term::tuple(vec![Term::atom("mq"), me_t()]));
            assert_eq!(recv_tagged("mq")[2], Term::Int(0), "an old pid reached R");
            // The node is up: noproc, not noconnection.
            let m1 = process::monitor(old).unwrap();
            let m2 = process::monitor(old_r).unwrap();
            process::link(old).unwrap();
            let g = collect(3);
            assert_eq!(
                sorted(g),
                sorted(vec![
                    Got::Down(m1, old, "noproc".into()),
                    Got::Down(m2, old_r, "noproc".into()),
                    Got::Exit(old, "noproc".into()),
                ])
            );
            assert_eq!(drain(300), vec![]);
        },
        || {
            rx.recv_timeout(Duration::from_secs(30)).expect("set up");
            e.stop();
            rx.recv_timeout(Duration::from_secs(30)).expect("down seen");
            assert!(epmd.wait_unregistered("e141", Duration::from_secs(10)));
            e2 = Some(erl(&epmd, "e141"));
            rt.send_named(b"s", b"step").unwrap();
        },
    );
    drop(e2);
    rt.shutdown();
}

/// Case 142: pids of a node that is gone: a send is dropped without error; a monitor
/// gives DOWN `noconnection`, a trapping link `'EXIT'` `noconnection`, a non-trapping
/// linker is killed with `noconnection`: each exactly once.
#[test]
fn case_142_pids_of_gone_node_noconnection() {
    let Some((epmd, rt, e)) = setup("142") else {
        return;
    };
    let (tx, rx) = mpsc::channel::<()>();
    with_proc(
        &rt,
        move || {
            let node = "e142@localhost";
            process::register(b"s", process::self_pid()).unwrap();
            let p = spawn_target(node, None);
            let m0 = process::monitor(p).unwrap();
            sync(p);
            tx.send(()).unwrap();
            assert_eq!(collect(1), vec![Got::Down(m0, p, "noconnection".into())]);
            tx.send(()).unwrap();
            wait_step();
            assert_ne!(p.node(), 0);
            assert_eq!(dist::pid_term(p).unwrap().unwrap().node.as_str(), node);
            send_t(p, &Term::atom("m"));
            let m = process::monitor(p).unwrap();
            assert_eq!(collect(1), vec![Got::Down(m, p, "noconnection".into())]);
            let (w, mw) = process::spawn_monitor(move || {
                let _ = process::link(p);
                let _ = process::receive_select(Some(20_000), |_| false);
            })
            .unwrap();
            assert_eq!(collect(1), vec![Got::Down(mw, w, "noconnection".into())]);
            process::trap_exit(true).unwrap();
            process::link(p).unwrap();
            assert_eq!(collect(1), vec![Got::Exit(p, "noconnection".into())]);
            assert_eq!(drain(300), vec![]);
            assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        },
        || {
            rx.recv_timeout(Duration::from_secs(30)).expect("set up");
            e.stop();
            rx.recv_timeout(Duration::from_secs(30)).expect("down seen");
            assert!(epmd.wait_unregistered("e142", Duration::from_secs(10)));
            rt.send_named(b"s", b"step").unwrap();
        },
    );
    rt.shutdown();
}

// ---- P. Node names and connections ----

/// Case 143: `node/0` of the Hive node (none before distribution starts), `node/1` of
/// local and remote pids on both sides; `is_process_alive` and `process_info` of a remote
/// pid are bad arguments.
#[test]
fn case_143_node_names_and_remote_pid_badarg() {
    if !require_erl() {
        return;
    }
    let plain = common::rt(1);
    let r = plain
        .run(|| assert_eq!(dist::node_name().unwrap(), None))
        .unwrap();
    assert!(r.is_normal(), "{r:?}");
    plain.shutdown();
    let Some((_epmd, rt, e)) = setup("143") else {
        return;
    };
    run_normal(&rt, || {
        let node = "e143@localhost";
        assert_eq!(
            dist::node_name().unwrap().as_deref(),
            Some("hv143@localhost")
        );
        let p = spawn_target(node, None);
        assert_ne!(p.node(), 0);
        assert_eq!(process::self_pid().node(), 0);
        assert_eq!(dist::pid_term(p).unwrap().unwrap().node.as_str(), node);
        assert_eq!(
            dist::pid_term(process::self_pid())
                .unwrap()
                .unwrap()
                .node
                .as_str(),
            "hv143@localhost"
        );
        let alive = process::is_alive(p);
        let info = process::process_info(p).map(|i| i.is_some());
        assert!(
            alive.is_err() && info.is_err(),
            "is_process_alive and process_info of a remote pid: badarg; got {alive:?}, {info:?}"
        );
    });
    spawn_agent(&rt, "a143", false);
    expect(
        &e,
        "{a143, 'hv143@localhost'} ! {pid, self()}, \
         HP = receive {hpid, X} -> X after 5000 -> timeout end, {node(HP), is_alive(), node()}.",
        "{hv143@localhost,true,e143@localhost}",
    );
    rt.shutdown();
}

/// Case 144: `dist::nodes()` lists the connected nodes: none at first, the Erlang node
/// after its `net_adm:ping` (`pong`), none after `dist::disconnect`; pinging an
/// unregistered name gives `pang`.
#[test]
fn case_144_nodes_and_ping() {
    let Some((_epmd, rt, e)) = setup("144n") else {
        return;
    };
    let (tx, rx) = mpsc::channel::<()>();
    with_proc(
        &rt,
        move || {
            process::register(b"s", process::self_pid()).unwrap();
            assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
            tx.send(()).unwrap();
            wait_step();
            assert_eq!(dist::nodes().unwrap(), vec!["e144n@localhost".to_string()]);
            assert!(dist::disconnect("e144n@localhost").unwrap());
            assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
            tx.send(()).unwrap();
        },
        || {
            rx.recv_timeout(Duration::from_secs(30)).expect("started");
            expect(
                &e,
                "{net_adm:ping('hv144n@localhost'), net_adm:ping('hv144nosuch@localhost')}.",
                "{pong,pang}",
            );
            rt.send_named(b"s", b"step").unwrap();
            rx.recv_timeout(Duration::from_secs(30))
                .expect("disconnected");
        },
    );
    rt.shutdown();
}

/// Case 145: a Hive node with another cookie cannot connect either way: `ping` gives
/// `pang`, sends are dropped both ways, `monitor_node` gives `{nodedown, N}`, and neither
/// node lists the other; after `erlang:set_cookie(Hive, TheirCookie)` the ping works.
#[test]
fn case_145_wrong_cookie_cannot_connect() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = start_hive_node(&epmd, "hv145", "hive_other_cookie", TICK_MS).0;
    let e = erl(&epmd, "e145");
    e.eval("register(ev, self()).").unwrap();
    spawn_agent(&rt, "a145", false);
    expect(
        &e,
        "{net_adm:ping('hv145@localhost'), nodes(hidden), \
          begin {a145, 'hv145@localhost'} ! {echo, self(), hi}, \
                receive {echo, _, _} -> got after 500 -> dropped end end}.",
        "{pang,[],dropped}",
    );
    run_normal(&rt, || {
        let node = "e145@localhost";
        to_name(node, "ev", &Term::atom("from_hive"));
        dist::monitor_node(node, true).unwrap();
        let g = norm(collect(1));
        assert_eq!(g, vec![Got::Data(format!("{{nodedown,'{node}'}}"))]);
        assert_eq!(drain(300), vec![]);
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
    });
    expect(
        &e,
        "{receive X -> X after 300 -> dropped end, nodes(hidden)}.",
        "{dropped,[]}",
    );
    expect(
        &e,
        "erlang:set_cookie('hv145@localhost', hive_other_cookie), \
         {net_adm:ping('hv145@localhost'), nodes(hidden)}.",
        "{pong,[hv145@localhost]}",
    );
    rt.shutdown();
}
