//! Messages: `hive_send`, `hive_send_msg`, `hive_receive`, `hive_receive_match`,
//! `hive_mailbox_len` and the `hive_msg_*` accessors.
//!
//! **Ownership.** A `hive_msg` belongs to exactly one party:
//! - `hive_msg_alloc` gives the caller a message to fill; `hive_send_msg` takes it back
//!   (always, also when it returns an error other than `HIVE_ERR_NULL_POINTER`);
//! - `hive_receive` / `hive_receive_match` hand the caller a message it owns until it passes
//!   it to `hive_msg_free` (or forwards it, zero-copy, with `hive_send_msg`);
//! - the predicate of `hive_receive_match` only borrows the message for the call.
//!
//! Messages left in a mailbox when its process exits are freed by the runtime.

use std::ffi::c_void;
use std::ptr::NonNull;

use super::*;
use crate::mailbox::{MessageKind, Msg, MAX_MESSAGE_LEN};
use crate::process;
use crate::sched::Caller;
use crate::Pid;

/// An opaque message: a header and `hive_msg_len(m)` payload bytes at `hive_msg_data(m)`
/// (16-byte aligned).
#[repr(C)]
#[derive(Debug)]
pub struct hive_msg {
    _opaque: [u8; 0],
}

/// Predicate of a selective receive: return non-zero to take `msg`. It only borrows `msg`.
/// It runs while the receive's scan holds its place in the caller's mailbox, so every call
/// that would walk or take from that mailbox or re-arm its receive timeout returns
/// `HIVE_ERR_REENTRANT` and does nothing: `hive_receive*`, `hive_recv_mark`,
/// `hive_mailbox_len`, `hive_demonitor` with `HIVE_DEMONITOR_FLUSH`, a `hive_sleep` of more
/// than 0 ms, `hive_exit_pid` to the caller itself. Everything else is allowed (sending,
/// spawning, links, monitors, timers, `hive_self`, `hive_is_alive`, reduction checks,
/// `hive_yield`); signals that arrive meanwhile are handled once the predicate returned.
/// `hive_exit` from a predicate ends the process cleanly (its mailbox is freed; a terminate
/// callback may receive again).
pub type hive_match_fn = extern "C" fn(env: *mut c_void, msg: *const hive_msg) -> i32;

/// Largest message payload in bytes (1 GiB).
pub const HIVE_MAX_MESSAGE_LEN: usize = 1 << 30;
/// Message kind: ordinary data.
pub const HIVE_MSG_DATA: i32 = 0;
/// Message kind: a `hive_start_timer` timeout (`{timeout, TRef, Msg}`); the payload is the
/// timer's data and `hive_msg_timer_ref` gives the reference.
pub const HIVE_MSG_TIMEOUT: i32 = 1;
/// Message kind: an exit signal received while trapping exits (`{'EXIT', From, Reason}`):
/// `hive_msg_sender` is `From`, `hive_msg_reason_kind` the reason's kind, and
/// `hive_msg_data`/`hive_msg_len` its bytes (for `HIVE_REASON_ERROR`).
pub const HIVE_MSG_EXIT: i32 = 2;
/// Message kind: a monitor fired (`{'DOWN', Ref, process, Pid, Reason}`):
/// `hive_msg_sender` is `Pid`, `hive_msg_monitor_ref` is `Ref`, `hive_msg_reason_kind` and
/// `hive_msg_data`/`hive_msg_len` the exit reason.
pub const HIVE_MSG_DOWN: i32 = 3;
/// Message kind: the result of a `hive_blocking_call`: `hive_msg_call_ref` is the call's
/// reference, `hive_msg_data`/`hive_msg_len` the bytes the function gave `hive_reply_set`,
/// `hive_msg_sender` 0.
pub const HIVE_MSG_REPLY: i32 = 4;
/// Message kind: data from a socket in active mode (`{tcp, S, Data}`), one frame:
/// `hive_msg_socket` is the socket, the payload the data.
pub const HIVE_MSG_TCP: i32 = 5;
/// Message kind: the peer closed a socket in active mode (`{tcp_closed, S}`).
pub const HIVE_MSG_TCP_CLOSED: i32 = 6;
/// Message kind: receiving failed on a socket in active mode (`{tcp_error, S, Reason}`):
/// the payload is the status code, then the `errno`, two little-endian `int32_t`s.
pub const HIVE_MSG_TCP_ERROR: i32 = 7;
/// Message kind: a socket in active N mode delivered its N messages and is passive now
/// (`{tcp_passive, S}`).
pub const HIVE_MSG_TCP_PASSIVE: i32 = 8;
/// Message kind: a datagram from a UDP socket in active mode (`{udp, S, IP, Port, Data}`):
/// `hive_msg_socket` is the socket, the payload the datagram, `hive_msg_udp_from` its
/// sender.
pub const HIVE_MSG_UDP: i32 = 9;

fn raw(m: *const hive_msg) -> *mut Msg {
    m as *mut Msg
}

/// Sends a copy of `data[0..len]` to `to` (`erlang:send/2`). Works from any thread (the
/// message's sender is 0 outside a process). Sending to a dead or unknown pid — or to a pid
/// of another node, until distribution exists — succeeds and drops the message, as in
/// Erlang (BEAM case 2). Messages from one sender to one receiver arrive in order (14, 15).
///
/// Returns `HIVE_OK`; `HIVE_ERR_BAD_ARGUMENT` (pid 0), `HIVE_ERR_NULL_POINTER` (data NULL
/// with len > 0), `HIVE_ERR_BAD_LENGTH` (len > `HIVE_MAX_MESSAGE_LEN`),
/// `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN` (from a thread
/// that is not a process, once `hive_shutdown` began; a process still running then gets
/// `HIVE_OK`, as it is being stopped too and a BEAM send never fails).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_send(to: hive_pid, data: *const c_void, len: usize) -> hive_status {
    guard_entering(|| {
        if data.is_null() && len != 0 {
            return HIVE_ERR_NULL_POINTER;
        }
        let (_rt, caller) = Caller::entered();
        let rt = match runtime_for(&caller) {
            Ok(rt) => rt,
            Err(s) => return code(s),
        };
        let bytes = if len == 0 {
            &[][..]
        } else {
            if len > MAX_MESSAGE_LEN {
                return HIVE_ERR_BAD_LENGTH;
            }
            // SAFETY: non-null and readable for `len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(data as *const u8, len) }
        };
        result_code(process::send_on(rt, &caller, Pid(to), bytes).map_err(|e| e.0))
    })
}

/// Allocates a message with `len` payload bytes (uninitialised) for the caller to fill and
/// hand to `hive_send_msg` without a copy. `*out` receives it.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (out NULL), `HIVE_ERR_BAD_LENGTH`
/// (len > `HIVE_MAX_MESSAGE_LEN`), `HIVE_ERR_NO_MEMORY`.
///
/// # Safety
/// `out` is NULL or a writable `hive_msg *`.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_alloc(len: usize, out: *mut *mut hive_msg) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        if len > MAX_MESSAGE_LEN {
            return HIVE_ERR_BAD_LENGTH;
        }
        match Msg::alloc(len, Pid::NONE, MessageKind::Data) {
            Some(m) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { out.write(m.as_ptr() as *mut hive_msg) };
                HIVE_OK
            }
            None => HIVE_ERR_NO_MEMORY,
        }
    })
}

/// Sends a message made by `hive_msg_alloc` (or one received) to `to` without copying.
/// The runtime takes ownership of `msg` in every case except a NULL `msg`; the caller must
/// not touch it afterwards. Delivery rules as `hive_send`. A `HIVE_MSG_DATA` message gets
/// the caller as its sender; a received message of another kind (EXIT, DOWN, TIMEOUT) is
/// forwarded unchanged — kind, sender, reference and reason — as forwarding the tuple
/// `{'EXIT', From, Reason}` would on the BEAM.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (msg NULL), `HIVE_ERR_BAD_ARGUMENT` (pid 0;
/// msg freed), `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN` (msg freed; as for
/// `hive_send`, only for threads that are not processes).
///
/// # Safety
/// `msg` is NULL or a message the caller owns.
#[no_mangle]
pub unsafe extern "C" fn hive_send_msg(to: hive_pid, msg: *mut hive_msg) -> hive_status {
    guard(|| {
        let Some(m) = NonNull::new(raw(msg)) else {
            return HIVE_ERR_NULL_POINTER;
        };
        let free = || {
            // SAFETY: the caller handed us `m`, which it owned.
            unsafe { Msg::free(m.as_ptr()) };
        };
        if to == 0 {
            free();
            return HIVE_ERR_BAD_ARGUMENT;
        }
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(s) => {
                free();
                return code(s);
            }
        };
        // SAFETY: we own `m` now.
        unsafe {
            if Msg::kind(m.as_ptr()) == MessageKind::Data as u32 {
                Msg::set_sender(m.as_ptr(), process::self_pid());
            }
        }
        result_code(rt.send(Pid(to), m))
    })
}

/// Receives the oldest message of the calling process's mailbox, waiting at most
/// `timeout_ms` milliseconds: 0 = do not wait (a poll that finds nothing costs one
/// reduction, so a process polling in a loop is preempted like any other), negative = forever, at most 4294967295
/// (Erlang's limit). On `HIVE_OK`, `*out` receives a message the caller owns
/// (free it with `hive_msg_free`). A message that arrives as the timeout fires is never
/// lost: it stays for the next receive. Cases 4, 8–11, 13.
///
/// Returns `HIVE_OK`; `HIVE_TIMEOUT`; `HIVE_ERR_NULL_POINTER` (out NULL),
/// `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_BAD_ARGUMENT` (timeout > 4294967295 and the receive
/// had to wait — as on the BEAM, case 12, a queued message is returned without checking
/// it), `HIVE_ERR_REENTRANT` (called from inside a `hive_receive_match` predicate: nothing
/// is taken, the mailbox is unchanged).
///
/// # Safety
/// `out` is NULL or a writable `hive_msg *`.
#[no_mangle]
pub unsafe extern "C" fn hive_receive(timeout_ms: i64, out: *mut *mut hive_msg) -> hive_status {
    if timeout_ms < 0 && !out.is_null() {
        // The common case, without a timeout: a shallow path with nothing that can panic
        // (see `process::receive_any`), so no `catch_unwind` frame either.
        if let Ok((_rt, pcb)) = process::entered() {
            // SAFETY: `pcb` is the calling process.
            return match unsafe { process::receive_any(pcb) } {
                Ok(m) => {
                    // SAFETY: `out` is non-null and writable per the contract.
                    unsafe { out.write(m.as_ptr() as *mut hive_msg) };
                    HIVE_OK
                }
                Err(s) => code(s),
            };
        }
    }
    // SAFETY: `receive` needs `out` NULL or a writable `hive_msg *`, which this function's
    // `# Safety` requires of the caller; with no predicate there is no `match` to call.
    unsafe { receive(None, 0, timeout_ms, out) }
}

/// Selective receive (BEAM cases 5–8): returns the oldest message for which
/// `match(env, msg)` is non-zero, leaving the others in the mailbox in order. While it
/// waits, each message is examined once (a save pointer keeps the scan's place across
/// wake-ups); each examination costs one reduction, and a long scan is preempted and
/// resumed. Timeout, ownership and status codes as `hive_receive` (with
/// `HIVE_ERR_REENTRANT` from inside a predicate), plus `HIVE_ERR_NULL_POINTER` when `match`
/// is NULL. What `match` may call: see `hive_match_fn`.
///
/// # Safety
/// `out` is NULL or a writable `hive_msg *`; `match` is safe to call with `env`.
#[no_mangle]
pub unsafe extern "C" fn hive_receive_match(
    r#match: Option<extern "C" fn(env: *mut c_void, msg: *const hive_msg) -> i32>,
    env: *mut c_void,
    timeout_ms: i64,
    out: *mut *mut hive_msg,
) -> hive_status {
    // SAFETY: `hive_receive_match_from` has this function's contract: `out` NULL or a
    // writable `hive_msg *` and `match` safe to call with `env`, both guaranteed by our
    // caller. Mark 0 scans from the oldest message.
    unsafe { hive_receive_match_from(0, r#match, env, timeout_ms, out) }
}

/// Sets the calling process's receive mark and writes its id to `*mark_out`: a later
/// `hive_receive_match_from` with that id examines only messages that arrived after this
/// call. This is what the BEAM's receive markers do for a call/reply
/// (`Ref = make_ref(), Server ! {Ref, Req}, receive {Ref, Reply} -> ...`): set the mark,
/// make the reference, send the request, then receive from the mark, and the reply is
/// found without scanning the messages queued before. One mark per process; a new one
/// replaces the old (a receive from an old id scans from the oldest message: correct, only
/// slower).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (mark_out NULL), `HIVE_ERR_NOT_A_PROCESS`,
/// `HIVE_ERR_REENTRANT` (called from inside a `hive_receive_match` predicate; the mark is
/// unchanged).
///
/// # Safety
/// `mark_out` is NULL or a writable `uint64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_recv_mark(mark_out: *mut u64) -> hive_status {
    guard(|| {
        if mark_out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        match process::recv_mark() {
            Ok(id) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { mark_out.write(id) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// As `hive_receive_match`, examining only the messages that arrived after
/// `hive_recv_mark` returned `mark` (the caller guarantees no earlier message can match).
/// Status codes as `hive_receive_match`.
///
/// # Safety
/// As `hive_receive_match`.
#[no_mangle]
pub unsafe extern "C" fn hive_receive_match_from(
    mark: u64,
    r#match: Option<extern "C" fn(env: *mut c_void, msg: *const hive_msg) -> i32>,
    env: *mut c_void,
    timeout_ms: i64,
    out: *mut *mut hive_msg,
) -> hive_status {
    let Some(f) = r#match else {
        return HIVE_ERR_NULL_POINTER;
    };
    // SAFETY: `receive` needs `out` NULL or a writable `hive_msg *` and `f` safe to call
    // with `env`: this function's `# Safety` (as `hive_receive_match`) requires both of the
    // caller.
    unsafe { receive(Some((f, env)), mark, timeout_ms, out) }
}

/// # Safety
/// As `hive_receive_match`.
unsafe fn receive(
    pred: Option<(hive_match_fn, *mut c_void)>,
    from_mark: u64,
    timeout_ms: i64,
    out: *mut *mut hive_msg,
) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        let pcb = match process::current() {
            Ok(p) => p,
            Err(s) => return code(s),
        };
        let mut call = |m: *mut Msg| -> bool {
            let (f, env) = pred.expect("predicate present");
            f(env, m as *const hive_msg) != 0
        };
        let matcher: Option<&mut dyn FnMut(*mut Msg) -> bool> = match pred {
            Some(_) => Some(&mut call),
            None => None,
        };
        // SAFETY: `pcb` is the calling process (it refuses to run inside a predicate).
        let r = unsafe { process::receive_raw(pcb, timeout_ms, matcher, from_mark) };
        match r {
            Ok(m) => {
                // SAFETY: non-null and writable per the contract; the message is now the
                // caller's.
                unsafe { out.write(m.as_ptr() as *mut hive_msg) };
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Writes the number of messages in the calling process's mailbox to `*out`
/// (`process_info(self(), message_queue_len)`). Signals that have reached the process are
/// handled first, so the `EXIT`/`DOWN` messages they become are counted; the count itself
/// comes from the mailbox's counters and costs the same however long the mailbox is.
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_NOT_A_PROCESS`,
/// `HIVE_ERR_REENTRANT` (called from inside a `hive_receive_match` predicate, which may
/// read `mailbox_len` of `hive_get_process_info(hive_self(), …)` instead).
///
/// # Safety
/// `out` is NULL or a writable `size_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_mailbox_len(out: *mut usize) -> hive_status {
    guard(|| {
        if out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        match process::mailbox_len() {
            Ok(n) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { out.write(n) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Pointer to the payload of `msg` (16-byte aligned), or NULL when `msg` is NULL.
///
/// `msg` is `const` like every accessor's, so a match predicate (which gets a
/// `const hive_msg *`) calls it without a cast. The result is not `const` (as `strchr`'s):
/// the payload is writable only through a message the caller owns (`hive_msg_alloc`, a
/// received message); a predicate only borrows its message and must not write to it.
///
/// # Safety
/// `msg` is NULL or a live message the caller owns or borrows.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_data(msg: *const hive_msg) -> *mut u8 {
    if msg.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: a live message per the contract.
    unsafe { Msg::user_data(raw(msg)) }
}

/// Payload length of `msg` in bytes (0 when `msg` is NULL).
///
/// # Safety
/// `msg` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_len(msg: *const hive_msg) -> usize {
    if msg.is_null() {
        return 0;
    }
    // SAFETY: a live message per the contract.
    unsafe { Msg::user_len(raw(msg)) }
}

/// The process that sent `msg`, or 0 (sent from a thread that is not a process, sent by a
/// timer, or `msg` NULL).
///
/// # Safety
/// `msg` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_sender(msg: *const hive_msg) -> hive_pid {
    if msg.is_null() {
        return 0;
    }
    // SAFETY: a live message per the contract.
    unsafe { Msg::sender_of(raw(msg)).0 }
}

/// The timer reference of a `HIVE_MSG_TIMEOUT` message, else 0 (also for NULL).
///
/// # Safety
/// `msg` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_timer_ref(msg: *const hive_msg) -> u64 {
    if msg.is_null() {
        return 0;
    }
    // SAFETY: a live message per the contract.
    unsafe { Msg::timer_ref(raw(msg)) }
}

/// The sender of a `HIVE_MSG_UDP` message: its IP as NUL-terminated text into `ip_buf`
/// (`ip_cap` ≥ `HIVE_SOCKET_ADDR_MAX` always suffices) and its port to `*port`.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (`msg`, `ip_buf` or `port`),
/// `HIVE_ERR_BAD_ARGUMENT` (not a `HIVE_MSG_UDP` message), `HIVE_ERR_BAD_LENGTH` (`ip_cap`
/// too small for this address).
///
/// # Safety
/// `msg` is NULL or a live message; `ip_buf` NULL or writable for `ip_cap` bytes; `port`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_udp_from(
    msg: *const hive_msg,
    ip_buf: *mut std::ffi::c_char,
    ip_cap: usize,
    port: *mut u16,
) -> hive_status {
    if msg.is_null() || ip_buf.is_null() || port.is_null() {
        return HIVE_ERR_NULL_POINTER;
    }
    // SAFETY: a live message per the contract.
    let Some(a) = (unsafe { Msg::udp_from(raw(msg)) }) else {
        return super::HIVE_ERR_BAD_ARGUMENT;
    };
    let text = a.ip().to_string();
    if text.len() + 1 > ip_cap {
        return super::HIVE_ERR_BAD_LENGTH;
    }
    // SAFETY: `ip_buf` is writable for `ip_cap` ≥ len + 1 bytes and `port` writable (the
    // contract, both non-null).
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), ip_buf.cast::<u8>(), text.len());
        *ip_buf.add(text.len()) = 0;
        *port = a.port();
    }
    super::HIVE_OK
}

/// The socket of a `HIVE_MSG_TCP*` or `HIVE_MSG_UDP` message (active mode), else 0 (also
/// for NULL).
///
/// # Safety
/// `msg` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_socket(msg: *const hive_msg) -> u64 {
    if msg.is_null() {
        return 0;
    }
    // SAFETY: a live message per the contract.
    unsafe { Msg::socket(raw(msg)) }
}

/// The call reference of a `HIVE_MSG_REPLY` message (what `hive_blocking_call` returned),
/// else 0 (also for NULL).
///
/// # Safety
/// `msg` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_call_ref(msg: *const hive_msg) -> u64 {
    if msg.is_null() {
        return 0;
    }
    // SAFETY: a live message per the contract.
    unsafe { Msg::call_ref(raw(msg)) }
}

/// The monitor reference of a `HIVE_MSG_DOWN` message, else 0 (also for NULL).
///
/// # Safety
/// `msg` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_monitor_ref(msg: *const hive_msg) -> u64 {
    if msg.is_null() {
        return 0;
    }
    // SAFETY: a live message per the contract.
    unsafe {
        if Msg::kind(raw(msg)) == MessageKind::Down as u32 {
            Msg::monitor_ref(raw(msg))
        } else {
            0
        }
    }
}

/// The exit reason's kind (`HIVE_REASON_*`) of a `HIVE_MSG_EXIT` or `HIVE_MSG_DOWN`
/// message; -1 for other kinds and for NULL. The reason's bytes are the message's data.
///
/// # Safety
/// `msg` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_reason_kind(msg: *const hive_msg) -> i32 {
    if msg.is_null() {
        return -1;
    }
    // SAFETY: a live message per the contract.
    unsafe { Msg::reason_kind(raw(msg)) }
}

/// Kind of `msg`: `HIVE_MSG_DATA`, `HIVE_MSG_TIMEOUT`, `HIVE_MSG_EXIT`, `HIVE_MSG_DOWN`,
/// `HIVE_MSG_REPLY`, `HIVE_MSG_TCP`, `HIVE_MSG_TCP_CLOSED`, `HIVE_MSG_TCP_ERROR`,
/// `HIVE_MSG_TCP_PASSIVE`, `HIVE_MSG_UDP`, or `HIVE_ERR_NULL_POINTER` when `msg` is NULL.
///
/// # Safety
/// `msg` is NULL or a live message.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_kind(msg: *const hive_msg) -> i32 {
    if msg.is_null() {
        return HIVE_ERR_NULL_POINTER;
    }
    // SAFETY: a live message per the contract.
    unsafe { Msg::kind(raw(msg)) as i32 }
}

/// Frees a message the caller owns. NULL is ignored.
///
/// # Safety
/// `msg` is NULL or a message the caller owns; it is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn hive_msg_free(msg: *mut hive_msg) {
    if let Some(m) = NonNull::new(raw(msg)) {
        // The buffer may go to this worker's cache: runtime code.
        let (_rt, caller) = Caller::entered();
        // SAFETY: owned by the caller, per the contract.
        unsafe { Msg::free_by(m.as_ptr(), caller.worker) }
    }
}
