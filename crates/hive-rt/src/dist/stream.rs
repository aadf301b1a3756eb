//! A socket as a blocking byte stream, for the handshakes and EPMD requests of a
//! distribution connection.

use std::io::{Read, Write};
use std::time::Instant;

use crate::io::api::{self as net, Socket};
use crate::status::Status;

/// A socket as a blocking byte stream for the handshake, each call bounded by
/// `timeout_ms` and all of them by `deadline` (a peer that trickles bytes cannot hold a
/// handshake open past it).
pub(crate) struct Stream {
    pub(crate) s: Socket,
    pub(crate) timeout_ms: u32,
    pub(crate) deadline: Option<Instant>,
}

impl Stream {
    /// A stream whose calls together end within `ms`.
    pub(crate) fn with_deadline(s: Socket, ms: u32) -> Stream {
        Stream {
            s,
            timeout_ms: ms,
            deadline: Some(Instant::now() + std::time::Duration::from_millis(u64::from(ms))),
        }
    }

    /// The timeout of the next call, ms; an error once the deadline has passed.
    fn timeout(&self) -> std::io::Result<u32> {
        let Some(d) = self.deadline else {
            return Ok(self.timeout_ms);
        };
        let left = d.saturating_duration_since(Instant::now()).as_millis();
        if left == 0 {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        Ok(self.timeout_ms.min(u32::try_from(left).unwrap_or(u32::MAX)))
    }
}

fn io_err(e: crate::status::Error) -> std::io::Error {
    std::io::Error::other(format!("{e:?}"))
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match net::recv_partial(self.s, buf, 1, Some(self.timeout()?)) {
            (n, Ok(())) => Ok(n),
            (0, Err(e)) if e.0 == Status::ErrPeerClosed => Ok(0),
            (_, Err(e)) => Err(io_err(e)),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        net::send(self.s, buf, Some(self.timeout()?)).map_err(io_err)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
