//! A scripted byte stream for the protocol unit tests (`handshake_tests.rs`,
//! `epmd_tests.rs`): reads come from a fixed script, writes are recorded.

use std::io::{self, Read, Write};

/// A stream that reads from a fixed script and records what is written.
pub(crate) struct Script {
    input: io::Cursor<Vec<u8>>,
    /// Everything written so far.
    pub(crate) output: Vec<u8>,
}

impl Script {
    /// A stream whose reads return `input`, then end of stream.
    pub(crate) fn new(input: Vec<u8>) -> Self {
        Script {
            input: io::Cursor::new(input),
            output: Vec::new(),
        }
    }
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
