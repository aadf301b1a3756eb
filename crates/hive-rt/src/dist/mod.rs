//! Distribution: Hive nodes that speak the Erlang distribution protocol (EPMD, the
//! version-6 handshake, control messages in the External Term Format), so Hive nodes
//! connect to BEAM nodes and to each other (`docs/distribution.md`).

mod api;
pub(crate) mod control;
pub(crate) mod controller;
pub(crate) mod dispatch;
pub(crate) mod epmd;
pub mod etf;
pub(crate) mod flags;
#[cfg(test)]
mod fuzz_tests;
pub(crate) mod handshake;
pub(crate) mod hook;
pub(crate) mod ids;
pub(crate) mod lanes;
pub(crate) mod node;
#[cfg(test)]
mod script_stream;
pub(crate) mod spawn;
pub(crate) mod stream;
pub(crate) mod terms;
pub(crate) mod ticks;
pub(crate) mod tls;

pub use api::{
    disconnect, monitor_name, monitor_node, node_name, nodes, pid_of, pid_term, register_entry,
    send_name, spawn_request, NodeInfo, Options,
};
pub(crate) use api::{disconnect_on, node_of, nodes_on, register_entry_on, start, stop};
pub use node::Discovery;
pub use tls::TlsOptions;
