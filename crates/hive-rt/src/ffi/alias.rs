//! References and process aliases: `hive_make_ref`, `hive_alias`, `hive_unalias`,
//! `hive_monitor_alias`, `hive_send_alias`, `hive_send_msg_alias` (OTP 24's `make_ref/0`,
//! `alias/0,1`, `unalias/1`, `monitor/3` with `{alias, Mode}`, and `Alias ! Msg`; EEP 53).
//!
//! A `hive_ref` is the one reference type: `hive_make_ref` makes one, `hive_monitor`
//! returns one (its `uint64_t`), and an alias is one. Shape, uniqueness and the alias
//! protocol: `src/alias/mod.rs`; the call pattern they exist for: `docs/call-pattern.md`.

use std::ffi::c_void;
use std::ptr::NonNull;

use super::message::hive_msg;
use super::*;
use crate::alias::{self, AliasMode};
use crate::mailbox::{MessageKind, Msg, MAX_MESSAGE_LEN};
use crate::process;
use crate::sched::Caller;
use crate::Pid;

/// A reference: `[node:12 | serial:52]`, never 0. Unique while the runtime lives (fewer
/// than 2^52 made: at 10^8 a second, 1.4 years) across `hive_make_ref`, monitor
/// references (`hive_monitor`'s `uint64_t` is a `hive_ref`) and aliases. `node` is 0 for
/// references made here; it will name another node once distribution exists.
pub type hive_ref = u64;

/// Alias mode: deactivated only by `hive_unalias` (`alias/0`, `{alias, explicit_unalias}`).
/// For `hive_alias` and `hive_monitor_alias`.
pub const HIVE_ALIAS_EXPLICIT_UNALIAS: i32 = 0;
/// Alias mode: deactivated when the monitor is removed, by `hive_demonitor` or by its DOWN
/// reaching the owner (`{alias, demonitor}`). For `hive_monitor_alias`.
pub const HIVE_ALIAS_DEMONITOR: i32 = 1;
/// Alias mode: as `HIVE_ALIAS_DEMONITOR`, and also when the first message sent through the
/// alias reaches the owner, which then removes the monitor too (no DOWN follows)
/// (`{alias, reply_demonitor}`). For `hive_monitor_alias`.
pub const HIVE_ALIAS_REPLY_DEMONITOR: i32 = 2;
/// Alias mode: deactivated when the first message sent through the alias reaches the owner
/// (`alias([reply])`). For `hive_alias`.
pub const HIVE_ALIAS_REPLY: i32 = 3;

const _: () = assert!(
    HIVE_ALIAS_EXPLICIT_UNALIAS == 0
        && HIVE_ALIAS_DEMONITOR == 1
        && HIVE_ALIAS_REPLY_DEMONITOR == 2
        && HIVE_ALIAS_REPLY == 3
);

/// Writes a new reference to `*ref_out` (`erlang:make_ref/0`). From any thread. The
/// reference is never 0 and differs from every other reference of the runtime (made by any
/// process or thread, by `hive_make_ref`, `hive_monitor*` or `hive_alias`); see `hive_ref`.
/// A plain reference is no alias: a message sent to it with `hive_send_alias` is dropped.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (ref_out NULL), `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN` (both only from a thread that is not a process).
///
/// # Safety
/// `ref_out` is NULL or a writable `hive_ref`.
#[no_mangle]
pub unsafe extern "C" fn hive_make_ref(ref_out: *mut hive_ref) -> hive_status {
    guard(|| {
        if ref_out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        match runtime() {
            Ok(rt) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { ref_out.write(alias::make_ref_on(rt)) };
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Gives the calling process a new alias and writes it to `*alias_out` (`erlang:alias/0`
/// with `HIVE_ALIAS_EXPLICIT_UNALIAS`, `erlang:alias([reply])` with `HIVE_ALIAS_REPLY`). An
/// alias is a reference any process or thread can send to with `hive_send_alias`: while it
/// is active, each message arrives as an ordinary `HIVE_MSG_DATA` message (sender: whoever
/// sent it). It is deactivated by `hive_unalias`, in `HIVE_ALIAS_REPLY` mode by the first
/// message through it, and when the process exits; messages to an inactive alias are
/// dropped.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (alias_out NULL), `HIVE_ERR_BAD_ARGUMENT`
/// (mode not `HIVE_ALIAS_EXPLICIT_UNALIAS` or `HIVE_ALIAS_REPLY`),
/// `HIVE_ERR_NOT_A_PROCESS`.
///
/// # Safety
/// `alias_out` is NULL or a writable `hive_ref`.
#[no_mangle]
pub unsafe extern "C" fn hive_alias(mode: i32, alias_out: *mut hive_ref) -> hive_status {
    guard(|| {
        if alias_out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        let Some(mode) = AliasMode::from_raw(mode) else {
            return HIVE_ERR_BAD_ARGUMENT;
        };
        match alias::alias(mode) {
            Ok(a) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { alias_out.write(a) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Deactivates the calling process's alias `alias` (`erlang:unalias/1`), whatever mode it
/// was made with. When `was_active_out` is non-NULL it receives 1 if `alias` was an active
/// alias of the caller, else 0: already inactive, never an alias, or another process's
/// alias — only the owner can deactivate an alias, so that one stays active (OTP returns
/// `false` there). Messages sent through it afterwards, and those still on their way, are
/// dropped; messages already received stay in the mailbox.
///
/// Returns `HIVE_OK`; `HIVE_ERR_BAD_ARGUMENT` (alias 0), `HIVE_ERR_NOT_A_PROCESS`.
///
/// # Safety
/// `was_active_out` is NULL or a writable `int32_t`.
#[no_mangle]
pub unsafe extern "C" fn hive_unalias(alias: hive_ref, was_active_out: *mut i32) -> hive_status {
    guard(|| match alias::unalias(alias) {
        Ok(was) => {
            if !was_active_out.is_null() {
                // SAFETY: non-null and writable per the contract.
                unsafe { was_active_out.write(i32::from(was)) };
            }
            HIVE_OK
        }
        Err(e) => code(e.0),
    })
}

/// Monitors `pid` as `hive_monitor` does, and makes the monitor reference an alias of the
/// caller too (`erlang:monitor(process, Pid, [{alias, Mode}])`); writes it to `*ref_out`.
/// `mode`: `HIVE_ALIAS_EXPLICIT_UNALIAS` (active until `hive_unalias`),
/// `HIVE_ALIAS_DEMONITOR` (until the monitor is removed: `hive_demonitor`, or its DOWN
/// reaching the caller), `HIVE_ALIAS_REPLY_DEMONITOR` (also until the first message through
/// the alias arrives, which removes the monitor as `hive_demonitor` would: no DOWN
/// follows). If `pid` is dead or exiting the DOWN (`HIVE_REASON_NOPROC`) comes at once
/// (cases 57, 67) and an alias of the last two modes is never active. The DOWN still comes
/// when `pid` dies before a reply; a reply `pid` sent before dying arrives before it.
/// This is the building block of a call with a timeout: `docs/call-pattern.md`.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (ref_out NULL), `HIVE_ERR_BAD_ARGUMENT`
/// (pid 0, or mode not one of the three above), `HIVE_ERR_NOT_A_PROCESS`.
///
/// # Safety
/// `ref_out` is NULL or a writable `hive_ref`.
#[no_mangle]
pub unsafe extern "C" fn hive_monitor_alias(
    pid: hive_pid,
    mode: i32,
    ref_out: *mut hive_ref,
) -> hive_status {
    guard(|| {
        if ref_out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        let Some(mode) = AliasMode::from_raw(mode) else {
            return HIVE_ERR_BAD_ARGUMENT;
        };
        match alias::monitor_alias(Pid(pid), mode) {
            Ok(r) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { ref_out.write(r) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Sends a copy of `data[0..len]` through `alias` (`Alias ! Msg`). From any thread (the
/// message's sender is 0 outside a process). If the alias is active when the message
/// reaches its owner, the owner gets it as an ordinary `HIVE_MSG_DATA` message; otherwise
/// — deactivated, owner dead, a reference that is no alias, another node's alias — it is
/// dropped silently and the call still returns `HIVE_OK` (a send never fails). Keeps its
/// order with the caller's other messages to the owner.
///
/// Returns `HIVE_OK`; `HIVE_ERR_BAD_ARGUMENT` (alias 0), `HIVE_ERR_NULL_POINTER` (data
/// NULL with len > 0), `HIVE_ERR_BAD_LENGTH` (len > `HIVE_MAX_MESSAGE_LEN`),
/// `HIVE_ERR_NO_MEMORY`, `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN` (as for
/// `hive_send`: from a thread that is not a process, once `hive_shutdown` began).
///
/// # Safety
/// `data` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_send_alias(
    alias: hive_ref,
    data: *const c_void,
    len: usize,
) -> hive_status {
    guard(|| {
        if data.is_null() && len != 0 {
            return HIVE_ERR_NULL_POINTER;
        }
        let caller = Caller::get();
        let rt = match runtime_for(&caller) {
            Ok(rt) => rt,
            Err(s) => return code(s),
        };
        if len > MAX_MESSAGE_LEN {
            return HIVE_ERR_BAD_LENGTH;
        }
        let bytes = if len == 0 {
            &[][..]
        } else {
            // SAFETY: non-null and readable for `len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(data as *const u8, len) }
        };
        result_code(alias::send_alias_on(rt, &caller, alias, bytes))
    })
}

/// Sends a message made by `hive_msg_alloc` (or one received) through `alias` without
/// copying it; delivery as `hive_send_alias`. The runtime takes ownership of `msg` in every
/// case except a NULL `msg`. A `HIVE_MSG_DATA` message gets the caller as its sender; a
/// received message of another kind is forwarded unchanged (as `hive_send_msg`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (msg NULL), `HIVE_ERR_BAD_ARGUMENT` (alias
/// 0; msg freed), `HIVE_ERR_NO_MEMORY` (msg freed), `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN` (msg freed; as for `hive_send_alias`).
///
/// # Safety
/// `msg` is NULL or a message the caller owns.
#[no_mangle]
pub unsafe extern "C" fn hive_send_msg_alias(alias: hive_ref, msg: *mut hive_msg) -> hive_status {
    guard(|| {
        let Some(m) = NonNull::new(msg as *mut Msg) else {
            return HIVE_ERR_NULL_POINTER;
        };
        let caller = Caller::get();
        let rt = match runtime_for(&caller) {
            Ok(rt) => rt,
            Err(s) => {
                // SAFETY: the caller handed us `m`, which it owned.
                unsafe { Msg::free(m.as_ptr()) };
                return code(s);
            }
        };
        // SAFETY: we own `m` now.
        unsafe {
            if Msg::kind(m.as_ptr()) == MessageKind::Data as u32 {
                Msg::set_sender(m.as_ptr(), process::self_pid());
            }
        }
        result_code(alias::envelope::send_alias_msg(rt, &caller, alias, m))
    })
}
