//! How the quickstart talks: section headings, wharf's own log lines (the
//! runtime's `tracing` events: retries, breaker changes, drift, credential
//! events), and a drift sink that counts what it prints.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Prints wharf's INFO and WARN events (what the runtime decided and why),
/// compactly, with no timestamps: the narration gives the times.
pub fn show_wharf_events() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_target(false)
        .without_time()
        .compact()
        .try_init();
}

pub fn section(title: &str) {
    println!("\n== {title}");
}

pub fn step(text: &str) {
    println!("   {text}");
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Seconds since `t`.
pub fn since(t: Instant) -> String {
    secs(t.elapsed())
}

/// A drift sink that prints each report and counts them.
#[derive(Debug, Default)]
pub struct PrintDrift {
    pub reported: AtomicUsize,
}

impl wharf::call::DriftSink for PrintDrift {
    fn report(&self, integration: &str, operation: &str, drift: &[wharf::Drift]) {
        for d in drift {
            step(&format!(
                "drift report: {integration}.{operation} at {}: {}",
                d.pointer, d.kind
            ));
        }
        self.reported.fetch_add(drift.len(), Ordering::Relaxed);
    }
}
