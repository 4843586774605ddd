//! The policy language shared by `#[wharf::policy(...)]` and the
//! `policies = { ... }` option of `generate!`:
//!
//! ```text
//! timeout = "2s", attempt_timeout = "500ms",
//! retry(max = 3, base = "100ms", cap = "5s"),   or   retry = none,
//! breaker = "payments", rate = "20/s", burst = 40, bulkhead = 8,
//! idempotency = key | natural_key(<expr>) | unsafe_allow("reason"),
//! scopes = ["repo"],
//! calls = [path::TO::OPERATION, ...]            (attribute only)
//! ```
//!
//! Durations and rates are parsed here, at compile time; each rule that
//! needs only the policy is checked as its key is read, so the error
//! points at that key.

use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::{bracketed, parenthesized, Expr, Ident, LitInt, LitStr, Path, Token};
use wharf_codegen::policy::{parse_duration, parse_rate};
use wharf_codegen::{IdempotencySpec, PolicySpec, RetrySpec};

/// A parsed policy, with where each part was written.
pub(crate) struct PolicyArgs {
    pub spec: PolicySpec,
    /// Generated operation constants the function calls.
    pub calls: Vec<Path>,
    /// The expression of `natural_key(..)`.
    pub natural_key: Option<Expr>,
    pub scope_lits: Vec<LitStr>,
    pub retry_span: Option<Span>,
    pub scopes_span: Option<Span>,
    pub calls_span: Option<Span>,
}

const KEYS: &str =
    "calls, timeout, attempt_timeout, retry, breaker, rate, burst, bulkhead, idempotency, scopes";

fn checked(spec: PolicySpec, span: Span) -> syn::Result<PolicySpec> {
    spec.check().map_err(|e| syn::Error::new(span, e))?;
    Ok(spec)
}

/// A duration string for `key`; a bare number says how to write it.
fn duration(input: ParseStream<'_>, key: &str) -> syn::Result<std::time::Duration> {
    if input.peek(LitInt) || input.peek(syn::LitFloat) {
        let number: syn::Lit = input.parse()?;
        let text = match &number {
            syn::Lit::Int(n) => n.base10_digits().to_owned(),
            syn::Lit::Float(n) => n.base10_digits().to_owned(),
            _ => String::new(),
        };
        return Err(syn::Error::new(
            number.span(),
            format!(
                "a duration is a string with its unit: write `{key} = \"{text}s\"` (or ms, m, h)"
            ),
        ));
    }
    let lit: LitStr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected a duration string for `{key}`, like `{key} = \"2s\"`"),
        )
    })?;
    parse_duration(&lit.value()).map_err(|e| syn::Error::new(lit.span(), e))
}

/// Parses comma-separated policy keys until `input` is empty.
pub(crate) fn parse(input: ParseStream<'_>, allow_calls: bool) -> syn::Result<PolicyArgs> {
    let mut args = PolicyArgs {
        spec: PolicySpec::default(),
        calls: Vec::new(),
        natural_key: None,
        scope_lits: Vec::new(),
        retry_span: None,
        scopes_span: None,
        calls_span: None,
    };
    let mut seen: Vec<String> = Vec::new();
    let mut burst: Option<LitInt> = None;
    let mut attempt_span = None;
    while !input.is_empty() {
        let key: Ident = input.parse()?;
        let name = key.to_string();
        if seen.contains(&name) {
            return Err(syn::Error::new(
                key.span(),
                format!("`{name}` is given twice"),
            ));
        }
        seen.push(name.clone());
        let span = key.span();
        match name.as_str() {
            "retry" => {
                args.retry_span = Some(span);
                args.spec.retry = Some(retry(input, span)?);
                checked(
                    PolicySpec {
                        retry: args.spec.retry,
                        ..PolicySpec::default()
                    },
                    span,
                )?;
            }
            "timeout" | "attempt_timeout" => {
                input.parse::<Token![=]>()?;
                let d = duration(input, &name)?;
                if name == "timeout" {
                    args.spec.timeout = Some(d);
                } else {
                    attempt_span = Some(span);
                    args.spec.attempt_timeout = Some(d);
                }
            }
            "breaker" => {
                input.parse::<Token![=]>()?;
                let lit: LitStr = input.parse()?;
                args.spec = checked(
                    PolicySpec {
                        breaker: Some(lit.value()),
                        ..args.spec
                    },
                    lit.span(),
                )?;
            }
            "rate" => {
                input.parse::<Token![=]>()?;
                let lit: LitStr = input.parse()?;
                let rate = parse_rate(&lit.value()).map_err(|e| syn::Error::new(lit.span(), e))?;
                args.spec.rate = Some(rate);
            }
            "burst" => {
                input.parse::<Token![=]>()?;
                burst = Some(input.parse()?);
            }
            "bulkhead" => {
                input.parse::<Token![=]>()?;
                let lit: LitInt = input.parse()?;
                let n: usize = lit.base10_parse()?;
                args.spec = checked(
                    PolicySpec {
                        bulkhead: Some(n),
                        ..args.spec
                    },
                    lit.span(),
                )?;
            }
            "idempotency" => {
                input.parse::<Token![=]>()?;
                idempotency(input, &mut args)?;
            }
            "scopes" => {
                input.parse::<Token![=]>()?;
                args.scopes_span = Some(span);
                let content;
                bracketed!(content in input);
                let list = content
                    .parse_terminated(|p: ParseStream<'_>| p.parse::<LitStr>(), Token![,])?;
                for lit in list {
                    if lit.value().trim().is_empty() || lit.value().contains(char::is_whitespace) {
                        return Err(syn::Error::new(
                            lit.span(),
                            "a scope is one token (no spaces); list several as separate strings",
                        ));
                    }
                    args.spec.scopes.push(lit.value());
                    args.scope_lits.push(lit);
                }
            }
            "calls" if allow_calls => {
                input.parse::<Token![=]>()?;
                args.calls_span = Some(span);
                let content;
                bracketed!(content in input);
                let list =
                    content.parse_terminated(|p: ParseStream<'_>| p.parse::<Path>(), Token![,])?;
                args.calls.extend(list);
            }
            other => {
                let keys = if allow_calls {
                    KEYS
                } else {
                    KEYS.trim_start_matches("calls, ")
                };
                return Err(syn::Error::new(
                    span,
                    format!("unknown policy key `{other}`; expected one of: {keys}"),
                ));
            }
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    if let Some(lit) = burst {
        let Some(rate) = args.spec.rate.as_mut() else {
            return Err(syn::Error::new(
                lit.span(),
                "`burst` needs a `rate`, e.g. rate = \"20/s\", burst = 40",
            ));
        };
        let b: u32 = lit.base10_parse()?;
        if b == 0 {
            return Err(syn::Error::new(lit.span(), "`burst` must be at least 1"));
        }
        rate.burst = b;
    }
    if let Some(span) = attempt_span {
        args.spec = checked(args.spec, span)?;
    }
    Ok(args)
}

/// `retry(max = 3, base = "100ms", cap = "5s")` or `retry = none`.
fn retry(input: ParseStream<'_>, span: Span) -> syn::Result<RetrySpec> {
    let no_limit =
        "retry needs a limit: write `retry(max = 3)` (attempts in all), or `retry = none`";
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        let value: Ident = input.parse()?;
        return match value.to_string().as_str() {
            "none" => Ok(RetrySpec {
                max_attempts: 1,
                base: None,
                cap: None,
            }),
            _ => Err(syn::Error::new(value.span(), no_limit)),
        };
    }
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(span, no_limit));
    }
    let content;
    parenthesized!(content in input);
    let mut spec = RetrySpec {
        max_attempts: 0,
        base: None,
        cap: None,
    };
    let mut has_max = false;
    while !content.is_empty() {
        let key: Ident = content.parse()?;
        content.parse::<Token![=]>()?;
        match key.to_string().as_str() {
            "max" => {
                let lit: LitInt = content.parse()?;
                spec.max_attempts = lit.base10_parse()?;
                has_max = true;
            }
            "base" => spec.base = Some(duration(&content, "base")?),
            "cap" => spec.cap = Some(duration(&content, "cap")?),
            "jitter" => {
                const NO_OFF: &str = "jitter cannot be turned off: retries without it arrive in synchronized waves at a provider that is recovering; remove `jitter` (full jitter is the default)";
                // `false` and `off` alike (a keyword is not an identifier).
                let value: proc_macro2::TokenTree = content.parse()?;
                if value.to_string() != "full" {
                    return Err(syn::Error::new(value.span(), NO_OFF));
                }
            }
            other => {
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown retry setting `{other}`; expected max, base, cap or jitter"),
                ))
            }
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    if !has_max {
        return Err(syn::Error::new(span, no_limit));
    }
    Ok(spec)
}

/// `key`, `natural_key(expr)` or `unsafe_allow("reason")`.
fn idempotency(input: ParseStream<'_>, args: &mut PolicyArgs) -> syn::Result<()> {
    let kind: Ident = input.parse()?;
    let spec = match kind.to_string().as_str() {
        "key" => IdempotencySpec::Key,
        "natural_key" => {
            let content;
            parenthesized!(content in input);
            args.natural_key = Some(content.parse()?);
            IdempotencySpec::NaturalKey
        }
        "unsafe_allow" => {
            if !input.peek(syn::token::Paren) {
                return Err(syn::Error::new(
                    kind.span(),
                    "`unsafe_allow` needs a reason: unsafe_allow(\"duplicates are harmless because ...\")",
                ));
            }
            let content;
            parenthesized!(content in input);
            let reason: LitStr = content.parse()?;
            let spec = IdempotencySpec::UnsafeAllow(reason.value());
            checked(
                PolicySpec {
                    idempotency: Some(spec.clone()),
                    ..PolicySpec::default()
                },
                reason.span(),
            )?;
            spec
        }
        other => {
            return Err(syn::Error::new(
                kind.span(),
                format!("unknown idempotency plan `{other}`; expected key, natural_key(<expr>) or unsafe_allow(\"reason\")"),
            ))
        }
    };
    args.spec.idempotency = Some(spec);
    Ok(())
}
