//! Distribution flags (`DFLAG_*`): the capability bits two nodes exchange in the handshake.
//!
//! The bit values come from OTP's `dist.hrl` (OTP 25) and `dist.h` (OTP 28 era), not from the
//! protocol documentation, which gives a wrong value for `MANDATORY_25_DIGEST`
//! (`1 bsl 36` in the docs; bit 26, `16#4000000`, in the source). [`TABLE`] lists every bit
//! with the OTP release that made it mandatory, so moving Hive forward with OTP is one edit.

// Used by the connection layer (dist/conn.rs), in progress.

/// The node is published: it takes part in `global` and shows in `nodes()` on the peer.
/// Not a capability: ORed into our flags only in published mode.
pub(crate) const PUBLISHED: u64 = 0x1;
/// The node implements an atom cache (obsolete).
pub(crate) const ATOM_CACHE: u64 = 0x2;
/// Extended (3 × 32 bit) references. Mandatory since R9.
pub(crate) const EXTENDED_REFERENCES: u64 = 0x4;
/// Distributed process monitoring (`MONITOR_P` and friends).
pub(crate) const DIST_MONITOR: u64 = 0x8;
/// Separate tag for funs. Mandatory in OTP 25.
pub(crate) const FUN_TAGS: u64 = 0x10;
/// Monitoring of registered names on the other node.
pub(crate) const DIST_MONITOR_NAME: u64 = 0x20;
/// The (hidden) node implements an atom cache (obsolete).
pub(crate) const HIDDEN_ATOM_CACHE: u64 = 0x40;
/// `NEW_FUN_EXT`. Mandatory since OTP 21.
pub(crate) const NEW_FUN_TAGS: u64 = 0x80;
/// Extended pids and ports. Mandatory since R10.
pub(crate) const EXTENDED_PIDS_PORTS: u64 = 0x100;
/// `EXPORT_EXT` (`fun M:F/A`). Mandatory in OTP 25.
pub(crate) const EXPORT_PTR_TAG: u64 = 0x200;
/// `BIT_BINARY_EXT`. Mandatory in OTP 25.
pub(crate) const BIT_BINARIES: u64 = 0x400;
/// `NEW_FLOAT_EXT`. Mandatory in OTP 25.
pub(crate) const NEW_FLOATS: u64 = 0x800;
/// Unicode-aware I/O requests.
pub(crate) const UNICODE_IO: u64 = 0x1000;
/// The distribution header with an atom cache (we do not advertise it).
pub(crate) const DIST_HDR_ATOM_CACHE: u64 = 0x2000;
/// `SMALL_ATOM_EXT` / `SMALL_ATOM_UTF8_EXT`.
pub(crate) const SMALL_ATOM_TAGS: u64 = 0x4000;
/// `ATOM_UTF8_EXT`. Mandatory since OTP 20.
pub(crate) const UTF8_ATOMS: u64 = 0x10000;
/// `MAP_EXT`. Mandatory in OTP 25.
pub(crate) const MAP_TAG: u64 = 0x20000;
/// 32-bit creations: `NEW_PID_EXT`, `NEW_PORT_EXT`, `NEWER_REFERENCE_EXT`. Mandatory since
/// OTP 23.
pub(crate) const BIG_CREATION: u64 = 0x40000;
/// The `SEND_SENDER` control message, carrying the sender pid.
pub(crate) const SEND_SENDER: u64 = 0x80000;
/// Sequential trace labels of any term.
pub(crate) const BIG_SEQTRACE_LABELS: u64 = 0x100000;
/// `PAYLOAD_EXIT*` control messages: the exit reason as a second term.
pub(crate) const EXIT_PAYLOAD: u64 = 0x400000;
/// Fragmented distribution messages (we do not advertise it yet).
pub(crate) const FRAGMENTS: u64 = 0x800000;
/// The version-6 handshake, with creations exchanged. Mandatory in OTP 25.
pub(crate) const HANDSHAKE_23: u64 = 0x1000000;
/// The new link protocol (`UNLINK_ID`, `UNLINK_ID_ACK`). Mandatory from OTP 26.
pub(crate) const UNLINK_ID: u64 = 0x2000000;
/// Shorthand for the whole [`MANDATORY_25`] set, introduced in OTP 25. Bit 26: the
/// documentation's `1 bsl 36` is wrong.
pub(crate) const MANDATORY_25_DIGEST: u64 = 0x4000000;
/// `SPAWN_REQUEST` / `SPAWN_REPLY`.
pub(crate) const SPAWN: u64 = 1 << 32;
/// Dynamic node name: a request to be named by the acceptor (Hive never sets it).
pub(crate) const NAME_ME: u64 = 1 << 33;
/// Full 32-bit pid ID/serial, 64-bit port numbers, references of up to 5 words. Mandatory
/// from OTP 26.
pub(crate) const V4_NC: u64 = 1 << 34;
/// `ALIAS_SEND` and `ALIAS_SEND_TT` (OTP 24).
pub(crate) const ALIAS: u64 = 1 << 35;
/// Alternative-action and priority signals (OTP 28, `DOP_ALTACT_SIG_SEND`).
pub(crate) const ALTACT_SIG: u64 = 1 << 37;

/// One row of [`TABLE`]: a flag and the release that made it mandatory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlagInfo {
    /// The `DFLAG_` name without its prefix.
    pub(crate) name: &'static str,
    /// The bit (a single-bit mask).
    pub(crate) bit: u64,
    /// The first OTP release that refuses peers without this flag (`None`: optional). R9/R10
    /// are written as 9 and 10.
    pub(crate) mandatory_since: Option<u8>,
}

const fn row(name: &'static str, bit: u64, mandatory_since: Option<u8>) -> FlagInfo {
    FlagInfo {
        name,
        bit,
        mandatory_since,
    }
}

/// Every known flag with the OTP release that made it mandatory. The mandatory sets below
/// are derived from this table.
pub(crate) const TABLE: &[FlagInfo] = &[
    row("PUBLISHED", PUBLISHED, None),
    row("ATOM_CACHE", ATOM_CACHE, None),
    row("EXTENDED_REFERENCES", EXTENDED_REFERENCES, Some(9)),
    row("DIST_MONITOR", DIST_MONITOR, None),
    row("FUN_TAGS", FUN_TAGS, Some(25)),
    row("DIST_MONITOR_NAME", DIST_MONITOR_NAME, None),
    row("HIDDEN_ATOM_CACHE", HIDDEN_ATOM_CACHE, None),
    row("NEW_FUN_TAGS", NEW_FUN_TAGS, Some(21)),
    row("EXTENDED_PIDS_PORTS", EXTENDED_PIDS_PORTS, Some(10)),
    row("EXPORT_PTR_TAG", EXPORT_PTR_TAG, Some(25)),
    row("BIT_BINARIES", BIT_BINARIES, Some(25)),
    row("NEW_FLOATS", NEW_FLOATS, Some(25)),
    row("UNICODE_IO", UNICODE_IO, None),
    row("DIST_HDR_ATOM_CACHE", DIST_HDR_ATOM_CACHE, None),
    row("SMALL_ATOM_TAGS", SMALL_ATOM_TAGS, None),
    row("UTF8_ATOMS", UTF8_ATOMS, Some(20)),
    row("MAP_TAG", MAP_TAG, Some(25)),
    row("BIG_CREATION", BIG_CREATION, Some(23)),
    row("SEND_SENDER", SEND_SENDER, None),
    row("BIG_SEQTRACE_LABELS", BIG_SEQTRACE_LABELS, None),
    row("EXIT_PAYLOAD", EXIT_PAYLOAD, None),
    row("FRAGMENTS", FRAGMENTS, None),
    row("HANDSHAKE_23", HANDSHAKE_23, Some(25)),
    row("UNLINK_ID", UNLINK_ID, Some(26)),
    // A synonym for the OTP 25 set; OTP's source says OTP 27 would require it, which could
    // not be checked (docs/distribution.md §1.3), so it is not counted as mandatory here.
    row("MANDATORY_25_DIGEST", MANDATORY_25_DIGEST, None),
    row("SPAWN", SPAWN, None),
    row("NAME_ME", NAME_ME, None),
    row("V4_NC", V4_NC, Some(26)),
    row("ALIAS", ALIAS, None),
    row("ALTACT_SIG", ALTACT_SIG, None),
];

/// The union of the flags of [`TABLE`] mandatory in OTP release `otp` (an OTP major version).
pub(crate) const fn mandatory_in(otp: u8) -> u64 {
    let mut set = 0;
    let mut i = 0;
    while i < TABLE.len() {
        if let Some(since) = TABLE[i].mandatory_since {
            if since <= otp {
                set |= TABLE[i].bit;
            }
        }
        i += 1;
    }
    set
}

/// OTP 25's `DFLAG_DIST_MANDATORY_25`: the eleven flags an OTP 25 node requires.
pub(crate) const MANDATORY_25: u64 = mandatory_in(25);

/// OTP 26–28's `DFLAG_DIST_MANDATORY`: [`MANDATORY_25`] | [`V4_NC`] | [`UNLINK_ID`].
pub(crate) const MANDATORY_26: u64 = mandatory_in(26);

/// What Hive requires from a peer: the OTP 25 set plus [`V4_NC`] and [`UNLINK_ID`], which
/// every OTP 25+ node sends (Hive only implements the new link protocol and the wide node
/// containers).
pub(crate) const REQUIRED: u64 = MANDATORY_26;

/// The flags Hive advertises in hidden mode (OR in [`PUBLISHED`] for published mode).
///
/// Not advertised: `DIST_HDR_ATOM_CACHE` (Hive sends pass-through headers only),
/// `FRAGMENTS` (not yet implemented), `NAME_ME` (a request, not a capability) and the
/// obsolete atom-cache bits.
pub(crate) const ADVERTISED: u64 = MANDATORY_25
    | MANDATORY_25_DIGEST
    | V4_NC
    | UNLINK_ID
    | DIST_MONITOR
    | DIST_MONITOR_NAME
    | SEND_SENDER
    | EXIT_PAYLOAD
    | SMALL_ATOM_TAGS
    | UNICODE_IO
    | BIG_SEQTRACE_LABELS
    | ALIAS
    | SPAWN;

/// `flags` with the OTP 25 set filled in when the peer sent [`MANDATORY_25_DIGEST`], the
/// shorthand OTP 25+ accepts in place of the individual bits.
pub(crate) const fn expand_digest(flags: u64) -> u64 {
    if flags & MANDATORY_25_DIGEST != 0 {
        flags | MANDATORY_25
    } else {
        flags
    }
}

/// The required bits ([`REQUIRED`]: the OTP 25 mandatory set plus `V4_NC` and `UNLINK_ID`)
/// that `peer_flags` lacks; 0 when the peer may connect. [`MANDATORY_25_DIGEST`] counts as
/// the whole OTP 25 set.
pub(crate) const fn missing_mandatory(peer_flags: u64) -> u64 {
    REQUIRED & !expand_digest(peer_flags)
}

/// The flags in force on a connection: the capabilities both sides have, with the peer's
/// [`MANDATORY_25_DIGEST`] expanded. [`PUBLISHED`] survives only if both sides set it (as
/// OTP's `adjust_flags`).
pub(crate) const fn negotiate(ours: u64, peer: u64) -> u64 {
    expand_digest(ours) & expand_digest(peer)
}

/// The `DFLAG_` names of the bits set in `flags`, `|`-separated, unknown bits in hex; for log
/// lines and error messages.
pub(crate) fn describe(flags: u64) -> String {
    let mut out = String::new();
    let mut known = 0;
    for f in TABLE {
        known |= f.bit;
        if flags & f.bit != 0 {
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str(f.name);
        }
    }
    let unknown = flags & !known;
    if unknown != 0 {
        if !out.is_empty() {
            out.push('|');
        }
        out.push_str(&format!("{unknown:#x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_bits_are_single_and_distinct() {
        let mut seen = 0u64;
        for f in TABLE {
            assert_eq!(f.bit.count_ones(), 1, "{}", f.name);
            assert_eq!(seen & f.bit, 0, "{} duplicated", f.name);
            seen |= f.bit;
        }
    }

    #[test]
    fn mandatory_sets_match_otp() {
        // dist.hrl of OTP 25: MANDATORY_DFLAGS_25.
        let otp25 = EXTENDED_REFERENCES
            | FUN_TAGS
            | EXTENDED_PIDS_PORTS
            | NEW_FUN_TAGS
            | EXPORT_PTR_TAG
            | BIT_BINARIES
            | NEW_FLOATS
            | UTF8_ATOMS
            | MAP_TAG
            | BIG_CREATION
            | HANDSHAKE_23;
        assert_eq!(MANDATORY_25, otp25);
        assert_eq!(MANDATORY_25.count_ones(), 11);
        assert_eq!(MANDATORY_26, otp25 | V4_NC | UNLINK_ID);
        assert_eq!(MANDATORY_25_DIGEST, 0x400_0000);
        assert_eq!(
            mandatory_in(22),
            EXTENDED_REFERENCES | EXTENDED_PIDS_PORTS | NEW_FUN_TAGS | UTF8_ATOMS
        );
    }

    #[test]
    fn advertised_set() {
        assert_eq!(missing_mandatory(ADVERTISED), 0);
        for bit in [
            PUBLISHED,
            DIST_HDR_ATOM_CACHE,
            FRAGMENTS,
            NAME_ME,
            ATOM_CACHE,
            HIDDEN_ATOM_CACHE,
        ] {
            assert_eq!(ADVERTISED & bit, 0, "{}", describe(bit));
        }
        for bit in [
            MANDATORY_25_DIGEST,
            V4_NC,
            UNLINK_ID,
            SPAWN,
            ALIAS,
            SEND_SENDER,
            EXIT_PAYLOAD,
        ] {
            assert_ne!(ADVERTISED & bit, 0, "{}", describe(bit));
        }
    }

    #[test]
    fn missing_and_digest() {
        assert_eq!(missing_mandatory(0), REQUIRED);
        assert_eq!(missing_mandatory(MANDATORY_25), V4_NC | UNLINK_ID);
        assert_eq!(
            missing_mandatory(MANDATORY_25_DIGEST | V4_NC | UNLINK_ID),
            0
        );
        assert_eq!(missing_mandatory(REQUIRED & !MAP_TAG), MAP_TAG);
        assert_eq!(
            negotiate(ADVERTISED, MANDATORY_25_DIGEST) & MANDATORY_25,
            MANDATORY_25
        );
        assert_eq!(negotiate(ADVERTISED | PUBLISHED, REQUIRED) & PUBLISHED, 0);
        assert_eq!(negotiate(ADVERTISED, REQUIRED | FRAGMENTS) & FRAGMENTS, 0);
    }

    #[test]
    fn describe_names_bits() {
        assert_eq!(describe(PUBLISHED | V4_NC), "PUBLISHED|V4_NC");
        assert_eq!(describe(1 << 63), "0x8000000000000000");
    }
}
