//! A connection's ticks, as the BEAM's `net_kernel` does them: every quarter of
//! `net_ticktime` an empty frame goes out unless something else was written in that
//! quarter, and a peer from which nothing was read for four quarters in a row is dropped
//! (`net_tick_timeout`, case 137): after between 3/4 and 5/4 of `net_ticktime`, as
//! `erl -kernel net_ticktime` documents.
//!
//! The quarters are a repeating timer message to the controller (`T`), so no clock is read
//! and no timer armed per frame.

use crate::pid::Pid;

/// The timer message a controller gets every quarter.
pub(crate) const QUARTER: &[u8] = b"T";

/// One connection's tick state (its controller's).
#[derive(Debug)]
pub(crate) struct Ticks {
    me: Pid,
    quarter_ms: u64,
    /// Something was written in this quarter.
    pub(crate) wrote: bool,
    /// Something was read in this quarter.
    pub(crate) heard: bool,
    /// Quarters in a row with nothing read.
    silent: u32,
}

/// What the controller does at the end of a quarter.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Quarter {
    /// Nothing.
    Quiet,
    /// Write a tick (an empty frame): nothing else was written.
    Tick,
    /// Drop the connection: nothing was read for four quarters.
    Timeout,
}

impl Ticks {
    /// Starts the quarters of controller `me` (the calling process) for `tick_ms`, the
    /// node's `net_ticktime` in ms. None if the timer cannot be armed.
    pub(crate) fn start(me: Pid, tick_ms: u32) -> Option<Ticks> {
        let t = Ticks {
            me,
            quarter_ms: u64::from(tick_ms / 4).max(1),
            wrote: false,
            heard: false,
            silent: 0,
        };
        t.arm().then_some(t)
    }

    fn arm(&self) -> bool {
        crate::process::send_after(crate::TimerDest::Pid(self.me), self.quarter_ms, QUARTER).is_ok()
    }

    /// A quarter ended (its [`QUARTER`] message came): what to do, with the next quarter
    /// armed unless the connection times out (Err: the timer could not be armed).
    pub(crate) fn end_quarter(&mut self) -> Result<Quarter, &'static str> {
        let wrote = std::mem::take(&mut self.wrote);
        self.silent = if std::mem::take(&mut self.heard) {
            0
        } else {
            self.silent + 1
        };
        if self.silent >= 4 {
            return Ok(Quarter::Timeout);
        }
        if !self.arm() {
            return Err("timer failed");
        }
        Ok(if wrote { Quarter::Quiet } else { Quarter::Tick })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Runtime};

    /// Quarters come as timer messages; one with something written sends no tick, one
    /// with something read restarts the count, and the fourth silent one in a row ends
    /// the connection.
    #[test]
    fn four_silent_quarters_end_a_connection_and_a_written_one_sends_no_tick() {
        let rt = Runtime::new(Config {
            schedulers: 1,
            ..Config::default()
        })
        .unwrap();
        let r = rt
            .run(|| {
                let mut t = Ticks::start(crate::process::self_pid(), 8).expect("armed");
                let next = |t: &mut Ticks| {
                    let m = crate::process::receive(Some(10_000)).expect("a quarter");
                    assert_eq!(m.data(), QUARTER);
                    t.end_quarter().unwrap()
                };
                assert_eq!(next(&mut t), Quarter::Tick);
                t.wrote = true;
                t.heard = true;
                assert_eq!(next(&mut t), Quarter::Quiet);
                assert_eq!(next(&mut t), Quarter::Tick);
                assert_eq!(next(&mut t), Quarter::Tick);
                assert_eq!(next(&mut t), Quarter::Tick);
                assert_eq!(next(&mut t), Quarter::Timeout);
                // No quarter is armed after a timeout.
                assert!(crate::process::receive(Some(50)).is_err());
            })
            .unwrap();
        assert!(r.is_normal(), "{r:?}");
        rt.shutdown();
    }
}
