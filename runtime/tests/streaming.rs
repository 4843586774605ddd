//! Streamed bodies over real TCP (reqwest on one side, hyper on the other):
//! an upload reaches the server before the caller has produced all of it,
//! a download reaches the caller before the server has sent all of it, a
//! stalled download fails as a body error, and retries resend only bodies
//! that can be sent again.

use bytes::Bytes;
use futures_util::stream;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wharf_runtime::call::{
    Body, CallOptions, ErrorKind, Integration, IntegrationConfig, OperationMeta, Request,
    ReqwestTransport, TransportErrorKind,
};
use wharf_runtime::policy::retry::RetryPolicy;

type Reply = hyper::Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>;
type Handler = Arc<
    dyn Fn(hyper::Request<hyper::body::Incoming>) -> Pin<Box<dyn Future<Output = Reply> + Send>>
        + Send
        + Sync,
>;

/// Serves `handler` on 127.0.0.1 until the test's runtime ends.
async fn serve(handler: Handler) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let reply = handler(req);
                    async move { Ok::<_, Infallible>(reply.await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

fn whole(status: u16, body: impl Into<Bytes>) -> Reply {
    let mut r = hyper::Response::new(
        http_body_util::Full::new(body.into())
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r
}

/// A response whose body is whatever arrives on the channel, as it arrives.
fn streamed(rx: mpsc::Receiver<Bytes>) -> Reply {
    let frames = stream::unfold(rx, |mut rx| async move {
        let piece = rx.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(piece)), rx))
    });
    hyper::Response::new(BodyExt::boxed(StreamBody::new(frames)))
}

fn integration(retries: u32) -> Integration {
    let transport = ReqwestTransport::builder()
        .allow_plain_http_loopback(true)
        .stall_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    Integration::builder("streams")
        .config(IntegrationConfig {
            retry: RetryPolicy {
                max_attempts: retries,
                base: Duration::from_millis(1),
                cap: Duration::from_millis(5),
            },
            jitter_seed: Some(1),
            ..IntegrationConfig::default()
        })
        .transport(Arc::new(transport))
        .build()
        .unwrap()
}

/// A PUT: idempotent by method, so failures are retried when the body can
/// be sent again.
fn put(url: &str, body: Body) -> Request {
    Request::new(
        OperationMeta::new("putBlob", Method::PUT, "/blobs/x"),
        format!("{url}/blobs/x"),
    )
    .with_body(body)
}

/// Every call here must finish well within this: a body buffered instead of
/// streamed would wait forever for a signal that comes only mid-stream.
const BOUND: Duration = Duration::from_secs(10);

#[tokio::test]
async fn an_upload_reaches_the_server_while_the_caller_is_still_producing_it() {
    let (first_seen, first_seen_rx) = oneshot::channel::<()>();
    let first_seen = Arc::new(Mutex::new(Some(first_seen)));
    let url = serve(Arc::new(move |req| {
        let first_seen = first_seen.clone();
        Box::pin(async move {
            let framing = match req.headers().get("content-length") {
                Some(v) => format!("length {}", v.to_str().unwrap()),
                None => "chunked".to_owned(),
            };
            let mut body = req.into_body();
            let mut received = Vec::new();
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.unwrap().into_data() {
                    received.extend_from_slice(&data);
                    if let Some(tx) = first_seen.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                }
            }
            whole(200, format!("{} bytes, {framing}", received.len()))
        })
    }))
    .await;

    // The second chunk exists only once the server has the first.
    let chunks = stream::unfold(
        (0, Some(first_seen_rx)),
        |(n, waiting): (u8, Option<oneshot::Receiver<()>>)| async move {
            match n {
                0 => Some((
                    Ok::<_, io::Error>(Bytes::from_static(b"first,")),
                    (1, waiting),
                )),
                1 => {
                    waiting?.await.ok()?;
                    Some((Ok(Bytes::from_static(b"second")), (2, None)))
                }
                _ => None,
            }
        },
    );
    let api = integration(1);
    let r = tokio::time::timeout(
        BOUND,
        api.call(
            put(&url, Body::stream(chunks, Some(12))),
            CallOptions::default(),
        ),
    )
    .await
    .expect("the upload did not wait for all of its body")
    .unwrap();
    assert_eq!(&r.body[..], b"12 bytes, length 12");

    // Unknown length: sent chunked.
    let unknown = stream::iter([Ok::<_, io::Error>("a"), Ok("bc")]);
    let r = api
        .call(
            put(&url, Body::stream(unknown, None)),
            CallOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(&r.body[..], b"3 bytes, chunked");
}

#[tokio::test]
async fn a_download_reaches_the_caller_while_the_server_is_still_sending_it() {
    let (ack, ack_rx) = oneshot::channel::<()>();
    let ack_rx = Arc::new(Mutex::new(Some(ack_rx)));
    let url = serve(Arc::new(move |_req| {
        let ack_rx = ack_rx.lock().unwrap().take();
        Box::pin(async move {
            let (tx, rx) = mpsc::channel(4);
            tokio::spawn(async move {
                tx.send(Bytes::from_static(b"part one;")).await.unwrap();
                // The rest only once the caller has the first part.
                if let Some(ack) = ack_rx {
                    let _ = ack.await;
                }
                tx.send(Bytes::from_static(b"part two")).await.unwrap();
            });
            streamed(rx)
        })
    }))
    .await;

    let api = integration(1);
    let request = Request::new(
        OperationMeta::new("getBlob", Method::GET, "/blobs/x"),
        format!("{url}/blobs/x"),
    );
    let mut r = tokio::time::timeout(BOUND, api.call_streaming(request, CallOptions::default()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, 200);
    let first = tokio::time::timeout(BOUND, r.body.next_chunk())
        .await
        .expect("the first part arrived before the server finished")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"part one;");
    ack.send(()).unwrap();
    let rest = tokio::time::timeout(BOUND, r.body.collect(1024))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&rest[..], b"part two");
}

#[tokio::test]
async fn a_stalled_download_ends_in_a_body_error_not_a_short_body() {
    let url = serve(Arc::new(|_req| {
        Box::pin(async {
            let (tx, rx) = mpsc::channel(1);
            tokio::spawn(async move {
                tx.send(Bytes::from_static(b"start")).await.unwrap();
                // Keep the body open without sending more.
                tokio::time::sleep(Duration::from_secs(30)).await;
                drop(tx);
            });
            streamed(rx)
        })
    }))
    .await;
    let request = Request::new(
        OperationMeta::new("getBlob", Method::GET, "/blobs/x"),
        format!("{url}/blobs/x"),
    );
    let r = integration(1)
        .call_streaming(request, CallOptions::default())
        .await
        .unwrap();
    let error = tokio::time::timeout(BOUND, r.body.collect(1024))
        .await
        .expect("stall protection fired")
        .unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Body);
    assert!(error.message.contains("stalled"), "{error}");
}

/// Answers 503 to the first request and echoes the body's length after.
async fn flaky_server() -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<usize>>>) {
    let count = Arc::new(AtomicUsize::new(0));
    let lengths = Arc::new(Mutex::new(Vec::new()));
    let (c, l) = (count.clone(), lengths.clone());
    let url = serve(Arc::new(move |req| {
        let (c, l) = (c.clone(), l.clone());
        Box::pin(async move {
            let n = c.fetch_add(1, Ordering::SeqCst);
            let body = req.into_body().collect().await.unwrap().to_bytes();
            l.lock().unwrap().push(body.len());
            if n == 0 {
                whole(503, "busy")
            } else if req_is_missing(&body) {
                whole(404, "{\"message\":\"no such blob\"}")
            } else {
                whole(200, format!("{}", body.len()))
            }
        })
    }))
    .await;
    (url, count, lengths)
}

fn req_is_missing(body: &Bytes) -> bool {
    &body[..] == b"missing"
}

#[tokio::test]
async fn a_one_shot_body_is_never_resent_and_a_reopened_one_is() {
    let api = integration(3);

    let (url, count, _) = flaky_server().await;
    let once = stream::iter([Ok::<_, io::Error>(vec![1u8; 1000])]);
    let error = api
        .call(
            put(&url, Body::stream(once, Some(1000))),
            CallOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.status(),
        Some(StatusCode::SERVICE_UNAVAILABLE),
        "{error}"
    );
    assert_eq!(error.attempts, 1, "its bytes are gone: not retried");
    assert_eq!(count.load(Ordering::SeqCst), 1);

    let (url, count, lengths) = flaky_server().await;
    let opened = Arc::new(AtomicUsize::new(0));
    let o = opened.clone();
    let reopen = Body::reopen(
        move || {
            o.fetch_add(1, Ordering::SeqCst);
            stream::iter([Ok::<_, io::Error>(vec![2u8; 1000])])
        },
        Some(1000),
    );
    let r = api
        .call(put(&url, reopen), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(&r.body[..], b"1000");
    assert_eq!(count.load(Ordering::SeqCst), 2, "retried once");
    assert_eq!(opened.load(Ordering::SeqCst), 2, "opened per attempt");
    assert_eq!(*lengths.lock().unwrap(), [1000, 1000], "sent whole twice");
}

#[tokio::test]
async fn a_streaming_call_retries_before_the_head_and_keeps_error_bodies() {
    let api = integration(3);
    let (url, count, _) = flaky_server().await;
    let request = put(&url, Body::from("0123456789"));
    let r = api
        .call_streaming(request, CallOptions::default())
        .await
        .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2, "the 503 was retried");
    assert_eq!(r.attempts, 2, "the response says how many attempts it took");
    assert_eq!(&r.body.collect(64).await.unwrap()[..], b"10");

    let request = put(&url, Body::from("missing"));
    let error = api
        .call_streaming(request, CallOptions::default())
        .await
        .unwrap_err();
    match &error.kind {
        ErrorKind::Status { status, body, .. } => {
            assert_eq!(*status, 404);
            assert_eq!(&body[..], b"{\"message\":\"no such blob\"}");
        }
        _ => panic!("expected the 404 with its body, got {error}"),
    }
}

#[tokio::test]
async fn a_file_body_is_sent_whole_with_its_length() {
    let (url, _, lengths) = flaky_server().await;
    let path = std::env::temp_dir().join(format!("wharf-upload-{}", std::process::id()));
    std::fs::write(&path, vec![9u8; 1_000_000]).unwrap();
    let body = Body::file(&path).await.unwrap();
    let r = integration(3)
        .call(put(&url, body), CallOptions::default())
        .await
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(&r.body[..], b"1000000");
    assert_eq!(*lengths.lock().unwrap(), [1_000_000, 1_000_000]);

    // A file that is gone: a clear error before anything is sent.
    let missing = Body::file(&path).await.unwrap_err();
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);
}

#[tokio::test]
async fn a_body_read_failure_after_retries_reports_every_attempt() {
    use wharf_runtime::client::{ApiError, CallSettings, ClientCore, Streamed};
    use wharf_runtime::testing::{Fault, FaultHttpServer, FaultServer, Seen};
    // A 503, then a 302 whose declared body is cut short.
    let server = FaultServer::new(|seen: &Seen| match seen.index {
        0 => Fault::status(503),
        _ => Fault::Truncated { status: 302 },
    });
    let http = FaultHttpServer::start(server.clone()).await.unwrap();
    let core = ClientCore::new(integration(3), http.url(""));
    let operation: &'static OperationMeta = Box::leak(Box::new(OperationMeta::new(
        "getBlob",
        Method::GET,
        "/blob",
    )));
    let mut parts = core.request(operation);
    parts.path("/blob");
    let sent = tokio::time::timeout(
        Duration::from_secs(10),
        core.send_streaming::<()>(parts, CallSettings::default()),
    )
    .await
    .expect("the call ends");
    match sent {
        Err(ApiError::Call(error)) => {
            assert_eq!(error.attempts, 2, "the 503 and the 302: {error}");
            assert_eq!(server.log().requests.len(), 2, "both reached the server");
            assert!(
                matches!(&error.kind, ErrorKind::Transport { error, .. } if error.kind == TransportErrorKind::Body),
                "a body error: {error}"
            );
        }
        Ok(Streamed::Raw(raw)) => panic!("a cut-short body read as whole: {raw:?}"),
        Ok(Streamed::Body(_)) => panic!("a 302 handed over as a success"),
        Err(other) => panic!("expected the call's error, got {other}"),
    }
}
