//! Distribution against a real Erlang/OTP node: Hive ↔ BEAM, each test named by its case
//! (`docs/semantics.md`, "Distribution"). Every test starts a private EPMD and its own
//! `erl` node (`common/erl.rs`), and a Hive node registered with that EPMD.

mod common;

use common::dist::{erl, private_epmd, run_normal, start_hive_node, COOKIE};
use common::erl::Epmd;
use common::hive_peer::TICK_MS;
use hive_rt::dist;
use hive_rt::dist::etf::{self, Term};
use hive_rt::{process, ExitReason, MessageKind, Pid, Runtime};

/// A Hive node `name@localhost` on `epmd`, with a creation.
fn hive_node(epmd: &Epmd, name: &str) -> Runtime {
    let (rt, info) = start_hive_node(epmd, name, COOKIE, TICK_MS);
    assert_ne!(info.creation, 0);
    rt
}

/// A Hive process registered as `name` that answers every message with `{echo, Msg}`
/// sent to the sender.
fn spawn_echo(rt: &Runtime, name: &str) -> Pid {
    let pid = rt
        .spawn(|| loop {
            let m = process::receive(None).unwrap();
            if m.kind() != MessageKind::Data {
                continue;
            }
            let msg = etf::decode(m.data()).expect("an ETF message");
            let reply = etf::to_vec(&Term::tuple(vec![Term::atom("echo"), msg]));
            process::send(m.sender(), &reply).unwrap();
        })
        .unwrap();
    rt.register(name.as_bytes(), pid).unwrap();
    pid
}

/// Case 144: `net_adm:ping/1` from Erlang gives `pong`; the Hive node is hidden (case 146).
#[test]
fn case_144_ping_from_erlang_and_hidden() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv144");
    let e = erl(&epmd, "e144");
    assert_eq!(e.eval("net_adm:ping('hv144@localhost').").unwrap(), "pong");
    assert_eq!(e.eval("nodes().").unwrap(), "[]");
    assert_eq!(e.eval("nodes(hidden).").unwrap(), "[hv144@localhost]");
    rt.shutdown();
}

/// Cases 101, 102: `{Name, Node} ! Msg` from Erlang reaches a registered Hive process,
/// whose reply to the sender pid arrives (SEND_SENDER).
#[test]
fn case_101_102_send_both_ways_from_erlang() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv101");
    spawn_echo(&rt, "echo");
    let e = erl(&epmd, "e101");
    let r = e
        .eval(
            "{echo, 'hv101@localhost'} ! {hello, self(), <<1,2,3>>, [1.5, #{a => \"str\"}]}, \
             receive {echo, {hello, P, B, L}} -> {P =:= self(), B, L} after 5000 -> timeout end.",
        )
        .unwrap();
    assert_eq!(r, "{true,<<1,2,3>>,[1.5,#{a => \"str\"}]}");
    rt.shutdown();
}

/// Cases 101, 108: a Hive process sends to `{Name, Node}` first (auto-connect, sends do
/// not wait, order kept while the connection is set up), then to the Erlang pid it
/// learnt; bytes that are not a term arrive as a binary.
#[test]
fn case_108_hive_connects_on_first_send_in_order() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv108");
    let e = erl(&epmd, "e108");
    e.eval("register(tester, self()).").unwrap();
    run_normal(&rt, || {
        for i in 0..100 {
            let m = etf::to_vec(&Term::tuple(vec![Term::atom("n"), Term::Int(i)]));
            dist::send_name("e108@localhost", "tester", &m).unwrap();
        }
        dist::send_name("e108@localhost", "tester", b"raw bytes").unwrap();
    });
    let r = e
        .eval(
            "L = [receive {n, I} -> I after 5000 -> timeout end || _ <- lists:seq(1, 100)], \
             R = receive B -> B after 5000 -> timeout end, {L =:= lists:seq(0, 99), R}.",
        )
        .unwrap();
    assert_eq!(r, "{true,<<\"raw bytes\">>}");
    assert_eq!(e.eval("nodes(hidden).").unwrap(), "[hv108@localhost]");
    rt.shutdown();
}

/// Case 101: binaries of every size class cross both ways whole and in order — under and
/// over the size from which a node reads a frame into the message that carries it on
/// (`docs/distribution.md`, "Connections"), and over the bound of that path — and each
/// arrives 16-byte aligned, as every message does.
#[test]
fn case_101_large_binaries_both_ways() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv101b");
    let e = erl(&epmd, "e101b");
    e.eval("register(bigecho, spawn(fun L() -> receive {P, B} -> P ! B, L() end end)), ok.")
        .unwrap();
    run_normal(&rt, || {
        let me = dist::pid_term(process::self_pid())
            .unwrap()
            .expect("a pid term");
        let sizes = [
            0,
            100,
            16_383,
            16_384,
            16_400,
            65_536,
            70_001,
            1 << 20,
            (4 << 20) + 1,
        ];
        let body = |n: usize, k: usize| -> Vec<u8> { (0..n).map(|i| (i * 13 + k) as u8).collect() };
        for (k, &n) in sizes.iter().enumerate() {
            let m = etf::to_vec(&Term::tuple(vec![
                Term::Pid(me.clone()),
                Term::Binary(body(n, k)),
            ]));
            dist::send_name("e101b@localhost", "bigecho", &m).unwrap();
        }
        for (k, &n) in sizes.iter().enumerate() {
            let m = process::receive(Some(20_000)).expect("the echo in time");
            assert_eq!(m.kind(), MessageKind::Data);
            assert_eq!(m.data().as_ptr() as usize % 16, 0, "{n} bytes: not aligned");
            let t = etf::decode(m.data()).expect("an ETF binary");
            assert!(t == Term::Binary(body(n, k)), "{n} bytes: differs");
        }
    });
    rt.shutdown();
}

/// Cases 114, 115, 125: a Hive process links to and monitors an Erlang process, which
/// exits with `{shutdown, boom}`: the trapping Hive process gets the `'EXIT'` and the
/// `'DOWN'` with the full reason.
#[test]
fn case_115_125_remote_exit_reaches_hive_link_and_monitor() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv115");
    let e = erl(&epmd, "e115");
    e.eval(
        "register(victim, spawn(fun() -> receive go -> exit({shutdown, boom}) end end)), \
         register(tester115, spawn(fun() -> receive {whereis_victim, F} -> F ! whereis(victim) end end)), ok.",
    )
    .unwrap();
    run_normal(&rt, move || {
        process::trap_exit(true).unwrap();
        let me = dist::pid_term(process::self_pid()).unwrap().unwrap();
        let ask = etf::to_vec(&Term::tuple(vec![
            Term::atom("whereis_victim"),
            Term::Pid(me),
        ]));
        dist::send_name("e115@localhost", "tester115", &ask).unwrap();
        let m = process::receive(Some(10_000)).unwrap();
        let Term::Pid(vp) = etf::decode(m.data()).unwrap() else {
            panic!("a pid")
        };
        let victim = dist::pid_of(&vp).unwrap().unwrap();
        assert_ne!(victim.node(), 0);
        process::link(victim).unwrap();
        let mref = process::monitor(victim).unwrap();
        process::send(victim, &etf::to_vec(&Term::atom("go"))).unwrap();
        let mut got = Vec::new();
        for _ in 0..2 {
            let m = process::receive(Some(10_000)).unwrap();
            let r = etf::decode(m.data())
                .map(|t| t.to_string())
                .unwrap_or_default();
            got.push((m.kind(), m.sender() == victim, r, m.monitor_ref() == mref));
        }
        assert!(
            got.iter()
                .any(|(k, s, r, _)| *k == MessageKind::Exit && *s && r == "{shutdown,boom}"),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|(k, s, r, m)| *k == MessageKind::Down && *s && r == "{shutdown,boom}" && *m),
            "{got:?}"
        );
    });
    let _ = ExitReason::Normal;
    rt.shutdown();
}

/// Cases 126, 127: a Hive process monitors `{Name, Node}` on the Erlang node: a DOWN
/// with `noproc` at once for a name nobody holds; for a registered process, the DOWN with
/// its exit reason when it exits (the name is resolved once, there).
#[test]
fn case_126_127_hive_monitors_remote_name() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv126");
    let e = erl(&epmd, "e126");
    e.eval("register(named, spawn(fun() -> receive go -> exit(bye) end end)), ok.")
        .unwrap();
    run_normal(&rt, || {
        let m1 = dist::monitor_name("e126@localhost", "nosuch").unwrap();
        let d = process::receive(Some(10_000)).unwrap();
        assert_eq!(d.kind(), MessageKind::Down);
        assert_eq!(d.monitor_ref(), m1);
        assert_eq!(d.reason(), Some(ExitReason::Noproc));
        let m2 = dist::monitor_name("e126@localhost", "named").unwrap();
        dist::send_name("e126@localhost", "named", &etf::to_vec(&Term::atom("go"))).unwrap();
        let d = process::receive(Some(10_000)).unwrap();
        assert_eq!(d.kind(), MessageKind::Down);
        assert_eq!(d.monitor_ref(), m2);
        let r = d.reason().unwrap();
        assert_eq!(etf::decode(r.data()).unwrap(), Term::atom("bye"));
        // A demonitored name monitor sends nothing more.
        let m3 = dist::monitor_name("e126@localhost", "net_kernel").unwrap();
        assert!(process::demonitor(m3, true).unwrap());
        assert!(process::receive(Some(300)).is_err());
    });
    rt.shutdown();
}

/// Cases 153, 154, 156: `erlang:spawn_request/5` from Erlang to an entry point registered on
/// the Hive node, with `[link, monitor]`: the reply comes first, then the process's exit
/// with its real reason over both the link and the monitor (whose reference is the
/// request's); an unknown entry point is answered `undef`.
#[test]
fn case_153_156_spawn_request_from_erlang() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv153");
    rt.run(|| {
        dist::register_entry("hmod", "hfun", |args| {
            let t = etf::decode(&args).unwrap();
            let Term::List(items, _) = &t else {
                panic!("a list")
            };
            let Term::Pid(p) = &items[0] else {
                panic!("a pid")
            };
            let to = dist::pid_of(p).unwrap().unwrap();
            let msg = Term::tuple(vec![Term::atom("spawned"), items[1].clone()]);
            process::send(to, &etf::to_vec(&msg)).unwrap();
            process::exit(ExitReason::error(etf::to_vec(&Term::tuple(vec![
                Term::atom("done"),
                items[1].clone(),
            ]))));
        })
        .unwrap();
    })
    .unwrap();
    let e = erl(&epmd, "e153");
    let r = e
        .eval(
            "process_flag(trap_exit, true), \
             R = erlang:spawn_request('hv153@localhost', hmod, hfun, [self(), x], [link, monitor]), \
             P = receive {spawn_reply, R, ok, P0} -> P0 after 5000 -> timeout end, \
             M = receive {spawned, x} -> ok after 5000 -> nomsg end, \
             E = receive {'EXIT', P, RE} -> RE after 5000 -> noexit end, \
             D = receive {'DOWN', R, process, P, RD} -> RD after 5000 -> nodown end, \
             {node(P), M, E, D}.",
        )
        .unwrap();
    assert_eq!(r, "{hv153@localhost,ok,{done,x},{done,x}}");
    let r = e
        .eval(
            "R2 = erlang:spawn_request('hv153@localhost', hmod, nosuch, [], []), \
             receive {spawn_reply, R2, error, Why} -> Why after 5000 -> timeout end.",
        )
        .unwrap();
    assert_eq!(r, "undef");
    rt.shutdown();
}

/// Cases 153, 154, 156: `spawn_request` from Hive to the BEAM with `link` and `monitor`:
/// the reply first, then the exit signal of the new process and its DOWN (whose reference
/// is the request's), both with its real reason; a spawn with `monitor` only, then
/// `demonitor`: no DOWN.
#[test]
fn case_153_156_spawn_request_from_hive() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv154");
    let _e = erl(&epmd, "e154");
    run_normal(&rt, || {
        process::trap_exit(true).unwrap();
        let reply = |r: u64| {
            let m = process::receive(Some(10_000)).unwrap();
            let t = etf::decode(m.data()).unwrap();
            let parts = t.as_tuple().unwrap().to_vec();
            assert_eq!(parts[0], Term::atom("spawn_reply"));
            assert_eq!(parts[2], Term::atom("ok"), "{t}");
            let Term::Ref(rr) = &parts[1] else {
                panic!("a reference: {t}")
            };
            assert_eq!(u64::from(rr.ids[0]) | (u64::from(rr.ids[1]) << 32), r);
            let Term::Pid(p) = &parts[3] else {
                panic!("a pid: {t}")
            };
            dist::pid_of(p).unwrap().unwrap()
        };
        let args = etf::to_vec(&Term::list(vec![Term::atom("boom")]));
        let r = dist::spawn_request("e154@localhost", "erlang", "exit", &args, true, true).unwrap();
        let child = reply(r);
        let mut got = Vec::new();
        for _ in 0..2 {
            let x = process::receive(Some(10_000)).unwrap();
            assert_eq!(x.sender(), child);
            let why = etf::decode(x.reason().unwrap().data()).unwrap();
            assert_eq!(why, Term::atom("boom"));
            got.push((x.kind(), x.monitor_ref()));
        }
        got.sort_by_key(|(k, _)| *k as i32);
        assert_eq!(got, vec![(MessageKind::Exit, 0), (MessageKind::Down, r)]);
        // `monitor` only, on a process that waits: demonitor ends it, no DOWN comes.
        let args = etf::to_vec(&Term::list(vec![Term::Int(60_000)]));
        let r2 =
            dist::spawn_request("e154@localhost", "timer", "sleep", &args, false, true).unwrap();
        let sleeper = reply(r2);
        assert!(process::demonitor(r2, false).unwrap());
        process::exit_pid(sleeper, ExitReason::Kill).unwrap();
        // A second monitor's DOWN comes; none carries the demonitored reference.
        let m = process::monitor(sleeper).unwrap();
        let d = process::receive_select(Some(10_000), |x| x.kind() == MessageKind::Down).unwrap();
        assert_eq!(d.monitor_ref(), m);
    });
    rt.shutdown();
}

/// Cases 103, 113, 143: names are per node (registering a remote pid is refused), timers
/// cannot target a remote pid, and `is_alive`/`process_info` of a remote pid are
/// `badarg`; `{Name, ThisNode} ! Msg` is a local send.
#[test]
fn case_103_113_143_remote_pid_refusals() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hv103");
    run_normal(&rt, || {
        let ext = hive_rt::dist::etf::ExtPid {
            node: etf::Atom::new("other@localhost").unwrap(),
            id: 5,
            serial: 1,
            creation: 77,
        };
        let remote = dist::pid_of(&ext).unwrap().unwrap();
        assert_ne!(remote.node(), 0);
        let bad = Err(hive_rt::Error(hive_rt::Status::ErrBadArgument));
        assert_eq!(process::register(b"r103", remote), bad);
        let t = process::send_after(hive_rt::TimerDest::Pid(remote), 10, b"x");
        assert_eq!(t, Err(hive_rt::Error(hive_rt::Status::ErrBadArgument)));
        assert_eq!(process::is_alive(remote), bad.map(|()| false));
        assert!(process::process_info(remote).is_err());
        process::register(b"me103", process::self_pid()).unwrap();
        dist::send_name("hv103@localhost", "me103", b"local").unwrap();
        assert_eq!(process::receive(Some(5_000)).unwrap().data(), b"local");
    });
    rt.shutdown();
}

/// Case 144 and the check: `gen_server:call({Name, HiveNode}, Req)` from Erlang
/// into a Hive process that answers `{'$gen_call', {From, Tag}, Req}` with `{Tag, Reply}`
/// gets its reply (the call monitors the name on the Hive node, then demonitors it).
#[test]
fn gen_server_call_into_hive() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let rt = hive_node(&epmd, "hvgs");
    let gs = rt
        .spawn(|| loop {
            let m = process::receive(None).unwrap();
            let Ok(t) = etf::decode(m.data()) else {
                continue;
            };
            let Some([call, from, req]) = t.as_tuple().and_then(|v| <&[Term; 3]>::try_from(v).ok())
            else {
                continue;
            };
            if call.as_atom() != Some("$gen_call") {
                continue;
            }
            let Some([Term::Pid(caller), tag]) =
                from.as_tuple().and_then(|v| <&[Term; 2]>::try_from(v).ok())
            else {
                continue;
            };
            let reply = Term::tuple(vec![
                tag.clone(),
                Term::tuple(vec![Term::atom("got"), req.clone()]),
            ]);
            let to = dist::pid_of(caller).unwrap().unwrap();
            process::send(to, &etf::to_vec(&reply)).unwrap();
        })
        .unwrap();
    rt.register(b"gs", gs).unwrap();
    let e = erl(&epmd, "egs");
    let r = e
        .eval("[gen_server:call({gs, 'hvgs@localhost'}, {ask, N}, 5000) || N <- [1, 2, 3]].")
        .unwrap();
    assert_eq!(r, "[{got,{ask,1}},{got,{ask,2}},{got,{ask,3}}]");
    // The monitors gen:call set up are all removed: each DEMONITOR_P follows its reply on
    // the connection; wait (bounded) until the last one has been handled.
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let info = rt.process_info(gs).unwrap().unwrap();
        if info.monitored_by.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < end, "{:?}", info.monitored_by);
        std::thread::yield_now();
    }
    rt.shutdown();
}
