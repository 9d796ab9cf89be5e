//! Accepting connections with limits, so that slow or idle clients cannot
//! hold the server: how long a client may take to send a request's
//! headers (also how long a kept-alive connection may sit idle), how long
//! it may leave an answer unread, and how many connections are open at
//! once, with a clear refusal (503 and an OperationOutcome) beyond that.
//!
//! `axum::serve` sets none of these, so the accept loop is here; each
//! connection is served by hyper-util's builder, as `axum::serve` serves
//! it, with graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;

/// The limits on connections (`serve --max-connections` and the
/// timeouts below).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// How long a client has to send a request's headers, counted from
    /// when the connection is ready for a request (so also how long a
    /// kept-alive connection may stay idle).
    pub header_read: Duration,
    /// How long a write may wait for a client that does not read.
    pub write: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_read: Duration::from_secs(10),
            write: Duration::from_secs(30),
        }
    }
}

/// The answer to a connection beyond the limit: written straight to the
/// socket (no request has been read), then the connection is closed.
fn refusal() -> Vec<u8> {
    let body = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient","diagnostics":"the server has as many connections open as it allows; retry shortly"}]}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/fhir+json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Raises this process's open-file limit to the hard limit where the
/// system allows, and returns the connections that fit in it (leaving
/// room for the database, packages and logs), at most `wanted`.
pub fn connections_that_fit(wanted: usize) -> usize {
    const RESERVED: u64 = 128;
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => {
            let fit = files.saturating_sub(RESERVED).max(16);
            wanted.min(usize::try_from(fit).unwrap_or(usize::MAX))
        }
        Err(e) => {
            tracing::warn!(error = %e, "the open-file limit could not be read; connections kept to the limit asked");
            wanted
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes,
/// then lets the requests in flight finish (for at most 30 s).
///
/// # Errors
/// Never for a client's doing: failed accepts (the file-descriptor limit
/// reached) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    // HTTP/1 only: telling HTTP/2 from HTTP/1 means waiting for a new
    // connection's first bytes, with no timeout, so a client that sends
    // nothing would be kept for ever. (No FHIR client speaks HTTP/2
    // without TLS, which a proxy in front of this server terminates.)
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors (or a connection reset before
                    // it was taken): wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(tcp, limits.write));
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let mut io = TimeoutStream::new(tcp);
        io.set_write_timeout(Some(limits.write));
        // `TimeoutStream` is read and written pinned; hyper takes it boxed.
        let io = TokioIo::new(super::parse_errors::OutcomeOnParseError::new(Box::pin(io)));
        let service = TowerToHyperService::new(app.clone());
        let watcher = graceful.watcher();
        let builder = builder.clone();
        tokio::spawn(async move {
            let conn = builder.serve_connection(io, service);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(error = %e, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(30)) => {
            tracing::warn!("requests still in flight after 30 s; stopping anyway");
        }
    }
    Ok(())
}

/// Answers a connection beyond the limit with 503, then closes it.
async fn refuse(mut tcp: TcpStream, within: Duration) {
    tracing::warn!("connection refused: the connection limit is reached");
    let write = async {
        tcp.write_all(&refusal()).await?;
        tcp.shutdown().await?;
        // What the client sent is read and dropped for a moment: closing
        // with it unread would reset the connection, and the client could
        // lose the answer.
        let mut sink = [0u8; 4096];
        let drain = async {
            use tokio::io::AsyncReadExt;
            while tcp.read(&mut sink).await.is_ok_and(|n| n > 0) {}
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
        Ok::<(), std::io::Error>(())
    };
    let _ = tokio::time::timeout(within, write).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_one_whole_http_answer_with_its_length_right() {
        let bytes = refusal();
        let text = std::str::from_utf8(&bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(length, body.len());
        let outcome: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(outcome["issue"][0]["code"], "transient");
    }
}
