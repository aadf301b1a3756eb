//! Distribution frames as a connection receives them: a byte stream cut into frames by
//! the active-mode framing (`{packet, 4}`, `io::frame`), each frame carried out by
//! `dispatch::frame` on a node of a live runtime, as the controller does, until a frame is
//! refused (the controller then drops the connection). Every control message the dispatcher
//! knows is among the seeds, with pids and references of this node, of the peer and of
//! others, and payloads of every kind.
//!
//! The node is `hive@localhost` (creation 7), connected to `peer@localhost` (creation 9);
//! its runtime runs no process, so requests are answered `noproc` and replies queue up in
//! the connection's output buffer, whose frames must all be well formed.

// The targets' functions take `&C`, here `&Vec<u8>`.
#![allow(clippy::ptr_arg)]

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use super::etf_gen::{self, TAGS};
use super::{hex, mutate, run, Bound, Rng, Target};
use crate::dist::control::{op, push_frame, split_frame, Payload};
use crate::dist::etf::{to_vec, Atom, ExtPid, ExtRef, Term};
use crate::dist::ids::Me;
use crate::dist::node::{Discovery, Node, Phase, Settings};
use crate::io::frame::{Next, Packet, RxState};
use crate::runtime::RtInner;

const MAX_LEN: usize = 16 * 1024;

/// Inputs under plain `cargo test` (debug).
const DEFAULT_ITERS: u64 = 5_000;

thread_local! {
    /// The runtime the nodes of this thread's inputs belong to.
    static RT: RefCell<Weak<RtInner>> = const { RefCell::new(Weak::new()) };
}

fn me() -> Atom {
    Atom::new("hive@localhost").expect("short atom")
}

fn peer() -> Atom {
    Atom::new("peer@localhost").expect("short atom")
}

/// A pid of this node (a process that does not exist: the runtime runs none), of the
/// peer, or random.
fn pid(rng: &mut Rng) -> Term {
    let (node, creation) = match rng.below(4) {
        0 => (me(), 7),
        1 | 2 => (peer(), 9),
        _ => return Term::Pid(etf_gen::pid(rng)),
    };
    Term::Pid(ExtPid {
        node,
        id: rng.below(64) as u32,
        serial: rng.below(3) as u32,
        creation,
    })
}

/// A reference of this node (as an alias or monitor reference would be), or any.
fn reference(rng: &mut Rng) -> Term {
    if rng.one_in(2) {
        return Term::Ref(etf_gen::reference(rng));
    }
    Term::Ref(ExtRef {
        node: if rng.one_in(2) { me() } else { peer() },
        creation: if rng.one_in(2) { 7 } else { 9 },
        ids: vec![rng.below(100) as u32, 0, 0],
    })
}

fn reason(rng: &mut Rng) -> Term {
    if rng.one_in(2) {
        return Term::atom(rng.pick(&["normal", "kill", "killed", "noproc", "shutdown"]));
    }
    etf_gen::term(rng, 3)
}

fn int(o: i64) -> Term {
    Term::Int(o)
}

fn tuple(v: Vec<Term>) -> Term {
    Term::Tuple(v)
}

/// One control message and its payload, if any, for a random operation.
fn message(rng: &mut Rng) -> (Term, Option<Term>) {
    let payload = |rng: &mut Rng| Some(etf_gen::term(rng, 3));
    let token = |rng: &mut Rng| etf_gen::term(rng, 1);
    let (a, b) = (pid(rng), pid(rng));
    match rng.below(24) {
        0 => (tuple(vec![int(op::SEND), Term::atom(""), b]), payload(rng)),
        1 => {
            let t = token(rng);
            (
                tuple(vec![int(op::SEND_TT), Term::atom(""), b, t]),
                payload(rng),
            )
        }
        2 => (tuple(vec![int(op::SEND_SENDER), a, b]), payload(rng)),
        3 => {
            if rng.one_in(2) {
                // net_kernel's is_auth call, which the node answers.
                let call = tuple(vec![
                    Term::atom("$gen_call"),
                    tuple(vec![a.clone(), reference(rng)]),
                    tuple(vec![Term::atom("is_auth"), Term::atom("peer@localhost")]),
                ]);
                let ctl = tuple(vec![
                    int(op::REG_SEND),
                    a,
                    Term::atom(""),
                    Term::atom("net_kernel"),
                ]);
                (ctl, Some(call))
            } else {
                let name = Term::Atom(etf_gen::atom(rng));
                (
                    tuple(vec![int(op::REG_SEND), a, Term::atom(""), name]),
                    payload(rng),
                )
            }
        }
        4 => (
            tuple(vec![int(op::ALIAS_SEND), a, reference(rng)]),
            payload(rng),
        ),
        5 => (tuple(vec![int(op::LINK), a, b]), None),
        6 => (tuple(vec![int(op::UNLINK), a, b]), None),
        7 => {
            let id = etf_gen::leaf(rng);
            (tuple(vec![int(op::UNLINK_ID), id, a, b]), None)
        }
        8 => (tuple(vec![int(op::EXIT), a, b, reason(rng)]), None),
        9 => {
            let t = token(rng);
            (tuple(vec![int(op::EXIT_TT), a, b, t, reason(rng)]), None)
        }
        10 => (tuple(vec![int(op::PAYLOAD_EXIT), a, b]), Some(reason(rng))),
        11 => (tuple(vec![int(op::EXIT2), a, b, reason(rng)]), None),
        12 => (tuple(vec![int(op::PAYLOAD_EXIT2), a, b]), Some(reason(rng))),
        13 => {
            let target = if rng.one_in(2) {
                b
            } else {
                Term::atom(rng.pick(&["net_kernel", "nobody", "rex"]))
            };
            (
                tuple(vec![int(op::MONITOR_P), a, target, reference(rng)]),
                None,
            )
        }
        14 => (
            tuple(vec![int(op::DEMONITOR_P), a, b, reference(rng)]),
            None,
        ),
        15 => (
            tuple(vec![
                int(op::MONITOR_P_EXIT),
                a,
                b,
                reference(rng),
                reason(rng),
            ]),
            None,
        ),
        16 => (
            tuple(vec![int(op::PAYLOAD_MONITOR_P_EXIT), a, b, reference(rng)]),
            Some(reason(rng)),
        ),
        17 => {
            let mfa = tuple(vec![
                Term::atom("m"),
                Term::atom("f"),
                int(rng.below(3) as i64),
            ]);
            let opts = Term::list(
                (0..rng.below(3))
                    .map(|_| Term::atom(rng.pick(&["link", "monitor", "x"])))
                    .collect(),
            );
            let args = Term::list((0..rng.below(3)).map(|_| etf_gen::leaf(rng)).collect());
            let ctl = tuple(vec![
                int(op::SPAWN_REQUEST),
                reference(rng),
                a,
                b,
                mfa,
                opts,
            ]);
            (ctl, Some(args))
        }
        18 => {
            let result = if rng.one_in(2) {
                pid(rng)
            } else {
                Term::atom("undef")
            };
            let ctl = tuple(vec![
                int(op::SPAWN_REPLY),
                reference(rng),
                a,
                int(rng.below(4) as i64),
                result,
            ]);
            (ctl, None)
        }
        19 => (tuple(vec![int(rng.below(64) as i64), a, b]), payload(rng)),
        20 => (etf_gen::term(rng, 2), payload(rng)),
        21 => (
            tuple(vec![int(op::UNLINK_ID_ACK), etf_gen::leaf(rng), a, b]),
            None,
        ),
        _ => (
            tuple(vec![int(op::EXIT2_TT), a, b, token(rng), reason(rng)]),
            None,
        ),
    }
}

/// A valid stream: one to four frames, with a tick now and then.
fn stream(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(4) {
        if rng.one_in(8) {
            out.extend([0, 0, 0, 0]);
        }
        let (ctl, payload) = message(rng);
        let bytes = payload.as_ref().map(to_vec);
        push_frame(&mut out, &ctl, bytes.as_deref().map(Payload::Term));
    }
    out
}

fn make(rng: &mut Rng, pool: &[Vec<u8>]) -> Vec<u8> {
    match rng.below(16) {
        0 => rng.bytes_below(64),
        1..=4 => stream(rng),
        _ => {
            let mut b = if !pool.is_empty() && rng.one_in(2) {
                rng.choose(pool).clone()
            } else {
                stream(rng)
            };
            let mut donors = vec![stream(rng), etf_gen::seed(rng)];
            if !pool.is_empty() {
                donors.push(rng.choose(pool).clone());
            }
            mutate(rng, &mut b, &donors, TAGS, MAX_LEN);
            b
        }
    }
}

/// A node of the thread's runtime connected to `peer@localhost` (without a controller:
/// replies stay in the output buffer).
fn node() -> (Arc<Node>, Arc<crate::dist::node::Entry>) {
    let rt = RT.with(|r| r.borrow().clone());
    let node = Arc::new(Node::new(
        rt,
        Me {
            name: me(),
            creation: 7,
        },
        Settings {
            cookie: b"cookie".to_vec(),
            discovery: Discovery::FixedPort(1),
            tick_ms: 60_000,
            setup_ms: 7_000,
            flags: crate::dist::flags::ADVERTISED,
            busy_limit: 1 << 20,
            max_handshakes: 64,
            lanes: 1,
            tls: None,
            _mapper: None,
        },
    ));
    let entry = node.entry(&peer());
    {
        let mut s = entry.state.lock();
        s.phase = Phase::Up {
            creation: 9,
            flags: crate::dist::flags::ADVERTISED,
        };
        s.notified = true; // no controller to tell
    }
    (node, entry)
}

/// Frames carried out, whether every frame was, and the output buffer.
type Out = (usize, bool, Vec<u8>);

fn exec(input: &Vec<u8>) -> Out {
    let (node, entry) = node();
    let mut rx = RxState {
        packet: Packet::Len(4),
        ..RxState::default()
    };
    rx.buf.extend_from_slice(input);
    let (mut frames, mut ok) = (0, true);
    loop {
        match rx.next() {
            Next::Frame {
                start,
                end,
                consumed,
            } => {
                if end > start {
                    if crate::dist::dispatch::frame(&node, &entry, &rx.buf[start..end]).is_err() {
                        ok = false;
                        break;
                    }
                    frames += 1;
                }
                rx.consume(consumed);
            }
            Next::More => break,
            Next::TooLarge => {
                ok = false;
                break;
            }
        }
    }
    let out = std::mem::take(&mut entry.state.lock().out);
    (frames, ok, out)
}

fn check(_: &Vec<u8>, (frames, ok, out): Out) -> bool {
    // What the node queued in answer is well formed.
    let mut rest = &out[..];
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let f = &rest[4..4 + len];
        assert!(
            split_frame(f).is_ok(),
            "a reply frame does not decode: {}",
            hex(f)
        );
        rest = &rest[4 + len..];
    }
    ok && frames > 0
}

fn len(b: &Vec<u8>) -> usize {
    b.len()
}

fn show(b: &Vec<u8>) -> String {
    hex(b)
}

#[test]
fn fuzz_dist_frames() {
    let rt = crate::Runtime::new(crate::Config {
        schedulers: 1,
        ..crate::Config::default()
    })
    .expect("runtime");
    RT.with(|r| *r.borrow_mut() = Arc::downgrade(&rt.inner));
    let decoder = super::etf::decoder_bound();
    run(&Target {
        name: "dist_frames",
        default_iters: DEFAULT_ITERS,
        // The control term is decoded (the decoder's bound); an answer may echo parts of
        // it (the id of an `UNLINK_ID`, the request of a `SPAWN_REQUEST`, cloned): at most
        // the whole term once more. A payload is decoded only when it is a `net_kernel`
        // call or an exit reason (its own bytes, not the control term's), and copied into a
        // message or an exit reason; the answers are encoded into the output buffer
        // (re-encoding takes at most twice the bytes: Latin-1 atoms become UTF-8). The
        // node and its connection entry, made per input, take about 2 KiB.
        bound: Bound {
            per_byte: 2 * decoder.per_byte + 8,
            fixed: decoder.fixed + 8 * 1024,
        },
        strict: None,
        make,
        len,
        show,
        exec,
        check,
    });
    RT.with(|r| *r.borrow_mut() = Weak::new());
    rt.shutdown();
}
