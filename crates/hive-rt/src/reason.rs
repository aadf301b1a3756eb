//! Exit reasons.
//!
//! The BEAM's exit reason is any term; Hive keeps the standard atoms as kinds and carries
//! every other reason as bytes (`Error`). `normal` is what returning from the entry function
//! gives ([RM-Proc §Process Termination], BEAM case 1).

/// Kind of an exit reason, as the C ABI numbers it (`hive_reason_kind`).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReasonKind {
    /// `normal`: the entry function returned, or `hive_exit(HIVE_REASON_NORMAL)`.
    Normal = 0,
    /// `kill`: the untrappable reason of `exit(Pid, kill)`.
    Kill = 1,
    /// `killed`: what a process killed with `kill` exits with.
    Killed = 2,
    /// `noproc`: the process did not exist (link/monitor to a dead process).
    Noproc = 3,
    /// `noconnection`: the node of the process went away (distribution).
    Noconnection = 4,
    /// `shutdown`: stopped by `hive_shutdown`, or exited with this reason.
    Shutdown = 5,
    /// Any other reason, carried as bytes (e.g. `"stack_overflow"`, `"panic: ..."`).
    Error = 6,
}

impl ReasonKind {
    pub(crate) fn from_raw(v: i32) -> Option<ReasonKind> {
        Some(match v {
            0 => ReasonKind::Normal,
            1 => ReasonKind::Kill,
            2 => ReasonKind::Killed,
            3 => ReasonKind::Noproc,
            4 => ReasonKind::Noconnection,
            5 => ReasonKind::Shutdown,
            6 => ReasonKind::Error,
            _ => return None,
        })
    }
}

/// Why a process exited.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// `normal`.
    Normal,
    /// `kill`.
    Kill,
    /// `killed`.
    Killed,
    /// `noproc`.
    Noproc,
    /// `noconnection`.
    Noconnection,
    /// `shutdown`.
    Shutdown,
    /// Any other reason, as bytes.
    Error(Box<[u8]>),
}

impl ExitReason {
    /// The reason's kind.
    pub fn kind(&self) -> ReasonKind {
        match self {
            ExitReason::Normal => ReasonKind::Normal,
            ExitReason::Kill => ReasonKind::Kill,
            ExitReason::Killed => ReasonKind::Killed,
            ExitReason::Noproc => ReasonKind::Noproc,
            ExitReason::Noconnection => ReasonKind::Noconnection,
            ExitReason::Shutdown => ReasonKind::Shutdown,
            ExitReason::Error(_) => ReasonKind::Error,
        }
    }

    /// The bytes of an `Error` reason; empty for the standard reasons.
    pub fn data(&self) -> &[u8] {
        match self {
            ExitReason::Error(b) => b,
            _ => &[],
        }
    }

    /// True for `normal`.
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }

    /// An `Error` reason with these bytes.
    pub fn error(bytes: impl AsRef<[u8]>) -> ExitReason {
        ExitReason::Error(bytes.as_ref().into())
    }

    pub(crate) fn from_kind(kind: ReasonKind, data: &[u8]) -> ExitReason {
        match kind {
            ReasonKind::Normal => ExitReason::Normal,
            ReasonKind::Kill => ExitReason::Kill,
            ReasonKind::Killed => ExitReason::Killed,
            ReasonKind::Noproc => ExitReason::Noproc,
            ReasonKind::Noconnection => ExitReason::Noconnection,
            ReasonKind::Shutdown => ExitReason::Shutdown,
            ReasonKind::Error => ExitReason::error(data),
        }
    }
}
