//! `wharf status --url URL`: a status page (`wharf::observe::StatusPage`)
//! in the terminal, read from its `status.json`. Exits 0 when everything
//! is healthy, 3 when something needs attention (a breaker not closed, a
//! failing health check, a credential that is expired or needs a new
//! login, dead letters), 1 when the page cannot be read.

use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use wharf::call::{CallOptions, Integration, OperationMeta, ReqwestTransport};
use wharf::http::Method;

/// The JSON beside the page at `url`.
fn json_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = if base.ends_with(".json") {
        base.to_owned()
    } else {
        format!("{}.json", base.trim_end_matches('/'))
    };
    match query {
        Some(q) => format!("{base}?{q}"),
        None => base,
    }
}

async fn fetch(url: &str) -> Result<Value, String> {
    let transport = ReqwestTransport::builder()
        .allow_plain_http_loopback(true)
        .build()
        .map_err(|e| e.to_string())?;
    let integration = Integration::builder("status")
        .transport(Arc::new(transport))
        .build()
        .map_err(|e| e.to_string())?;
    let request = wharf::call::Request::new(
        OperationMeta::new("status", Method::GET, "/status.json"),
        url,
    );
    let response = integration
        .call(request, CallOptions::new().timeout(Duration::from_secs(10)))
        .await
        .map_err(|e| e.to_string())?;
    let status: Value = serde_json::from_slice(&response.body)
        .map_err(|e| format!("{url} is not a wharf status page's JSON: {e}"))?;
    if !status["generated_at_ms"].is_i64() || !status["integrations"].is_array() {
        return Err(format!(
            "{url} is not a wharf status page's JSON: no generated_at_ms and integrations"
        ));
    }
    Ok(status)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("-")
}

fn millis(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1}ms"))
}

fn time(v: &Value) -> String {
    v.as_i64()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}

/// The page as lines, and whether something needs attention.
fn render(status: &Value) -> (Vec<String>, bool) {
    let mut lines = Vec::new();
    let mut attention = false;
    let empty = Vec::new();
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    for i in status["integrations"].as_array().unwrap_or(&empty) {
        let breaker = text(i, "breaker");
        attention |= breaker != "closed";
        let calls = i["calls"].as_object().cloned().unwrap_or_default();
        let total: u64 = calls.values().filter_map(Value::as_u64).sum();
        let failed: Vec<String> = calls
            .iter()
            .filter(|(k, v)| *k != "success" && v.as_u64().unwrap_or(0) > 0)
            .map(|(k, v)| format!("{k} {}", v.as_u64().unwrap_or(0)))
            .collect();
        let check = match i["health_check"].as_object() {
            None => "-".to_owned(),
            Some(c) if c.get("passed").and_then(Value::as_bool) == Some(true) => "passed".into(),
            Some(c) => {
                attention = true;
                format!(
                    "FAILED ({})",
                    c.get("error").and_then(Value::as_str).unwrap_or("?")
                )
            }
        };
        lines.push(format!(
            "{name}  breaker={breaker}  calls={total}{failed}  p50={} p95={} p99={}  budget={:.1}  in_flight={}  rate_limit_waits={}  check={check}",
            millis(&i["p50_ms"]),
            millis(&i["p95_ms"]),
            millis(&i["p99_ms"]),
            i["retry_budget"].as_f64().unwrap_or(0.0),
            i["in_flight"].as_u64().unwrap_or(0),
            i["rate_limit_waits"].as_u64().unwrap_or(0),
            name = text(i, "name"),
            failed = if failed.is_empty() {
                String::new()
            } else {
                format!(" ({})", failed.join(", "))
            },
        ));
        for t in list(&i["breaker_transitions"]) {
            lines.push(format!(
                "  breaker {} -> {} at {}",
                text(&t, "from"),
                text(&t, "to"),
                time(&t["at_ms"])
            ));
        }
        if let Some(drift) = i["drift"].as_object() {
            for (operation, n) in drift {
                lines.push(format!("  drift {operation} {}", n.as_u64().unwrap_or(0)));
            }
        }
    }
    for q in list(&status["queues"]) {
        let dead = q["dead"].as_u64().unwrap_or(0);
        attention |= dead > 0;
        lines.push(format!(
            "queue {} {}  pending={} in_flight={} dead={dead} oldest_age={}",
            text(&q, "queue"),
            text(&q, "name"),
            q["pending"].as_u64().unwrap_or(0),
            q["in_flight"].as_u64().unwrap_or(0),
            q["oldest_age_seconds"]
                .as_f64()
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.0}s")),
        ));
    }
    for e in list(&status["queue_errors"]) {
        attention = true;
        lines.push(format!("queue error: {}", e.as_str().unwrap_or("?")));
    }
    for c in list(&status["credentials"]) {
        let state = text(&c, "state");
        attention |= state != "ok";
        lines.push(format!(
            "credential {} {}  state={state}  expires={}",
            text(&c, "integration"),
            text(&c, "subject"),
            time(&c["expires_at_ms"])
        ));
    }
    (lines, attention)
}

pub async fn run(url: &str) -> ExitCode {
    let url = json_url(url);
    match fetch(&url).await {
        Ok(status) => {
            let (lines, attention) = render(&status);
            for line in lines {
                println!("{line}");
            }
            if attention {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
