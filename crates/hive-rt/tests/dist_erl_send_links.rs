//! Distribution against a real Erlang/OTP node, groups L (remote send, cases 101–113) and
//! M (remote links, cases 114–124) of `shared/semantics/dist-cases.md`, each case in both
//! directions where it has two sides: a Hive process acting on an Erlang process, and an
//! Erlang process acting on a Hive process.
//!
//! Every test starts a private EPMD, its own `erl` node(s) and a Hive node (unique names).
//! Each side has a *factory* that makes processes for the other: `fac` on Erlang (module
//! `hv_t` below, compiled on the node) and `hfac` on Hive ([`hive_factory`]). Their
//! *targets* follow the protocol of dist-cases.md ("Conventions"), extended with `{links,
//! F}`, `{go_last, S}`, `may_reach`/`may_not_reach`, and forwarding (`{fwd, Self, Msg}`)
//! of every other message (trapped exits included) for forwarding targets.
//! Synchronisation is by messages, monitors and `sync`; a timeout is only a failure bound
//! (and the bound of the few "nothing arrives within 200 ms" checks the BEAM checker has).

mod common;

use std::time::{Duration, Instant};

use common::dist::{erl, hive_node, private_epmd, run_normal};
use common::erl::{Epmd, ErlNode};
use common::hive_peer::{reason_term, term_reason};
use hive_rt::dist;
use hive_rt::dist::etf::{self, ExtPid, Term};
use hive_rt::{process, ExitReason, Message, MessageKind, Pid, Runtime, Status, TimerDest};

/// The Erlang side: factory, targets and helpers, compiled on every Erlang node.
const HV_T: &str = r#"-module(hv_t).
-export([start_factory/0, factory/0, target/1, trap_target/2, counter/3, probe/1,
         sync/1, links/1, jitter/0, flush/1, deep/1, depth/1, wait_links/2,
         hive_targets/2, hive_trap_targets/2, hive_fwd_targets/2, hive_register/2]).

%% The Erlang factory, registered as `fac`: makes processes for the Hive side.
start_factory() ->
    P = spawn(?MODULE, factory, []),
    register(fac, P),
    ok.

factory() ->
    receive
        {targets, N, From} ->
            From ! {targets, [spawn(?MODULE, target, [none]) || _ <- lists:seq(1, N)]};
        {fwd_targets, N, From} ->
            From ! {targets, [spawn(?MODULE, target, [From]) || _ <- lists:seq(1, N)]};
        {trap_targets, N, From} ->
            Me = self(),
            L = [spawn(?MODULE, trap_target, [From, Me]) || _ <- lists:seq(1, N)],
            [receive {ready, P} -> ok end || P <- L],
            From ! {targets, L};
        {register, Name, From} ->
            P = spawn(?MODULE, target, [From]),
            register(Name, P),
            From ! {registered, Name, P};
        {counter, Ids, N, From} ->
            From ! {counter, spawn(?MODULE, counter, [From, Ids, N])};
        {senders, Ids, N, To, From} ->
            [spawn(fun() -> [To ! {Id, I} || I <- lists:seq(1, N)] end) || Id <- Ids],
            From ! {senders, length(Ids)};
        {big_exiter, From} ->
            Reason = {big, lists:seq(1, 100), <<0:80000>>, make_ref(), From, fun() -> From end},
            P = spawn(fun() -> receive go -> exit(Reason) end end),
            From ! {big_exiter, P, Reason};
        {compare, A, B, From} ->
            From ! {compare, A =:= B};
        {probe, From} ->
            From ! {probe, spawn(?MODULE, probe, [From])}
    end,
    factory().

trap_target(Fwd, Fac) ->
    process_flag(trap_exit, true),
    Fac ! {ready, self()},
    target(Fwd).

%% A target (dist-cases.md, Conventions); `Fwd` (a pid or none) gets every other message
%% as {fwd, self(), Msg}.
target(Fwd) ->
    receive
        {sync, F} -> F ! {synced, self()}, target(Fwd);
        {links, F} -> {links, L} = process_info(self(), links), F ! {links, self(), L}, target(Fwd);
        die -> exit(boom);
        {die, R} -> exit(R);
        stop -> ok;
        {go_last, S} -> S ! {last, self()}, exit(boom);
        {link, X} -> link(X), target(Fwd);
        may_reach -> target(Fwd);
        may_not_reach -> exit(bad_signal_order);
        M when Fwd =/= none -> Fwd ! {fwd, self(), M}, target(Fwd)
    end.

%% Receives {Id, 1..N} for each Id, checking each Id's sequence is in order.
counter(Report, Ids, N) ->
    count(Report, maps:from_list([{Id, 1} || Id <- Ids]), N, length(Ids) * N).

count(Report, _, _, 0) -> Report ! {counted, self(), ok};
count(Report, Next, N, Left) ->
    receive
        {Id, I} when is_map_key(Id, Next) ->
            case maps:get(Id, Next) of
                I -> count(Report, Next#{Id := I + 1}, N, Left - 1);
                Exp -> Report ! {counted, self(), {out_of_order, Id, Exp, I}}
            end
    after 10000 -> Report ! {counted, self(), {timeout, Next}}
    end.

probe(From) ->
    receive M -> From ! {depth, self(), is_tuple(M), depth(M)} end.

sync(P) ->
    P ! {sync, self()},
    receive {synced, P} -> ok after 5000 -> {sync_timeout, P} end.

links(P) ->
    P ! {links, self()},
    receive {links, P, L} -> L after 5000 -> {links_timeout, P} end.

%% Polls (bounded, 5 s) until the caller's links are `Expected`; the last value seen.
wait_links(Expected, N) ->
    {links, L} = process_info(self(), links),
    case L =:= Expected orelse N =:= 0 of
        true -> L;
        false -> receive after 2 -> wait_links(Expected, N - 1) end
    end.

%% A spin of 0-1.5 ms, then a yield half of the time.
jitter() ->
    End = erlang:monotonic_time(microsecond) + rand:uniform(1501) - 1,
    spin(End),
    case rand:uniform(2) of 1 -> erlang:yield(); _ -> true end.

spin(End) ->
    case erlang:monotonic_time(microsecond) >= End of
        true -> ok;
        false -> spin(End)
    end.

hive_targets(Node, N) -> hive_req(Node, targets, N).
hive_trap_targets(Node, N) -> hive_req(Node, trap_targets, N).
hive_fwd_targets(Node, N) -> hive_req(Node, fwd_targets, N).

hive_req(Node, Kind, N) ->
    {hfac, Node} ! {Kind, N, self()},
    receive {targets, L} -> L after 5000 -> exit(no_hive_targets) end.

hive_register(Node, Name) ->
    {hfac, Node} ! {register, Name, self()},
    receive {registered, Name, P} -> P after 5000 -> exit(no_hive_register) end.

flush(T) ->
    receive M -> [M | flush(T)] after T -> [] end.

deep(0) -> leaf;
deep(N) -> {deep(N - 1)}.

depth({X}) -> 1 + depth(X);
depth(_) -> 0.
"#;

/// One test's nodes: a Hive node `hv<tag>@localhost` and an Erlang node `e<tag>@localhost`
/// (more with [`Env::erl_node`]), on a private EPMD. Fields drop in order: the runtime
/// first (it shuts down), then the Erlang node, then EPMD.
struct Env {
    rt: Runtime,
    e: ErlNode,
    epmd: Epmd,
    /// The Hive node's name.
    hv: String,
    /// The Erlang node's name.
    en: String,
}

impl Env {
    /// The nodes of test `tag`, with the Hive factory `hfac` running; `None` when the test
    /// is skipped.
    fn new(tag: &str) -> Option<Env> {
        let epmd = private_epmd()?;
        let hv = format!("hv{tag}@localhost");
        let rt = hive_node(&epmd, &format!("hv{tag}"));
        let fac = rt.spawn(hive_factory).unwrap();
        rt.register(b"hfac", fac).unwrap();
        let e = erl_node(&epmd, &format!("e{tag}"));
        let en = e.name().to_string();
        Some(Env {
            rt,
            e,
            epmd,
            hv,
            en,
        })
    }

    /// Another Erlang node on this test's EPMD, with `hv_t` loaded.
    fn erl_node(&self, short: &str) -> ErlNode {
        erl_node(&self.epmd, short)
    }

    /// `expr` evaluated on the main Erlang node, `HV` standing for the Hive node's name;
    /// panics (with the node's output) on an Erlang exception.
    fn ev(&self, expr: &str) -> String {
        ev(&self.e, &self.hv, expr)
    }

    /// Runs `f` as a Hive process, given the main Erlang node's name, and checks it ended
    /// normally.
    fn run(&self, f: impl FnOnce(String) + Send + 'static) {
        let en = self.en.clone();
        run_normal(&self.rt, move || f(en));
    }
}

fn ev(node: &ErlNode, hv: &str, expr: &str) -> String {
    let expr = expr.replace("HV", &format!("'{hv}'"));
    node.eval(&expr).unwrap_or_else(|e| {
        panic!(
            "{}: `{expr}` raised {e}; output:\n{}",
            node.name(),
            node.output_tail()
        )
    })
}

/// An Erlang node `short@localhost` with module `hv_t` loaded and its factory `fac`
/// running; the evaluator is registered as `tester`.
fn erl_node(epmd: &Epmd, short: &str) -> ErlNode {
    let e = erl(epmd, short);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hv_t_{short}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hv_t.erl");
    std::fs::write(&path, HV_T).unwrap();
    let load = format!(
        "{{ok, hv_t, HvTBeam__}} = compile:file(\"{p}\", [binary, return_errors]), \
         {{module, hv_t}} = code:load_binary(hv_t, \"{p}\", HvTBeam__), \
         hv_t:start_factory(), register(tester, self()).",
        p = path.display()
    );
    assert_eq!(e.eval(&load), Ok("true".into()), "{}", e.output_tail());
    e
}

// ---- terms ----

fn a(s: &str) -> Term {
    Term::atom(s)
}

fn tup(v: Vec<Term>) -> Term {
    Term::tuple(v)
}

fn enc(t: &Term) -> Vec<u8> {
    etf::to_vec(t)
}

/// A pid as a term (local or remote).
fn pt(p: Pid) -> Term {
    Term::Pid(dist::pid_term(p).unwrap().expect("a nameable pid"))
}

/// The calling process as a term.
fn me() -> Term {
    pt(process::self_pid())
}

/// The Hive pid of a pid term.
fn pid_of_t(t: &Term) -> Pid {
    match t {
        Term::Pid(p) => dist::pid_of(p).unwrap().expect("a nameable pid"),
        _ => panic!("not a pid: {t}"),
    }
}

fn send_t(to: Pid, t: &Term) {
    process::send(to, &enc(t)).unwrap();
}

/// The elements of a proper list term.
fn items(t: &Term) -> Vec<Term> {
    match t {
        Term::Nil => vec![],
        Term::List(v, tail) if **tail == Term::Nil => v.clone(),
        Term::String(b) => b.iter().map(|&x| Term::Int(x.into())).collect(),
        _ => panic!("not a proper list: {t}"),
    }
}

/// The term of a data message (None for other kinds or bytes that are not a term).
fn term_of(m: &Message) -> Option<Term> {
    (m.kind() == MessageKind::Data)
        .then(|| etf::decode(m.data()).ok())
        .flatten()
}

fn tag_of(t: &Term) -> Option<&str> {
    t.as_tuple()?.first()?.as_atom()
}

/// The `Error` reason of an atom, as an Erlang process exiting with it has.
fn atom_reason(s: &str) -> ExitReason {
    ExitReason::error(enc(&a(s)))
}

// ---- receiving in a Hive process ----

/// The next data message whose term satisfies `pred`, within `ms`; panics otherwise.
fn recv_t(ms: u32, pred: impl Fn(&Term) -> bool) -> (Pid, Term) {
    let m = process::receive_select(Some(ms), |m| term_of(m).is_some_and(|t| pred(&t)))
        .unwrap_or_else(|e| panic!("no matching message within {ms} ms: {e:?}"));
    (m.sender(), term_of(&m).unwrap())
}

/// The elements after the tag of the next data message tagged `tag`.
fn recv_tag(tag: &str) -> Vec<Term> {
    let (_, t) = recv_t(10_000, |t| tag_of(t) == Some(tag));
    t.as_tuple().unwrap()[1..].to_vec()
}

/// The reason of the next `Exit` message from `from`, within `ms`.
fn recv_exit(from: Pid, ms: u32) -> ExitReason {
    let m = process::receive_select(Some(ms), |m| {
        m.kind() == MessageKind::Exit && m.sender() == from
    })
    .unwrap_or_else(|e| panic!("no EXIT from {from:?} within {ms} ms: {e:?}"));
    m.reason().unwrap()
}

/// The reason of the `Down` message of `mref`, within `ms`.
fn recv_down(mref: u64, ms: u32) -> ExitReason {
    let m = process::receive_select(Some(ms), |m| {
        m.kind() == MessageKind::Down && m.monitor_ref() == mref
    })
    .unwrap_or_else(|e| panic!("no DOWN for {mref} within {ms} ms: {e:?}"));
    m.reason().unwrap()
}

/// Whether an `Exit` message from `from` arrives within `ms` (taken if so).
fn exit_arrives(from: Pid, ms: u32) -> Option<ExitReason> {
    process::receive_select(Some(ms), |m| {
        m.kind() == MessageKind::Exit && m.sender() == from
    })
    .ok()
    .map(|m| m.reason().unwrap())
}

/// Every message left in the mailbox after `ms` of quiet, described.
fn drain(ms: u32) -> Vec<String> {
    let mut v = Vec::new();
    while let Ok(m) = process::receive(Some(ms)) {
        v.push(format!(
            "{:?} from {:?}: {:?} {:?}",
            m.kind(),
            m.sender(),
            term_of(&m).map(|t| t.to_string()),
            m.reason()
        ));
    }
    v
}

/// A spin of 0–1.5 ms, then a yield half of the time (`rjitter()` of dist-cases.md).
fn jitter(seed: &mut u64) {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let end = Instant::now() + Duration::from_micros(*seed % 1501);
    while Instant::now() < end {
        std::hint::spin_loop();
    }
    if *seed & (1 << 20) != 0 {
        process::yield_now().unwrap();
    }
}

// ---- Erlang processes, from a Hive process ----

/// `n` processes made by the Erlang factory on `en`: `kind` is `targets`, `trap_targets`
/// or `fwd_targets` (the last two forward to the caller).
fn erl_req(en: &str, kind: &str, n: usize) -> Vec<Pid> {
    let req = tup(vec![a(kind), Term::Int(n as i64), me()]);
    dist::send_name(en, "fac", &enc(&req)).unwrap();
    items(&recv_tag("targets")[0])
        .iter()
        .map(pid_of_t)
        .collect()
}

fn erl_target(en: &str) -> Pid {
    erl_req(en, "targets", 1)[0]
}

/// `sync(P)`: once it returns, `p` has handled every signal the caller sent it before.
fn erl_sync(p: Pid) {
    send_t(p, &tup(vec![a("sync"), me()]));
    let want = tup(vec![a("synced"), pt(p)]);
    recv_t(10_000, |t| *t == want);
}

/// The links of Erlang target `p` (after every signal the caller sent it before).
fn erl_links(p: Pid) -> Vec<Pid> {
    send_t(p, &tup(vec![a("links"), me()]));
    let pp = pt(p);
    let (_, t) = recv_t(10_000, |t| {
        tag_of(t) == Some("links") && t.as_tuple().unwrap()[1] == pp
    });
    items(&t.as_tuple().unwrap()[2])
        .iter()
        .map(pid_of_t)
        .collect()
}

/// A dead Erlang pid: a target whose DOWN `normal` was received.
fn erl_dead(en: &str) -> Pid {
    let p = erl_target(en);
    let m = process::monitor(p).unwrap();
    send_t(p, &a("stop"));
    assert_eq!(recv_down(m, 10_000), ExitReason::Normal);
    p
}

/// The links of the calling process.
fn my_links() -> Vec<Pid> {
    process::process_info(process::self_pid())
        .unwrap()
        .unwrap()
        .links
}

/// Polls (bounded, 5 s) until the calling process's links are `want`; the last value.
fn wait_my_links(want: &[Pid]) -> Vec<Pid> {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let l = my_links();
        if l == want || Instant::now() > end {
            return l;
        }
        process::sleep(2).unwrap();
    }
}

// ---- the Hive side for Erlang processes ----

/// Ends the calling process with `r`.
fn die(r: ExitReason) -> ! {
    let e = process::exit(r);
    panic!("exit returned {e:?}")
}

/// A Hive target (the protocol of `hv_t:target/1`); `fwd` gets every other message, and
/// every trapped exit as `{'EXIT', From, Reason}`, as `{fwd, Self, Msg}`.
fn hive_target(fwd: Option<Pid>) {
    loop {
        let Ok(m) = process::receive(None) else {
            return;
        };
        let fwd_t = |t: Term| {
            if let Some(f) = fwd {
                send_t(f, &tup(vec![a("fwd"), me(), t]));
            }
        };
        match m.kind() {
            MessageKind::Exit => {
                let r = reason_term(&m.reason().unwrap());
                fwd_t(tup(vec![a("EXIT"), pt(m.sender()), r]));
                continue;
            }
            MessageKind::Data => {}
            _ => continue,
        }
        let Some(t) = term_of(&m) else { continue };
        let (cmd, args): (&str, &[Term]) = match &t {
            Term::Atom(x) => (x.as_str(), &[]),
            Term::Tuple(v) if !v.is_empty() => (v[0].as_atom().unwrap_or(""), &v[1..]),
            _ => ("", &[]),
        };
        match (cmd, args) {
            ("sync", [f]) => send_t(pid_of_t(f), &tup(vec![a("synced"), me()])),
            ("links", [f]) => {
                let l = my_links().into_iter().map(pt).collect();
                send_t(pid_of_t(f), &tup(vec![a("links"), me(), Term::list(l)]));
            }
            ("whoami", [f]) => {
                let s = process::self_pid();
                let r = tup(vec![
                    a("whoami"),
                    me(),
                    Term::Int(s.index().into()),
                    Term::Int(s.serial().into()),
                ]);
                send_t(pid_of_t(f), &r);
            }
            ("die", []) => die(atom_reason("boom")),
            ("die", [r]) => die(term_reason(r)),
            ("stop", []) => return,
            ("go_last", [s]) => {
                send_t(pid_of_t(s), &tup(vec![a("last"), me()]));
                die(atom_reason("boom"));
            }
            ("link", [x]) => process::link(pid_of_t(x)).unwrap(),
            ("send_name", [node, name, msg]) => {
                let (node, name) = (node.as_atom().unwrap(), name.as_atom().unwrap());
                dist::send_name(node, name, &enc(msg)).unwrap();
            }
            ("may_reach", []) => {}
            ("may_not_reach", []) => die(atom_reason("bad_signal_order")),
            _ => fwd_t(t.clone()),
        }
    }
}

/// The Hive factory, registered as `hfac` (the protocol of `hv_t:hive_req/3` and
/// `hv_t:hive_register/2`).
fn hive_factory() {
    loop {
        let Ok(m) = process::receive(None) else {
            return;
        };
        let Some(t) = term_of(&m) else { continue };
        let Some(v) = t.as_tuple() else { continue };
        match (v[0].as_atom(), &v[1..]) {
            (Some(kind), [n, from])
                if matches!(kind, "targets" | "trap_targets" | "fwd_targets") =>
            {
                let from = pid_of_t(from);
                let n = n.as_int().unwrap();
                let fwd = (kind != "targets").then_some(from);
                let trap = kind == "trap_targets";
                let fac = process::self_pid();
                let ps: Vec<Pid> = (0..n)
                    .map(|_| {
                        process::spawn(move || {
                            if trap {
                                process::trap_exit(true).unwrap();
                                process::send(fac, b"ready").unwrap();
                            }
                            hive_target(fwd);
                        })
                        .unwrap()
                    })
                    .collect();
                if trap {
                    for &p in &ps {
                        process::receive_match(Some(10_000), |s, d| s == p && d == b"ready")
                            .unwrap();
                    }
                }
                let l = ps.into_iter().map(pt).collect();
                send_t(from, &tup(vec![a("targets"), Term::list(l)]));
            }
            (Some("register"), [name, from]) => {
                let from = pid_of_t(from);
                let p = process::spawn(move || hive_target(Some(from))).unwrap();
                process::register(name.as_atom().unwrap().as_bytes(), p).unwrap();
                send_t(from, &tup(vec![a("registered"), name.clone(), pt(p)]));
            }
            _ => {}
        }
    }
}

/// A Hive process registered as `name` that sends every message back to its sender:
/// verbatim (`raw`), or decoded and re-encoded by Hive's codec.
fn spawn_echo(rt: &Runtime, name: &str, raw: bool) {
    let p = rt
        .spawn(move || loop {
            let Ok(m) = process::receive(None) else {
                return;
            };
            if m.kind() != MessageKind::Data {
                continue;
            }
            if raw {
                process::send(m.sender(), m.data()).unwrap();
            } else if let Ok(t) = etf::decode(m.data()) {
                send_t(m.sender(), &t);
            }
        })
        .unwrap();
    rt.register(name.as_bytes(), p).unwrap();
}

// ===================================== L. Remote send =====================================

/// Case 101, Hive → Erlang: `send` to an Erlang pid is delivered, in order, with the
/// sender's pid; the Erlang pid is a Hive pid of another node that names the same process.
#[test]
fn case_101_hive_sends_to_erlang_pid() {
    let Some(env) = Env::new("101a") else {
        return;
    };
    env.run(move |en| {
        let req = tup(vec![a("fwd_targets"), Term::Int(1), me()]);
        dist::send_name(&en, "fac", &enc(&req)).unwrap();
        let (from, t) = recv_t(10_000, |t| tag_of(t) == Some("targets"));
        assert_ne!(from.node(), 0, "the factory's pid is remote");
        let l = items(&t.as_tuple().unwrap()[1]);
        let Term::Pid(ext) = &l[0] else { panic!("{t}") };
        assert_eq!(ext.node.as_str(), en);
        let p = pid_of_t(&l[0]);
        assert_ne!(p.node(), 0);
        assert_eq!((p.index(), p.serial()), (ext.id, ext.serial));
        assert_eq!(&dist::pid_term(p).unwrap().unwrap(), ext);
        assert_eq!(
            dist::pid_term(process::self_pid())
                .unwrap()
                .unwrap()
                .node
                .as_str(),
            dist::node_name().unwrap().unwrap()
        );
        let m1 = tup(vec![me(), a("hello")]);
        let m2 = tup(vec![me(), a("x")]);
        send_t(p, &m1);
        send_t(p, &m2);
        for want in [m1, m2] {
            let (s, got) = recv_t(10_000, |t| tag_of(t) == Some("fwd"));
            assert_eq!(s, p, "the forwarder is the sender");
            assert_eq!(got, tup(vec![a("fwd"), pt(p), want]));
        }
    });
}

/// Case 101, Erlang → Hive: `Pid ! Msg` and `erlang:send/2` to a Hive pid return the
/// message and deliver it; the Hive pid prints `<N.Index.Serial>` with N ≠ 0 on Erlang,
/// and `node/1` gives the Hive node.
#[test]
fn case_101_erlang_sends_to_hive_pid() {
    let Some(env) = Env::new("101b") else {
        return;
    };
    let r = env.ev("[HP] = hv_t:hive_fwd_targets(HV, 1), \
         R1 = (HP ! {self(), hello}), R2 = erlang:send(HP, {self(), x}), \
         Got = [receive {fwd, HP, M} -> M after 5000 -> timeout end || _ <- [1, 2]], \
         HP ! {whoami, self()}, \
         {I, S} = receive {whoami, HP, I0, S0} -> {I0, S0} after 5000 -> {timeout, timeout} end, \
         [N, I2, S2] = string:lexemes(pid_to_list(HP), \"<.>\"), \
         {R1 =:= {self(), hello}, R2 =:= {self(), x}, Got =:= [R1, R2], N =/= \"0\", \
          list_to_integer(I2) =:= I, list_to_integer(S2) =:= S, node(HP) =:= HV, \
          node(HP) =/= node()}.");
    assert_eq!(r, "{true,true,true,true,true,true,true,true}");
}

/// Case 102, Hive → Erlang: `{Name, Node} ! Msg` reaches whoever holds the name when it
/// arrives: `m1`, `m2` the first holder, `m3` (after it stopped and another registered the
/// name) the second.
#[test]
fn case_102_hive_sends_to_erlang_name() {
    let Some(env) = Env::new("102a") else {
        return;
    };
    env.run(move |en| {
        let reg = enc(&tup(vec![a("register"), a("n102"), me()]));
        dist::send_name(&en, "fac", &reg).unwrap();
        let p1 = pid_of_t(&recv_tag("registered")[1]);
        dist::send_name(&en, "n102", &enc(&a("m1"))).unwrap();
        dist::send_name(&en, "n102", &enc(&a("m2"))).unwrap();
        for m in ["m1", "m2"] {
            let (s, t) = recv_t(10_000, |t| tag_of(t) == Some("fwd"));
            assert_eq!((s, t), (p1, tup(vec![a("fwd"), pt(p1), a(m)])));
        }
        let mon = process::monitor(p1).unwrap();
        send_t(p1, &a("stop"));
        assert_eq!(recv_down(mon, 10_000), ExitReason::Normal);
        dist::send_name(&en, "fac", &reg).unwrap();
        let p2 = pid_of_t(&recv_tag("registered")[1]);
        assert_ne!(p1, p2);
        dist::send_name(&en, "n102", &enc(&a("m3"))).unwrap();
        let (s, t) = recv_t(10_000, |t| tag_of(t) == Some("fwd"));
        assert_eq!((s, t), (p2, tup(vec![a("fwd"), pt(p2), a("m3")])));
    });
}

/// Case 102, Erlang → Hive: the same with a name registered on the Hive node.
#[test]
fn case_102_erlang_sends_to_hive_name() {
    let Some(env) = Env::new("102b") else {
        return;
    };
    let r = env.ev("P1 = hv_t:hive_register(HV, h102), \
         R1 = ({h102, HV} ! m1), R2 = erlang:send({h102, HV}, m2), \
         Got1 = [receive {fwd, P, M} -> {P, M} after 5000 -> timeout end || _ <- [1, 2]], \
         Mon = monitor(process, P1), P1 ! stop, \
         D = receive {'DOWN', Mon, process, P1, Rs} -> Rs after 5000 -> timeout end, \
         P2 = hv_t:hive_register(HV, h102), \
         {h102, HV} ! m3, \
         Got2 = receive {fwd, Q, M3} -> {Q, M3} after 5000 -> timeout end, \
         {R1, R2, Got1 =:= [{P1, m1}, {P1, m2}], D, P1 =/= P2, Got2 =:= {P2, m3}}.");
    assert_eq!(r, "{m1,m2,true,normal,true,true}");
}

/// Case 104, Hive → Erlang: 20000 messages from one Hive process to one Erlang process
/// arrive in order; 4 Hive senders × 5000 to one Erlang receiver keep each sender's order.
#[test]
fn case_104_order_hive_to_erlang() {
    let Some(env) = Env::new("104a") else {
        return;
    };
    env.run(move |en| {
        let counter = |ids: Vec<Term>, n: i64| {
            let req = tup(vec![a("counter"), Term::list(ids), Term::Int(n), me()]);
            dist::send_name(&en, "fac", &enc(&req)).unwrap();
            pid_of_t(&recv_tag("counter")[0])
        };
        let c = counter(vec![a("s")], 20_000);
        for i in 1..=20_000 {
            send_t(c, &tup(vec![a("s"), Term::Int(i)]));
        }
        let ok = tup(vec![a("counted"), pt(c), a("ok")]);
        let (_, t) = recv_t(30_000, |t| tag_of(t) == Some("counted"));
        assert_eq!(t, ok);
        let c = counter((1..=4).map(Term::Int).collect(), 5_000);
        let s = process::self_pid();
        for id in 1..=4 {
            process::spawn(move || {
                for i in 1..=5_000 {
                    send_t(c, &tup(vec![Term::Int(id), Term::Int(i)]));
                }
                process::send(s, b"sent").unwrap();
            })
            .unwrap();
        }
        let ok = tup(vec![a("counted"), pt(c), a("ok")]);
        let (_, t) = recv_t(30_000, |t| tag_of(t) == Some("counted"));
        assert_eq!(t, ok);
    });
}

/// Case 104, Erlang → Hive: the same, Erlang senders, a Hive receiver.
#[test]
fn case_104_order_erlang_to_hive() {
    let Some(env) = Env::new("104b") else {
        return;
    };
    env.run(move |en| {
        let check = |ids: Vec<i64>, n: i64| {
            let req = tup(vec![
                a("senders"),
                Term::list(ids.iter().map(|&i| Term::Int(i)).collect()),
                Term::Int(n),
                me(),
                me(),
            ]);
            dist::send_name(&en, "fac", &enc(&req)).unwrap();
            let mut next = vec![1i64; ids.len()];
            let mut switches = 0;
            let mut last = -1;
            for _ in 0..ids.len() as i64 * n {
                let (_, t) = recv_t(30_000, |t| {
                    t.as_tuple()
                        .is_some_and(|v| v.len() == 2 && v[0].as_int().is_some())
                });
                let v = t.as_tuple().unwrap();
                let (id, i) = (v[0].as_int().unwrap(), v[1].as_int().unwrap());
                let k = ids.iter().position(|&x| x == id).unwrap();
                assert_eq!(i, next[k], "sender {id} out of order");
                next[k] += 1;
                if id != last {
                    switches += 1;
                    last = id;
                }
            }
            recv_tag("senders");
            switches
        };
        assert_eq!(check(vec![0], 20_000), 1);
        let sw = check(vec![1, 2, 3, 4], 5_000);
        assert!(sw >= 4, "{sw} switches");
    });
}

/// Case 105, Hive → Erlang: a send to a dead Erlang pid succeeds, nothing comes back,
/// and the connection stays up.
#[test]
fn case_105_hive_sends_to_dead_erlang_pid() {
    let Some(env) = Env::new("105a") else {
        return;
    };
    env.run(move |en| {
        let d = erl_dead(&en);
        process::send(d, &enc(&a("hello"))).unwrap();
        process::send(d, &enc(&tup(vec![a("x"), Term::Int(1)]))).unwrap();
        process::send(d, b"not a term").unwrap();
        assert_eq!(drain(200), Vec::<String>::new());
        assert_eq!(dist::nodes().unwrap(), vec![en.clone()]);
        erl_sync(erl_target(&en));
    });
}

/// Case 105, Erlang → Hive: `D ! hello`, `erlang:send/2,3` to a dead Hive pid return
/// `hello`, `{x,1}` and `ok`; nothing comes back, and the Hive node stays connected.
#[test]
fn case_105_erlang_sends_to_dead_hive_pid() {
    let Some(env) = Env::new("105b") else {
        return;
    };
    let r = env.ev(
        "[D] = hv_t:hive_targets(HV, 1), M = monitor(process, D), D ! stop, \
         normal = receive {'DOWN', M, process, D, R} -> R after 5000 -> timeout end, \
         X = {D ! hello, erlang:send(D, {x, 1}), erlang:send(D, y, [noconnect])}, \
         [P] = hv_t:hive_targets(HV, 1), \
         {X, hv_t:flush(200), lists:member(HV, nodes(hidden)), hv_t:sync(P)}.",
    );
    assert_eq!(r, "{{hello,{x,1},ok},[],true,ok}");
}

/// Case 106, Hive: `{Unregistered, Node} ! Msg` is no error, to the Erlang node or to the
/// Hive node itself; only a bare local name (`Name ! Msg`) fails.
#[test]
fn case_106_hive_sends_to_unregistered_name() {
    let Some(env) = Env::new("106a") else {
        return;
    };
    let hv = env.hv.clone();
    env.run(move |en| {
        let p = erl_target(&en);
        dist::send_name(&en, "nosuch106", &enc(&a("hi"))).unwrap();
        dist::send_name(&hv, "nosuch106", &enc(&a("hi"))).unwrap();
        assert_eq!(
            process::send_named(b"nosuch106", &enc(&a("hi"))).map_err(|e| e.0),
            Err(Status::ErrNotRegistered)
        );
        assert_eq!(drain(200), Vec::<String>::new());
        erl_sync(p);
        assert_eq!(dist::nodes().unwrap(), vec![en.clone()]);
    });
}

/// Case 106, Erlang → Hive: `{Unregistered, HiveNode} ! hi` returns `hi`, nothing comes
/// back, the connection stays up.
#[test]
fn case_106_erlang_sends_to_unregistered_hive_name() {
    let Some(env) = Env::new("106b") else {
        return;
    };
    let r = env.ev(
        "X = {{nosuch106, HV} ! hi, erlang:send({nosuch106, HV}, hi)}, \
         [P] = hv_t:hive_targets(HV, 1), \
         {X, hv_t:flush(200), hv_t:sync(P), lists:member(HV, nodes(hidden))}.",
    );
    assert_eq!(r, "{{hi,hi},[],ok,true}");
}

/// Case 107: a send to a name or a pid of an unreachable node returns at once without
/// error; nothing comes back and the node is not connected; other connections are not
/// disturbed.
#[test]
fn case_107_hive_sends_to_unreachable_node() {
    let Some(env) = Env::new("107") else {
        return;
    };
    env.run(move |en| {
        let p = erl_target(&en);
        let nosuch = "nosuch107@localhost";
        let t0 = Instant::now();
        dist::send_name(nosuch, "foo", &enc(&a("hi"))).unwrap();
        let took = t0.elapsed();
        let ghost = dist::pid_of(&ExtPid {
            node: etf::Atom::new(nosuch).unwrap(),
            id: 1,
            serial: 1,
            creation: 1,
        })
        .unwrap()
        .unwrap();
        process::send(ghost, &enc(&a("hi"))).unwrap();
        assert!(took < Duration::from_millis(100), "send took {took:?}");
        assert_eq!(drain(300), Vec::<String>::new());
        assert!(!dist::nodes().unwrap().iter().any(|n| n == nosuch));
        erl_sync(p);
        assert_eq!(dist::nodes().unwrap(), vec![en.clone()]);
    });
}

/// Case 108, Hive side: after `disconnect`, a send to a name connects on demand; the node
/// is not connected right after the first send; messages sent meanwhile arrive in order.
/// A send to a pid also reconnects, and so does a monitor (its DOWN is `normal`).
#[test]
fn case_108_hive_reconnects_on_demand() {
    let Some(env) = Env::new("108a") else {
        return;
    };
    env.run(move |en| {
        let reg = enc(&tup(vec![a("register"), a("n108"), me()]));
        dist::send_name(&en, "fac", &reg).unwrap();
        let r = pid_of_t(&recv_tag("registered")[1]);
        let n = |i: i64| enc(&tup(vec![a("n"), Term::Int(i)]));
        let got = |i: i64| {
            let (s, t) = recv_t(10_000, |t| tag_of(t) == Some("fwd"));
            assert_eq!(s, r);
            assert_eq!(
                t,
                tup(vec![a("fwd"), pt(r), tup(vec![a("n"), Term::Int(i)])])
            );
        };
        assert!(dist::disconnect(&en).unwrap());
        assert!(!dist::disconnect(&en).unwrap(), "not connected any more");
        dist::send_name(&en, "n108", &n(1)).unwrap();
        assert_eq!(dist::nodes().unwrap(), Vec::<String>::new());
        for i in 2..=1000 {
            dist::send_name(&en, "n108", &n(i)).unwrap();
        }
        for i in 1..=1000 {
            got(i);
        }
        assert_eq!(dist::nodes().unwrap(), vec![en.clone()]);
        assert!(dist::disconnect(&en).unwrap());
        process::send(r, &n(1001)).unwrap();
        got(1001);
        assert!(dist::disconnect(&en).unwrap());
        let mon = process::monitor(r).unwrap();
        send_t(r, &a("stop"));
        assert_eq!(recv_down(mon, 10_000), ExitReason::Normal);
    });
}

/// Case 108, Erlang side: after Erlang disconnects the Hive node, its sends to a Hive pid
/// reconnect and arrive in order.
#[test]
fn case_108_erlang_reconnects_to_hive_on_demand() {
    let Some(env) = Env::new("108b") else {
        return;
    };
    let r = env.ev(
        "[HP] = hv_t:hive_fwd_targets(HV, 1), ok = hv_t:sync(HP), \
         ok = net_kernel:monitor_nodes(true, [{node_type, hidden}]), \
         true = erlang:disconnect_node(HV), \
         Down = receive {nodedown, HV, _} -> down after 5000 -> timeout end, \
         [HP ! {n, I} || I <- lists:seq(1, 1000)], \
         Got = [receive {fwd, HP, {n, J}} -> J after 5000 -> timeout end || _ <- lists:seq(1, 1000)], \
         ok = net_kernel:monitor_nodes(false, [{node_type, hidden}]), \
         {Down, Got =:= lists:seq(1, 1000), lists:member(HV, nodes(hidden))}.",
    );
    assert_eq!(r, "{down,true,true}");
}

/// Case 109 [RACE], Erlang process → Hive: a message an Erlang process sends before it
/// dies arrives before its `EXIT` (trapping link) and before its `DOWN`.
#[test]
fn case_109_erlang_message_before_exit_and_down() {
    let Some(env) = Env::new("109a") else {
        return;
    };
    env.run(move |en| {
        process::trap_exit(true).unwrap();
        let ps = erl_req(&en, "targets", 200);
        for (i, &p) in ps.iter().enumerate() {
            let mon = (i % 2 == 1).then(|| process::monitor(p).unwrap());
            if mon.is_none() {
                process::link(p).unwrap();
            }
            send_t(p, &tup(vec![a("go_last"), me()]));
            let m = process::receive(Some(10_000)).unwrap();
            assert_eq!(
                m.kind(),
                MessageKind::Data,
                "iteration {i}: {:?}",
                m.reason()
            );
            assert_eq!(term_of(&m).unwrap(), tup(vec![a("last"), pt(p)]));
            let m = process::receive(Some(10_000)).unwrap();
            assert_eq!(m.sender(), p);
            assert_eq!(m.reason(), Some(atom_reason("boom")));
            match mon {
                Some(r) => {
                    assert_eq!(m.kind(), MessageKind::Down);
                    assert_eq!(m.monitor_ref(), r);
                }
                None => assert_eq!(m.kind(), MessageKind::Exit),
            }
        }
    });
}

/// Case 109 [RACE], Hive process → Erlang: the same, a Hive process sending before it
/// dies.
#[test]
fn case_109_hive_message_before_exit_and_down() {
    let Some(env) = Env::new("109b") else {
        return;
    };
    let r = env.ev(
        "process_flag(trap_exit, true), Ps = hv_t:hive_targets(HV, 200), \
         Res = [begin \
                  case I rem 2 of \
                    0 -> link(P), P ! {go_last, self()}, \
                         M1 = receive X1 -> X1 after 5000 -> timeout end, \
                         M2 = receive X2 -> X2 after 5000 -> timeout end, \
                         {M1, M2} =:= {{last, P}, {'EXIT', P, boom}} orelse {bad, I, M1, M2}; \
                    1 -> Ref = monitor(process, P), P ! {go_last, self()}, \
                         M1 = receive X1 -> X1 after 5000 -> timeout end, \
                         M2 = receive X2 -> X2 after 5000 -> timeout end, \
                         {M1, M2} =:= {{last, P}, {'DOWN', Ref, process, P, boom}} orelse {bad, I, M1, M2} \
                  end \
                end || {I, P} <- lists:zip(lists:seq(1, 200), Ps)], \
         process_flag(trap_exit, false), \
         [X || X <- Res, X =/= true].",
    );
    assert_eq!(r, "[]");
}

/// Case 110 [RACE], Hive → Erlang: an `exit/2` signal sent among messages to an Erlang
/// process keeps its place: a trapping target sees `[m1,m2,m3,{'EXIT',S,r},m4,m5,m6]`;
/// a non-trapping one dies with `good_signal_order`, never `bad_signal_order`.
#[test]
fn case_110_hive_exit_signal_keeps_its_place() {
    let Some(env) = Env::new("110a") else {
        return;
    };
    env.run(move |en| {
        let n = 100;
        let ms = |r: std::ops::RangeInclusive<i32>| -> Vec<Term> {
            r.map(|i| a(&format!("m{i}"))).collect()
        };
        for p in erl_req(&en, "trap_targets", n) {
            for m in ms(1..=3) {
                send_t(p, &m);
            }
            process::exit_pid(p, atom_reason("r")).unwrap();
            for m in ms(4..=6) {
                send_t(p, &m);
            }
            let mut want = ms(1..=3);
            want.push(tup(vec![a("EXIT"), me(), a("r")]));
            want.extend(ms(4..=6));
            for w in want {
                let (s, t) = recv_t(10_000, |t| tag_of(t) == Some("fwd"));
                assert_eq!(s, p);
                assert_eq!(t, tup(vec![a("fwd"), pt(p), w]));
            }
        }
        for p in erl_req(&en, "targets", n) {
            let mon = process::monitor(p).unwrap();
            for _ in 0..3 {
                send_t(p, &a("may_reach"));
            }
            process::exit_pid(p, atom_reason("good_signal_order")).unwrap();
            for _ in 0..3 {
                send_t(p, &a("may_not_reach"));
            }
            assert_eq!(recv_down(mon, 10_000), atom_reason("good_signal_order"));
        }
    });
}

/// Case 110 [RACE], Erlang → Hive: the same with Hive targets.
#[test]
fn case_110_erlang_exit_signal_keeps_its_place_at_hive() {
    let Some(env) = Env::new("110b") else {
        return;
    };
    let r = env.ev(
        "Tr = [begin \
                 [P ! M || M <- [m1, m2, m3]], exit(P, r), [P ! M || M <- [m4, m5, m6]], \
                 Got = [receive {fwd, P, M} -> M after 5000 -> timeout end || _ <- lists:seq(1, 7)], \
                 Got =:= [m1, m2, m3, {'EXIT', self(), r}, m4, m5, m6] orelse Got \
               end || P <- hv_t:hive_trap_targets(HV, 100)], \
         Nt = [begin \
                 Ref = monitor(process, P), \
                 [P ! may_reach || _ <- [1, 2, 3]], exit(P, good_signal_order), \
                 [P ! may_not_reach || _ <- [1, 2, 3]], \
                 receive {'DOWN', Ref, process, P, R} -> R after 5000 -> timeout end \
               end || P <- hv_t:hive_targets(HV, 100)], \
         {[X || X <- Tr, X =/= true], lists:usort(Nt)}.",
    );
    assert_eq!(r, "{[],[good_signal_order]}");
}

/// The terms of case 112 built on the Erlang side (bound as `Terms`).
const TERMS_112: &str = "Big = 1 bsl 200 + 12345, \
     Terms = [self(), make_ref(), binary:copy(<<7>>, 1048576), hv_t:deep(20), \
              list_to_atom(\"hv112_new_\" ++ integer_to_list(erlang:unique_integer([positive]))), \
              fun(X) -> X + Big end, fun lists:reverse/1, \
              #{big => Big, -Big => [1.5, -2.25e-300, 3.0e300], {k} => self()}, \
              -Big, 0.1, {1, {2, {3, [a | b]}}}, <<1:3>>, \"string\", [], {}, <<>>, \
              [{pid, self()}, {ref, make_ref()}, {float, -0.5}, {int, -(1 bsl 62)}]], ";

/// Case 112, Erlang → Hive → Erlang: pids, references, binaries (1 MiB), big integers,
/// floats, maps, nested tuples, funs and a new atom come back `=:=` through a Hive
/// process that echoes the bytes, and through one that decodes and re-encodes them.
#[test]
fn case_112_terms_roundtrip_through_hive() {
    let Some(env) = Env::new("112a") else {
        return;
    };
    spawn_echo(&env.rt, "raw_echo", true);
    spawn_echo(&env.rt, "codec_echo", false);
    let r = env.ev(&format!(
        "{TERMS_112} \
         Check = fun(Name) -> \
             [begin {{Name, HV}} ! {{e, I, T}}, \
                    receive {{e, I, T2}} -> T2 =:= T orelse {{I, T2}} after 10000 -> {{timeout, I}} end \
              end || {{I, T}} <- lists:zip(lists:seq(1, length(Terms)), Terms)] \
         end, \
         {{[X || X <- Check(raw_echo), X =/= true], [X || X <- Check(codec_echo), X =/= true]}}."
    ));
    assert_eq!(r, "{[],[]}");
}

/// Case 112, Hive → Erlang → Hive: terms built by Hive (its own pid, a big integer, floats,
/// a map, nested tuples, a 1 MiB binary, an atom the Erlang node has never seen) come back
/// equal from an Erlang process that forwards them; the new atom now exists there.
#[test]
fn case_112_terms_roundtrip_through_erlang() {
    let Some(env) = Env::new("112b") else {
        return;
    };
    let fresh = format!(
        "hv112_fresh_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let fresh2 = fresh.clone();
    env.run(move |en| {
        let p = erl_req(&en, "fwd_targets", 1)[0];
        let mut nested = a("leaf");
        for i in 0..50 {
            nested = tup(vec![Term::Int(i), nested]);
        }
        let big = Term::BigInt {
            negative: true,
            magnitude: (1..=40).collect(),
        };
        let terms = vec![
            me(),
            tup(vec![me(), pt(p)]),
            big.clone(),
            Term::Float(-1.0e-300),
            Term::Float(12345.678),
            Term::Map(vec![(Term::Int(1), big), (a("big"), Term::Float(2.5))]),
            nested,
            Term::Binary(vec![0xa5; 1 << 20]),
            a(&fresh2),
            a("hëllo_ünicode_atom"),
            Term::List(vec![a("x"), Term::Float(1.5)], Box::new(a("tail"))),
            Term::Int(i64::MIN),
            Term::Int(1 << 40),
            Term::BitBinary {
                bytes: vec![0xe0],
                last_bits: 3,
            },
        ];
        for t in &terms {
            send_t(p, t);
            let (_, back) = recv_t(10_000, |t| tag_of(t) == Some("fwd"));
            assert_eq!(&back.as_tuple().unwrap()[2], t);
        }
    });
    let r = env.ev(&format!(
        "is_atom(catch list_to_existing_atom(\"{fresh}\"))."
    ));
    assert_eq!(r, "true");
}

/// Runs `f` as a Hive process with `stack` bytes of stack (spawned and monitored by a
/// watcher); its exit reason, or None when none came within 20 s (the runtime is stuck).
fn run_bounded(
    rt: &Runtime,
    stack: usize,
    f: impl FnOnce() + Send + 'static,
) -> Option<ExitReason> {
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn(move || {
        let opts = hive_rt::SpawnOptions {
            stack_size: stack,
            ..Default::default()
        };
        let (_, m) = process::spawn_opt(opts, false, true, f).unwrap();
        let _ = tx.send(recv_down(m, 30_000));
    })
    .unwrap();
    rx.recv_timeout(Duration::from_secs(20)).ok()
}

/// Shuts the test's nodes down, unless the runtime is stuck (`stuck`): it is then leaked,
/// with a note, so that the test fails instead of hanging in `shutdown`.
fn finish(env: Env, stuck: bool) {
    let Env { rt, e, epmd, .. } = env;
    if stuck {
        eprintln!("the Hive runtime is stuck: leaked, not shut down");
        std::mem::forget(rt);
    } else {
        drop(rt);
    }
    drop(e);
    drop(epmd);
}

/// Case 112, nested tuples `depth` deep, Hive → Erlang: what a probe on Erlang got from a
/// Hive process with a `stack`-byte stack (`{depth, P, IsTuple, Depth}`), or the sender's
/// exit reason; `stuck` when it did not end. `None` when the test is skipped.
fn deep_hive_to_erl(tag: &str, depth: usize, stack: usize) -> Option<String> {
    let env = Env::new(tag)?;
    let en = env.en.clone();
    let r = run_bounded(&env.rt, stack, move || {
        let req = tup(vec![a("probe"), me()]);
        dist::send_name(&en, "fac", &enc(&req)).unwrap();
        let probe = pid_of_t(&recv_tag("probe")[0]);
        let mut bytes = vec![131u8];
        for _ in 0..depth {
            bytes.extend_from_slice(&[104, 1]);
        }
        bytes.extend_from_slice(&[119, 4]);
        bytes.extend_from_slice(b"leaf");
        process::send(probe, &bytes).unwrap();
        let (_, t) = recv_t(10_000, |t| tag_of(t) == Some("depth"));
        die(ExitReason::error(t.to_string()));
    });
    let out = match &r {
        Some(ExitReason::Error(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(r) => format!("{r:?}"),
        None => "stuck".into(),
    };
    finish(env, r.is_none());
    Some(out)
}

/// Case 112, nested tuples `depth` deep, Erlang → Hive → Erlang through a Hive process
/// that echoes the bytes: `{echoed back =:=, still connected after it, the Hive factory
/// still answers}`; `None` when the test is skipped.
fn deep_erl_to_hive(tag: &str, depth: usize) -> Option<String> {
    let env = Env::new(tag)?;
    spawn_echo(&env.rt, "raw_echo", true);
    let r = env.ev(&format!(
        "Deep = hv_t:deep({depth}), {{raw_echo, HV}} ! {{deep, Deep}}, \
         Echo = receive {{deep, D2}} -> D2 =:= Deep after 3000 -> timeout end, \
         Conn = lists:member(HV, nodes(hidden)), \
         {{hfac, HV}} ! {{targets, 1, self()}}, \
         Alive = receive {{targets, _}} -> true after 3000 -> false end, \
         {{Echo, Conn, Alive}}."
    ));
    finish(env, r != "{true,true,true}");
    Some(r)
}

/// Case 112: a tuple nested 100 deep goes from a Hive process (default stack) to Erlang.
#[test]
fn case_112_tuple_nested_100_deep_hive_to_erlang() {
    let stack = hive_rt::SpawnOptions::default().stack_size;
    let Some(r) = deep_hive_to_erl("112c", 100, stack) else {
        return;
    };
    assert!(r.starts_with("{depth,") && r.ends_with(",true,100}"), "{r}");
}

/// Case 112: a tuple nested 100 deep comes back from a Hive process that echoes it.
#[test]
fn case_112_tuple_nested_100_deep_erlang_to_hive() {
    let Some(r) = deep_erl_to_hive("112d", 100) else {
        return;
    };
    assert_eq!(r, "{true,true,true}");
}

/// Case 112: a tuple nested 10000 deep (as the BEAM's `distribution_SUITE` sends) goes
/// from a Hive process with a 1 MiB stack to Erlang, as a tuple.
#[test]
fn case_112_tuple_nested_10000_deep_hive_to_erlang() {
    let Some(r) = deep_hive_to_erl("112e", 10_000, 1 << 20) else {
        return;
    };
    assert!(
        r.starts_with("{depth,") && r.ends_with(",true,10000}"),
        "{r}"
    );
}

/// Case 112: a tuple nested 10000 deep comes back from a Hive process that echoes it.
#[test]
fn case_112_tuple_nested_10000_deep_erlang_to_hive() {
    let Some(r) = deep_erl_to_hive("112f", 10_000) else {
        return;
    };
    assert_eq!(r, "{true,true,true}");
}

/// Case 113: a timer cannot target a remote pid: `send_after` and `start_timer` to an
/// Erlang pid fail with a bad argument (`badarg` on the BEAM); and on the Erlang node a
/// Hive pid is a remote pid for its timers too.
#[test]
fn case_113_timers_cannot_target_remote_pids() {
    let Some(env) = Env::new("113") else {
        return;
    };
    env.run(move |en| {
        let p = erl_req(&en, "fwd_targets", 1)[0];
        let r1 = process::send_after(TimerDest::Pid(p), 10, &enc(&a("m")));
        let r2 = process::start_timer(TimerDest::Pid(p), 10, &enc(&a("m")));
        let late = drain(200);
        assert_eq!(
            (r1.map_err(|e| e.0), r2.map_err(|e| e.0), late),
            (
                Err(Status::ErrBadArgument),
                Err(Status::ErrBadArgument),
                vec![]
            )
        );
    });
    let r = env.ev(
        "[HP] = hv_t:hive_targets(HV, 1), \
         {element(1, catch erlang:send_after(10, HP, m)), element(1, catch erlang:start_timer(10, HP, m))}.",
    );
    assert_eq!(r, "{'EXIT','EXIT'}");
}

// ===================================== M. Remote links =====================================

/// Case 114, Hive → Erlang: `link` to an Erlang pid succeeds at once and shows on both
/// sides; linking again changes nothing; `unlink` removes it on both sides.
#[test]
fn case_114_hive_links_to_erlang() {
    let Some(env) = Env::new("114a") else {
        return;
    };
    env.run(move |en| {
        let s = process::self_pid();
        let p = erl_target(&en);
        process::link(p).unwrap();
        assert_eq!(my_links(), vec![p]);
        assert_eq!(erl_links(p), vec![s]);
        process::link(p).unwrap();
        assert_eq!(my_links(), vec![p]);
        assert_eq!(erl_links(p), vec![s]);
        process::unlink(p).unwrap();
        assert_eq!(my_links(), Vec::<Pid>::new());
        assert_eq!(erl_links(p), Vec::<Pid>::new());
        // Still no link: P's normal exit… and an abnormal one would not reach us.
        let mon = process::monitor(p).unwrap();
        send_t(p, &a("die"));
        assert_eq!(recv_down(mon, 10_000), atom_reason("boom"));
    });
}

/// Case 114, Erlang → Hive: the same with a Hive target.
#[test]
fn case_114_erlang_links_to_hive() {
    let Some(env) = Env::new("114b") else {
        return;
    };
    let r = env.ev("[HP] = hv_t:hive_targets(HV, 1), \
         L = fun() -> element(2, process_info(self(), links)) end, \
         R1 = link(HP), A1 = L(), B1 = hv_t:links(HP), \
         R2 = link(HP), A2 = L(), B2 = hv_t:links(HP), \
         R3 = unlink(HP), A3 = L(), B3 = hv_t:links(HP), \
         {R1, R2, R3, A1 =:= [HP], B1 =:= [self()], A2 =:= [HP], B2 =:= [self()], A3, B3}.");
    assert_eq!(r, "{true,true,true,true,true,true,true,[],[]}");
}

/// Case 115, Erlang exits abnormally: a non-trapping linked Hive process dies with the
/// same reason; a trapping one gets `{'EXIT', P, Reason}` with a big reason holding a
/// reference, its own pid and a fun, unchanged (checked `=:=` back on Erlang).
#[test]
fn case_115_erlang_abnormal_exit_reaches_hive() {
    let Some(env) = Env::new("115a") else {
        return;
    };
    env.run(move |en| {
        let s = process::self_pid();
        let p = erl_target(&en);
        let w = process::spawn(move || {
            process::link(p).unwrap();
            erl_sync(p);
            process::send(s, b"linked").unwrap();
            let _ = process::receive(Some(10_000));
        })
        .unwrap();
        let mw = process::monitor(w).unwrap();
        process::receive_match(Some(10_000), |f, d| f == w && d == b"linked").unwrap();
        send_t(p, &a("die"));
        assert_eq!(recv_down(mw, 10_000), atom_reason("boom"));

        process::trap_exit(true).unwrap();
        dist::send_name(&en, "fac", &enc(&tup(vec![a("big_exiter"), me()]))).unwrap();
        let v = recv_tag("big_exiter");
        let (p2, reason) = (pid_of_t(&v[0]), v[1].clone());
        process::link(p2).unwrap();
        send_t(p2, &a("go"));
        let got = reason_term(&recv_exit(p2, 10_000));
        assert_eq!(got, reason);
        let cmp = tup(vec![a("compare"), got, reason, me()]);
        dist::send_name(&en, "fac", &enc(&cmp)).unwrap();
        assert_eq!(recv_tag("compare"), vec![a("true")]);
        assert_eq!(my_links(), Vec::<Pid>::new());
    });
}

/// Case 115, Hive exits abnormally: a non-trapping linked Erlang process dies with the
/// same reason; a trapping one gets the full reason (a reference, its own pid and a fun
/// inside) `=:=` to what was sent.
#[test]
fn case_115_hive_abnormal_exit_reaches_erlang() {
    let Some(env) = Env::new("115b") else {
        return;
    };
    let r = env.ev("Me = self(), [HP, HP2] = hv_t:hive_targets(HV, 2), \
         W = spawn(fun() -> link(HP), ok = hv_t:sync(HP), Me ! {linked, self()}, \
                            receive after 10000 -> ok end end), \
         MW = monitor(process, W), \
         receive {linked, W} -> ok after 5000 -> exit(not_linked) end, \
         HP ! die, \
         RW = receive {'DOWN', MW, process, W, X} -> X after 5000 -> timeout end, \
         process_flag(trap_exit, true), \
         Reason = {big, lists:seq(1, 100), <<0:80000>>, make_ref(), self(), fun() -> Me end}, \
         link(HP2), HP2 ! {die, Reason}, \
         R2 = receive {'EXIT', HP2, Y} -> Y =:= Reason orelse Y after 5000 -> timeout end, \
         process_flag(trap_exit, false), \
         {RW, R2, element(2, process_info(self(), links))}.");
    assert_eq!(r, "{boom,true,[]}");
}

/// Case 116, Erlang exits normally: a non-trapping linked Hive process stays alive and
/// its link goes; a trapping one gets `{'EXIT', P, normal}`.
#[test]
fn case_116_erlang_normal_exit_at_hive() {
    let Some(env) = Env::new("116a") else {
        return;
    };
    env.run(move |en| {
        let s = process::self_pid();
        let p = erl_target(&en);
        let w = process::spawn(move || {
            process::link(p).unwrap();
            let mon = process::monitor(p).unwrap();
            erl_sync(p);
            process::send(s, b"linked").unwrap();
            assert_eq!(recv_down(mon, 10_000), ExitReason::Normal);
            let l = wait_my_links(&[]);
            process::send(s, &enc(&Term::list(l.into_iter().map(pt).collect()))).unwrap();
            let _ = process::receive(Some(10_000));
        })
        .unwrap();
        let mw = process::monitor(w).unwrap();
        process::receive_match(Some(10_000), |f, d| f == w && d == b"linked").unwrap();
        send_t(p, &a("stop"));
        let (_, l) = recv_t(10_000, |_| true);
        assert_eq!(l, Term::Nil, "W's links after P's normal exit");
        assert!(process::is_alive(w).unwrap());
        process::exit_pid(w, ExitReason::Kill).unwrap();
        assert_eq!(recv_down(mw, 10_000), ExitReason::Killed);

        process::trap_exit(true).unwrap();
        let p2 = erl_target(&en);
        process::link(p2).unwrap();
        send_t(p2, &a("stop"));
        assert_eq!(recv_exit(p2, 10_000), ExitReason::Normal);
        assert_eq!(my_links(), Vec::<Pid>::new());
    });
}

/// Case 116, Hive exits normally: a non-trapping linked Erlang process stays alive and
/// its link goes; a trapping one gets `{'EXIT', HP, normal}`.
#[test]
fn case_116_hive_normal_exit_at_erlang() {
    let Some(env) = Env::new("116b") else {
        return;
    };
    let r = env.ev("Me = self(), [HP, HP2] = hv_t:hive_targets(HV, 2), \
         W = spawn(fun() -> link(HP), Mon = monitor(process, HP), ok = hv_t:sync(HP), \
                            Me ! {linked, self()}, \
                            receive {'DOWN', Mon, process, HP, normal} -> ok end, \
                            Me ! {links, self(), hv_t:wait_links([], 2500)}, \
                            receive after 10000 -> ok end end), \
         receive {linked, W} -> ok after 5000 -> exit(not_linked) end, \
         HP ! stop, \
         LW = receive {links, W, L} -> L after 5000 -> timeout end, \
         Alive = is_process_alive(W), exit(W, kill), \
         process_flag(trap_exit, true), link(HP2), HP2 ! stop, \
         R2 = receive {'EXIT', HP2, Y} -> Y after 5000 -> timeout end, \
         process_flag(trap_exit, false), \
         {LW, Alive, R2}.");
    assert_eq!(r, "{[],true,normal}");
}

/// Case 117, Hive → dead Erlang pid: `link` succeeds; a non-trapping caller is then killed
/// with `noproc`; a trapping one gets `{'EXIT', Dead, noproc}` and has no link.
#[test]
fn case_117_hive_links_to_dead_erlang_pid() {
    let Some(env) = Env::new("117a") else {
        return;
    };
    env.run(move |en| {
        let s = process::self_pid();
        let dead = erl_dead(&en);
        let w = process::spawn(move || {
            process::receive(Some(10_000)).unwrap();
            let r = process::link(dead);
            process::send(s, format!("link_returned {r:?}").as_bytes()).unwrap();
            let _ = process::receive(Some(10_000));
        })
        .unwrap();
        let mw = process::monitor(w).unwrap();
        process::send(w, b"go").unwrap();
        let m = process::receive_match(Some(10_000), |f, _| f == w).unwrap();
        assert_eq!(m.data(), b"link_returned Ok(())");
        assert_eq!(recv_down(mw, 10_000), ExitReason::Noproc);

        process::trap_exit(true).unwrap();
        process::link(dead).unwrap();
        assert_eq!(recv_exit(dead, 10_000), ExitReason::Noproc);
        assert_eq!(my_links(), Vec::<Pid>::new());
    });
}

/// Case 117, Erlang → dead Hive pid: `link` returns `true`; a non-trapping caller is then
/// killed with `noproc`; a trapping one gets `{'EXIT', Dead, noproc}` and has no link.
#[test]
fn case_117_erlang_links_to_dead_hive_pid() {
    let Some(env) = Env::new("117b") else {
        return;
    };
    let r = env.ev("Me = self(), [D] = hv_t:hive_targets(HV, 1), \
         M = monitor(process, D), D ! stop, \
         normal = receive {'DOWN', M, process, D, R0} -> R0 after 5000 -> timeout end, \
         W = spawn(fun() -> receive go -> ok end, Me ! {link_returned, self(), catch link(D)}, \
                            receive after 10000 -> ok end end), \
         MW = monitor(process, W), W ! go, \
         LR = receive {link_returned, W, X} -> X after 5000 -> timeout end, \
         RW = receive {'DOWN', MW, process, W, Y} -> Y after 5000 -> timeout end, \
         process_flag(trap_exit, true), \
         L2 = link(D), \
         E = receive {'EXIT', D, Z} -> Z after 5000 -> timeout end, \
         process_flag(trap_exit, false), \
         {LR, RW, L2, E, element(2, process_info(self(), links))}.");
    assert_eq!(r, "{true,noproc,true,noproc,[]}");
}

/// Case 118, Hive → Erlang: `unlink` of a dead pid and of a pid never linked succeeds;
/// after `link`, `unlink`, `unlink`, the Erlang process's abnormal exit neither kills a
/// non-trapping caller nor reaches a trapping one (its DOWN does, through a monitor).
#[test]
fn case_118_hive_unlink_removes_the_link() {
    let Some(env) = Env::new("118a") else {
        return;
    };
    env.run(move |en| {
        let s = process::self_pid();
        let dead = erl_dead(&en);
        let never = erl_target(&en);
        process::unlink(dead).unwrap();
        process::unlink(never).unwrap();
        for trap in [false, true] {
            let en = en.clone();
            let w = process::spawn(move || {
                process::trap_exit(trap).unwrap();
                let p = erl_target(&en);
                process::link(p).unwrap();
                process::unlink(p).unwrap();
                process::unlink(p).unwrap();
                let mon = process::monitor(p).unwrap();
                send_t(p, &a("die"));
                assert_eq!(recv_down(mon, 10_000), atom_reason("boom"));
                assert_eq!(exit_arrives(p, 200), None);
                process::send(s, b"survived").unwrap();
            })
            .unwrap();
            let mw = process::monitor(w).unwrap();
            assert_eq!(
                recv_down(mw, 15_000),
                ExitReason::Normal,
                "trap_exit {trap}"
            );
            let m = process::receive_match(Some(0), |f, _| f == w).unwrap();
            assert_eq!(m.data(), b"survived");
        }
    });
}

/// Case 118, Erlang → Hive: the same with Hive targets.
#[test]
fn case_118_erlang_unlink_removes_the_link_to_hive() {
    let Some(env) = Env::new("118b") else {
        return;
    };
    let r = env.ev("Me = self(), [D, Never] = hv_t:hive_targets(HV, 2), \
         M = monitor(process, D), D ! stop, \
         normal = receive {'DOWN', M, process, D, R0} -> R0 after 5000 -> timeout end, \
         U = {unlink(D), unlink(Never)}, \
         Run = fun(Trap) -> \
             W = spawn(fun() -> \
                 process_flag(trap_exit, Trap), [P] = hv_t:hive_targets(HV, 1), \
                 true = link(P), true = unlink(P), true = unlink(P), \
                 Mon = monitor(process, P), P ! die, \
                 boom = receive {'DOWN', Mon, process, P, B} -> B after 5000 -> timeout end, \
                 Me ! {left, self(), hv_t:flush(200)} end), \
             MW = monitor(process, W), \
             {receive {left, W, L} -> L after 5000 -> timeout end, \
              receive {'DOWN', MW, process, W, X} -> X after 5000 -> timeout end} \
         end, \
         {U, Run(false), Run(true)}.");
    assert_eq!(r, "{{true,true},{[],normal},{[],normal}}");
}

/// Case 119 [RACE], Hive → Erlang: `exit(P, bang)`, jitter, `unlink(P)` with a link to an
/// Erlang process: at most one `EXIT` (reason `bang`) is already queued, none arrives
/// later.
#[test]
fn case_119_hive_exit_then_unlink() {
    let Some(env) = Env::new("119a") else {
        return;
    };
    env.run(move |en| {
        process::trap_exit(true).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let (mut queued, mut nothing) = (0, 0);
        for p in erl_req(&en, "targets", 150) {
            process::link(p).unwrap();
            process::exit_pid(p, atom_reason("bang")).unwrap();
            jitter(&mut seed);
            process::unlink(p).unwrap();
            match exit_arrives(p, 0) {
                Some(r) => {
                    assert_eq!(r, atom_reason("bang"));
                    queued += 1;
                }
                None => nothing += 1,
            }
        }
        assert_eq!(drain(300), Vec::<String>::new(), "a late EXIT");
        println!("exit_was_queued {queued}, nothing_queued {nothing}");
    });
}

/// Case 119 [RACE], Erlang → Hive: the same with Hive targets.
#[test]
fn case_119_erlang_exit_then_unlink_at_hive() {
    let Some(env) = Env::new("119b") else {
        return;
    };
    let r = env.ev("process_flag(trap_exit, true), \
         Res = [begin link(P), exit(P, bang), hv_t:jitter(), unlink(P), \
                  receive {'EXIT', P, bang} -> queued; {'EXIT', P, O} -> {other, O} \
                  after 0 -> nothing end \
                end || P <- hv_t:hive_targets(HV, 150)], \
         Late = hv_t:flush(300), process_flag(trap_exit, false), \
         {lists:usort(Res) -- [queued, nothing], Late, \
          length([x || queued <- Res]), length([x || nothing <- Res])}.");
    assert!(r.starts_with("{[],[],"), "{r}");
    println!("exit_was_queued, nothing_queued: {r}");
}

/// Case 120 [RACE], Hive → Erlang: `link(P)` then `P ! die`: the `EXIT` has `boom`, never
/// `noproc`.
#[test]
fn case_120_hive_link_then_die() {
    let Some(env) = Env::new("120a") else {
        return;
    };
    env.run(move |en| {
        process::trap_exit(true).unwrap();
        for p in erl_req(&en, "targets", 200) {
            process::link(p).unwrap();
            send_t(p, &a("die"));
            assert_eq!(recv_exit(p, 10_000), atom_reason("boom"));
        }
    });
}

/// Case 120 [RACE], Erlang → Hive: the same with Hive targets.
#[test]
fn case_120_erlang_link_then_die_at_hive() {
    let Some(env) = Env::new("120b") else {
        return;
    };
    let r = env.ev("process_flag(trap_exit, true), \
         Res = [begin link(P), P ! die, \
                  receive {'EXIT', P, R} -> R after 5000 -> timeout end \
                end || P <- hv_t:hive_targets(HV, 200)], \
         process_flag(trap_exit, false), lists:usort(Res).");
    assert_eq!(r, "[boom]");
}

/// Case 121, Hive → Erlang: `exit(P, kill)` ends a trapping Erlang process with `killed`
/// (EXIT and DOWN); an Erlang process exiting with `kill` gives a trapping linked Hive
/// process `{'EXIT', P2, kill}` and kills a non-trapping one with reason `kill`.
#[test]
fn case_121_hive_kill_and_erlang_exit_kill() {
    let Some(env) = Env::new("121a") else {
        return;
    };
    env.run(move |en| {
        let s = process::self_pid();
        process::trap_exit(true).unwrap();
        let p = erl_req(&en, "trap_targets", 1)[0];
        process::link(p).unwrap();
        let mon = process::monitor(p).unwrap();
        process::exit_pid(p, ExitReason::Kill).unwrap();
        assert_eq!(recv_exit(p, 10_000), ExitReason::Killed);
        assert_eq!(recv_down(mon, 10_000), ExitReason::Killed);

        let p2 = erl_target(&en);
        process::link(p2).unwrap();
        send_t(p2, &tup(vec![a("die"), a("kill")]));
        assert_eq!(recv_exit(p2, 10_000), ExitReason::Kill);

        let p3 = erl_target(&en);
        let w = process::spawn(move || {
            process::link(p3).unwrap();
            erl_sync(p3);
            process::send(s, b"linked").unwrap();
            let _ = process::receive(Some(10_000));
        })
        .unwrap();
        let mw = process::monitor(w).unwrap();
        process::receive_match(Some(10_000), |f, d| f == w && d == b"linked").unwrap();
        send_t(p3, &tup(vec![a("die"), a("kill")]));
        assert_eq!(recv_down(mw, 10_000), ExitReason::Kill);
    });
}

/// Case 121, Erlang → Hive: the same with Hive processes.
#[test]
fn case_121_erlang_kill_and_hive_exit_kill() {
    let Some(env) = Env::new("121b") else {
        return;
    };
    let r = env.ev("Me = self(), process_flag(trap_exit, true), \
         [TP] = hv_t:hive_trap_targets(HV, 1), link(TP), M = monitor(process, TP), \
         exit(TP, kill), \
         E1 = receive {'EXIT', TP, R1} -> R1 after 5000 -> timeout end, \
         D1 = receive {'DOWN', M, process, TP, R2} -> R2 after 5000 -> timeout end, \
         [P2, P3] = hv_t:hive_targets(HV, 2), \
         link(P2), P2 ! {die, kill}, \
         E2 = receive {'EXIT', P2, R3} -> R3 after 5000 -> timeout end, \
         process_flag(trap_exit, false), \
         W = spawn(fun() -> link(P3), ok = hv_t:sync(P3), Me ! {linked, self()}, \
                            receive after 10000 -> ok end end), \
         MW = monitor(process, W), \
         receive {linked, W} -> ok after 5000 -> exit(not_linked) end, \
         P3 ! {die, kill}, \
         RW = receive {'DOWN', MW, process, W, R4} -> R4 after 5000 -> timeout end, \
         {E1, D1, E2, RW}.");
    assert_eq!(r, "{killed,killed,kill,kill}");
}

/// Case 122, Hive → Erlang: `exit(P, normal)` is ignored by a non-trapping Erlang
/// process; a trapping one gets `{'EXIT', S, normal}` and `{'EXIT', S, other}` with S the
/// Hive caller (no link needed); `exit(P, other)` ends P with `other`.
#[test]
fn case_122_hive_exit2_to_erlang() {
    let Some(env) = Env::new("122a") else {
        return;
    };
    env.run(move |en| {
        let p = erl_target(&en);
        let mon = process::monitor(p).unwrap();
        process::exit_pid(p, ExitReason::Normal).unwrap();
        erl_sync(p);
        let tr = erl_req(&en, "trap_targets", 1)[0];
        process::exit_pid(tr, ExitReason::Normal).unwrap();
        process::exit_pid(tr, atom_reason("other")).unwrap();
        for r in ["normal", "other"] {
            let (_, t) = recv_t(10_000, |t| tag_of(t) == Some("fwd"));
            assert_eq!(
                t,
                tup(vec![a("fwd"), pt(tr), tup(vec![a("EXIT"), me(), a(r)])])
            );
        }
        process::exit_pid(p, atom_reason("other")).unwrap();
        assert_eq!(recv_down(mon, 10_000), atom_reason("other"));
    });
}

/// Case 122, Erlang → Hive: the same with Hive targets.
#[test]
fn case_122_erlang_exit2_to_hive() {
    let Some(env) = Env::new("122b") else {
        return;
    };
    let r = env.ev(
        "[P] = hv_t:hive_targets(HV, 1), [Tr] = hv_t:hive_trap_targets(HV, 1), \
         M = monitor(process, P), \
         exit(P, normal), S1 = hv_t:sync(P), \
         exit(Tr, normal), exit(Tr, other), \
         F = [receive {fwd, Tr, X} -> X after 5000 -> timeout end || _ <- [1, 2]], \
         exit(P, other), \
         D = receive {'DOWN', M, process, P, R} -> R after 5000 -> timeout end, \
         {S1, F =:= [{'EXIT', self(), normal}, {'EXIT', self(), other}], D}.",
    );
    assert_eq!(r, "{ok,true,other}");
}

/// Case 123 [RACE], Hive → Erlang: `exit(P, foo)` then `link(P)` or `monitor(P)` from the
/// same caller: `{'EXIT', P, noproc}`, `DOWN` `noproc`, and a non-trapping caller killed
/// with `noproc`.
#[test]
fn case_123_hive_exit_then_link_or_monitor() {
    let Some(env) = Env::new("123a") else {
        return;
    };
    env.run(move |en| {
        process::trap_exit(true).unwrap();
        for p in erl_req(&en, "targets", 100) {
            process::exit_pid(p, atom_reason("foo")).unwrap();
            process::link(p).unwrap();
            assert_eq!(recv_exit(p, 10_000), ExitReason::Noproc);
        }
        for p in erl_req(&en, "targets", 100) {
            process::exit_pid(p, atom_reason("foo")).unwrap();
            let m = process::monitor(p).unwrap();
            assert_eq!(recv_down(m, 10_000), ExitReason::Noproc);
        }
        for p in erl_req(&en, "targets", 30) {
            let w = process::spawn(move || {
                process::receive(Some(10_000)).unwrap();
                process::exit_pid(p, atom_reason("foo")).unwrap();
                process::link(p).unwrap();
                let _ = process::receive(Some(10_000));
            })
            .unwrap();
            let mw = process::monitor(w).unwrap();
            process::send(w, b"go").unwrap();
            assert_eq!(recv_down(mw, 10_000), ExitReason::Noproc);
        }
    });
}

/// Case 123 [RACE], Erlang → Hive: the same with Hive targets.
#[test]
fn case_123_erlang_exit_then_link_or_monitor_at_hive() {
    let Some(env) = Env::new("123b") else {
        return;
    };
    let r = env.ev("process_flag(trap_exit, true), \
         L = [begin exit(P, foo), true = link(P), \
                receive {'EXIT', P, R} -> R after 5000 -> timeout end \
              end || P <- hv_t:hive_targets(HV, 100)], \
         process_flag(trap_exit, false), \
         M = [begin exit(P, foo), Ref = monitor(process, P), \
                receive {'DOWN', Ref, process, P, R} -> R after 5000 -> timeout end \
              end || P <- hv_t:hive_targets(HV, 100)], \
         W = [begin \
                {Wp, Mw} = spawn_monitor(fun() -> exit(P, foo), link(P), \
                                                  receive after 10000 -> ok end end), \
                receive {'DOWN', Mw, process, Wp, R} -> R after 5000 -> timeout end \
              end || P <- hv_t:hive_targets(HV, 30)], \
         {lists:usort(L), lists:usort(M), lists:usort(W)}.");
    assert_eq!(r, "{[noproc],[noproc],[noproc]}");
}

/// Case 124, Erlang A – Hive – Erlang C: S on A (trapping) is linked to a Hive process Bp,
/// which links to Cp on C (Bp makes the Hive–C connection itself, asking C's factory for
/// Cp); Cp exits with `chain_boom`: S gets exactly `{'EXIT', Bp, chain_boom}`, nothing
/// from Cp, and A never connects to C.
#[test]
fn case_124_links_across_three_nodes_through_hive() {
    let Some(env) = Env::new("124") else {
        return;
    };
    let _c = env.erl_node("c124");
    let r = env.ev(
        "process_flag(trap_exit, true), Bp = hv_t:hive_register(HV, bp124), true = link(Bp), \
         Bp ! {send_name, 'c124@localhost', fac, {register, cp124, Bp}}, \
         Cp = receive {fwd, Bp, {registered, cp124, C}} -> C after 5000 -> exit(no_cp) end, \
         Bp ! {link, Cp}, \
         Bp ! {send_name, 'c124@localhost', cp124, {die, chain_boom}}, \
         E = receive {'EXIT', _, _} = X -> X after 5000 -> timeout end, \
         Rest = hv_t:flush(300), process_flag(trap_exit, false), \
         {E =:= {'EXIT', Bp, chain_boom}, node(Cp), Rest, \
          lists:member('c124@localhost', nodes(connected))}.",
    );
    assert_eq!(r, "{true,c124@localhost,[],false}");
}
