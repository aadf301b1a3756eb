//! Control messages on the wire ([P §Protocol between Connected Nodes]): the frames Hive
//! writes, and the payload and exit-reason conventions at the edge between Hive's bytes
//! and Erlang terms (`docs/distribution.md`, "What maps to what").
//!
//! Hive advertises neither `DIST_HDR_ATOM_CACHE` nor `FRAGMENTS`, so every frame either
//! way is a pass-through frame: `[Len:32] 112 ControlTerm [PayloadTerm]`, each term with
//! its 131 version byte; `Len = 0` is a tick.

use super::etf::{self, Atom, Limits, Term};
use crate::pid::Pid;
use crate::reason::ExitReason;

/// The pass-through frame type.
pub(crate) const PASS_THROUGH: u8 = 112;

/// Control message operations (`dop` in [P]).
pub(crate) mod op {
    pub(crate) const LINK: i64 = 1;
    pub(crate) const SEND: i64 = 2;
    pub(crate) const EXIT: i64 = 3;
    pub(crate) const UNLINK: i64 = 4;
    pub(crate) const REG_SEND: i64 = 6;
    pub(crate) const EXIT2: i64 = 8;
    pub(crate) const SEND_TT: i64 = 12;
    pub(crate) const EXIT_TT: i64 = 13;
    pub(crate) const REG_SEND_TT: i64 = 16;
    pub(crate) const EXIT2_TT: i64 = 18;
    pub(crate) const MONITOR_P: i64 = 19;
    pub(crate) const DEMONITOR_P: i64 = 20;
    pub(crate) const MONITOR_P_EXIT: i64 = 21;
    pub(crate) const SEND_SENDER: i64 = 22;
    pub(crate) const SEND_SENDER_TT: i64 = 23;
    pub(crate) const PAYLOAD_EXIT: i64 = 24;
    pub(crate) const PAYLOAD_EXIT_TT: i64 = 25;
    pub(crate) const PAYLOAD_EXIT2: i64 = 26;
    pub(crate) const PAYLOAD_EXIT2_TT: i64 = 27;
    pub(crate) const PAYLOAD_MONITOR_P_EXIT: i64 = 28;
    pub(crate) const SPAWN_REQUEST: i64 = 29;
    pub(crate) const SPAWN_REQUEST_TT: i64 = 30;
    pub(crate) const SPAWN_REPLY: i64 = 31;
    pub(crate) const SPAWN_REPLY_TT: i64 = 32;
    pub(crate) const ALIAS_SEND: i64 = 33;
    pub(crate) const ALIAS_SEND_TT: i64 = 34;
    pub(crate) const UNLINK_ID: i64 = 35;
    pub(crate) const UNLINK_ID_ACK: i64 = 36;
}

/// Appends one frame: the control term `ctl` and, if any, the payload.
pub(crate) fn push_frame(out: &mut Vec<u8>, ctl: &Term, payload: Option<Payload<'_>>) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, PASS_THROUGH]);
    etf::encode(ctl, out);
    if let Some(p) = payload {
        push_payload(out, p);
    }
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// [`push_frame`] of `{SEND_SENDER, From, To}` and `payload`, the frame of most
/// messages, written without building the control term: the same bytes. A pid is given as
/// its node's name, creation and the local pid's index and serial.
pub(crate) fn push_send_sender(
    out: &mut Vec<u8>,
    from: (&Atom, u32, Pid),
    to: (&Atom, u32, Pid),
    payload: Payload<'_>,
) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, PASS_THROUGH, etf::VERSION, 104, 3, 97]);
    out.push(op::SEND_SENDER as u8);
    for (node, creation, pid) in [from, to] {
        etf::put_pid(node, pid.index(), pid.serial(), creation, out);
    }
    push_payload(out, payload);
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

fn push_payload(out: &mut Vec<u8>, payload: Payload<'_>) {
    match payload {
        Payload::Term(d) => out.extend_from_slice(d),
        Payload::Binary(d) => {
            out.extend_from_slice(&[etf::VERSION, 109]);
            out.extend_from_slice(&(d.len() as u32).to_be_bytes());
            out.extend_from_slice(d);
        }
        Payload::Atom(a) => etf::encode(&Term::atom(a), out),
    }
}

/// The payload of a frame, checked when made ([`Payload::data`], [`Payload::reason`]):
/// before the connection's lock is taken, so a sender never validates bytes while holding
/// it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Payload<'a> {
    /// Bytes that are exactly one ETF term: they go as they are.
    Term(&'a [u8]),
    /// Other bytes: they go as a binary (`<<Bytes/binary>>`).
    Binary(&'a [u8]),
    /// A standard exit reason's atom.
    Atom(&'static str),
}

impl<'a> Payload<'a> {
    /// A message's bytes as a term: bytes that are one ETF term go as that term, any other
    /// bytes as a binary.
    pub(crate) fn data(d: &'a [u8]) -> Payload<'a> {
        if is_term(d) {
            Payload::Term(d)
        } else {
            Payload::Binary(d)
        }
    }

    /// An exit reason as a term: a standard kind as its atom, an `Error` reason's bytes as
    /// [`Payload::data`].
    pub(crate) fn reason(r: &'a ExitReason) -> Payload<'a> {
        match reason_atom(r) {
            Some(a) => Payload::Atom(a),
            None => Payload::data(r.data()),
        }
    }
}

/// How deep a term passed through may nest: without bound (the walk keeps its stack on
/// the heap, proportional to the bytes), as the BEAM accepts any depth. Only terms Hive
/// builds (control messages, `etf::decode`) have the codec's default limit.
const PASS_THROUGH_LIMITS: Limits = Limits {
    max_depth: u32::MAX,
};

/// True when `data` is exactly one term in the External Term Format (131 first).
pub(crate) fn is_term(data: &[u8]) -> bool {
    data.first() == Some(&etf::VERSION)
        && (is_binary(data) || etf::skip(data, &PASS_THROUGH_LIMITS).is_ok_and(|n| n == data.len()))
}

/// Whether `data` is exactly one ETF binary (`BINARY_EXT`), which needs no walk: its
/// length says where it ends.
fn is_binary(data: &[u8]) -> bool {
    matches!(data, [etf::VERSION, 109, a, b, c, d, bytes @ ..]
        if u32::from_be_bytes([*a, *b, *c, *d]) as usize == bytes.len())
}

/// The atom of a standard exit reason.
fn reason_atom(r: &ExitReason) -> Option<&'static str> {
    Some(match r {
        ExitReason::Normal => "normal",
        ExitReason::Kill => "kill",
        ExitReason::Killed => "killed",
        ExitReason::Noproc => "noproc",
        ExitReason::Noconnection => "noconnection",
        ExitReason::Shutdown => "shutdown",
        ExitReason::Error(_) => return None,
    })
}

/// The exit reason a reason term stands for: the six standard atoms are their kinds,
/// any other term is an `Error` reason carrying the term's bytes (`{shutdown, X}`
/// included).
pub(crate) fn reason_of(bytes: &[u8]) -> ExitReason {
    // An atom is short: only a term that small is decoded (a large reason is not built
    // just to learn that it is not one of six atoms).
    if bytes.len() > 32 {
        return ExitReason::error(bytes);
    }
    if let Ok(Term::Atom(a)) = etf::decode(bytes) {
        match a.as_str() {
            "normal" => return ExitReason::Normal,
            "kill" => return ExitReason::Kill,
            "killed" => return ExitReason::Killed,
            "noproc" => return ExitReason::Noproc,
            "noconnection" => return ExitReason::Noconnection,
            "shutdown" => return ExitReason::Shutdown,
            _ => {}
        }
    }
    ExitReason::error(bytes)
}

/// The payload of a frame once its control term was read (`split_frame`'s check, for
/// the fast path in `dispatch.rs`): `rest` must be empty or exactly one well-formed term.
pub(crate) fn check_payload(rest: &[u8]) -> Result<&[u8], etf::EtfError> {
    // A binary, what most messages are, needs no walk.
    if is_binary(rest) {
        return Ok(rest);
    }
    if !rest.is_empty() && etf::skip(rest, &PASS_THROUGH_LIMITS)? != rest.len() {
        return Err(etf::EtfError::Trailing);
    }
    Ok(rest)
}

/// A frame split into its control term and the bytes of its payload term (empty when
/// none). Errors: anything but one pass-through frame holding one or two well-formed terms.
pub(crate) fn split_frame(frame: &[u8]) -> Result<(Term, &[u8]), etf::EtfError> {
    let Some((&PASS_THROUGH, rest)) = frame.split_first() else {
        return Err(etf::EtfError::Unsupported(
            frame.first().copied().unwrap_or(0),
        ));
    };
    let limits = Limits::default();
    let (ctl, n) = etf::decode_prefix(rest, &limits)?;
    Ok((ctl, check_payload(&rest[n..])?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::etf::ExtPid;

    /// The message frame written from the pids' parts is byte for byte the one written
    /// from the control term, for short and long node names and every payload kind.
    #[test]
    fn a_send_sender_frame_from_parts_is_the_general_one() {
        // 200 characters, 400 bytes: written as ATOM_UTF8 (118), not the small form.
        let long = Atom::new(&"é".repeat(200)).unwrap();
        let short = Atom::new("peer@host").unwrap();
        let from = Pid::local(5, 6);
        let to = Pid::remote(3, 70_000, 1 << 20);
        for (a, b) in [(&short, &long), (&long, &short)] {
            for payload in [
                Payload::Binary(b"hello"),
                Payload::Term(&[131, 97, 7]),
                Payload::Atom("normal"),
                Payload::Binary(&[]),
            ] {
                let mut fast = vec![1, 2];
                push_send_sender(&mut fast, (a, 9, from), (b, 11, to), payload);
                let pid = |node: &Atom, creation, p: Pid| {
                    Term::Pid(ExtPid {
                        node: node.clone(),
                        id: p.index(),
                        serial: p.serial(),
                        creation,
                    })
                };
                let ctl = Term::tuple(vec![
                    Term::Int(op::SEND_SENDER),
                    pid(a, 9, from),
                    pid(b, 11, to),
                ]);
                let mut general = vec![1, 2];
                push_frame(&mut general, &ctl, Some(payload));
                assert_eq!(fast, general);
            }
        }
    }

    /// A binary payload is taken by its length; one whose length is wrong, or anything
    /// after it, is refused as before.
    #[test]
    fn a_binary_payload_is_checked_by_its_length() {
        let ok = [131, 109, 0, 0, 0, 2, 7, 8];
        assert_eq!(check_payload(&ok), Ok(&ok[..]));
        assert!(check_payload(&[131, 109, 0, 0, 0, 3, 7, 8]).is_err());
        assert!(check_payload(&[131, 109, 0, 0, 0, 1, 7, 8]).is_err());
        assert_eq!(check_payload(&[]), Ok(&[][..]));
        assert_eq!(check_payload(&[131, 97, 1]), Ok(&[131, 97, 1][..]));
        assert!(is_term(&ok));
        assert!(!is_term(&[131, 109, 0, 0, 0, 3, 7, 8]));
        assert!(!is_term(&[131, 109, 0, 0, 0, 1, 7, 8]));
    }
}
