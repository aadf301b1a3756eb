//! Distribution: `hive_dist_start`, `hive_dist_stop`, `hive_node_name`, `hive_dist_nodes`,
//! `hive_send_remote_name`, `hive_monitor_node`, `hive_disconnect_node`
//! (`docs/distribution.md`). Sends, links, monitors and exit signals to remote pids use
//! the ordinary calls (`hive_send`, `hive_link`, `hive_monitor`, `hive_exit_pid` …), which
//! take pids of other nodes. Node names are NUL-terminated strings of at most 255 bytes,
//! `name@host`.

use std::ffi::{c_char, c_void};

use super::signal::{HIVE_SPAWN_LINK, HIVE_SPAWN_MONITOR};
use super::*;

/// `hive_dist_options.flags`: long names (`-name`): the host added to a name without one
/// is this machine's full host name (short names, `-sname`, without it).
pub const HIVE_DIST_LONG_NAMES: u32 = 1;
/// `hive_dist_options.flags`: a published node (in other nodes' `nodes()`), not hidden.
pub const HIVE_DIST_PUBLISHED: u32 = 2;
/// `hive_dist_options.flags`: no EPMD; every node listens on `epmd_port`
/// (`-erl_epmd_port`), which this node also listens on unless `listen` gives a port.
pub const HIVE_DIST_NO_EPMD: u32 = 4;
/// `hive_dist_options.flags`: do not start an EPMD when none answers (then
/// `hive_dist_start` fails with `HIVE_ERR_CONN_REFUSED`).
pub const HIVE_DIST_NO_START_EPMD: u32 = 8;
/// `hive_dist_options.flags`: when no EPMD answers, start Hive's own port mapper (threads
/// of this runtime, stopped with the node) even if the system `epmd` is installed.
pub const HIVE_DIST_OWN_PORT_MAPPER: u32 = 16;
/// `hive_dist_options.flags`, with TLS: an accepting node lets a peer without a client
/// certificate in (one presented is still verified). Off by default: mutual TLS.
pub const HIVE_DIST_TLS_OPTIONAL_PEER_CERT: u32 = 32;
/// `hive_dist_options.flags`, with TLS: do not refuse a peer whose certificate is not
/// valid for the host part of its node name (see `docs/distribution.md`, "TLS").
pub const HIVE_DIST_TLS_NO_NAME_CHECK: u32 = 64;
const ALL_FLAGS: u32 = 127;

/// How to start a node (`hive_dist_start`). Zeroed fields take the defaults.
#[repr(C)]
#[derive(Debug)]
pub struct hive_dist_options {
    /// NUL-terminated node name, `name` or `name@host` (required).
    pub name: *const c_char,
    /// The cookie's bytes, or NULL to read `$HOME/.erlang.cookie` (made with a random
    /// cookie when missing, as `erl` does).
    pub cookie: *const c_void,
    /// Length of `cookie`, bytes (at most 255).
    pub cookie_len: usize,
    /// NUL-terminated listen address `"ip:port"` (IPv4 or `[ipv6]:port`), or NULL for
    /// `0.0.0.0:0` (all interfaces, any free port).
    pub listen: *const c_char,
    /// EPMD's port (0: `ERL_EPMD_PORT`, else 4369); with `HIVE_DIST_NO_EPMD`, the port
    /// every node listens on.
    pub epmd_port: u16,
    /// `HIVE_DIST_*` flags.
    pub flags: u32,
    /// `net_ticktime`, ms (0: 60,000); at least 400.
    pub tick_time_ms: u32,
    /// Connect and handshake timeout, ms (0: 7,000): the whole handshake, TLS included.
    pub setup_time_ms: u32,
    /// TLS distribution (`-proto_dist inet_tls`, mutual TLS): NUL-terminated path of the
    /// PEM file with this node's certificate and its intermediates (OTP `certfile`), or
    /// NULL for plain TCP. With it, `tls_key_file` and `tls_ca_file` are required.
    pub tls_cert_file: *const c_char,
    /// NUL-terminated path of the PEM private key of the certificate (PKCS#8, PKCS#1 or
    /// SEC1; OTP `keyfile`).
    pub tls_key_file: *const c_char,
    /// NUL-terminated path of the PEM file of CA certificates trusted to sign peers'
    /// certificates (OTP `cacertfile`).
    pub tls_ca_file: *const c_char,
    /// Bytes queued to one node beyond which a process sending a message there is
    /// suspended until the queue is handed to the socket (the BEAM's busy distribution
    /// port, `+zdbbl`); 0: 512 KiB (the BEAM's default is 1 MiB; docs/distribution.md,
    /// "Back-pressure").
    pub busy_limit_bytes: usize,
    /// Accepted connections allowed in their handshake at once (not yet authenticated;
    /// each bounded by the setup time); more are closed at once. 0: 64.
    pub max_handshakes: u32,
    /// Connections per Hive peer, 1 to 16 (0: 1): each process's signals to that node take
    /// the one its pid picks, so a bulk sender does not delay the others; a BEAM peer always
    /// gets one (`docs/distribution.md`, "Lanes").
    pub lanes: u32,
}

/// Reads a NUL-terminated path of at most 4095 bytes.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string (or to at least 4096 readable bytes).
unsafe fn c_path(s: *const c_char) -> Result<std::path::PathBuf, Status> {
    if s.is_null() {
        return Err(Status::ErrNullPointer);
    }
    // SAFETY: the caller's contract: readable up to its NUL or for 4096 bytes.
    let n = unsafe { libc::strnlen(s, 4096) };
    if n > 4095 {
        return Err(Status::ErrBadLength);
    }
    // SAFETY: `n` bytes are readable (strnlen read them).
    let b = unsafe { std::slice::from_raw_parts(s as *const u8, n) };
    use std::os::unix::ffi::OsStrExt;
    Ok(std::ffi::OsStr::from_bytes(b).into())
}

/// Reads a NUL-terminated string of at most 255 bytes.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string (or to at least 256 readable bytes).
unsafe fn c_str<'a>(s: *const c_char) -> Result<&'a str, Status> {
    if s.is_null() {
        return Err(Status::ErrNullPointer);
    }
    // SAFETY: the caller's contract: readable up to its NUL or for 256 bytes.
    let n = unsafe { libc::strnlen(s, 256) };
    if n > 255 {
        return Err(Status::ErrBadLength);
    }
    // SAFETY: `n` bytes are readable (strnlen read them).
    let b = unsafe { std::slice::from_raw_parts(s as *const u8, n) };
    std::str::from_utf8(b).map_err(|_| Status::ErrBadArgument)
}

/// Writes `v` to `out` when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
unsafe fn put<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: non-null and writable per the contract.
        unsafe { out.write(v) };
    }
}

/// Copies `text` to `buf` (capacity `cap` bytes, no NUL added); its length goes to
/// `len_out`. `HIVE_ERR_BAD_LENGTH` when it does not fit (nothing copied).
///
/// # Safety
/// `buf` is NULL or writable for `cap` bytes; `len_out` NULL or writable.
unsafe fn copy_out(text: &[u8], buf: *mut c_char, cap: usize, len_out: *mut usize) -> hive_status {
    // SAFETY: per the contract.
    unsafe { put(len_out, text.len()) };
    if text.len() > cap {
        return HIVE_ERR_BAD_LENGTH;
    }
    if !text.is_empty() {
        if buf.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        // SAFETY: `buf` is writable for `cap` ≥ `text.len()` bytes and cannot overlap `text`.
        unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, text.len()) };
    }
    HIVE_OK
}

/// Starts distribution (`net_kernel:start/2`; see `docs/distribution.md`): the runtime
/// becomes node `opts->name`, listens, registers with EPMD (starting the system `epmd`,
/// else Hive's own port mapper, when none answers and `HIVE_DIST_NO_START_EPMD` is not
/// set). A hidden node unless `HIVE_DIST_PUBLISHED`. From any thread or process; waits at
/// most twice the setup time. The node's creation goes to `creation_out` and its port to
/// `port_out` (each may be NULL).
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER` (opts or name NULL),
/// `HIVE_ERR_BAD_ARGUMENT` (a name with an empty part or not UTF-8, a listen address that
/// does not parse, unknown flags, `lanes` over 16), `HIVE_ERR_BAD_LENGTH` (a name over
/// 255 bytes, a cookie over 255, a TLS path over 4095), `HIVE_ERR_NOT_DISTRIBUTED` (already
/// started),
/// `HIVE_ERR_IO` (the cookie file could not be read or made), `HIVE_ERR_TLS_CONFIG` (the
/// TLS files are unusable; a NULL key or CA path with a certificate path is
/// `HIVE_ERR_NULL_POINTER`), `HIVE_ERR_ADDR_IN_USE`, `HIVE_ERR_CONN_REFUSED` (no EPMD
/// and starting one is off), `HIVE_ERR_NAME_TAKEN` (EPMD has a node of that name),
/// `HIVE_TIMEOUT`, `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `opts` is NULL or a valid `hive_dist_options` whose non-NULL strings are NUL-terminated
/// and whose cookie is readable for `cookie_len` bytes; `creation_out` and `port_out` are
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_dist_start(
    opts: *const hive_dist_options,
    creation_out: *mut u32,
    port_out: *mut u16,
) -> hive_status {
    guard(|| {
        // SAFETY: `opts` is NULL or valid per the contract.
        let Some(o) = (unsafe { opts.as_ref() }) else {
            return HIVE_ERR_NULL_POINTER;
        };
        // SAFETY: the name is NUL-terminated per the contract.
        let name = match unsafe { c_str(o.name) } {
            Ok(n) => n.to_owned(),
            Err(s) => return code(s),
        };
        if o.flags & !ALL_FLAGS != 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        let cookie = if o.cookie.is_null() {
            None
        } else if o.cookie_len > 255 {
            return HIVE_ERR_BAD_LENGTH;
        } else {
            // SAFETY: readable for `cookie_len` bytes per the contract.
            let bytes = unsafe { std::slice::from_raw_parts(o.cookie as *const u8, o.cookie_len) };
            Some(bytes.to_vec())
        };
        let mut d = crate::dist::Options {
            name,
            long_names: o.flags & HIVE_DIST_LONG_NAMES != 0,
            cookie,
            hidden: o.flags & HIVE_DIST_PUBLISHED == 0,
            start_epmd: o.flags & HIVE_DIST_NO_START_EPMD == 0,
            own_port_mapper: o.flags & HIVE_DIST_OWN_PORT_MAPPER != 0,
            ..Default::default()
        };
        if !o.listen.is_null() {
            // SAFETY: NUL-terminated per the contract.
            match unsafe { c_str(o.listen) }.map(|s| s.parse::<std::net::SocketAddr>()) {
                Ok(Ok(a)) => d.listen = a,
                Ok(Err(_)) => return HIVE_ERR_BAD_ARGUMENT,
                Err(s) => return code(s),
            }
        }
        if o.flags & HIVE_DIST_NO_EPMD != 0 {
            if o.epmd_port == 0 {
                return HIVE_ERR_BAD_ARGUMENT;
            }
            d.discovery = crate::dist::Discovery::FixedPort(o.epmd_port);
            if d.listen.port() == 0 {
                d.listen.set_port(o.epmd_port);
            }
        } else if o.epmd_port != 0 {
            d.discovery = crate::dist::Discovery::Epmd(o.epmd_port);
        }
        if o.tick_time_ms != 0 {
            d.tick_time_ms = o.tick_time_ms;
        }
        if o.setup_time_ms != 0 {
            d.setup_time_ms = o.setup_time_ms;
        }
        if o.busy_limit_bytes != 0 {
            d.busy_limit_bytes = o.busy_limit_bytes;
        }
        if o.lanes > 16 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        if o.lanes != 0 {
            d.lanes = o.lanes as usize;
        }
        if o.max_handshakes != 0 {
            d.max_handshakes = o.max_handshakes as usize;
        }
        if !o.tls_cert_file.is_null() {
            // SAFETY: NUL-terminated per the contract.
            let files = unsafe {
                (
                    c_path(o.tls_cert_file),
                    c_path(o.tls_key_file),
                    c_path(o.tls_ca_file),
                )
            };
            let (cert, key, ca) = match files {
                (Ok(c), Ok(k), Ok(a)) => (c, k, a),
                (Err(s), _, _) | (_, Err(s), _) | (_, _, Err(s)) => return code(s),
            };
            let mut t = crate::dist::TlsOptions::new(cert, key, ca);
            t.require_peer_cert = o.flags & HIVE_DIST_TLS_OPTIONAL_PEER_CERT == 0;
            t.check_node_names = o.flags & HIVE_DIST_TLS_NO_NAME_CHECK == 0;
            d.tls = Some(t);
        }
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(s) => return code(s),
        };
        match crate::dist::start(rt, d) {
            Ok(info) => {
                // SAFETY: NULL or writable per the contract.
                unsafe {
                    put(creation_out, info.creation);
                    put(port_out, info.port);
                }
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// Stops distribution: every connection closes (links and monitors across them end with
/// `noconnection` here), the node leaves EPMD. Returns `HIVE_OK`;
/// `HIVE_ERR_NOT_DISTRIBUTED`, `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
#[no_mangle]
pub extern "C" fn hive_dist_stop() -> hive_status {
    guard(|| match runtime() {
        Ok(rt) => result_code(crate::dist::stop(rt).map_err(|e| e.0)),
        Err(s) => code(s),
    })
}

/// This node's full name (`node/0`), copied to `buf` (capacity `cap` bytes, no NUL
/// added), its length to `len_out`. Returns `HIVE_OK`; `HIVE_ERR_BAD_LENGTH` (`cap` too
/// small: `*len_out` says how much is needed), `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_NOT_DISTRIBUTED`, `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `buf` is NULL or writable for `cap` bytes; `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_node_name(
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
) -> hive_status {
    guard(|| {
        let node = match runtime()
            .and_then(|rt| crate::dist::node_of(rt).ok_or(Status::ErrNotDistributed))
        {
            Ok(n) => n,
            Err(s) => return code(s),
        };
        // SAFETY: per this function's contract.
        unsafe { copy_out(node.me.name.as_str().as_bytes(), buf, cap, len_out) }
    })
}

/// The nodes connected now (`nodes(connected)`), sorted, each name followed by a NUL,
/// copied to `buf` (capacity `cap` bytes); the bytes needed go to `len_out`, the count to
/// `count_out`. Returns `HIVE_OK`; `HIVE_ERR_BAD_LENGTH` (`cap` too small),
/// `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_NOT_DISTRIBUTED`, `HIVE_ERR_NOT_INITIALIZED`,
/// `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `buf` is NULL or writable for `cap` bytes; `len_out` and `count_out` are NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn hive_dist_nodes(
    buf: *mut c_char,
    cap: usize,
    len_out: *mut usize,
    count_out: *mut usize,
) -> hive_status {
    guard(|| {
        let node = match runtime()
            .and_then(|rt| crate::dist::node_of(rt).ok_or(Status::ErrNotDistributed))
        {
            Ok(n) => n,
            Err(s) => return code(s),
        };
        let names = crate::dist::nodes_on(&node);
        let mut text = Vec::new();
        for n in &names {
            text.extend_from_slice(n.as_bytes());
            text.push(0);
        }
        // SAFETY: per this function's contract.
        unsafe {
            put(count_out, names.len());
            copy_out(&text, buf, cap, len_out)
        }
    })
}

/// `{Name, Node} ! Msg` from the calling process (`REG_SEND`): the process registered as
/// `name[0..name_len]` on `node` when the message arrives gets a copy of `data[0..len]`
/// (case 102); nobody there, or an unreachable node, drops it (cases 106, 107). Connects
/// on demand and never waits (case 108). `node` may be this node. Bytes that are one ETF
/// term arrive as that term, other bytes as a binary.
///
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_LENGTH` (a name over 255
/// bytes, data over 1 GiB), `HIVE_ERR_BAD_ARGUMENT` (empty name, a node name without `@`),
/// `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NOT_DISTRIBUTED`.
///
/// # Safety
/// `node` is NUL-terminated; `name` is NULL or readable for `name_len` bytes; `data` is
/// NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn hive_send_remote_name(
    node: *const c_char,
    name: *const c_void,
    name_len: usize,
    data: *const c_void,
    len: usize,
) -> hive_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (node, name) = match unsafe { (c_str(node), registry::name_arg(name, name_len)) } {
            (Ok(n), Ok(m)) => (n, m),
            (Err(s), _) | (_, Err(s)) => return code(s),
        };
        let Ok(name) = std::str::from_utf8(name) else {
            return HIVE_ERR_BAD_ARGUMENT;
        };
        if len > crate::mailbox::MAX_MESSAGE_LEN {
            return HIVE_ERR_BAD_LENGTH;
        }
        let data = if len == 0 {
            &[][..]
        } else if data.is_null() {
            return HIVE_ERR_NULL_POINTER;
        } else {
            // SAFETY: readable for `len` bytes per the contract.
            unsafe { std::slice::from_raw_parts(data as *const u8, len) }
        };
        result_code(crate::dist::send_name(node, name, data).map_err(|e| e.0))
    })
}

/// `monitor_node(Node, true)` (`on` ≠ 0): the calling process gets one `{nodedown, Node}`
/// message (ETF bytes) per call when the connection to `node` goes or cannot be made
/// (cases 131, 132); connects if not connected. `on` = 0 removes one such monitor.
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_LENGTH`,
/// `HIVE_ERR_BAD_ARGUMENT`, `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NOT_DISTRIBUTED`.
///
/// # Safety
/// `node` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn hive_monitor_node(node: *const c_char, on: i32) -> hive_status {
    guard(|| {
        // SAFETY: per this function's contract.
        match unsafe { c_str(node) } {
            Ok(n) => result_code(crate::dist::monitor_node(n, on != 0).map_err(|e| e.0)),
            Err(s) => code(s),
        }
    })
}

/// `erlang:disconnect_node/1`: closes the connection to `node`; links and monitors across
/// it end with `noconnection` (case 134). Returns `HIVE_OK`; `HIVE_ERR_NOT_FOUND` (not
/// connected), `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_LENGTH`, `HIVE_ERR_BAD_ARGUMENT`,
/// `HIVE_ERR_NOT_DISTRIBUTED`, `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `node` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn hive_disconnect_node(node: *const c_char) -> hive_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let n = match unsafe { c_str(node) } {
            Ok(n) => n,
            Err(s) => return code(s),
        };
        let r = runtime()
            .and_then(|rt| crate::dist::node_of(rt).ok_or(Status::ErrNotDistributed))
            .and_then(|node| crate::dist::disconnect_on(&node, n));
        match r {
            Ok(true) => HIVE_OK,
            Ok(false) => HIVE_ERR_NOT_FOUND,
            Err(s) => code(s),
        }
    })
}

/// Registers the entry point `module:function` (NUL-terminated names) of this node for
/// `spawn_request` from other nodes (`erlang:spawn_request(Node, Module, Function, Args,
/// Opts)` on a BEAM node, `hive_spawn_request` on a Hive node): each request spawns a process
/// running `entry(arg)`, where `arg` points to a `uint64_t` length followed by that many
/// bytes, the ETF list of arguments (decode it with `hive_term_decode`). An unknown pair is
/// answered with the error `undef`. A later registration of the same pair replaces it.
/// Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_LENGTH`,
/// `HIVE_ERR_BAD_ARGUMENT` (empty or not UTF-8), `HIVE_ERR_NOT_DISTRIBUTED`,
/// `HIVE_ERR_NOT_INITIALIZED`, `HIVE_ERR_SHUT_DOWN`.
///
/// # Safety
/// `module` and `function` are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn hive_dist_register_entry(
    module: *const c_char,
    function: *const c_char,
    entry: Option<super::proc::hive_entry_fn>,
) -> hive_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (m, f) = match unsafe { (c_str(module), c_str(function)) } {
            (Ok(m), Ok(f)) => (m, f),
            (Err(s), _) | (_, Err(s)) => return code(s),
        };
        let Some(entry) = entry else {
            return HIVE_ERR_NULL_POINTER;
        };
        let r = runtime()
            .and_then(|rt| crate::dist::node_of(rt).ok_or(Status::ErrNotDistributed))
            .and_then(|node| {
                crate::dist::register_entry_on(&node, m, f, crate::dist::spawn::EntryFn::C(entry))
            });
        result_code(r)
    })
}

/// `erlang:spawn_request(Node, Module, Function, Args, Opts)` from the calling process:
/// asks `node` to spawn `module:function` with `args[0..len]` (the ETF bytes of a proper
/// list). The request reference goes to `reqid_out`; the reply arrives as the message
/// `{spawn_reply, ReqId, ok, Pid}` or `{spawn_reply, ReqId, error, Reason}` (ETF;
/// `noconnection` when the node cannot be reached). `opts` bit 1 (`HIVE_SPAWN_LINK`) links
/// the caller to the new process before it runs; bit 2 (`HIVE_SPAWN_MONITOR`) makes it
/// monitor the new process under the request reference (its DOWN carries `ReqId`). Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`,
/// `HIVE_ERR_BAD_LENGTH`, `HIVE_ERR_BAD_ARGUMENT` (args not a proper list, empty names, a
/// node name without `@`, unknown `opts` bits), `HIVE_ERR_NOT_A_PROCESS`,
/// `HIVE_ERR_NOT_DISTRIBUTED`.
///
/// # Safety
/// `node`, `module` and `function` are NUL-terminated; `args` is NULL or readable for `len`
/// bytes; `reqid_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_spawn_request(
    node: *const c_char,
    module: *const c_char,
    function: *const c_char,
    args: *const c_void,
    len: usize,
    opts: u32,
    reqid_out: *mut u64,
) -> hive_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (n, m, f) = match unsafe { (c_str(node), c_str(module), c_str(function)) } {
            (Ok(n), Ok(m), Ok(f)) => (n, m, f),
            (Err(s), _, _) | (_, Err(s), _) | (_, _, Err(s)) => return code(s),
        };
        if args.is_null() {
            return HIVE_ERR_NULL_POINTER;
        }
        if opts & !(HIVE_SPAWN_LINK | HIVE_SPAWN_MONITOR) != 0 {
            return HIVE_ERR_BAD_ARGUMENT;
        }
        if len > crate::mailbox::MAX_MESSAGE_LEN {
            return HIVE_ERR_BAD_LENGTH;
        }
        // SAFETY: readable for `len` bytes per the contract.
        let a = unsafe { std::slice::from_raw_parts(args as *const u8, len) };
        match crate::dist::spawn_request(
            n,
            m,
            f,
            a,
            opts & HIVE_SPAWN_LINK != 0,
            opts & HIVE_SPAWN_MONITOR != 0,
        ) {
            Ok(r) => {
                // SAFETY: NULL or writable per the contract.
                unsafe { put(reqid_out, r) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}

/// `monitor(process, {Name, Node})` from the calling process: monitors whichever process
/// is registered as `name[0..name_len]` on `node` when the request arrives (resolved once,
/// there; case 126). The reference goes to `ref_out`. The DOWN carries `noproc` when nobody
/// had the name (case 127) and `noconnection` when the node cannot be reached or goes
/// (case 132); its sender is a placeholder pid of the node (index and serial 0): match the
/// reference. `hive_demonitor` ends it. `node` may be this node (then as
/// `hive_monitor_name`). Returns `HIVE_OK`; `HIVE_ERR_NULL_POINTER`, `HIVE_ERR_BAD_LENGTH`,
/// `HIVE_ERR_BAD_ARGUMENT` (an empty name, a node name without `@`),
/// `HIVE_ERR_NOT_A_PROCESS`, `HIVE_ERR_NOT_DISTRIBUTED`, `HIVE_ERR_SYSTEM_LIMIT`.
///
/// # Safety
/// `node` is NUL-terminated; `name` is NULL or readable for `name_len` bytes; `ref_out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn hive_monitor_remote_name(
    node: *const c_char,
    name: *const c_void,
    name_len: usize,
    ref_out: *mut u64,
) -> hive_status {
    guard(|| {
        // SAFETY: per this function's contract.
        let (node, name) = match unsafe { (c_str(node), registry::name_arg(name, name_len)) } {
            (Ok(n), Ok(m)) => (n, m),
            (Err(s), _) | (_, Err(s)) => return code(s),
        };
        let Ok(name) = std::str::from_utf8(name) else {
            return HIVE_ERR_BAD_ARGUMENT;
        };
        match crate::dist::monitor_name(node, name) {
            Ok(r) => {
                // SAFETY: NULL or writable per the contract.
                unsafe { put(ref_out, r) };
                HIVE_OK
            }
            Err(e) => code(e.0),
        }
    })
}
