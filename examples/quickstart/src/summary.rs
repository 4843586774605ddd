//! The closing table: what the app asked for, what reached the provider,
//! and what wharf did in between.

use crate::login::{Session, TOKEN_LIFETIME};
use crate::narrate::secs;
use std::sync::atomic::Ordering;
use std::time::Duration;
use wharf::testing::sandbox::GrantType;

/// The quickstart's figures.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Logical calls the app made.
    pub calls: usize,
    /// API requests that reached the provider (attempts).
    pub requests: usize,
    /// Faults injected by the script.
    pub faults: usize,
    /// Calls refused at once by the open breaker.
    pub fail_fast: usize,
    pub breaker_recovered: bool,
    pub rate_limit_wait: Duration,
    pub create_attempts: usize,
    pub issues_created: usize,
    pub drift_reports: usize,
    pub logins: usize,
    pub refreshes: usize,
    /// When the first refresh happened, after login.
    pub refreshed_after: Option<Duration>,
    pub wall: Duration,
}

impl Summary {
    /// Adds what the provider and the integration counted.
    pub fn fill_from(&mut self, session: &Session) {
        let log = session.sandbox.log();
        self.requests = log.api_requests.len();
        self.logins = log.grants(GrantType::AuthorizationCode);
        self.refreshes = log.refreshes();
        self.drift_reports = session.drift.reported.load(Ordering::Relaxed);
    }

    pub fn print(&self) {
        let rows = [
            ("logical calls made by the app", self.calls.to_string()),
            (
                "requests that reached the provider",
                self.requests.to_string(),
            ),
            ("faults injected", self.faults.to_string()),
            (
                "retries (requests beyond the first of each call sent)",
                self.requests
                    .saturating_sub(self.calls - self.fail_fast)
                    .to_string(),
            ),
            (
                "calls refused by the open breaker (not sent)",
                self.fail_fast.to_string(),
            ),
            (
                "breaker closed again after one probe",
                if self.breaker_recovered { "yes" } else { "no" }.to_owned(),
            ),
            (
                "waited for the provider's Retry-After",
                secs(self.rate_limit_wait),
            ),
            (
                "create attempts / issues created",
                format!("{} / {}", self.create_attempts, self.issues_created),
            ),
            ("drift reports", self.drift_reports.to_string()),
            (
                "logins / background refreshes",
                format!("{} / {}", self.logins, self.refreshes),
            ),
            (
                "first refresh after login",
                self.refreshed_after.map_or("-".to_owned(), |d| {
                    format!(
                        "{} ({:.0}% of {} s)",
                        secs(d),
                        100.0 * d.as_secs_f64() / TOKEN_LIFETIME.as_secs_f64(),
                        TOKEN_LIFETIME.as_secs()
                    )
                }),
            ),
            ("wall time", secs(self.wall)),
        ];
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        println!("\n== summary");
        println!("   {:<width$} | figure", "what");
        println!("   {}-|-{}", "-".repeat(width), "-".repeat(24));
        for (k, v) in rows {
            println!("   {k:<width$} | {v}");
        }
    }
}
