//! hyper answers a request it cannot parse by itself, before any handler
//! runs: a request line or header block over its limits (414 for a target
//! over 64 KiB, 431) or malformed (400), with an empty body. Every other
//! refusal of this server is an OperationOutcome, so the connection's
//! writes pass through [`OutcomeOnParseError`], which puts one in those
//! answers.
//!
//! hyper offers no hook for its automatic answers, hence this wrapper
//! (written here because no maintained crate does it). It recognises them
//! exactly: a whole response head of status 400, 414 or 431 with
//! `content-length: 0`, which this server's own answers never are (each
//! of its 4xx has an OperationOutcome body).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// An I/O stream whose automatic parse-error answers carry an
/// OperationOutcome.
pub struct OutcomeOnParseError<T> {
    inner: T,
    /// A replacement answer being written, and how much of it is out.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> OutcomeOnParseError<T> {
    /// Wraps a connection's stream.
    pub fn new(inner: T) -> Self {
        OutcomeOnParseError {
            inner,
            pending: None,
        }
    }
}

/// The answer to put in place of hyper's, when `head` is one of its
/// automatic parse-error answers.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let (status_line, rest) = text.split_once("\r\n")?;
    if !rest.ends_with("\r\n\r\n") || rest.matches("\r\n\r\n").count() != 1 {
        return None;
    }
    let empty = rest
        .split("\r\n")
        .any(|h| h.eq_ignore_ascii_case("content-length: 0"));
    let (code, diagnostics) = match status_line {
        "HTTP/1.1 414 URI Too Long" => (
            "too-costly",
            "the request target is longer than this server reads (64 KiB); send a long search as POST [type]/_search",
        ),
        "HTTP/1.1 431 Request Header Fields Too Large" => (
            "too-costly",
            "the request's headers are larger than this server reads",
        ),
        "HTTP/1.1 400 Bad Request" => (
            "structure",
            "the request is not well-formed HTTP/1.1 (its request line or a header)",
        ),
        _ => return None,
    };
    if !empty {
        return None;
    }
    let body = serde_json::json!({"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": code, "diagnostics": diagnostics}]})
    .to_string();
    Some(
        format!(
            "{status_line}\r\ncontent-type: application/fhir+json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncWrite + Unpin> OutcomeOnParseError<T> {
    /// Writes out the replacement in progress, if any.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.pending {
            if *done == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for OutcomeOnParseError<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for OutcomeOnParseError<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending.is_some() {
            // hyper writes the same bytes again after Pending: they were
            // replaced, so the replacement is what goes out.
            ready!(self.drain(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        if buf.starts_with(b"HTTP/1.1 4") {
            if let Some(bytes) = replacement(buf) {
                self.pending = Some((bytes, 0));
                ready!(self.drain(cx))?;
                return Poll::Ready(Ok(buf.len()));
            }
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if self.pending.is_some() {
            ready!(self.drain(cx))?;
            return Poll::Ready(Ok(total));
        }
        // hyper's automatic answer is a head alone, in one slice.
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            if first.len() == total && first.starts_with(b"HTTP/1.1 4") {
                if let Some(bytes) = replacement(first) {
                    self.pending = Some((bytes, 0));
                    ready!(self.drain(cx))?;
                    return Poll::Ready(Ok(total));
                }
            }
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_empty_parse_error_answers_are_replaced() {
        let hyper = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Mon, 07 Dec 2026 15:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(replacement(hyper).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let oo: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(oo["resourceType"], "OperationOutcome");
        // This server's own answers are left alone.
        let ours = b"HTTP/1.1 414 URI Too Long\r\ncontent-type: application/fhir+json\r\ncontent-length: 120\r\n\r\n";
        assert!(replacement(ours).is_none());
        assert!(replacement(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_none());
        // A head with a body after it is not hyper's automatic answer.
        assert!(replacement(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
        )
        .is_none());
    }
}
