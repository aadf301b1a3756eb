//! Timers: `hive_send_after`, `hive_start_timer` (to a pid or, `_named`, to a registered
//! name), `hive_cancel_timer`, `hive_read_timer` (BEAM group I). All run on the workers'
//! hierarchical timer wheels: no thread per timer; cancel and read are O(1) from any
//! thread, without a round trip to the worker that holds the timer.

use std::ffi::c_void;

use super::registry::name_arg;
use super::*;
use crate::mailbox::MessageKind;
use crate::sched::Caller;
use crate::timer::user::Dest;
use crate::Pid;

/// A timer reference: a `uint64_t`, never 0; not reused before 2^32 later timers have used
/// its slot of the timer table (a stale reference never affects a newer timer).
pub type hive_tref = u64;

/// Longest timer delay in ms (2^36, about 795 days).
pub const HIVE_MAX_TIMER_MS: u64 = 1 << 36;

/// # Safety
/// `data` is NULL or readable for `len` bytes; `out` is NULL or a writable `hive_tref`.
unsafe fn set(
    dest: Result<Dest, Status>,
    ms: i64,
    data: *const c_void,
    len: usize,
    kind: MessageKind,
    out: *mut hive_tref,
) -> hive_status {
    guard(|| {
        let dest = match dest {
            Ok(d) => d,
            Err(s) => return code(s),
        };
        if ms < 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        if data.is_null() && len != 0 {
            return HIVE_ERR_NULL_POINTER;
        }
        if len > crate::mailbox::MAX_MESSAGE_LEN {
            return HIVE_ERR_BAD_LENGTH;
        }
        let bytes = if len == 0 {
            &[][..]
        } else {
            // SAFETY: non-null and readable for `len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(data as *const u8, len) }
        };
        let caller = Caller::get();
        let rt = match runtime_for(&caller) {
            Ok(rt) => rt,
            Err(s) => return code(s),
        };
        match rt.set_timer(&caller, dest, ms as u64, bytes, kind) {
            Ok(tref) => {
                if !out.is_null() {
                    // SAFETY: non-null and writable per the contract.
                    unsafe { out.write(tref) };
                }
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// # Safety
/// `name` is NULL or readable for `len` bytes.
unsafe fn name_dest(name: *const c_void, len: usize) -> Result<Dest, Status> {
    // SAFETY: `name_arg` needs `name` NULL or readable for `len` bytes, which this
    // function's `# Safety` requires of the caller.
    let n = unsafe { name_arg(name, len) }?;
    Ok(Dest::Name(n.into()))
}

/// Sends a copy of `data[0..len]` to process `dest` after `ms` milliseconds
/// (`erlang:send_after/3`, BEAM cases 85, 90, 92–95): the message is an ordinary
/// `HIVE_MSG_DATA` message with sender 0. It arrives no earlier than `ms` ms from now; 0
/// delivers at once. Timers with different deadlines fire in deadline order; equal ones in
/// any order. The timer is cancelled if `dest` exits (or has already: the reference is
/// still returned). It outlives its creator; anyone with the reference may cancel it.
/// Works from any thread. `*out` (may be NULL) receives the timer reference.
///
/// Returns `HIVE_OK`; `HIVE_ERR_BAD_ARGUMENT` (ms < 0 or > `HIVE_MAX_TIMER_MS`, dest 0 or a
/// pid of another node),
/// `HIVE_ERR_NULL_POINTER` (data NULL with len > 0), `HIVE_ERR_BAD_LENGTH`,
/// `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_SYSTEM_LIMIT` (2^26 timers pending),
/// `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `data` is NULL or readable for `len` bytes; `out` is NULL or a writable `hive_tref`.
#[no_mangle]
pub unsafe extern "C" fn hive_send_after(
    dest: hive_pid,
    ms: i64,
    data: *const c_void,
    len: usize,
    out: *mut hive_tref,
) -> hive_status {
    // SAFETY: `set` needs `data` NULL or readable for `len` bytes and `out` NULL or a
    // writable `hive_tref`: this function's `# Safety` requires both of the caller.
    unsafe {
        set(
            Ok(Dest::Pid(Pid(dest))),
            ms,
            data,
            len,
            MessageKind::Data,
            out,
        )
    }
}

/// As `hive_send_after`, to the process registered as `name[0..name_len]` when the timer
/// fires (case 91): nobody registered then means the message is dropped; the timer is not
/// cancelled when a process holding the name exits. Name errors as `hive_register`.
///
/// # Safety
/// As `hive_send_after`; `name` is NULL or readable for `name_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_send_after_named(
    name: *const c_void,
    name_len: usize,
    ms: i64,
    data: *const c_void,
    len: usize,
    out: *mut hive_tref,
) -> hive_status {
    // SAFETY: `name_dest` needs `name` NULL or readable for `name_len` bytes and `set` needs
    // `data` NULL or readable for `len` bytes and `out` NULL or a writable `hive_tref`: this
    // function's `# Safety` requires all three of the caller.
    unsafe {
        let dest = name_dest(name, name_len);
        set(dest, ms, data, len, MessageKind::Data, out)
    }
}

/// As `hive_send_after`, but the message is of kind `HIVE_MSG_TIMEOUT`: the BEAM's
/// `{timeout, TRef, Msg}` (`erlang:start_timer/3`, case 86); `hive_msg_timer_ref` gives
/// the reference and the payload is `data`.
///
/// # Safety
/// As `hive_send_after`.
#[no_mangle]
pub unsafe extern "C" fn hive_start_timer(
    dest: hive_pid,
    ms: i64,
    data: *const c_void,
    len: usize,
    out: *mut hive_tref,
) -> hive_status {
    // SAFETY: `set` needs `data` NULL or readable for `len` bytes and `out` NULL or a
    // writable `hive_tref`: this function's `# Safety` requires both of the caller.
    unsafe {
        set(
            Ok(Dest::Pid(Pid(dest))),
            ms,
            data,
            len,
            MessageKind::Timeout,
            out,
        )
    }
}

/// As `hive_start_timer`, to a registered name (see `hive_send_after_named`).
///
/// # Safety
/// As `hive_send_after_named`.
#[no_mangle]
pub unsafe extern "C" fn hive_start_timer_named(
    name: *const c_void,
    name_len: usize,
    ms: i64,
    data: *const c_void,
    len: usize,
    out: *mut hive_tref,
) -> hive_status {
    // SAFETY: `name_dest` needs `name` NULL or readable for `name_len` bytes and `set` needs
    // `data` NULL or readable for `len` bytes and `out` NULL or a writable `hive_tref`: this
    // function's `# Safety` requires all three of the caller.
    unsafe {
        let dest = name_dest(name, name_len);
        set(dest, ms, data, len, MessageKind::Timeout, out)
    }
}

/// Cancels timer `tref` (`erlang:cancel_timer/1`, cases 87, 93, 94). On `HIVE_OK`,
/// `*ms_left_out` (may be NULL) receives the milliseconds that were left (rounded up) and
/// the message will never arrive. A timer that already fired leaves its message where it
/// is (possibly queued, case 94).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NO_TIMER` (fired, cancelled, destination exited, or never
/// a timer), `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `ms_left_out` is NULL or a writable `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_cancel_timer(tref: hive_tref, ms_left_out: *mut i64) -> hive_status {
    // SAFETY: `timer_query` needs `ms_left_out` NULL or a writable `int64_t`, which this
    // function's `# Safety` requires of the caller.
    unsafe { timer_query(ms_left_out, |rt| rt.cancel_timer(tref)) }
}

/// Writes the milliseconds left on timer `tref` (rounded up) to `*ms_left_out` (may be
/// NULL) (`erlang:read_timer/1`, case 88).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NO_TIMER`, `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `ms_left_out` is NULL or a writable `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_read_timer(tref: hive_tref, ms_left_out: *mut i64) -> hive_status {
    // SAFETY: `timer_query` needs `ms_left_out` NULL or a writable `int64_t`, which this
    // function's `# Safety` requires of the caller.
    unsafe { timer_query(ms_left_out, |rt| rt.read_timer(tref)) }
}

/// Runs a cancel or read and reports its ms left.
///
/// # Safety
/// `ms_left_out` is NULL or a writable `int64_t`.
unsafe fn timer_query(
    ms_left_out: *mut i64,
    op: impl FnOnce(&RtInner) -> Result<Option<u64>, Status>,
) -> hive_status {
    guard(|| match runtime().and_then(op) {
        Ok(Some(ms)) => {
            if !ms_left_out.is_null() {
                // SAFETY: non-null and writable per the contract.
                unsafe { ms_left_out.write(ms as i64) };
            }
            HIVE_OK
        }
        Ok(None) => HIVE_ERR_NO_TIMER,
        Err(s) => code(s),
    })
}
