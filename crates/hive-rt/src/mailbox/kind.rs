//! Message kinds and sizes: what a message is, for every file of the mailbox and the
//! layers above.

/// Largest payload of one message, in bytes (1 GiB).
pub(crate) const MAX_MESSAGE_LEN: usize = 1 << 30;

/// Alignment of a message's payload, in bytes.
pub(crate) const MESSAGE_ALIGN: usize = 16;

/// Kind of a message (`hive_msg_kind`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// Bytes sent with `hive_send` / `hive_send_msg` (or by `send_after`).
    Data = 0,
    /// A `start_timer` timeout: the BEAM's `{timeout, TRef, Msg}`; the payload is `Msg`, the
    /// timer reference is [`Message::timer_ref`](crate::Message::timer_ref).
    Timeout = 1,
    /// An exit signal received while trapping exits: the BEAM's `{'EXIT', From, Reason}`.
    /// [`Message::sender`](crate::Message::sender) is `From`,
    /// [`Message::reason`](crate::Message::reason) the reason; the payload is the reason's
    /// bytes.
    Exit = 2,
    /// A monitor fired: the BEAM's `{'DOWN', Ref, process, Pid, Reason}`.
    /// [`Message::sender`](crate::Message::sender) is `Pid`,
    /// [`Message::monitor_ref`](crate::Message::monitor_ref) is `Ref`,
    /// [`Message::reason`](crate::Message::reason) the reason; the payload is the reason's
    /// bytes.
    Down = 3,
    /// The result of a blocking call run on the blocking pool (`process::blocking_call`,
    /// `hive_blocking_call`): [`Message::call_ref`](crate::Message::call_ref) is the
    /// reference the call returned, the payload is the result's bytes, the sender is none.
    Reply = 4,
    /// Data from a socket in active mode (`{tcp, Socket, Data}`): one frame; the socket
    /// handle is [`Message::socket`](crate::Message::socket).
    Tcp = 5,
    /// The peer closed a socket in active mode (`{tcp_closed, Socket}`); nothing more
    /// comes from it.
    TcpClosed = 6,
    /// Receiving failed on a socket in active mode (`{tcp_error, Socket, Reason}`): the
    /// payload is the status code then the OS `errno`, two little-endian `i32`s; nothing
    /// more comes from it.
    TcpError = 7,
    /// A socket in active N mode delivered its N messages and is passive now
    /// (`{tcp_passive, Socket}`, `{udp_passive, Socket}`).
    TcpPassive = 8,
    /// A datagram from a UDP socket in active mode (`{udp, Socket, IP, Port, Data}`): the
    /// payload is the datagram, [`Message::udp_from`](crate::Message::udp_from) its sender.
    Udp = 9,
}

impl MessageKind {
    /// The kind of a raw kind number, for a message (not a signal).
    pub(crate) fn of(kind: u32) -> MessageKind {
        match kind {
            1 => MessageKind::Timeout,
            2 => MessageKind::Exit,
            3 => MessageKind::Down,
            4 => MessageKind::Reply,
            5 => MessageKind::Tcp,
            6 => MessageKind::TcpClosed,
            7 => MessageKind::TcpError,
            8 => MessageKind::TcpPassive,
            9 => MessageKind::Udp,
            _ => MessageKind::Data,
        }
    }

    /// Kinds whose header `sender` field holds a reference or a socket handle, not a pid.
    /// `Data` (the common case) is answered by its first compare.
    #[inline(always)]
    pub(crate) fn has_no_sender(kind: u32) -> bool {
        kind != MessageKind::Data as u32 && matches!(kind, 1 | 4..=9)
    }
}

/// Kinds at or above this value are signals other than messages (link, unlink, exit,
/// monitor, demonitor, down); they travel in the mailbox's outer queue, so they keep their
/// order with the sender's messages, and are handled by the receiver before it sees any
/// message behind them (see `signal/mod.rs`). They never reach the inner queue.
pub(crate) const SIG_BASE: u32 = 16;

/// Bytes before the user-visible payload of a `Udp` message: the sender's address, as
/// `[IPv6 or IPv4-mapped address: 16][port: u16 LE][family: 4 or 6][unused: 13]`.
pub(crate) const UDP_PREFIX: usize = 32;

/// Bytes before the user-visible payload of signals and of `Exit`/`Down` messages:
/// `[monitor ref: u64][reason kind: u32][signal ticket: u32]`, then the reason's bytes.
pub(crate) const SIG_PREFIX: usize = 16;
