//! The seam between the local runtime and distribution: what a local send or signal to a
//! remote pid (node field ≠ 0, [`crate::pid`]) calls. The runtime holds the running node
//! behind this trait (`RtInner::remote`), so the core never imports the distribution
//! layer: `signal::route::deliver` and `RtInner::send_as` hand remote targets to
//! [`Remote`], and the layer above delivers what arrives from other nodes through the
//! same route as any local signal.

use crate::pid::Pid;
use crate::reason::ExitReason;
use crate::status::Status;

/// A signal to a process of another node: the wire form of `signal::Signal`
/// (`docs/distribution.md`, "What maps to what").
#[derive(Clone, Copy, Debug)]
pub(crate) enum RemoteSignal<'a> {
    /// `link/1`: control message `LINK`.
    Link,
    /// `unlink/1`: `UNLINK_ID` with a fresh id.
    Unlink,
    /// `exit/2`: `PAYLOAD_EXIT2`.
    Exit(&'a ExitReason),
    /// The exit signal of a link: `PAYLOAD_EXIT`.
    LinkExit(&'a ExitReason),
    /// `monitor(process, Pid)` with this local reference: `MONITOR_P`.
    Monitor(u64),
    /// `demonitor/1` of this local reference: `DEMONITOR_P`.
    Demonitor(u64),
    /// A monitor held by the remote process fired (the reference is the local token the
    /// connection gave the remote reference): `PAYLOAD_MONITOR_P_EXIT`.
    Down(u64, &'a ExitReason),
}

/// A running node, as the core sees it. Every call returns at once: a signal or message to
/// a node that is not connected yet is queued behind the connection attempt, in order;
/// to a node that cannot be reached it is dropped, and links and monitors over it end
/// with `noconnection` (cases 107, 132).
pub(crate) trait Remote: Send + Sync {
    /// Sends `data` from the local process `from` (or [`Pid::NONE`]) to the remote pid `to`.
    /// Errors: `ErrNoMemory`.
    fn send(&self, from: Pid, to: Pid, data: &[u8]) -> Result<(), Status>;
    /// Sends `sig` from the local process `from` to the remote pid `to`.
    /// Errors: `ErrNoMemory`.
    fn signal(&self, from: Pid, to: Pid, sig: RemoteSignal<'_>) -> Result<(), Status>;
    /// The node itself, for the distribution layer's own calls.
    fn as_any(&self) -> &dyn std::any::Any;
}
