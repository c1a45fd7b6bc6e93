//! Newline-delimited JSON-RPC: MCP's stdio framing, shared by the stdio
//! door ([`crate::stdio`]) and the client of native servers
//! ([`crate::native::client`]).
//!
//! - A message is one line of UTF-8 JSON ending in `\n`; JSON never needs a
//!   raw newline, so a line is a message. A `\r` before the `\n` is JSON
//!   whitespace and needs no special case.
//! - A line longer than the reader's limit is never held in memory: reading
//!   it stops at the limit with [`LineError::TooLong`]. The caller decides
//!   what that means: the stdio door answers with an error and
//!   [skips](LineReader::skip_rest) to the next line, the native client
//!   closes the connection.
//! - Blank lines are skipped.

use tokio::io::BufReader;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _};

/// Why [`LineReader::next_line`] returned no line.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The line is longer than the limit; its first `limit` bytes were read.
    #[error("a message is longer than {limit} bytes")]
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads one message per line, at most `max` bytes each.
pub struct LineReader<R> {
    reader: BufReader<R>,
    max: usize,
    line: Vec<u8>,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    /// A reader of lines of at most `max` bytes (without the newline).
    pub fn new(reader: R, max: usize) -> Self {
        LineReader { reader: BufReader::new(reader), max, line: Vec::new() }
    }

    /// The next non-blank line, without its newline; `Ok(None)` at the end
    /// of input. A last line without a newline counts as a line. Not cancel
    /// safe: a call dropped mid-line loses what it had read of the line.
    pub async fn next_line(&mut self) -> Result<Option<&[u8]>, LineError> {
        loop {
            self.line.clear();
            let complete = read_until_newline(&mut self.reader, &mut self.line, self.max).await?;
            if !complete && self.line.is_empty() {
                return Ok(None);
            }
            if !self.line.iter().all(u8::is_ascii_whitespace) {
                return Ok(Some(&self.line));
            }
            if !complete {
                return Ok(None);
            }
        }
    }

    /// Discards the rest of the current line, after [`LineError::TooLong`];
    /// `Ok(false)` if the input ended first.
    pub async fn skip_rest(&mut self) -> std::io::Result<bool> {
        loop {
            let available = self.reader.fill_buf().await?;
            if available.is_empty() {
                return Ok(false);
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.reader.consume(i + 1);
                    return Ok(true);
                }
                None => {
                    let n = available.len();
                    self.reader.consume(n);
                }
            }
        }
    }
}

/// Appends bytes up to the next `\n` (consumed, not appended) to `line`;
/// `Ok(true)` if a newline ended it, `Ok(false)` at the end of input.
async fn read_until_newline<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> Result<bool, LineError> {
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(false);
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i, true),
            None => (available.len(), false),
        };
        if line.len() + take > max {
            let fits = max - line.len();
            line.extend_from_slice(&available[..fits]);
            reader.consume(fits);
            return Err(LineError::TooLong { limit: max });
        }
        line.extend_from_slice(&available[..take]);
        reader.consume(if done { take + 1 } else { take });
        if done {
            return Ok(true);
        }
    }
}

/// Writes one message and its newline, then flushes. `message` must be
/// serialized JSON (which holds no raw newline).
pub async fn write_line<W: AsyncWrite + Unpin>(
    writer: &mut W,
    message: &[u8],
) -> std::io::Result<()> {
    debug_assert!(!message.contains(&b'\n'), "a JSON-RPC line holds no raw newline");
    writer.write_all(message).await?;
    writer.write_all(b"\n").await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Result<String, String>> {
        let mut reader = LineReader::new(input, max);
        let mut out = Vec::new();
        loop {
            match reader.next_line().await {
                Ok(Some(line)) => out.push(Ok(String::from_utf8_lossy(line).into_owned())),
                Ok(None) => return out,
                Err(LineError::TooLong { .. }) => {
                    out.push(Err("too long".into()));
                    if !reader.skip_rest().await.unwrap() {
                        return out;
                    }
                }
                Err(err) => panic!("{err}"),
            }
        }
    }

    #[tokio::test]
    async fn lines_are_split_on_newlines_and_blank_ones_skipped() {
        let got = lines(b"{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}", 100).await;
        assert_eq!(
            got,
            vec![Ok("{\"a\":1}".into()), Ok("{\"b\":2}\r".into()), Ok("{\"c\":3}".into())]
        );
    }

    #[tokio::test]
    async fn a_long_line_is_refused_and_the_next_one_read() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\n{}\n");
        let got = lines(&input, 64).await;
        assert_eq!(got, vec![Err("too long".into()), Ok("{}".into())]);
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_limit_is_accepted() {
        assert_eq!(lines(b"abcd\n", 4).await, vec![Ok("abcd".into())]);
        assert_eq!(lines(b"abcde\n", 4).await, vec![Err("too long".into())]);
    }
}
