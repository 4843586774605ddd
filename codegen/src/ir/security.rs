//! Security schemes (`components/securitySchemes`): for OAuth, where each
//! flow's endpoints are and which scopes it defines, so a client can be set
//! up from the spec alone.

use crate::diagnostic::{Diagnostic, Severity};
use crate::load::{Location, Spec};
use crate::naming::Scope;
use heck::ToShoutySnakeCase;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeDef {
    pub const_name: String,
    pub name: String,
    pub kind: String,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub refresh_url: Option<String>,
    pub device_authorization_url: Option<String>,
    pub openid_connect_url: Option<String>,
    pub scopes: Vec<String>,
    /// An `http` scheme's `scheme` (`basic`, `bearer`), lowercased.
    pub http_scheme: Option<String>,
    /// An `apiKey` scheme's `in` (`header`, `query`, `cookie`) and `name`.
    pub key_location: Option<String>,
    pub key_name: Option<String>,
}

impl SchemeDef {
    /// An `oauth2` or `openIdConnect` scheme: its scopes are OAuth scopes
    /// and a token from a login serves it.
    pub fn is_oauth(&self) -> bool {
        self.kind == "oauth2" || self.kind == "openIdConnect"
    }
}

/// Flows in the order their endpoints are preferred.
const FLOWS: &[&str] = &[
    "authorizationCode",
    "deviceAuthorization",
    "clientCredentials",
    "password",
    "implicit",
];

pub fn lower_security_schemes(spec: &Spec, diags: &mut Vec<Diagnostic>) -> Vec<SchemeDef> {
    let at = Location::root(0)
        .child("components")
        .child("securitySchemes");
    let Some(Value::Object(schemes)) = spec.get(&at) else {
        return Vec::new();
    };
    let mut names = Scope::new();
    names.reserve("ALL");
    let mut out = Vec::new();
    for (name, raw) in schemes {
        let here = at.child(name);
        let scheme = match raw.get("$ref").and_then(Value::as_str) {
            Some(r) => spec.resolve(&here, r).ok().and_then(|t| spec.get(&t)),
            None => Some(raw),
        };
        let Some(scheme) = scheme.filter(|s| s.is_object()) else {
            diags.push(spec.diag(
                &here,
                Severity::Warning,
                "security scheme is not an object (or its $ref does not resolve); skipped".into(),
            ));
            continue;
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let flows = scheme.get("flows").and_then(Value::as_object);
        let from_flows = |key: &str| {
            flows.and_then(|f| {
                FLOWS
                    .iter()
                    .find_map(|flow| text(f.get(*flow).and_then(|x| x.get(key))))
            })
        };
        let mut scopes: Vec<String> = Vec::new();
        if let Some(f) = flows {
            for flow in f.values() {
                if let Some(s) = flow.get("scopes").and_then(Value::as_object) {
                    for scope in s.keys() {
                        if !scopes.contains(scope) {
                            scopes.push(scope.clone());
                        }
                    }
                }
            }
        }
        let wanted = {
            let words: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
                .collect();
            let n = words.to_shouty_snake_case();
            if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
                format!("SCHEME_{n}")
            } else {
                n
            }
        };
        out.push(SchemeDef {
            const_name: names.claim(&wanted).0,
            name: name.clone(),
            kind: text(scheme.get("type")).unwrap_or_default(),
            authorization_url: from_flows("authorizationUrl"),
            token_url: from_flows("tokenUrl"),
            refresh_url: from_flows("refreshUrl"),
            device_authorization_url: from_flows("deviceAuthorizationUrl"),
            openid_connect_url: text(scheme.get("openIdConnectUrl")),
            scopes,
            http_scheme: text(scheme.get("scheme")).map(|s| s.to_ascii_lowercase()),
            key_location: text(scheme.get("in")),
            key_name: text(scheme.get("name")),
        });
    }
    out
}
