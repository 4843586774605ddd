//! [`ApiInfo`]: what the client's docs and default base URL come from
//! (`info` and the first server of the document).

use crate::load::{Location, Spec};
use serde_json::Value;

/// The API's title and version, and its first server's URL with every
/// server variable at its default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiInfo {
    pub title: String,
    pub version: String,
    pub base_url: String,
}

/// Reads [`ApiInfo`] from the root document.
pub(crate) fn lower_api_info(spec: &Spec) -> ApiInfo {
    let doc = spec.get(&Location::root(0));
    let info = doc.and_then(|d| d.get("info"));
    let field = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let server = doc
        .and_then(|d| d.get("servers"))
        .and_then(Value::as_array)
        .and_then(|s| s.first());
    let mut base_url = server
        .and_then(|s| s.get("url"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(vars) = server
        .and_then(|s| s.get("variables"))
        .and_then(Value::as_object)
    {
        for (name, var) in vars {
            if let Some(default) = var.get("default").and_then(Value::as_str) {
                base_url = base_url.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    ApiInfo {
        title: field("title"),
        version: field("version"),
        base_url,
    }
}
