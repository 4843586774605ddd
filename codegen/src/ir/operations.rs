//! Operations: what each `paths` entry does. Per operation: its metadata
//! for the runtime and policy checks (method, path, tags, idempotency key,
//! security with scopes) and everything a typed method needs (parameters
//! with their styles, the request body, the responses by status, and
//! pagination).

use super::names::{NameId, Names, OperationNamer};
use super::schema::Lowerer;
use super::SchemeDef;
use super::Ty;
use crate::load::{Location, Spec};
use crate::naming::{field_name, type_name, variant_name, Scope};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// An HTTP method a path item can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    Get,
    Put,
    Post,
    Delete,
    Options,
    Head,
    Patch,
    Trace,
}

impl HttpMethod {
    /// Every method, in the order names are settled.
    pub const ALL: [HttpMethod; 8] = [
        HttpMethod::Get,
        HttpMethod::Put,
        HttpMethod::Post,
        HttpMethod::Delete,
        HttpMethod::Options,
        HttpMethod::Head,
        HttpMethod::Patch,
        HttpMethod::Trace,
    ];

    /// Its key in a path item (`get`).
    pub fn key(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Put => "put",
            HttpMethod::Post => "post",
            HttpMethod::Delete => "delete",
            HttpMethod::Options => "options",
            HttpMethod::Head => "head",
            HttpMethod::Patch => "patch",
            HttpMethod::Trace => "trace",
        }
    }

    /// As sent, and as `http::Method`'s constant is named (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Put => "PUT",
            HttpMethod::Post => "POST",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Head => "HEAD",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Trace => "TRACE",
        }
    }

    /// Idempotent by definition (RFC 9110): all but POST and PATCH.
    pub fn idempotent(self) -> bool {
        !matches!(self, HttpMethod::Post | HttpMethod::Patch)
    }
}

/// Deepest chain of `$ref`s followed for parameters, bodies and responses.
const MAX_REF_DEPTH: usize = 16;

/// One operation of the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Rust constant name (unique).
    pub const_name: String,
    /// The name the runtime reports: the `operationId`, or `METHOD path`.
    pub name: String,
    pub method: HttpMethod,
    pub path: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub deprecated: bool,
    pub tags: Vec<String>,
    pub accepts_idempotency_key: bool,
    /// Alternatives; each the schemes it needs together.
    pub security: Vec<Vec<SchemeUse>>,
    /// `file#/pointer` of the operation.
    pub origin: String,
    /// The client method's name (unique among the client's methods).
    pub fn_name: String,
    /// The module (from the first tag) the method and its types live in.
    pub module: String,
    /// The options type's name.
    pub options_name: String,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub responses: Responses,
    pub pagination: Option<Pagination>,
    /// The method that hands a binary success body over as a stream
    /// (`…_streaming`), for operations that have one.
    pub streaming_fn: Option<String>,
}

impl Operation {
    /// Idempotent by method (RFC 9110): GET, HEAD, OPTIONS, TRACE, PUT,
    /// DELETE.
    pub fn idempotent_by_method(&self) -> bool {
        self.method.idempotent()
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    Path,
    Query,
    Header,
    Cookie,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub wire: String,
    /// Argument or options-field name.
    pub rust: String,
    pub location: ParamIn,
    pub ty: Ty,
    pub required: bool,
    pub style: ParamStyle,
    pub explode: bool,
    pub allow_reserved: bool,
    pub doc: Option<String>,
    pub deprecated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
    Multipart,
    Text,
    Binary,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub media_type: String,
    pub kind: BodyKind,
    pub ty: Ty,
    pub required: bool,
    /// Argument or options-field name.
    pub rust: String,
    /// Form fields' `encoding`: (field, style, explode).
    pub encodings: Vec<(String, ParamStyle, bool)>,
    /// Other media types the operation accepts (reachable with a raw body).
    pub others: Vec<String>,
    pub doc: Option<String>,
}

/// Which statuses a response covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    Code(u16),
    /// `2XX` and friends: the first digit.
    Range(u16),
    Default,
}

/// What a response's body is.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(Ty),
    Text,
    Binary,
    Empty,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub status: StatusPattern,
    pub payload: Payload,
    pub success: bool,
    /// The variant in the operation's success or error enum.
    pub variant: String,
    pub description: Option<String>,
}

/// The Rust shape of the success or the error side.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// One payload for every case.
    Single(Payload),
    /// Different payloads: a generated enum with this name.
    Enum(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Responses {
    pub cases: Vec<Case>,
    pub ok: Outcome,
    pub err: Outcome,
    /// The `Accept` header: the success responses' media types, JSON ones
    /// first and the others at a lower preference; empty when none is
    /// documented.
    pub accept: String,
}

/// How a field's value is held in its struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `T`
    Plain,
    /// `Option<T>`
    Option,
    /// `Nullable<T>`
    Nullable,
}

/// A path of fields from a page to a value.
pub type FieldPath = Vec<(String, Access)>;

/// A detected (or configured) pagination style, resolved to Rust names.
#[derive(Debug, Clone, PartialEq)]
pub struct Pagination {
    /// The stream method's name.
    pub stream_fn: String,
    pub kind: PageKind,
    /// Where the items are in the page: the page itself (empty), or a field.
    pub items: FieldPath,
    pub item_ty: Ty,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PageKind {
    /// RFC 8288 `Link: <…>; rel="next"`.
    Link,
    /// `has_more` + `starting_after` = the last item's id (Stripe).
    Cursor {
        param: String,
        has_more: FieldPath,
        id_field: (String, Access),
    },
    /// A token from the page (`next_page_token`, `next_cursor`, …) sent back
    /// in a parameter.
    Token { param: String, field: FieldPath },
    /// `offset` advanced by the number of items received.
    Offset { param: String },
}

/// A pagination style chosen in the generator configuration, by wire names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// No stream for this operation.
    Off,
    /// Follow `Link: rel="next"`.
    Link,
    /// `has_more` in the page; `param` (e.g. `starting_after`) gets the last item's `id`.
    Cursor { param: String },
    /// `field` of the page (e.g. `next_page_token`) goes into `param`.
    Token { param: String, field: String },
    /// `param` (e.g. `offset`) advances by the items received.
    Offset { param: String },
}

/// Which operations to generate, and per-operation overrides.
#[derive(Debug, Clone, Default)]
pub struct OperationOptions {
    /// `operationId`s to generate (empty: no filter by id).
    pub operations: Vec<String>,
    /// Tags to generate (empty: no filter by tag).
    pub tags: Vec<String>,
    /// Pagination overrides by `operationId`.
    pub paging: HashMap<String, Paging>,
}

impl OperationOptions {
    pub fn selects_all(&self) -> bool {
        self.operations.is_empty() && self.tags.is_empty()
    }

    fn selected(&self, name: &str, tags: &[String]) -> bool {
        self.selects_all()
            || self.operations.iter().any(|o| o == name)
            || tags.iter().any(|t| self.tags.contains(t))
    }
}

/// One scheme of a security requirement, with the scopes it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeUse {
    /// Its name in `securitySchemes`.
    pub scheme: String,
    pub scopes: Vec<String>,
    /// An `oauth2` or `openIdConnect` scheme (its scopes are OAuth scopes).
    pub oauth: bool,
}

/// Lowers types and operations together: schemas reached from
/// operations become types, named after the operation when inline.
pub(crate) fn lower_operations(
    spec: &Spec,
    lowerer: &mut Lowerer<'_>,
    options: &OperationOptions,
    schemes: &[SchemeDef],
) -> Vec<LoweredOperation> {
    let root = Location::root(0);
    let Some(doc) = spec.get(&root).and_then(Value::as_object) else {
        return Vec::new();
    };
    let default_security = doc.get("security");
    let paths_at = root.child("paths");
    let paths = match doc.get("paths") {
        Some(Value::Object(p)) => p,
        Some(_) => {
            lowerer.warn_at(&paths_at, "`paths` is not an object; ignored");
            return Vec::new();
        }
        None => return Vec::new(),
    };
    // Names are handed out in one canonical order (paths sorted, methods in
    // a fixed order), never the document's: reordering a spec renames
    // nothing.
    let mut paths: Vec<(&String, &Value)> = paths.iter().collect();
    paths.sort_by(|a, b| a.0.cmp(b.0));
    // Over the whole spec, before selecting: which operation keeps a
    // shared operationId (the first in that order) does not depend on
    // what is generated.
    let mut owner_of_id: HashMap<&str, (&str, HttpMethod)> = HashMap::new();
    for (path, item) in &paths {
        for method in HttpMethod::ALL {
            let id = item
                .get(method.key())
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty());
            if let Some(id) = id {
                owner_of_id.entry(id).or_insert((path.as_str(), method));
            }
        }
    }
    let mut out = Vec::new();
    for (path, item) in paths {
        let item_at = paths_at.child(path);
        let Some((item_at, item)) = deref(spec, &item_at, item) else {
            lowerer.warn_at(
                &item_at,
                "path item is not an object (or its $ref does not resolve); skipped",
            );
            continue;
        };
        for method in HttpMethod::ALL {
            let Some(op) = item.get(method.key()) else {
                continue;
            };
            let op_at = item_at.child(method.key());
            let Some(op) = op.as_object() else {
                lowerer.warn_at(&op_at, "operation is not an object; skipped");
                continue;
            };
            let operation_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty());
            let tags: Vec<String> = op
                .get("tags")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let name = match operation_id {
                Some(id) => id.to_owned(),
                None => format!("{} {path}", method.as_str()),
            };
            if !options.selected(&name, &tags) {
                continue;
            }
            // What the Rust names are made from: the operationId, or for a
            // second operation with the same id, the id and its method.
            let rust_base = match operation_id {
                Some(id) if owner_of_id.get(id) != Some(&(path.as_str(), method)) => {
                    let (other_path, other_method) = owner_of_id
                        .get(id)
                        .copied()
                        .unwrap_or((path.as_str(), method));
                    let base = format!("{id} {}", method.key());
                    lowerer.warn_at(
                        &op_at.child("operationId"),
                        format!(
                            "operationId {id:?} is also used by {} {other_path}; this one is named `{}`",
                            other_method.as_str(),
                            field_name(&base)
                        ),
                    );
                    base
                }
                Some(_) => name.clone(),
                None => {
                    lowerer.warn_at(
                        &op_at,
                        format!(
                            "no operationId; named from method and path ({} {path})",
                            method.as_str()
                        ),
                    );
                    name.clone()
                }
            };
            let prefix = type_name(&rust_base);
            let options_name = lowerer.ask_name(&format!("{prefix}Options"));
            let mut params = params(
                spec,
                lowerer,
                &op_at,
                op,
                (item.get("parameters"), &item_at),
                &prefix,
                path,
            );
            let body = request_body(spec, lowerer, &op_at, op, &format!("{prefix}Body"));
            name_arguments(&mut params, body.as_ref());
            let (responses, enum_names) = responses(spec, lowerer, &op_at, op, &prefix);
            let operation = Operation {
                const_name: String::new(),
                name: name.clone(),
                method,
                path: path.clone(),
                summary: text(op, "summary"),
                description: text(op, "description"),
                deprecated: op
                    .get("deprecated")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                accepts_idempotency_key: params.iter().any(|p| {
                    p.location == ParamIn::Header
                        && p.wire.to_ascii_lowercase().replace(['-', '_'], "") == "idempotencykey"
                }),
                security: security(
                    lowerer,
                    &op_at,
                    op.get("security").or(default_security),
                    schemes,
                ),
                origin: spec.origin(&op_at),
                tags,
                fn_name: String::new(),
                module: String::new(),
                options_name: String::new(),
                params,
                body,
                responses,
                pagination: None,
                streaming_fn: None,
            };
            let pending = pending_pages(&operation, op, options.paging.get(&name));
            out.push(LoweredOperation {
                operation,
                pending,
                rust_base,
                options_name,
                enum_names,
            });
        }
    }
    out
}

/// An operation as lowered, before it is named: its types' names are asked
/// for, its constant's, methods' and module's are not yet given.
pub(crate) struct LoweredOperation {
    operation: Operation,
    pending: Option<PendingPage>,
    /// What the operation's Rust names are made from (its operationId, or
    /// the id and the method for a second operation with that id).
    rust_base: String,
    options_name: NameId,
    /// The success and the error enum, where a side has one.
    enum_names: [Option<NameId>; 2],
}

/// The naming pass's part for operations: settled type names filled in,
/// and constants, methods and tag modules named in lowering order (paths
/// sorted, methods in a fixed order). What pagination detection needs
/// comes along.
pub(crate) fn name_operations(
    lowered: Vec<LoweredOperation>,
    names: &Names,
) -> Vec<(Operation, Option<PendingPage>)> {
    let mut namer = OperationNamer::new();
    lowered
        .into_iter()
        .map(|lowered| {
            let mut op = lowered.operation;
            let mut pending = lowered.pending;
            let tag = op.tags.first().map_or("untagged", String::as_str);
            // A binary success body is also handed over by a `…_streaming`
            // method.
            let streams_body = op
                .responses
                .cases
                .iter()
                .any(|c| c.success && c.payload == Payload::Binary);
            let given = namer.name(&lowered.rust_base, tag, streams_body, pending.is_some());
            op.const_name = given.const_name;
            op.fn_name = given.fn_name;
            op.module = given.module;
            op.streaming_fn = given.streaming_fn;
            if let (Some(p), Some(stream_fn)) = (pending.as_mut(), given.stream_fn) {
                p.stream_name = stream_fn;
            }
            op.options_name = names.get(lowered.options_name).to_owned();
            let sides = [&mut op.responses.ok, &mut op.responses.err];
            for (outcome, id) in sides.into_iter().zip(lowered.enum_names) {
                if let (Outcome::Enum(name), Some(id)) = (outcome, id) {
                    *name = names.get(id).to_owned();
                }
            }
            (op, pending)
        })
        .collect()
}

/// What pagination detection needs once types are lowered.
#[derive(Debug, Clone)]
pub(crate) struct PendingPage {
    pub(crate) configured: Option<Paging>,
    pub(crate) dropshot: bool,
    pub(crate) documents_link: bool,
    pub(crate) stream_name: String,
}

fn pending_pages(
    operation: &Operation,
    op: &Map<String, Value>,
    configured: Option<&Paging>,
) -> Option<PendingPage> {
    if matches!(configured, Some(Paging::Off))
        || operation
            .body
            .as_ref()
            .is_some_and(|b| b.kind == BodyKind::Binary)
    {
        return None;
    }
    let documents_link = op
        .get("responses")
        .and_then(Value::as_object)
        .is_some_and(|r| {
            r.values().any(|resp| {
                resp.get("headers")
                    .and_then(Value::as_object)
                    .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("link")))
            })
        });
    Some(PendingPage {
        configured: configured.cloned(),
        dropshot: op.contains_key("x-dropshot-pagination"),
        documents_link,
        // Given by the naming pass.
        stream_name: String::new(),
    })
}

pub(super) fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// An object, following `$ref`s; with the location it was found at.
pub(super) fn deref<'s>(
    spec: &'s Spec,
    at: &Location,
    value: &'s Value,
) -> Option<(Location, &'s Map<String, Value>)> {
    let mut at = at.clone();
    let mut value = value;
    for _ in 0..MAX_REF_DEPTH {
        let o = value.as_object()?;
        match o.get("$ref").and_then(Value::as_str) {
            None => return Some((at, o)),
            Some(r) => {
                let target = spec.resolve(&at, r).ok()?;
                value = spec.get(&target)?;
                at = target;
            }
        }
    }
    None
}

fn params(
    spec: &Spec,
    lowerer: &mut Lowerer<'_>,
    op_at: &Location,
    op: &Map<String, Value>,
    (shared, item_at): (Option<&Value>, &Location),
    prefix: &str,
    template: &str,
) -> Vec<Param> {
    // Operation-level parameters override path-level ones with the same
    // name and location.
    let mut raw: Vec<(Location, &Map<String, Value>)> = Vec::new();
    let lists = [
        (op_at.child("parameters"), op.get("parameters")),
        (item_at.child("parameters"), shared),
    ];
    for (list_at, list) in lists {
        let Some(list) = list else { continue };
        let Some(items) = list.as_array() else {
            lowerer.warn_at(&list_at, "`parameters` is not an array; ignored");
            continue;
        };
        for (i, p) in items.iter().enumerate() {
            let at = list_at.child(&i.to_string());
            match deref(spec, &at, p) {
                Some((pat, po)) => {
                    let key = (
                        po.get("name").and_then(Value::as_str),
                        po.get("in").and_then(Value::as_str),
                    );
                    if !raw.iter().any(|(_, o)| {
                        (
                            o.get("name").and_then(Value::as_str),
                            o.get("in").and_then(Value::as_str),
                        ) == key
                    }) {
                        raw.push((pat, po));
                    }
                }
                None => lowerer.warn_at(
                    &at,
                    "parameter is not an object (or its $ref does not resolve); skipped",
                ),
            }
        }
    }
    let mut out = Vec::new();
    for (at, p) in raw {
        let Some(wire) = p.get("name").and_then(Value::as_str) else {
            lowerer.warn_at(&at, "parameter without a `name`; skipped");
            continue;
        };
        let location = match p.get("in").and_then(Value::as_str) {
            Some("path") => ParamIn::Path,
            Some("query") => ParamIn::Query,
            Some("header") => ParamIn::Header,
            Some("cookie") => ParamIn::Cookie,
            other => {
                lowerer.warn_at(&at, format!("parameter location {other:?} is not path, query, header or cookie; skipped"));
                continue;
            }
        };
        // OpenAPI: these header parameters are ignored (the client sets them).
        if location == ParamIn::Header
            && ["accept", "content-type", "authorization"]
                .contains(&wire.to_ascii_lowercase().as_str())
        {
            continue;
        }
        let schema_at = if p.contains_key("schema") {
            at.child("schema")
        } else {
            // `content`-described parameters: the first media type's schema.
            match p
                .get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.keys().next())
            {
                Some(media) => at.child("content").child(media).child("schema"),
                None => at.child("schema"),
            }
        };
        let (ty, _) = lowerer.schema_ty(&schema_at, &format!("{prefix}{}", type_name(wire)));
        let default_style = match location {
            ParamIn::Path | ParamIn::Header => ParamStyle::Simple,
            ParamIn::Query | ParamIn::Cookie => ParamStyle::Form,
        };
        let style = match p.get("style").and_then(Value::as_str) {
            None => default_style,
            Some(raw) => ParamStyle::parse(raw).unwrap_or_else(|| {
                lowerer.warn_at(
                    &at.child("style"),
                    format!("unknown style {raw:?}; using {default_style:?}"),
                );
                default_style
            }),
        };
        let explode = p
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style.explodes_by_default());
        let required = location == ParamIn::Path
            || p.get("required").and_then(Value::as_bool).unwrap_or(false);
        out.push(Param {
            wire: wire.to_owned(),
            rust: field_name(wire),
            location,
            ty,
            required,
            style,
            explode,
            allow_reserved: p
                .get("allowReserved")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            doc: text(p, "description"),
            deprecated: p
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        });
    }
    reconcile_path(lowerer, op_at, template, &mut out);
    // Path parameters first (in the spec's order), then the rest.
    out.sort_by_key(|p| p.location != ParamIn::Path);
    out
}

/// Every `{name}` of the template gets a path parameter (a string, with a
/// warning, when the spec forgot to declare it); declared path parameters
/// the template does not use are dropped.
fn reconcile_path(
    lowerer: &mut Lowerer<'_>,
    op_at: &Location,
    template: &str,
    params: &mut Vec<Param>,
) {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        names.push(rest[open + 1..open + close].to_owned());
        rest = &rest[open + close + 1..];
    }
    params.retain(|p| {
        let keep = p.location != ParamIn::Path || names.contains(&p.wire);
        if !keep {
            lowerer.warn_at(
                op_at,
                format!(
                    "path parameter {:?} is not in the path template; ignored",
                    p.wire
                ),
            );
        }
        keep
    });
    for name in names {
        if !params
            .iter()
            .any(|p| p.location == ParamIn::Path && p.wire == name)
        {
            lowerer.warn_at(op_at, format!("path template names {{{name}}} but no such path parameter is declared; taken as a string"));
            params.push(Param {
                rust: field_name(&name),
                wire: name,
                location: ParamIn::Path,
                ty: Ty::String,
                required: true,
                style: ParamStyle::Simple,
                explode: false,
                allow_reserved: false,
                doc: None,
                deprecated: false,
            });
        }
    }
}

/// How a parameter (or a form field) is serialized: OpenAPI's `style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamStyle {
    Form,
    Simple,
    Label,
    Matrix,
    SpaceDelimited,
    PipeDelimited,
    DeepObject,
}

impl ParamStyle {
    /// The style a spec spells `raw`.
    fn parse(raw: &str) -> Option<ParamStyle> {
        Some(match raw {
            "form" => ParamStyle::Form,
            "simple" => ParamStyle::Simple,
            "label" => ParamStyle::Label,
            "matrix" => ParamStyle::Matrix,
            "spaceDelimited" => ParamStyle::SpaceDelimited,
            "pipeDelimited" => ParamStyle::PipeDelimited,
            "deepObject" => ParamStyle::DeepObject,
            _ => return None,
        })
    }

    /// `explode`'s default for this style (OpenAPI: true for form).
    fn explodes_by_default(self) -> bool {
        matches!(self, ParamStyle::Form | ParamStyle::DeepObject)
    }
}

/// Argument and options-field names: required parameters and a required
/// body are arguments, the rest are options fields; one namespace for both,
/// so a parameter called `body` or `options` is renamed. An argument named
/// like a local of the generated method (omdbapi's required `r`) gets a
/// `_`: the local would shadow it.
fn name_arguments(params: &mut [Param], body: Option<&Body>) {
    let mut scope = Scope::new();
    for reserved in ["options", "call", "self"] {
        scope.reserve(reserved);
    }
    if let Some(b) = body {
        scope.reserve(&b.rust);
    }
    for p in params {
        let wanted = if p.required && METHOD_LOCALS.contains(&p.rust.as_str()) {
            format!("{}_", p.rust)
        } else {
            p.rust.clone()
        };
        p.rust = scope.claim(&wanted).0;
    }
}

/// Names generated method bodies bind while arguments are still in use:
/// the request being built, the stream's options, the raw reply, the parts
/// of a multipart body.
const METHOD_LOCALS: &[&str] = &["r", "o", "raw", "parts"];

pub(super) fn request_body(
    spec: &Spec,
    lowerer: &mut Lowerer<'_>,
    op_at: &Location,
    op: &Map<String, Value>,
    hint: &str,
) -> Option<Body> {
    let raw = op.get("requestBody")?;
    let Some((at, b)) = deref(spec, &op_at.child("requestBody"), raw) else {
        lowerer.warn_at(
            &op_at.child("requestBody"),
            "requestBody is not an object (or its $ref does not resolve); ignored",
        );
        return None;
    };
    let content = b.get("content").and_then(Value::as_object)?;
    let media: Vec<&String> = content.keys().collect();
    let (media_type, kind) = pick_media(&media)?;
    let media_at = at.child("content").child(media_type);
    let ty = match kind {
        BodyKind::Text => Ty::String,
        BodyKind::Binary => Ty::Binary,
        _ => lowerer.schema_ty(&media_at.child("schema"), hint).0,
    };
    let mut encodings = Vec::new();
    if let Some(enc) = content
        .get(media_type)
        .and_then(|m| m.get("encoding"))
        .and_then(Value::as_object)
    {
        for (field, e) in enc {
            let style = e
                .get("style")
                .and_then(Value::as_str)
                .and_then(ParamStyle::parse)
                .unwrap_or(ParamStyle::Form);
            let explode = e
                .get("explode")
                .and_then(Value::as_bool)
                .unwrap_or(style == ParamStyle::Form);
            encodings.push((field.clone(), style, explode));
        }
    }
    Some(Body {
        media_type: media_type.clone(),
        kind,
        ty,
        required: b.get("required").and_then(Value::as_bool).unwrap_or(false),
        rust: "body".into(),
        encodings,
        others: media
            .iter()
            .filter(|m| **m != media_type)
            .map(|m| (*m).clone())
            .collect(),
        doc: text(b, "description"),
    })
}

fn is_json(media: &str) -> bool {
    let m = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    m == "application/json" || m.ends_with("+json") || m == "text/json" || m.ends_with("/json")
}

/// The media type wharf models: JSON first, then forms, multipart, text,
/// and anything else as bytes.
fn pick_media<'m>(media: &[&'m String]) -> Option<(&'m String, BodyKind)> {
    let rank = |k: BodyKind| match k {
        BodyKind::Json => 0,
        BodyKind::Form => 1,
        BodyKind::Multipart => 2,
        BodyKind::Text => 3,
        BodyKind::Binary => 4,
    };
    media
        .iter()
        .map(|m| (*m, media_kind(m)))
        .min_by_key(|(_, k)| rank(*k))
}

fn media_kind(media: &str) -> BodyKind {
    let m = media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if is_json(&m) {
        BodyKind::Json
    } else if m == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else if m == "multipart/form-data" || m.starts_with("multipart/") {
        BodyKind::Multipart
    } else if m.starts_with("text/") {
        BodyKind::Text
    } else {
        BodyKind::Binary
    }
}

fn responses(
    spec: &Spec,
    lowerer: &mut Lowerer<'_>,
    op_at: &Location,
    op: &Map<String, Value>,
    prefix: &str,
) -> (Responses, [Option<NameId>; 2]) {
    let at = op_at.child("responses");
    let mut cases = Vec::new();
    let mut success_media: Vec<String> = Vec::new();
    let mut error_media: Vec<String> = Vec::new();
    if let Some(map) = op.get("responses").and_then(Value::as_object) {
        for (status, response) in map {
            let pattern = match parse_status(status) {
                Some(p) => p,
                None => {
                    lowerer.warn_at(
                        &at.child(status),
                        format!("response key {status:?} is not a status code; ignored"),
                    );
                    continue;
                }
            };
            let success = match pattern {
                StatusPattern::Code(c) => (200..300).contains(&c),
                StatusPattern::Range(d) => d == 2,
                StatusPattern::Default => false,
            };
            let Some((r_at, r)) = deref(spec, &at.child(status), response) else {
                lowerer.warn_at(
                    &at.child(status),
                    "response is not an object (or its $ref does not resolve); body kept raw",
                );
                cases.push(Case {
                    status: pattern,
                    payload: Payload::Binary,
                    success,
                    variant: String::new(),
                    description: None,
                });
                continue;
            };
            let listed = if success {
                &mut success_media
            } else {
                &mut error_media
            };
            let content = r.get("content").and_then(Value::as_object);
            for media in content.into_iter().flat_map(|c| c.keys()) {
                if !listed.contains(media) {
                    listed.push(media.clone());
                }
            }
            let payload = match r.get("content").and_then(Value::as_object) {
                None => Payload::Empty,
                Some(content) if content.is_empty() => Payload::Empty,
                Some(content) => {
                    let media: Vec<&String> = content.keys().collect();
                    let json = media.iter().find(|m| is_json(m));
                    match json {
                        Some(m) => {
                            let schema_at = r_at.child("content").child(m).child("schema");
                            let hint = match pattern {
                                StatusPattern::Code(c) if success => format!("{prefix}Response{c}"),
                                StatusPattern::Code(c) => format!("{prefix}Error{c}"),
                                StatusPattern::Range(d) => format!("{prefix}Response{d}xx"),
                                StatusPattern::Default => format!("{prefix}ErrorDefault"),
                            };
                            let (ty, nullable) = lowerer.schema_ty(&schema_at, &hint);
                            Payload::Json(if nullable && ty != Ty::Json {
                                Ty::Option(Box::new(ty))
                            } else {
                                ty
                            })
                        }
                        None if media.iter().any(|m| media_kind(m) == BodyKind::Text) => {
                            Payload::Text
                        }
                        None => Payload::Binary,
                    }
                }
            };
            cases.push(Case {
                status: pattern,
                payload,
                success,
                variant: String::new(),
                description: text(r, "description"),
            });
        }
    }
    // Exact codes first, then ranges, then `default`: the match order.
    cases.sort_by_key(|c| match c.status {
        StatusPattern::Code(_) => 0,
        StatusPattern::Range(_) => 1,
        StatusPattern::Default => 2,
    });
    let (ok, ok_enum) = outcome(lowerer, &mut cases, true, &format!("{prefix}Ok"));
    let (err, err_enum) = outcome(lowerer, &mut cases, false, &format!("{prefix}Error"));
    let accept = accept_header(lowerer, &at, &success_media, &error_media);
    let responses = Responses {
        cases,
        ok,
        err,
        accept,
    };
    (responses, [ok_enum, err_enum])
}

/// The `Accept` value: the success media types, JSON first (what the
/// client decodes) and the rest after at `q=0.5` when there is JSON, so a
/// server offering several does not pick a vendor type the client cannot
/// read; then media types only error responses use, at `q=0.1`, so a server
/// that negotiates strictly can still send its documented errors. A media
/// type that cannot be sent in a header is left out, with a warning.
fn accept_header(
    lowerer: &mut Lowerer<'_>,
    at: &Location,
    success: &[String],
    errors: &[String],
) -> String {
    let sendable = |m: &&String| {
        !m.is_empty() && !m.contains(',') && m.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    };
    let mut seen: Vec<&String> = Vec::new();
    for m in success.iter().chain(errors) {
        if seen.contains(&m) {
            continue;
        }
        if !sendable(&m) {
            lowerer.warn_at(
                at,
                format!(
                    "response media type {m:?} cannot be sent in an Accept header; left out of it"
                ),
            );
        }
        seen.push(m);
    }
    let usable: Vec<&String> = success.iter().filter(sendable).collect();
    let (json, other): (Vec<&String>, Vec<&String>) = usable.iter().partition(|m| is_json(m));
    let lower = if json.is_empty() { "" } else { ";q=0.5" };
    let errors_only = errors
        .iter()
        .filter(sendable)
        .filter(|m| !success.contains(m))
        .map(|m| format!("{m};q=0.1"));
    json.iter()
        .map(|m| m.to_string())
        .chain(other.iter().map(|m| format!("{m}{lower}")))
        .chain(errors_only)
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_status(raw: &str) -> Option<StatusPattern> {
    let s = raw.trim();
    if s.eq_ignore_ascii_case("default") {
        return Some(StatusPattern::Default);
    }
    if s.len() == 3 && s[1..].eq_ignore_ascii_case("xx") {
        let d = s[..1].parse::<u16>().ok().filter(|d| (1..=5).contains(d))?;
        return Some(StatusPattern::Range(d));
    }
    s.parse::<u16>()
        .ok()
        .filter(|c| (100..=599).contains(c))
        .map(StatusPattern::Code)
}

/// One payload for all cases of a side, or an enum of them (named by the
/// naming pass: its name is asked for here).
fn outcome(
    lowerer: &mut Lowerer<'_>,
    cases: &mut [Case],
    success: bool,
    enum_name: &str,
) -> (Outcome, Option<NameId>) {
    let side: Vec<&Case> = cases.iter().filter(|c| c.success == success).collect();
    let Some(first) = side.first() else {
        let payload = if success {
            Payload::Empty
        } else {
            Payload::Binary
        };
        return (Outcome::Single(payload), None);
    };
    // Error bodies that are not JSON stay raw in the error (no payload).
    let same = |a: &Payload, b: &Payload| match (a, b) {
        (Payload::Json(x), Payload::Json(y)) => x == y,
        (x, y) if !success => !matches!(x, Payload::Json(_)) && !matches!(y, Payload::Json(_)),
        (x, y) => std::mem::discriminant(x) == std::mem::discriminant(y),
    };
    if side.iter().all(|c| same(&c.payload, &first.payload)) {
        return (Outcome::Single(first.payload.clone()), None);
    }
    let mut variants = Scope::new();
    for case in cases.iter_mut().filter(|c| c.success == success) {
        let wanted = match case.status {
            StatusPattern::Code(c) => {
                http_reason(c).map_or_else(|| format!("Status{c}"), variant_name)
            }
            StatusPattern::Range(d) => format!("Status{d}xx"),
            StatusPattern::Default => "Default".into(),
        };
        case.variant = variants.claim(&wanted).0;
    }
    let name = lowerer.ask_name(enum_name);
    (Outcome::Enum(String::new()), Some(name))
}

/// The reason phrase of a status code, for variant names.
fn http_reason(code: u16) -> Option<&'static str> {
    Some(match code {
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritative",
        204 => "NoContent",
        206 => "PartialContent",
        207 => "MultiStatus",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Gone",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        422 => "UnprocessableEntity",
        423 => "Locked",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => return None,
    })
}

/// Security requirements (`security: []` means none; absent means the
/// document default, already chosen by the caller). `schemes` (lowered,
/// `$ref`s followed) tell OAuth schemes from the others.
fn security(
    lowerer: &mut Lowerer<'_>,
    at: &Location,
    value: Option<&Value>,
    schemes: &[SchemeDef],
) -> Vec<Vec<SchemeUse>> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(alternatives) = value.as_array() else {
        lowerer.warn_at(at, "`security` is not an array; treated as none");
        return Vec::new();
    };
    alternatives
        .iter()
        .filter_map(Value::as_object)
        .map(|requirement| {
            requirement
                .iter()
                .map(|(scheme, scopes)| {
                    let scopes = scopes
                        .as_array()
                        .map(|s| {
                            s.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    SchemeUse {
                        oauth: schemes.iter().any(|s| s.name == *scheme && s.is_oauth()),
                        scheme: scheme.clone(),
                        scopes,
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keys() {
        assert_eq!(parse_status("200"), Some(StatusPattern::Code(200)));
        assert_eq!(parse_status("4XX"), Some(StatusPattern::Range(4)));
        assert_eq!(parse_status("default"), Some(StatusPattern::Default));
        assert_eq!(parse_status("20"), None);
        assert_eq!(parse_status("9XX"), None);
    }

    #[test]
    fn media_kinds() {
        assert_eq!(media_kind("application/vnd.github+json"), BodyKind::Json);
        assert_eq!(
            media_kind("application/json; charset=utf-8"),
            BodyKind::Json
        );
        assert_eq!(
            media_kind("application/x-www-form-urlencoded"),
            BodyKind::Form
        );
        assert_eq!(media_kind("multipart/form-data"), BodyKind::Multipart);
        assert_eq!(media_kind("text/plain"), BodyKind::Text);
        assert_eq!(media_kind("image/png"), BodyKind::Binary);
    }
}
