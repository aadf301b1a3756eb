//! The handshake in both roles ([`initiate`], [`accept`]) and both framings, against a
//! scripted hostile peer: a sequence of the peer's messages, mutated, read by the
//! handshake through a stream that records what it writes.
//!
//! The handshake's own challenge is random (`getrandom`), so a scripted peer could never
//! answer it: a script's [`Seg::Lazy`] message is computed when the handshake reaches it,
//! from what the handshake wrote (the acceptor's challenge, or the initiator's challenge
//! reply), and may itself be mutated by a seeded [`mutate`]. So mutated peers reach every
//! step, up to and including a completed handshake.

use std::io::{self, Read, Write};

use super::{hex, mutate, run, Bound, Rng, Target};
use crate::dist::flags::{self, ADVERTISED, NAME_ME};
use crate::dist::handshake::{
    accept, digest, initiate, Framing, HandshakeError, Local, PeerInfo, Verdict, MAX_MESSAGE,
};

const COOKIE: &[u8] = b"hivecookie";

/// Inputs under plain `cargo test` (debug).
const DEFAULT_ITERS: u64 = 10_000;

/// Bytes that start handshake messages, and statuses' first letters.
const TAGS: &[u8] = b"NnsrcaoktfN";

/// What the handshake reads when it reaches a lazy message.
#[derive(Clone, Copy, Debug)]
enum Lazy {
    /// The initiator's `challenge_reply` to the acceptor's challenge (found in the
    /// acceptor's output).
    Reply,
    /// The acceptor's `challenge_ack` of the initiator's challenge (found in the
    /// initiator's output).
    Ack,
}

#[derive(Clone, Debug)]
enum Seg {
    Bytes(Vec<u8>),
    /// Computed when read, then mutated with this seed if any.
    Lazy(Lazy, Option<u64>),
}

/// One hostile peer.
#[derive(Clone, Debug)]
pub(super) struct Case {
    initiator: bool,
    framing: Framing,
    /// The acceptor's answer to the peer's name.
    verdict: Verdict,
    segs: Vec<Seg>,
}

fn framed(framing: Framing, body: &[u8]) -> Vec<u8> {
    let mut b = match framing {
        Framing::Len2 => (body.len() as u16).to_be_bytes().to_vec(),
        Framing::Len4 => (body.len() as u32).to_be_bytes().to_vec(),
    };
    b.extend_from_slice(body);
    b
}

/// The messages in `out` (a framed stream), as far as they parse.
fn messages(framing: Framing, mut out: &[u8]) -> Vec<&[u8]> {
    let h = match framing {
        Framing::Len2 => 2,
        Framing::Len4 => 4,
    };
    let mut v = Vec::new();
    while out.len() >= h {
        let len = out[..h]
            .iter()
            .fold(0usize, |a, &x| (a << 8) | usize::from(x));
        if out.len() < h + len {
            break;
        }
        v.push(&out[h..h + len]);
        out = &out[h + len..];
    }
    v
}

/// The lazy message for what the handshake has written so far.
fn resolve(c: &Case, what: Lazy, out: &[u8]) -> Vec<u8> {
    let msgs = messages(c.framing, out);
    let challenge = |tag: u8, at: usize| {
        msgs.iter()
            .rev()
            .find(|m| m.first() == Some(&tag) && m.len() >= at + 4)
            .map_or(0, |m| {
                u32::from_be_bytes([m[at], m[at + 1], m[at + 2], m[at + 3]])
            })
    };
    let body = match what {
        Lazy::Reply => {
            let mut b = vec![b'r', 1, 2, 3, 4];
            b.extend(digest(challenge(b'N', 9), COOKIE));
            b
        }
        Lazy::Ack => {
            let mut b = vec![b'a'];
            b.extend(digest(challenge(b'r', 1), COOKIE));
            b
        }
    };
    framed(c.framing, &body)
}

/// The peer's side of the connection: reads come from the case's messages, writes are
/// recorded.
struct Peer<'a> {
    case: &'a Case,
    seg: usize,
    at: usize,
    lazy: Option<Vec<u8>>,
    out: Vec<u8>,
}

impl Read for Peer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(seg) = self.case.segs.get(self.seg) else {
                return Ok(0);
            };
            if let (Seg::Lazy(what, m), None) = (seg, &self.lazy) {
                let mut b = resolve(self.case, *what, &self.out);
                if let Some(seed) = m {
                    mutate(&mut Rng::new(*seed), &mut b, &[], TAGS, 256);
                }
                self.lazy = Some(b);
            }
            let bytes = match seg {
                Seg::Bytes(b) => &b[..],
                Seg::Lazy(..) => self.lazy.as_deref().unwrap_or_default(),
            };
            if self.at >= bytes.len() {
                self.seg += 1;
                self.at = 0;
                self.lazy = None;
                continue;
            }
            let n = buf.len().min(bytes.len() - self.at);
            buf[..n].copy_from_slice(&bytes[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
    }
}

impl Write for Peer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn name_msg(rng: &mut Rng, flags: u64, name: &str) -> Vec<u8> {
    let mut b = vec![b'N'];
    b.extend(flags.to_be_bytes());
    b.extend((rng.below(3) as u32 + 1).to_be_bytes()); // creation
    b.extend((name.len() as u16).to_be_bytes());
    b.extend(name.as_bytes());
    if rng.one_in(4) {
        b.extend(rng.bytes_below(8)); // extra bytes, ignored
    }
    b
}

/// Flags a peer sends: ours, the bare requirement, or with one required flag or more
/// missing, or asking for a dynamic name.
fn peer_flags(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => flags::REQUIRED,
        1 => ADVERTISED & !(1 << rng.below(64)),
        2 => ADVERTISED | NAME_ME,
        3 => rng.next_u64(),
        _ => ADVERTISED,
    }
}

/// A valid script for the initiator: the acceptor's status, its challenge, its ack.
fn initiator_seed(rng: &mut Rng, framing: Framing) -> Vec<Seg> {
    let status: &[u8] = rng.pick(&[
        b"sok",
        b"sok",
        b"sok_simultaneous",
        b"salive",
        b"snok",
        b"snot_allowed",
        b"snamed:",
    ]);
    let f = peer_flags(rng);
    let mut ch = name_msg(rng, f, "b@localhost");
    // The challenge sits between the flags and the creation.
    let challenge = rng.next_u64() as u32;
    ch.splice(9..9, challenge.to_be_bytes());
    vec![
        Seg::Bytes(framed(framing, status)),
        Seg::Bytes(framed(framing, &ch)),
        Seg::Lazy(Lazy::Ack, None),
    ]
}

/// A valid script for the acceptor: the initiator's name (new or old form), its answer to
/// `alive`, its complement after an old name, its challenge reply.
fn acceptor_seed(rng: &mut Rng, framing: Framing, verdict: Verdict) -> Vec<Seg> {
    let old = rng.one_in(4);
    let f = peer_flags(rng);
    let name = if old {
        let mut b = vec![b'n', 0, 5];
        b.extend((f as u32).to_be_bytes());
        b.extend(b"a@localhost");
        b
    } else {
        name_msg(rng, f, "a@localhost")
    };
    let mut segs = vec![Seg::Bytes(framed(framing, &name))];
    if verdict == Verdict::Alive {
        let answer: &[u8] = rng.pick(&[b"strue", b"strue", b"sfalse", b"smaybe"]);
        segs.push(Seg::Bytes(framed(framing, answer)));
    }
    if old {
        let mut c = vec![b'c'];
        c.extend(((f >> 32) as u32).to_be_bytes());
        c.extend(5u32.to_be_bytes());
        segs.push(Seg::Bytes(framed(framing, &c)));
    }
    segs.push(Seg::Lazy(Lazy::Reply, None));
    segs
}

fn seed(rng: &mut Rng, initiator: bool) -> Case {
    let framing = if rng.one_in(2) {
        Framing::Len2
    } else {
        Framing::Len4
    };
    let verdict = rng.pick(&[
        Verdict::Ok,
        Verdict::Ok,
        Verdict::OkSimultaneous,
        Verdict::Alive,
        Verdict::Nok,
        Verdict::NotAllowed,
    ]);
    let segs = if initiator {
        initiator_seed(rng, framing)
    } else {
        acceptor_seed(rng, framing, verdict)
    };
    Case {
        initiator,
        framing,
        verdict,
        segs,
    }
}

/// The case's bytes (lazy messages as they would be without a handshake behind them).
fn flat(c: &Case) -> Vec<u8> {
    let mut v = Vec::new();
    for s in &c.segs {
        match s {
            Seg::Bytes(b) => v.extend(b),
            Seg::Lazy(what, _) => v.extend(resolve(c, *what, &[])),
        }
    }
    v
}

fn mutate_case(rng: &mut Rng, c: &mut Case) {
    let donors = vec![flat(&seed(rng, c.initiator))];
    for _ in 0..1 + rng.below(3) {
        let n = c.segs.len();
        match rng.below(12) {
            0 if n > 0 => {
                c.segs.remove(rng.below(n));
            }
            1 if n > 0 => {
                let s = c.segs[rng.below(n)].clone();
                c.segs.insert(rng.below(n + 1), s);
            }
            2 if n > 1 => {
                let (i, j) = (rng.below(n), rng.below(n));
                c.segs.swap(i, j);
            }
            3 => {
                // One stream, mutated across message boundaries.
                let mut b = flat(c);
                mutate(rng, &mut b, &donors, TAGS, 4 * 1024);
                c.segs = vec![Seg::Bytes(b)];
            }
            4 => {
                c.framing = match c.framing {
                    Framing::Len2 => Framing::Len4,
                    Framing::Len4 => Framing::Len2,
                }
            }
            5 => c.verdict = rng.pick(&[Verdict::Ok, Verdict::Alive, Verdict::Nok]),
            6 if n > 0 => {
                let i = rng.below(n);
                if let Seg::Lazy(_, m) = &mut c.segs[i] {
                    *m = Some(rng.next_u64());
                }
            }
            7 => {
                let b = rng.bytes_below(32);
                c.segs.insert(rng.below(n + 1), Seg::Bytes(b));
            }
            _ if n > 0 => {
                let i = rng.below(n);
                if let Seg::Bytes(b) = &mut c.segs[i] {
                    mutate(rng, b, &donors, TAGS, 4 * 1024);
                }
            }
            _ => {}
        }
    }
}

fn make(rng: &mut Rng, pool: &[Case], initiator: bool) -> Case {
    match rng.below(16) {
        0 => Case {
            segs: vec![Seg::Bytes(rng.bytes_below(64))],
            ..seed(rng, initiator)
        },
        1..=3 => seed(rng, initiator),
        _ => {
            let mut c = if !pool.is_empty() && rng.one_in(2) {
                rng.choose(pool).clone()
            } else {
                seed(rng, initiator)
            };
            mutate_case(rng, &mut c);
            c
        }
    }
}

fn make_initiator(rng: &mut Rng, pool: &[Case]) -> Case {
    make(rng, pool, true)
}

fn make_acceptor(rng: &mut Rng, pool: &[Case]) -> Case {
    make(rng, pool, false)
}

/// The result, what the handshake wrote, and the name `decide` was asked about.
type Out = (Result<PeerInfo, HandshakeError>, Vec<u8>, Option<String>);

fn exec(c: &Case) -> Out {
    let mut asked = None;
    let mut peer = Peer {
        case: c,
        seg: 0,
        at: 0,
        lazy: None,
        out: Vec::new(),
    };
    let r = if c.initiator {
        let me = Local {
            name: "a@localhost",
            creation: 11,
            flags: ADVERTISED,
            cookie: COOKIE,
        };
        initiate(&mut peer, &me, c.framing, "b@localhost")
    } else {
        let me = Local {
            name: "b@localhost",
            creation: 22,
            flags: ADVERTISED,
            cookie: COOKIE,
        };
        accept(&mut peer, &me, c.framing, |name, _| {
            asked = Some(name.to_owned());
            c.verdict
        })
    };
    (r, peer.out, asked)
}

fn check(c: &Case, (r, out, asked): Out) -> bool {
    // Everything written is whole messages of at most MAX_MESSAGE bytes.
    let msgs = messages(c.framing, &out);
    let written: usize = msgs.iter().map(|m| m.len()).sum::<usize>()
        + msgs.len()
            * match c.framing {
                Framing::Len2 => 2,
                Framing::Len4 => 4,
            };
    assert_eq!(written, out.len(), "a partial message written");
    assert!(msgs.iter().all(|m| !m.is_empty() && m.len() <= MAX_MESSAGE));
    let acked = msgs.iter().any(|m| m.first() == Some(&b'a'));
    if !c.initiator {
        // The acceptor acknowledges only a right digest, and then succeeds.
        assert_eq!(acked, r.is_ok(), "ack written: {acked}, result {r:?}");
    }
    match &r {
        Ok(p) => {
            if c.initiator {
                assert_eq!(p.name, "b@localhost");
            } else {
                assert_eq!(asked.as_deref(), Some(p.name.as_str()));
                assert!(p
                    .name
                    .split_once('@')
                    .is_some_and(|(a, h)| !a.is_empty() && !h.is_empty()));
            }
            assert_eq!(flags::missing_mandatory(p.flags), 0);
            if !c.initiator {
                assert!(matches!(
                    c.verdict,
                    Verdict::Ok | Verdict::OkSimultaneous | Verdict::Alive
                ));
            }
        }
        Err(HandshakeError::Refused(s)) if !c.initiator && s != "false" => {
            assert_eq!(Some(s.as_str()), c.verdict_text());
        }
        Err(_) => {}
    }
    r.is_ok()
}

impl Case {
    fn verdict_text(&self) -> Option<&'static str> {
        match self.verdict {
            Verdict::Nok => Some("nok"),
            Verdict::NotAllowed => Some("not_allowed"),
            _ => None,
        }
    }
}

/// The peer's bytes; a lazy message counts as the 64 bytes it may grow to.
fn len(c: &Case) -> usize {
    c.segs
        .iter()
        .map(|s| match s {
            Seg::Bytes(b) => b.len(),
            Seg::Lazy(..) => 64,
        })
        .sum()
}

fn show(c: &Case) -> String {
    let segs: Vec<String> = c
        .segs
        .iter()
        .map(|s| match s {
            Seg::Bytes(b) => hex(b),
            Seg::Lazy(what, m) => format!("<{what:?} mutated by {m:?}>"),
        })
        .collect();
    format!(
        "{} {:?} {:?} [{}]",
        if c.initiator { "initiate" } else { "accept" },
        c.framing,
        c.verdict,
        segs.join(" ")
    )
}

/// The bound: what the peer sent, held at most twice (a message body, and the node name
/// or status copied out of it), and our own messages (under 4 KiB). `read_msg` grows a
/// body with the bytes that arrive, not with its length header, so a peer that announces
/// 64 KiB and sends 6 bytes costs 6 bytes.
fn bound() -> Bound {
    Bound {
        per_byte: 3,
        fixed: 4 * 1024,
    }
}

#[test]
fn fuzz_handshake_initiate() {
    run(&Target {
        name: "handshake_initiate",
        default_iters: DEFAULT_ITERS,
        bound: bound(),
        strict: None,
        make: make_initiator,
        len,
        show,
        exec,
        check,
    });
}

#[test]
fn fuzz_handshake_accept() {
    run(&Target {
        name: "handshake_accept",
        default_iters: DEFAULT_ITERS,
        bound: bound(),
        strict: None,
        make: make_acceptor,
        len,
        show,
        exec,
        check,
    });
}
