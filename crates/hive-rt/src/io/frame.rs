//! Active mode's receive state and framing (`{active, once | N}`, `{packet, raw | 1 | 2 |
//! 4 | line}` of `inet:setopts/2`): bytes read from the socket accumulate here and leave
//! as whole frames, one message each. `active.rs` does the reading and sending; a large
//! frame of [`Packet::Batch4`] is gathered here in the message that will carry it ([`Big`]).

use std::ptr::NonNull;

use crate::mailbox::{CacheSource, MessageKind, Msg, MESSAGE_ALIGN};
use crate::pid::Pid;

/// How the byte stream is cut into messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Packet {
    /// Whatever one read gave (`{packet, raw}`).
    Raw,
    /// A big-endian length prefix of 1, 2 or 4 bytes, not part of the message
    /// (`{packet, 1 | 2 | 4}`).
    Len(u8),
    /// Up to and including a `\n` (`{packet, line}`); a line longer than the limit is an
    /// error.
    Line,
    /// 4-byte length prefixes, and each message carries every whole frame buffered, with
    /// their prefixes, up to [`BATCH_BYTES`] (one frame alone when it is larger). Internal:
    /// a distribution connection's controller cuts the frames itself, one message per
    /// read instead of per frame.
    Batch4,
}

/// Bytes of frames one [`Packet::Batch4`] message carries at most (unless one frame is
/// larger).
pub(crate) const BATCH_BYTES: usize = 256 << 10;

/// Splits [`Packet::Batch4`] message data into its frames. None when the data does not end
/// at a frame's end (not such a message).
pub(crate) fn batch_frames(mut data: &[u8]) -> impl Iterator<Item = Option<&[u8]>> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        let Some((len, rest)) = data.split_first_chunk::<4>() else {
            data = &[];
            return Some(None);
        };
        let len = u32::from_be_bytes(*len) as usize;
        let Some(frame) = rest.get(..len) else {
            data = &[];
            return Some(None);
        };
        data = &rest[len..];
        Some(Some(frame))
    })
}

/// Largest frame active mode delivers (bytes): a longer length prefix or line is an
/// error (`EMSGSIZE`), so a peer cannot make the runtime buffer without limit
/// (`{packet_size, N}`).
pub(crate) const MAX_FRAME: usize = 64 << 20;

/// Delivered bytes at the front of the buffer are dropped (the rest moved down) once there
/// are this many and they are at least half of it.
const COMPACT_AFTER: usize = 64 << 10;

/// Frames from this many bytes on are read into their own message ([`Big`]).
pub(crate) const BIG_FRAME: usize = 16 << 10;
/// Frames over this many bytes are buffered as any other: a peer cannot make the node
/// allocate more than this for a frame announced and not sent.
pub(crate) const BIG_MAX: usize = 4 << 20;
/// Bytes of a frame's head buffered before its payload is placed.
pub(crate) const HEAD_BYTES: usize = 1024;

/// A large frame being read into the message that will carry it: `total` bytes (its
/// length prefix included) from offset `lead` of the payload, `filled` of them read.
#[derive(Debug)]
pub(crate) struct Big {
    pub(crate) msg: NonNull<Msg>,
    pub(crate) lead: usize,
    pub(crate) filled: usize,
    pub(crate) total: usize,
}

// SAFETY: `Big` is the only owner of its message, which no other thread refers to.
unsafe impl Send for Big {}

impl Drop for Big {
    fn drop(&mut self) {
        // SAFETY: the message is owned by `self` and not used again.
        unsafe { Msg::free(self.msg.as_ptr()) }
    }
}

impl Big {
    /// Starts a large frame when the buffer holds the head of one (and nothing else: the
    /// whole frames before it were delivered). None otherwise, or when the message cannot
    /// be allocated (the frame then goes through the buffer).
    pub(crate) fn start<W: CacheSource>(rx: &mut RxState, sender: Pid, worker: W) -> Option<Big> {
        let head = rx.pending();
        let len = u32::from_be_bytes(*head.first_chunk::<4>()?) as usize;
        if !(BIG_FRAME..=BIG_MAX).contains(&len) || head.len() >= 4 + len {
            return None;
        }
        if head.len() < HEAD_BYTES {
            return None; // the next read completes the head first
        }
        let lead = rx
            .locate
            .and_then(|f| f(head))
            .map_or(0, |at| at.wrapping_neg() % MESSAGE_ALIGN);
        let total = 4 + len;
        let m = Msg::alloc_by(lead + total, sender, MessageKind::Tcp, worker)?;
        let filled = head.len();
        // SAFETY: the payload of `m` has `lead + total` bytes, more than `lead + filled`;
        // `head` is the socket's buffer, not `m`.
        unsafe {
            std::ptr::copy_nonoverlapping(head.as_ptr(), Msg::payload(m.as_ptr()).add(lead), filled)
        };
        rx.consume(filled);
        Some(Big {
            msg: m,
            lead,
            filled,
            total,
        })
    }

    /// The message, narrowed to the frame, once every byte is in; else `Err` with `self`.
    pub(crate) fn finish(self) -> Result<NonNull<Msg>, Big> {
        if self.filled < self.total {
            return Err(self);
        }
        let m = self.msg;
        // SAFETY: `m` is owned here (forgotten from `self` below) and its payload holds the
        // frame at `lead`; `lead + total` is its length. The frame goes to the socket's
        // owner, runtime code, which only reads it as bytes.
        unsafe { Msg::narrow(m.as_ptr(), self.lead, self.total) };
        std::mem::forget(self);
        Ok(m)
    }
}

/// Where a frame's payload starts, given the frame's first bytes ([`RxState::locate`]).
pub(crate) type Locate = fn(&[u8]) -> Option<usize>;

/// Active-mode state of one socket (under the slot's lock).
#[derive(Debug)]
pub(crate) struct RxState {
    /// 0: passive; -1: once; n > 0: n more messages, then passive.
    pub(crate) active: i32,
    pub(crate) packet: Packet,
    /// Bytes read; those from `pos` on are not yet delivered ([`RxState::pending`]).
    pub(crate) buf: Vec<u8>,
    /// Where the undelivered bytes start: delivering a frame moves it instead of the
    /// bytes behind it, and the buffer is compacted once at least half of it is
    /// delivered (a buffer of 1 MiB of 64 KiB frames moved 8 MiB when every frame
    /// shifted the rest).
    pub(crate) pos: usize,
    /// End of stream or an error was delivered: nothing more will be.
    pub(crate) finished: bool,
    /// [`Packet::Batch4`]: a large frame being read straight into the message that will
    /// carry it (`active.rs`, "Large frames"). Such a socket is only read in active mode
    /// (its controller never reads it passively), so no passive read skips these bytes.
    pub(crate) big: Option<Big>,
    /// [`Packet::Batch4`]: where in a frame (counted from its length prefix) the bytes
    /// that should start 16-byte aligned begin, given the frame's first bytes; None when
    /// it cannot tell (a distribution connection's payload: `dist::dispatch::payload_at`).
    pub(crate) locate: Option<Locate>,
    /// A read has filled a small buffer: reads ask for 64 KiB from then on
    /// (`active.rs`, `read_some`). Until then they ask for little, so an idle socket of a
    /// request-response protocol keeps a small buffer, not a 64 KiB one.
    pub(crate) streaming: bool,
}

impl Default for RxState {
    fn default() -> RxState {
        RxState {
            active: 0,
            packet: Packet::Raw,
            buf: Vec::new(),
            pos: 0,
            finished: false,
            big: None,
            locate: None,
            streaming: false,
        }
    }
}

/// What the buffer holds next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A whole frame: bytes `start..end` of `buf` are its payload, and `consumed` bytes
    /// leave the buffer with it ([`RxState::consume`]).
    Frame {
        start: usize,
        end: usize,
        consumed: usize,
    },
    /// More bytes are needed.
    More,
    /// The frame announced is larger than [`MAX_FRAME`].
    TooLarge,
}

impl RxState {
    /// The next frame in the buffer under the current packet mode.
    pub(crate) fn next(&self) -> Next {
        match self.next_in(self.pending()) {
            Next::Frame {
                start,
                end,
                consumed,
            } => Next::Frame {
                start: self.pos + start,
                end: self.pos + end,
                consumed,
            },
            other => other,
        }
    }

    /// The bytes read and not yet delivered.
    pub(crate) fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// `n` more bytes (at most [`RxState::pending`]'s) were delivered.
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos += n;
        debug_assert!(self.pos <= self.buf.len());
        if self.pos >= self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos >= COMPACT_AFTER && 2 * self.pos >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// [`RxState::next`] in `b` (offsets in `b`).
    fn next_in(&self, b: &[u8]) -> Next {
        match self.packet {
            Packet::Raw => {
                if b.is_empty() {
                    Next::More
                } else {
                    Next::Frame {
                        start: 0,
                        end: b.len(),
                        consumed: b.len(),
                    }
                }
            }
            Packet::Len(n) => {
                let n = n as usize;
                if b.len() < n {
                    return Next::More;
                }
                let len = b[..n].iter().fold(0usize, |a, &x| (a << 8) | x as usize);
                if len > MAX_FRAME {
                    return Next::TooLarge;
                }
                if b.len() < n + len {
                    return Next::More;
                }
                Next::Frame {
                    start: n,
                    end: n + len,
                    consumed: n + len,
                }
            }
            Packet::Batch4 => {
                let mut at = 0;
                while let Some(p) = b.get(at..at + 4) {
                    let len = p.iter().fold(0usize, |a, &x| (a << 8) | x as usize);
                    if len > MAX_FRAME {
                        if at == 0 {
                            return Next::TooLarge;
                        }
                        break; // delivered on its own, next
                    }
                    let end = at + 4 + len;
                    if end > b.len() || at > 0 && end > BATCH_BYTES {
                        break;
                    }
                    at = end;
                }
                if at == 0 {
                    Next::More
                } else {
                    Next::Frame {
                        start: 0,
                        end: at,
                        consumed: at,
                    }
                }
            }
            Packet::Line => match b.iter().position(|&c| c == b'\n') {
                Some(i) => Next::Frame {
                    start: 0,
                    end: i + 1,
                    consumed: i + 1,
                },
                None if b.len() > MAX_FRAME => Next::TooLarge,
                None => Next::More,
            },
        }
    }

    /// Counts one delivered message down. Returns true when the socket just became
    /// passive after an active N (a `TcpPassive` message is due, as `{tcp_passive, S}`).
    pub(crate) fn count_down(&mut self) -> bool {
        match self.active {
            -1 => {
                self.active = 0;
                false
            }
            n if n > 1 => {
                self.active = n - 1;
                false
            }
            1 => {
                self.active = 0;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(packet: Packet, input: &[u8]) -> (Vec<Vec<u8>>, usize) {
        let mut rx = RxState {
            packet,
            ..Default::default()
        };
        rx.buf.extend_from_slice(input);
        let mut out = Vec::new();
        while let Next::Frame {
            start,
            end,
            consumed,
        } = rx.next()
        {
            out.push(rx.buf[start..end].to_vec());
            rx.consume(consumed);
        }
        (out, rx.pending().len())
    }

    #[test]
    fn length_prefixed_frames_and_a_partial_one() {
        let (f, left) = frames(
            Packet::Len(2),
            &[0, 3, b'a', b'b', b'c', 0, 1, b'x', 0, 5, b'y'],
        );
        assert_eq!(f, vec![b"abc".to_vec(), b"x".to_vec()]);
        assert_eq!(left, 3);
        let (f, _) = frames(Packet::Len(1), &[0, 2, 1, 2]);
        assert_eq!(f, vec![Vec::new(), vec![1, 2]]);
        let mut rx = RxState {
            packet: Packet::Len(4),
            ..Default::default()
        };
        rx.buf.extend_from_slice(&[0xff, 0, 0, 0]);
        assert_eq!(rx.next(), Next::TooLarge);
    }

    /// Large frames delivered one by one, with more bytes arriving between them: each
    /// frame comes out whole and in order, and the delivered front of the buffer is
    /// dropped once it is at least half of it.
    #[test]
    fn delivered_frames_leave_the_buffer_without_moving_each_time() {
        let frame = |i: u8| {
            let mut f = 70_000u32.to_be_bytes().to_vec();
            f.extend((0..70_000u32).map(|k| i.wrapping_add(k as u8)));
            f
        };
        let mut rx = RxState {
            packet: Packet::Len(4),
            ..Default::default()
        };
        for i in 0..6 {
            rx.buf.extend_from_slice(&frame(i));
        }
        let mut next_in = 6;
        for i in 0..20u8 {
            let Next::Frame {
                start,
                end,
                consumed,
            } = rx.next()
            else {
                panic!("frame {i} is whole in the buffer");
            };
            assert_eq!(rx.buf[start..end], frame(i)[4..], "frame {i}");
            rx.consume(consumed);
            assert!(rx.pos < COMPACT_AFTER || 2 * rx.pos < rx.buf.len());
            if next_in < 20 {
                rx.buf.extend_from_slice(&frame(next_in));
                next_in += 1;
            }
        }
        assert_eq!(rx.next(), Next::More);
        assert!(rx.pending().is_empty());
        assert_eq!((rx.pos, rx.buf.len()), (0, 0));
    }

    /// Batches carry every whole frame buffered with their prefixes, stop at the batch
    /// limit or a partial frame, and split back into the same frames.
    #[test]
    fn a_batch_carries_the_whole_frames_and_splits_into_them() {
        let mut input = Vec::new();
        let sizes = [0usize, 3, 200_000, 100_000, 5, 300_000, 1];
        for (i, &n) in sizes.iter().enumerate() {
            input.extend_from_slice(&(n as u32).to_be_bytes());
            input.extend(std::iter::repeat_n(i as u8, n));
        }
        input.extend_from_slice(&[0, 0, 0, 9, 1, 2]); // a partial frame
        let (batches, left) = frames(Packet::Batch4, &input);
        assert_eq!(left, 6);
        let sizes_of = |b: &Vec<u8>| {
            batch_frames(b)
                .map(|f| f.expect("whole frames").len())
                .collect::<Vec<_>>()
        };
        let got: Vec<Vec<usize>> = batches.iter().map(sizes_of).collect();
        // 4 + 0 + 4 + 3 + 4 + 200,000 fit 256 KiB; 100,000 more would not; 300,000 goes
        // alone; the last frame after it.
        assert_eq!(
            got,
            vec![
                vec![0, 3, 200_000],
                vec![100_000, 5],
                vec![300_000],
                vec![1]
            ]
        );
        for (k, f) in batch_frames(&batches[0]).enumerate() {
            assert!(f.unwrap().iter().all(|&x| x == k as u8));
        }
        assert_eq!(
            batch_frames(&[0, 0, 0, 2, 1]).collect::<Vec<_>>(),
            vec![None]
        );
        assert_eq!(batch_frames(&[0, 0]).collect::<Vec<_>>(), vec![None]);
    }

    #[test]
    fn lines_keep_their_newline() {
        let (f, left) = frames(Packet::Line, b"one\ntwo\nthr");
        assert_eq!(f, vec![b"one\n".to_vec(), b"two\n".to_vec()]);
        assert_eq!(left, 3);
    }

    #[test]
    fn active_n_counts_down_to_passive() {
        let mut rx = RxState {
            active: 2,
            ..Default::default()
        };
        assert!(!rx.count_down());
        assert!(rx.count_down());
        assert_eq!(rx.active, 0);
        rx.active = -1;
        assert!(!rx.count_down());
        assert_eq!(rx.active, 0);
    }
}
