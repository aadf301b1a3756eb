//! The message header ([`Msg`]): its layout, allocation and freeing (recycling small
//! buffers through the [`CacheSource`] the caller passes in), and the accessors of its
//! fields and of a signal's prefix.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};

use super::cache::{CacheSource, SMALL_PAYLOAD};
use super::kind::{MessageKind, MAX_MESSAGE_LEN, MESSAGE_ALIGN, SIG_BASE, SIG_PREFIX, UDP_PREFIX};
use crate::pid::Pid;
use crate::reason::{ExitReason, ReasonKind};
use crate::sync::AtomicPtr;

/// Header of a message; the payload follows at offset [`HEADER`].
#[repr(C, align(16))]
pub(crate) struct Msg {
    /// The message after this one (in the outer or the inner queue). Must stay the first
    /// field: the outer queue's stub node is only this field.
    next: AtomicPtr<Msg>,
    /// Payload length in bytes (at most [`MAX_MESSAGE_LEN`], which fits).
    len: u32,
    /// Where the payload starts in the buffer after the header (bytes): 0 but for a
    /// message narrowed to part of what it was allocated with ([`Msg::narrow`]).
    off: u32,
    /// The sending process, or [`Pid::NONE`] when sent from a thread that is not a process.
    sender: Pid,
    kind: u32,
    /// Payload capacity: `SMALL_PAYLOAD` for small messages (recycled through a worker's
    /// [`MsgCache`](super::MsgCache)), else equal to `len`.
    cap: u32,
}

const HEADER: usize = std::mem::size_of::<Msg>();
const _: () = assert!(HEADER.is_multiple_of(MESSAGE_ALIGN));
const _: () = assert!(MAX_MESSAGE_LEN <= u32::MAX as usize);

impl Msg {
    pub(super) fn layout(len: usize) -> Layout {
        // Cannot fail: len ≤ MAX_MESSAGE_LEN is checked by every caller.
        Layout::from_size_align(HEADER + len, MESSAGE_ALIGN).expect("message layout")
    }

    /// Allocates a message with `len` payload bytes (uninitialised) of kind `kind` from
    /// `sender`. A small one takes a buffer from the cache `worker` gives (the calling
    /// thread's worker's; without one, or when it is empty, from the allocator).
    /// [`Msg::alloc`] is this with the calling thread's worker.
    ///
    /// Returns None when `len` is over [`MAX_MESSAGE_LEN`] bytes or memory is exhausted.
    #[inline(always)]
    pub(crate) fn alloc_by<W: CacheSource>(
        len: usize,
        sender: Pid,
        kind: MessageKind,
        worker: W,
    ) -> Option<NonNull<Msg>> {
        Self::alloc_kind(len, sender, kind as u32, worker)
    }

    /// As [`Msg::alloc_by`], with a raw kind (a [`MessageKind`] or a signal kind).
    ///
    /// Inlined into every caller whatever codegen unit it lands in: the send path is a
    /// buffer from the worker's cache and a header write; the rest is [`Msg::alloc_fresh`].
    #[inline(always)]
    pub(crate) fn alloc_kind<W: CacheSource>(
        len: usize,
        sender: Pid,
        kind: u32,
        worker: W,
    ) -> Option<NonNull<Msg>> {
        if len <= SMALL_PAYLOAD {
            if let Some(p) = worker.with_cache(|c, d| c.take(d)).flatten() {
                // SAFETY: a cached buffer is an unused allocation of `SMALL_PAYLOAD` bytes.
                unsafe { Self::init(p, len, sender, kind, SMALL_PAYLOAD) };
                return Some(p);
            }
        }
        Self::alloc_fresh(len, sender, kind)
    }

    /// As [`Msg::alloc_kind`], from the allocator: a large message, or a small one when the
    /// worker's cache is empty or there is no worker.
    #[inline(never)]
    fn alloc_fresh(len: usize, sender: Pid, kind: u32) -> Option<NonNull<Msg>> {
        if len > MAX_MESSAGE_LEN {
            return None;
        }
        let cap = len.max(SMALL_PAYLOAD);
        // SAFETY: the layout has non-zero size (the header alone is 32 bytes).
        let p = NonNull::new(unsafe { alloc::alloc(Self::layout(cap)) } as *mut Msg)?;
        // SAFETY: `p` is a fresh allocation of `cap` payload bytes.
        unsafe { Self::init(p, len, sender, kind, cap) };
        Some(p)
    }

    /// Writes the header of a message with `len` payload bytes into buffer `p`.
    ///
    /// # Safety
    /// `p` is an unused allocation of `cap` payload bytes (`len <= cap`) with the layout of
    /// [`Msg::layout`]`(cap)`.
    #[inline(always)]
    unsafe fn init(p: NonNull<Msg>, len: usize, sender: Pid, kind: u32, cap: usize) {
        // SAFETY: the caller passes an unused allocation made with `Msg::layout(cap)`: it is
        // large and aligned enough for the header, and nothing else reads or writes it.
        unsafe {
            p.as_ptr().write(Msg {
                next: AtomicPtr::new(ptr::null_mut()),
                len: len as u32,
                off: 0,
                sender,
                kind,
                cap: cap as u32,
            })
        };
    }

    /// Allocates a message holding a copy of `data` (see [`Msg::alloc_by`] for `worker`).
    #[inline(always)]
    pub(crate) fn with_data<W: CacheSource>(
        data: &[u8],
        sender: Pid,
        worker: W,
    ) -> Option<NonNull<Msg>> {
        let m = Self::alloc_by(data.len(), sender, MessageKind::Data, worker)?;
        // SAFETY: the payload area of `m` has exactly `data.len()` bytes and cannot overlap
        // `data`, which the caller owns.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), Self::fresh_payload(m), data.len()) };
        Some(m)
    }

    /// Frees a message. A small one's buffer goes to the cache `worker` gives (the calling
    /// thread's worker's; without one, to the allocator). [`Msg::free`] is this with the
    /// calling thread's worker.
    ///
    /// Inlined into every caller whatever codegen unit it lands in: the common case is a
    /// push onto the worker's cache; the rest is [`Msg::free_slow`].
    ///
    /// # Safety
    /// `m` was allocated by a `Msg` function and is owned by the caller; it is not used
    /// again.
    #[inline(always)]
    pub(crate) unsafe fn free_by<W: CacheSource>(m: *mut Msg, worker: W) {
        // SAFETY: `m` is a live message the caller owns (this function's contract): its header
        // is readable and nobody else writes it.
        if unsafe { (*m).cap } as usize == SMALL_PAYLOAD {
            // SAFETY: `m` is non-null (a live message).
            let nm = unsafe { NonNull::new_unchecked(m) };
            if worker.with_cache(|c, _| c.try_put(nm)) == Some(true) {
                return; // kept for reuse
            }
        }
        // SAFETY: the cache did not keep `m`: it is still a live message the caller owns and
        // does not use again (`free_slow`'s contract).
        unsafe { Self::free_slow(m, worker) }
    }

    /// As [`Msg::free_by`], when the worker's cache cannot simply keep `m`: a full cache
    /// (a batch goes to the depot), no worker (or the cache is busy), a large message.
    ///
    /// # Safety
    /// As [`Msg::free_by`].
    #[inline(never)]
    unsafe fn free_slow<W: CacheSource>(m: *mut Msg, worker: W) {
        // SAFETY: `m` is a live message the caller owns (this function's contract), allocated
        // with `Msg::layout(cap)`: its header is readable.
        let cap = unsafe { (*m).cap } as usize;
        if cap == SMALL_PAYLOAD {
            // SAFETY: `m` is non-null (a live message).
            let m = unsafe { NonNull::new_unchecked(m) };
            if let Some(freed) = worker.with_cache(|c, d| c.put(m, d)) {
                if freed > 0 {
                    worker.count_freed(freed);
                }
                return; // kept for reuse
            }
            // Not on a worker thread (or the cache is busy): straight to the allocator.
        } else {
            worker.count_freed(Self::layout(cap).size());
        }
        // SAFETY: allocated with this layout.
        unsafe { alloc::dealloc(m as *mut u8, Self::layout(cap)) }
    }

    /// Pointer to the payload.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn payload(m: *mut Msg) -> *mut u8 {
        // SAFETY: the buffer follows the header inside the same allocation, and the payload
        // starts `off` bytes into it (`narrow` keeps it inside).
        unsafe { (m as *mut u8).add(HEADER + (*m).off as usize) }
    }

    /// [`Msg::payload`] of a message just allocated, which has no offset yet: the send
    /// path's copy skips reading it.
    #[inline(always)]
    fn fresh_payload(m: NonNull<Msg>) -> *mut u8 {
        // SAFETY: the payload follows the header inside the same allocation.
        unsafe { (m.as_ptr() as *mut u8).add(HEADER) }
    }

    /// Narrows the payload of `m` to its bytes `start..start + len`, in place: a message
    /// that carries a frame becomes one that carries the frame's data, without a copy
    /// (`io::active`, `dist::dispatch`). The bytes left out stay allocated until `m` is
    /// freed. The payload may then start anywhere: a message that reaches user code must
    /// start 16-byte aligned, as `hive_msg_data` promises, and the caller checks that.
    ///
    /// # Safety
    /// `m` points to a live message the caller owns; `start + len` is at most its payload
    /// length.
    pub(crate) unsafe fn narrow(m: *mut Msg, start: usize, len: usize) {
        // SAFETY: `m` is live and owned (the caller's contract): nobody else reads or writes
        // its header.
        unsafe {
            debug_assert!(start + len <= (*m).len as usize);
            (*m).off += start as u32;
            (*m).len = len as u32;
        }
    }

    /// Sender pid.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn sender(m: *const Msg) -> Pid {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe { (*m).sender }
    }

    /// The sender as users see it: [`Pid::NONE`] for timer messages, blocking-call replies
    /// and socket messages (whose `sender` field holds a reference or a socket handle).
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn sender_of(m: *const Msg) -> Pid {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe {
            if MessageKind::has_no_sender((*m).kind) {
                Pid::NONE
            } else {
                (*m).sender
            }
        }
    }

    /// The socket handle of an active-mode socket message (`Tcp`, `TcpClosed`, `TcpError`,
    /// `TcpPassive`, `Udp`), else 0.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn socket(m: *const Msg) -> u64 {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe {
            if (5..=9).contains(&(*m).kind) {
                (*m).sender.0
            } else {
                0
            }
        }
    }

    /// The call reference of a blocking-call reply, else 0.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn call_ref(m: *const Msg) -> u64 {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe {
            if (*m).kind == MessageKind::Reply as u32 {
                (*m).sender.0
            } else {
                0
            }
        }
    }

    /// The timer reference of a timeout message, else 0.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn timer_ref(m: *const Msg) -> u64 {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe {
            if (*m).kind == MessageKind::Timeout as u32 {
                (*m).sender.0
            } else {
                0
            }
        }
    }

    /// Kind.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn kind(m: *const Msg) -> u32 {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable.
        unsafe { (*m).kind }
    }

    /// Sets the sender (used when a pre-allocated message is sent).
    ///
    /// # Safety
    /// `m` points to a live message owned by the caller.
    pub(crate) unsafe fn set_sender(m: *mut Msg, sender: Pid) {
        // SAFETY: `m` is a live message owned by the caller (this function's contract): no
        // other party reads or writes its header meanwhile.
        unsafe { (*m).sender = sender }
    }

    /// Changes the kind (a signal becoming an `Exit` or `Down` message).
    ///
    /// # Safety
    /// `m` points to a live message owned by the caller.
    pub(crate) unsafe fn set_kind(m: *mut Msg, kind: u32) {
        // SAFETY: `m` is a live message owned by the caller (this function's contract): no
        // other party reads or writes its header meanwhile.
        unsafe { (*m).kind = kind }
    }

    /// True for kinds whose payload starts with the [`SIG_PREFIX`] (signals, `Exit`,
    /// `Down`).
    fn has_prefix(kind: u32) -> bool {
        kind >= SIG_BASE || kind == MessageKind::Exit as u32 || kind == MessageKind::Down as u32
    }

    /// Allocates a signal (or an `Exit`/`Down` message) of kind `kind` from `sender`,
    /// carrying the monitor reference `mref` and the exit reason `reason` (see
    /// [`Msg::alloc_by`] for `worker`). Returns None when memory is exhausted.
    pub(crate) fn signal<W: CacheSource>(
        kind: u32,
        sender: Pid,
        mref: u64,
        reason: &ExitReason,
        worker: W,
    ) -> Option<NonNull<Msg>> {
        let data = reason.data();
        let m = Self::alloc_kind(SIG_PREFIX + data.len(), sender, kind, worker)?;
        // SAFETY: the payload has SIG_PREFIX + data.len() bytes, 16-byte aligned, and does
        // not overlap `data`.
        unsafe {
            let p = Self::payload(m.as_ptr());
            (p as *mut u64).write(mref);
            (p.add(8) as *mut u32).write(reason.kind() as u32);
            (p.add(12) as *mut u32).write(0);
            ptr::copy_nonoverlapping(data.as_ptr(), p.add(SIG_PREFIX), data.len());
        }
        Some(m)
    }

    /// Stores a signal's ticket (`signal::SignalCounts`) in its prefix.
    ///
    /// # Safety
    /// `m` is a live signal made by [`Msg::signal`], owned by the caller.
    pub(crate) unsafe fn set_ticket(m: *mut Msg, ticket: u32) {
        // SAFETY: `m` is a live signal made by `Msg::signal` and owned by the caller (this
        // function's contract): its 16-byte-aligned payload starts with the SIG_PREFIX bytes, of
        // which bytes 12..16 are the ticket, ours to write.
        unsafe { (Self::payload(m).add(12) as *mut u32).write(ticket) }
    }

    /// A signal's ticket.
    ///
    /// # Safety
    /// `m` is a live signal made by [`Msg::signal`].
    pub(crate) unsafe fn ticket(m: *const Msg) -> u32 {
        // SAFETY: `m` is a live signal made by `Msg::signal` (this function's contract): its
        // 16-byte-aligned payload starts with the SIG_PREFIX bytes, of which 12..16 are the ticket.
        unsafe { (Self::payload(m as *mut Msg).add(12) as *const u32).read() }
    }

    /// The monitor reference a signal, `Exit` or `Down` message carries (0 for others).
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn monitor_ref(m: *const Msg) -> u64 {
        // SAFETY: `m` points to a live message (the caller's contract), so its header is
        // readable; a kind with the prefix was made by `Msg::signal`, so its 16-byte-aligned
        // payload has at least SIG_PREFIX bytes, the first 8 being the monitor reference.
        unsafe {
            if Self::has_prefix((*m).kind) {
                (Self::payload(m as *mut Msg) as *const u64).read()
            } else {
                0
            }
        }
    }

    /// The exit reason a signal, `Exit` or `Down` message carries (None for others).
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn reason(m: *const Msg) -> Option<ExitReason> {
        // SAFETY: `m` points to a live message (the caller's contract), so its header is
        // readable; a kind with the prefix was made by `Msg::signal`: its 16-byte-aligned payload
        // holds the reason kind at bytes 8..12 and the reason's `len - SIG_PREFIX` bytes after
        // the SIG_PREFIX bytes, all inside the allocation.
        unsafe {
            if !Self::has_prefix((*m).kind) {
                return None;
            }
            let p = Self::payload(m as *mut Msg);
            let kind = ReasonKind::from_raw((p.add(8) as *const u32).read() as i32)?;
            Some(ExitReason::from_kind(
                kind,
                std::slice::from_raw_parts(p.add(SIG_PREFIX), (*m).len as usize - SIG_PREFIX),
            ))
        }
    }

    /// The reason kind a signal, `Exit` or `Down` message carries, else -1.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn reason_kind(m: *const Msg) -> i32 {
        // SAFETY: `m` points to a live message (the caller's contract), so its header is
        // readable; a kind with the prefix was made by `Msg::signal`, so its 16-byte-aligned
        // payload has at least SIG_PREFIX bytes, bytes 8..12 being the reason kind.
        unsafe {
            if Self::has_prefix((*m).kind) {
                (Self::payload(m as *mut Msg).add(8) as *const u32).read() as i32
            } else {
                -1
            }
        }
    }

    /// The user-visible payload: the reason's bytes for `Exit`/`Down`, else the payload.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn user_data(m: *mut Msg) -> *mut u8 {
        // SAFETY: `m` points to a live message (the caller's contract), so its header is
        // readable; a kind with a prefix has at least that many payload bytes, so the offset
        // stays inside the allocation.
        unsafe { Self::payload(m).add(Self::prefix_of((*m).kind)) }
    }

    /// Length of [`Msg::user_data`] in bytes.
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn user_len(m: *const Msg) -> usize {
        // SAFETY: `m` points to a live message (the caller's contract): its header is readable;
        // a kind with a prefix has `len` at least its size.
        unsafe { (*m).len as usize - Self::prefix_of((*m).kind) }
    }

    /// Bytes before the user-visible payload of a message of `kind`: none for `Data` (the
    /// common case, answered by the first compare), [`SIG_PREFIX`] for signals and
    /// `Exit`/`Down`, [`UDP_PREFIX`] for `Udp`.
    #[inline(always)]
    fn prefix_of(kind: u32) -> usize {
        if kind == MessageKind::Data as u32 {
            0
        } else if Self::has_prefix(kind) {
            SIG_PREFIX
        } else if kind == MessageKind::Udp as u32 {
            UDP_PREFIX
        } else {
            0
        }
    }

    /// The sender of a `Udp` message (None for other kinds).
    ///
    /// # Safety
    /// `m` points to a live message.
    pub(crate) unsafe fn udp_from(m: *const Msg) -> Option<std::net::SocketAddr> {
        // SAFETY: `m` points to a live message (the caller's contract); a `Udp` message has
        // at least UDP_PREFIX payload bytes.
        unsafe {
            if (*m).kind != MessageKind::Udp as u32 {
                return None;
            }
            let p = Self::payload(m as *mut Msg);
            let mut ip = [0u8; 16];
            ptr::copy_nonoverlapping(p, ip.as_mut_ptr(), 16);
            let port = u16::from_le_bytes([*p.add(16), *p.add(17)]);
            let v6 = std::net::Ipv6Addr::from(ip);
            let ip = if *p.add(18) == 4 {
                std::net::IpAddr::V4(v6.to_ipv4_mapped()?)
            } else {
                std::net::IpAddr::V6(v6)
            };
            Some(std::net::SocketAddr::new(ip, port))
        }
    }

    /// A `Udp` message from socket `h`: `from`'s address, then `data` (see [`UDP_PREFIX`]).
    pub(crate) fn udp<W: CacheSource>(
        h: u64,
        from: std::net::SocketAddr,
        data: &[u8],
        worker: W,
    ) -> Option<NonNull<Msg>> {
        let m = Self::alloc_kind(
            UDP_PREFIX + data.len(),
            Pid(h),
            MessageKind::Udp as u32,
            worker,
        )?;
        let mut head = [0u8; UDP_PREFIX];
        let (ip, fam) = match from.ip() {
            std::net::IpAddr::V4(v4) => (v4.to_ipv6_mapped(), 4),
            std::net::IpAddr::V6(v6) => (v6, 6),
        };
        head[..16].copy_from_slice(&ip.octets());
        head[16..18].copy_from_slice(&from.port().to_le_bytes());
        head[18] = fam;
        // SAFETY: the payload of `m` has UDP_PREFIX + data.len() bytes and overlaps neither.
        unsafe {
            let p = Self::payload(m.as_ptr());
            ptr::copy_nonoverlapping(head.as_ptr(), p, UDP_PREFIX);
            ptr::copy_nonoverlapping(data.as_ptr(), p.add(UDP_PREFIX), data.len());
        }
        Some(m)
    }
}

/// The `next` link of a message or of the outer queue's stub node.
///
/// # Safety
/// `m` points to a live message or to a stub (`next` is the first field of `Msg`, so both
/// start with an `AtomicPtr<Msg>`).
pub(super) unsafe fn next_of<'a>(m: *mut Msg) -> &'a AtomicPtr<Msg> {
    // SAFETY: `m` points to a live message or a stub (the caller's contract); both start
    // with an `AtomicPtr<Msg>` (`Msg` is `repr(C)` with `next` first), so the cast only
    // narrows the pointee to that first field, which lives as long as the node.
    unsafe { &*(m as *const AtomicPtr<Msg>) }
}
