//! A real scrape: Debian's `prometheus` server scrapes a test app's
//! `/metrics` on loopback every second with `wharf alerts`' rules loaded;
//! the app's integration meets 503s until its breaker opens and a webhook
//! handler dead-letters an event; Prometheus's HTTP API then shows the
//! series and the alerts firing.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wharf_runtime::call::{CallOptions, Integration, IntegrationConfig, OperationMeta, Request};
use wharf_runtime::http::Method;
use wharf_runtime::observe::{alert_rules, AlertConfig, Exporter, OpsServer};
use wharf_runtime::policy::breaker::BreakerConfig;
use wharf_runtime::policy::retry::RetryPolicy;
use wharf_runtime::store::{NewEvent, SqliteStore, SqliteTx, Store, StoredEvent};
use wharf_runtime::testing::{Fault, FaultServer, FaultTransport, Seen};
use wharf_runtime::time::TokioClock;
use wharf_runtime::webhooks::{Handler, HandlerError, Worker};

/// The Prometheus server; killed (only this one) when dropped.
struct Prometheus {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

impl Prometheus {
    fn start(target: &str, rules: &str) -> Prometheus {
        let dir = std::env::temp_dir().join(format!("wharf-prometheus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("rules.yaml"), rules).unwrap();
        std::fs::write(
            dir.join("prometheus.yaml"),
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files: [rules.yaml]\n\
                 scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yaml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus is missing: scripts/test.sh installs Debian's prometheus package");
        Prometheus { child, dir, port }
    }

    async fn api(&self, client: &reqwest::Client, path: &str) -> Result<serde_json::Value, String> {
        let url = format!("http://127.0.0.1:{}/api/v1/{path}", self.port);
        let response = client.get(url).send().await.map_err(|e| e.to_string())?;
        let text = response.text().await.map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
    }
}

#[derive(Clone)]
struct Refuses;

impl Handler<SqliteStore> for Refuses {
    async fn handle(&self, _event: &StoredEvent, _tx: &mut SqliteTx) -> Result<(), HandlerError> {
        Err(HandlerError::permanent("no such customer"))
    }
}

/// Polls `check` every 250 ms until it holds (`Ok`), at most `limit`;
/// `Err` carries what was seen instead.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + limit;
    let mut last = String::new();
    while Instant::now() < deadline {
        match check().await {
            Ok(()) => return,
            Err(seen) => last = seen,
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{what} within {limit:?}; last seen: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_the_app_and_the_rules_fire() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = Exporter::install().unwrap();
    let ops = OpsServer::new()
        .metrics(exporter)
        .listen("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let rules = alert_rules(&AlertConfig::default(), &["github".into()]).unwrap();
    let prometheus = Prometheus::start(&ops.addr.to_string(), &rules);

    // Healthy calls first, so the series exist before the trouble.
    let flaky = FaultServer::new(|seen: &Seen| {
        if seen.index < 20 {
            Fault::ok()
        } else {
            Fault::status(503)
        }
    });
    let github = Integration::builder("github")
        .config(IntegrationConfig {
            breaker: Some(BreakerConfig {
                consecutive_failures: 5,
                open_for: Duration::from_secs(600),
                ..Default::default()
            }),
            retry: RetryPolicy {
                max_attempts: 1,
                ..Default::default()
            },
            ..Default::default()
        })
        .transport(Arc::new(FaultTransport::new(flaky, Arc::new(TokioClock))))
        .build()
        .unwrap();
    let get = || {
        Request::new(
            OperationMeta::new("repos/get", Method::GET, "/repo"),
            "https://api.github.test/repo",
        )
    };
    for _ in 0..20 {
        github.call(get(), CallOptions::default()).await.unwrap();
    }
    let client = reqwest::Client::new();
    // The inbox's worker starts: its housekeeping registers the source's
    // dead-letter counter at zero.
    let dir = std::env::temp_dir().join(format!("wharf-scrape-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(dir.join("inbox.db")).await.unwrap());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    store
        .insert(NewEvent {
            source: "github".into(),
            event_id: "delivery-1".into(),
            received_at: now,
            headers: Vec::new(),
            body: bytes::Bytes::from_static(b"{\"action\":\"opened\"}"),
            order_key: None,
        })
        .await
        .unwrap();
    let worker = Worker::new(Arc::clone(&store), Refuses);
    worker.housekeeping().await;
    // Prometheus is up and has scraped the healthy state: the calls, and
    // the rare-event counters at zero.
    let healthy = "query?query=wharf_calls_total%7Bintegration%3D%22github%22%7D%20or%20\
                   wharf_breaker_transitions_total%7Bintegration%3D%22github%22,to%3D%22open%22%7D%20or%20\
                   wharf_webhook_dead_letters_total%7Bsource%3D%22github%22%7D";
    eventually(Duration::from_secs(60), "the first scrape", || async {
        let v = prometheus.api(&client, healthy).await?;
        let n = v["data"]["result"].as_array().map_or(0, Vec::len);
        if n < 3 {
            Err(v.to_string())
        } else {
            Ok(())
        }
    })
    .await;

    // Trouble: 503s until the breaker opens, and a dead letter.
    for _ in 0..10 {
        let _ = github.call(get(), CallOptions::default()).await;
    }
    assert_eq!(
        github.health().breaker,
        wharf_runtime::policy::breaker::BreakerState::Open
    );
    let pass = worker.run_once().await.unwrap();
    assert_eq!(pass.dead, 1, "{pass:?}");

    // The series arrived...
    eventually(
        Duration::from_secs(60),
        "the breaker state scraped",
        || async {
            let v = prometheus
                .api(
                    &client,
                    "query?query=wharf_breaker_state%7Bintegration%3D%22github%22%7D",
                )
                .await?;
            match v["data"]["result"][0]["value"][1].as_str() {
                Some("2") => Ok(()),
                _ => Err(v.to_string()),
            }
        },
    )
    .await;
    let buckets = prometheus
        .api(
            &client,
            "query?query=count(wharf_call_duration_seconds_bucket%7Bintegration%3D%22github%22%7D)",
        )
        .await
        .unwrap();
    let count: f64 = buckets["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(count >= 10.0, "histogram buckets scraped: {buckets}");

    // ...and the rules evaluated: these alerts fire.
    let want = [
        "WharfBreakerOpened",
        "WharfDeadLetter",
        "WharfErrorRateCritical",
    ];
    eventually(Duration::from_secs(60), "the alerts firing", || async {
        let v = prometheus.api(&client, "alerts").await?;
        let firing: Vec<String> = v["data"]["alerts"]
            .as_array()
            .ok_or_else(|| v.to_string())?
            .iter()
            .filter(|a| a["state"] == "firing" && a["labels"]["integration"] == "github")
            .filter_map(|a| a["labels"]["alertname"].as_str().map(str::to_owned))
            .collect();
        if want.iter().all(|w| firing.iter().any(|f| f == w)) {
            Ok(())
        } else {
            Err(v.to_string())
        }
    })
    .await;
    // The breaker has not been open 5 minutes: that one is pending at most.
    let v = prometheus.api(&client, "alerts").await.unwrap();
    let too_long = v["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "WharfBreakerOpenTooLong");
    assert!(too_long.is_some_and(|a| a["state"] == "pending"), "{v}");
    drop(prometheus);
    let _ = std::fs::remove_dir_all(&dir);
}
