//! Just enough HTTP/1.1 for the test servers: one request read off a
//! connection (head and body, within size limits) and one answer written
//! with `connection: close`. Shared by the fault server and the sandbox.

use std::fmt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest request head accepted.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 8 * 1024 * 1024;

/// One request as it arrived.
#[derive(Clone)]
pub(crate) struct WireRequest {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// In arrival order, names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sent with `transfer-encoding`, which these servers do not decode.
    pub chunked: bool,
}

impl WireRequest {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The query (empty when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

impl fmt::Debug for WireRequest {
    // Headers and body may hold tokens and secrets: names and sizes only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireRequest")
            .field("method", &self.method)
            .field("path", &self.path())
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// What reading a connection gave.
#[derive(Debug)]
pub(crate) enum Received {
    Request(WireRequest),
    /// The peer closed before a whole request arrived.
    Closed,
    /// The request cannot be read; answer with this status and close.
    Refused(u16, &'static str),
}

/// Reads one request: the head up to [`MAX_HEAD`], then a body of its
/// `content-length` up to [`MAX_BODY`].
pub(crate) async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> std::io::Result<Received> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let (mut request, content_length, body_start) = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Received::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            match parse_head(&buf[..end]) {
                Some((request, length)) => break (request, length, end + 4),
                None => return Ok(Received::Refused(400, "bad request")),
            }
        }
        if buf.len() > MAX_HEAD {
            return Ok(Received::Refused(431, "head too large"));
        }
    };
    if content_length > MAX_BODY {
        return Ok(Received::Refused(413, "body too large"));
    }
    let mut body = buf.split_off(body_start);
    while body.len() < content_length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Received::Closed);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    // Bytes past the declared length would be a pipelined request, which
    // one-request connections do not serve.
    body.truncate(content_length);
    request.body = body;
    Ok(Received::Request(request))
}

fn parse_head(raw: &[u8]) -> Option<(WireRequest, usize)> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    if method.is_empty() || target.is_empty() {
        return None;
    }
    let mut headers = Vec::new();
    let mut content_length = 0;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        }
        headers.push((name.trim().to_owned(), value.to_owned()));
    }
    Some((
        WireRequest {
            method,
            target,
            headers,
            body: Vec::new(),
            chunked,
        },
        content_length,
    ))
}

/// Writes a whole answer and closes the write side. Header lines with a
/// line break in them are left out rather than split into two headers.
pub(crate) async fn write_response<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    write_response_declaring(stream, status, headers, body, body.len()).await
}

/// As [`write_response`], with a `content-length` of `declared`: above the
/// body's length, the body the client gets is cut short.
pub(crate) async fn write_response_declaring<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    declared: usize,
) -> std::io::Result<()> {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Status");
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-length: {declared}\r\nconnection: close\r\n"
    );
    for (k, v) in headers {
        if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(raw: &[u8]) -> Received {
        let mut input = raw;
        read_request(&mut input).await.unwrap()
    }

    #[tokio::test]
    async fn reads_the_head_and_a_body_of_the_declared_length() {
        let Received::Request(r) = read(
            b"POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nIdempotency-Key: k\r\n\r\nabcdef",
        )
        .await
        else {
            panic!("not read");
        };
        assert_eq!(
            (r.method.as_str(), r.path(), r.query()),
            ("POST", "/a/b", "x=1")
        );
        assert_eq!(r.header("idempotency-key"), Some("k"));
        assert_eq!(r.body, b"abc");
        assert!(!format!("{r:?}").contains("abc"));
    }

    #[tokio::test]
    async fn refuses_what_it_cannot_read() {
        assert!(matches!(
            read(b"GET\r\n\r\n").await,
            Received::Refused(400, _)
        ));
        assert!(matches!(
            read(b"GET / HTTP/1.1\r\nno colon\r\n\r\n").await,
            Received::Refused(400, _)
        ));
        assert!(matches!(
            read(b"POST / HTTP/1.1\r\ncontent-length: 99999999999\r\n\r\n").await,
            Received::Refused(413, _)
        ));
        assert!(matches!(
            read(b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nab").await,
            Received::Closed
        ));
    }
}
