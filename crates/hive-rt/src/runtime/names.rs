//! Registered names: `register/2`, `unregister/1`, `whereis/1` and `Name ! Msg`.

use super::RtInner;
use crate::pid::Pid;
use crate::sched::Caller;
use crate::status::Status;

impl RtInner {
    /// Registers `name` for `pid` (BEAM `register/2`).
    pub(crate) fn register(&self, name: &[u8], pid: Pid) -> std::result::Result<(), Status> {
        crate::registry::validate(name)?;
        if pid.is_none() || pid.node() != 0 {
            // Names are per node: a remote pid cannot be registered here (case 103).
            return Err(Status::ErrBadArgument);
        }
        let _access = self.access().ok_or(Status::ErrShutDown)?;
        let pcb = self.table.lookup(pid).ok_or(Status::ErrNoProcess)?;
        // SAFETY: `_access` keeps the PCB alive.
        self.registry.register(name, unsafe { pcb.as_ref() })
    }

    /// Removes a registered name (BEAM `unregister/1`).
    pub(crate) fn unregister(&self, name: &[u8]) -> std::result::Result<(), Status> {
        crate::registry::validate(name)?;
        self.registry.unregister(name)
    }

    /// The pid registered under `name`, or `Pid::NONE` (BEAM `whereis/1`).
    pub(crate) fn whereis(&self, name: &[u8]) -> std::result::Result<Pid, Status> {
        crate::registry::validate(name)?;
        Ok(self.registry.whereis(name).unwrap_or(Pid::NONE))
    }

    /// Sends a copy of `data` to the process registered as `name` (BEAM `Name ! Msg`).
    /// An unregistered name is `ErrNotRegistered` (the BEAM's `badarg`, case 80).
    pub(crate) fn send_named(
        &self,
        caller: &Caller,
        name: &[u8],
        data: &[u8],
    ) -> std::result::Result<(), Status> {
        crate::registry::validate(name)?;
        let pid = self
            .registry
            .whereis(name)
            .ok_or(Status::ErrNotRegistered)?;
        crate::process::send_on(self, caller, pid, data).map_err(|e| e.0)
    }
}
