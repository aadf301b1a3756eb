//! Unit tests of the handshake: both roles against each other over loopback TCP, and
//! scripted peers for the malformed and old-style cases.

use crate::dist::script_stream::Script;
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use super::*;
use crate::dist::flags::{self, ADVERTISED};

const COOKIE: &[u8] = b"hivecookie";

/// A connected loopback pair (client, server) with 5 s timeouts, so a failing test ends.
fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    for t in [&c, &s] {
        t.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        t.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    (c, s)
}

fn local<'a>(name: &'a str, creation: u32, flags: u64, cookie: &'a [u8]) -> Local<'a> {
    Local {
        name,
        creation,
        flags,
        cookie,
    }
}

type Both = (
    Result<PeerInfo, HandshakeError>,
    Result<PeerInfo, HandshakeError>,
);

/// Runs `a@localhost` (initiator) against `b@localhost` (acceptor) in two threads.
fn run(
    a_flags: u64,
    a_cookie: &'static [u8],
    b_flags: u64,
    b_cookie: &'static [u8],
    framing: Framing,
    verdict: Verdict,
) -> Both {
    let (mut c, mut s) = pair();
    let acceptor = thread::spawn(move || {
        let me = local("b@localhost", 22, b_flags, b_cookie);
        let r = accept(&mut s, &me, framing, |name, creation| {
            assert_eq!(name, "a@localhost");
            assert_eq!(creation, 11);
            verdict
        });
        drop(s); // closing is the caller's job on error
        r
    });
    let me = local("a@localhost", 11, a_flags, a_cookie);
    let a = initiate(&mut c, &me, framing, "b@localhost");
    drop(c);
    (a, acceptor.join().unwrap())
}

#[test]
fn digest_matches_md5_of_cookie_and_decimal() {
    // python3: hashlib.md5(b'hivecookie' + b'4294967295').digest()
    let want = [
        99, 65, 196, 116, 32, 0, 177, 173, 147, 255, 35, 124, 53, 83, 73, 151,
    ];
    assert_eq!(digest(u32::MAX, COOKIE), want);
    assert!(digest_eq(&want, &want));
    assert!(!digest_eq(&want[..15], &want));
}

#[test]
fn random_challenges_differ() {
    let xs: Vec<u32> = (0..8).map(|_| random_u32().unwrap()).collect();
    assert!(xs.windows(2).any(|w| w[0] != w[1]));
}

#[test]
fn ok_both_framings() {
    for framing in [Framing::Len2, Framing::Len4] {
        let (a, b) = run(ADVERTISED, COOKIE, ADVERTISED, COOKIE, framing, Verdict::Ok);
        let a = a.unwrap();
        let b = b.unwrap();
        assert_eq!(a.name, "b@localhost");
        assert_eq!(a.creation, 22);
        assert_eq!(b.name, "a@localhost");
        assert_eq!(b.creation, 11);
        assert_eq!(flags::negotiate(ADVERTISED, a.flags), ADVERTISED);
        assert_eq!(flags::negotiate(ADVERTISED, b.flags), ADVERTISED);
    }
}

#[test]
fn ok_simultaneous_and_alive_continue() {
    for v in [Verdict::OkSimultaneous, Verdict::Alive] {
        let (a, b) = run(ADVERTISED, COOKIE, ADVERTISED, COOKIE, Framing::Len2, v);
        assert_eq!(a.unwrap().name, "b@localhost", "{v:?}");
        assert_eq!(b.unwrap().name, "a@localhost", "{v:?}");
    }
}

#[test]
fn wrong_cookie_is_bad_cookie_on_both_sides() {
    let (a, b) = run(
        ADVERTISED,
        COOKIE,
        ADVERTISED,
        b"other",
        Framing::Len2,
        Verdict::Ok,
    );
    assert!(matches!(a, Err(HandshakeError::BadCookie)), "{a:?}");
    assert!(matches!(b, Err(HandshakeError::BadCookie)), "{b:?}");
}

#[test]
fn nok_and_not_allowed_are_refused() {
    for (v, st) in [(Verdict::Nok, "nok"), (Verdict::NotAllowed, "not_allowed")] {
        let (a, b) = run(ADVERTISED, COOKIE, ADVERTISED, COOKIE, Framing::Len2, v);
        assert!(
            matches!(&a, Err(HandshakeError::Refused(s)) if s == st),
            "{a:?}"
        );
        assert!(
            matches!(&b, Err(HandshakeError::Refused(s)) if s == st),
            "{b:?}"
        );
    }
}

#[test]
fn initiator_missing_flags_gets_not_allowed() {
    let (c, mut s) = pair();
    let acceptor = thread::spawn(move || {
        let me = local("b@localhost", 22, ADVERTISED, COOKIE);
        accept(&mut s, &me, Framing::Len2, |_, _| panic!("decide called"))
    });
    let mut c = c;
    // Without the digest too, which would stand for MAP_TAG.
    let a_flags = ADVERTISED & !flags::MAP_TAG & !flags::V4_NC & !flags::MANDATORY_25_DIGEST;
    let me = local("a@localhost", 11, a_flags, COOKIE);
    let a = initiate(&mut c, &me, Framing::Len2, "b@localhost");
    assert!(
        matches!(&a, Err(HandshakeError::Refused(s)) if s == "not_allowed"),
        "{a:?}"
    );
    let b = acceptor.join().unwrap();
    assert!(
        matches!(b, Err(HandshakeError::MissingFlags(m)) if m == flags::MAP_TAG | flags::V4_NC),
        "{b:?}"
    );
}

#[test]
fn acceptor_missing_flags_is_detected_by_initiator() {
    let (a, b) = run(
        ADVERTISED,
        COOKIE,
        ADVERTISED & !flags::UNLINK_ID,
        COOKIE,
        Framing::Len2,
        Verdict::Ok,
    );
    assert!(
        matches!(a, Err(HandshakeError::MissingFlags(flags::UNLINK_ID))),
        "{a:?}"
    );
    // The initiator closed after the challenge: the acceptor sees the stream end.
    assert!(matches!(b, Err(HandshakeError::Io(_))), "{b:?}");
}

#[test]
fn digest_flag_stands_for_the_otp25_set() {
    let only_digest = (ADVERTISED & !flags::MANDATORY_25) | flags::MANDATORY_25_DIGEST;
    let (a, b) = run(
        only_digest,
        COOKIE,
        ADVERTISED,
        COOKIE,
        Framing::Len2,
        Verdict::Ok,
    );
    a.unwrap();
    let b = b.unwrap();
    assert_eq!(b.flags & flags::MANDATORY_25, flags::MANDATORY_25);
}

#[test]
fn flags_negotiation_keeps_the_common_bits() {
    let a_flags = ADVERTISED | flags::PUBLISHED | flags::FRAGMENTS;
    let b_flags = (ADVERTISED & !flags::SPAWN & !flags::ALIAS) | flags::PUBLISHED;
    let (a, b) = run(a_flags, COOKIE, b_flags, COOKIE, Framing::Len2, Verdict::Ok);
    let (a, b) = (a.unwrap(), b.unwrap());
    let on_a = flags::negotiate(a_flags, a.flags);
    let on_b = flags::negotiate(b_flags, b.flags);
    assert_eq!(on_a, on_b);
    assert_eq!(on_a & (flags::SPAWN | flags::ALIAS | flags::FRAGMENTS), 0);
    assert_ne!(on_a & flags::PUBLISHED, 0);
    assert_eq!(flags::negotiate(ADVERTISED, a.flags) & flags::PUBLISHED, 0);
}

#[test]
fn initiator_checks_the_acceptor_name() {
    let (mut c, mut s) = pair();
    let acceptor = thread::spawn(move || {
        let me = local("b@localhost", 22, ADVERTISED, COOKIE);
        accept(&mut s, &me, Framing::Len2, |_, _| Verdict::Ok)
    });
    let me = local("a@localhost", 11, ADVERTISED, COOKIE);
    let a = initiate(&mut c, &me, Framing::Len2, "c@localhost");
    assert!(matches!(a, Err(HandshakeError::NameMismatch)), "{a:?}");
    drop(c);
    assert!(acceptor.join().unwrap().is_err());
}

fn framed2(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn send_name_n(flags: u64, creation: u32, name: &str, extra: &[u8]) -> Vec<u8> {
    let mut b = vec![b'N'];
    b.extend_from_slice(&flags.to_be_bytes());
    b.extend_from_slice(&creation.to_be_bytes());
    b.extend_from_slice(&(name.len() as u16).to_be_bytes());
    b.extend_from_slice(name.as_bytes());
    b.extend_from_slice(extra);
    b
}

fn accept_script(input: Vec<u8>, framing: Framing) -> (Result<PeerInfo, HandshakeError>, Vec<u8>) {
    let mut s = Script::new(input);
    let me = local("b@localhost", 22, ADVERTISED, COOKIE);
    let r = accept(&mut s, &me, framing, |_, _| Verdict::Ok);
    (r, s.output)
}

fn initiate_script(input: Vec<u8>, framing: Framing) -> Result<PeerInfo, HandshakeError> {
    let mut s = Script::new(input);
    let me = local("a@localhost", 11, ADVERTISED, COOKIE);
    initiate(&mut s, &me, framing, "b@localhost")
}

#[test]
fn oversized_messages_are_protocol_errors() {
    // A 4-byte header announcing 2 GiB, and one just over the limit: no allocation.
    for len in [0x7fff_ffffu32, MAX_MESSAGE as u32 + 1, u32::MAX] {
        let (r, out) = accept_script(len.to_be_bytes().to_vec(), Framing::Len4);
        assert!(matches!(r, Err(HandshakeError::Protocol(_))), "{r:?}");
        assert!(out.is_empty());
        let r = initiate_script(len.to_be_bytes().to_vec(), Framing::Len4);
        assert!(matches!(r, Err(HandshakeError::Protocol(_))), "{r:?}");
    }
    // Exactly 64 KiB is still read (and then rejected for its content).
    let mut big = (MAX_MESSAGE as u32).to_be_bytes().to_vec();
    big.resize(4 + MAX_MESSAGE, b'x');
    let (r, _) = accept_script(big, Framing::Len4);
    assert!(matches!(r, Err(HandshakeError::Protocol(_))), "{r:?}");
}

#[test]
fn truncated_and_malformed_messages_are_errors() {
    let good = send_name_n(ADVERTISED, 11, "a@localhost", b"");
    let cases: Vec<Vec<u8>> = vec![
        vec![],                                               // nothing
        vec![0],                                              // half a header
        vec![0, 0],                                           // empty message
        vec![0, 30, b'N', 0, 0],                              // body shorter than its header
        framed2(&good[..good.len() - 3]),                     // name cut short
        framed2(&good[..9]),                                  // flags cut short
        framed2(b"X"),                                        // unknown tag
        framed2(&send_name_n(ADVERTISED, 11, "nohost", b"")), // not name@host
        framed2(&send_name_n(ADVERTISED, 11, "@h", b"")),
        framed2(&[b'N', 0xff, 0xfe]),                         // garbage
        framed2(&[b'n', 0, 6, 0, 0, 0, 0, b'a', b'@', b'b']), // old form, version 6
    ];
    for (i, input) in cases.into_iter().enumerate() {
        let (r, _) = accept_script(input, Framing::Len2);
        assert!(
            matches!(r, Err(HandshakeError::Io(_) | HandshakeError::Protocol(_))),
            "case {i}: {r:?}"
        );
    }
    // A good send_name and then the stream ends: an I/O error after the status+challenge.
    let (r, out) = accept_script(framed2(&good), Framing::Len2);
    assert!(matches!(r, Err(HandshakeError::Io(_))), "{r:?}");
    assert_eq!(&out[..5], &[0, 3, b's', b'o', b'k']);
}

#[test]
fn initiator_rejects_bad_statuses_and_challenges() {
    let statuses: Vec<(&[u8], &str)> = vec![
        (b"sfoo", "protocol"),
        (b"snamed:", "protocol"),
        (b"x", "protocol"),
        (b"snok", "nok"),
        (b"snot_allowed", "not_allowed"),
    ];
    for (st, want) in statuses {
        let r = initiate_script(framed2(st), Framing::Len2);
        match (want, &r) {
            ("protocol", Err(HandshakeError::Protocol(_))) => {}
            (w, Err(HandshakeError::Refused(s))) if s == w => {}
            _ => panic!("{:?}: {r:?}", String::from_utf8_lossy(st)),
        }
    }
    // ok, then a truncated challenge.
    let mut input = framed2(b"sok");
    input.extend(framed2(&[b'N', 0, 0, 0]));
    let r = initiate_script(input, Framing::Len2);
    assert!(matches!(r, Err(HandshakeError::Protocol(_))), "{r:?}");
    // ok, then an old-style challenge.
    let mut input = framed2(b"sok");
    input.extend(framed2(&[
        b'n', 0, 5, 0, 0, 0, 0, 1, 2, 3, 4, b'b', b'@', b'l',
    ]));
    let r = initiate_script(input, Framing::Len2);
    assert!(matches!(r, Err(HandshakeError::Protocol(_))), "{r:?}");
}

#[test]
fn initiator_answers_alive_with_true_and_accepts_extra_bytes() {
    // A scripted acceptor: alive, then a challenge with trailing bytes, then EOF.
    let mut input = framed2(b"salive");
    let mut ch = vec![b'N'];
    ch.extend_from_slice(&ADVERTISED.to_be_bytes());
    ch.extend_from_slice(&7u32.to_be_bytes());
    ch.extend_from_slice(&22u32.to_be_bytes());
    ch.extend_from_slice(&11u16.to_be_bytes());
    ch.extend_from_slice(b"b@localhost");
    ch.extend_from_slice(b"extra bytes");
    input.extend(framed2(&ch));
    let mut s = Script::new(input);
    let me = local("a@localhost", 11, ADVERTISED, COOKIE);
    let r = initiate(&mut s, &me, Framing::Len2, "b@localhost");
    // No ack follows: the stream ends, which reads as a refused cookie.
    assert!(matches!(r, Err(HandshakeError::BadCookie)), "{r:?}");
    let out = s.output;
    let name_len = 2 + 1 + 8 + 4 + 2 + 11;
    assert_eq!(
        &out[name_len..name_len + 6],
        &[0, 5, b's', b't', b'r', b'u']
    );
    let reply = &out[name_len + 7..];
    assert_eq!(&reply[..3], &[0, 21, b'r']);
    assert_eq!(&reply[7..23], &digest(7, COOKIE));
}

#[test]
fn acceptor_alive_answered_false_is_refused() {
    let mut input = framed2(&send_name_n(ADVERTISED, 11, "a@localhost", b"tail"));
    input.extend(framed2(b"sfalse"));
    let mut s = Script::new(input);
    let me = local("b@localhost", 22, ADVERTISED, COOKIE);
    let r = accept(&mut s, &me, Framing::Len2, |_, _| Verdict::Alive);
    assert!(
        matches!(&r, Err(HandshakeError::Refused(s)) if s == "false"),
        "{r:?}"
    );
    assert_eq!(s.output, framed2(b"salive"));
}

#[test]
fn acceptor_refuses_name_me() {
    let input = framed2(&send_name_n(
        ADVERTISED | flags::NAME_ME,
        11,
        "a@localhost",
        b"",
    ));
    let (r, out) = accept_script(input, Framing::Len2);
    assert!(matches!(r, Err(HandshakeError::Protocol(_))), "{r:?}");
    assert_eq!(out, framed2(b"snot_allowed"));
}

/// A scripted old-style initiator ('n' send_name, then send_complement) against `accept`.
#[test]
fn acceptor_takes_the_old_send_name_with_complement() {
    let (mut c, mut s) = pair();
    let acceptor = thread::spawn(move || {
        let me = local("b@localhost", 22, ADVERTISED, COOKIE);
        accept(&mut s, &me, Framing::Len2, |name, creation| {
            assert_eq!((name, creation), ("a@localhost", 0));
            Verdict::Ok
        })
    });
    let low = (ADVERTISED & 0xffff_ffff) as u32;
    let high = (ADVERTISED >> 32) as u32;
    let mut name = vec![b'n', 0, 5];
    name.extend_from_slice(&low.to_be_bytes());
    name.extend_from_slice(b"a@localhost");
    write_msg(&mut c, Framing::Len2, &name).unwrap();
    assert_eq!(recv_status(&mut c, Framing::Len2).unwrap(), b"ok");
    let ch = read_msg(&mut c, Framing::Len2).unwrap();
    assert_eq!(ch[0], b'N');
    let challenge = u32::from_be_bytes(ch[9..13].try_into().unwrap());
    let mut comp = vec![b'c'];
    comp.extend_from_slice(&high.to_be_bytes());
    comp.extend_from_slice(&33u32.to_be_bytes());
    write_msg(&mut c, Framing::Len2, &comp).unwrap();
    let mut reply = vec![b'r'];
    reply.extend_from_slice(&99u32.to_be_bytes());
    reply.extend_from_slice(&digest(challenge, COOKIE));
    write_msg(&mut c, Framing::Len2, &reply).unwrap();
    let ack = read_msg(&mut c, Framing::Len2).unwrap();
    assert_eq!(ack[0], b'a');
    assert_eq!(&ack[1..], &digest(99, COOKIE));
    let peer = acceptor.join().unwrap().unwrap();
    assert_eq!(peer.creation, 33);
    assert_eq!(peer.flags, ADVERTISED);
}

#[test]
fn old_send_name_without_v4_nc_in_complement_is_refused() {
    let low = (ADVERTISED & 0xffff_ffff) as u32;
    let mut name = vec![b'n', 0, 5];
    name.extend_from_slice(&low.to_be_bytes());
    name.extend_from_slice(b"a@localhost");
    let mut input = framed2(&name);
    input.extend(framed2(&[b'c', 0, 0, 0, 0, 0, 0, 0, 33]));
    let (r, _) = accept_script(input, Framing::Len2);
    assert!(
        matches!(r, Err(HandshakeError::MissingFlags(flags::V4_NC))),
        "{r:?}"
    );
}
