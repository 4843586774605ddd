//! Operations: what each `paths` entry does, for the runtime and for policy
//! checks: method, path template, tags, whether it takes an idempotency key,
//! and its security requirements with scopes. (Typed methods come next.)

use crate::diagnostic::{Diagnostic, Severity};
use crate::load::{Location, Spec};
use crate::naming::Scope;
use heck::ToShoutySnakeCase;
use serde_json::{Map, Value};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Rust constant name (unique).
    pub const_name: String,
    /// The name the runtime reports: the `operationId`, or `METHOD path`.
    pub name: String,
    /// Lower-case HTTP method.
    pub method: String,
    pub path: String,
    pub summary: Option<String>,
    pub tags: Vec<String>,
    pub accepts_idempotency_key: bool,
    /// Alternatives; each a list of (scheme, scopes).
    pub security: Vec<Vec<(String, Vec<String>)>>,
    /// `file#/pointer` of the operation.
    pub origin: String,
}

/// Every operation, in document order.
pub fn lower_operations(spec: &Spec, diags: &mut Vec<Diagnostic>) -> Vec<Operation> {
    let root = Location::root(0);
    let Some(doc) = spec.get(&root).and_then(Value::as_object) else {
        return Vec::new();
    };
    let default_security = doc.get("security");
    let paths_at = root.child("paths");
    let paths = match doc.get("paths") {
        Some(Value::Object(p)) => p,
        Some(_) => {
            diags.push(spec.diag(
                &paths_at,
                Severity::Warning,
                "`paths` is not an object; ignored".into(),
            ));
            return Vec::new();
        }
        None => return Vec::new(),
    };
    let mut names = Scope::new();
    names.reserve("ALL");
    let mut seen_ids: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (path, item) in paths {
        let item_at = paths_at.child(path);
        let Some(item) = resolve_item(spec, &item_at, item, diags) else {
            continue;
        };
        let shared_params = item.get("parameters");
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let op_at = item_at.child(method);
            let Some(op) = op.as_object() else {
                diags.push(spec.diag(
                    &op_at,
                    Severity::Warning,
                    "operation is not an object; skipped".into(),
                ));
                continue;
            };
            let operation_id = op
                .get("operationId")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty());
            let name = match operation_id {
                Some(id) => {
                    if seen_ids.iter().any(|s| s == id) {
                        diags.push(spec.diag(
                            &op_at.child("operationId"),
                            Severity::Warning,
                            format!("operationId {id:?} is used by another operation; this one gets a suffix"),
                        ));
                    }
                    seen_ids.push(id.to_owned());
                    id.to_owned()
                }
                None => {
                    diags.push(spec.diag(
                        &op_at,
                        Severity::Warning,
                        format!(
                            "no operationId; named from method and path ({} {path})",
                            method.to_uppercase()
                        ),
                    ));
                    format!("{} {path}", method.to_uppercase())
                }
            };
            let (const_name, _) = names.claim(&const_name(&name));
            out.push(Operation {
                const_name,
                name,
                method: (*method).to_owned(),
                path: path.clone(),
                summary: op.get("summary").and_then(Value::as_str).map(str::to_owned),
                tags: op
                    .get("tags")
                    .and_then(Value::as_array)
                    .map(|t| {
                        t.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                accepts_idempotency_key: takes_idempotency_key(spec, &op_at, op, shared_params),
                security: security(spec, &op_at, op.get("security").or(default_security), diags),
                origin: format!("{}#{}", spec.docs[op_at.doc].name, op_at.pointer),
            });
        }
    }
    out
}

/// A path item, following a `$ref` if it has one.
fn resolve_item<'s>(
    spec: &'s Spec,
    at: &Location,
    item: &'s Value,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'s Map<String, Value>> {
    let item = item.as_object().or_else(|| {
        diags.push(spec.diag(
            at,
            Severity::Warning,
            "path item is not an object; skipped".into(),
        ));
        None
    })?;
    match item.get("$ref").and_then(Value::as_str) {
        None => Some(item),
        Some(reference) => match spec.resolve(at, reference).ok().and_then(|t| spec.get(&t)) {
            Some(Value::Object(target)) => Some(target),
            _ => {
                diags.push(spec.diag(
                    at,
                    Severity::Warning,
                    format!("path item $ref {reference:?} does not resolve; skipped"),
                ));
                None
            }
        },
    }
}

/// `SCREAMING_SNAKE` constant name; never empty or digit-led.
fn const_name(raw: &str) -> String {
    let words: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let mut name = words.to_shouty_snake_case();
    if name.is_empty() {
        name.push_str("OPERATION");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "OP_");
    }
    name
}

/// Whether a header parameter carries an idempotency key.
fn takes_idempotency_key(
    spec: &Spec,
    at: &Location,
    op: &Map<String, Value>,
    shared: Option<&Value>,
) -> bool {
    let own = op.get("parameters").and_then(Value::as_array);
    let shared = shared.and_then(Value::as_array);
    own.into_iter().chain(shared).flatten().any(|p| {
        let p = match p.get("$ref").and_then(Value::as_str) {
            Some(r) => match spec.resolve(at, r).ok().and_then(|t| spec.get(&t)) {
                Some(target) => target,
                None => return false,
            },
            None => p,
        };
        let is_header = p.get("in").and_then(Value::as_str) == Some("header");
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        is_header && name.replace(['-', '_'], "") == "idempotencykey"
    })
}

/// Security requirements (`security: []` means none; absent means the
/// document default, already chosen by the caller).
fn security(
    spec: &Spec,
    at: &Location,
    value: Option<&Value>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Vec<(String, Vec<String>)>> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Some(alternatives) = value.as_array() else {
        diags.push(spec.diag(
            at,
            Severity::Warning,
            "`security` is not an array; treated as none".into(),
        ));
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
                    (scheme.clone(), scopes)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_names() {
        assert_eq!(super::const_name("repos/get-by-id"), "REPOS_GET_BY_ID");
        assert_eq!(super::const_name("GET /a/{b}"), "GET_A_B");
        assert_eq!(super::const_name("2fa"), "OP_2FA");
        assert_eq!(super::const_name("日本"), "OPERATION");
    }
}
