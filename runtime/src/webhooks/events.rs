//! Typed webhook events, as generated clients describe them: each event a
//! spec lists ([`EventInfo`]), which one a delivery is ([`select_event`]),
//! and what a delivery the spec does not describe decodes to
//! ([`UnknownEvent`]). The generated `WebhookEvent` enum holds one variant
//! per event and decodes its payload tolerantly, with drift, as responses.

use crate::decode::{DecodeError, Decoded};

/// One event of a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventInfo {
    /// The name the spec gives it (`issues-opened`).
    pub name: &'static str,
    /// The provider's event type header value for it (GitHub's
    /// `X-GitHub-Event: issues`), where the spec says.
    pub event_type: Option<&'static str>,
    /// The payload's `action` for it (`opened`), where the spec fixes one.
    pub action: Option<&'static str>,
}

#[derive(serde::Deserialize)]
struct Dispatch<'a> {
    #[serde(borrow, default)]
    action: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<std::borrow::Cow<'a, str>>,
}

/// The `action` and `type` of a JSON body (none when it is not an object).
fn dispatch_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    match serde_json::from_slice::<Dispatch<'_>>(body) {
        Ok(d) => (d.action.map(Into::into), d.kind.map(Into::into)),
        Err(_) => (None, None),
    }
}

/// Which of `events` a delivery is. With the provider's event type (a
/// header): the event of that type whose `action` is the body's, else the
/// one of that type without an action. Without: the event named by the
/// header value, or by the body's `type` field (Stripe-style). `None`: the
/// spec does not describe it.
pub fn select_event(events: &[EventInfo], event_type: Option<&str>, body: &[u8]) -> Option<usize> {
    let (action, kind) = dispatch_fields(body);
    if let Some(event_type) = event_type {
        let of_type = |e: &EventInfo| {
            e.event_type
                .is_some_and(|t| t.eq_ignore_ascii_case(event_type))
        };
        if let Some(action) = action.as_deref() {
            if let Some(i) = events
                .iter()
                .position(|e| of_type(e) && e.action == Some(action))
            {
                return Some(i);
            }
        }
        if let Some(i) = events.iter().position(|e| of_type(e) && e.action.is_none()) {
            return Some(i);
        }
        if let Some(i) = events.iter().position(|e| e.name == event_type) {
            return Some(i);
        }
    }
    let kind = kind?;
    events.iter().position(|e| e.name == kind)
}

/// Decodes a payload straight into a box: generated code calls this once
/// per event type, so the payload (several kB for the big ones) occupies
/// this function's stack frame only, not one slot per event in the
/// caller's (which, unoptimized, overflowed a thread's stack).
pub fn decode_boxed<T: crate::decode::Decode>(body: &[u8]) -> Result<Decoded<Box<T>>, DecodeError> {
    Ok(crate::decode::decode::<T>(body)?.map(Box::new))
}

/// A delivery the spec does not describe: kept as raw JSON with what
/// identified it, so a handler can still log or store it.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownEvent {
    pub event_type: Option<String>,
    pub action: Option<String>,
    pub body: serde_json::Value,
}

impl UnknownEvent {
    /// Reads `body` as JSON (an error if it is not JSON at all).
    pub fn decode(event_type: Option<&str>, body: &[u8]) -> Result<Decoded<Self>, DecodeError> {
        let value = crate::decode::decode::<serde_json::Value>(body)?;
        let (action, _) = dispatch_fields(body);
        Ok(Decoded {
            value: UnknownEvent {
                event_type: event_type.map(str::to_owned),
                action,
                body: value.value,
            },
            drift: value.drift,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: &[EventInfo] = &[
        EventInfo {
            name: "issues-closed",
            event_type: Some("issues"),
            action: Some("closed"),
        },
        EventInfo {
            name: "issues-opened",
            event_type: Some("issues"),
            action: Some("opened"),
        },
        EventInfo {
            name: "push",
            event_type: Some("push"),
            action: None,
        },
        EventInfo {
            name: "invoice.paid",
            event_type: None,
            action: None,
        },
    ];

    #[test]
    fn picks_by_event_type_and_action_then_by_name() {
        let opened = br#"{"action":"opened","issue":{}}"#;
        assert_eq!(select_event(EVENTS, Some("issues"), opened), Some(1));
        assert_eq!(
            select_event(EVENTS, Some("Issues"), br#"{"action":"closed"}"#),
            Some(0)
        );
        // An action the spec does not know, and no action-less event of the type.
        assert_eq!(
            select_event(EVENTS, Some("issues"), br#"{"action":"pinned"}"#),
            None
        );
        assert_eq!(
            select_event(EVENTS, Some("push"), br#"{"ref":"main"}"#),
            Some(2)
        );
        assert_eq!(select_event(EVENTS, Some("push"), b"not json"), Some(2));
        // No header: the body's `type`.
        assert_eq!(
            select_event(EVENTS, None, br#"{"type":"invoice.paid"}"#),
            Some(3)
        );
        assert_eq!(
            select_event(EVENTS, None, br#"{"type":"invoice.voided"}"#),
            None
        );
        assert_eq!(select_event(EVENTS, None, b"[1,2]"), None);
        // The header naming the event itself.
        assert_eq!(select_event(EVENTS, Some("invoice.paid"), b"{}"), Some(3));
    }

    #[test]
    fn unknown_events_keep_the_json() {
        let unknown = UnknownEvent::decode(Some("star"), br#"{"action":"created","n":1}"#).unwrap();
        assert_eq!(unknown.value.event_type.as_deref(), Some("star"));
        assert_eq!(unknown.value.action.as_deref(), Some("created"));
        assert_eq!(unknown.value.body["n"], 1);
        assert!(UnknownEvent::decode(None, b"not json").is_err());
    }
}
