//! Prometheus alerting rules for wharf's metrics, one group per
//! integration, with seed 002's thresholds as defaults (error rate 1% / 5%
//! over 5 minutes, p99 2× / 5× the baseline, a breaker opening or open
//! for more than 5 minutes, queues at 100 / 1000, any dead letter / 10 in
//! an hour), adjustable through [`AlertConfig`]. `wharf alerts` writes the
//! file; `promtool check rules` and `promtool test rules` prove it.
//!
//! The output is YAML whose every string is a JSON string literal (valid
//! YAML), so integration names and PromQL need no YAML escaping rules of
//! their own.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// A warning and a critical level.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    pub warning: f64,
    pub critical: f64,
}

/// p99 latency against a baseline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyAlert {
    /// Alert when p99 exceeds the baseline by these factors.
    pub factors: Levels,
    /// A measured p99 per integration, in seconds. Integrations without
    /// one are compared with their own p99 averaged over the last day (a
    /// recording rule in the same group keeps it).
    pub baseline_p99_seconds: BTreeMap<String, f64>,
}

impl Default for LatencyAlert {
    fn default() -> Self {
        LatencyAlert {
            factors: Levels {
                warning: 2.0,
                critical: 5.0,
            },
            baseline_p99_seconds: BTreeMap::new(),
        }
    }
}

/// The thresholds of every alert. Durations are Prometheus durations
/// (`30s`, `5m`, `1h`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertConfig {
    /// Failed calls as a fraction of all calls, per error class.
    pub error_rate: Levels,
    /// The window rates are taken over.
    pub window: String,
    pub latency: LatencyAlert,
    /// A breaker open this long is critical (its opening is a warning).
    pub breaker_open_for: String,
    /// Rate-limited attempts as a fraction of all attempts (warning).
    pub rate_limited: f64,
    /// Items pending in an integration's inbox or outbox.
    pub queue_depth: Levels,
    /// The oldest pending item's age, in seconds.
    pub oldest_pending_seconds: Levels,
    /// Dead letters in an hour that make it critical (any is a warning).
    pub dead_letters_per_hour: f64,
    /// A credential whose token expires within this many seconds (its
    /// refresh is failing: refreshes happen at 80% of the lifetime).
    pub credential_expiry_seconds: f64,
    /// A scheduled health check failing this long.
    pub health_check_failing_for: String,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            error_rate: Levels {
                warning: 0.01,
                critical: 0.05,
            },
            window: "5m".into(),
            latency: LatencyAlert::default(),
            breaker_open_for: "5m".into(),
            rate_limited: 0.05,
            queue_depth: Levels {
                warning: 100.0,
                critical: 1000.0,
            },
            oldest_pending_seconds: Levels {
                warning: 600.0,
                critical: 3600.0,
            },
            dead_letters_per_hour: 10.0,
            credential_expiry_seconds: 300.0,
            health_check_failing_for: "2m".into(),
        }
    }
}

/// A configuration that cannot make valid rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertConfigError(pub String);

impl fmt::Display for AlertConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "alert config: {}", self.0)
    }
}

impl std::error::Error for AlertConfigError {}

/// A Prometheus duration: digits and a unit, possibly several (`1h30m`).
fn check_duration(field: &str, text: &str) -> Result<(), AlertConfigError> {
    let bad = || {
        AlertConfigError(format!(
            "{field}: {text:?} is not a Prometheus duration (like 30s, 5m, 1h)"
        ))
    };
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(bad());
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u))
            .ok_or_else(bad)?;
        rest = &rest[unit.len()..];
    }
    Ok(())
}

fn check_number(field: &str, value: f64) -> Result<(), AlertConfigError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(AlertConfigError(format!(
            "{field}: {value} is not a finite, non-negative number"
        )))
    }
}

impl AlertConfig {
    /// Every field checked: durations Prometheus accepts, finite
    /// non-negative thresholds, warnings below criticals.
    pub fn validate(&self) -> Result<(), AlertConfigError> {
        check_duration("window", &self.window)?;
        check_duration("breaker_open_for", &self.breaker_open_for)?;
        check_duration("health_check_failing_for", &self.health_check_failing_for)?;
        for (field, levels) in [
            ("error_rate", self.error_rate),
            ("latency.factors", self.latency.factors),
            ("queue_depth", self.queue_depth),
            ("oldest_pending_seconds", self.oldest_pending_seconds),
        ] {
            check_number(&format!("{field}.warning"), levels.warning)?;
            check_number(&format!("{field}.critical"), levels.critical)?;
            if levels.warning > levels.critical {
                return Err(AlertConfigError(format!(
                    "{field}: warning {} is above critical {}",
                    levels.warning, levels.critical
                )));
            }
        }
        for (name, seconds) in &self.latency.baseline_p99_seconds {
            check_number(&format!("latency.baseline_p99_seconds.{name}"), *seconds)?;
        }
        check_number("rate_limited", self.rate_limited)?;
        check_number("dead_letters_per_hour", self.dead_letters_per_hour)?;
        check_number("credential_expiry_seconds", self.credential_expiry_seconds)?;
        Ok(())
    }
}

/// `text` as a YAML (JSON) string literal.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// `text` as the inside of a PromQL double-quoted label value.
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

struct Rule<'a> {
    alert: &'a str,
    expr: String,
    duration: Option<&'a str>,
    severity: &'a str,
    summary: String,
    runbook: &'a str,
}

/// The rules file for `integrations` (each once, in the order given).
pub fn alert_rules(
    config: &AlertConfig,
    integrations: &[String],
) -> Result<String, AlertConfigError> {
    config.validate()?;
    if integrations.is_empty() {
        return Err(AlertConfigError("name at least one integration".into()));
    }
    let mut out = String::from(
        "# Alerting rules for wharf's metrics, written by `wharf alerts`.\n\
         # Check with `promtool check rules FILE`.\ngroups:\n",
    );
    let mut seen = std::collections::BTreeSet::new();
    for name in integrations {
        if name.is_empty() {
            return Err(AlertConfigError("an integration name is empty".into()));
        }
        if seen.insert(name) {
            group(&mut out, config, name);
        }
    }
    Ok(out)
}

/// The recording rule keeping an integration's p99 (the latency alerts'
/// baseline when none is configured).
pub const P99_RECORD: &str = "wharf:call_duration_seconds:p99";

fn group(out: &mut String, c: &AlertConfig, name: &str) {
    let n = label_value(name);
    let m = format!("integration=\"{n}\"");
    let w = &c.window;
    let _ = writeln!(
        out,
        "  - name: {}\n    rules:",
        quoted(&format!("wharf-{name}"))
    );
    let _ = writeln!(
        out,
        "      - record: {}\n        expr: {}\n        labels:\n          integration: {}",
        quoted(P99_RECORD),
        quoted(&format!(
            "histogram_quantile(0.99, sum by (le) (rate(wharf_call_duration_seconds_bucket{{{m}}}[{w}])))"
        )),
        quoted(name)
    );
    let errors = |level: f64| {
        format!(
            "sum by (outcome) (rate(wharf_calls_total{{{m},outcome!=\"success\"}}[{w}])) \
             / ignoring (outcome) group_left sum(rate(wharf_calls_total{{{m}}}[{w}])) > {level}"
        )
    };
    let p99 = format!("{P99_RECORD}{{{m}}}");
    let baseline = match c.latency.baseline_p99_seconds.get(name) {
        Some(seconds) => format!("{seconds}"),
        None => format!("scalar(avg_over_time({p99}[1d]))"),
    };
    let dead = |range: &str| {
        format!(
            "(sum(increase(wharf_webhook_dead_letters_total{{source=\"{n}\"}}[{range}])) or vector(0)) \
             + (sum(increase(wharf_outbox_dead_letters_total{{{m}}}[{range}])) or vector(0))"
        )
    };
    let queues = |inbox: &str, outbox: &str| {
        format!(
            "max by (queue) (label_replace({inbox}, \"queue\", \"inbox\", \"\", \"\") \
             or label_replace({outbox}, \"queue\", \"outbox\", \"\", \"\"))"
        )
    };
    let backlog = queues(
        &format!("wharf_webhook_queue_depth{{source=\"{n}\",state=\"pending\"}}"),
        &format!("wharf_outbox_queue_depth{{{m},state=\"pending\"}}"),
    );
    let oldest = queues(
        &format!("wharf_webhook_oldest_pending_seconds{{source=\"{n}\"}}"),
        &format!("wharf_outbox_oldest_pending_seconds{{{m}}}"),
    );
    let rules = [
        Rule {
            alert: "WharfErrorRateHigh",
            expr: errors(c.error_rate.warning),
            duration: None,
            severity: "warning",
            summary: format!("{name}: {{{{ $labels.outcome }}}} errors are {{{{ $value | humanizePercentage }}}} of calls over {w}"),
            runbook: "Look first at the provider's status page and at wharf_calls_total by outcome; transient and rate_limited point at the provider, permanent at a change on our side or theirs.",
        },
        Rule {
            alert: "WharfErrorRateCritical",
            expr: errors(c.error_rate.critical),
            duration: None,
            severity: "critical",
            summary: format!("{name}: {{{{ $labels.outcome }}}} errors are {{{{ $value | humanizePercentage }}}} of calls over {w}"),
            runbook: "Look first at the provider's status page and at the breaker state; consider pausing the integration's senders.",
        },
        Rule {
            alert: "WharfLatencyHigh",
            expr: format!("{p99} > {} * {baseline}", c.latency.factors.warning),
            duration: Some(w.as_str()),
            severity: "warning",
            summary: format!("{name}: p99 latency {{{{ $value | humanizeDuration }}}} is over {}x its baseline", c.latency.factors.warning),
            runbook: "Look first at the provider's latency and at the bulkhead and rate-limit pauses on the status page.",
        },
        Rule {
            alert: "WharfLatencyCritical",
            expr: format!("{p99} > {} * {baseline}", c.latency.factors.critical),
            duration: Some(w.as_str()),
            severity: "critical",
            summary: format!("{name}: p99 latency {{{{ $value | humanizeDuration }}}} is over {}x its baseline", c.latency.factors.critical),
            runbook: "Look first at the provider's status page; calls are near their deadlines and may start timing out.",
        },
        Rule {
            alert: "WharfBreakerOpened",
            expr: format!("sum(increase(wharf_breaker_transitions_total{{{m},to=\"open\"}}[{w}])) > 0"),
            duration: None,
            severity: "warning",
            summary: format!("{name}: the circuit breaker opened"),
            runbook: "Look first at the errors that tripped it (wharf_calls_total by outcome) and the provider's status page.",
        },
        Rule {
            alert: "WharfBreakerOpenTooLong",
            expr: format!("max(wharf_breaker_state{{{m}}}) >= 2"),
            duration: Some(c.breaker_open_for.as_str()),
            severity: "critical",
            summary: format!("{name}: the circuit breaker has been open for over {}", c.breaker_open_for),
            runbook: "Calls are failing fast; look at the provider's status page and the health check's last error.",
        },
        Rule {
            alert: "WharfRateLimited",
            expr: format!(
                "sum(rate(wharf_attempts_total{{{m},outcome=\"rate_limited\"}}[{w}])) \
                 / sum(rate(wharf_attempts_total{{{m}}}[{w}])) > {}",
                c.rate_limited
            ),
            duration: None,
            severity: "warning",
            summary: format!("{name}: {{{{ $value | humanizePercentage }}}} of attempts are rate limited"),
            runbook: "Look first at the configured rate limit against the provider's quota and at bursts from one caller.",
        },
        Rule {
            alert: "WharfRetryBudgetExhausted",
            expr: format!("sum(increase(wharf_retry_budget_exhausted_total{{{m}}}[{w}])) > 0"),
            duration: None,
            severity: "warning",
            summary: format!("{name}: the retry budget ran out; failures are no longer retried"),
            runbook: "Look first at the error rate: the budget runs out when many calls fail at once.",
        },
        Rule {
            alert: "WharfDeadLetter",
            expr: format!("{} > 0", dead(w)),
            duration: None,
            severity: "warning",
            summary: format!("{name}: {{{{ $value | humanize }}}} items reached the dead-letter queue"),
            runbook: "Inspect with `wharf webhook dlq list --store URL`; replay once the cause is fixed.",
        },
        Rule {
            alert: "WharfDeadLettersMany",
            expr: format!("{} >= {}", dead("1h"), c.dead_letters_per_hour),
            duration: None,
            severity: "critical",
            summary: format!("{name}: {{{{ $value | humanize }}}} items reached the dead-letter queue in the last hour"),
            runbook: "Inspect with `wharf webhook dlq list --store URL`: many at once usually share one cause.",
        },
        Rule {
            alert: "WharfQueueBacklog",
            expr: format!("{backlog} > {}", c.queue_depth.warning),
            duration: None,
            severity: "warning",
            summary: format!("{name}: {{{{ $value }}}} items pending in the {{{{ $labels.queue }}}}"),
            runbook: "Look first at whether the workers or relays run (`wharf outbox status`) and at the handler's errors.",
        },
        Rule {
            alert: "WharfQueueBacklogCritical",
            expr: format!("{backlog} > {}", c.queue_depth.critical),
            duration: None,
            severity: "critical",
            summary: format!("{name}: {{{{ $value }}}} items pending in the {{{{ $labels.queue }}}}"),
            runbook: "Look first at whether the workers or relays run, then add instances.",
        },
        Rule {
            alert: "WharfQueueStale",
            expr: format!("{oldest} > {}", c.oldest_pending_seconds.warning),
            duration: None,
            severity: "warning",
            summary: format!("{name}: the oldest item in the {{{{ $labels.queue }}}} has waited {{{{ $value | humanizeDuration }}}}"),
            runbook: "Look first at the item's last error (`wharf webhook dlq inspect`, the delivery log) and the breaker.",
        },
        Rule {
            alert: "WharfQueueStaleCritical",
            expr: format!("{oldest} > {}", c.oldest_pending_seconds.critical),
            duration: None,
            severity: "critical",
            summary: format!("{name}: the oldest item in the {{{{ $labels.queue }}}} has waited {{{{ $value | humanizeDuration }}}}"),
            runbook: "Look first at whether anything consumes the queue at all.",
        },
        Rule {
            alert: "WharfContractDrift",
            expr: format!("sum by (operation) (increase(wharf_drift_total{{{m}}}[1h])) > 0"),
            duration: None,
            severity: "warning",
            summary: format!("{name}: responses of {{{{ $labels.operation }}}} no longer match the spec"),
            runbook: "Look first at the drift warnings in the logs (pointer and kind), then at the provider's changelog.",
        },
        Rule {
            alert: "WharfCredentialReauthorizationRequired",
            expr: format!("max(wharf_credentials_reauthorization_required{{{m}}}) > 0"),
            duration: None,
            severity: "critical",
            summary: format!("{name}: {{{{ $value }}}} credentials need a new login"),
            runbook: "Sign in again (`wharf login`); the audit log says when and why the grant died.",
        },
        Rule {
            alert: "WharfCredentialExpiring",
            expr: format!(
                "min(wharf_credential_expiry_timestamp_seconds{{{m}}}) - time() < {}",
                c.credential_expiry_seconds
            ),
            duration: None,
            severity: "warning",
            summary: format!("{name}: an access token expires in {{{{ $value | humanizeDuration }}}} and has not been refreshed"),
            runbook: "Look first at wharf_credential_refresh_failures_total and the token endpoint's errors in the logs.",
        },
        Rule {
            alert: "WharfHealthCheckFailing",
            expr: format!("min(wharf_health_check_up{{{m}}}) == 0"),
            duration: Some(c.health_check_failing_for.as_str()),
            severity: "critical",
            summary: format!("{name}: the scheduled health check has failed for {}", c.health_check_failing_for),
            runbook: "Look first at the health check's last error on the status page.",
        },
    ];
    for r in rules {
        let _ = writeln!(out, "      - alert: {}", quoted(r.alert));
        let _ = writeln!(out, "        expr: {}", quoted(&r.expr));
        if let Some(d) = r.duration {
            let _ = writeln!(out, "        for: {}", quoted(d));
        }
        let _ = writeln!(
            out,
            "        labels:\n          severity: {}\n          integration: {}",
            quoted(r.severity),
            quoted(name)
        );
        let _ = writeln!(
            out,
            "        annotations:\n          summary: {}\n          runbook: {}",
            quoted(&r.summary),
            quoted(r.runbook)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configs_are_refused_with_the_field_named() {
        let mut c = AlertConfig {
            window: "5 minutes".into(),
            ..AlertConfig::default()
        };
        assert!(alert_rules(&c, &["x".into()])
            .unwrap_err()
            .0
            .starts_with("window:"));
        c.window = "5m".into();
        c.queue_depth.warning = 2000.0;
        assert!(alert_rules(&c, &["x".into()])
            .unwrap_err()
            .0
            .starts_with("queue_depth:"));
        c.queue_depth.warning = f64::NAN;
        assert!(alert_rules(&c, &["x".into()]).is_err());
        assert!(alert_rules(&AlertConfig::default(), &[]).is_err());
        assert!(alert_rules(&AlertConfig::default(), &[String::new()]).is_err());
    }

    #[test]
    fn names_are_quoted_in_promql_and_yaml() {
        let rules = alert_rules(&AlertConfig::default(), &["a\"b".into()]).unwrap();
        // Inside the YAML string, PromQL's \" is written \\\".
        assert!(rules.contains(r#"integration=\"a\\\"b\""#), "{rules}");
        assert!(rules.contains(r#"integration: "a\"b""#), "{rules}");
    }
}
