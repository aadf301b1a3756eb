//! Distribution: Hive nodes that speak the Erlang distribution protocol (EPMD, the
//! version-6 handshake, control messages in the External Term Format), so Hive nodes
//! connect to BEAM nodes and to each other (`docs/distribution.md`).

pub(crate) mod epmd;
pub mod etf;
pub(crate) mod flags;
pub(crate) mod handshake;
