//! Unit tests of the EPMD client against Hive's port mapper, and of the client's parsing
//! against scripted replies.

use std::io::{Read, Write};

use crate::dist::script_stream::Script;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use super::*;

fn connect(h: &PortMapperHandle) -> TcpStream {
    let s = TcpStream::connect(h.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn start() -> PortMapperHandle {
    PortMapper::start("127.0.0.1:0".parse().unwrap()).unwrap()
}

fn lookup(h: &PortMapperHandle, name: &str) -> Option<PortInfo> {
    port_please(&mut connect(h), name).unwrap()
}

/// Polls `f` for up to 5 s.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if f() {
            return true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    false
}

#[test]
fn register_lookup_and_unregister_on_close() {
    let h = start();
    let mut a = connect(&h);
    let mut b = connect(&h);
    let ca = alive2(&mut a, 5001, false, "alpha").unwrap();
    let cb = alive2(&mut b, 5002, true, "beta").unwrap();
    assert_ne!(ca, 0);
    assert_ne!(cb, 0);
    assert_ne!(ca, cb);
    assert_eq!(h.creation_of("alpha"), Some(ca));

    let pa = lookup(&h, "alpha").unwrap();
    assert_eq!(
        pa,
        PortInfo {
            port: 5001,
            hidden: false,
            highest: 6,
            lowest: 6
        }
    );
    assert!(lookup(&h, "beta").unwrap().hidden);
    assert_eq!(lookup(&h, "gamma"), None);

    let mut listed = names(&mut connect(&h)).unwrap();
    listed.sort();
    assert_eq!(listed, vec![("alpha".into(), 5001), ("beta".into(), 5002)]);

    // Closing the registering connection unregisters; a new registration gets a new
    // creation.
    drop(a);
    assert!(eventually(|| lookup(&h, "alpha").is_none()));
    let mut a2 = connect(&h);
    let ca2 = alive2(&mut a2, 5003, false, "alpha").unwrap();
    assert!(ca2 != 0 && ca2 != ca && ca2 != cb);
    assert_eq!(lookup(&h, "alpha").unwrap().port, 5003);
    drop(b);
    h.stop(); // with `a2` still open: stop closes it and joins
}

#[test]
fn duplicate_name_is_refused() {
    let h = start();
    let mut a = connect(&h);
    alive2(&mut a, 5001, false, "dup").unwrap();
    let r = alive2(&mut connect(&h), 5002, false, "dup");
    assert!(matches!(r, Err(EpmdError::Refused(1))), "{r:?}");
    // The refused connection's end does not remove the first registration.
    thread::sleep(Duration::from_millis(50));
    assert_eq!(lookup(&h, "dup").unwrap().port, 5001);
}

#[test]
fn bad_names_are_rejected_by_the_client() {
    let h = start();
    for name in ["", "a@b"] {
        let r = alive2(&mut connect(&h), 1, false, name);
        assert!(matches!(r, Err(EpmdError::Protocol(_))), "{r:?}");
        let r = port_please(&mut connect(&h), name);
        assert!(matches!(r, Err(EpmdError::Protocol(_))), "{r:?}");
    }
}

#[test]
fn names_of_an_empty_mapper() {
    let h = start();
    assert!(names(&mut connect(&h)).unwrap().is_empty());
}

#[test]
fn garbage_requests_do_not_hurt_the_mapper() {
    let h = start();
    for junk in [
        &[0u8, 0][..],
        &[0xff, 0xff, 1, 2, 3],
        &[0, 3, 200, 1, 2],
        &[0, 2, ALIVE2_REQ, 0],
    ] {
        let mut s = connect(&h);
        s.write_all(junk).unwrap();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
    let mut a = connect(&h);
    assert_ne!(alive2(&mut a, 7, false, "ok").unwrap(), 0);
}

#[test]
fn port_from_env_defaults() {
    // The variable is not set in the test environment, or set to what erl would use.
    let want = std::env::var("ERL_EPMD_PORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_PORT);
    assert_eq!(port_from_env(), want);
}

#[test]
fn alive2_request_bytes_and_old_reply() {
    let mut s = Script::new(vec![ALIVE2_RESP, 0, 0x12, 0x34]);
    assert_eq!(alive2(&mut s, 0x1f90, true, "hs").unwrap(), 0x1234);
    assert_eq!(
        s.output,
        [0, 15, 120, 0x1f, 0x90, 72, 0, 0, 6, 0, 6, 0, 2, b'h', b's', 0, 0]
    );
    let mut s = Script::new(vec![ALIVE2_X_RESP, 0, 1, 2, 3, 4]);
    assert_eq!(alive2(&mut s, 1, false, "hs").unwrap(), 0x0102_0304);
    let mut s = Script::new(vec![ALIVE2_X_RESP, 3, 0, 0, 0, 0]);
    assert!(matches!(
        alive2(&mut s, 1, false, "hs"),
        Err(EpmdError::Refused(3))
    ));
    let mut s = Script::new(vec![ALIVE2_X_RESP, 0, 1]);
    assert!(matches!(
        alive2(&mut s, 1, false, "hs"),
        Err(EpmdError::Io(_))
    ));
    let mut s = Script::new(vec![99, 0, 1, 2, 3, 4]);
    assert!(matches!(
        alive2(&mut s, 1, false, "hs"),
        Err(EpmdError::Protocol(_))
    ));
}

#[test]
fn port_please_parses_and_rejects_truncation() {
    let mut reply = vec![PORT2_RESP, 0, 0x23, 0x28, 77, 0, 0, 6, 0, 5, 0, 4];
    reply.extend_from_slice(b"peer");
    reply.extend_from_slice(&[0, 2, 9, 9]);
    let mut s = Script::new(reply.clone());
    let info = port_please(&mut s, "peer").unwrap().unwrap();
    assert_eq!(
        info,
        PortInfo {
            port: 9000,
            hidden: false,
            highest: 6,
            lowest: 5
        }
    );
    assert_eq!(s.output, [0, 5, 122, b'p', b'e', b'e', b'r']);
    for cut in 0..reply.len() {
        let mut s = Script::new(reply[..cut].to_vec());
        assert!(port_please(&mut s, "peer").is_err(), "cut at {cut}");
    }
    let mut s = Script::new(vec![PORT2_RESP, 1]);
    assert_eq!(port_please(&mut s, "peer").unwrap(), None);
}

#[test]
fn names_parses_and_bounds() {
    let mut reply = vec![0, 0, 0x11, 0x11];
    reply.extend_from_slice(b"name peer at port 40123\nname hs at port 5\n");
    let mut s = Script::new(reply);
    assert_eq!(
        names(&mut s).unwrap(),
        vec![("peer".into(), 40123), ("hs".into(), 5)]
    );
    let mut s = Script::new(b"\0\0\0\0garbage\n".to_vec());
    assert!(matches!(names(&mut s), Err(EpmdError::Protocol(_))));
    let mut big = vec![0u8; 4];
    big.resize(4 + (MAX_NAMES as usize) + 10, b'x');
    let mut s = Script::new(big);
    assert!(matches!(names(&mut s), Err(EpmdError::Protocol(_))));
}

#[test]
fn a_request_buffer_grows_with_the_bytes_not_the_length_field() {
    // 4,096 bytes announced, 3 sent: the port mapper must not allocate what was announced.
    let input = [0x10u8, 0x00, ALIVE2_REQ, 0, 1];
    let (r, peak) = crate::peak_heap(|| read_request(&mut &input[..]));
    assert_eq!(r, None);
    if let Some(p) = peak {
        assert!(p < 1024, "{p} bytes allocated for a 5-byte request");
    }
    let mut whole = vec![0, 3, NAMES_REQ, 1, 2];
    whole.push(9);
    assert_eq!(read_request(&mut &whole[..]), Some(vec![NAMES_REQ, 1, 2]));
    assert_eq!(read_request(&mut &[0u8, 0][..]), None);
}

#[test]
fn alive2_requests_parse() {
    let mut req = vec![0x13, 0x89, NODE_HIDDEN, PROTO_TCP, 0, 6, 0, 5, 0, 5];
    req.extend(b"alpha");
    req.extend([0, 0]);
    assert_eq!(
        parse_alive2(&req),
        Some(Alive2 {
            name: "alpha".into(),
            port: 5001,
            hidden: true,
            highest: 6,
            lowest: 5
        })
    );
    assert_eq!(parse_alive2(&req[..12]), None); // name cut short
    req[10] = b'@';
    assert_eq!(parse_alive2(&req), None);
}
