//! Bodies that need not fit in memory. A request [`Body`] is bytes or a
//! stream of chunks; a stream that can be opened again (a file) survives
//! retries, a one-shot stream is sent once and its call is never retried.
//! A response [`ByteStream`] hands the body over chunk by chunk as it
//! arrives, so a download is never held whole.

use super::class::{TransportError, TransportErrorKind};
use bytes::{Bytes, BytesMut};
use futures_util::stream::{Stream, StreamExt};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Chunks of a streamed request body, as a transport sends them.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;

/// Size of the chunks read from a file.
const FILE_CHUNK: usize = 64 * 1024;

/// A request body: bytes in memory, or a stream.
#[derive(Clone, Default)]
pub struct Body {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Bytes(Bytes),
    Stream {
        source: Source,
        /// Sent as `Content-Length` when known (some servers refuse
        /// chunked uploads).
        length: Option<u64>,
    },
}

impl Default for Kind {
    fn default() -> Self {
        Kind::Bytes(Bytes::new())
    }
}

type Open = Arc<dyn Fn() -> Chunks + Send + Sync>;

#[derive(Clone)]
enum Source {
    /// Opened again for every attempt: retries and replays resend it.
    Reopen(Open),
    /// Read once: the first attempt takes it.
    Once(Arc<Mutex<Option<Chunks>>>),
}

/// What a transport sends for one attempt.
pub enum Opened {
    Bytes(Bytes),
    Stream { chunks: Chunks, length: Option<u64> },
}

fn boxed<S, B, E>(stream: S) -> Chunks
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: Into<Bytes>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Box::pin(stream.map(|item| item.map(Into::into).map_err(to_io)))
}

/// An error as an `io::Error`, keeping one that already is (its kind
/// tells e.g. a missing file).
fn to_io<E: Into<Box<dyn std::error::Error + Send + Sync>>>(e: E) -> io::Error {
    match e.into().downcast::<io::Error>() {
        Ok(io) => *io,
        Err(other) => io::Error::other(other),
    }
}

impl Body {
    pub fn empty() -> Body {
        Body::default()
    }

    /// A one-shot stream: sent once. A call with such a body is never
    /// retried nor replayed after a refreshed token (its bytes are gone);
    /// use [`Body::reopen`] or [`Body::file`] for retries.
    pub fn stream<S, B, E>(stream: S, length: Option<u64>) -> Body
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        Body {
            kind: Kind::Stream {
                source: Source::Once(Arc::new(Mutex::new(Some(boxed(stream))))),
                length,
            },
        }
    }

    /// A stream made afresh by `open` for every attempt, so the call can be
    /// retried like one with a body in memory.
    pub fn reopen<F, S, B, E>(open: F, length: Option<u64>) -> Body
    where
        F: Fn() -> S + Send + Sync + 'static,
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        Body {
            kind: Kind::Stream {
                source: Source::Reopen(Arc::new(move || boxed(open()))),
                length,
            },
        }
    }

    /// A file, read in 64 KiB chunks as it is sent and opened again for
    /// every attempt. Its length is taken now and sent as `Content-Length`;
    /// a file that changes size meanwhile fails the attempt rather than
    /// sending something else.
    pub async fn file(path: impl AsRef<Path>) -> io::Result<Body> {
        let path = path.as_ref().to_owned();
        let length = tokio::fs::metadata(&path).await?.len();
        Ok(Body::reopen(move || read_file(path.clone()), Some(length)))
    }

    /// The bytes, when the body is in memory.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Bytes(b) => Some(b),
            Kind::Stream { .. } => None,
        }
    }

    /// The length, when known.
    pub fn len(&self) -> Option<u64> {
        match &self.kind {
            Kind::Bytes(b) => Some(b.len() as u64),
            Kind::Stream { length, .. } => *length,
        }
    }

    /// No bytes at all (a stream of unknown length is not empty).
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Whether the body can be sent again (retries, a replay after a
    /// refreshed token).
    pub fn is_replayable(&self) -> bool {
        !matches!(
            self.kind,
            Kind::Stream {
                source: Source::Once(_),
                ..
            }
        )
    }

    /// The body for one attempt. A one-shot stream is handed out once;
    /// asking again is an error, never an empty body sent in its place.
    pub fn open(&self) -> io::Result<Opened> {
        match &self.kind {
            Kind::Bytes(b) => Ok(Opened::Bytes(b.clone())),
            Kind::Stream { source, length } => {
                let chunks = match source {
                    Source::Reopen(open) => open(),
                    Source::Once(slot) => {
                        let taken = match slot.lock() {
                            Ok(mut s) => s.take(),
                            Err(poisoned) => poisoned.into_inner().take(),
                        };
                        taken.ok_or_else(|| {
                            io::Error::other("a one-shot body stream was already sent")
                        })?
                    }
                };
                Ok(Opened::Stream {
                    chunks,
                    length: *length,
                })
            }
        }
    }

    /// The whole body in memory, up to `limit` bytes (for transports that
    /// cannot stream, e.g. in-memory test transports).
    pub async fn collect(&self, limit: usize) -> io::Result<Bytes> {
        match self.open()? {
            Opened::Bytes(b) => Ok(b),
            Opened::Stream { chunks, .. } => {
                collect_limited(chunks, limit, || {
                    io::Error::other(format!("request body larger than {limit} bytes"))
                })
                .await
            }
        }
    }
}

/// A stream's chunks in memory; `too_large` once they pass `limit` bytes.
async fn collect_limited<S, E>(
    mut chunks: S,
    limit: usize,
    too_large: impl FnOnce() -> E,
) -> Result<Bytes, E>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut all = BytesMut::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        if all.len() + chunk.len() > limit {
            return Err(too_large());
        }
        all.extend_from_slice(&chunk);
    }
    Ok(all.freeze())
}

/// A file's chunks, opened when first polled.
fn read_file(path: PathBuf) -> impl Stream<Item = io::Result<Bytes>> + Send {
    use tokio::io::AsyncReadExt;
    enum State {
        Closed(PathBuf),
        Open(tokio::fs::File),
        Done,
    }
    futures_util::stream::unfold(State::Closed(path), |state| async move {
        let mut file = match state {
            State::Done => return None,
            State::Open(f) => f,
            State::Closed(path) => match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                Err(e) => return Some((Err(e), State::Done)),
            },
        };
        let mut buf = BytesMut::with_capacity(FILE_CHUNK);
        match file.read_buf(&mut buf).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(buf.freeze()), State::Open(file))),
            Err(e) => Some((Err(e), State::Done)),
        }
    })
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body {
            kind: Kind::Bytes(b),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Bytes::from(v).into()
    }
}

impl From<String> for Body {
    fn from(v: String) -> Self {
        Bytes::from(v).into()
    }
}

impl From<&'static [u8]> for Body {
    fn from(v: &'static [u8]) -> Self {
        Bytes::from_static(v).into()
    }
}

impl From<&'static str> for Body {
    fn from(v: &'static str) -> Self {
        Bytes::from_static(v.as_bytes()).into()
    }
}

impl From<crate::binary::Binary> for Body {
    fn from(v: crate::binary::Binary) -> Self {
        v.bytes.into()
    }
}

/// Contents are never printed; in-memory bodies show as redacted bytes.
impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Bytes(b) => fmt::Debug::fmt(&crate::redact::BodySize(b), f),
            Kind::Stream { source, length } => f
                .debug_struct("Stream")
                .field("replayable", &matches!(source, Source::Reopen(_)))
                .field("length", length)
                .finish(),
        }
    }
}

type Pieces = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// A response body arriving chunk by chunk. Each chunk must arrive within
/// the transport's stall timeout; a body cut short ends with an error, never
/// silently.
pub struct ByteStream {
    inner: Pieces,
}

impl ByteStream {
    pub fn new<S>(stream: S) -> ByteStream
    where
        S: Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
    {
        ByteStream {
            inner: Box::pin(stream),
        }
    }

    /// A body already in memory, as one chunk.
    pub fn from_bytes(bytes: Bytes) -> ByteStream {
        let once = (!bytes.is_empty()).then_some(Ok(bytes));
        ByteStream::new(futures_util::stream::iter(once))
    }

    /// The next chunk; `None` at the end of the body.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, TransportError>> {
        self.inner.next().await
    }

    /// The rest of the body in memory, up to `limit` bytes.
    pub async fn collect(self, limit: usize) -> Result<Bytes, TransportError> {
        collect_limited(self.inner, limit, || {
            TransportError::new(
                TransportErrorKind::Body,
                true,
                format!("response body larger than {limit} bytes"),
            )
        })
        .await
    }

    /// Writes the rest of the body to `out` as it arrives (e.g. a file),
    /// and returns how many bytes were written.
    pub async fn write_to<W>(mut self, out: &mut W) -> Result<u64, WriteError>
    where
        W: tokio::io::AsyncWrite + Unpin,
    {
        use tokio::io::AsyncWriteExt;
        let mut written = 0u64;
        while let Some(chunk) = self.next_chunk().await {
            let chunk = chunk.map_err(WriteError::Body)?;
            out.write_all(&chunk).await.map_err(WriteError::Write)?;
            written += chunk.len() as u64;
        }
        out.flush().await.map_err(WriteError::Write)?;
        Ok(written)
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ByteStream")
    }
}

/// Why [`ByteStream::write_to`] stopped.
#[derive(Debug)]
pub enum WriteError {
    /// The body failed to arrive (stalled, cut short, reset).
    Body(TransportError),
    /// Writing it failed.
    Write(io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Body(e) => write!(f, "response body: {e}"),
            WriteError::Write(e) => write!(f, "writing the response body: {e}"),
        }
    }
}

impl std::error::Error for WriteError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_one_shot_stream_is_handed_out_once() {
        let body = Body::stream(
            futures_util::stream::iter([Ok::<_, io::Error>(Bytes::from_static(b"ab"))]),
            Some(2),
        );
        assert!(!body.is_replayable());
        let copy = body.clone();
        assert_eq!(&body.collect(10).await.unwrap()[..], b"ab");
        let again = copy.collect(10).await.unwrap_err();
        assert!(again.to_string().contains("already sent"), "{again}");
    }

    #[tokio::test]
    async fn a_reopened_stream_is_sent_whole_every_time() {
        let body = Body::reopen(
            || futures_util::stream::iter([Ok::<_, io::Error>("x"), Ok("y")]),
            None,
        );
        assert!(body.is_replayable() && !body.is_empty() && body.len().is_none());
        for _ in 0..2 {
            assert_eq!(&body.collect(10).await.unwrap()[..], b"xy");
        }
        assert!(body.collect(1).await.is_err(), "limit enforced");
    }

    #[tokio::test]
    async fn a_file_is_read_in_chunks_and_reopened() {
        let dir = std::env::temp_dir().join(format!("wharf-body-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let body = Body::file(&path).await.unwrap();
        assert_eq!(body.len(), Some(200_000));
        let Opened::Stream { mut chunks, .. } = body.open().unwrap() else {
            panic!("a file streams")
        };
        let mut pieces = 0;
        let mut all = Vec::new();
        while let Some(c) = chunks.next().await {
            pieces += 1;
            all.extend_from_slice(&c.unwrap());
        }
        assert!(pieces >= 4, "{pieces} chunks");
        assert_eq!(all, data);
        assert_eq!(body.collect(1 << 20).await.unwrap().len(), 200_000);
        std::fs::remove_dir_all(&dir).unwrap();
        let gone = body.collect(1 << 20).await.unwrap_err();
        assert_eq!(gone.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn debug_never_shows_contents() {
        let text = format!("{:?}", Body::from("CANARY-BODY-SECRET"));
        assert!(!text.contains("CANARY"), "{text}");
    }
}
