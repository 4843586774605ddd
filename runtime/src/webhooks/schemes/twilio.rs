//! Twilio: `X-Twilio-Signature: <base64>`, HMAC-SHA1 under the auth token
//! over the full URL followed by each form parameter's name and values,
//! names sorted (values sorted and deduplicated, as Twilio's own library
//! builds it). The URL is tried as given and with its default port added
//! or removed, as Twilio's library does, since proxies rewrite it.
//! JSON bodies (signed through a `bodySHA256` query parameter) are not
//! supported.

use super::{hmac_keys, hmac_sha1, Check, B64};
use crate::webhooks::delivery::Verified;
use crate::webhooks::error::VerifyError;
use crate::webhooks::secret::WebhookSecret;
use base64::Engine as _;
use std::collections::BTreeMap;

const SIGNATURE: &str = "x-twilio-signature";
const IDEMPOTENCY: &str = "i-twilio-idempotency-token";

pub(crate) fn verify(check: &Check<'_>) -> Result<Verified, VerifyError> {
    let url = check.delivery.url.ok_or(VerifyError::MissingContext {
        what: "the full URL Twilio sent the request to",
    })?;
    let signatures = [check.base64_header(SIGNATURE)?];
    let params = sorted_params(check.delivery.body);
    let matched = url_variants(url).iter().any(|candidate| {
        let signed = [candidate.as_bytes(), params.as_bytes()];
        check.any_hmac_matches(hmac_sha1, &signed, &signatures)
    });
    if !matched {
        return Err(VerifyError::NoMatchingSignature);
    }
    Ok(Verified {
        event_id: check.optional_header(IDEMPOTENCY),
        timestamp: None,
    })
}

pub(crate) fn sign(
    secrets: &[WebhookSecret],
    body: &[u8],
    url: Option<&str>,
) -> Result<Vec<(&'static str, String)>, VerifyError> {
    let url = url.ok_or(VerifyError::MissingContext {
        what: "the full URL to sign",
    })?;
    let params = sorted_params(body);
    Ok(hmac_keys(secrets)
        .take(1)
        .map(|key| {
            (
                SIGNATURE,
                B64.encode(hmac_sha1(key, &[url.as_bytes(), params.as_bytes()])),
            )
        })
        .collect())
}

/// The form parameters as Twilio signs them: names sorted, each name's
/// distinct values sorted, `name` then `value` concatenated.
fn sorted_params(body: &[u8]) -> String {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        params
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    let mut out = String::new();
    for (name, mut values) in params {
        values.sort();
        values.dedup();
        for value in values {
            out.push_str(&name);
            out.push_str(&value);
        }
    }
    out
}

/// `url` as given, and with its scheme's default port added (when it has
/// none) or removed (when it names the default one).
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Ok(parsed) = url::Url::parse(url) else {
        return variants;
    };
    // `Url` hides a default port either way; a port it shows is another one,
    // signed as it is.
    let (Some(default), None) = (parsed.port_or_known_default(), parsed.port()) else {
        return variants;
    };
    let Some(scheme_end) = url.find("://") else {
        return variants;
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let port = format!(":{default}");
    let other = match authority.strip_suffix(&port) {
        Some(without) => without.to_owned(),
        None => format!("{authority}{port}"),
    };
    variants.push(format!("{}://{other}{tail}", &url[..scheme_end]));
    variants
}
