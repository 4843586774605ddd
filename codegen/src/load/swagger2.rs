//! Swagger 2.0 read as OpenAPI 3.0. A 2.0 document is rewritten once, at
//! load, into the 3.0 shape the lowering reads (so there is one lowering and
//! one IR), together with a map from each rewritten location back to where
//! it was written: diagnostics and doc comments point at the original text.
//!
//! What moves: `definitions`, `parameters`, `responses` and
//! `securityDefinitions` into `components`; `host`/`basePath`/`schemes` into
//! `servers`; `body` and `formData` parameters into a `requestBody` whose
//! media types are the operation's `consumes`; response `schema`s into
//! `content` by `produces`; `collectionFormat` into `style`/`explode`;
//! `x-nullable` into `nullable`; `type: file` into binary strings; OAuth2
//! flows by their 2.0 names.

use crate::diagnostic::push_segment;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Where each rewritten node was written: pointer in the rewritten document
/// → pointer in the original text. A pointer below a mapped one maps by its
/// longest mapped prefix; one with no mapped prefix is where it was.
#[derive(Debug, Default)]
pub(crate) struct Origins {
    by_new: BTreeMap<String, String>,
    /// The document was rewritten from 2.0 (even if nothing moved).
    rewritten: bool,
}

impl Origins {
    fn rewritten() -> Origins {
        Origins {
            by_new: BTreeMap::new(),
            rewritten: true,
        }
    }

    fn record(&mut self, new: &str, old: &str) {
        if new != old {
            self.by_new.insert(new.to_owned(), old.to_owned());
        }
    }

    /// A diagnostic's message with the `$ref`s it quotes spelled as they
    /// were written (`#/definitions/X`, not the rewritten
    /// `#/components/schemas/X`).
    pub(crate) fn original_message<'a>(&self, message: &'a str) -> Cow<'a, str> {
        if !self.rewritten || !message.contains("#/components/") {
            return Cow::Borrowed(message);
        }
        let mut text = message.to_owned();
        for (old, new) in REF_PREFIXES {
            text = text.replace(&format!("#/components{new}"), &format!("#{old}"));
        }
        Cow::Owned(text)
    }

    /// The pointer in the original document of a node of the rewritten one.
    pub(crate) fn original<'a>(&self, pointer: &'a str) -> Cow<'a, str> {
        if self.by_new.is_empty() {
            return Cow::Borrowed(pointer);
        }
        let mut end = pointer.len();
        loop {
            if let Some(old) = self.by_new.get(&pointer[..end]) {
                return Cow::Owned(format!("{old}{}", &pointer[end..]));
            }
            match pointer[..end].rfind('/') {
                Some(slash) if end > 0 => end = slash,
                _ => return Cow::Borrowed(pointer),
            }
        }
    }
}

/// A 2.0 document as 3.0, the map back, and what could not be carried over
/// (pointer in the original, message).
pub(super) struct Upgraded {
    pub(super) root: Value,
    pub(super) origins: Origins,
    pub(super) warnings: Vec<(String, String)>,
}

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Schema keywords a 2.0 non-body parameter (or header, or `items`) carries
/// beside its own fields; they become the 3.0 parameter's `schema`.
const SCHEMA_KEYS: [&str; 17] = [
    "type",
    "format",
    "items",
    "enum",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
];

/// Rewrites the root document of a Swagger 2.0 spec.
pub(super) fn upgrade(doc: &Map<String, Value>) -> Upgraded {
    let mut cx = Upgrade {
        doc,
        origins: Origins::rewritten(),
        warnings: Vec::new(),
    };
    let root = cx.root();
    Upgraded {
        root,
        origins: cx.origins,
        warnings: cx.warnings,
    }
}

/// Rewrites a file a 2.0 spec's `$ref`s reach: its `definitions` (and
/// `parameters`, `responses`) move to `components` as in the root, refs are
/// rewritten, and schema spellings of 2.0 anywhere in it become 3.0's.
pub(super) fn upgrade_fragment(root: Value) -> (Value, Origins) {
    let mut origins = Origins::rewritten();
    let Value::Object(mut map) = root else {
        let mut value = root;
        rewrite_refs(&mut value);
        fix_schema_spellings(&mut value);
        return (value, origins);
    };
    let mut components = Map::new();
    for (old, new) in [
        ("definitions", "schemas"),
        ("parameters", "parameters"),
        ("responses", "responses"),
    ] {
        if let Some(section) = map.remove(old) {
            origins.record(&format!("/components/{new}"), &format!("/{old}"));
            components.insert(new.to_owned(), section);
        }
    }
    if !components.is_empty() {
        map.insert("components".to_owned(), Value::Object(components));
    }
    let mut value = Value::Object(map);
    rewrite_refs(&mut value);
    fix_schema_spellings(&mut value);
    (value, origins)
}

/// A parameter as listed: where it was written, the `$ref` if it was one,
/// and the parameter object (followed through the ref; `None` for a ref
/// this file cannot follow, or a parameter that is not an object).
struct Written<'p> {
    old: String,
    reference: Option<&'p str>,
    source: Option<&'p Map<String, Value>>,
}

struct Upgrade<'a> {
    doc: &'a Map<String, Value>,
    origins: Origins,
    warnings: Vec<(String, String)>,
}

impl<'a> Upgrade<'a> {
    fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        self.warnings.push((pointer.to_owned(), message.into()));
    }

    fn root(&mut self) -> Value {
        let mut out = Map::new();
        out.insert("openapi".to_owned(), json!("3.0.3"));
        for (key, value) in self.doc {
            let carried = matches!(key.as_str(), "info" | "tags" | "externalDocs" | "security")
                || key.starts_with("x-");
            if carried {
                out.insert(key.clone(), value.clone());
            }
        }
        if let Some(servers) = self.servers() {
            out.insert("servers".to_owned(), servers);
        }
        let components = self.components();
        if !components.is_empty() {
            out.insert("components".to_owned(), Value::Object(components));
        }
        let mut paths = Map::new();
        if let Some(Value::Object(items)) = self.doc.get("paths") {
            for (path, item) in items {
                let at = push_segment("/paths", path);
                paths.insert(path.clone(), self.path_item(&at, item));
            }
        }
        out.insert("paths".to_owned(), Value::Object(paths));
        let mut root = Value::Object(out);
        rewrite_refs(&mut root);
        root
    }

    /// `scheme://host/basePath`, https preferred; without a host the base
    /// path alone (relative to wherever the caller points the client).
    fn servers(&self) -> Option<Value> {
        let host = self.doc.get("host").and_then(Value::as_str);
        let base = self
            .doc
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("");
        let base = base.trim_end_matches('/');
        let url = match host {
            Some(host) => {
                let schemes: Vec<&str> = self
                    .doc
                    .get("schemes")
                    .and_then(Value::as_array)
                    .map(|s| s.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let scheme = if schemes.is_empty() || schemes.contains(&"https") {
                    "https"
                } else {
                    schemes[0]
                };
                format!("{scheme}://{host}{base}")
            }
            None if base.is_empty() => return None,
            None => base.to_owned(),
        };
        Some(json!([{ "url": url }]))
    }

    fn components(&mut self) -> Map<String, Value> {
        let mut components = Map::new();
        if let Some(Value::Object(defs)) = self.doc.get("definitions") {
            let mut schemas = Map::new();
            for (name, schema) in defs {
                schemas.insert(name.clone(), convert_schema(schema));
            }
            self.origins.record("/components/schemas", "/definitions");
            components.insert("schemas".to_owned(), Value::Object(schemas));
        }
        if let Some(Value::Object(params)) = self.doc.get("parameters") {
            let mut out = Map::new();
            for (name, param) in params {
                let old = push_segment("/parameters", name);
                let Some(p) = param.as_object() else { continue };
                // Body and form parameters become part of each operation's
                // request body where they are used.
                if matches!(location_of(p), Some("body" | "formData")) {
                    continue;
                }
                let new = push_segment("/components/parameters", name);
                out.insert(name.clone(), self.parameter(p, &old, &new));
            }
            if !out.is_empty() {
                components.insert("parameters".to_owned(), Value::Object(out));
            }
        }
        if let Some(Value::Object(responses)) = self.doc.get("responses") {
            let produces = media_types(self.doc.get("produces"));
            let mut out = Map::new();
            for (name, response) in responses {
                let old = push_segment("/responses", name);
                let new = push_segment("/components/responses", name);
                out.insert(name.clone(), self.response(response, &produces, &old, &new));
            }
            components.insert("responses".to_owned(), Value::Object(out));
        }
        if let Some(Value::Object(schemes)) = self.doc.get("securityDefinitions") {
            let mut out = Map::new();
            for (name, scheme) in schemes {
                let old = push_segment("/securityDefinitions", name);
                let new = push_segment("/components/securitySchemes", name);
                self.origins.record(&new, &old);
                out.insert(name.clone(), self.security_scheme(scheme, &old));
            }
            components.insert("securitySchemes".to_owned(), Value::Object(out));
        }
        components
    }

    fn security_scheme(&mut self, scheme: &Value, old: &str) -> Value {
        let Some(s) = scheme.as_object() else {
            return scheme.clone();
        };
        let mut out = Map::new();
        if let Some(d) = s.get("description") {
            out.insert("description".to_owned(), d.clone());
        }
        match s.get("type").and_then(Value::as_str) {
            Some("basic") => {
                out.insert("type".to_owned(), json!("http"));
                out.insert("scheme".to_owned(), json!("basic"));
            }
            Some("apiKey") => {
                for key in ["type", "name", "in"] {
                    if let Some(v) = s.get(key) {
                        out.insert(key.to_owned(), v.clone());
                    }
                }
            }
            Some("oauth2") => {
                let flow_name = match s.get("flow").and_then(Value::as_str) {
                    Some("implicit") => "implicit",
                    Some("password") => "password",
                    Some("application") => "clientCredentials",
                    Some("accessCode") => "authorizationCode",
                    other => {
                        self.warn(
                            old,
                            format!("OAuth2 flow {other:?} is not one of Swagger 2.0's (implicit, password, application, accessCode)"),
                        );
                        return scheme.clone();
                    }
                };
                let mut flow = Map::new();
                for key in ["authorizationUrl", "tokenUrl"] {
                    if let Some(v) = s.get(key) {
                        flow.insert(key.to_owned(), v.clone());
                    }
                }
                let scopes = s.get("scopes").cloned().unwrap_or_else(|| json!({}));
                flow.insert("scopes".to_owned(), scopes);
                out.insert("type".to_owned(), json!("oauth2"));
                out.insert("flows".to_owned(), json!({ flow_name: flow }));
            }
            _ => return scheme.clone(),
        }
        for (key, value) in s {
            if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            }
        }
        Value::Object(out)
    }

    fn path_item(&mut self, at: &str, item: &Value) -> Value {
        let Some(item) = item.as_object() else {
            return item.clone();
        };
        let shared = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut out = Map::new();
        for (key, value) in item {
            if METHODS.contains(&key.as_str()) {
                let op_at = push_segment(at, key);
                let op = self.operation(at, &op_at, shared, value);
                out.insert(key.clone(), op);
            } else if key != "parameters" {
                out.insert(key.clone(), value.clone());
            }
        }
        Value::Object(out)
    }

    /// The parameters listed under `at` (a path item or an operation),
    /// each resolved once: a `#/parameters/` ref is followed.
    fn parameters_at<'p>(&self, at: &str, listed: &'p [Value]) -> Vec<Written<'p>>
    where
        'a: 'p,
    {
        let doc = self.doc;
        listed
            .iter()
            .enumerate()
            .map(|(i, written)| {
                let old = format!("{at}/parameters/{i}");
                let p = written.as_object();
                let reference = p.and_then(|p| p.get("$ref")).and_then(Value::as_str);
                let source = match reference {
                    None => p,
                    Some(reference) => reference
                        .strip_prefix("#/parameters/")
                        .map(unescape)
                        .and_then(|name| doc.get("parameters")?.get(name.as_ref())?.as_object()),
                };
                Written {
                    old,
                    reference,
                    source,
                }
            })
            .collect()
    }

    fn operation(&mut self, item_at: &str, at: &str, shared: &[Value], op: &Value) -> Value {
        let Some(op) = op.as_object() else {
            return op.clone();
        };
        let mut out = Map::new();
        for (key, value) in op {
            let dropped = matches!(
                key.as_str(),
                "parameters" | "responses" | "consumes" | "produces" | "schemes"
            );
            if !dropped {
                out.insert(key.clone(), value.clone());
            }
        }
        let own = op
            .get("parameters")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let own = self.parameters_at(at, own);
        // Path-level parameters first, unless the operation redefines them
        // (same name and location).
        let own_keys: Vec<(String, String)> =
            own.iter().filter_map(|w| w.source.map(identity)).collect();
        let mut written: Vec<Written<'_>> = self
            .parameters_at(item_at, shared)
            .into_iter()
            .filter(|w| !w.source.is_some_and(|s| own_keys.contains(&identity(s))))
            .collect();
        written.extend(own);

        // 2.0 honours a `Content-Type` header parameter, 3.0 ignores it: its
        // values are the body's media types.
        let declared = written
            .iter()
            .filter_map(|w| w.source)
            .filter(|p| location_of(p) == Some("header") && is_content_type(p))
            .map(declared_media_types)
            .find(|d| !d.is_empty());
        let consumes = declared.unwrap_or_else(|| {
            media_types(op.get("consumes").or_else(|| self.doc.get("consumes")))
        });
        let mut parameters = Vec::new();
        let mut body: Option<Value> = None;
        let mut form: Vec<(String, String, &Map<String, Value>)> = Vec::new();
        for Written {
            old,
            reference,
            source,
        } in written
        {
            let Some(source) = source else {
                if let Some(r) = reference {
                    // A ref into another file, or to nothing: the lowering
                    // reports what it cannot follow.
                    parameters.push(json!({ "$ref": r }));
                } else {
                    self.warn(&old, "a parameter is not an object; skipped");
                }
                continue;
            };
            match location_of(source) {
                Some("body") => {
                    if body.is_some() {
                        self.warn(
                            &old,
                            "a second `in: body` parameter; only the first is the request body",
                        );
                        continue;
                    }
                    let new = format!("{at}/requestBody");
                    self.origins.record(&new, &old);
                    body = Some(self.body(source, &consumes, &old, &new));
                }
                Some("formData") => {
                    let name = source.get("name").and_then(Value::as_str).unwrap_or("");
                    form.push((old, name.to_owned(), source));
                }
                Some("header") if is_content_type(source) => {}
                _ => {
                    let new = format!("{at}/parameters/{}", parameters.len());
                    match reference {
                        Some(r) => {
                            self.origins.record(&new, &old);
                            parameters.push(json!({ "$ref": r }));
                        }
                        None => parameters.push(self.parameter(source, &old, &new)),
                    }
                }
            }
        }
        if !parameters.is_empty() {
            out.insert("parameters".to_owned(), Value::Array(parameters));
        }
        if !form.is_empty() {
            if body.is_some() {
                self.warn(
                    at,
                    "both `in: body` and `in: formData` parameters; the form fields are dropped",
                );
            } else {
                body = Some(self.form_body(at, form, &consumes));
            }
        }
        if let Some(body) = body {
            out.insert("requestBody".to_owned(), body);
        }

        let produces = media_types(op.get("produces").or_else(|| self.doc.get("produces")));
        let mut responses = Map::new();
        if let Some(Value::Object(written)) = op.get("responses") {
            for (code, response) in written {
                let r_at = push_segment(&format!("{at}/responses"), code);
                responses.insert(
                    code.clone(),
                    self.response(response, &produces, &r_at, &r_at),
                );
            }
        }
        out.insert("responses".to_owned(), Value::Object(responses));
        Value::Object(out)
    }

    /// A query, path, header or cookie parameter: its schema keywords move
    /// into `schema`, `collectionFormat` becomes `style` and `explode`.
    fn parameter(&mut self, p: &Map<String, Value>, old: &str, new: &str) -> Value {
        self.origins.record(new, old);
        let (schema, mut out) = split_schema(p);
        let is_array = p.get("type").and_then(Value::as_str) == Some("array");
        if is_array {
            let format = p.get("collectionFormat").and_then(Value::as_str);
            let location = location_of(p).unwrap_or("query");
            match style_of(format, location) {
                Ok(Some((style, explode))) => {
                    out.insert("style".to_owned(), json!(style));
                    out.insert("explode".to_owned(), json!(explode));
                }
                Ok(None) => {}
                Err(message) => self.warn(old, message),
            }
        }
        // The schema's own origin is the parameter itself.
        self.origins.record(&format!("{new}/schema"), old);
        out.insert("schema".to_owned(), convert_schema(&Value::Object(schema)));
        Value::Object(out)
    }

    fn body(&mut self, p: &Map<String, Value>, consumes: &[String], old: &str, new: &str) -> Value {
        let schema = p
            .get("schema")
            .map(convert_schema)
            .unwrap_or_else(|| json!({}));
        let mut content = Map::new();
        for media in consumes {
            let at = push_segment(&format!("{new}/content"), media);
            self.origins
                .record(&format!("{at}/schema"), &format!("{old}/schema"));
            content.insert(media.clone(), json!({ "schema": schema }));
        }
        let mut out = Map::new();
        if let Some(d) = p.get("description") {
            out.insert("description".to_owned(), d.clone());
        }
        out.insert(
            "required".to_owned(),
            json!(p.get("required").and_then(Value::as_bool).unwrap_or(false)),
        );
        out.insert("content".to_owned(), Value::Object(content));
        Value::Object(out)
    }

    /// `formData` parameters as one object schema: multipart when a field is
    /// a file or the operation consumes only multipart, else URL-encoded.
    fn form_body(
        &mut self,
        at: &str,
        form: Vec<(String, String, &Map<String, Value>)>,
        consumes: &[String],
    ) -> Value {
        let has_file = form
            .iter()
            .any(|(_, _, p)| p.get("type").and_then(Value::as_str) == Some("file"));
        let urlencoded = "application/x-www-form-urlencoded";
        let media = if has_file
            || !consumes.iter().any(|m| m == urlencoded)
                && consumes.iter().any(|m| m.starts_with("multipart/"))
        {
            "multipart/form-data"
        } else {
            urlencoded
        };
        let schema_at = push_segment(&format!("{at}/requestBody/content"), media) + "/schema";
        // The form as a whole was written as the operation's parameters.
        self.origins
            .record(&format!("{at}/requestBody"), &format!("{at}/parameters"));
        self.origins.record(&schema_at, &format!("{at}/parameters"));
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut encoding = Map::new();
        for (old, name, p) in form {
            let (mut schema, _) = split_schema(p);
            if let Some(d) = p.get("description") {
                schema.insert("description".to_owned(), d.clone());
            }
            if p.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(json!(name));
            }
            if p.get("type").and_then(Value::as_str) == Some("array") {
                let format = p.get("collectionFormat").and_then(Value::as_str);
                match style_of(format, "query") {
                    Ok(Some((style, explode))) => {
                        encoding
                            .insert(name.clone(), json!({ "style": style, "explode": explode }));
                    }
                    Ok(None) => {}
                    Err(message) => self.warn(&old, message),
                }
            }
            self.origins.record(
                &push_segment(&format!("{schema_at}/properties"), &name),
                &old,
            );
            properties.insert(name, convert_schema(&Value::Object(schema)));
        }
        // A form body is required when any of its fields is.
        let body_required = !required.is_empty();
        let mut schema = json!({ "type": "object", "properties": properties });
        if body_required {
            schema["required"] = Value::Array(required);
        }
        let mut media_type = json!({ "schema": schema });
        if !encoding.is_empty() {
            media_type["encoding"] = Value::Object(encoding);
        }
        json!({ "required": body_required, "content": { media: media_type } })
    }

    fn response(&mut self, response: &Value, produces: &[String], old: &str, new: &str) -> Value {
        let Some(r) = response.as_object() else {
            return response.clone();
        };
        if r.contains_key("$ref") {
            return response.clone();
        }
        self.origins.record(new, old);
        let mut out = Map::new();
        for (key, value) in r {
            match key.as_str() {
                "schema" | "examples" => {}
                "headers" => {
                    let mut headers = Map::new();
                    for (name, header) in value.as_object().into_iter().flatten() {
                        headers.insert(name.clone(), header_of(header));
                    }
                    out.insert(key.clone(), Value::Object(headers));
                }
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        if !out.contains_key("description") {
            out.insert("description".to_owned(), json!(""));
        }
        if let Some(schema) = r.get("schema") {
            let schema = convert_schema(schema);
            let mut content = Map::new();
            for media in produces {
                let at = push_segment(&format!("{new}/content"), media);
                self.origins
                    .record(&format!("{at}/schema"), &format!("{old}/schema"));
                content.insert(media.clone(), json!({ "schema": schema }));
            }
            out.insert("content".to_owned(), Value::Object(content));
        }
        Value::Object(out)
    }
}

fn location_of(p: &Map<String, Value>) -> Option<&str> {
    p.get("in").and_then(Value::as_str)
}

fn is_content_type(p: &Map<String, Value>) -> bool {
    p.get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| n.eq_ignore_ascii_case("content-type"))
}

/// The media types a `Content-Type` header parameter allows: its `enum`,
/// else its `default`.
fn declared_media_types(p: &Map<String, Value>) -> Vec<String> {
    let listed = strings(p.get("enum"));
    if !listed.is_empty() {
        return listed;
    }
    p.get("default")
        .and_then(Value::as_str)
        .map(|d| vec![d.to_owned()])
        .unwrap_or_default()
}

/// What makes two parameters the same one: name and location.
fn identity(p: &Map<String, Value>) -> (String, String) {
    let get = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    (get("name"), get("in"))
}

/// The 3.0 `style` and `explode` of a 2.0 `collectionFormat` (`None`: the
/// location's default already is that).
fn style_of(format: Option<&str>, location: &str) -> Result<Option<(&'static str, bool)>, String> {
    let query_like = matches!(location, "query" | "formData");
    match (format.unwrap_or("csv"), query_like) {
        ("csv", true) => Ok(Some(("form", false))),
        ("csv", false) => Ok(None),
        ("multi", true) => Ok(Some(("form", true))),
        ("ssv", true) => Ok(Some(("spaceDelimited", false))),
        ("pipes", true) => Ok(Some(("pipeDelimited", false))),
        (other, _) => Err(format!(
            "collectionFormat {other:?} has no OpenAPI 3 style in {location}; sent comma-separated"
        )),
    }
}

/// A 2.0 parameter or header split into its schema keywords and the rest
/// (without `collectionFormat`, which becomes a style).
fn split_schema(p: &Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    let mut schema = Map::new();
    let mut rest = Map::new();
    for (key, value) in p {
        if SCHEMA_KEYS.contains(&key.as_str()) {
            schema.insert(key.clone(), value.clone());
        } else if key != "collectionFormat" {
            rest.insert(key.clone(), value.clone());
        }
    }
    (schema, rest)
}

/// A 2.0 response header: schema keywords move into `schema`.
fn header_of(header: &Value) -> Value {
    let Some(h) = header.as_object() else {
        return header.clone();
    };
    let (schema, mut out) = split_schema(h);
    out.insert("schema".to_owned(), convert_schema(&Value::Object(schema)));
    Value::Object(out)
}

/// The strings of a JSON array (none when it is not one).
fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `consumes`/`produces` as a list; JSON when the document names none.
fn media_types(value: Option<&Value>) -> Vec<String> {
    let listed = strings(value);
    if listed.is_empty() {
        vec!["application/json".to_owned()]
    } else {
        listed
    }
}

/// A 2.0 schema in 3.0 spelling (see [`fix_schema_spellings`]).
fn convert_schema(schema: &Value) -> Value {
    let mut out = schema.clone();
    fix_schema_spellings(&mut out);
    out
}

/// `x-nullable` → `nullable`, `type: file` → a binary string, a string
/// `discriminator` → `{propertyName}`, anywhere below `value`.
fn fix_schema_spellings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(nullable) = map.remove("x-nullable") {
                map.entry("nullable").or_insert(nullable);
            }
            if map.get("type").and_then(Value::as_str) == Some("file") {
                map.insert("type".to_owned(), json!("string"));
                map.insert("format".to_owned(), json!("binary"));
            }
            if let Some(Value::String(property)) = map.get("discriminator") {
                let property = property.clone();
                map.insert(
                    "discriminator".to_owned(),
                    json!({ "propertyName": property }),
                );
            }
            for child in map.values_mut() {
                fix_schema_spellings(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fix_schema_spellings),
        _ => {}
    }
}

/// `#/definitions/X` → `#/components/schemas/X` (and parameters,
/// responses), in this file or another.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(rewritten) = rewritten_ref(r) {
                    *r = rewritten;
                }
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// Where 2.0 keeps reusable parts, and where 3.0 does under `components`.
const REF_PREFIXES: [(&str, &str); 3] = [
    ("/definitions/", "/schemas/"),
    ("/parameters/", "/parameters/"),
    ("/responses/", "/responses/"),
];

fn rewritten_ref(reference: &str) -> Option<String> {
    let (file, fragment) = reference.split_once('#')?;
    REF_PREFIXES.iter().find_map(|(old, new)| {
        let rest = fragment.strip_prefix(old)?;
        Some(format!("{file}#/components{new}{rest}"))
    })
}

fn unescape(segment: &str) -> Cow<'_, str> {
    if segment.contains('~') {
        Cow::Owned(segment.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(segment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgraded(doc: Value) -> Upgraded {
        let Value::Object(map) = doc else {
            panic!("test documents are objects")
        };
        upgrade(&map)
    }

    #[test]
    fn origins_map_by_longest_prefix() {
        let mut o = Origins::rewritten();
        o.record("/components/schemas", "/definitions");
        o.record(
            "/paths/~1a/post/requestBody",
            "/paths/~1a/post/parameters/1",
        );
        assert_eq!(
            o.original("/components/schemas/Pet/properties/x"),
            "/definitions/Pet/properties/x"
        );
        assert_eq!(o.original("/components/schemasX"), "/components/schemasX");
        assert_eq!(
            o.original("/paths/~1a/post/requestBody/content"),
            "/paths/~1a/post/parameters/1/content"
        );
        assert_eq!(o.original("/info"), "/info");
        assert_eq!(o.original(""), "");
        assert_eq!(
            o.original_message("$ref \"#/components/schemas/Nowhere\" points to nothing"),
            "$ref \"#/definitions/Nowhere\" points to nothing"
        );
        assert_eq!(
            Origins::default().original_message("#/components/schemas/X"),
            "#/components/schemas/X"
        );
    }

    #[test]
    fn servers_definitions_and_security() {
        let up = upgraded(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "host": "api.example.com", "basePath": "/v2/", "schemes": ["http", "https"],
            "definitions": {"Pet": {"type": "object", "x-nullable": true,
                "properties": {"kind": {"type": "string"}, "owner": {"$ref": "#/definitions/Owner"}},
                "discriminator": "kind"}},
            "securityDefinitions": {
                "oauth": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a", "tokenUrl": "https://t", "scopes": {"read": "r"}},
                "app": {"type": "oauth2", "flow": "application", "tokenUrl": "https://t", "scopes": {}},
                "basic": {"type": "basic"},
                "key": {"type": "apiKey", "name": "X-Key", "in": "header"}
            },
            "paths": {}
        }));
        let r = &up.root;
        assert_eq!(r["openapi"], "3.0.3");
        assert_eq!(r["servers"][0]["url"], "https://api.example.com/v2");
        let pet = &r["components"]["schemas"]["Pet"];
        assert_eq!(pet["nullable"], true);
        assert!(pet.get("x-nullable").is_none());
        assert_eq!(pet["discriminator"]["propertyName"], "kind");
        assert_eq!(
            pet["properties"]["owner"]["$ref"],
            "#/components/schemas/Owner"
        );
        let s = &r["components"]["securitySchemes"];
        assert_eq!(
            s["oauth"]["flows"]["authorizationCode"]["tokenUrl"],
            "https://t"
        );
        assert_eq!(
            s["oauth"]["flows"]["authorizationCode"]["scopes"]["read"],
            "r"
        );
        assert_eq!(
            s["app"]["flows"]["clientCredentials"]["tokenUrl"],
            "https://t"
        );
        assert_eq!(s["basic"], json!({"type": "http", "scheme": "basic"}));
        assert_eq!(
            s["key"],
            json!({"type": "apiKey", "name": "X-Key", "in": "header"})
        );
        assert_eq!(
            up.origins.original("/components/securitySchemes/basic"),
            "/securityDefinitions/basic"
        );
    }

    #[test]
    fn parameters_bodies_forms_and_responses() {
        let up = upgraded(json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "consumes": ["application/json"],
            "produces": ["application/json"],
            "parameters": {
                "limit": {"name": "limit", "in": "query", "type": "integer"},
                "pet": {"name": "pet", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Pet"}}
            },
            "paths": {"/pets/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "type": "string"},
                    {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"}
                ],
                "put": {
                    "operationId": "putPet",
                    "parameters": [
                        {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "pipes"},
                        {"$ref": "#/parameters/limit"},
                        {"$ref": "#/parameters/pet"}
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"},
                                "headers": {"X-Rate": {"type": "integer"}}},
                        "204": {"description": "none"}
                    }
                },
                "patch": {
                    "operationId": "putArchive",
                    "consumes": ["application/octet-stream"],
                    "parameters": [
                        {"name": "archive", "in": "body", "schema": {"type": "string", "format": "binary"}},
                        {"name": "Content-type", "in": "header", "type": "string", "enum": ["application/x-tar"]}
                    ],
                    "responses": {"204": {"description": "ok"}}
                },
                "post": {
                    "operationId": "upload",
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"name": "file", "in": "formData", "type": "file", "required": true},
                        {"name": "names", "in": "formData", "type": "array", "items": {"type": "string"}, "collectionFormat": "tsv"}
                    ],
                    "responses": {"default": {"description": "err", "schema": {"type": "file"}}}
                }
            }}
        }));
        let put = &up.root["paths"]["/pets/{id}"]["put"];
        let params = put["parameters"].as_array().cloned().unwrap_or_default();
        assert_eq!(params.len(), 3, "{params:?}");
        assert_eq!(params[0]["name"], "id");
        assert_eq!(params[0]["schema"]["type"], "string");
        // The operation's own `tags` replaces the path-level one.
        assert_eq!(params[1]["name"], "tags");
        assert_eq!(params[1]["style"], "pipeDelimited");
        assert_eq!(params[2]["$ref"], "#/components/parameters/limit");
        assert_eq!(
            put["requestBody"],
            json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}})
        );
        assert_eq!(
            put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Pet"
        );
        assert_eq!(
            put["responses"]["200"]["headers"]["X-Rate"]["schema"]["type"],
            "integer"
        );
        assert!(put["responses"]["204"].get("content").is_none());
        assert_eq!(
            up.root["components"]["parameters"]["limit"]["schema"]["type"],
            "integer"
        );
        assert!(up.root["components"]["parameters"].get("pet").is_none());

        // A `Content-Type` header parameter names the body's media type.
        let patch = &up.root["paths"]["/pets/{id}"]["patch"];
        let content = patch["requestBody"]["content"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(content.keys().collect::<Vec<_>>(), ["application/x-tar"]);
        assert!(patch["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p["name"] != "Content-type")));

        let post = &up.root["paths"]["/pets/{id}"]["post"];
        let form = &post["requestBody"]["content"]["multipart/form-data"];
        assert_eq!(post["requestBody"]["required"], true);
        assert_eq!(
            form["schema"]["properties"]["file"],
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(form["schema"]["required"], json!(["file"]));
        assert_eq!(
            post["responses"]["default"]["content"]["application/json"]["schema"]["format"],
            "binary"
        );
        // Path-level `tags` (multi) applies to post, which does not redefine it.
        assert_eq!(post["parameters"][1]["explode"], true);

        // Diagnostics map back to what was written.
        assert_eq!(
            up.origins
                .original("/paths/~1pets~1{id}/put/requestBody/content/application~1json/schema"),
            "/paths/~1pets~1{id}/put/parameters/2/schema"
        );
        assert_eq!(
            up.origins
                .original("/paths/~1pets~1{id}/put/parameters/0/schema"),
            "/paths/~1pets~1{id}/parameters/0"
        );
        assert_eq!(
            up.origins.original("/paths/~1pets~1{id}/post/requestBody/content/multipart~1form-data/schema/properties/file"),
            "/paths/~1pets~1{id}/post/parameters/0"
        );
        assert_eq!(
            up.origins.original(
                "/paths/~1pets~1{id}/put/responses/200/content/application~1json/schema/properties"
            ),
            "/paths/~1pets~1{id}/put/responses/200/schema/properties"
        );
        assert_eq!(
            up.origins.original(
                "/paths/~1pets~1{id}/post/requestBody/content/multipart~1form-data/schema"
            ),
            "/paths/~1pets~1{id}/post/parameters"
        );
        assert_eq!(up.warnings.len(), 1, "{:?}", up.warnings);
        assert_eq!(up.warnings[0].0, "/paths/~1pets~1{id}/post/parameters/1");
        assert!(up.warnings[0].1.contains("tsv"));
    }

    #[test]
    fn fragments_move_definitions_and_rewrite_refs() {
        let (doc, origins) = upgrade_fragment(json!({
            "definitions": {"A": {"x-nullable": true, "items": {"$ref": "other.yaml#/definitions/B"}}}
        }));
        assert_eq!(doc["components"]["schemas"]["A"]["nullable"], true);
        assert_eq!(
            doc["components"]["schemas"]["A"]["items"]["$ref"],
            "other.yaml#/components/schemas/B"
        );
        assert_eq!(origins.original("/components/schemas/A"), "/definitions/A");
    }
}
