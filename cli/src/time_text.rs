//! Durations and instants as people read them on a terminal: `5m`,
//! `in 59m 58s`, `2026-11-23 12:05:11 UTC`.

use std::time::{Duration, SystemTime};

/// `90s`, `5m`, `1h`, or bare seconds; zero is refused.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s, 5m or 1h"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("{text:?}: the unit is s, m or h")),
    };
    if seconds == 0 {
        return Err("the duration must be more than zero".into());
    }
    Ok(Duration::from_secs(seconds))
}

/// `1h 2m`, `59m 58s`, `3s` (two largest units, whole seconds).
pub(crate) fn span(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, minutes, seconds) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, _) => format!("{minutes}m {seconds}s"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

/// `in 59m 58s` or `3m 2s ago`, from `now`.
pub(crate) fn relative(at: SystemTime, now: SystemTime) -> String {
    match at.duration_since(now) {
        Ok(ahead) => format!("in {}", span(ahead)),
        Err(behind) => format!("{} ago", span(behind.duration())),
    }
}

/// `2026-11-23 12:05:11 UTC`.
pub(crate) fn utc(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 min").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn instants_and_spans_read_naturally() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_435_511);
        assert_eq!(utc(t), "2026-11-23 12:05:11 UTC");
        assert_eq!(
            utc(SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29 00:00:00 UTC"
        );
        assert_eq!(span(Duration::from_secs(3598)), "59m 58s");
        assert_eq!(span(Duration::from_secs(3 * 86_400 + 7200)), "3d 2h");
        assert_eq!(relative(t, t + Duration::from_secs(62)), "1m 2s ago");
        assert_eq!(relative(t + Duration::from_secs(5), t), "in 5s");
    }
}
