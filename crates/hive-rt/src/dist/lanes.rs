//! Lanes: several TCP connections between two Hive nodes, so a process streaming bulk data
//! to a node does not delay another process's small messages to it (head-of-line
//! blocking on one connection, which the BEAM has: one `DistEntry`, one socket).
//!
//! ## How lanes come up
//! - Offer. A Hive node that initiates puts `hive:lanes=N` after its name in `send_name`
//!   (the protocol says extra bytes there are ignored; OTP's `dist_util` drops them). A
//!   Hive acceptor answers `hive:lanes=M` after its name in `send_challenge`, M = the
//!   smaller of both nodes' `Options::lanes`; a BEAM node answers nothing, and the
//!   connection stays one lane. A Hive acceptor never offers to a BEAM initiator.
//! - The first connection is lane 0. Once it is up, the initiator's controller spawns one
//!   controller per further lane k (1 … M−1); each dials the node again and runs the whole
//!   handshake (TLS and cookie included) with `hive:lane=k` after its name. The acceptor
//!   takes it as lane k only for the same peer incarnation and a free lane k.
//! - The switch. While any lane is down, every frame goes on lane 0. When a node sees all
//!   its lanes up, under the entry's lock, it queues the marker frame [`MARKER`] on lane 0
//!   and from then on each sender's frames go on the lane its pid hashes to
//!   (`EntryState::lane_of`).
//!
//! ## Order
//! Every signal of one sender to one receiver keeps its order [R]: after the switch all of
//! a sender's frames take one lane, a TCP stream, carried out in order by that lane's
//! controller. Across the switch, a sender's earlier frames are on lane 0 before the
//! marker and its later ones on its lane after it: the receiving node holds back what
//! arrives on lanes 1 … until its lane 0 controller has carried out the marker
//! ([`Holdback`]), so everything sent before the switch is carried out first. A frame that
//! answers for a local process (a DOWN or an exit `noproc`, a spawn reply) takes that
//! process's lane.
//!
//! ## Loss
//! The lanes are one connection: when any of them closes, times out or fails to come up,
//! the whole connection ends (`controller::end`: every lane's controller is told to stop,
//! links and monitors end once with `noconnection`).

use crate::pid::Pid;

/// The frame that switches the sending node to lanes (never sent to a BEAM node, and
/// unlike any frame of the protocol, which starts with 112, 131 or 68).
pub(crate) const MARKER: &[u8] = b"HIVE:lanes-on";

/// Largest number of lanes per node pair.
pub(crate) const MAX_LANES: usize = 16;

/// What the bytes after a node name in the handshake say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hello {
    /// Nothing Hive knows (a BEAM node, or one lane).
    None,
    /// `hive:lanes=N`: lanes offered (by an initiator) or agreed (by an acceptor).
    Offer(usize),
    /// `hive:lane=K`: this connection is lane K of a connection up already.
    Lane(usize),
}

/// Parses the bytes after a node name.
pub(crate) fn parse(extra: &[u8]) -> Hello {
    let num = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .and_then(|t| t.parse::<usize>().ok())
    };
    if let Some(n) = extra.strip_prefix(b"hive:lanes=").and_then(num) {
        if (2..=MAX_LANES).contains(&n) {
            return Hello::Offer(n);
        }
    } else if let Some(k) = extra.strip_prefix(b"hive:lane=").and_then(num) {
        if (1..MAX_LANES).contains(&k) {
            return Hello::Lane(k);
        }
    }
    Hello::None
}

/// The bytes offering `n` lanes (nothing for one).
pub(crate) fn offer(n: usize) -> Vec<u8> {
    if n < 2 {
        Vec::new()
    } else {
        format!("hive:lanes={}", n.min(MAX_LANES)).into_bytes()
    }
}

/// The bytes that introduce lane `k`.
pub(crate) fn hello(k: usize) -> Vec<u8> {
    format!("hive:lane={k}").into_bytes()
}

/// Lanes agreed with a peer that said `extra`, when we offer `local`.
pub(crate) fn agreed(local: usize, extra: &[u8]) -> usize {
    match parse(extra) {
        Hello::Offer(m) => m.min(local).min(MAX_LANES),
        _ => 1,
    }
}

/// One further connection of a Hive peer (see [`EntryState::lanes`]).
#[derive(Debug, Default)]
pub(crate) struct Lane {
    /// Its controller; `NONE` until one took it.
    pub(crate) controller: Pid,
    /// Frames not yet written.
    pub(crate) out: Vec<u8>,
    /// The controller was told to flush and has not yet taken `out`.
    pub(crate) notified: bool,
    /// Senders suspended on this lane's busy limit.
    pub(crate) busy_waiters: Vec<Pid>,
    /// Its handshake is done and its controller writes `out`.
    pub(crate) up: bool,
}

/// Frames that arrived on a lane before the peer's marker was carried out on lane 0: held
/// back, in order, up to [`Holdback::LIMIT`] bytes (more ends the connection).
#[derive(Debug, Default)]
pub(crate) struct Holdback {
    frames: Vec<Vec<u8>>,
    bytes: usize,
}

impl Holdback {
    /// Bytes a lane may hold back.
    pub(crate) const LIMIT: usize = 64 << 20;

    /// Holds `f` back; false when that exceeds the limit.
    pub(crate) fn hold(&mut self, f: &[u8]) -> bool {
        self.bytes += f.len();
        self.frames.push(f.to_vec());
        self.bytes <= Self::LIMIT
    }

    /// Takes every frame held, in order.
    pub(crate) fn take(&mut self) -> Vec<Vec<u8>> {
        self.bytes = 0;
        std::mem::take(&mut self.frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_round_trips_and_rejects_junk() {
        assert_eq!(parse(&offer(4)), Hello::Offer(4));
        assert_eq!(parse(&hello(3)), Hello::Lane(3));
        assert_eq!(offer(1), Vec::<u8>::new());
        assert_eq!(parse(b""), Hello::None);
        assert_eq!(parse(b"hive:lanes=1"), Hello::None);
        assert_eq!(parse(b"hive:lanes=999"), Hello::None);
        assert_eq!(parse(b"hive:lane=0"), Hello::None);
        assert_eq!(parse(b"hive:lane=x"), Hello::None);
        assert_eq!(parse(b"\xff\xfe"), Hello::None);
        assert_eq!(agreed(4, b"hive:lanes=2"), 2);
        assert_eq!(agreed(4, b""), 1);
        assert_eq!(agreed(1, b"hive:lanes=8"), 1);
    }

    #[test]
    fn switch_waits_for_every_lane() {
        let mut st = crate::dist::node::tests_support::state();
        st.phase = super::super::node::Phase::Up {
            creation: 1,
            flags: 0,
        };
        st.size_lanes(3);
        assert!(!st.switch_lanes_on());
        st.lanes[0].up = true;
        assert!(!st.switch_lanes_on());
        assert_eq!(st.lane_of(Pid(12345)), 0, "lane 0 until the switch");
        st.lanes[1].up = true;
        assert!(st.switch_lanes_on());
        assert!(st.out.ends_with(MARKER));
        assert!(!st.switch_lanes_on(), "once");
        let lanes: std::collections::HashSet<usize> =
            (1..200u64).map(|i| st.lane_of(Pid(i << 24 | i))).collect();
        assert_eq!(lanes.len(), 3, "senders spread over every lane");
        assert_eq!(st.lane_of(Pid::NONE), 0);
    }

    #[test]
    fn holdback_keeps_order_and_bounds() {
        let mut h = Holdback::default();
        assert!(h.hold(b"a"));
        assert!(h.hold(b"b"));
        assert_eq!(h.take(), vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(h.take().is_empty());
        assert!(!h.hold(&vec![0; Holdback::LIMIT + 1]));
    }
}
