//! Webhook events: what a provider sends to the app, from OpenAPI 3.1's
//! `webhooks` and the `callbacks` of operations. Each event becomes a
//! variant of the generated `WebhookEvent` enum with its payload type, and
//! a method of the generated `WebhookHandler` trait. Names are asked for in
//! the order of the events' spec names, so reordering a spec renames
//! nothing.

use super::names::{NameId, Names};
use super::operations::{deref, request_body, text, HttpMethod};
use super::schema::Lowerer;
use super::{BodyKind, Ty};
use crate::load::{Location, Spec};
use crate::naming::{field_name, type_name, Scope};
use serde_json::{Map, Value};

/// One event the provider sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The name the spec gives it (the `webhooks` key, or the callback's).
    pub name: String,
    /// The `WebhookEvent` variant.
    pub variant: String,
    /// The `WebhookHandler` method.
    pub handler_fn: String,
    /// The payload's type (raw JSON when the spec gives no JSON body).
    pub payload: Ty,
    /// The provider's event type header value (GitHub: `x-github`'s
    /// `subcategory`, what `X-GitHub-Event` carries).
    pub event_type: Option<String>,
    /// The payload's `action` when its schema fixes one.
    pub action: Option<String>,
    pub summary: Option<String>,
    /// `file#/pointer` of the event's operation.
    pub origin: String,
}

/// Every event of a spec, and the names of what holds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Webhooks {
    pub events: Vec<Webhook>,
    /// The enum's name (`WebhookEvent` unless a schema has that name).
    pub enum_name: String,
    /// The handler trait's name.
    pub handler_name: String,
    /// The header that carries the event type (`X-Github-Event`), where
    /// the spec declares one.
    pub event_header: Option<String>,
}

/// An event found in the spec, before its types are lowered.
struct Found {
    name: String,
    at: Location,
}

/// Webhooks as lowered: the enum's and the trait's names are asked for,
/// not yet settled.
#[derive(Default)]
pub(crate) struct LoweredWebhooks {
    webhooks: Webhooks,
    /// The event enum's and the handler trait's names.
    names: Option<(NameId, NameId)>,
}

impl LoweredWebhooks {
    /// The webhooks with their settled names.
    pub(crate) fn named(self, names: &Names) -> Webhooks {
        let mut webhooks = self.webhooks;
        if let Some((enum_name, handler_name)) = self.names {
            webhooks.enum_name = names.get(enum_name).to_owned();
            webhooks.handler_name = names.get(handler_name).to_owned();
        }
        webhooks
    }
}

pub(crate) fn lower_webhooks(spec: &Spec, lowerer: &mut Lowerer<'_>) -> LoweredWebhooks {
    let root = Location::root(0);
    let Some(doc) = spec.get(&root).and_then(Value::as_object) else {
        return LoweredWebhooks::default();
    };
    let mut found = Vec::new();
    if let Some(hooks) = doc.get("webhooks") {
        let at = root.child("webhooks");
        match hooks.as_object() {
            Some(hooks) => {
                for (name, item) in hooks {
                    path_item_events(spec, lowerer, name, &at.child(name), item, &mut found);
                }
            }
            None => lowerer.warn_at(&at, "`webhooks` is not an object; ignored"),
        }
    }
    callbacks(spec, lowerer, doc, &mut found);
    if found.is_empty() {
        return LoweredWebhooks::default();
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let enum_name = lowerer.ask_name("WebhookEvent");
    let handler_name = lowerer.ask_name("WebhookHandler");
    let mut variants = Scope::new();
    variants.reserve("Unknown");
    let mut methods = Scope::new();
    for reserved in ["unknown", "dispatch", "decode", "name"] {
        methods.reserve(reserved);
    }
    let mut event_header = None;
    let mut events = Vec::new();
    for event in found {
        let Some(op) = spec.get(&event.at).and_then(Value::as_object) else {
            continue;
        };
        let variant = variants.claim(&type_name(&event.name)).0;
        let body = request_body(spec, lowerer, &event.at, op, &format!("{variant}Payload"));
        let payload = match &body {
            Some(b) if matches!(b.kind, BodyKind::Json) => b.ty.clone(),
            _ => Ty::Json,
        };
        if event_header.is_none() {
            event_header = event_type_header(spec, &event.at, op);
        }
        let action = body_action(spec, &event.at);
        events.push(Webhook {
            handler_fn: methods.claim(&field_name(&event.name)).0,
            variant,
            payload,
            event_type: op
                .get("x-github")
                .and_then(|x| x.get("subcategory"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            action,
            summary: text(op, "summary"),
            origin: spec.origin(&event.at),
            name: event.name,
        });
    }
    LoweredWebhooks {
        webhooks: Webhooks {
            events,
            enum_name: String::new(),
            handler_name: String::new(),
            event_header,
        },
        names: Some((enum_name, handler_name)),
    }
}

/// The operations of a webhook's or callback's path item that take a body
/// (one event each; a second method gets the method in its name).
fn path_item_events(
    spec: &Spec,
    lowerer: &mut Lowerer<'_>,
    name: &str,
    at: &Location,
    item: &Value,
    found: &mut Vec<Found>,
) {
    let Some((item_at, item)) = deref(spec, at, item) else {
        lowerer.warn_at(
            at,
            "webhook is not an object (or its $ref does not resolve); skipped",
        );
        return;
    };
    let mut first = true;
    for method in HttpMethod::ALL {
        if !item.get(method.key()).is_some_and(Value::is_object) {
            continue;
        }
        let name = if first {
            name.to_owned()
        } else {
            format!("{name} {}", method.as_str())
        };
        first = false;
        found.push(Found {
            name,
            at: item_at.child(method.key()),
        });
    }
}

/// OpenAPI 3.0's callbacks: each operation's `callbacks` map, named by the
/// callback (with the expression when one callback has several).
fn callbacks(
    spec: &Spec,
    lowerer: &mut Lowerer<'_>,
    doc: &Map<String, Value>,
    found: &mut Vec<Found>,
) {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return;
    };
    let paths_at = Location::root(0).child("paths");
    for (path, item) in paths {
        let Some((item_at, item)) = deref(spec, &paths_at.child(path), item) else {
            continue;
        };
        for method in HttpMethod::ALL {
            let op_at = item_at.child(method.key());
            let Some(callbacks) = item
                .get(method.key())
                .and_then(|op| op.get("callbacks"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (callback, raw) in callbacks {
                let at = op_at.child("callbacks").child(callback);
                let Some((at, expressions)) = deref(spec, &at, raw) else {
                    continue;
                };
                let several = expressions.len() > 1;
                for (expression, item) in expressions {
                    let name = if several {
                        format!("{callback} {expression}")
                    } else {
                        callback.clone()
                    };
                    path_item_events(spec, lowerer, &name, &at.child(expression), item, found);
                }
            }
        }
    }
}

/// A header parameter that names the event type (`X-GitHub-Event`).
fn event_type_header(spec: &Spec, op_at: &Location, op: &Map<String, Value>) -> Option<String> {
    let params = op.get("parameters")?.as_array()?;
    params.iter().enumerate().find_map(|(i, p)| {
        let (_, p) = deref(spec, &op_at.child("parameters").child(&i.to_string()), p)?;
        let name = p.get("name")?.as_str()?;
        let is_header = p.get("in").and_then(Value::as_str) == Some("header");
        let lower = name.to_ascii_lowercase();
        (is_header && lower.ends_with("-event")).then(|| name.to_owned())
    })
}

/// The one value the payload schema allows for `action` (`const`, or an
/// `enum` of one).
fn body_action(spec: &Spec, op_at: &Location) -> Option<String> {
    let body_at = op_at.child("requestBody");
    let (body_at, body) = deref(spec, &body_at, spec.get(&body_at)?)?;
    let content = body.get("content")?.as_object()?;
    let (media, _) = content.iter().find(|(m, _)| m.contains("json"))?;
    let schema_at = body_at.child("content").child(media).child("schema");
    let (schema_at, schema) = deref(spec, &schema_at, spec.get(&schema_at)?)?;
    let action_at = schema_at.child("properties").child("action");
    let (_, action) = deref(spec, &action_at, schema.get("properties")?.get("action")?)?;
    if let Some(value) = action.get("const").and_then(Value::as_str) {
        return Some(value.to_owned());
    }
    match action.get("enum")?.as_array()?.as_slice() {
        [one] => one.as_str().map(str::to_owned),
        _ => None,
    }
}
