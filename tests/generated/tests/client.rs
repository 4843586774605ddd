//! Generated clients (from specs/params.yaml, bodies.yaml, responses.yaml)
//! called through the real request path, against an in-memory transport
//! that records the exact requests and plays scripted responses.

use std::sync::{Arc, Mutex};
use wharf::call::{
    DriftSink, HttpRequest, Integration, IntegrationConfig, Response, SendFuture, Transport,
};
use wharf::client::{ApiError, CallSettings};
use wharf::http::{HeaderMap, HeaderValue, StatusCode};
use wharf::policy::retry::RetryPolicy;
use wharf_generated_tests::{bodies, params, responses};

type Script = dyn Fn(&HttpRequest) -> (u16, Vec<(&'static str, String)>, String) + Send + Sync;

/// Records every request and answers from a script.
struct Recorder {
    seen: Mutex<Vec<HttpRequest>>,
    script: Box<Script>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

impl Transport for Recorder {
    fn send(&self, request: HttpRequest) -> SendFuture {
        let (status, headers, body) = (self.script)(&request);
        self.seen.lock().unwrap().push(request);
        Box::pin(async move {
            let mut map = HeaderMap::new();
            for (k, v) in headers {
                map.append(k, HeaderValue::from_str(&v).unwrap());
            }
            Ok(Response {
                status: StatusCode::from_u16(status).unwrap(),
                headers: map,
                body: body.into(),
            })
        })
    }
}

/// The bytes of a recorded request's body (all in memory here).
fn sent(request: &HttpRequest) -> &[u8] {
    request.body.as_bytes().expect("an in-memory body")
}

#[derive(Debug, Default)]
struct Drifts(Mutex<Vec<(String, String)>>);

impl DriftSink for Drifts {
    fn report(&self, _integration: &str, operation: &str, drift: &[wharf::Drift]) {
        for d in drift {
            self.0
                .lock()
                .unwrap()
                .push((operation.to_owned(), d.pointer.clone()));
        }
    }
}

struct Setup {
    recorder: Arc<Recorder>,
    drifts: Arc<Drifts>,
    integration: Integration,
}

impl Setup {
    fn new(
        script: impl Fn(&HttpRequest) -> (u16, Vec<(&'static str, String)>, String)
            + Send
            + Sync
            + 'static,
    ) -> Setup {
        let recorder = Arc::new(Recorder {
            seen: Mutex::new(Vec::new()),
            script: Box::new(script),
        });
        let drifts = Arc::new(Drifts::default());
        let config = IntegrationConfig {
            retry: RetryPolicy {
                max_attempts: 1,
                ..RetryPolicy::default()
            },
            breaker: None,
            ..IntegrationConfig::default()
        };
        let integration = Integration::builder("test")
            .config(config)
            .transport(recorder.clone())
            .drift_sink(drifts.clone())
            .build()
            .unwrap();
        Setup {
            recorder,
            drifts,
            integration,
        }
    }

    fn requests(&self) -> Vec<HttpRequest> {
        self.recorder.seen.lock().unwrap().clone()
    }

    /// Path and query of the request `i`.
    fn target(&self, i: usize) -> String {
        let url = self.requests()[i].url.clone();
        url.strip_prefix(BASE).unwrap_or(&url).to_owned()
    }
}

const BASE: &str = "https://api.test";

fn ok_echo(_: &HttpRequest) -> (u16, Vec<(&'static str, String)>, String) {
    (200, vec![], r#"{"ok": true}"#.into())
}

fn header<'r>(r: &'r HttpRequest, name: &str) -> Option<&'r str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn path_parameters_in_simple_label_and_matrix_styles() {
    let s = Setup::new(ok_echo);
    let c = params::Client::new(s.integration.clone(), BASE);
    let point = params::Point { x: 1, y: -2 };
    let list = vec!["a b".to_owned(), "c/d".to_owned()];
    let reply = c
        .path_simple(5, &list, &point, Default::default())
        .await
        .unwrap();
    assert!(reply.value.ok);
    c.path_label("x", &vec![1, 2], Default::default())
        .await
        .unwrap();
    c.path_matrix("x", &vec![1, 2], Default::default())
        .await
        .unwrap();
    assert_eq!(s.target(0), "/simple/5/a%20b,c%2Fd/x=1,y=-2");
    assert_eq!(s.target(1), "/label/.x/.1.2");
    assert_eq!(s.target(2), "/matrix/;id=x/;list=1;list=2");
}

/// A method builds its request when called: the future it returns holds
/// the client alone (its arguments may be gone before it is awaited) and is
/// `Send`, so it can be spawned.
#[tokio::test]
async fn a_methods_future_holds_only_the_client() {
    fn send<F: std::future::Future + Send>(future: F) -> F {
        future
    }
    let s = Setup::new(ok_echo);
    let c = params::Client::new(s.integration.clone(), BASE);
    let future = {
        let list = vec!["a b".to_owned()];
        let point = params::Point { x: 3, y: 4 };
        c.path_simple(7, &list, &point, Default::default())
    };
    assert!(send(future).await.unwrap().value.ok);
    assert_eq!(s.target(0), "/simple/7/a%20b/x=3,y=4");
}

#[tokio::test]
async fn query_parameters_in_every_style_and_optional_ones_left_out() {
    let s = Setup::new(ok_echo);
    let c = params::Client::new(s.integration.clone(), BASE);
    c.query_styles("only required", Default::default())
        .await
        .unwrap();
    let since = wharf::DateTime::parse_from_rfc3339("2024-05-01T10:00:00+02:00").unwrap();
    let options = params::QueryStylesOptions::default()
        .limit(10)
        .ids(vec![1, 2])
        .tags(vec!["x".to_owned(), "y".to_owned()])
        .spaced(vec!["a".to_owned(), "b".to_owned()])
        .piped(vec!["a".to_owned(), "b".to_owned()])
        .filter(params::Filter {
            status: Some("open".into()),
            owner: None,
        })
        .sort(params::QueryStylesSort::Desc)
        .since(since)
        .redirect("https://x.test/a?b");
    c.query_styles("a&b=c", options).await.unwrap();
    assert_eq!(s.target(0), "/query?q=only%20required");
    assert_eq!(
        s.target(1),
        "/query?q=a%26b%3Dc&limit=10&ids=1&ids=2&tags=x,y&spaced=a%20b&piped=a|b\
         &filter%5Bstatus%5D=open&sort=desc&since=2024-05-01T10%3A00%3A00%2B02%3A00\
         &redirect=https://x.test/a?b"
    );
}

#[tokio::test]
async fn header_and_cookie_parameters() {
    let s = Setup::new(ok_echo);
    let c = params::Client::new(s.integration.clone(), BASE);
    let id = wharf::Uuid::parse_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
    let options = params::HeaderStylesOptions::default()
        .x_flags(vec!["a".to_owned(), "b".to_owned()])
        .x_point(params::Point { x: 3, y: 4 });
    c.header_styles(&id, options).await.unwrap();
    let options = params::CookieStylesOptions::default().prefs(vec!["dark".into(), "wide".into()]);
    c.cookie_styles("h 1", options).await.unwrap();
    let r = s.requests();
    assert_eq!(
        header(&r[0], "x-request-id"),
        Some("67e55044-10b1-426f-9247-bb680e5fe0c8")
    );
    assert_eq!(header(&r[0], "x-flags"), Some("a,b"));
    assert_eq!(header(&r[0], "x-point"), Some("x=3,y=4"));
    assert_eq!(
        header(&r[1], "cookie"),
        Some("session_hint=h%201; prefs=dark,wide")
    );
}

#[tokio::test]
async fn a_header_value_that_cannot_be_sent_is_a_typed_error_without_the_value() {
    let s = Setup::new(ok_echo);
    let c = params::Client::new(s.integration.clone(), BASE);
    let id = wharf::Uuid::nil();
    let options =
        params::HeaderStylesOptions::default().x_flags(vec!["CANARY\r\nInjected: 1".into()]);
    let err = c.header_styles(&id, options).await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Call(e) if matches!(e.kind, wharf::call::ErrorKind::InvalidRequest { .. })),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("CANARY"));
    assert!(s.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn json_vendor_form_multipart_binary_text_bodies() {
    let s = Setup::new(|r| match r.url.as_str() {
        u if u.ends_with("/widgets") || u.ends_with("/vendor") || u.ends_with("/documents") => {
            (201, vec![], r#"{"name": "w"}"#.into())
        }
        u if u.ends_with("/charges") => (200, vec![], r#"{"id": "ch_1", "amount": 5}"#.into()),
        u if u.ends_with("/notes") => (
            200,
            vec![("content-type", "text/plain".into())],
            "stored".into(),
        ),
        u if u.ends_with("/pings") => (204, vec![], String::new()),
        _ => (201, vec![], r#"{"size": 3}"#.into()),
    });
    let c = bodies::Client::new(s.integration.clone(), BASE);
    let widget = bodies::Widget {
        name: "w".into(),
        size: Some(2),
        tags: None,
        attributes: None,
    };
    c.create_widget(&widget, Default::default()).await.unwrap();
    c.create_widget_vendor(&widget, Default::default())
        .await
        .unwrap();
    let charge = bodies::CreateChargeBody {
        amount: 2000,
        currency: "usd".into(),
        description: Some("a&b".into()),
        capture: None,
        metadata: Some([("order".to_owned(), "6735".to_owned())].into()),
    };
    let reply = c.create_charge(&charge, Default::default()).await.unwrap();
    assert_eq!(reply.value.id, "ch_1");
    let upload = bodies::UploadBody {
        title: "t".into(),
        pages: Some(3),
        file: wharf::Binary::new(vec![0u8, 159, 146, 150]).with_file_name("a.bin"),
    };
    c.upload(&upload, Default::default()).await.unwrap();
    c.put_blob("n", vec![1u8, 2, 3], Default::default())
        .await
        .unwrap();
    let note = c.create_note("hello", Default::default()).await.unwrap();
    assert_eq!(note.value, "stored");
    c.create_document(&widget, Default::default())
        .await
        .unwrap();
    c.ping(Default::default()).await.unwrap();
    let body = bodies::PingBody {
        message: Some("hi".into()),
    };
    c.ping(bodies::PingOptions::default().body(body))
        .await
        .unwrap();

    let r = s.requests();
    let ct = |i: usize| header(&r[i], "content-type").unwrap_or("").to_owned();
    let text = |i: usize| String::from_utf8_lossy(sent(&r[i])).into_owned();
    assert_eq!(
        (ct(0).as_str(), text(0).as_str()),
        ("application/json", r#"{"name":"w","size":2}"#)
    );
    assert_eq!(ct(1), "application/vnd.wharf.widget+json");
    assert_eq!(ct(2), "application/x-www-form-urlencoded");
    assert_eq!(
        text(2),
        "amount=2000&currency=usd&description=a%26b&metadata%5Border%5D=6735"
    );
    assert!(ct(3).starts_with("multipart/form-data; boundary="));
    assert!(
        text(3).contains("name=\"title\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nt\r\n")
    );
    assert!(text(3)
        .contains("name=\"file\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream"));
    assert!(
        sent(&r[3]).windows(4).any(|w| w == [0, 159, 146, 150]),
        "file bytes intact"
    );
    assert_eq!(
        (ct(4).as_str(), sent(&r[4])),
        ("application/octet-stream", &[1u8, 2, 3][..])
    );
    assert_eq!(r[4].method, wharf::http::Method::PUT);
    assert_eq!((ct(5).as_str(), text(5).as_str()), ("text/plain", "hello"));
    assert_eq!(ct(6), "application/json", "JSON is picked over XML");
    assert!(r[7].body.is_empty() && header(&r[7], "content-type").is_none());
    assert_eq!(text(8), r#"{"message":"hi"}"#);
}

#[tokio::test]
async fn other_media_types_stay_reachable_through_a_raw_body() {
    let s = Setup::new(|_| (201, vec![], r#"{"name": "w"}"#.into()));
    let c = bodies::Client::new(s.integration.clone(), BASE);
    let widget = bodies::Widget {
        name: "ignored".into(),
        size: None,
        tags: None,
        attributes: None,
    };
    let options = bodies::CreateDocumentOptions {
        call: CallSettings {
            raw_body: Some(("application/xml".into(), "<widget name='w'/>".into())),
            ..CallSettings::default()
        },
    };
    c.create_document(&widget, options).await.unwrap();
    let r = s.requests();
    assert_eq!(header(&r[0], "content-type"), Some("application/xml"));
    assert_eq!(sent(&r[0]), b"<widget name='w'/>");
}

#[tokio::test]
async fn typed_success_and_error_responses_keep_status_headers_and_raw_body() {
    let s = Setup::new(|r| {
        let pet = r#"{"id": 7, "name": "Rex"}"#;
        match r.url.rsplit('/').next().unwrap_or("") {
            "7" => (
                200,
                vec![("x-ratelimit-remaining", "41".into())],
                pet.into(),
            ),
            "8" => (404, vec![], r#"{"message": "no pet 8"}"#.into()),
            "9" => (
                503,
                vec![("retry-after", "7".into())],
                r#"{"title": "down for maintenance"}"#.into(),
            ),
            "10" => (200, vec![], r#"{"id": "not a number, and no name"}"#.into()),
            "11" => (
                200,
                vec![],
                r#"{"id": "11", "name": "Coerced", "extra": 1}"#.into(),
            ),
            _ => (500, vec![], "<html>oops</html>".into()),
        }
    });
    let c = responses::Client::new(s.integration.clone(), BASE);
    let pet = c.get_pet(7, Default::default()).await.unwrap();
    assert_eq!((pet.value.id, pet.value.name.as_str()), (7, "Rex"));
    assert_eq!(pet.rate_limit().and_then(|r| r.remaining), Some(41));
    // The documented success media types, JSON first.
    assert_eq!(
        header(&s.requests()[0], "accept"),
        Some("application/json, application/vnd.example.pet;q=0.5")
    );
    // A caller's own Accept replaces it.
    let mut options = responses::GetPetOptions::default();
    options.call.headers.insert(
        wharf::http::header::ACCEPT,
        wharf::http::HeaderValue::from_static("application/vnd.example.pet"),
    );
    c.get_pet(7, options).await.unwrap();
    let last = s.requests().last().cloned().unwrap();
    assert_eq!(header(&last, "accept"), Some("application/vnd.example.pet"));
    assert_eq!(
        last.headers.get_all("accept").iter().count(),
        1,
        "one Accept"
    );

    match c.get_pet(8, Default::default()).await.unwrap_err() {
        ApiError::Response(r) => {
            assert_eq!(r.status, 404);
            assert!(
                matches!(&r.value, responses::GetPetError::NotFound(n) if n.message == "no pet 8")
            );
            assert_eq!(&r.body[..], br#"{"message": "no pet 8"}"#);
        }
        other => panic!("expected a documented 404, got {other:?}"),
    }
    match c.get_pet(9, Default::default()).await.unwrap_err() {
        ApiError::Response(r) => {
            assert_eq!(r.status, 503);
            assert_eq!(r.class, wharf::call::ErrorClass::Transient);
            assert_eq!(r.retry_after(), Some(std::time::Duration::from_secs(7)));
            assert!(
                matches!(&r.value, responses::GetPetError::Default(p) if p.title == "down for maintenance")
            );
        }
        other => panic!("expected the default error, got {other:?}"),
    }
    match c.get_pet(10, Default::default()).await.unwrap_err() {
        ApiError::Decode { response, error } => {
            assert_eq!(response.status, 200);
            assert_eq!(
                &response.body[..],
                br#"{"id": "not a number, and no name"}"#
            );
            assert!(error.field().is_some(), "{error}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let coerced = c.get_pet(11, Default::default()).await.unwrap();
    assert_eq!(coerced.value.id, 11);
    assert_eq!(
        s.drifts.0.lock().unwrap().as_slice(),
        [
            ("getPet".to_owned(), "/id".to_owned()),
            ("getPet".to_owned(), "/extra".to_owned())
        ],
        "the coercion and the unknown field went to the integration's drift sink"
    );
    // A documented error schema that does not fit is a decode error that
    // keeps the body.
    let err = c.get_pet(12, Default::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(err.body().map(|b| &b[..]), Some(&b"<html>oops</html>"[..]));
}

#[tokio::test]
async fn several_success_shapes_text_errors_and_undocumented_statuses() {
    let s = Setup::new(|r| {
        let body = String::from_utf8_lossy(sent(r)).into_owned();
        match body.as_str() {
            b if b.contains("now") => (201, vec![], r#"{"id": 1, "name": "now"}"#.into()),
            b if b.contains("later") => (202, vec![], r#"{"job_id": "j1"}"#.into()),
            b if b.contains("dup") => (409, vec![], "already there".into()),
            _ => (418, vec![], "teapot".into()),
        }
    });
    let c = responses::Client::new(s.integration.clone(), BASE);
    let new = |name: &str| responses::NewPet {
        name: name.into(),
        tag: None,
    };
    let created = c.create_pet(&new("now"), Default::default()).await.unwrap();
    assert!(matches!(created.value, responses::CreatePetOk::Created(ref p) if p.id == 1));
    let accepted = c
        .create_pet(&new("later"), Default::default())
        .await
        .unwrap();
    assert!(matches!(accepted.value, responses::CreatePetOk::Accepted(ref j) if j.job_id == "j1"));
    match c
        .create_pet(&new("dup"), Default::default())
        .await
        .unwrap_err()
    {
        ApiError::Response(r) => {
            assert_eq!(r.value, responses::CreatePetError::Conflict);
            assert_eq!(&r.body[..], b"already there");
        }
        other => panic!("expected 409, got {other:?}"),
    }
    match c
        .create_pet(&new("x"), Default::default())
        .await
        .unwrap_err()
    {
        ApiError::UnexpectedStatus(r) => {
            assert_eq!((r.status.as_u16(), &r.body[..]), (418, &b"teapot"[..]))
        }
        other => panic!("expected an undocumented status, got {other:?}"),
    }
}

#[tokio::test]
async fn binary_responses_are_bytes_with_their_media_type() {
    let s = Setup::new(|_| {
        (
            200,
            vec![("content-type", "application/octet-stream".into())],
            "\u{1}\u{2}".into(),
        )
    });
    let c = bodies::Client::new(s.integration.clone(), BASE);
    let blob = c.get_blob("n", Default::default()).await.unwrap();
    assert_eq!(&blob.value.bytes[..], [1, 2]);
    assert_eq!(
        header(&s.requests()[0], "accept"),
        Some("application/octet-stream, application/json;q=0.1")
    );
    assert_eq!(
        blob.value.content_type.as_deref(),
        Some("application/octet-stream")
    );
}

/// Query value of `name` in a request URL.
fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

async fn collect<T, E: std::fmt::Debug>(
    stream: impl futures_util::Stream<Item = Result<T, ApiError<E>>>,
) -> Vec<T> {
    use futures_util::StreamExt;
    let items: Vec<_> = stream.collect().await;
    items.into_iter().map(|i| i.unwrap()).collect()
}

#[tokio::test]
async fn stripe_cursor_pagination() {
    let s = Setup::new(|r| {
        let body = match query_value(&r.url, "starting_after").as_deref() {
            None => {
                r#"{"data": [{"id": "a", "amount": 1}, {"id": "b", "amount": 2}], "has_more": true}"#
            }
            Some("b") => r#"{"data": [{"id": "c", "amount": 3}], "has_more": false}"#,
            Some(_) => r#"{"data": [], "has_more": false}"#,
        };
        (200, vec![], body.into())
    });
    let c = responses::Client::new(s.integration.clone(), BASE);
    let options = responses::ListChargesOptions::default().limit(2);
    let ids: Vec<String> = collect(c.list_charges_stream(options))
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(s.target(1), "/charges?limit=2&starting_after=b");
    assert_eq!(s.requests().len(), 2);
}

#[tokio::test]
async fn token_pagination_direct_and_nested() {
    let s = Setup::new(|r| {
        let body = match (
            r.url.contains("/events"),
            query_value(&r.url, "page_token"),
            query_value(&r.url, "cursor"),
        ) {
            (true, None, _) => r#"{"items": [{"id": "e1"}], "next_page_token": "t2"}"#,
            (true, Some(_), _) => r#"{"items": [{"id": "e2"}], "next_page_token": ""}"#,
            (false, _, None) => {
                r#"{"ok": true, "members": [{"id": "m1"}], "response_metadata": {"next_cursor": "c2"}}"#
            }
            (false, _, Some(_)) => {
                r#"{"ok": true, "members": [{"id": "m2"}], "response_metadata": {}}"#
            }
        };
        (200, vec![], body.into())
    });
    let c = responses::Client::new(s.integration.clone(), BASE);
    let events = collect(c.list_events_stream(Default::default())).await;
    assert_eq!(
        events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["e1", "e2"]
    );
    let members = collect(c.list_members_stream(Default::default())).await;
    assert_eq!(
        members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["m1", "m2"]
    );
    assert_eq!(s.target(1), "/events?page_token=t2");
    assert_eq!(s.target(3), "/members?cursor=c2");
}

#[tokio::test]
async fn offset_pagination_stops_at_an_empty_page() {
    let s = Setup::new(|r| {
        let offset: usize = query_value(&r.url, "offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let items: Vec<String> = (offset..5.min(offset + 2))
            .map(|i| format!(r#"{{"id": "l{i}"}}"#))
            .collect();
        (200, vec![], format!("[{}]", items.join(",")))
    });
    let c = responses::Client::new(s.integration.clone(), BASE);
    let logs = collect(c.list_logs_stream(responses::ListLogsOptions::default().limit(2))).await;
    assert_eq!(logs.len(), 5);
    assert_eq!(s.target(2), "/logs?offset=4&limit=2");
    assert_eq!(s.requests().len(), 4, "three pages and one empty page");
}

#[tokio::test]
async fn link_header_pagination_stays_on_the_clients_origin() {
    let s = Setup::new(|r| {
        let page = query_value(&r.url, "page").unwrap_or_default();
        match page.as_str() {
            "" => (200, vec![("link", format!("<{BASE}/repos/o/issues?page=2>; rel=\"next\", <{BASE}/repos/o/issues?page=3>; rel=\"last\""))], r#"[{"id": "i1"}]"#.into()),
            "2" => (200, vec![("link", "<https://evil.test/steal?page=3>; rel=\"next\"".to_owned())], r#"[{"id": "i2"}]"#.into()),
            _ => (200, vec![], r#"[{"id": "never"}]"#.into()),
        }
    });
    let c = responses::Client::new(s.integration.clone(), BASE);
    use futures_util::StreamExt;
    let items: Vec<_> = c
        .list_issues_stream("o", Default::default())
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().id, "i1");
    assert_eq!(items[1].as_ref().unwrap().id, "i2");
    assert!(
        matches!(&items[2], Err(ApiError::Call(e)) if matches!(e.kind, wharf::call::ErrorKind::InvalidRequest { .. })),
        "{:?}",
        items[2]
    );
    assert_eq!(s.requests().len(), 2, "the foreign link was not followed");
    assert_eq!(s.target(1), "/repos/o/issues?page=2");
}

#[tokio::test]
async fn a_callers_idempotency_key_is_sent_and_never_replaced() {
    let s = Setup::new(|_| (200, vec![], String::new()));
    let c = wharf_generated_tests::operations_spec::Client::new(s.integration.clone(), BASE);
    let options = wharf_generated_tests::operations_spec::ChargesCreateOptions::default()
        .idempotency_key("order-42");
    c.charges_create(options).await.unwrap();
    c.charges_create(Default::default()).await.unwrap();
    let r = s.requests();
    assert_eq!(header(&r[0], "idempotency-key"), Some("order-42"));
    let generated = header(&r[1], "idempotency-key").unwrap();
    assert!(generated.len() >= 16 && generated != "order-42");
}

#[test]
fn options_with_secret_parameters_redact_them_in_debug() {
    let options = params::QueryStylesOptions::default()
        .access_token("CANARY-TOKEN")
        .limit(3);
    let shown = format!("{options:?}");
    assert!(!shown.contains("CANARY"), "{shown}");
    assert!(
        shown.contains("limit: Some(3)") && shown.contains("access_token"),
        "{shown}"
    );
    let mut settings = CallSettings::default();
    settings
        .headers
        .insert("authorization", HeaderValue::from_static("Bearer CANARY"));
    settings.raw_body = Some(("text/plain".into(), "CANARY".into()));
    assert!(!format!("{settings:?}").contains("CANARY"));
}
