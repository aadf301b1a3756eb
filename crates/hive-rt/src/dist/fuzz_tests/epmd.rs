//! What EPMD's peers send: the replies the client parses ([`alive2`], [`port_please`],
//! [`names`], from a scripted EPMD) and the requests Hive's port mapper parses
//! ([`read_request`], [`parse_alive2`]).

use super::{hex, mutate, run, Bound, Rng, Target};
use crate::dist::epmd::{alive2, names, parse_alive2, port_please, read_request, EpmdError};
use crate::dist::script_stream::Script;

/// Inputs under plain `cargo test` (debug).
const DEFAULT_ITERS: u64 = 10_000;

/// Reply and request tags, and the letters of a `NAMES` line.
const TAGS: &[u8] = &[118, 119, 121, 120, 122, 110, 77, 72, b'\n', b' ', b'@'];

/// What is parsed: a reply to `ALIVE2_REQ`, `PORT_PLEASE2_REQ` or `NAMES_REQ`, or a
/// request to the port mapper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Alive2,
    PortPlease,
    Names,
    Request,
}

#[derive(Clone, Debug)]
pub(super) struct Case {
    op: Op,
    bytes: Vec<u8>,
}

fn names_text(rng: &mut Rng) -> Vec<u8> {
    let mut b = 4369u32.to_be_bytes().to_vec();
    for _ in 0..rng.below(6) {
        let name = rng.pick(&["alpha", "beta", "", "x y", "a at port b"]);
        let port = rng.pick(&["5001", "0", "65535", "65536", "-1", " 7 "]);
        b.extend(format!("name {name} at port {port}\n").as_bytes());
    }
    if rng.one_in(8) {
        // Many short lines: the most entries per byte.
        for _ in 0..rng.below(2000) {
            b.extend(b"name  at port 0\n");
        }
    }
    b
}

fn seed(rng: &mut Rng) -> Case {
    let (op, bytes) = match rng.below(4) {
        0 => {
            let mut b = vec![rng.pick(&[118, 121]), rng.pick(&[0, 0, 1])];
            b.extend(rng.next_u64().to_be_bytes()[..rng.below(5)].iter());
            (Op::Alive2, b)
        }
        1 => {
            let mut b = vec![119, rng.pick(&[0, 0, 1])];
            b.extend(5001u16.to_be_bytes());
            b.extend([rng.pick(&[77, 72]), 0, 0, 6, 0, 5]);
            let name = rng.pick(&[&b"alpha"[..], b"", b"\xff\xfe"]);
            b.extend((name.len() as u16).to_be_bytes());
            b.extend(name);
            let extra = rng.bytes_below(8);
            b.extend((extra.len() as u16).to_be_bytes());
            b.extend(extra);
            (Op::PortPlease, b)
        }
        2 => (Op::Names, names_text(rng)),
        _ => {
            let body = match rng.below(3) {
                0 => {
                    let mut r = vec![120];
                    r.extend(5001u16.to_be_bytes());
                    r.extend([rng.pick(&[77, 72]), 0, 0, 6, 0, 6]);
                    let name = rng.pick(&[&b"alpha"[..], b"a@b", b"", b"\xc3\xa9t\xc3\xa9"]);
                    r.extend((name.len() as u16).to_be_bytes());
                    r.extend(name);
                    r.extend([0, 0]);
                    r
                }
                1 => {
                    let mut r = vec![122];
                    r.extend(b"alpha");
                    r
                }
                _ => vec![110],
            };
            let mut b = (body.len() as u16).to_be_bytes().to_vec();
            b.extend(body);
            (Op::Request, b)
        }
    };
    Case { op, bytes }
}

fn make(rng: &mut Rng, pool: &[Case]) -> Case {
    match rng.below(16) {
        0 => {
            let op = seed(rng).op;
            Case {
                op,
                bytes: rng.bytes_below(64),
            }
        }
        1..=3 => seed(rng),
        _ => {
            let mut c = if !pool.is_empty() && rng.one_in(2) {
                rng.choose(pool).clone()
            } else {
                seed(rng)
            };
            let donors = vec![seed(rng).bytes];
            mutate(rng, &mut c.bytes, &donors, TAGS, 64 * 1024);
            c
        }
    }
}

/// Whether the input parsed, and a summary to check.
type Out = Result<Parsed, EpmdError>;

#[derive(Debug)]
enum Parsed {
    Creation(u32),
    Port(Option<u16>),
    Names(Vec<(String, u16)>),
    Request(Option<Vec<u8>>, bool),
}

fn exec(c: &Case) -> Out {
    let mut s = Script::new(c.bytes.clone());
    Ok(match c.op {
        Op::Alive2 => Parsed::Creation(alive2(&mut s, 5001, true, "hive")?),
        Op::PortPlease => Parsed::Port(port_please(&mut s, "alpha")?.map(|p| p.port)),
        Op::Names => Parsed::Names(names(&mut s)?),
        Op::Request => {
            let mut r = &c.bytes[..];
            let req = read_request(&mut r);
            let alive = req
                .as_ref()
                .is_some_and(|q| q[0] == 120 && parse_alive2(&q[1..]).is_some());
            Parsed::Request(req, alive)
        }
    })
}

fn check(c: &Case, out: Out) -> bool {
    match out {
        Ok(Parsed::Creation(n)) => {
            assert_eq!(c.bytes[1], 0, "a refusal taken for a creation");
            let b = &c.bytes;
            let want = match b[0] {
                118 => u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
                _ => u32::from(u16::from_be_bytes([b[2], b[3]])),
            };
            assert_eq!(n, want);
        }
        Ok(Parsed::Port(Some(p))) => {
            assert_eq!(&c.bytes[..2], &[119, 0]);
            assert_eq!(p, u16::from_be_bytes([c.bytes[2], c.bytes[3]]));
        }
        Ok(Parsed::Names(v)) => {
            let text = String::from_utf8_lossy(&c.bytes[4..]);
            assert!(v.len() <= text.lines().count());
            assert!(v.iter().all(|(n, _)| !n.contains('\n')));
        }
        Ok(Parsed::Request(Some(q), alive)) => {
            assert_eq!(
                q.len(),
                usize::from(u16::from_be_bytes([c.bytes[0], c.bytes[1]]))
            );
            assert_eq!(&q[..], &c.bytes[2..2 + q.len()]);
            // A registration needs the fixed fields and a name.
            assert!(!alive || q.len() > 1 + 10);
        }
        Ok(Parsed::Request(None, _)) => return false,
        Ok(Parsed::Port(None)) => {}
        Err(_) => return false,
    }
    true
}

fn len(c: &Case) -> usize {
    c.bytes.len()
}

fn show(c: &Case) -> String {
    format!("{:?} {}", c.op, hex(&c.bytes))
}

#[test]
fn fuzz_epmd() {
    run(&Target {
        name: "epmd",
        default_iters: DEFAULT_ITERS,
        // The script's copy of the input (made per input), the `NAMES` text (read into a
        // buffer that doubles as it grows: at most 3 bytes per byte while it grows) and its
        // entries (a line of 16 bytes at least gives a 32-byte `(String, u16)` in a vector
        // that doubles: at most 6 bytes per byte), or a request read into a buffer that
        // doubles. Fixed: the client's request (a few dozen bytes) and `read_to_end`'s
        // first reservation.
        bound: Bound {
            per_byte: 12,
            fixed: 4 * 1024,
        },
        strict: None,
        make,
        len,
        show,
        exec,
        check,
    });
}
