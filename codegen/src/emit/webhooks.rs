//! The webhook events: an enum with one variant per event (payload boxed)
//! and `Unknown`, its table for the runtime's dispatch, and a handler trait
//! with one method per event, each a no-op unless the app implements it.

use super::docs::sanitize;
use super::types::TypeEmitter;
use super::{lit, Writer};
use crate::ir::{TypeSet, Webhook, Webhooks};

const ERROR: &str = "::wharf::webhooks::HandlerError";
const UNKNOWN: &str = "::wharf::webhooks::UnknownEvent";

fn option_lit(value: Option<&str>) -> String {
    value.map_or_else(|| "None".to_owned(), |v| format!("Some({})", lit(v)))
}

/// A doc line naming the event, then its summary.
fn event_doc(w: &mut Writer, event: &Webhook) {
    let name = event.name.replace('`', "'");
    match &event.summary {
        Some(summary) => {
            w.doc(&[format!(" `{name}`: {}", sanitize(summary).join(" ").trim())]);
        }
        None => w.doc(&[format!(" `{name}`")]),
    }
}

pub(super) fn webhooks_module(w: &mut Writer, set: &TypeSet, hooks: &Webhooks) {
    if hooks.events.is_empty() {
        return;
    }
    let types = TypeEmitter::new(set);
    let payload = |event: &Webhook| types.ty(&event.payload);
    let (name, handler) = (&hooks.enum_name, &hooks.handler_name);

    w.blank();
    w.doc(&[
        " The webhook events this API sends, each with its payload.".to_owned(),
        format!(" [`{name}::decode`] reads a delivery (tolerantly, with drift, as"),
        format!(" responses); [`{name}::dispatch`] hands it to a [`{handler}`]."),
    ]);
    w.line(super::ALLOW_UNUSED);
    w.line("#[derive(Debug, Clone)]");
    w.open(&format!("pub enum {name} {{"));
    for event in &hooks.events {
        event_doc(w, event);
        w.line(&format!("{}(Box<{}>),", event.variant, payload(event)));
    }
    w.line("/// An event the spec does not describe, as raw JSON.");
    w.line(&format!("Unknown({UNKNOWN}),"));
    w.close("}");

    w.blank();
    w.line(super::ALLOW_UNUSED);
    w.open(&format!("impl {name} {{"));
    w.line("/// Every event, in the order of the variants.");
    w.open("pub const EVENTS: &'static [::wharf::webhooks::EventInfo] = &[");
    for event in &hooks.events {
        w.line(&format!(
            "::wharf::webhooks::EventInfo {{ name: {}, event_type: {}, action: {} }},",
            lit(&event.name),
            option_lit(event.event_type.as_deref()),
            option_lit(event.action.as_deref())
        ));
    }
    w.close("];");
    w.blank();
    w.line("/// The header that carries the event type, where the spec names one.");
    w.line(&format!(
        "pub const EVENT_HEADER: Option<&'static str> = {};",
        option_lit(hooks.event_header.as_deref())
    ));
    w.blank();
    w.line("/// Decodes a delivery's body; `event_type` is the value of");
    w.line("/// [`Self::EVENT_HEADER`] (or of the provider's own event header).");
    w.open("pub fn decode(");
    w.line("event_type: Option<&str>,");
    w.line("body: &[u8],");
    w.close(") -> Result<::wharf::Decoded<Self>, ::wharf::DecodeError> {");
    w.indent_more();
    w.open("Ok(match ::wharf::webhooks::select_event(Self::EVENTS, event_type, body) {");
    for (i, event) in hooks.events.iter().enumerate() {
        w.line(&format!(
            "Some({i}) => ::wharf::webhooks::decode_boxed::<{}>(body)?.map(Self::{}),",
            payload(event),
            event.variant
        ));
    }
    w.line(&format!(
        "_ => {UNKNOWN}::decode(event_type, body)?.map(Self::Unknown),"
    ));
    w.close("})");
    w.close("}");
    w.blank();
    w.line("/// The event's name in the spec; `None` for an unknown event.");
    w.open("pub fn name(&self) -> Option<&'static str> {");
    w.open("match self {");
    for event in &hooks.events {
        w.line(&format!(
            "Self::{}(_) => Some({}),",
            event.variant,
            lit(&event.name)
        ));
    }
    w.line("Self::Unknown(_) => None,");
    w.close("}");
    w.close("}");
    w.blank();
    w.line("/// Runs the handler's method for this event.");
    w.open(&format!(
        "pub async fn dispatch<H: {handler}>(&self, handler: &H) -> Result<(), {ERROR}> {{"
    ));
    w.open("match self {");
    for event in &hooks.events {
        w.line(&format!(
            "Self::{}(payload) => handler.{}(payload).await,",
            event.variant, event.handler_fn
        ));
    }
    w.line("Self::Unknown(event) => handler.unknown(event).await,");
    w.close("}");
    w.close("}");
    w.close("}");

    w.blank();
    w.doc(&[
        format!(" What the app does with each event of [`{name}`]: every method does"),
        " nothing unless implemented.".to_owned(),
    ]);
    w.open(&format!("pub trait {handler}: Send + Sync {{"));
    for event in &hooks.events {
        event_doc(w, event);
        w.open(&format!("fn {}(", event.handler_fn));
        w.line("&self,");
        w.line(&format!("_payload: &{},", payload(event)));
        w.close(&format!(
            ") -> impl ::core::future::Future<Output = Result<(), {ERROR}>> + Send {{"
        ));
        w.indent_more();
        w.line("async { Ok(()) }");
        w.close("}");
    }
    w.line("/// An event the spec does not describe.");
    w.open("fn unknown(");
    w.line("&self,");
    w.line(&format!("_event: &{UNKNOWN},"));
    w.close(&format!(
        ") -> impl ::core::future::Future<Output = Result<(), {ERROR}>> + Send {{"
    ));
    w.indent_more();
    w.line("async { Ok(()) }");
    w.close("}");
    w.close("}");
}
