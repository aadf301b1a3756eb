//! The version-6 distribution handshake (OTP 23+), both roles.
//!
//! [`initiate`] is node A (the connecting side), [`accept`] is node B. Both run over any
//! blocking `Read + Write` stream; the caller sets the timeouts (a stalled peer then surfaces
//! as [`HandshakeError::Io`]) and closes the stream when an error is returned.
//!
//! Messages, each behind a length header ([`Framing`]):
//!
//! 1. A → B `send_name`: `'N', Flags:64, Creation:32, Nlen:16, Name` (or the old
//!    `'n', Version:16, Flags:32, Name`, which [`accept`] also takes).
//! 2. B → A `send_status`: `'s'` and `ok`, `ok_simultaneous`, `nok`, `not_allowed` or `alive`
//!    (A answers `alive` with `'s'` and `true` or `false`).
//! 3. B → A `send_challenge`: `'N', Flags:64, Challenge:32, Creation:32, Nlen:16, Name`.
//! 4. A → B `send_complement`: `'c', FlagsHigh:32, Creation:32` (only after an old `'n'`).
//! 5. A → B `challenge_reply`: `'r', Challenge:32, Digest:16`.
//! 6. B → A `challenge_ack`: `'a', Digest:16`.
//!
//! The digest is `md5(cookie ++ decimal(challenge))`. Extra bytes after a name are accepted
//! and ignored, as the protocol requires. Every message is bounded by [`MAX_MESSAGE`].

// Used by the connection layer (dist/conn.rs), in progress.

use std::fmt;
use std::io::{self, Read, Write};

use md5::{Digest as _, Md5};

use super::flags;

/// The largest handshake message accepted, in bytes (body, without the length header). A
/// longer length header is a protocol error, so a hostile peer cannot make us allocate.
pub(crate) const MAX_MESSAGE: usize = 64 * 1024;

/// The length header of each handshake message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// A 2-byte big-endian length: plain TCP (`inet_tcp_dist`).
    Len2,
    /// A 4-byte big-endian length: TLS (`inet_tls_dist` runs `{packet, 4}` for the whole
    /// connection, handshake included).
    #[allow(dead_code)] // TLS distribution, not built yet
    Len4,
}

/// Our side of a handshake.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Local<'a> {
    /// Our full node name, `name@host` (e.g. `"hive@localhost"`).
    pub(crate) name: &'a str,
    /// Our creation (from EPMD's `ALIVE2_X_RESP`, or random); non-zero.
    pub(crate) creation: u32,
    /// The flags we advertise: [`flags::ADVERTISED`], with [`flags::PUBLISHED`] ORed in for
    /// a published node.
    pub(crate) flags: u64,
    /// The cookie shared with the peer (the bytes of the atom).
    pub(crate) cookie: &'a [u8],
}

/// What a completed handshake learned about the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeerInfo {
    /// The peer's full node name, `name@host`.
    pub(crate) name: String,
    /// The peer's flags as sent, with [`flags::MANDATORY_25_DIGEST`] expanded to the OTP 25
    /// set. The flags in force are `flags::negotiate(local.flags, peer.flags)`.
    pub(crate) flags: u64,
    /// The peer's creation (the incarnation in its pids, ports and references).
    pub(crate) creation: u32,
    /// The bytes after the name in the peer's `send_name` or `send_challenge` (which the
    /// protocol says to ignore; Hive nodes put their lane offer there, `controller.rs`).
    pub(crate) extra: Vec<u8>,
}

/// The acceptor's answer to a `send_name`, decided by the connection table
/// (simultaneous-connect and duplicate-connection rules live there, not here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `ok`: go on.
    Ok,
    /// `ok_simultaneous`: go on; we were connecting to the peer too and lost the name
    /// comparison, so the caller drops its own attempt.
    OkSimultaneous,
    /// `nok`: we are connecting to the peer too and win the comparison; the peer's attempt
    /// ends here.
    Nok,
    /// `not_allowed`: the peer may not connect (for example, not on an allow list).
    NotAllowed,
    /// `alive`: we already have a connection to this node; the initiator says whether it
    /// wants a new one (`true`: the caller drops the old connection).
    Alive,
}

impl Verdict {
    fn status(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::OkSimultaneous => "ok_simultaneous",
            Verdict::Nok => "nok",
            Verdict::NotAllowed => "not_allowed",
            Verdict::Alive => "alive",
        }
    }
}

/// Why a handshake failed. On any error the caller closes the stream.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// The stream failed: reset, timeout, or end of stream in the middle of a message.
    Io(io::Error),
    /// The peer sent something malformed or unsupported (oversized or truncated message,
    /// wrong tag, dynamic name).
    Protocol(&'static str),
    /// The handshake was refused by a status: the initiator got `nok` or `not_allowed`, or
    /// the acceptor refused with one of these, or the initiator answered `alive` with
    /// `false` (then the status is `"false"`).
    Refused(String),
    /// The cookies differ: the peer's digest did not match (the acceptor then sends no
    /// `challenge_ack`), or the acceptor closed the connection instead of acknowledging our
    /// challenge reply, which is how a peer rejects a wrong cookie.
    BadCookie,
    /// The peer lacks these required flags ([`flags::missing_mandatory`]).
    MissingFlags(u64),
    /// The acceptor's challenge carried another node name than the one we dialled.
    NameMismatch,
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::Io(e) => write!(f, "handshake I/O error: {e}"),
            HandshakeError::Protocol(what) => write!(f, "handshake protocol error: {what}"),
            HandshakeError::Refused(status) => write!(f, "handshake refused: {status}"),
            HandshakeError::BadCookie => f.write_str("handshake failed: cookie mismatch"),
            HandshakeError::MissingFlags(bits) => write!(
                f,
                "peer lacks mandatory distribution flags {}",
                flags::describe(*bits)
            ),
            HandshakeError::NameMismatch => {
                f.write_str("the acceptor's node name is not the one dialled")
            }
        }
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HandshakeError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for HandshakeError {
    fn from(e: io::Error) -> Self {
        HandshakeError::Io(e)
    }
}

/// A random `u32` from the kernel (`getrandom(2)`), for challenges and creations.
///
/// # Errors
///
/// The `getrandom` system call failed (other than by `EINTR`, which is retried).
pub(crate) fn random_u32() -> io::Result<u32> {
    let mut buf = [0u8; 4];
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: `rest` is a live, writable slice of `rest.len()` bytes owned by this frame;
        // getrandom writes at most that many bytes into it and keeps no pointer.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        filled += n as usize;
    }
    Ok(u32::from_ne_bytes(buf))
}

/// `md5(cookie ++ decimal(challenge))`, the 16-byte answer to `challenge`.
pub(crate) fn digest(challenge: u32, cookie: &[u8]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(cookie);
    h.update(challenge.to_string().as_bytes());
    h.finalize().into()
}

/// Compares two digests in time independent of where they differ (`subtle`'s
/// constant-time equality: no early exit the optimiser could reintroduce).
fn digest_eq(a: &[u8], b: &[u8; 16]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == 16 && bool::from(a.ct_eq(&b[..]))
}

/// Writes one handshake message (`body` behind its length header) and flushes.
fn write_msg<S: Write>(s: &mut S, framing: Framing, body: &[u8]) -> Result<(), HandshakeError> {
    let mut buf = Vec::with_capacity(body.len() + 4);
    match framing {
        Framing::Len2 => {
            let len = u16::try_from(body.len())
                .map_err(|_| HandshakeError::Protocol("handshake message too long to send"))?;
            buf.extend_from_slice(&len.to_be_bytes());
        }
        Framing::Len4 => {
            let len = u32::try_from(body.len())
                .map_err(|_| HandshakeError::Protocol("handshake message too long to send"))?;
            buf.extend_from_slice(&len.to_be_bytes());
        }
    }
    buf.extend_from_slice(body);
    s.write_all(&buf)?;
    s.flush()?;
    Ok(())
}

/// Reads one handshake message body: at most [`MAX_MESSAGE`] bytes, never empty.
fn read_msg<S: Read>(s: &mut S, framing: Framing) -> Result<Vec<u8>, HandshakeError> {
    let len = match framing {
        Framing::Len2 => {
            let mut h = [0u8; 2];
            s.read_exact(&mut h)?;
            usize::from(u16::from_be_bytes(h))
        }
        Framing::Len4 => {
            let mut h = [0u8; 4];
            s.read_exact(&mut h)?;
            usize::try_from(u32::from_be_bytes(h)).unwrap_or(usize::MAX)
        }
    };
    if len == 0 {
        return Err(HandshakeError::Protocol("empty handshake message"));
    }
    if len > MAX_MESSAGE {
        return Err(HandshakeError::Protocol("handshake message over 64 KiB"));
    }
    // Grows with the bytes that arrive, not with the length header (a peer that sends a
    // 2-byte header costs 2 bytes, not 64 KiB).
    let mut body = Vec::new();
    s.by_ref().take(len as u64).read_to_end(&mut body)?;
    if body.len() < len {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
    }
    Ok(body)
}

/// A bounds-checked reader over one message body.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Cursor { rest }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], HandshakeError> {
        if self.rest.len() < n {
            return Err(HandshakeError::Protocol(what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], HandshakeError> {
        let bytes = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(bytes);
        Ok(a)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, HandshakeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, HandshakeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, HandshakeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// `Nlen:16, Name`, a node name `name@host` in UTF-8.
    fn node_name(&mut self, what: &'static str) -> Result<String, HandshakeError> {
        let len = usize::from(self.u16(what)?);
        let raw = self.take(len, what)?;
        node_name(raw)
    }
}

/// Checks a node name: UTF-8, `name@host` with both parts non-empty.
fn node_name(raw: &[u8]) -> Result<String, HandshakeError> {
    let name =
        std::str::from_utf8(raw).map_err(|_| HandshakeError::Protocol("node name not UTF-8"))?;
    match name.split_once('@') {
        Some((alive, host)) if !alive.is_empty() && !host.is_empty() => Ok(name.to_owned()),
        _ => Err(HandshakeError::Protocol("node name is not name@host")),
    }
}

fn name_len(name: &str) -> Result<u16, HandshakeError> {
    u16::try_from(name.len()).map_err(|_| HandshakeError::Protocol("node name too long"))
}

fn send_status<S: Write>(s: &mut S, framing: Framing, status: &str) -> Result<(), HandshakeError> {
    let mut body = Vec::with_capacity(1 + status.len());
    body.push(b's');
    body.extend_from_slice(status.as_bytes());
    write_msg(s, framing, &body)
}

/// Reads a `send_status` message and returns the status text (without the `'s'`).
fn recv_status<S: Read>(s: &mut S, framing: Framing) -> Result<Vec<u8>, HandshakeError> {
    let mut msg = read_msg(s, framing)?;
    if msg[0] != b's' {
        return Err(HandshakeError::Protocol("expected a status message ('s')"));
    }
    msg.remove(0);
    Ok(msg)
}

/// Reads the `challenge_ack` and checks it answers `our_challenge`. The acceptor closes the
/// connection instead of acknowledging a wrong digest, so end of stream here is
/// [`HandshakeError::BadCookie`].
fn recv_ack<S: Read>(
    s: &mut S,
    framing: Framing,
    our_challenge: u32,
    cookie: &[u8],
) -> Result<(), HandshakeError> {
    let msg = match read_msg(s, framing) {
        Ok(msg) => msg,
        Err(HandshakeError::Io(e))
            if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
            ) =>
        {
            return Err(HandshakeError::BadCookie)
        }
        Err(e) => return Err(e),
    };
    let mut c = Cursor::new(&msg);
    if c.array::<1>("challenge_ack")?[0] != b'a' {
        return Err(HandshakeError::Protocol("expected challenge_ack ('a')"));
    }
    let got = c.take(16, "challenge_ack digest truncated")?;
    if !digest_eq(got, &digest(our_challenge, cookie)) {
        return Err(HandshakeError::BadCookie);
    }
    Ok(())
}

/// Runs the initiator's side (node A) of the handshake on `s`, toward `peer_name`
/// (`name@host`, checked against the name in the acceptor's challenge).
///
/// An `alive` status is answered `true`: when we initiate, we hold no other connection to
/// the peer, so the acceptor should replace its old one (see [`initiate_ext`] for when
/// not).
///
/// # Errors
///
/// - [`HandshakeError::Io`]: the stream failed or ended mid-message (or timed out, with the
///   caller's timeouts);
/// - [`HandshakeError::Refused`]: status `nok` or `not_allowed`;
/// - [`HandshakeError::Protocol`]: a malformed, oversized or unexpected message, or the
///   `named:` status (we never ask for a dynamic name);
/// - [`HandshakeError::NameMismatch`]: the acceptor is another node;
/// - [`HandshakeError::MissingFlags`]: the acceptor lacks required flags;
/// - [`HandshakeError::BadCookie`]: the acceptor's digest is wrong, or it closed the
///   connection after our challenge reply.
#[cfg(test)]
pub(crate) fn initiate<S: Read + Write>(
    s: &mut S,
    local: &Local<'_>,
    framing: Framing,
    peer_name: &str,
) -> Result<PeerInfo, HandshakeError> {
    initiate_ext(s, local, framing, peer_name, &[], || true)
}

/// [`initiate`], with `extra` sent after our name in `send_name` (peers ignore it, as the
/// protocol requires; OTP 25's `dist_util` drops the residue), and `wanted` deciding the
/// answer to `alive`: `true` (replace the peer's connection) only while this attempt is
/// still the one the node wants — an attempt that lost a simultaneous connect meanwhile
/// must not replace the connection that won (the error is then `Refused("false")`).
pub(crate) fn initiate_ext<S: Read + Write>(
    s: &mut S,
    local: &Local<'_>,
    framing: Framing,
    peer_name: &str,
    extra: &[u8],
    wanted: impl FnOnce() -> bool,
) -> Result<PeerInfo, HandshakeError> {
    // 1. send_name.
    let mut body = Vec::with_capacity(17 + local.name.len() + extra.len());
    body.push(b'N');
    body.extend_from_slice(&local.flags.to_be_bytes());
    body.extend_from_slice(&local.creation.to_be_bytes());
    body.extend_from_slice(&name_len(local.name)?.to_be_bytes());
    body.extend_from_slice(local.name.as_bytes());
    body.extend_from_slice(extra);
    write_msg(s, framing, &body)?;

    // 2. recv_status.
    let status = recv_status(s, framing)?;
    match status.as_slice() {
        b"ok" | b"ok_simultaneous" => {}
        b"nok" | b"not_allowed" => {
            return Err(HandshakeError::Refused(
                String::from_utf8_lossy(&status).into_owned(),
            ))
        }
        b"alive" if wanted() => send_status(s, framing, "true")?,
        b"alive" => {
            send_status(s, framing, "false")?;
            return Err(HandshakeError::Refused("false".to_owned()));
        }
        st if st.starts_with(b"named:") => {
            return Err(HandshakeError::Protocol(
                "status named: without our asking for a dynamic name",
            ))
        }
        _ => return Err(HandshakeError::Protocol("unknown handshake status")),
    }

    // 3. recv_challenge.
    let msg = read_msg(s, framing)?;
    let mut c = Cursor::new(&msg);
    match c.array::<1>("challenge")?[0] {
        b'N' => {}
        b'n' => return Err(HandshakeError::Protocol("old-style challenge ('n') to 'N'")),
        _ => return Err(HandshakeError::Protocol("expected a challenge ('N')")),
    }
    let peer_flags = c.u64("challenge truncated")?;
    let peer_challenge = c.u32("challenge truncated")?;
    let peer_creation = c.u32("challenge truncated")?;
    let name = c.node_name("challenge truncated")?;
    // Extra bytes after the name are accepted (and only read by Hive).
    let peer_extra = c.rest.to_vec();
    if name != peer_name {
        return Err(HandshakeError::NameMismatch);
    }
    let missing = flags::missing_mandatory(peer_flags);
    if missing != 0 {
        return Err(HandshakeError::MissingFlags(missing));
    }

    // 5. challenge_reply.
    let our_challenge = random_u32()?;
    let mut body = Vec::with_capacity(21);
    body.push(b'r');
    body.extend_from_slice(&our_challenge.to_be_bytes());
    body.extend_from_slice(&digest(peer_challenge, local.cookie));
    write_msg(s, framing, &body)?;

    // 6. recv_challenge_ack.
    recv_ack(s, framing, our_challenge, local.cookie)?;
    Ok(PeerInfo {
        name,
        flags: flags::expand_digest(peer_flags),
        creation: peer_creation,
        extra: peer_extra,
    })
}

/// Runs the acceptor's side (node B) of the handshake on `s`.
///
/// `decide(peer_name, peer_creation)` picks the status once the peer's name is known and
/// its flags are acceptable; `peer_creation` is 0 for an old `'n'` send_name, whose creation
/// only arrives later in `send_complement`. A refused or failed handshake sends what the
/// protocol wants (`not_allowed` for missing flags, the refusing status, nothing after a
/// wrong digest) and returns the error; the caller then closes the stream.
///
/// # Errors
///
/// - [`HandshakeError::Io`]: the stream failed or ended mid-message;
/// - [`HandshakeError::Protocol`]: a malformed, oversized or unexpected message, an old
///   `'n'` send_name of a version other than 5, or a dynamic-name (`NAME_ME`) request
///   (answered `not_allowed`);
/// - [`HandshakeError::MissingFlags`]: the initiator lacks required flags (answered
///   `not_allowed`, or just closed if the lack shows only in `send_complement`);
/// - [`HandshakeError::Refused`]: `decide` answered `nok` or `not_allowed` (the status is
///   sent), or the initiator answered `alive` with `false` (`"false"`);
/// - [`HandshakeError::BadCookie`]: the initiator's digest is wrong (no ack is sent).
#[cfg(test)]
pub(crate) fn accept<S: Read + Write>(
    s: &mut S,
    local: &Local<'_>,
    framing: Framing,
    decide: impl FnOnce(&str, u32) -> Verdict,
) -> Result<PeerInfo, HandshakeError> {
    accept_ext(s, local, framing, |n, c, _| (decide(n, c), Vec::new()))
}

/// [`accept`], where `decide` also sees the bytes after the name in `send_name` and returns
/// bytes to send after our name in `send_challenge`.
pub(crate) fn accept_ext<S: Read + Write>(
    s: &mut S,
    local: &Local<'_>,
    framing: Framing,
    decide: impl FnOnce(&str, u32, &[u8]) -> (Verdict, Vec<u8>),
) -> Result<PeerInfo, HandshakeError> {
    // 1. recv_name.
    let msg = read_msg(s, framing)?;
    let mut c = Cursor::new(&msg);
    let old_style;
    let (mut peer_flags, mut peer_creation, name) = match c.array::<1>("send_name")?[0] {
        b'N' => {
            old_style = false;
            let f = c.u64("send_name truncated")?;
            let creation = c.u32("send_name truncated")?;
            let name = c.node_name("send_name truncated")?;
            // Extra bytes after the name are accepted (and only read by Hive).
            (f, creation, name)
        }
        b'n' => {
            old_style = true;
            if c.u16("send_name truncated")? != 5 {
                return Err(HandshakeError::Protocol(
                    "old send_name of a version other than 5",
                ));
            }
            let f = u64::from(c.u32("send_name truncated")?);
            let name = node_name(c.rest)?;
            c.rest = &[];
            (f, 0, name)
        }
        _ => return Err(HandshakeError::Protocol("expected send_name ('N' or 'n')")),
    };
    if peer_flags & flags::NAME_ME != 0 {
        send_status(s, framing, "not_allowed")?;
        return Err(HandshakeError::Protocol(
            "dynamic node names (NAME_ME) are not supported",
        ));
    }
    // An old send_name carries only the low 32 flag bits; the rest come in send_complement.
    let checked = if old_style { 0xffff_ffff } else { u64::MAX };
    let missing = flags::missing_mandatory(peer_flags) & checked;
    if missing != 0 {
        send_status(s, framing, "not_allowed")?;
        return Err(HandshakeError::MissingFlags(missing));
    }

    // 2. send_status.
    let peer_extra = c.rest.to_vec();
    let (verdict, our_extra) = decide(&name, peer_creation, &peer_extra);
    send_status(s, framing, verdict.status())?;
    match verdict {
        Verdict::Ok | Verdict::OkSimultaneous => {}
        Verdict::Nok | Verdict::NotAllowed => {
            return Err(HandshakeError::Refused(verdict.status().to_owned()))
        }
        Verdict::Alive => match recv_status(s, framing)?.as_slice() {
            b"true" => {}
            b"false" => return Err(HandshakeError::Refused("false".to_owned())),
            _ => {
                return Err(HandshakeError::Protocol(
                    "answer to alive is not true/false",
                ))
            }
        },
    }

    // 3. send_challenge (the new 'N' form, also after an old 'n', which had HANDSHAKE_23).
    let our_challenge = random_u32()?;
    let mut body = Vec::with_capacity(21 + local.name.len());
    body.push(b'N');
    body.extend_from_slice(&local.flags.to_be_bytes());
    body.extend_from_slice(&our_challenge.to_be_bytes());
    body.extend_from_slice(&local.creation.to_be_bytes());
    body.extend_from_slice(&name_len(local.name)?.to_be_bytes());
    body.extend_from_slice(local.name.as_bytes());
    body.extend_from_slice(&our_extra);
    write_msg(s, framing, &body)?;

    // 4. recv_complement, after an old send_name only.
    if old_style {
        let msg = read_msg(s, framing)?;
        let mut c = Cursor::new(&msg);
        if c.array::<1>("send_complement")?[0] != b'c' {
            return Err(HandshakeError::Protocol("expected send_complement ('c')"));
        }
        peer_flags |= u64::from(c.u32("send_complement truncated")?) << 32;
        peer_creation = c.u32("send_complement truncated")?;
        let missing = flags::missing_mandatory(peer_flags);
        if missing != 0 {
            return Err(HandshakeError::MissingFlags(missing));
        }
    }

    // 5. recv_challenge_reply.
    let msg = read_msg(s, framing)?;
    let mut c = Cursor::new(&msg);
    if c.array::<1>("challenge_reply")?[0] != b'r' {
        return Err(HandshakeError::Protocol("expected challenge_reply ('r')"));
    }
    let peer_challenge = c.u32("challenge_reply truncated")?;
    let got = c.take(16, "challenge_reply truncated")?;
    if !digest_eq(got, &digest(our_challenge, local.cookie)) {
        return Err(HandshakeError::BadCookie);
    }

    // 6. send_challenge_ack.
    let mut body = Vec::with_capacity(17);
    body.push(b'a');
    body.extend_from_slice(&digest(peer_challenge, local.cookie));
    write_msg(s, framing, &body)?;
    Ok(PeerInfo {
        name,
        flags: flags::expand_digest(peer_flags),
        creation: peer_creation,
        extra: peer_extra,
    })
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "interop_tests.rs"]
mod interop_tests;
