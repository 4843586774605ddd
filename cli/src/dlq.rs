//! `wharf webhook dlq list|inspect|replay`: the dead-letter queue of a
//! webhook store, by `--store sqlite:PATH` or `--store postgres://…`.

use chrono::{DateTime, SecondsFormat, Utc};
use wharf::store::{AnyStore, DeadLetter, ReplayFilter};

/// Which dead letters: what `list` and `replay` share.
#[derive(clap::Args)]
pub struct Selection {
    /// The store: `sqlite:PATH` or a `postgres://` URL.
    #[arg(long, value_name = "URL")]
    store: String,
    /// Only this source's (the receiver's name for the endpoint).
    #[arg(long)]
    source: Option<String>,
    /// Only events that died at or after this time (RFC 3339).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    since: Option<i64>,
    /// Only events that died before this time (RFC 3339).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    until: Option<i64>,
}

fn parse_time(text: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("{text:?} is not an RFC 3339 time ({e})"))
}

fn time_text(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(SecondsFormat::Millis, true),
    )
}

impl Selection {
    fn filter(&self, id: Option<String>) -> ReplayFilter {
        ReplayFilter {
            event_id: id,
            source: self.source.clone(),
            since: self.since,
            until: self.until,
        }
    }
}

/// One line per dead letter: its id, then source (the endpoint, for an
/// outbound message), when it died, attempts, direction and the last error.
fn line(dead: &DeadLetter) -> String {
    let error: String = dead
        .last_error
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "{} source={} dead_at={} attempts={} direction={} error={}",
        dead.event_id,
        dead.source,
        time_text(dead.dead_at),
        dead.attempts,
        dead.direction.as_str(),
        error
    )
}

/// The most `list` prints unless told otherwise.
pub const DEFAULT_LIMIT: usize = 1000;

pub async fn list(selection: Selection, limit: usize) -> Result<(), String> {
    let store = AnyStore::open(&selection.store)
        .await
        .map_err(|e| e.to_string())?;
    let dead = store
        .dead_letters(&selection.filter(None), limit)
        .await
        .map_err(|e| e.to_string())?;
    for dead in &dead {
        println!("{}", line(dead));
    }
    Ok(())
}

pub async fn inspect(store: String, id: String) -> Result<(), String> {
    let store = AnyStore::open(&store).await.map_err(|e| e.to_string())?;
    let filter = ReplayFilter {
        event_id: Some(id.clone()),
        ..ReplayFilter::default()
    };
    let dead = store
        .dead_letters(&filter, 100)
        .await
        .map_err(|e| e.to_string())?;
    if dead.is_empty() {
        return Err(format!("no dead letter with id {id}"));
    }
    for dead in &dead {
        println!("id: {}", dead.event_id);
        println!("direction: {}", dead.direction.as_str());
        println!("source: {}", dead.source);
        println!("received_at: {}", time_text(dead.received_at));
        println!("dead_at: {}", time_text(dead.dead_at));
        println!("attempts: {}", dead.attempts);
        println!("last_error: {}", dead.last_error);
        println!("body: {}", String::from_utf8_lossy(&dead.body));
        println!();
    }
    Ok(())
}

pub async fn replay(selection: Selection, id: Option<String>, all: bool) -> Result<(), String> {
    if id.is_none() && !all && selection.since.is_none() {
        return Err("say which: --id ID, --all or --since RFC3339".into());
    }
    let store = AnyStore::open(&selection.store)
        .await
        .map_err(|e| e.to_string())?;
    let now = Utc::now().timestamp_millis();
    let count = store
        .replay(&selection.filter(id), now)
        .await
        .map_err(|e| e.to_string())?;
    println!("replayed {count}");
    Ok(())
}

/// `wharf outbox status`: one line per endpoint (and kind: outbound
/// webhooks, queued calls).
pub async fn outbox_status(store: String) -> Result<(), String> {
    let store = AnyStore::open(&store).await.map_err(|e| e.to_string())?;
    let now = Utc::now().timestamp_millis();
    let queues = store.outbox_status().await.map_err(|e| e.to_string())?;
    if queues.is_empty() {
        println!("outbox empty");
    }
    for q in &queues {
        let age = q.oldest_pending.map_or_else(
            || "-".to_owned(),
            |at| format!("{}s", (now - at).max(0) / 1000),
        );
        println!(
            "{} pending={} in_flight={} dead={} oldest_age={age} kind={}",
            q.endpoint, q.pending, q.in_flight, q.dead, q.kind
        );
    }
    Ok(())
}
