//! The generated clients against a server nobody here wrote: Stoplight
//! Prism (`prism mock`, request validation on, dynamic responses) serving
//! the same specs. Every operation is called; Prism must accept every
//! request (it answers 422 and logs violations otherwise) and the client
//! must decode every response.
//!
//! Prism comes from npm (`scripts/test.sh` installs it into
//! `build/prism`). Without it these tests fail: they never skip.

use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wharf::auth::KeySource;
use wharf::call::{Authenticator, Integration, IntegrationConfig, ReqwestTransport};
use wharf::client::{ApiError, CallSettings};
use wharf::http::{HeaderMap, HeaderValue};
use wharf::policy::retry::RetryPolicy;
use wharf_generated_tests::{bodies, docker_engine, gitea, params, responses};

/// A running `prism mock`, stopped on drop.
struct Prism {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn prism_binary() -> PathBuf {
    match std::env::var_os("WHARF_PRISM") {
        Some(p) => PathBuf::from(p),
        None => workspace().join("build/prism/node_modules/.bin/prism"),
    }
}

impl Prism {
    fn start(spec: &str) -> Prism {
        Prism::start_file(&workspace().join("specs").join(spec))
    }

    fn start_file(spec: &Path) -> Prism {
        let bin = prism_binary();
        assert!(
            bin.exists(),
            "Prism is not installed at {} (run `bash scripts/test.sh`, which installs \
             @stoplight/prism-cli from npm, or set WHARF_PRISM)",
            bin.display()
        );
        // An ephemeral port: bind, read it, release it for Prism.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("an ephemeral port");
        let log =
            std::env::temp_dir().join(format!("wharf-prism-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("a log file");
        let child = Command::new(&bin)
            .args([
                "mock",
                "--errors",
                "--dynamic",
                "--seed",
                "wharf",
                "-h",
                "127.0.0.1",
            ])
            .args(["-p", &port.to_string()])
            .arg(spec)
            .stdout(Stdio::from(out.try_clone().expect("log handle")))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut prism = Prism { child, port, log };
        prism.wait_ready();
        prism
    }

    /// Bounded wait until Prism says it is listening.
    fn wait_ready(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(90) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prism exited early ({status}):\n{}", self.log_text());
            }
            if self.log_text().contains("Prism is listening") {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prism did not start within 90 s:\n{}", self.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn integration(&self) -> Integration {
        self.integration_with(None)
    }

    fn integration_with(&self, auth: Option<Arc<dyn Authenticator>>) -> Integration {
        let transport = ReqwestTransport::builder()
            .allow_plain_http_loopback(true)
            .build()
            .expect("transport");
        let builder = Integration::builder("prism")
            .config(IntegrationConfig {
                retry: RetryPolicy {
                    max_attempts: 1,
                    ..RetryPolicy::default()
                },
                breaker: None,
                ..IntegrationConfig::default()
            })
            .transport(Arc::new(transport));
        let builder = match auth {
            Some(auth) => builder.authenticator(auth),
            None => builder,
        };
        builder.build().expect("integration")
    }

    /// Prism's verdicts: no request may have failed validation.
    fn assert_no_violations(&self, expected_requests: usize) {
        let log = self.log_text();
        let failed: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("did not pass") || l.to_ascii_lowercase().contains("violation"))
            .collect();
        assert!(
            failed.is_empty(),
            "Prism rejected requests:\n{}",
            failed.join("\n")
        );
        let passed = log.matches("passed the validation rules").count();
        assert!(
            passed >= expected_requests,
            "Prism validated {passed} requests, expected at least {expected_requests}:\n{log}"
        );
    }
}

/// Settings asking Prism for a given documented status.
fn prefer(code: u16) -> CallSettings {
    let mut headers = HeaderMap::new();
    headers.insert(
        "prefer",
        HeaderValue::from_str(&format!("code={code}")).expect("header"),
    );
    CallSettings {
        headers,
        ..CallSettings::default()
    }
}

fn ok<T, E: std::fmt::Debug>(what: &str, r: Result<T, ApiError<E>>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e} / {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_accepts_every_parameter_style() {
    let prism = Prism::start("params.yaml");
    let c = params::Client::new(prism.integration(), prism.base_url());
    // Prism 5.14 crashes ("value.split is not a function") on arrays and
    // objects in `simple` path parameters, so `pathSimple` is checked
    // against the style table in tests/client.rs only.
    ok(
        "pathScalars",
        c.path_scalars(5, "a b/c", Default::default()).await,
    );
    ok(
        "pathLabel",
        c.path_label("x", &vec![1, 2], Default::default()).await,
    );
    ok(
        "pathMatrix",
        c.path_matrix("x", &vec![1, 2], Default::default()).await,
    );
    ok(
        "queryStyles (required only)",
        c.query_styles("q", Default::default()).await,
    );
    let options = params::QueryStylesOptions::default()
        .limit(10)
        .ids(vec![1, 2])
        .tags(vec!["x".to_owned(), "y".to_owned()])
        .spaced(vec!["a".to_owned(), "b".to_owned()])
        .piped(vec!["a".to_owned(), "b".to_owned()])
        .filter(params::Filter {
            status: Some("open".into()),
            owner: Some("me".into()),
        })
        .sort(params::QueryStylesSort::Asc)
        .since(wharf::DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z").expect("date"))
        .redirect("https://x.test/a");
    ok("queryStyles", c.query_styles("a&b", options).await);
    let options = params::HeaderStylesOptions::default()
        .x_flags(vec!["a".to_owned(), "b".to_owned()])
        .x_point(params::Point { x: 3, y: 4 });
    ok(
        "headerStyles",
        c.header_styles(&wharf::Uuid::nil(), options).await,
    );
    let options = params::CookieStylesOptions::default().prefs(vec!["dark".into(), "wide".into()]);
    ok("cookieStyles", c.cookie_styles("abc", options).await);
    prism.assert_no_violations(7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_accepts_every_body_kind() {
    let prism = Prism::start("bodies.yaml");
    let c = bodies::Client::new(prism.integration(), prism.base_url());
    let widget = bodies::Widget {
        name: "w".into(),
        size: Some(2),
        tags: Some(vec!["t".into()]),
        attributes: Some([("color".to_owned(), "red".to_owned())].into()),
    };
    ok(
        "createWidget",
        c.create_widget(&widget, Default::default()).await,
    );
    ok(
        "createWidgetVendor",
        c.create_widget_vendor(&widget, Default::default()).await,
    );
    let charge = bodies::CreateChargeBody {
        amount: 2000,
        currency: "usd".into(),
        description: Some("a&b=c".into()),
        capture: Some(true),
        metadata: Some([("order".to_owned(), "6735".to_owned())].into()),
    };
    ok(
        "createCharge",
        c.create_charge(&charge, Default::default()).await,
    );
    let upload = bodies::UploadBody {
        title: "report".into(),
        pages: Some(3),
        file: wharf::Binary::new(b"%PDF-1.4 not really".to_vec()).with_file_name("r.pdf"),
    };
    ok("upload", c.upload(&upload, Default::default()).await);
    ok(
        "putBlob",
        c.put_blob("n", vec![0u8, 1, 2, 255], Default::default())
            .await,
    );
    let blob = ok("getBlob", c.get_blob("n", Default::default()).await);
    assert!(blob.value.content_type.is_some());
    // Uploads streamed: a one-shot stream of unknown length (chunked), and
    // a file reopened per attempt (with its Content-Length).
    let chunks =
        futures_util::stream::iter([Ok::<_, std::io::Error>(&b"first "[..]), Ok(&b"second"[..])]);
    ok(
        "putBlob streamed",
        c.put_blob("n", wharf::Body::stream(chunks, None), Default::default())
            .await,
    );
    let file = std::env::temp_dir().join(format!("wharf-prism-blob-{}", std::process::id()));
    std::fs::write(&file, vec![7u8; 300_000]).expect("temp file");
    let from_file = wharf::Body::file(&file).await.expect("file body");
    ok(
        "putBlob from a file",
        c.put_blob("n", from_file, Default::default()).await,
    );
    std::fs::remove_file(&file).expect("temp file removed");
    // A download streamed, and its documented error typed.
    let streamed = ok(
        "getBlob streamed",
        c.get_blob_streaming("n", Default::default()).await,
    );
    assert_eq!(streamed.status, 200);
    streamed
        .value
        .collect(1 << 20)
        .await
        .expect("the streamed body arrives whole");
    let missing = c
        .get_blob_streaming("n", bodies::GetBlobOptions { call: prefer(404) })
        .await
        .expect_err("404 is an error");
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
    assert!(
        missing.value().is_some_and(|e| !e.message.is_empty()),
        "typed error body: {missing:?}"
    );
    let note = ok(
        "createNote",
        c.create_note("hello", Default::default()).await,
    );
    assert_eq!(note.status, 200);
    let plain = note
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    assert!(
        plain.is_some_and(|c| c.starts_with("text/plain")),
        "{plain:?}"
    );
    ok(
        "createDocument",
        c.create_document(&widget, Default::default()).await,
    );
    ok("ping", c.ping(Default::default()).await);
    let body = bodies::PingBody {
        message: Some("hi".into()),
    };
    ok(
        "ping with body",
        c.ping(bodies::PingOptions::default().body(body)).await,
    );
    prism.assert_no_violations(14);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_responses_decode_by_status_and_pages_stream() {
    let prism = Prism::start("responses.yaml");
    let c = responses::Client::new(prism.integration(), prism.base_url());
    let pet = ok("getPet", c.get_pet(7, Default::default()).await);
    assert_eq!(pet.status, 200);
    let options = responses::GetPetOptions { call: prefer(404) };
    match c.get_pet(7, options).await {
        Err(ApiError::Response(r)) => {
            assert_eq!(r.status, 404);
            assert!(matches!(r.value, responses::GetPetError::NotFound(_)));
        }
        other => panic!("expected a typed 404, got {other:?}"),
    }
    let new = responses::NewPet {
        name: "Rex".into(),
        tag: None,
    };
    let created = ok("createPet", c.create_pet(&new, Default::default()).await);
    assert!(matches!(created.value, responses::CreatePetOk::Created(_)));
    let options = responses::CreatePetOptions { call: prefer(202) };
    let accepted = ok("createPet 202", c.create_pet(&new, options).await);
    assert!(matches!(
        accepted.value,
        responses::CreatePetOk::Accepted(_)
    ));
    let options = responses::CreatePetOptions { call: prefer(409) };
    match c.create_pet(&new, options).await {
        Err(ApiError::Response(r)) => assert_eq!(r.value, responses::CreatePetError::Conflict),
        other => panic!("expected a typed 409, got {other:?}"),
    }
    // Streams: Prism's pages are random, so take a bounded number of items;
    // every follow-up request (cursor, token, offset) must validate.
    let charges: Vec<_> = c
        .list_charges_stream(responses::ListChargesOptions::default().limit(3))
        .take(6)
        .collect()
        .await;
    let events: Vec<_> = c
        .list_events_stream(Default::default())
        .take(6)
        .collect()
        .await;
    let members: Vec<_> = c
        .list_members_stream(Default::default())
        .take(6)
        .collect()
        .await;
    let logs: Vec<_> = c
        .list_logs_stream(responses::ListLogsOptions::default().limit(2))
        .take(6)
        .collect()
        .await;
    let issues: Vec<_> = c
        .list_issues_stream("octo", Default::default())
        .take(6)
        .collect()
        .await;
    // Every page has at least one item (`minItems: 1`), so each stream
    // must yield items, and none may be an error.
    for (name, (items, errors)) in [
        ("listCharges", tally(&charges)),
        ("listEvents", tally(&events)),
        ("listMembers", tally(&members)),
        ("listLogs", tally(&logs)),
        ("listIssues", tally(&issues)),
    ] {
        assert!(items > 0, "{name} stream yielded nothing");
        assert_eq!(errors, 0, "{name} stream had errors");
    }
    prism.assert_no_violations(14);
}

/// Items a stream yielded, and how many of them were errors.
fn tally<T, E>(items: &[Result<T, E>]) -> (usize, usize) {
    (items.len(), items.iter().filter(|r| r.is_err()).count())
}

/// A real Swagger 2.0 document unpacked by scripts/install-swagger2-specs.sh.
fn swagger2(name: &str) -> PathBuf {
    let path = workspace().join("build/corpus/swagger2").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/install-swagger2-specs.sh`",
        path.display()
    );
    path
}

/// Docker Engine's own Swagger 2.0 document, read by Prism as written:
/// query flags, a JSON body beside query parameters, a path parameter,
/// a binary body, a plain-text answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_accepts_docker_engine_calls_from_swagger_2() {
    use docker_engine::*;
    let prism = Prism::start_file(&swagger2("docker-engine.yaml"));
    let c = Client::new(prism.integration(), prism.base_url());
    let pong = ok("SystemPing", c.system_ping(Default::default()).await);
    assert_eq!(pong.status, 200);
    let options = ContainerListOptions::default()
        .all(true)
        .limit(5)
        .filters(r#"{"status":["running"]}"#);
    ok("ContainerList", c.container_list(options).await);
    let body = ContainerCreateBody::new()
        .with_image("alpine:3")
        .with_cmd(vec!["echo".to_owned(), "hi".to_owned()])
        .with_env(vec!["A=1".to_owned()]);
    let created = ok(
        "ContainerCreate",
        c.container_create(&body, ContainerCreateOptions::default().name("web"))
            .await,
    );
    assert_eq!(created.status, 201);
    ok(
        "ContainerInspect",
        c.container_inspect("web", ContainerInspectOptions::default().size(true))
            .await,
    );
    let volume = VolumeCreateBody::new().with_name("data").with_labels(
        [("app".to_owned(), "web".to_owned())]
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    ok(
        "VolumeCreate",
        c.volume_create(&volume, Default::default()).await,
    );
    ok(
        "NetworkList",
        c.network_list(NetworkListOptions::default().filters(r#"{"driver":["bridge"]}"#))
            .await,
    );
    // (ImageBuild cannot be a probe: Docker's document both `consumes`
    // application/octet-stream and pins a `Content-type` header parameter
    // to application/x-tar, and Prism enforces both.)
    ok(
        "PutContainerArchive",
        c.put_container_archive(
            "web",
            "/srv",
            b"not really a tar".to_vec(),
            PutContainerArchiveOptions::default().copy_uidgid("true"),
        )
        .await,
    );
    prism.assert_no_violations(7);
}

/// Gitea's Swagger 2.0 document: an API key from `securityDefinitions`, a
/// `formData` file upload (multipart), query and path parameters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prism_accepts_gitea_calls_from_swagger_2() {
    use gitea::*;
    let prism = Prism::start_file(&swagger2("gitea.json"));
    let key = KeySource::new("gitea_token_CANARY".to_owned().into());
    let auth = security_schemes::TOKEN
        .authenticator(key)
        .expect("Token is an apiKey scheme");
    let c = Client::new(
        prism.integration_with(Some(Arc::new(auth))),
        prism.base_url(),
    );
    ok(
        "userGetCurrent",
        c.user_get_current(Default::default()).await,
    );
    ok(
        "repoGet",
        c.repo_get("octo", "hello", Default::default()).await,
    );
    ok(
        "repoSearch",
        c.repo_search(RepoSearchOptions::default().q("wharf").limit(5))
            .await,
    );
    ok(
        "issueListIssues",
        c.issue_list_issues(
            "octo",
            "hello",
            IssueListIssuesOptions::default().state("open"),
        )
        .await,
    );
    let upload = RepoCreateReleaseAttachmentBody::new(
        wharf::Binary::new(b"release notes".to_vec()).with_file_name("notes.txt"),
    );
    ok(
        "repoCreateReleaseAttachment",
        c.repo_create_release_attachment(
            "octo",
            "hello",
            3,
            &upload,
            RepoCreateReleaseAttachmentOptions::default().name("notes.txt"),
        )
        .await,
    );
    prism.assert_no_violations(5);
}
