//! Bounded capture of a guest's stdout and stderr.
//!
//! Unlike wasmtime-wasi's `MemoryOutputPipe`, which fails writes once full
//! (and so makes Rust's `print!` panic inside the guest), a [`Captured`]
//! stream keeps accepting bytes past its capacity and drops them, counting
//! how many. Chatty output is therefore never a reason for a tool to fail;
//! it is only truncated in the log.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::lock::Locked as _;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes kept and bytes dropped.
#[derive(Debug, Default)]
pub struct Buffer {
    kept: Vec<u8>,
    dropped: u64,
    capacity: usize,
}

impl Buffer {
    fn push(&mut self, bytes: &[u8]) {
        let room = self.capacity.saturating_sub(self.kept.len());
        let keep = bytes.len().min(room);
        self.kept.extend_from_slice(&bytes[..keep]);
        self.dropped += (bytes.len() - keep) as u64;
    }
}

/// A bounded, shared capture buffer usable as a guest's stdout or stderr.
#[derive(Debug, Clone)]
pub struct Captured(Arc<Mutex<Buffer>>);

impl Captured {
    /// A capture that keeps at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Captured(Arc::new(Mutex::new(Buffer { kept: Vec::new(), dropped: 0, capacity })))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Buffer) -> R) -> R {
        // A poisoned lock only means a writer panicked mid-push; the bytes
        // are still a valid prefix, so keep going.
        f(&mut self.0.locked())
    }

    /// The kept bytes as (lossy) text, leaving them in place.
    pub fn peek_text(&self) -> String {
        self.with(|b| String::from_utf8_lossy(&b.kept).into_owned())
    }

    /// The kept bytes and the count of dropped ones, leaving the buffer empty.
    pub fn take(&self) -> (Vec<u8>, u64) {
        self.with(|b| (std::mem::take(&mut b.kept), std::mem::take(&mut b.dropped)))
    }
}

impl IsTerminal for Captured {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Captured {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl OutputStream for Captured {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.with(|b| b.push(&bytes));
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[async_trait::async_trait]
impl Pollable for Captured {
    async fn ready(&mut self) {}
}

impl AsyncWrite for Captured {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.with(|b| b.push(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_a_prefix_and_counts_the_rest() {
        let mut c = Captured::new(4);
        OutputStream::write(&mut c, bytes::Bytes::from_static(b"abcdef")).unwrap();
        OutputStream::write(&mut c, bytes::Bytes::from_static(b"gh")).unwrap();
        assert_eq!(c.take(), (b"abcd".to_vec(), 4));
        assert_eq!(c.take(), (Vec::new(), 0));
    }
}
