//! The typed webhook events generated from `specs/webhooks.yaml`: which
//! event a delivery is (event type header plus action, the body's `type`,
//! the event's own name), tolerant payload decoding with drift, events the
//! spec does not describe, and dispatch to a handler's methods.

use std::sync::Mutex;
use wharf::webhooks::{HandlerError, UnknownEvent};
use wharf::DriftKind;
use wharf_generated_tests::webhooks::{
    IssuesOpened, IssuesOpenedAction, PushPayload, WebhookEvent, WebhookHandler,
};

#[test]
fn the_table_lists_each_event_with_how_it_is_recognized() {
    let names: Vec<_> = WebhookEvent::EVENTS.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "deliveryReport",
            "invoice.paid",
            "issues-closed",
            "issues-opened",
            "push"
        ]
    );
    let opened = &WebhookEvent::EVENTS[3];
    assert_eq!(
        (opened.event_type, opened.action),
        (Some("issues"), Some("opened"))
    );
    // `const: closed` fixes the action as a one-value enum does.
    assert_eq!(WebhookEvent::EVENTS[2].action, Some("closed"));
    assert_eq!(WebhookEvent::EVENT_HEADER, Some("X-GitHub-Event"));
}

#[test]
fn the_event_header_and_the_action_pick_the_variant() {
    let body = br#"{"action":"opened","issue":{"number":7,"title":"Crash","closed_at":null},"sender":{"login":"octocat"}}"#;
    let decoded = WebhookEvent::decode(Some("issues"), body).unwrap();
    let WebhookEvent::IssuesOpened(payload) = &decoded.value else {
        panic!("{:?}", decoded.value)
    };
    assert_eq!(payload.action, IssuesOpenedAction::Opened);
    assert_eq!(
        (payload.issue.number, payload.issue.title.as_str()),
        (7, "Crash")
    );
    assert_eq!(payload.issue.closed_at, None);
    // A field the spec does not declare is drift, not an error.
    assert_eq!(decoded.drift.len(), 1);
    assert_eq!(decoded.drift[0].pointer, "/sender");
    assert_eq!(decoded.drift[0].kind, DriftKind::UnknownField);
    assert_eq!(decoded.value.name(), Some("issues-opened"));

    let closed = br#"{"action":"closed","issue":{"number":7,"title":"Crash","closed_at":"2026-12-04T10:00:00Z"}}"#;
    let decoded = WebhookEvent::decode(Some("issues"), closed).unwrap();
    assert!(matches!(decoded.value, WebhookEvent::IssuesClosed(_)));
}

#[test]
fn older_payloads_without_a_required_nullable_field_decode_with_drift() {
    // `closed_at` is required and nullable; payloads from before it existed
    // lack it: taken as null, reported.
    let body = br#"{"action":"opened","issue":{"number":1,"title":"Old"}}"#;
    let decoded = WebhookEvent::decode(Some("issues"), body).unwrap();
    let WebhookEvent::IssuesOpened(payload) = &decoded.value else {
        panic!("{:?}", decoded.value)
    };
    assert_eq!(payload.issue.closed_at, None);
    assert_eq!(decoded.drift[0].kind, DriftKind::MissingNullable);
    assert_eq!(decoded.drift[0].pointer, "/issue/closed_at");
    // A required field that is not nullable is still a misfit.
    let err = WebhookEvent::decode(
        Some("issues"),
        br#"{"action":"opened","issue":{"number":1}}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("missing required field `title`"),
        "{err}"
    );
}

#[test]
fn the_body_type_or_the_event_name_pick_the_variant_without_a_header() {
    let paid = br#"{"type":"invoice.paid","amount":4200,"paid_at":"2026-12-04 10:00:00"}"#;
    let decoded = WebhookEvent::decode(None, paid).unwrap();
    let WebhookEvent::InvoicePaid(payload) = &decoded.value else {
        panic!("{:?}", decoded.value)
    };
    assert_eq!(payload.amount, 4200);
    // An SQL-style time is read as UTC, with drift.
    assert_eq!(
        payload.paid_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-12-04T10:00:00+00:00")
    );
    assert_eq!(decoded.drift.len(), 1);

    // A callback, named by whoever routes it.
    let report = br#"{"subscription":"sub_1","delivered":3}"#;
    let decoded = WebhookEvent::decode(Some("deliveryReport"), report).unwrap();
    assert!(matches!(decoded.value, WebhookEvent::DeliveryReport(_)));
}

#[test]
fn events_the_spec_does_not_describe_are_kept_as_json() {
    let decoded =
        WebhookEvent::decode(Some("issues"), br#"{"action":"pinned","issue":{}}"#).unwrap();
    let WebhookEvent::Unknown(unknown) = &decoded.value else {
        panic!("{:?}", decoded.value)
    };
    assert_eq!(unknown.event_type.as_deref(), Some("issues"));
    assert_eq!(unknown.action.as_deref(), Some("pinned"));
    assert_eq!(decoded.value.name(), None);
    let star = WebhookEvent::decode(Some("star"), br#"{"starred_at":null}"#).unwrap();
    assert!(matches!(star.value, WebhookEvent::Unknown(_)));
    // Not JSON at all: an error that says where, never a panic.
    assert!(WebhookEvent::decode(Some("push"), b"ref=main").is_err());
    assert!(WebhookEvent::decode(None, b"\xff\xfe").is_err());
}

#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
}

impl WebhookHandler for Recorder {
    async fn issues_opened(&self, payload: &IssuesOpened) -> Result<(), HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(format!("opened #{}", payload.issue.number));
        Ok(())
    }

    async fn push(&self, payload: &PushPayload) -> Result<(), HandlerError> {
        if payload.commits.is_empty() {
            return Err(HandlerError::permanent("a push without commits"));
        }
        self.seen
            .lock()
            .unwrap()
            .push(format!("push {}", payload.r#ref));
        Ok(())
    }

    async fn unknown(&self, event: &UnknownEvent) -> Result<(), HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(format!("unknown {:?}", event.event_type));
        Ok(())
    }
}

#[tokio::test]
async fn dispatch_runs_the_handlers_method_for_the_event() {
    let recorder = Recorder::default();
    for (event_type, body) in [
        (
            "issues",
            &br#"{"action":"opened","issue":{"number":9,"title":"t","closed_at":null}}"#[..],
        ),
        (
            "push",
            br#"{"ref":"refs/heads/main","commits":[{"id":"a1","message":"m"}]}"#,
        ),
        // Not implemented by the recorder: the default does nothing.
        (
            "issues",
            br#"{"action":"closed","issue":{"number":9,"title":"t","closed_at":null}}"#,
        ),
        ("star", br#"{}"#),
    ] {
        let event = WebhookEvent::decode(Some(event_type), body).unwrap().value;
        event.dispatch(&recorder).await.unwrap();
    }
    assert_eq!(
        *recorder.seen.lock().unwrap(),
        [
            "opened #9",
            "push refs/heads/main",
            "unknown Some(\"star\")"
        ]
    );
    let empty = WebhookEvent::decode(Some("push"), br#"{"ref":"x","commits":[]}"#)
        .unwrap()
        .value;
    let err = empty.dispatch(&recorder).await.unwrap_err();
    assert!(err.is_permanent());
}
