//! Tests of the harness that drives real Erlang nodes (`common/erl.rs`), not of Hive: a
//! private epmd, two nodes that ping each other, bindings and the mailbox that persist across
//! evaluations, errors, one-line output, SIGSTOP/SIGCONT and the tick timeout, node loss, and
//! that nothing is left running afterwards. Every test but the first needs `erl` (see
//! `require_erl`: it fails without erl unless `HIVE_SKIP_ERL=1`).

mod common;
use common::erl::*;
use std::ffi::OsStr;
use std::time::{Duration, Instant};

const COOKIE: &str = "hive_harness_cookie";

/// The scheduling state letter of an OS process (`R`, `S`, `T` for stopped, …).
fn proc_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("reads /proc/PID/stat");
    // "pid (comm) S ...": the state follows the last ')'.
    let after = &stat[stat.rfind(')').expect("comm in parentheses") + 1..];
    after.trim_start().chars().next().expect("a state letter")
}

/// An epmd and two visible nodes `a@localhost`, `b@localhost` with the same cookie.
fn two_nodes(extra: &[&str]) -> (Epmd, ErlNode, ErlNode) {
    let epmd = Epmd::start();
    let a = ErlNode::start(&epmd, "a", COOKIE, extra);
    let b = ErlNode::start(&epmd, "b", COOKIE, extra);
    (epmd, a, b)
}

#[test]
fn policy_fails_without_erl_unless_skipped() {
    let one = Some(OsStr::new("1"));
    assert_eq!(erl_policy(None, true), Ok(true));
    assert_eq!(erl_policy(Some(OsStr::new("0")), true), Ok(true));
    assert_eq!(erl_policy(one, true), Ok(false));
    assert_eq!(erl_policy(one, false), Ok(false));
    let err = erl_policy(None, false).unwrap_err();
    assert!(
        err.contains("erl not found") && err.contains("make erl-deps"),
        "{err}"
    );
    assert!(err.contains("HIVE_SKIP_ERL=1"), "{err}");
}

#[test]
fn two_nodes_ping_each_other() {
    if !require_erl() {
        return;
    }
    let (epmd, a, b) = two_nodes(&[]);
    assert_eq!(a.name(), "a@localhost");
    assert_eq!(b.name(), "b@localhost");
    assert_ne!(epmd.port(), 4369, "a private epmd, never the default port");
    let mut names = epmd.names();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(a.eval("net_adm:ping('b@localhost').").unwrap(), "pong");
    assert_eq!(b.eval("nodes().").unwrap(), "[a@localhost]");
    assert_eq!(a.eval("node().").unwrap(), "a@localhost");
    // The cookie argument is the node's cookie: another one is refused.
    let c = ErlNode::start(&epmd, "c", "another_cookie", &[]);
    assert_eq!(a.eval("net_adm:ping('c@localhost').").unwrap(), "pang");
    assert_eq!(c.eval("erlang:get_cookie().").unwrap(), "another_cookie");
}

#[test]
fn bindings_persist_across_evals() {
    if !require_erl() {
        return;
    }
    let epmd = Epmd::start();
    let a = ErlNode::start(&epmd, "a", COOKIE, &[]);
    assert_eq!(a.eval("X = 41.").unwrap(), "41");
    assert_eq!(a.eval("X + 1.").unwrap(), "42");
    // Several dot-terminated sequences, the last dot left out: the last value.
    assert_eq!(a.eval("Y = X * 2. Z = Y + 1, {Y, Z}").unwrap(), "{82,83}");
    assert_eq!(a.eval("Z.").unwrap(), "83");
    // A bound variable does not match another value, as in the shell.
    assert_eq!(a.eval("X = 1.").unwrap_err(), "error:{badmatch,1}");
    assert_eq!(a.eval("X.").unwrap(), "41");
    // The evaluator is one process; trap_exit is off until an expression turns it on.
    let pid = a.eval("self().").unwrap();
    assert_eq!(a.eval("self().").unwrap(), pid);
    assert_eq!(a.eval("process_flag(trap_exit, true).").unwrap(), "false");
    assert_eq!(a.eval("process_flag(trap_exit, true).").unwrap(), "true");
}

#[test]
fn the_mailbox_persists_across_evals() {
    if !require_erl() {
        return;
    }
    let (_epmd, a, b) = two_nodes(&[]);
    // A message from another node, received in a later call.
    a.eval("register(harness_a, self()).").unwrap();
    b.eval("{harness_a, 'a@localhost'} ! {from_b, node()}.")
        .unwrap();
    assert_eq!(
        a.eval("receive M -> M after 5000 -> timeout end.").unwrap(),
        "{from_b,b@localhost}"
    );
    // A fun spawned on B (erl_eval funs travel), a link made in one call, its EXIT
    // received in another.
    a.eval("P = spawn('b@localhost', fun() -> receive {From, X} -> From ! {echo, node(), X}, exit(done) end end).")
        .unwrap();
    assert_eq!(a.eval("node(P).").unwrap(), "b@localhost");
    a.eval("process_flag(trap_exit, true), link(P).").unwrap();
    a.eval("P ! {self(), hi}.").unwrap();
    assert_eq!(
        a.eval("receive {echo, N, X} -> {N, X} after 5000 -> timeout end.")
            .unwrap(),
        "{b@localhost,hi}"
    );
    assert_eq!(
        a.eval("receive {'EXIT', P, R} -> R after 5000 -> timeout end.")
            .unwrap(),
        "done"
    );
    // A timer set in one call fires into the same mailbox.
    a.eval("erlang:send_after(50, self(), tick).").unwrap();
    assert_eq!(
        a.eval("receive tick -> got_tick after 5000 -> timeout end.")
            .unwrap(),
        "got_tick"
    );
    assert_eq!(
        a.eval("receive Any -> Any after 0 -> empty end.").unwrap(),
        "empty"
    );
}

#[test]
fn exceptions_are_errors_and_the_evaluator_survives_them() {
    if !require_erl() {
        return;
    }
    let epmd = Epmd::start();
    let a = ErlNode::start(&epmd, "a", COOKIE, &[]);
    a.eval("K = kept.").unwrap();
    assert_eq!(a.eval("1/0.").unwrap_err(), "error:badarith");
    assert_eq!(a.eval("throw({x, \"y\"}).").unwrap_err(), "throw:{x,\"y\"}");
    assert_eq!(a.eval("exit(bye).").unwrap_err(), "exit:bye");
    assert_eq!(
        a.eval("Unknown.").unwrap_err(),
        "error:{unbound_var,'Unknown'}"
    );
    let parse = a.eval("X = .").unwrap_err();
    assert!(parse.starts_with("error:{parse,"), "{parse}");
    let scan = a.eval("\"unterminated").unwrap_err();
    assert!(scan.starts_with("error:{scan,"), "{scan}");
    assert_eq!(a.eval("K.").unwrap(), "kept");

    // The evaluator killed during a call: Err, then a fresh evaluator without bindings.
    assert_eq!(
        a.eval("exit(self(), kill).").unwrap_err(),
        "evaluator_exited:killed"
    );
    assert_eq!(a.eval("K.").unwrap_err(), "error:{unbound_var,'K'}");
    // Killed between calls: the next call reports it (and does not run). Node `b` kills
    // the evaluator and sees its DOWN, so it is gone before `a`'s next call.
    a.eval("register(evalr, self()), ok.").unwrap();
    let b = ErlNode::start(&epmd, "b", COOKIE, &[]);
    assert_eq!(
        b.eval(
            "P = rpc:call('a@localhost', erlang, whereis, [evalr]), M = monitor(process, P), \
             exit(P, boom), receive {'DOWN', M, process, P, R} -> R after 10000 -> timeout end."
        )
        .unwrap(),
        "boom"
    );
    assert_eq!(a.eval("1.").unwrap_err(), "evaluator_exited:boom");
    assert_eq!(a.eval("1.").unwrap(), "1");
}

#[test]
fn any_text_in_and_one_line_out() {
    if !require_erl() {
        return;
    }
    let epmd = Epmd::start();
    let a = ErlNode::start(&epmd, "a", COOKIE, &[]);
    // Quotes, backslashes and newlines in the expression text.
    let expr = "L = [1,\n  2,\n  3],\n{L, \"it's \\\"q\\\"\\n\", 'an atom', $\\n}.\n";
    assert_eq!(
        a.eval(expr).unwrap(),
        r#"{[1,2,3],"it's \"q\"\n",'an atom',10}"#
    );
    // Unicode both ways.
    assert_eq!(a.eval("<<\"héllo\"/utf8>>.").unwrap(), "<<\"héllo\"/utf8>>");
    assert_eq!(a.eval("atom_to_list('ünï').").unwrap(), "\"ünï\"");
    // A big term stays on one line.
    let big = a
        .eval("{lists:seq(1, 5000), [{k, <<\"v\">>, \"s\\ns\"} || _ <- lists:seq(1, 500)]}.")
        .unwrap();
    assert!(
        big.len() > 20_000 && !big.contains('\n'),
        "{} bytes",
        big.len()
    );
    assert!(big.starts_with("{[1,2,3,") && big.ends_with("{k,<<\"v\">>,\"s\\ns\"}]}"));
    // Erlang's own output (logger reports, io to `user`) does not disturb the protocol.
    let noisy = "io:format(user, \"noise~nmore noise~n\", []), \
                 logger:error(\"an error report~nover lines\"), \
                 spawn(fun() -> error(crash_report) end), timer:sleep(100), 7.";
    assert_eq!(a.eval(noisy).unwrap(), "7");
    assert_eq!(a.eval("8.").unwrap(), "8");
    let tail = a.output_tail();
    assert!(
        tail.contains("noise") && tail.contains("crash_report"),
        "{tail}"
    );
}

#[test]
fn sigstop_freezes_and_sigcont_resumes() {
    if !require_erl() {
        return;
    }
    let (_epmd, a, b) = two_nodes(&[]);
    assert_eq!(a.eval("net_adm:ping('b@localhost').").unwrap(), "pong");
    b.sigstop();
    assert_eq!(proc_state(b.os_pid()), 'T');
    assert_eq!(
        a.eval("rpc:call('b@localhost', erlang, node, [], 500).")
            .unwrap(),
        "{badrpc,timeout}"
    );
    b.sigcont();
    assert_ne!(proc_state(b.os_pid()), 'T');
    assert_eq!(b.eval("1 + 1.").unwrap(), "2");
    assert_eq!(
        a.eval("rpc:call('b@localhost', erlang, node, [], 5000).")
            .unwrap(),
        "b@localhost"
    );
}

#[test]
fn a_frozen_node_times_out_after_net_ticktime() {
    if !require_erl() {
        return;
    }
    let (_epmd, a, b) = two_nodes(&["-kernel", "net_ticktime", "4"]);
    assert_eq!(a.eval("net_kernel:get_net_ticktime().").unwrap(), "4");
    a.eval(
        "net_kernel:monitor_nodes(true, [nodedown_reason]), pong = net_adm:ping('b@localhost').",
    )
    .unwrap();
    a.eval("receive {nodeup, _, _} -> ok after 5000 -> timeout end.")
        .unwrap();
    let t0 = Instant::now();
    b.sigstop();
    let down = a
        .eval_timeout(
            "receive {nodedown, N, I} -> {N, I} after 15000 -> timeout end.",
            20_000,
        )
        .unwrap();
    let waited = t0.elapsed();
    b.sigcont();
    assert_eq!(down, "{b@localhost,[{nodedown_reason,net_tick_timeout}]}");
    // OTP: detected between 3/4 and 5/4 of net_ticktime (with some slack here).
    assert!(
        waited > Duration::from_millis(2500) && waited < Duration::from_secs(9),
        "{waited:?}"
    );
}

#[test]
fn kill_is_node_loss_and_the_name_can_be_reused() {
    if !require_erl() {
        return;
    }
    let (epmd, a, b) = two_nodes(&[]);
    a.eval(
        "net_kernel:monitor_nodes(true, [nodedown_reason]), pong = net_adm:ping('b@localhost').",
    )
    .unwrap();
    let old_pid = b.os_pid();
    b.kill();
    assert!(!b.is_running());
    assert!(!os_pid_alive(old_pid));
    assert_eq!(
        a.eval("receive {nodedown, N, I} -> {N, I} after 10000 -> timeout end.")
            .unwrap(),
        "{b@localhost,[{nodedown_reason,connection_closed}]}"
    );
    assert!(
        epmd.wait_unregistered("b", Duration::from_secs(10)),
        "{:?}",
        epmd.names()
    );
    drop(b);
    // A new node with the same name: a new incarnation.
    let b2 = ErlNode::start(&epmd, "b", COOKIE, &[]);
    assert_ne!(b2.os_pid(), old_pid);
    assert_eq!(a.eval("net_adm:ping('b@localhost').").unwrap(), "pong");
}

#[test]
fn stop_halts_gracefully() {
    if !require_erl() {
        return;
    }
    let (_epmd, a, b) = two_nodes(&[]);
    a.eval("monitor_node('b@localhost', true).").unwrap();
    b.stop();
    assert!(!b.is_running());
    assert!(b.wait_exit(Duration::ZERO).expect("exited").success());
    assert_eq!(
        a.eval("receive {nodedown, N} -> N after 10000 -> timeout end.")
            .unwrap(),
        "b@localhost"
    );
    b.stop(); // a second stop does nothing
}

#[test]
#[should_panic(expected = "erl node a@localhost did not start")]
fn a_node_that_cannot_start_panics_with_its_output() {
    if !require_erl() {
        panic!("erl node a@localhost did not start (skipped: {SKIP_VAR}=1)");
    }
    let epmd = Epmd::start();
    let _a = ErlNode::start(&epmd, "a", COOKIE, &[]);
    // The name is taken: every try exits at once ("the name … seems to be in use").
    let _again = ErlNode::start(&epmd, "a", COOKIE, &[]);
}

#[test]
fn extra_args_make_a_hidden_node() {
    if !require_erl() {
        return;
    }
    let epmd = Epmd::start();
    let a = ErlNode::start(&epmd, "a", COOKIE, &[]);
    let h = ErlNode::start(&epmd, "h", COOKIE, &["-hidden"]);
    assert_eq!(a.eval("net_adm:ping('h@localhost').").unwrap(), "pong");
    assert_eq!(
        a.eval("{nodes(), nodes(hidden)}.").unwrap(),
        "{[],[h@localhost]}"
    );
    assert_eq!(
        h.eval("{nodes(), nodes(hidden)}.").unwrap(),
        "{[],[a@localhost]}"
    );
}

#[test]
fn nothing_is_left_running_after_drop() {
    if !require_erl() {
        return;
    }
    let (epmd, a, b) = two_nodes(&[]);
    let c = ErlNode::start(&epmd, "c", COOKIE, &[]);
    assert_eq!(a.eval("net_adm:ping('b@localhost').").unwrap(), "pong");
    let pids = [epmd.os_pid(), a.os_pid(), b.os_pid(), c.os_pid()];
    assert!(pids.iter().all(|&p| os_pid_alive(p)), "{pids:?}");
    c.sigstop(); // a frozen node is killed too
    a.stop();
    drop(b);
    drop(c);
    drop(a);
    drop(epmd);
    for p in pids {
        assert!(!os_pid_alive(p), "OS pid {p} is still alive after drop");
    }
}
