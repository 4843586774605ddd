//! A small webhook receiver, as an app would run one:
//!
//! ```text
//! WHARF_WEBHOOK_SECRET=whsec_... cargo run --release --example webhook_receiver -- \
//!     --listen 127.0.0.1:8080 --store sqlite:/tmp/webhooks.db
//! ```
//!
//! `POST /webhooks/standard` takes Standard Webhooks deliveries: verified,
//! stored (SQLite file, or a `postgres://` URL), then acknowledged. A
//! worker records each event in the table `ledger` of the same database,
//! in the transaction that marks the event done, so each one is recorded
//! exactly once however often it is delivered or retried, even across a
//! crash. To see failures: a payload with `"fail_times": n` fails its
//! first n attempts; one with `"poison": true` always fails and ends in
//! the dead-letter queue (`wharf webhook dlq list --store ...`), unless
//! the worker runs with `WHARF_EXAMPLE_HEAL=1` (then a replay succeeds).
//!
//! Options: `--max-attempts N` (default 5) and `--base-delay-ms MS`
//! (default 200) set the retry schedule; `--lease-ms MS` (default 10000)
//! how soon a crashed worker's events are taken up again (a handler gets
//! half of it); `--no-worker` only receives.

use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use wharf::store::tokio_postgres as postgres;
use wharf::store::{PostgresStore, SqliteStore, Store, StoredEvent};
use wharf::webhooks::{
    Handler, HandlerError, Receiver, RetrySchedule, Scheme, Verifier, Worker, WorkerConfig,
};

const ROUTE: &str = "/webhooks/standard";
const SOURCE: &str = "standard";

struct Options {
    listen: String,
    store: String,
    max_attempts: u32,
    base_delay: Duration,
    lease: Duration,
    worker: bool,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut listen = None;
    let mut store = None;
    let mut max_attempts = 5;
    let mut base_delay = Duration::from_millis(200);
    let mut lease = Duration::from_secs(10);
    let mut worker = true;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--listen" => listen = Some(value("--listen")?),
            "--store" => store = Some(value("--store")?),
            "--max-attempts" => {
                max_attempts = value("--max-attempts")?
                    .parse()
                    .map_err(|_| "--max-attempts takes a number")?
            }
            "--base-delay-ms" => {
                base_delay = Duration::from_millis(
                    value("--base-delay-ms")?
                        .parse()
                        .map_err(|_| "--base-delay-ms takes a number")?,
                )
            }
            "--lease-ms" => {
                lease = Duration::from_millis(
                    value("--lease-ms")?
                        .parse()
                        .map_err(|_| "--lease-ms takes a number")?,
                )
            }
            "--no-worker" => worker = false,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Options {
        listen: listen.ok_or("--listen ADDRESS:PORT is required")?,
        store: store.ok_or("--store sqlite:PATH (or a postgres:// URL) is required")?,
        max_attempts,
        base_delay,
        lease,
        worker,
    })
}

/// What the demo payload asks for.
#[derive(serde::Deserialize, Default)]
struct Demo {
    #[serde(default)]
    fail_times: u32,
    #[serde(default)]
    poison: bool,
}

/// Records events in `ledger`; fails on demand first.
struct Ledger {
    heal: bool,
}

impl Ledger {
    fn check(&self, event: &StoredEvent) -> Result<(), HandlerError> {
        // A body that is not the demo's JSON is an ordinary event.
        let demo: Demo = serde_json::from_slice(&event.body).unwrap_or_default();
        if demo.poison && !self.heal {
            return Err(HandlerError::retry(
                "poison event: this handler always fails on it",
            ));
        }
        if event.attempts <= demo.fail_times {
            return Err(HandlerError::retry(format!(
                "failing attempt {} of the {} asked for",
                event.attempts, demo.fail_times
            )));
        }
        Ok(())
    }
}

impl Handler<SqliteStore> for Ledger {
    async fn handle(
        &self,
        event: &StoredEvent,
        tx: &mut wharf::store::SqliteTx,
    ) -> Result<(), HandlerError> {
        self.check(event)?;
        tx.connection()
            .await?
            .execute(
                "INSERT INTO ledger (event_id, attempts) VALUES (?1, ?2)",
                (&event.event_id, event.attempts),
            )
            .map_err(|e| HandlerError::retry(format!("ledger: {e}")))?;
        Ok(())
    }
}

impl Handler<PostgresStore> for Ledger {
    async fn handle(
        &self,
        event: &StoredEvent,
        tx: &mut wharf::store::PostgresTx,
    ) -> Result<(), HandlerError> {
        self.check(event)?;
        let attempts = i64::from(event.attempts);
        tx.client()
            .await?
            .execute(
                "INSERT INTO ledger (event_id, attempts) VALUES ($1, $2)",
                &[&event.event_id, &attempts],
            )
            .await
            .map_err(|e| HandlerError::retry(format!("ledger: {e}")))?;
        Ok(())
    }
}

async fn serve<S: Store>(
    store: S,
    options: &Options,
    verifier: Verifier,
) -> Result<(), Box<dyn std::error::Error>>
where
    Ledger: Handler<S>,
{
    let store = Arc::new(store);
    let heal = std::env::var("WHARF_EXAMPLE_HEAL").is_ok_and(|v| v == "1");
    let worker = Worker::new(Arc::clone(&store), Ledger { heal }).config(WorkerConfig {
        schedule: RetrySchedule::exponential(
            options.max_attempts,
            options.base_delay,
            options.base_delay * 8,
        ),
        lease: options.lease,
        handler_timeout: options.lease / 2,
        poll_interval: Duration::from_millis(200),
        ..WorkerConfig::default()
    });
    let receiver = Receiver::builder(SOURCE, verifier, store)
        .wake(worker.waker())
        .build();
    let listener = tokio::net::TcpListener::bind(&options.listen).await?;
    eprintln!("listening on http://{}{ROUTE}", listener.local_addr()?);
    let app = receiver.router(ROUTE);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if options.worker {
        let working = tokio::spawn(async move { worker.run(std::future::pending()).await });
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        working.abort();
        served?;
    } else {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let options = options().map_err(|e| {
        format!(
            "{e}\nusage: webhook_receiver --listen ADDRESS:PORT --store sqlite:PATH|postgres://..."
        )
    })?;
    let secret = std::env::var("WHARF_WEBHOOK_SECRET")
        .map_err(|_| "set WHARF_WEBHOOK_SECRET to the endpoint's whsec_ secret")?;
    let secrets: Vec<SecretString> = secret
        .split_whitespace()
        .map(|s| SecretString::from(s.to_owned()))
        .collect();
    let verifier = Verifier::new(Scheme::Standard, &secrets)?;
    if let Some(path) = options.store.strip_prefix("sqlite:") {
        let store = SqliteStore::open(path.strip_prefix("//").unwrap_or(path)).await?;
        sqlite_ledger(&store)?;
        serve(store, &options, verifier).await
    } else if options.store.starts_with("postgres://") || options.store.starts_with("postgresql://")
    {
        let store = PostgresStore::connect(&options.store).await?;
        let (client, connection) = postgres::connect(&options.store, postgres::NoTls).await?;
        let connection = tokio::spawn(connection);
        client
            .batch_execute(
                // Instances starting together take turns creating it.
                "BEGIN;
                 SELECT pg_advisory_xact_lock(7451230982);
                 CREATE TABLE IF NOT EXISTS ledger (
                     id bigserial PRIMARY KEY,
                     event_id text NOT NULL,
                     attempts bigint NOT NULL,
                     recorded_at timestamptz NOT NULL DEFAULT now());
                 COMMIT;",
            )
            .await?;
        drop(client);
        let _ = connection.await;
        serve(store, &options, verifier).await
    } else {
        Err("--store takes sqlite:PATH or a postgres:// URL".into())
    }
}

/// Creates the ledger table (no unique constraint: a duplicate effect
/// would show as a second row, not hide behind an error).
fn sqlite_ledger(store: &SqliteStore) -> Result<(), Box<dyn std::error::Error>> {
    let conn = wharf::store::rusqlite::Connection::open(store.path())?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS ledger (
             id INTEGER PRIMARY KEY,
             event_id TEXT NOT NULL,
             attempts INTEGER NOT NULL,
             recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
    )?;
    Ok(())
}
