//! Registered names: `hive_register`, `hive_unregister`, `hive_whereis`, `hive_send_named`
//! (BEAM group H). A name is 1 to `HIVE_MAX_NAME_LEN` bytes without NUL bytes, given as a
//! pointer and a length (it need not be NUL-terminated).

use std::ffi::c_void;

use super::*;
use crate::sched::Caller;
use crate::Pid;

/// Longest registered name, in bytes (the BEAM's atom limit).
pub const HIVE_MAX_NAME_LEN: usize = 255;

/// Reads a name argument.
///
/// # Safety
/// `name` is NULL or readable for `len` bytes.
pub(crate) unsafe fn name_arg<'a>(name: *const c_void, len: usize) -> Result<&'a [u8], Status> {
    if name.is_null() {
        return Err(Status::ErrNullPointer);
    }
    if len > HIVE_MAX_NAME_LEN {
        return Err(Status::ErrBadLength);
    }
    // SAFETY: non-null and readable for `len` bytes per the contract (len ≤ 255).
    Ok(unsafe { std::slice::from_raw_parts(name as *const u8, len) })
}

/// Registers `name[0..len]` for process `pid` (`erlang:register/2`, BEAM cases 79–80). Any
/// process or thread may register any process. A name maps to one process and a process
/// holds at most one name. The name is released when the process exits, before anyone is
/// told of the exit, so it can be registered again at once (cases 82–83).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (name NULL), `HIVE_ERR_BAD_LENGTH` (len >
/// `HIVE_MAX_NAME_LEN`), `HIVE_ERR_BAD_ARGUMENT` (len 0, a NUL byte in the name, pid 0 or a
/// pid of another node),
/// `HIVE_ERR_NAME_TAKEN` (the name is registered, also when to this very process: the name
/// is checked first), `HIVE_ERR_ALREADY_NAMED` (the process has another name),
/// `HIVE_ERR_NO_PROCESS` (pid not alive), `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `name` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_register(
    name: *const c_void,
    len: usize,
    pid: hive_pid,
) -> hive_status {
    guard(|| {
        // SAFETY: `name_arg` needs `name` NULL or readable for `len` bytes, which this
        // function's `# Safety` requires of the caller; the slice is used only during this call.
        let name = match unsafe { name_arg(name, len) } {
            Ok(n) => n,
            Err(s) => return code(s),
        };
        match runtime() {
            Ok(rt) => result_code(rt.register(name, Pid(pid))),
            Err(s) => code(s),
        }
    })
}

/// Removes the registered name `name[0..len]` (`erlang:unregister/1`, case 81); the process
/// may then register another name, and the name may go to another process.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_REGISTERED`, `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_LENGTH`, `HIVE_ERR_BAD_ARGUMENT`, `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `name` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_unregister(name: *const c_void, len: usize) -> hive_status {
    guard(|| {
        // SAFETY: `name_arg` needs `name` NULL or readable for `len` bytes, which this
        // function's `# Safety` requires of the caller; the slice is used only during this call.
        let name = match unsafe { name_arg(name, len) } {
            Ok(n) => n,
            Err(s) => return code(s),
        };
        match runtime() {
            Ok(rt) => result_code(rt.unregister(name)),
            Err(s) => code(s),
        }
    })
}

/// Writes the pid registered as `name[0..len]` to `*pid_out`, or 0 when none is
/// (`erlang:whereis/1`: `undefined`).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (name or pid_out NULL),
/// `HIVE_ERR_BAD_LENGTH`, `HIVE_ERR_BAD_ARGUMENT`, `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `name` is NULL or readable for `len` bytes; `pid_out` is NULL or a writable `hive_pid`.
#[no_mangle]
pub unsafe extern "C" fn hive_whereis(
    name: *const c_void,
    len: usize,
    pid_out: *mut hive_pid,
) -> hive_status {
    guard(|| {
        if pid_out.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: `name_arg` needs `name` NULL or readable for `len` bytes, which this
        // function's `# Safety` requires of the caller; the slice is used only during this call.
        let name = match unsafe { name_arg(name, len) } {
            Ok(n) => n,
            Err(s) => return code(s),
        };
        match runtime().and_then(|rt| rt.whereis(name)) {
            Ok(pid) => {
                // SAFETY: non-null and writable per the contract.
                unsafe { pid_out.write(pid.0) };
                HIVE_OK
            }
            Err(s) => code(s),
        }
    })
}

/// Sends a copy of `data[0..data_len]` to the process registered as `name[0..len]`
/// (`Name ! Msg`). Unlike a send to a pid, an unregistered name is an error (the BEAM's
/// `badarg`, case 80). Delivery as `hive_send`.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NOT_REGISTERED`; the name errors of `hive_register`;
/// the data errors of `hive_send` (`HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_LENGTH`,
/// `HIVE_ERR_NO_MEMORY`); `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `name` is NULL or readable for `len` bytes; `data` is NULL or readable for `data_len`.
#[no_mangle]
pub unsafe extern "C" fn hive_send_named(
    name: *const c_void,
    len: usize,
    data: *const c_void,
    data_len: usize,
) -> hive_status {
    guard(|| {
        // SAFETY: `name_arg` needs `name` NULL or readable for `len` bytes, which this
        // function's `# Safety` requires of the caller; the slice is used only during this call.
        let name = match unsafe { name_arg(name, len) } {
            Ok(n) => n,
            Err(s) => return code(s),
        };
        if data.is_null() && data_len != 0 {
            return HIVE_ERR_NULL_POINTER;
        }
        if data_len > crate::mailbox::MAX_MESSAGE_LEN {
            return HIVE_ERR_BAD_LENGTH;
        }
        let bytes = if data_len == 0 {
            &[][..]
        } else {
            // SAFETY: non-null and readable for `data_len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(data as *const u8, data_len) }
        };
        let caller = Caller::get();
        match runtime_for(&caller) {
            Ok(rt) => result_code(rt.send_named(&caller, name, bytes)),
            Err(s) => code(s),
        }
    })
}
