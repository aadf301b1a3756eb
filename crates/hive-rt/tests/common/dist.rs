//! Helpers shared by the distribution tests (`dist_erl*.rs`, `dist_hive.rs`): a private
//! EPMD, a Hive node registered with it, an `erl` node on it, and running a Hive process
//! that must end normally.

use std::net::SocketAddr;

use hive_rt::dist::{etf, Discovery, NodeInfo, Options};
use hive_rt::{ExitReason, Runtime};

use super::erl::{require_erl, Epmd, ErlNode};
use super::hive_peer::{is_nodedown, reason_str, TICK_MS};
use hive_rt::{process, MessageKind, Pid};

/// The cookie of every node of the distribution tests.
pub(crate) const COOKIE: &str = "hivecookie";

/// A private EPMD for one test, or `None` when the test is skipped (`require_erl`: erl is
/// missing and `HIVE_SKIP_ERL` is set; missing without it panics).
pub(crate) fn private_epmd() -> Option<Epmd> {
    require_erl().then(Epmd::start)
}

/// A Hive node `name@localhost` (2 schedulers, any loopback port) registered with `epmd`,
/// with `cookie` and ticks every `tick_time_ms`; checks the name it got. Returns what
/// `dist_start` reported as well.
pub(crate) fn start_hive_node(
    epmd: &Epmd,
    name: &str,
    cookie: &str,
    tick_time_ms: u32,
) -> (Runtime, NodeInfo) {
    let rt = super::rt(2);
    let info = rt
        .dist_start(Options {
            name: format!("{name}@localhost"),
            cookie: Some(cookie.into()),
            listen: "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
            discovery: Discovery::Epmd(epmd.port()),
            start_epmd: false,
            tick_time_ms,
            ..Options::default()
        })
        .expect("dist_start");
    assert_eq!(info.name, format!("{name}@localhost"));
    (rt, info)
}

/// A Hive node `name@localhost` on `epmd` with [`COOKIE`] and a tick time of
/// [`TICK_MS`].
pub(crate) fn hive_node(epmd: &Epmd, name: &str) -> Runtime {
    start_hive_node(epmd, name, COOKIE, TICK_MS).0
}

/// An `erl` node `name@localhost` on `epmd` with [`COOKIE`], `net_ticktime` 4 (as
/// [`TICK_MS`]) and the further arguments `extra`.
pub(crate) fn erl_with(epmd: &Epmd, name: &str, extra: &[&str]) -> ErlNode {
    let mut args = vec!["-kernel", "net_ticktime", "4"];
    args.extend_from_slice(extra);
    ErlNode::start(epmd, name, COOKIE, &args)
}

/// An `erl` node `name@localhost` on `epmd` with [`COOKIE`] and `net_ticktime` 4.
pub(crate) fn erl(epmd: &Epmd, name: &str) -> ErlNode {
    erl_with(epmd, name, &[])
}

/// An exit reason for failure messages: its kind, and its data as a term if it is one,
/// else as text (a panic's message).
pub(crate) fn show_reason(r: &ExitReason) -> String {
    let text = etf::decode(r.data()).map_or_else(
        |_| String::from_utf8_lossy(r.data()).into_owned(),
        |t| t.to_string(),
    );
    format!("{:?}: {text}", r.kind())
}

/// Runs `f` as a process of `rt` and checks it ended normally.
pub(crate) fn run_normal(rt: &Runtime, f: impl FnOnce() + Send + 'static) {
    let reason = rt.run(f).unwrap();
    assert!(reason.is_normal(), "{}", show_reason(&reason));
}

/// What a connection loss must give the test process: the EXIT of each of `links`, the
/// DOWN of each of `mons` (all `noconnection`), and one `{nodedown, node}`; exactly these
/// (each waited for at most `timeout` ms).
pub(crate) fn expect_loss(node: &str, links: &[Pid], mons: &[(u64, Pid)], timeout: Option<u32>) {
    let mut want: Vec<String> = links
        .iter()
        .map(|p| format!("EXIT {p:?} noconnection"))
        .chain(
            mons.iter()
                .map(|(m, p)| format!("DOWN {m} {p:?} noconnection")),
        )
        .collect();
    want.push(format!("nodedown {node}"));
    want.sort();
    let mut got = Vec::new();
    while got.len() < want.len() {
        let m = process::receive_select(timeout, |m| {
            matches!(m.kind(), MessageKind::Exit | MessageKind::Down) || is_nodedown(m)
        })
        .unwrap_or_else(|e| panic!("{e:?}: have {got:?}, want {want:?}"));
        got.push(match m.kind() {
            MessageKind::Exit => {
                format!("EXIT {:?} {}", m.sender(), reason_str(&m.reason().unwrap()))
            }
            MessageKind::Down => format!(
                "DOWN {} {:?} {}",
                m.monitor_ref(),
                m.sender(),
                reason_str(&m.reason().unwrap())
            ),
            _ => {
                let t = etf::decode(m.data()).unwrap();
                format!("nodedown {}", t.as_tuple().unwrap()[1].as_atom().unwrap())
            }
        });
    }
    got.sort();
    assert_eq!(got, want);
}
