//! Process identifiers.
//!
//! A pid is a `u64` laid out as `[node:12 | serial:28 | index:24]`:
//! - `index` selects a slot of the pid table (at most 2^24 live processes);
//! - `serial` counts how often that slot was used; it starts at 1, so no valid pid is 0,
//!   and a slot whose serial would wrap is retired, so a pid is never reused while the
//!   runtime lives;
//! - `node` is 0 for local processes; for a process of another node it names that node's
//!   incarnation (name and creation, `dist/ids.rs`), and `index` and `serial` are the
//!   remote pid's ID and Serial (`NEW_PID_EXT`).
//!
//! Slots are reused in FIFO order (a freed index goes to the back of the free queue), so a
//! given slot is reused only after every other freed slot was, as the BEAM does
//! (`erts/emulator/internal_doc/PTables.md`).

use std::fmt;

/// Bits of the slot index.
pub const INDEX_BITS: u32 = 24;
/// Bits of the per-slot serial.
pub const SERIAL_BITS: u32 = 28;
/// Bits of the node id (0 = this node).
pub const NODE_BITS: u32 = 12;

const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const SERIAL_MASK: u64 = (1 << SERIAL_BITS) - 1;

/// A process identifier. `Pid(0)` is never a valid pid ([`Pid::NONE`]).
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pid(pub u64);

impl Pid {
    /// "No process": returned by `hive_self` outside a process, never a live pid.
    pub const NONE: Pid = Pid(0);

    /// Builds a local pid from a table index and serial (serial must be ≥ 1).
    pub(crate) fn local(index: u32, serial: u32) -> Pid {
        debug_assert!(serial >= 1 && u64::from(serial) <= SERIAL_MASK);
        debug_assert!(u64::from(index) <= INDEX_MASK);
        Pid((u64::from(serial) << INDEX_BITS) | u64::from(index))
    }

    /// Builds the pid of a process of another node: `node` (1..2^12) names the node
    /// incarnation (`dist/ids.rs`), `index` and `serial` are the remote pid's ID and
    /// Serial, which must fit 24 and 28 bits.
    pub(crate) fn remote(node: u32, index: u32, serial: u32) -> Pid {
        debug_assert!((1..(1 << NODE_BITS)).contains(&node));
        debug_assert!(u64::from(index) <= INDEX_MASK && u64::from(serial) <= SERIAL_MASK);
        Pid((u64::from(node) << (INDEX_BITS + SERIAL_BITS))
            | (u64::from(serial) << INDEX_BITS)
            | u64::from(index))
    }

    /// Slot index in the pid table.
    pub fn index(self) -> u32 {
        (self.0 & INDEX_MASK) as u32
    }

    /// Serial of the slot when this pid was issued.
    pub fn serial(self) -> u32 {
        ((self.0 >> INDEX_BITS) & SERIAL_MASK) as u32
    }

    /// Node id: 0 for a process of this node.
    pub fn node(self) -> u32 {
        (self.0 >> (INDEX_BITS + SERIAL_BITS)) as u32
    }

    /// True when this is [`Pid::NONE`].
    pub fn is_none(self) -> bool {
        self.0 == 0
    }

    /// The largest serial a slot can carry before it is retired.
    pub(crate) const MAX_SERIAL: u32 = SERIAL_MASK as u32;
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Erlang's <node.index.serial> shape.
        write!(f, "<{}.{}.{}>", self.node(), self.index(), self.serial())
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let p = Pid::local(0xAB_CDEF, 7);
        assert_eq!(p.index(), 0xAB_CDEF);
        assert_eq!(p.serial(), 7);
        assert_eq!(p.node(), 0);
        assert!(!p.is_none());
        assert_eq!(format!("{p:?}"), "<0.11259375.7>");
    }

    #[test]
    fn lowest_valid_pid_is_not_zero() {
        assert_ne!(Pid::local(0, 1).0, 0);
        let max = Pid::local(INDEX_MASK as u32, Pid::MAX_SERIAL);
        assert_eq!(max.node(), 0);
        assert_eq!(max.serial(), Pid::MAX_SERIAL);
    }
}
