//! What `wharf generate` and `wharf inspect` take beyond the selection,
//! as `build.rs` and `generate!` do: type renames, pagination overrides,
//! policies (from a YAML file) and `Serialize` on received types.
//!
//! ```yaml
//! # policies.yaml (every field optional, unknown fields refused)
//! client: {timeout: 10s, retry: {max_attempts: 3, base: 100ms, cap: 2s}}
//! tags:
//!   issues: {rate: {per_second: 10, burst: 20}, bulkhead: 8}
//! operations:
//!   issues/create: {retry: {max_attempts: 3}, idempotency: key}
//!   repos/delete: {idempotency: {unsafe_allow: "deleting twice is harmless"}}
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wharf_codegen::policy::parse_duration;
use wharf_codegen::{
    Generator, IdempotencySpec, Paging, PolicySpec, PolicyTarget, RateSpec, RetrySpec,
};

#[derive(clap::Args, Default)]
pub(crate) struct Shaping {
    /// Give a component schema this Rust name, `SCHEMA=TYPE`; repeatable.
    #[arg(long = "rename", value_name = "SCHEMA=TYPE", value_parser = parse_rename)]
    renames: Vec<(String, String)>,
    /// Override an operation's pagination, `OPERATION=STYLE` with STYLE
    /// off, link, cursor(PARAM), token(PARAM,FIELD) or offset(PARAM);
    /// repeatable.
    #[arg(long = "paging", value_name = "OPERATION=STYLE", value_parser = parse_paging)]
    paging: Vec<(String, Paging)>,
    /// Policies for the client, tags and operations, from a YAML file
    /// (`client:`, `tags:`, `operations:`; see the README).
    #[arg(long, value_name = "FILE")]
    policies: Option<PathBuf>,
    /// Types only received (responses, webhook payloads) implement
    /// `Serialize` too (those a call sends always do).
    #[arg(long)]
    serialize_received: bool,
}

fn split_pair(text: &str, what: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_owned(), b.trim().to_owned()))
        }
        _ => Err(format!("expected {what}, got {text:?}")),
    }
}

fn parse_rename(text: &str) -> Result<(String, String), String> {
    split_pair(text, "SCHEMA=TYPE")
}

/// `off`, `link`, `cursor(p)`, `token(p, f)`, `offset(p)`.
pub(crate) fn parse_style(text: &str) -> Result<Paging, String> {
    let text = text.trim();
    let styles = "off, link, cursor(PARAM), token(PARAM,FIELD) or offset(PARAM)";
    let (name, args) = match text.split_once('(') {
        None => (text, Vec::new()),
        Some((name, rest)) => {
            let inner = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("{text:?}: missing `)`"))?;
            let args: Vec<String> = inner
                .split(',')
                .map(|a| a.trim().trim_matches('"').to_owned())
                .collect();
            if args.iter().any(String::is_empty) {
                return Err(format!("{text:?}: an empty parameter name"));
            }
            (name.trim(), args)
        }
    };
    match (name, args.as_slice()) {
        ("off", []) => Ok(Paging::Off),
        ("link", []) => Ok(Paging::Link),
        ("cursor", [param]) => Ok(Paging::Cursor {
            param: param.clone(),
        }),
        ("token", [param, field]) => Ok(Paging::Token {
            param: param.clone(),
            field: field.clone(),
        }),
        ("offset", [param]) => Ok(Paging::Offset {
            param: param.clone(),
        }),
        _ => Err(format!("unknown paging style {text:?}; use {styles}")),
    }
}

fn parse_paging(text: &str) -> Result<(String, Paging), String> {
    let (operation, style) = split_pair(text, "OPERATION=STYLE")?;
    Ok((operation, parse_style(&style)?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PoliciesFile {
    client: Option<PolicyEntry>,
    #[serde(default)]
    tags: BTreeMap<String, PolicyEntry>,
    #[serde(default)]
    operations: BTreeMap<String, PolicyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyEntry {
    timeout: Option<String>,
    attempt_timeout: Option<String>,
    retry: Option<RetryEntry>,
    idempotency: Option<IdempotencyEntry>,
    breaker: Option<String>,
    rate: Option<RateEntry>,
    bulkhead: Option<usize>,
    #[serde(default)]
    scopes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryEntry {
    max_attempts: u32,
    base: Option<String>,
    cap: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateEntry {
    per_second: f64,
    burst: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum IdempotencyEntry {
    Key,
    UnsafeAllow(String),
}

fn duration(
    at: &str,
    field: &str,
    text: &Option<String>,
) -> Result<Option<std::time::Duration>, String> {
    text.as_deref()
        .map(|t| parse_duration(t).map_err(|e| format!("{at}.{field}: {e}")))
        .transpose()
}

impl PolicyEntry {
    fn spec(self, at: &str) -> Result<PolicySpec, String> {
        let retry = match self.retry {
            None => None,
            Some(r) => Some(RetrySpec {
                max_attempts: r.max_attempts,
                base: duration(at, "retry.base", &r.base)?,
                cap: duration(at, "retry.cap", &r.cap)?,
            }),
        };
        Ok(PolicySpec {
            timeout: duration(at, "timeout", &self.timeout)?,
            attempt_timeout: duration(at, "attempt_timeout", &self.attempt_timeout)?,
            retry,
            idempotency: self.idempotency.map(|i| match i {
                IdempotencyEntry::Key => IdempotencySpec::Key,
                IdempotencyEntry::UnsafeAllow(reason) => IdempotencySpec::UnsafeAllow(reason),
            }),
            breaker: self.breaker,
            // The burst defaults as in `#[wharf::policy]` and `generate!`.
            rate: self.rate.map(|r| {
                let rate = RateSpec::with_default_burst(r.per_second);
                RateSpec {
                    burst: r.burst.unwrap_or(rate.burst),
                    ..rate
                }
            }),
            bulkhead: self.bulkhead,
            scopes: self.scopes,
        })
    }
}

/// The policies `path` sets, by target.
fn read_policies(path: &Path) -> Result<Vec<(PolicyTarget, PolicySpec)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: PoliciesFile =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let at = |what: String| format!("{}: {what}", path.display());
    let mut out = Vec::new();
    if let Some(p) = file.client {
        out.push((PolicyTarget::Client, p.spec(&at("client".into()))?));
    }
    for (tag, p) in file.tags {
        let spec = p.spec(&at(format!("tags.{tag}")))?;
        out.push((PolicyTarget::Tag(tag), spec));
    }
    for (op, p) in file.operations {
        let spec = p.spec(&at(format!("operations.{op}")))?;
        out.push((PolicyTarget::Operation(op), spec));
    }
    Ok(out)
}

impl Shaping {
    /// `generator` with the renames, paging overrides and policies.
    pub(crate) fn apply(&self, mut generator: Generator) -> Result<Generator, String> {
        generator = generator.serialize_received(self.serialize_received);
        for (from, to) in &self.renames {
            generator = generator.rename_type(from, to);
        }
        for (op, paging) in &self.paging {
            generator = generator.paging(op, paging.clone());
        }
        if let Some(path) = &self.policies {
            for (target, spec) in read_policies(path)? {
                generator = generator.policy(target, spec);
            }
        }
        Ok(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_without_burst_gets_the_macros_default() {
        let entry: PolicyEntry = serde_yaml_ng::from_str("rate: {per_second: 10}").unwrap();
        let rate = entry.spec("client").unwrap().rate.unwrap();
        assert_eq!(rate, wharf_codegen::policy::parse_rate("10/s").unwrap());
        assert_eq!(rate.burst, 10);
    }

    #[test]
    fn paging_styles_parse_or_say_which_exist() {
        assert_eq!(parse_style("off"), Ok(Paging::Off));
        assert_eq!(
            parse_style("cursor(starting_after)"),
            Ok(Paging::Cursor {
                param: "starting_after".into()
            })
        );
        assert_eq!(
            parse_style("token(page_token, next_page_token)"),
            Ok(Paging::Token {
                param: "page_token".into(),
                field: "next_page_token".into()
            })
        );
        assert!(parse_style("pages(2)")
            .unwrap_err()
            .contains("use off, link"));
        assert!(parse_style("cursor()").is_err());
        assert!(parse_style("cursor(a").is_err());
        assert!(parse_paging("listPets")
            .unwrap_err()
            .contains("OPERATION=STYLE"));
    }
}
