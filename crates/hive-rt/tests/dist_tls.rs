//! TLS distribution (`docs/distribution.md`, "TLS"): Hive ↔ BEAM against a real `erl`
//! running `-proto_dist inet_tls` with mutual TLS, Hive ↔ Hive with the peer in its own OS
//! process, and the refusals — an untrusted certificate, a certificate for another host,
//! a plain node, unusable files. Certificates come from a throwaway CA (`common/tls.rs`).

mod common;

use std::net::SocketAddr;

use common::dist::{private_epmd, run_normal, COOKIE};
use common::erl::{Epmd, ErlNode};
use common::hive_peer::{atom, is_nodedown, me_t, spawn_agent, tup, HivePeer, TICK_MS, TLS_VAR};
use common::tls::Pki;
use hive_rt::dist::etf::{self, Term};
use hive_rt::dist::{self, Discovery, Options, TlsOptions};
use hive_rt::{process, MessageKind, Runtime, Status};

/// The entry of the peer node's process: does nothing in a normal test run.
#[test]
fn hive_peer_main() {
    common::hive_peer::peer_main();
}

/// Options of a test node `name@localhost` on `epmd` with TLS `tls`.
fn options(epmd: &Epmd, name: &str, tls: Option<TlsOptions>) -> Options {
    Options {
        name: format!("{name}@localhost"),
        cookie: Some(COOKIE.into()),
        listen: "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
        discovery: Discovery::Epmd(epmd.port()),
        start_epmd: false,
        tick_time_ms: TICK_MS,
        setup_time_ms: 3_000,
        tls,
        ..Options::default()
    }
}

/// A TLS Hive node `name@localhost` with certificate `cert`, an agent registered as
/// `agent` and an echo process registered as `echo` (answers `{echo, Msg}` to the sender).
fn tls_node(epmd: &Epmd, pki: &Pki, name: &str, cert: &str) -> Runtime {
    let rt = common::rt(2);
    rt.dist_start(options(epmd, name, Some(pki.opts(cert))))
        .expect("dist_start with TLS");
    spawn_agent(&rt);
    let echo = rt
        .spawn(|| loop {
            let m = process::receive(None).unwrap();
            if m.kind() != MessageKind::Data {
                continue;
            }
            let msg = etf::decode(m.data()).expect("an ETF message");
            let reply = etf::to_vec(&Term::tuple(vec![Term::atom("echo"), msg]));
            let _ = process::send(m.sender(), &reply);
        })
        .unwrap();
    rt.register(b"echo", echo).unwrap();
    rt
}

/// An `erl` node `name@localhost` with `-proto_dist inet_tls` and certificate `cert`;
/// `extra` goes into both sections of its `-ssl_dist_optfile`.
fn tls_erl(epmd: &Epmd, pki: &Pki, name: &str, cert: &str, extra: &str) -> ErlNode {
    let conf = pki.erl_optfile(cert, extra);
    let conf = conf.display().to_string();
    let args = [
        "-kernel",
        "net_ticktime",
        "4",
        "-proto_dist",
        "inet_tls",
        "-ssl_dist_optfile",
        conf.as_str(),
    ];
    ErlNode::start(epmd, name, COOKIE, &args)
}

/// Pings `{agent, node}` from a process of `rt`: true on the reply, false on
/// `{nodedown, node}` (the connection could not be made).
fn ping(rt: &Runtime, node: &str) -> bool {
    let node = node.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    run_normal(rt, move || {
        dist::monitor_node(&node, true).unwrap();
        let msg = etf::to_vec(&tup(vec![atom("ping"), me_t()]));
        dist::send_name(&node, "agent", &msg).unwrap();
        let m = process::receive_select(Some(20_000), |m| m.kind() == MessageKind::Data)
            .expect("a reply or nodedown");
        tx.send(!is_nodedown(&m)).unwrap();
    });
    rx.recv().unwrap()
}

/// Erlang → Hive and Hive → Erlang over `inet_tls_dist`, with OTP's default versions (TLS
/// 1.2 with OTP 25) and TLS 1.3 only: each side initiates once, messages go both ways,
/// and the BEAM sees the connection as TLS.
#[test]
fn tls_with_erlang_both_directions() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let pki = Pki::new("erl");
    for (i, extra) in ["", ", {versions, ['tlsv1.3']}"].iter().enumerate() {
        let hv = format!("hvtls{i}");
        let rt = tls_node(&epmd, &pki, &hv, "node");
        let e = tls_erl(&epmd, &pki, &format!("etls{i}"), "node", extra);
        // Erlang connects.
        let got = e
            .eval(&format!(
                "{{echo, '{hv}@localhost'}} ! {{hello, self()}}, \
                 receive {{echo, {{hello, P}}}} when P =:= self() -> ok after 10000 -> timeout end."
            ))
            .unwrap();
        assert_eq!(got, "ok", "TLS config {extra:?}");
        let info = e
            .eval(&format!(
                "{{ok, I}} = net_kernel:node_info('{hv}@localhost'), \
                 element(4, proplists:get_value(address, I))."
            ))
            .unwrap();
        assert_eq!(info, "tls");
        // Hive connects: drop the connection (Hive sees it go: nodedown), then send first
        // from Hive.
        e.eval("register(tls_sink, self()), ok.").unwrap();
        let en = e.name().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        rt.spawn(move || {
            dist::monitor_node(&en, true).unwrap();
            tx.send(()).unwrap();
            let m = process::receive_select(Some(20_000), |m| {
                m.kind() == MessageKind::Data && is_nodedown(m)
            });
            assert!(m.is_ok(), "no nodedown after disconnect_node");
            let m = etf::to_vec(&Term::tuple(vec![Term::atom("from_hive"), Term::Int(7)]));
            dist::send_name(&en, "tls_sink", &m).unwrap();
            done_tx.send(()).unwrap();
        })
        .unwrap();
        rx.recv().unwrap();
        assert_eq!(
            e.eval(&format!("erlang:disconnect_node('{hv}@localhost')."))
                .unwrap(),
            "true"
        );
        done_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("Hive saw the disconnect and sent");
        let got = e
            .eval("receive {from_hive, N} -> N after 10000 -> timeout end.")
            .unwrap();
        assert_eq!(got, "7", "TLS config {extra:?}");
        rt.shutdown();
    }
}

/// Hive ↔ Hive over TLS with the secure defaults: both directions connect, and the
/// connection carries messages.
#[test]
fn tls_hive_to_hive() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let pki = Pki::new("hive");
    let rt = tls_node(&epmd, &pki, "httls", "node");
    let env = [(TLS_VAR, format!("{}:node", pki.dir().display()))];
    let peer = HivePeer::start_env(epmd.port(), "hptls", COOKIE, &env);
    assert!(ping(&rt, peer.name()), "{}", peer.output());
    let back = peer.call(&tup(vec![
        atom("ping_node"),
        atom("none"),
        atom("httls@localhost"),
    ]));
    assert_eq!(back, atom("pong"));
}

/// A peer is refused when its certificate is signed by an untrusted CA, or is valid only
/// for another host than its node name's (names bound to certificates), or when it does
/// not speak TLS at all — whichever side initiates.
#[test]
fn tls_refuses_untrusted_wrong_host_and_plain() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let pki = Pki::new("refuse");
    let rt = tls_node(&epmd, &pki, "htref", "node");
    for (i, cert) in ["rogue", "wronghost", ""].iter().enumerate() {
        let env: Vec<(&str, String)> = if cert.is_empty() {
            vec![]
        } else {
            vec![(TLS_VAR, format!("{}:{cert}", pki.dir().display()))]
        };
        let peer = HivePeer::start_env(epmd.port(), &format!("hpref{i}"), COOKIE, &env);
        // The peer initiates.
        let back = peer.call(&tup(vec![
            atom("ping_node"),
            atom("none"),
            atom("htref@localhost"),
        ]));
        assert_eq!(back, atom("pang"), "peer with {cert:?}");
        // We initiate (a plain peer reads a TLS hello as a handshake message to wait for:
        // bounded by its setup time).
        assert!(!ping(&rt, peer.name()), "peer with {cert:?}");
        assert!(dist_nodes(&rt).is_empty());
    }
}

fn dist_nodes(rt: &Runtime) -> Vec<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    run_normal(rt, move || tx.send(dist::nodes().unwrap()).unwrap());
    rx.recv().unwrap()
}

/// Unusable TLS files fail `dist_start` with `ErrTlsConfig`, and the node can then start
/// with good ones.
#[test]
fn tls_bad_files_are_an_error() {
    let Some(epmd) = private_epmd() else {
        return;
    };
    let pki = Pki::new("bad");
    let rt = common::rt(1);
    let missing = TlsOptions::new(
        pki.dir().join("none.pem"),
        pki.dir().join("node.key"),
        pki.dir().join("ca.pem"),
    );
    let not_a_key = TlsOptions::new(
        pki.dir().join("node.pem"),
        pki.dir().join("node.pem"),
        pki.dir().join("ca.pem"),
    );
    let wrong_key = TlsOptions::new(
        pki.dir().join("node.pem"),
        pki.dir().join("rogue.key"),
        pki.dir().join("ca.pem"),
    );
    let no_ca = TlsOptions::new(
        pki.dir().join("node.pem"),
        pki.dir().join("node.key"),
        pki.dir().join("node.key"),
    );
    for (what, o) in [
        ("missing", missing),
        ("not a key", not_a_key),
        ("wrong key", wrong_key),
        ("no CA", no_ca),
    ] {
        let e = rt.dist_start(options(&epmd, "htbad", Some(o))).unwrap_err();
        assert_eq!(e.0, Status::ErrTlsConfig, "{what}");
    }
    rt.dist_start(options(&epmd, "htbad", Some(pki.opts("node"))))
        .expect("good files");
    rt.dist_stop().unwrap();
}
