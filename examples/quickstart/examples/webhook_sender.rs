//! Outbound webhooks, as an app sends them to its customers:
//!
//! ```text
//! WHARF_WEBHOOK_SECRET=whsec_... cargo run --release --example webhook_sender -- \
//!     --store sqlite:/tmp/outbox.db --endpoint http://127.0.0.1:9000/hook --count 100 \
//!     --schedule 0s,1s,2s,3s
//! ```
//!
//! Enqueues `--count` messages (JSON bodies) for the endpoint in one
//! transaction of the store's SQLite file, then delivers whatever the store
//! holds (messages a killed earlier run left included, once their lease
//! runs out) until nothing is pending or in flight, and exits 0. Each
//! attempt is signed with the Standard Webhooks secret in
//! `WHARF_WEBHOOK_SECRET` and carries the message's `webhook-id`, the same
//! on every retry. `--schedule` lists the delays before each attempt (the
//! first before the initial one); a message that uses them up goes to the
//! dead-letter queue (`wharf webhook dlq list --store ...`). Plain HTTP is
//! allowed to loopback only. `--lease-ms` (default 10000) sets how soon a
//! killed run's in-flight messages are taken up again.

use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use wharf::store::{enqueue_in_sqlite, NewMessage, OutboxStore, SqliteStore};
use wharf::webhooks::{RetrySchedule, Sender, SenderConfig};

/// The endpoint's name in the store: messages left by an earlier run go to
/// whatever `--endpoint` this run names.
const ENDPOINT: &str = "default";

struct Options {
    store: String,
    endpoint: String,
    count: usize,
    schedule: Vec<Duration>,
    lease: Duration,
}

/// `0s`, `500ms`, `2m`, `1h` (a bare number is seconds).
fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (0s, 500ms, 2m, 1h)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is out of range"))
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let (mut store, mut endpoint, mut count) = (None, None, 0);
    // Without `--schedule`: at once, then 1 s, 5 s and 30 s.
    let mut schedule = [0, 1, 5, 30].map(Duration::from_secs).to_vec();
    let mut lease = Duration::from_secs(10);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--store" => store = Some(value("--store")?),
            "--endpoint" => endpoint = Some(value("--endpoint")?),
            "--count" => {
                count = value("--count")?
                    .parse()
                    .map_err(|_| "--count takes a number")?
            }
            "--schedule" => {
                schedule = value("--schedule")?
                    .split(',')
                    .map(duration)
                    .collect::<Result<_, _>>()?
            }
            "--lease-ms" => {
                lease = Duration::from_millis(
                    value("--lease-ms")?
                        .parse()
                        .map_err(|_| "--lease-ms takes a number")?,
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Options {
        store: store.ok_or("--store sqlite:PATH is required")?,
        endpoint: endpoint.ok_or("--endpoint URL is required")?,
        count,
        schedule,
        lease,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let options = options().map_err(|e| {
        format!("{e}\nusage: webhook_sender --store sqlite:PATH --endpoint URL --count N [--schedule 0s,1s,2s,3s]")
    })?;
    let secret = std::env::var("WHARF_WEBHOOK_SECRET")
        .map_err(|_| "set WHARF_WEBHOOK_SECRET to the endpoint's whsec_ secret")?;
    let secrets: Vec<SecretString> = secret
        .split_whitespace()
        .map(|s| SecretString::from(s.to_owned()))
        .collect();
    let path = options
        .store
        .strip_prefix("sqlite:")
        .ok_or("this example's outbox is a SQLite file: --store sqlite:PATH")?;
    let path = path.strip_prefix("//").unwrap_or(path);
    let store = Arc::new(SqliteStore::open(path).await?);

    let schedule = RetrySchedule::delays(options.schedule.clone());
    let initial = schedule.initial_delay();
    let sender = Sender::new(
        Arc::clone(&store),
        SenderConfig {
            schedule,
            attempt_timeout: options.lease / 2,
            lease: options.lease,
            guard: wharf::call::AddressGuard::public_and_loopback(),
            allow_plain_http_loopback: true,
            poll_interval: Duration::from_millis(100),
            ..SenderConfig::default()
        },
    );
    sender
        .register(ENDPOINT, &options.endpoint, &secrets)
        .await?;

    // The app's own transaction: its rows and its messages commit together.
    if options.count > 0 {
        let mut conn = wharf::store::rusqlite::Connection::open(store.path())?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let tx = conn.transaction()?;
        let now = chrono_now_ms();
        for n in 0..options.count {
            let body = format!(r#"{{"type":"example.event","n":{n}}}"#);
            let mut message = NewMessage::new(ENDPOINT, "example.event", body, now)?;
            message.due_at = now + initial.as_millis() as i64;
            enqueue_in_sqlite(&tx, &message)?;
        }
        tx.commit()?;
        eprintln!("enqueued {} messages", options.count);
    }

    sender.run_until_idle().await?;
    let dead: u64 = store.outbox_status().await?.iter().map(|q| q.dead).sum();
    eprintln!("nothing pending or in flight; {dead} in the dead-letter queue");
    Ok(())
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
