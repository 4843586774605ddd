//! A stand-in for the user's browser in an authorization-code login: it
//! opens the authorization URL without following redirects, answers the
//! consent page when there is one, then delivers the redirect to the app's
//! loopback listener. Made for `OAuthClient::login_loopback`'s `open`:
//!
//! ```no_run
//! # async fn f(client: wharf_runtime::auth::OAuthClient) {
//! use wharf_runtime::testing::sandbox::auto_browser;
//! let scopes = ["repo:read".to_owned()];
//! let tokens = client
//!     .login_loopback(&scopes, |url| drop(auto_browser(url)), std::time::Duration::from_secs(10))
//!     .await;
//! # }
//! ```

use crate::call::{HttpRequest, ReqwestTransport, Response, Transport};
use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderMap, HeaderValue, Method};
use std::time::Duration;
use tokio::task::JoinHandle;

/// The whole visit, consent and callback included, ends within this.
const VISIT_AT_MOST: Duration = Duration::from_secs(20);

/// What the browser's user does on a consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Approve,
    Deny,
}

/// Visits `url` in a spawned task, approving any consent page. The task's
/// result says what went wrong, if anything (never with a code or token).
/// Call it from within a Tokio runtime.
pub fn auto_browser(url: &str) -> JoinHandle<Result<(), String>> {
    auto_browser_with(url, Consent::Approve)
}

/// [`auto_browser`] with the answer to give on a consent page.
pub fn auto_browser_with(url: &str, consent: Consent) -> JoinHandle<Result<(), String>> {
    let url = url.to_owned();
    tokio::spawn(async move {
        tokio::time::timeout(VISIT_AT_MOST, visit(&url, consent))
            .await
            .unwrap_or_else(|_| Err("the browser visit timed out".into()))
    })
}

async fn send(
    transport: &ReqwestTransport,
    method: Method,
    url: &str,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Result<Response, String> {
    transport
        .send(HttpRequest {
            method,
            url: url.to_owned(),
            headers,
            body: body.into(),
        })
        .await
        .map_err(|e| format!("browser request failed: {:?}", e.kind))
}

async fn visit(url: &str, consent: Consent) -> Result<(), String> {
    let transport = ReqwestTransport::builder()
        .allow_plain_http_loopback(true)
        .connect_timeout(Duration::from_secs(5))
        .stall_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let page_url = url::Url::parse(url).map_err(|_| "the authorization URL is not a URL")?;
    let mut response = send(&transport, Method::GET, url, HeaderMap::new(), Vec::new()).await?;
    let mut at = page_url.clone();
    if response.status.as_u16() == 200 {
        if let Some((action, request)) = consent_form(&response.body) {
            let action = page_url
                .join(&action)
                .map_err(|_| "the consent form's action is not a URL")?;
            let decision = match consent {
                Consent::Approve => "approve",
                Consent::Deny => "deny",
            };
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("request", &request)
                .append_pair("decision", decision)
                .finish();
            let mut headers = HeaderMap::new();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            response = send(
                &transport,
                Method::POST,
                action.as_str(),
                headers,
                body.into_bytes(),
            )
            .await?;
            at = action;
        }
    }
    if !response.status.is_redirection() {
        return Err(format!(
            "the authorization server answered {} instead of redirecting",
            response.status.as_u16()
        ));
    }
    let location = response
        .headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| at.join(l).ok())
        .ok_or("the redirect has no usable Location")?;
    let callback = send(
        &transport,
        Method::GET,
        location.as_str(),
        HeaderMap::new(),
        Vec::new(),
    )
    .await?;
    if callback.status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "the redirect target answered {}",
            callback.status.as_u16()
        ))
    }
}

/// The consent form's `action` and hidden `request` value, if the page is
/// the sandbox's consent page.
fn consent_form(page: &[u8]) -> Option<(String, String)> {
    let page = std::str::from_utf8(page).ok()?;
    let action = attribute_after(page, "<form", "action")?;
    let input = page.find("name=request")?;
    let request = attribute_after(&page[input..], "", "value")?;
    Some((action, request))
}

/// The double-quoted value of `name=` in the first tag after `marker`.
fn attribute_after(text: &str, marker: &str, name: &str) -> Option<String> {
    let start = text.find(marker)?;
    let tag_end = text[start..].find('>')? + start;
    let tag = &text[start..tag_end];
    let value_start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let value_len = tag[value_start..].find('"')?;
    Some(tag[value_start..value_start + value_len].replace("&amp;", "&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_consent_form() {
        let page = br#"<p>x</p><form method=post action="/oauth/consent"><input type=hidden name=request value="hbq_1"><button>"#;
        assert_eq!(
            consent_form(page),
            Some(("/oauth/consent".into(), "hbq_1".into()))
        );
        assert_eq!(consent_form(b"<p>no form</p>"), None);
    }
}
