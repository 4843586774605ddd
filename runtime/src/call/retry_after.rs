//! How long the provider asks us to wait: `Retry-After` (seconds or an
//! HTTP-date) and the common rate-limit reset headers.

use http::{HeaderMap, HeaderName};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Waits longer than this are treated as nonsense and capped.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// The delay a response asks for, if any. `now` is wall-clock time (for
/// HTTP-dates and epoch resets).
pub fn requested_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    retry_after(headers, now).or_else(|| reset_when_exhausted(headers, || now))
}

// Constant names: looking up by `&str` would parse the name on every call.
const RETRY_AFTER: HeaderName = HeaderName::from_static("retry-after");
const X_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const X_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = header(headers, &RETRY_AFTER)?;
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::from_secs_f64(seconds).min(MAX_WAIT));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(date.timestamp()).ok()?);
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_WAIT),
    )
}

/// The quota left, from `X-RateLimit-Remaining` or `RateLimit-Remaining`.
fn remaining(headers: &HeaderMap) -> Option<f64> {
    header(headers, &X_REMAINING)
        .or_else(|| header(headers, &REMAINING))?
        .parse()
        .ok()
}

/// Whether a response's headers say a rate limit refused it: a
/// `Retry-After`, or a spent quota (`X-RateLimit-Remaining: 0`). Some
/// providers (GitHub among them) refuse a spent quota with a 403, not 429.
pub(crate) fn says_rate_limited(headers: &HeaderMap) -> bool {
    headers.contains_key(&RETRY_AFTER) || remaining(headers).is_some_and(|r| r <= 0.0)
}

/// `X-RateLimit-Remaining: 0` (or `RateLimit-Remaining`) with a reset in
/// delta seconds or epoch seconds (`X-RateLimit-Reset`, `RateLimit-Reset`).
/// `now` is only read for an epoch reset (most responses have none).
pub fn reset_when_exhausted(
    headers: &HeaderMap,
    now: impl FnOnce() -> SystemTime,
) -> Option<Duration> {
    if headers.is_empty() || remaining(headers)? > 0.0 {
        return None;
    }
    let reset: f64 = header(headers, &X_RESET)
        .or_else(|| header(headers, &RESET))?
        .parse()
        .ok()?;
    if !reset.is_finite() || reset < 0.0 {
        return None;
    }
    // Values past 2001-09-09 in seconds are epoch times, smaller ones deltas.
    let wait = if reset > 1e9 {
        let at = UNIX_EPOCH + Duration::from_secs_f64(reset);
        at.duration_since(now()).unwrap_or(Duration::ZERO)
    } else {
        Duration::from_secs_f64(reset)
    };
    Some(wait.min(MAX_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn seconds_dates_and_reset_headers() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_400); // 2015-10-21 07:26:40 UTC
        assert_eq!(
            requested_delay(&headers(&[("retry-after", "3")]), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            requested_delay(
                &headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]),
                now
            ),
            Some(Duration::from_secs(80))
        );
        assert_eq!(
            requested_delay(&headers(&[("retry-after", "soon")]), now),
            None
        );
        assert_eq!(
            requested_delay(&headers(&[("retry-after", "-1")]), now),
            None
        );
        let github = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1445412460"),
        ]);
        assert_eq!(requested_delay(&github, now), Some(Duration::from_secs(60)));
        let draft = headers(&[("ratelimit-remaining", "0"), ("ratelimit-reset", "7")]);
        assert_eq!(requested_delay(&draft, now), Some(Duration::from_secs(7)));
        let left = headers(&[("x-ratelimit-remaining", "5"), ("x-ratelimit-reset", "7")]);
        assert_eq!(requested_delay(&left, now), None);
        assert_eq!(
            requested_delay(&headers(&[("retry-after", "1e12")]), now),
            Some(MAX_WAIT)
        );
    }
}
