//! Provider profiles: the quirks of real token endpoints, as data, and the
//! one parser that reads every token response through them.
//!
//! Quirks covered: scope separators (space, comma, plus); `expires_in` as a
//! number, a string, a float, or missing (a default lifetime), or an
//! absolute `expires_at`; token errors returned with HTTP 200 (GitHub's
//! `error`, Slack's `ok: false`); tokens nested in the response (Slack's
//! `authed_user.access_token`); form-encoded token responses; refresh
//! responses without a new refresh token (the old one is kept); missing
//! `scope` (the requested scopes were granted); a missing or lower-case
//! `token_type`; client authentication by Basic or in the body; JSON token
//! requests; extra authorization parameters to get refresh tokens.

use super::token::TokenSet;
use secrecy::SecretString;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, SystemTime};

/// How scopes are joined in requests and split in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeSeparator {
    Space,
    Comma,
    Plus,
}

impl ScopeSeparator {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeSeparator::Space => " ",
            ScopeSeparator::Comma => ",",
            ScopeSeparator::Plus => "+",
        }
    }

    pub fn join<'a>(self, scopes: impl IntoIterator<Item = &'a str>) -> String {
        scopes.into_iter().collect::<Vec<_>>().join(self.as_str())
    }

    /// Splits a granted-scope string on any of the three separators
    /// (providers are not always consistent with themselves).
    pub fn split(self, text: &str) -> BTreeSet<String> {
        text.split([' ', ',', '+'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic` (RFC 6749 §2.3.1, the default).
    Basic,
    /// `client_id` and `client_secret` in the request body.
    Body,
}

/// A provider's token-endpoint behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderProfile {
    pub name: String,
    pub scope_separator: ScopeSeparator,
    pub client_auth: ClientAuth,
    /// Send token requests as JSON instead of a form.
    pub json_requests: bool,
    /// Lifetime assumed when a response has no `expires_in`/`expires_at`
    /// (`None`: the token does not expire until revoked).
    pub default_lifetime: Option<Duration>,
    /// Errors may come with HTTP 200 (`error` field, or `ok: false`).
    pub errors_with_200: bool,
    /// Where the tokens are, when not at the top (e.g. `["authed_user"]`).
    pub token_path: Vec<String>,
    /// Extra authorization-request parameters (e.g. `access_type=offline`,
    /// `prompt=consent`) that some providers need to issue refresh tokens.
    pub authorize_params: Vec<(String, String)>,
    /// Scopes added to every authorization request (e.g. `offline_access`).
    pub extra_scopes: Vec<String>,
}

impl Default for ProviderProfile {
    /// RFC 6749 as written.
    fn default() -> Self {
        ProviderProfile {
            name: "standard".into(),
            scope_separator: ScopeSeparator::Space,
            client_auth: ClientAuth::Basic,
            json_requests: false,
            default_lifetime: None,
            errors_with_200: false,
            token_path: Vec::new(),
            authorize_params: Vec::new(),
            extra_scopes: Vec::new(),
        }
    }
}

impl ProviderProfile {
    /// GitHub OAuth apps: comma-separated scopes, errors with 200, tokens
    /// without expiry unless expiring tokens are turned on.
    pub fn github() -> Self {
        ProviderProfile {
            name: "github".into(),
            scope_separator: ScopeSeparator::Comma,
            client_auth: ClientAuth::Body,
            errors_with_200: true,
            ..ProviderProfile::default()
        }
    }

    /// Slack v2: comma scopes, `ok: false` errors with 200, user tokens
    /// under `authed_user`.
    pub fn slack_user() -> Self {
        ProviderProfile {
            name: "slack".into(),
            scope_separator: ScopeSeparator::Comma,
            client_auth: ClientAuth::Body,
            errors_with_200: true,
            token_path: vec!["authed_user".into()],
            ..ProviderProfile::default()
        }
    }

    /// Google: refresh tokens only with `access_type=offline` (and
    /// `prompt=consent` to get one again).
    pub fn google() -> Self {
        ProviderProfile {
            name: "google".into(),
            client_auth: ClientAuth::Body,
            authorize_params: vec![
                ("access_type".into(), "offline".into()),
                ("prompt".into(), "consent".into()),
            ],
            ..ProviderProfile::default()
        }
    }

    /// Microsoft identity platform: `offline_access` for refresh tokens.
    pub fn microsoft() -> Self {
        ProviderProfile {
            name: "microsoft".into(),
            client_auth: ClientAuth::Body,
            extra_scopes: vec!["offline_access".into()],
            ..ProviderProfile::default()
        }
    }
}

/// Why a token request failed. Descriptions come from the server; no
/// token, code or secret is ever put here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// `invalid_grant`: the code or refresh token is expired, revoked or
    /// already used. For a refresh this means re-authorization.
    InvalidGrant { description: Option<String> },
    /// Device flow: the user has not finished yet.
    AuthorizationPending,
    /// Device flow: poll more slowly.
    SlowDown,
    /// Another OAuth error (`invalid_client`, `invalid_scope`, ...).
    OAuth {
        code: String,
        description: Option<String>,
        status: u16,
    },
    /// A response that is not a token response.
    Malformed { status: u16, reason: String },
    /// The endpoint could not be reached.
    Transport(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::InvalidGrant { description } => {
                write!(f, "invalid_grant: the grant is no longer valid")?;
                if let Some(d) = description {
                    write!(f, " ({d})")?;
                }
                Ok(())
            }
            TokenError::AuthorizationPending => f.write_str("authorization_pending"),
            TokenError::SlowDown => f.write_str("slow_down"),
            TokenError::OAuth {
                code,
                description,
                status,
            } => {
                write!(f, "token endpoint error {code} (HTTP {status})")?;
                if let Some(d) = description {
                    write!(f, ": {d}")?;
                }
                Ok(())
            }
            TokenError::Malformed { status, reason } => {
                write!(f, "unreadable token response (HTTP {status}): {reason}")
            }
            TokenError::Transport(e) => write!(f, "token endpoint unreachable: {e}"),
        }
    }
}

impl std::error::Error for TokenError {}

impl TokenError {
    /// The error with the server's text made safe to keep: `sent_secrets`
    /// (what the request carried) and anything token-like replaced (see
    /// [`crate::redact::provider_text`]).
    pub fn redacted(self, sent_secrets: &[&str]) -> TokenError {
        let clean = |d: Option<String>| d.map(|d| crate::redact::provider_text(&d, sent_secrets));
        match self {
            TokenError::InvalidGrant { description } => TokenError::InvalidGrant {
                description: clean(description),
            },
            TokenError::OAuth {
                code,
                description,
                status,
            } => TokenError::OAuth {
                code: crate::redact::provider_text(&code, sent_secrets),
                description: clean(description),
                status,
            },
            TokenError::Malformed { status, reason } => TokenError::Malformed {
                status,
                reason: crate::redact::provider_text(&reason, sent_secrets),
            },
            TokenError::Transport(e) => {
                TokenError::Transport(crate::redact::provider_text(&e, sent_secrets))
            }
            other => other,
        }
    }
}

/// What the parser needs besides the response.
#[derive(Debug, Clone, Copy)]
pub struct ResponseContext<'a> {
    pub now: SystemTime,
    /// The scopes asked for (granted when the response does not say).
    pub requested_scopes: &'a [String],
    /// The refresh token in use, kept when a refresh response has none.
    pub previous_refresh: Option<&'a SecretString>,
    /// Every other secret the request carried (a code, a verifier, the
    /// client secret): none of them stays in an error the server wrote.
    pub sent_secrets: &'a [&'a SecretString],
}

/// Reads a token-endpoint response through a profile's quirks.
pub fn parse_token_response(
    profile: &ProviderProfile,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    cx: ResponseContext<'_>,
) -> Result<TokenSet, TokenError> {
    let doc = parse_body(status, content_type, body)?;
    if let Some(error) = error_of(profile, status, &doc) {
        // Servers quote what they were sent in their errors.
        let sent: Vec<&str> = cx
            .previous_refresh
            .into_iter()
            .chain(cx.sent_secrets.iter().copied())
            .map(secrecy::ExposeSecret::expose_secret)
            .collect();
        return Err(error.redacted(&sent));
    }
    if !(200..300).contains(&status) {
        return Err(TokenError::Malformed {
            status,
            reason: "error status without an OAuth error code".into(),
        });
    }
    let mut node = &doc;
    for key in &profile.token_path {
        node = match node.get(key) {
            Some(Value::Object(inner)) => inner,
            _ => {
                return Err(TokenError::Malformed {
                    status,
                    reason: format!("no `{key}` object holding the tokens"),
                })
            }
        };
    }
    let text = |key: &str| match node.get(key).or_else(|| doc.get(key)) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let access = node
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TokenError::Malformed {
            status,
            reason: "no access_token".into(),
        })?;
    let lifetime = match seconds(node.get("expires_in").or_else(|| doc.get("expires_in"))) {
        Some(s) => Some(Duration::from_secs_f64(s.max(0.0))),
        None => match seconds(node.get("expires_at").or_else(|| doc.get("expires_at"))) {
            Some(at) => {
                let now = cx
                    .now
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                Some(Duration::from_secs_f64((at - now).max(0.0)))
            }
            None => profile.default_lifetime,
        },
    };
    let scopes = match text("scope") {
        Some(s) => profile.scope_separator.split(&s),
        None => cx.requested_scopes.iter().cloned().collect(),
    };
    let refresh = text("refresh_token")
        .map(SecretString::from)
        .or_else(|| cx.previous_refresh.cloned());
    Ok(TokenSet {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: refresh,
        id_token: text("id_token").map(SecretString::from),
        token_type: text("token_type").unwrap_or_else(|| "Bearer".into()),
        issued_at: cx.now,
        lifetime,
        scopes,
    })
}

/// The body as a JSON object: JSON, or a form-encoded body (GitHub without
/// `Accept: application/json`).
fn parse_body(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Map<String, Value>, TokenError> {
    let is_form = content_type.is_some_and(|c| c.contains("x-www-form-urlencoded"));
    if !is_form {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => return Ok(map),
            Ok(_) => {
                return Err(TokenError::Malformed {
                    status,
                    reason: "JSON body is not an object".into(),
                })
            }
            Err(_) if looks_like_form(body) => {}
            Err(_) => {
                return Err(TokenError::Malformed {
                    status,
                    reason: format!("body is neither JSON nor a form ({} bytes)", body.len()),
                })
            }
        }
    }
    Ok(url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect())
}

fn looks_like_form(body: &[u8]) -> bool {
    !body.is_empty()
        && body.contains(&b'=')
        && body
            .iter()
            .all(|b| b.is_ascii_graphic() && *b != b'<' && *b != b'{')
}

/// An OAuth error in the body (with any status when the profile allows 200).
fn error_of(
    profile: &ProviderProfile,
    status: u16,
    doc: &Map<String, Value>,
) -> Option<TokenError> {
    let ok_false = doc.get("ok") == Some(&Value::Bool(false));
    let code = doc.get("error").and_then(Value::as_str);
    let applies = !(200..300).contains(&status) || profile.errors_with_200 || ok_false;
    if !applies {
        return None;
    }
    let code = match (code, ok_false) {
        (Some(c), _) => c,
        (None, true) => "unknown_error",
        (None, false) => return None,
    };
    let description = doc
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| d.chars().take(300).collect::<String>());
    Some(match code {
        "invalid_grant" | "bad_verification_code" | "invalid_refresh_token" | "token_revoked" => {
            TokenError::InvalidGrant { description }
        }
        "authorization_pending" => TokenError::AuthorizationPending,
        "slow_down" => TokenError::SlowDown,
        other => TokenError::OAuth {
            code: other.to_owned(),
            description,
            status,
        },
    })
}

/// Seconds from a number, a numeric string, or a float.
fn seconds(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const NOW: u64 = 1_700_000_000;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn parse(profile: &ProviderProfile, status: u16, body: &str) -> Result<TokenSet, TokenError> {
        let requested = vec!["read".to_owned(), "write".to_owned()];
        let old = SecretString::from("OLD-REFRESH".to_owned());
        parse_token_response(
            profile,
            status,
            Some("application/json"),
            body.as_bytes(),
            ResponseContext {
                now: now(),
                requested_scopes: &requested,
                previous_refresh: Some(&old),
                sent_secrets: &[],
            },
        )
    }

    fn scopes(t: &TokenSet) -> Vec<&str> {
        t.scopes.iter().map(String::as_str).collect()
    }

    // Recorded responses, written here in the providers' shapes.

    #[test]
    fn quirk_01_standard_response() {
        let t = parse(&ProviderProfile::default(), 200, r#"{"access_token":"AT","token_type":"Bearer","expires_in":3600,"refresh_token":"RT","scope":"read write"}"#).unwrap();
        assert_eq!(t.access_token.expose_secret(), "AT");
        assert_eq!(t.refresh_token.as_ref().unwrap().expose_secret(), "RT");
        assert_eq!(t.lifetime, Some(Duration::from_secs(3600)));
        assert_eq!(t.refresh_due(0.8), Some(now() + Duration::from_secs(2880)));
        assert_eq!(scopes(&t), ["read", "write"]);
    }

    #[test]
    fn quirk_02_comma_separated_scopes() {
        let t = parse(
            &ProviderProfile::github(),
            200,
            r#"{"access_token":"gho_x","token_type":"bearer","scope":"repo,gist"}"#,
        )
        .unwrap();
        assert_eq!(scopes(&t), ["gist", "repo"]);
    }

    #[test]
    fn quirk_03_plus_separated_scopes() {
        let profile = ProviderProfile {
            scope_separator: ScopeSeparator::Plus,
            ..ProviderProfile::default()
        };
        let t = parse(
            &profile,
            200,
            r#"{"access_token":"a","scope":"email+profile"}"#,
        )
        .unwrap();
        assert_eq!(scopes(&t), ["email", "profile"]);
        assert_eq!(ScopeSeparator::Plus.join(["a", "b"]), "a+b");
    }

    #[test]
    fn quirk_04_expires_in_as_a_string() {
        let t = parse(
            &ProviderProfile::default(),
            200,
            r#"{"access_token":"a","expires_in":"5183999"}"#,
        )
        .unwrap();
        assert_eq!(t.lifetime, Some(Duration::from_secs(5_183_999)));
    }

    #[test]
    fn quirk_05_expires_in_missing_uses_the_profile_default() {
        let standard = parse(&ProviderProfile::default(), 200, r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(
            standard.lifetime, None,
            "no expiry known: not refreshed on a timer"
        );
        let profile = ProviderProfile {
            default_lifetime: Some(Duration::from_secs(7200)),
            ..ProviderProfile::default()
        };
        let t = parse(&profile, 200, r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(t.lifetime, Some(Duration::from_secs(7200)));
    }

    #[test]
    fn quirk_06_github_error_with_http_200() {
        let e = parse(&ProviderProfile::github(), 200, r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs"}"#).unwrap_err();
        assert!(matches!(e, TokenError::InvalidGrant { .. }), "{e:?}");
    }

    #[test]
    fn quirk_07_slack_ok_false_with_http_200() {
        let e = parse(
            &ProviderProfile::slack_user(),
            200,
            r#"{"ok":false,"error":"invalid_code"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            TokenError::OAuth {
                code: "invalid_code".into(),
                description: None,
                status: 200
            }
        );
    }

    #[test]
    fn quirk_08_slack_nested_user_token() {
        let body = r#"{"ok":true,"access_token":"xoxb-bot","token_type":"bot","scope":"commands","authed_user":{"id":"U1","scope":"chat:write,users:read","access_token":"xoxp-user","token_type":"user"}}"#;
        let t = parse(&ProviderProfile::slack_user(), 200, body).unwrap();
        assert_eq!(t.access_token.expose_secret(), "xoxp-user");
        assert_eq!(scopes(&t), ["chat:write", "users:read"]);
    }

    #[test]
    fn quirk_09_refresh_without_a_new_refresh_token_keeps_the_old_one() {
        let t = parse(
            &ProviderProfile::default(),
            200,
            r#"{"access_token":"new","expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!(
            t.refresh_token.as_ref().unwrap().expose_secret(),
            "OLD-REFRESH"
        );
    }

    #[test]
    fn quirk_10_missing_scope_means_the_requested_scopes() {
        let t = parse(
            &ProviderProfile::default(),
            200,
            r#"{"access_token":"a","expires_in":60}"#,
        )
        .unwrap();
        assert_eq!(scopes(&t), ["read", "write"]);
    }

    #[test]
    fn quirk_11_form_encoded_response() {
        let requested = Vec::new();
        let t = parse_token_response(
            &ProviderProfile::github(),
            200,
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"access_token=gho_16C7&scope=repo%2Cgist&token_type=bearer",
            ResponseContext {
                now: now(),
                requested_scopes: &requested,
                previous_refresh: None,
                sent_secrets: &[],
            },
        )
        .unwrap();
        assert_eq!(t.access_token.expose_secret(), "gho_16C7");
        assert_eq!(scopes(&t), ["gist", "repo"]);
        assert!(t.refresh_token.is_none());
    }

    #[test]
    fn quirk_12_float_expires_in_and_absolute_expires_at() {
        let t = parse(
            &ProviderProfile::default(),
            200,
            r#"{"access_token":"a","expires_in":3599.6}"#,
        )
        .unwrap();
        assert_eq!(t.lifetime.map(|l| l.as_millis()), Some(3_599_600));
        let body = format!(r#"{{"access_token":"a","expires_at":{}}}"#, NOW + 900);
        let t = parse(&ProviderProfile::default(), 200, &body).unwrap();
        assert_eq!(t.lifetime, Some(Duration::from_secs(900)));
    }

    #[test]
    fn quirk_13_token_type_missing_or_lower_case_is_bearer() {
        let t = parse(&ProviderProfile::default(), 200, r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(t.authorization().expose_secret(), "Bearer a");
        let t = parse(
            &ProviderProfile::default(),
            200,
            r#"{"access_token":"a","token_type":"bearer"}"#,
        )
        .unwrap();
        assert_eq!(t.authorization().expose_secret(), "Bearer a");
    }

    #[test]
    fn quirk_14_standard_errors_are_typed() {
        let e = parse(
            &ProviderProfile::default(),
            400,
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        )
        .unwrap_err();
        assert!(matches!(
            e,
            TokenError::InvalidGrant {
                description: Some(_)
            }
        ));
        let e = parse(&ProviderProfile::default(), 400, r#"{"error":"slow_down"}"#).unwrap_err();
        assert_eq!(e, TokenError::SlowDown);
        let e = parse(
            &ProviderProfile::default(),
            401,
            r#"{"error":"invalid_client"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(e, TokenError::OAuth { ref code, status: 401, .. } if code == "invalid_client")
        );
    }

    #[test]
    fn quirk_15_html_error_pages_are_malformed_without_echoing_the_body() {
        let e = parse(
            &ProviderProfile::default(),
            502,
            "<html>CANARY gateway</html>",
        )
        .unwrap_err();
        assert!(matches!(e, TokenError::Malformed { status: 502, .. }));
        assert!(!format!("{e} {e:?}").contains("CANARY"));
    }

    #[test]
    fn token_sets_never_show_secrets() {
        let t = parse(
            &ProviderProfile::default(),
            200,
            r#"{"access_token":"CANARY-AT","refresh_token":"CANARY-RT","id_token":"CANARY-ID"}"#,
        )
        .unwrap();
        assert!(!format!("{t:?}").contains("CANARY"));
    }
}
