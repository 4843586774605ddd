//! Policies attached to generated operations (by operation, by tag, or for
//! the whole client) and written by `#[wharf::policy]`: the data, its
//! parsing (durations, rates), the rules the seeds state, and the constant
//! the runtime reads. One definition serves `build.rs`, `generate!`, the
//! CLI and the attribute macro.

use crate::ir::Operation;
use std::fmt;
use std::time::Duration;

/// The most attempts a retry policy may allow (the one limit, shared with
/// the runtime).
pub use wharf_policy_rules::MAX_ATTEMPTS;
use wharf_policy_rules::{check_bulkhead, check_retry, check_timeouts, Violation};

/// A declared policy; `None` fields inherit the next level's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySpec {
    pub timeout: Option<Duration>,
    pub attempt_timeout: Option<Duration>,
    pub retry: Option<RetrySpec>,
    pub idempotency: Option<IdempotencySpec>,
    /// A named circuit breaker.
    pub breaker: Option<String>,
    pub rate: Option<RateSpec>,
    /// Calls in flight at once.
    pub bulkhead: Option<usize>,
    pub scopes: Vec<String>,
}

/// Bounded retries with full jitter (jitter cannot be turned off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySpec {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    pub base: Option<Duration>,
    pub cap: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencySpec {
    /// A generated key per logical call.
    Key,
    /// A key from the caller's data (only in `#[wharf::policy]`, where the
    /// value is an argument of the function).
    NaturalKey,
    /// Retry without a key, accepting duplicates, for this reason.
    UnsafeAllow(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSpec {
    pub per_second: f64,
    pub burst: u32,
}

/// Where a generated policy applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyTarget {
    /// Every operation of the client.
    Client,
    /// Operations with this tag (one with several configured tags takes
    /// the first of them in its list).
    Tag(String),
    /// One operation, by `operationId`.
    Operation(String),
}

impl fmt::Display for PolicyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyTarget::Client => f.write_str("policy for the client"),
            PolicyTarget::Tag(t) => write!(f, "policy for tag {t:?}"),
            PolicyTarget::Operation(o) => write!(f, "policy for operation {o:?}"),
        }
    }
}

/// Parses `"250ms"`, `"2s"`, `"1.5s"`, `"1m"`, `"1h"`. Zero is refused:
/// a zero timeout or backoff is always a mistake.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let hint = "write a number and a unit: \"250ms\", \"2s\", \"1.5s\", \"1m\" or \"1h\"";
    let value: f64 = number
        .parse()
        .map_err(|_| format!("malformed duration {text:?}: {hint}"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "" => return Err(format!("duration {text:?} has no unit: {hint}")),
        other => {
            return Err(format!(
                "unknown unit {other:?} in duration {text:?}: {hint}"
            ))
        }
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("duration {text:?} must be greater than zero"));
    }
    if seconds > 24.0 * 3600.0 {
        return Err(format!("duration {text:?} is over a day: surely a mistake"));
    }
    // Whole milliseconds: the runtime's clocks do not need finer.
    Ok(Duration::from_millis(
        (seconds * 1000.0).round().max(1.0) as u64
    ))
}

/// Parses `"20/s"`, `"100/min"`, `"5000/h"`; the burst defaults to one
/// second's worth (at least 1).
pub fn parse_rate(text: &str) -> Result<RateSpec, String> {
    let hint = "write requests per unit: \"20/s\", \"100/min\" or \"5000/h\"";
    let (count, unit) = text
        .split_once('/')
        .ok_or_else(|| format!("malformed rate {text:?}: {hint}"))?;
    let count: f64 = count
        .trim()
        .parse()
        .map_err(|_| format!("malformed rate {text:?}: {hint}"))?;
    let per = match unit.trim() {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" | "hour" => 3600.0,
        other => return Err(format!("unknown unit {other:?} in rate {text:?}: {hint}")),
    };
    if !(count.is_finite() && count > 0.0) {
        return Err(format!("rate {text:?} must be greater than zero"));
    }
    Ok(RateSpec::with_default_burst(count / per))
}

impl RateSpec {
    /// `per_second` with the default burst: one second's worth, at least 1.
    pub fn with_default_burst(per_second: f64) -> RateSpec {
        RateSpec {
            per_second,
            burst: per_second.ceil().clamp(1.0, u32::MAX as f64) as u32,
        }
    }
}

impl PolicySpec {
    /// The rules that need no spec: limits and well-formedness.
    pub fn check(&self) -> Result<(), String> {
        if let Some(r) = &self.retry {
            match check_retry(r.max_attempts, r.base, r.cap) {
                Ok(()) => {}
                Err(Violation::NoAttempts) => {
                    return Err("retry `max` counts attempts and must be at least 1".into())
                }
                Err(Violation::TooManyAttempts { max_attempts }) => {
                    return Err(format!(
                        "retry `max = {max_attempts}` is over the limit of {MAX_ATTEMPTS} attempts: beyond it, retries only add load"
                    ))
                }
                Err(Violation::CapBelowBase { .. }) => {
                    return Err("retry `cap` must not be shorter than `base`".into())
                }
                Err(other) => return Err(format!("retry: {other}")),
            }
        }
        if let (Some(attempt), Some(total)) = (self.attempt_timeout, self.timeout) {
            if check_timeouts(attempt, total).is_err() {
                return Err(
                    "`attempt_timeout` is longer than `timeout`: no attempt can use it".into(),
                );
            }
        }
        if self.bulkhead.is_some_and(|b| check_bulkhead(b).is_err()) {
            return Err("`bulkhead = 0` would refuse every call; use at least 1".into());
        }
        if self.breaker.as_deref().is_some_and(|b| b.trim().is_empty()) {
            return Err("`breaker` needs a name, e.g. breaker = \"payments\"".into());
        }
        if let Some(IdempotencySpec::UnsafeAllow(reason)) = &self.idempotency {
            if reason.trim().is_empty() {
                return Err(
                    "`unsafe_allow` needs a reason saying why duplicates are acceptable".into(),
                );
            }
        }
        Ok(())
    }

    /// Whether this policy retries (more than one attempt).
    pub fn retries(&self) -> bool {
        self.retry.is_some_and(|r| r.max_attempts > 1)
    }

    /// `self` where set, else `fallback`.
    pub fn or(&self, fallback: &PolicySpec) -> PolicySpec {
        PolicySpec {
            timeout: self.timeout.or(fallback.timeout),
            attempt_timeout: self.attempt_timeout.or(fallback.attempt_timeout),
            retry: self.retry.or(fallback.retry),
            idempotency: self
                .idempotency
                .clone()
                .or_else(|| fallback.idempotency.clone()),
            breaker: self.breaker.clone().or_else(|| fallback.breaker.clone()),
            rate: self.rate.or(fallback.rate),
            bulkhead: self.bulkhead.or(fallback.bulkhead),
            scopes: if self.scopes.is_empty() {
                fallback.scopes.clone()
            } else {
                self.scopes.clone()
            },
        }
    }

    /// The Rust expression of this policy (a `::wharf::policy::Policy`).
    pub fn literal(&self) -> String {
        let duration = |d: Option<Duration>| match d {
            None => "None".to_owned(),
            Some(d) => format!(
                "Some(::core::time::Duration::from_millis({}))",
                d.as_millis()
            ),
        };
        let mut fields = Vec::new();
        if self.timeout.is_some() {
            fields.push(format!("timeout: {}", duration(self.timeout)));
        }
        if self.attempt_timeout.is_some() {
            fields.push(format!(
                "attempt_timeout: {}",
                duration(self.attempt_timeout)
            ));
        }
        if let Some(r) = &self.retry {
            // Unset backoff bounds take the runtime's defaults (100 ms, 20 s).
            let base = r.base.unwrap_or(wharf_policy_rules::DEFAULT_RETRY_BASE);
            let cap = r
                .cap
                .unwrap_or(wharf_policy_rules::DEFAULT_RETRY_CAP)
                .max(base);
            fields.push(format!(
                "retry: Some(::wharf::policy::retry::RetryPolicy {{ max_attempts: {}, base: ::core::time::Duration::from_millis({}), cap: ::core::time::Duration::from_millis({}) }})",
                r.max_attempts,
                base.as_millis(),
                cap.as_millis()
            ));
        }
        if let Some(i) = &self.idempotency {
            let value = match i {
                IdempotencySpec::Key => "::wharf::policy::Idempotency::Key".to_owned(),
                IdempotencySpec::NaturalKey => {
                    "::wharf::policy::Idempotency::NaturalKey".to_owned()
                }
                IdempotencySpec::UnsafeAllow(reason) => {
                    format!("::wharf::policy::Idempotency::UnsafeAllow {{ reason: {reason:?} }}")
                }
            };
            fields.push(format!("idempotency: Some({value})"));
        }
        if let Some(b) = &self.breaker {
            fields.push(format!("breaker: Some({b:?})"));
        }
        if let Some(r) = &self.rate {
            fields.push(format!(
                "rate: Some(::wharf::policy::rate_limit::RateLimit {{ per_second: {:?}, burst: {} }})",
                r.per_second, r.burst
            ));
        }
        if let Some(b) = self.bulkhead {
            fields.push(format!("bulkhead: Some({b})"));
        }
        if !self.scopes.is_empty() {
            let scopes: Vec<String> = self.scopes.iter().map(|s| format!("{s:?}")).collect();
            fields.push(format!("scopes: &[{}]", scopes.join(", ")));
        }
        if fields.is_empty() {
            return "::wharf::policy::Policy::NONE".to_owned();
        }
        format!(
            "::wharf::policy::Policy {{ {}, ..::wharf::policy::Policy::NONE }}",
            fields.join(", ")
        )
    }
}

/// Policies by target, as configured on the generator (a later policy for
/// the same target replaces the earlier one).
#[derive(Debug, Clone, Default)]
pub(crate) struct Policies {
    pub(crate) by_target: std::collections::BTreeMap<PolicyTarget, PolicySpec>,
}

impl Policies {
    pub(crate) fn is_empty(&self) -> bool {
        self.by_target.is_empty()
    }

    /// The tag whose policy applies to `op`: its first tag that has one.
    pub(crate) fn tag_target(&self, op: &Operation) -> Option<PolicyTarget> {
        op.tags
            .iter()
            .map(|t| PolicyTarget::Tag(t.clone()))
            .find(|t| self.by_target.contains_key(t))
    }

    /// The generated levels of `op`, most specific first: its own, its
    /// tag's, the client's; each with the policy configured there.
    pub(crate) fn levels(&self, op: &Operation) -> [(PolicyTarget, Option<&PolicySpec>); 3] {
        let own = PolicyTarget::Operation(op.name.clone());
        let tag = self.tag_target(op);
        [
            (own.clone(), self.by_target.get(&own)),
            (
                tag.clone().unwrap_or(PolicyTarget::Client),
                tag.and_then(|t| self.by_target.get(&t)),
            ),
            (
                PolicyTarget::Client,
                self.by_target.get(&PolicyTarget::Client),
            ),
        ]
    }

    /// Every rule the configuration breaks, as `(target, message)`.
    pub(crate) fn problems(&self, operations: &[Operation]) -> Vec<(PolicyTarget, String)> {
        let mut out = Vec::new();
        for (target, spec) in &self.by_target {
            if let Err(e) = spec.check() {
                out.push((target.clone(), e));
                continue;
            }
            let covered: Vec<&Operation> = operations
                .iter()
                .filter(|o| match target {
                    PolicyTarget::Client => true,
                    PolicyTarget::Tag(t) => o.tags.contains(t),
                    PolicyTarget::Operation(id) => &o.name == id,
                })
                .collect();
            if covered.is_empty() && *target != PolicyTarget::Client {
                out.push((target.clone(), "matches no operation in the spec".into()));
                continue;
            }
            if spec.idempotency == Some(IdempotencySpec::NaturalKey) {
                out.push((
                    target.clone(),
                    "`natural_key` needs a value: declare it in `#[wharf::policy]` on the function that has the data".into(),
                ));
            }
            for scope in &spec.scopes {
                if !covered.iter().any(|o| lists_scope(o, scope)) {
                    out.push((
                        target.clone(),
                        format!(
                            "scope {scope:?} is not listed by the spec for any operation it covers"
                        ),
                    ));
                }
            }
        }
        // Retries of mutating operations need an idempotency plan at some level.
        for op in operations {
            let levels = self.levels(op);
            let resolved = levels
                .iter()
                .filter_map(|(_, l)| *l)
                .fold(PolicySpec::default(), |acc, l| acc.or(l));
            if resolved.retries() && !retry_is_safe(op) && resolved.idempotency.is_none() {
                // Blame the level the retry comes from.
                let target = levels
                    .into_iter()
                    .find(|(_, l)| l.is_some_and(|l| l.retry.is_some()))
                    .map_or(PolicyTarget::Client, |(t, _)| t);
                out.push((
                    target,
                    format!(
                        "retries mutating operation {:?} ({} {}) with no idempotency plan: add `idempotency = key`, or `unsafe_allow(\"why duplicates are fine\")`, or `retry = none` for it",
                        op.name,
                        op.method.as_str(),
                        op.path
                    ),
                ));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        out.dedup();
        out
    }
}

/// Whether the spec lists `scope` for `op`.
pub fn lists_scope(op: &Operation, scope: &str) -> bool {
    op.security
        .iter()
        .flatten()
        .any(|used| used.scopes.iter().any(|s| s == scope))
}

/// Idempotent by method, or taking an idempotency key.
fn retry_is_safe(op: &Operation) -> bool {
    op.idempotent_by_method() || op.accepts_idempotency_key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_refuse_the_rest() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration(" 1m "), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["", "2", "s", "2 sec", "-1s", "0s", "2x", "1..5s", "48h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_duration("2").unwrap_err().contains("no unit"));
    }

    #[test]
    fn rates_parse_with_a_default_burst() {
        assert_eq!(
            parse_rate("20/s"),
            Ok(RateSpec {
                per_second: 20.0,
                burst: 20
            })
        );
        assert_eq!(
            parse_rate("30/min"),
            Ok(RateSpec {
                per_second: 0.5,
                burst: 1
            })
        );
        for bad in ["20", "/s", "20/day", "0/s", "x/s"] {
            assert!(parse_rate(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn checks_state_the_limit_broken() {
        let retry = |max| PolicySpec {
            retry: Some(RetrySpec {
                max_attempts: max,
                base: None,
                cap: None,
            }),
            ..PolicySpec::default()
        };
        assert!(retry(3).check().is_ok());
        assert!(retry(0).check().is_err());
        assert!(retry(11).check().unwrap_err().contains("limit of 10"));
        let unsafe_allow = PolicySpec {
            idempotency: Some(IdempotencySpec::UnsafeAllow("  ".into())),
            ..PolicySpec::default()
        };
        assert!(unsafe_allow.check().unwrap_err().contains("reason"));
    }

    #[test]
    fn the_literal_names_only_what_is_set() {
        assert_eq!(
            PolicySpec::default().literal(),
            "::wharf::policy::Policy::NONE"
        );
        let p = PolicySpec {
            timeout: Some(Duration::from_secs(2)),
            breaker: Some("payments".into()),
            ..PolicySpec::default()
        };
        assert_eq!(
            p.literal(),
            "::wharf::policy::Policy { timeout: Some(::core::time::Duration::from_millis(2000)), breaker: Some(\"payments\"), ..::wharf::policy::Policy::NONE }"
        );
    }
}
