//! `wharf webhook verify` and `wharf webhook sign`: a delivery checked or
//! signed from the command line, the body on stdin, the secret from the
//! environment (never from argv, where `ps` would show it).

use secrecy::SecretString;
use std::io::Read as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};
use wharf::webhooks::{Delivery, Scheme, Verifier};

/// What `verify` and `sign` share.
#[derive(clap::Args)]
pub struct Common {
    /// The signing scheme.
    #[arg(long, value_parser = parse_scheme)]
    scheme: Scheme,
    /// The environment variable holding the secret (several secrets,
    /// during a rotation, separated by spaces).
    #[arg(long, value_name = "VAR")]
    secret_env: String,
    /// The full URL the provider signed (Twilio).
    #[arg(long)]
    url: Option<String>,
}

fn parse_scheme(text: &str) -> Result<Scheme, String> {
    text.parse()
        .map_err(|e: wharf::webhooks::UnknownScheme| e.to_string())
}

/// `Name: value`.
pub fn parse_header(
    text: &str,
) -> Result<(wharf::http::HeaderName, wharf::http::HeaderValue), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("header {text:?} is not `Name: value`"))?;
    let name = wharf::http::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("{:?} is not a header name", name.trim()))?;
    let value = wharf::http::HeaderValue::from_str(value.trim())
        .map_err(|_| format!("the value of {name} cannot be sent in a header"))?;
    Ok((name, value))
}

fn verifier(common: &Common) -> Result<Verifier, String> {
    let raw = std::env::var(&common.secret_env)
        .map_err(|_| format!("environment variable {} is not set", common.secret_env))?;
    let secrets: Vec<SecretString> = raw
        .split_whitespace()
        .map(|s| SecretString::from(s.to_owned()))
        .collect();
    Verifier::new(common.scheme, &secrets).map_err(|e| e.to_string())
}

fn stdin_body() -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    std::io::stdin()
        .read_to_end(&mut body)
        .map_err(|e| format!("reading the body from stdin: {e}"))?;
    Ok(body)
}

/// Prints `valid` (exit 0) or `invalid: <reason>` (exit 1); 2 when the
/// command itself cannot run (no secret, unreadable input).
pub fn verify(
    common: Common,
    now: Option<u64>,
    headers: Vec<(wharf::http::HeaderName, wharf::http::HeaderValue)>,
) -> ExitCode {
    let (verifier, body) = match verifier(&common).and_then(|v| Ok((v, stdin_body()?))) {
        Ok(ready) => ready,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(2);
        }
    };
    let mut map = wharf::http::HeaderMap::new();
    for (name, value) in headers {
        map.append(name, value);
    }
    let now = now.map_or_else(SystemTime::now, |s| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    });
    let delivery = Delivery {
        headers: &map,
        body: &body,
        url: common.url.as_deref(),
    };
    match verifier.verify(&delivery, now) {
        Ok(_) => {
            println!("valid");
            ExitCode::SUCCESS
        }
        Err(why) => {
            println!("invalid: {why}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the headers that sign the body, one `Name: value` per line.
pub fn sign(common: Common, id: Option<String>, timestamp: Option<i64>) -> ExitCode {
    let (verifier, body) = match verifier(&common).and_then(|v| Ok((v, stdin_body()?))) {
        Ok(ready) => ready,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(2);
        }
    };
    let id = match id {
        Some(id) => id,
        None => match wharf::webhooks::new_event_id() {
            Ok(id) => id,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let timestamp = timestamp.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    });
    match verifier.sign(&body, &id, timestamp, common.url.as_deref()) {
        Ok(signed) => {
            for (name, value) in signed.headers {
                println!("{name}: {value}");
            }
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
    }
}
