//! The modes of an alias (`alias/1`, `monitor/3`'s `{alias, Mode}`).

/// When an alias is deactivated (besides [`unalias`](super::unalias), which always does, and the owner's
/// exit). The modes of `alias/1` and of the `{alias, Mode}` option of `monitor/3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AliasMode {
    /// Only by [`unalias`](super::unalias) (`alias/0`, `alias([explicit_unalias])`,
    /// `{alias, explicit_unalias}`). For [`alias`](super::alias) and [`monitor_alias`](super::monitor_alias).
    ExplicitUnalias,
    /// When the monitor is removed: by `demonitor`, or by its DOWN reaching the owner
    /// (`{alias, demonitor}`). Only for [`monitor_alias`](super::monitor_alias).
    Demonitor,
    /// When the monitor is removed (as [`AliasMode::Demonitor`]), or when the first message
    /// sent through the alias reaches the owner, which also removes the monitor as
    /// `demonitor` would (`{alias, reply_demonitor}`). Only for [`monitor_alias`](super::monitor_alias).
    ReplyDemonitor,
    /// When the first message sent through the alias reaches the owner (`alias([reply])`).
    /// Only for [`alias`](super::alias).
    Reply,
}

impl AliasMode {
    /// The mode of a `HIVE_ALIAS_*` value (0 explicit_unalias, 1 demonitor, 2
    /// reply_demonitor, 3 reply), or None.
    pub fn from_raw(v: i32) -> Option<AliasMode> {
        Some(match v {
            0 => AliasMode::ExplicitUnalias,
            1 => AliasMode::Demonitor,
            2 => AliasMode::ReplyDemonitor,
            3 => AliasMode::Reply,
            _ => return None,
        })
    }

    /// True when the first message through the alias deactivates it.
    pub(crate) fn on_reply(self) -> bool {
        matches!(self, AliasMode::Reply | AliasMode::ReplyDemonitor)
    }

    /// True when the end of the monitor deactivates it.
    pub(crate) fn on_demonitor(self) -> bool {
        matches!(self, AliasMode::Demonitor | AliasMode::ReplyDemonitor)
    }
}
