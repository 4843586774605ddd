//! `generate!`: the same [`wharf_codegen::Generator`] as `build.rs` and the
//! CLI, run inside the compiler.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use std::path::PathBuf;
use syn::parse::{Parse, ParseStream};
use syn::{braced, bracketed, parenthesized, Ident, LitStr, Token};
use wharf_codegen::{ConfigTarget, Generator, GeneratorError, Paging, PolicyTarget};

struct Args {
    spec: LitStr,
    operations: Vec<LitStr>,
    tags: Vec<LitStr>,
    renames: Vec<(LitStr, LitStr)>,
    paging: Vec<(LitStr, Paging)>,
    policies: Vec<(PolicyTarget, Span, wharf_codegen::PolicySpec)>,
    serialize_received: bool,
}

/// `{ client = { .. }, tag("issues") = { .. }, "createIssue" = { .. } }`.
fn policies(
    input: ParseStream<'_>,
) -> syn::Result<Vec<(PolicyTarget, Span, wharf_codegen::PolicySpec)>> {
    let content;
    braced!(content in input);
    let mut out = Vec::new();
    while !content.is_empty() {
        let (target, span) = if content.peek(LitStr) {
            let op: LitStr = content.parse()?;
            (PolicyTarget::Operation(op.value()), op.span())
        } else {
            let key: Ident = content.parse()?;
            match key.to_string().as_str() {
                "client" => (PolicyTarget::Client, key.span()),
                "tag" => {
                    let inner;
                    parenthesized!(inner in content);
                    let tag: LitStr = inner.parse()?;
                    (PolicyTarget::Tag(tag.value()), tag.span())
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown policy target `{other}`; use client, tag(\"name\") or an operationId string"),
                    ))
                }
            }
        };
        content.parse::<Token![=]>()?;
        let body;
        braced!(body in content);
        let args = crate::policy_args::parse(&body, false)?;
        out.push((target, span, args.spec));
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(out)
}

fn strings(input: ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
    let content;
    bracketed!(content in input);
    let list = content.parse_terminated(|p: ParseStream<'_>| p.parse::<LitStr>(), Token![,])?;
    Ok(list.into_iter().collect())
}

fn pairs<T>(
    input: ParseStream<'_>,
    value: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<Vec<(LitStr, T)>> {
    let content;
    braced!(content in input);
    let mut out = Vec::new();
    while !content.is_empty() {
        let key: LitStr = content.parse()?;
        content.parse::<Token![=]>()?;
        out.push((key, value(&content)?));
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(out)
}

fn paging(input: ParseStream<'_>) -> syn::Result<Paging> {
    let style: Ident = input.parse()?;
    let args = |input: ParseStream<'_>, n: usize| -> syn::Result<Vec<String>> {
        let content;
        parenthesized!(content in input);
        let list = content.parse_terminated(|p: ParseStream<'_>| p.parse::<LitStr>(), Token![,])?;
        let values: Vec<String> = list.iter().map(LitStr::value).collect();
        if values.len() != n {
            return Err(syn::Error::new(
                style.span(),
                format!("`{style}` takes {n} string argument(s)"),
            ));
        }
        Ok(values)
    };
    Ok(match style.to_string().as_str() {
        "off" => Paging::Off,
        "link" => Paging::Link,
        "cursor" => Paging::Cursor {
            param: args(input, 1)?.remove(0),
        },
        "token" => {
            let mut a = args(input, 2)?;
            let field = a.remove(1);
            Paging::Token {
                param: a.remove(0),
                field,
            }
        }
        "offset" => Paging::Offset {
            param: args(input, 1)?.remove(0),
        },
        other => {
            return Err(syn::Error::new(
                style.span(),
                format!(
                    "unknown paging style `{other}`; use off, link, cursor(\"param\"), \
                     token(\"param\", \"field\") or offset(\"param\")"
                ),
            ))
        }
    })
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let spec: LitStr = input.parse()?;
        let mut args = Args {
            spec,
            operations: Vec::new(),
            tags: Vec::new(),
            renames: Vec::new(),
            paging: Vec::new(),
            policies: Vec::new(),
            serialize_received: false,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "operations" => args.operations.extend(strings(input)?),
                "tags" => args.tags.extend(strings(input)?),
                "rename" => args.renames.extend(pairs(input, |p| p.parse::<LitStr>())?),
                "paging" => args.paging.extend(pairs(input, paging)?),
                "policies" => args.policies.extend(policies(input)?),
                "serialize_received" => {
                    args.serialize_received = input.parse::<syn::LitBool>()?.value;
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{other}`; expected operations, tags, rename, paging, policies or serialize_received"
                        ),
                    ))
                }
            }
        }
        Ok(args)
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Args>(input).and_then(|args| run(&args)) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

/// `text` with each `${NAME}` replaced by the environment variable's value
/// at compile time (`${OUT_DIR}/spec.json` for a spec a build script
/// fetched); a variable that is not set, or a `${` not closed, is an error
/// naming it.
fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`${{` without a closing `}}` in {text:?}"))?;
        let name = &after[..end];
        let value = std::env::var(name).map_err(|_| {
            format!("the environment variable `{name}` in {text:?} is not set at compile time")
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn run(args: &Args) -> syn::Result<TokenStream> {
    let span = args.spec.span();
    let spec = expand_env(&args.spec.value())
        .map_err(|e| syn::Error::new(span, format!("wharf::generate!: {e}")))?;
    // Relative to the crate root; an absolute path (from a variable) as is.
    let root = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    let path = root.join(spec);
    let mut generator = Generator::new(&path)
        .rerun_if_changed(false)
        .serialize_received(args.serialize_received)
        .operations(args.operations.iter().map(LitStr::value))
        .tags(args.tags.iter().map(LitStr::value));
    for (from, to) in &args.renames {
        generator = generator.rename_type(from.value(), to.value());
    }
    for (op, paging) in &args.paging {
        generator = generator.paging(op.value(), paging.clone());
    }
    for (target, _, spec) in &args.policies {
        generator = generator.policy(target.clone(), spec.clone());
    }
    let generated = generator.generate().map_err(|e| match e {
        // Each broken rule at the policy it is about.
        GeneratorError::Policy(problems) => problems
            .into_iter()
            .map(|(target, problem)| {
                let at = args
                    .policies
                    .iter()
                    .find(|(t, _, _)| *t == target)
                    .map_or(span, |(_, s, _)| *s);
                syn::Error::new(at, format!("wharf::generate!: {target}: {problem}"))
            })
            .reduce(combined)
            .unwrap_or_else(|| syn::Error::new(span, "wharf::generate!: policy error")),
        // Each at the entry that names what the spec lacks.
        GeneratorError::Config(problems) => problems
            .into_iter()
            .map(|problem| {
                let named = |list: &[LitStr], name: &str| {
                    list.iter().find(|l| l.value() == name).map(LitStr::span)
                };
                let at = match &problem.target {
                    ConfigTarget::Operation(name) => named(&args.operations, name),
                    ConfigTarget::Tag(name) => named(&args.tags, name),
                    ConfigTarget::Paging(name) => args
                        .paging
                        .iter()
                        .find(|(op, _)| op.value() == *name)
                        .map(|(op, _)| op.span()),
                    ConfigTarget::Rename(name) => args
                        .renames
                        .iter()
                        .find(|(from, _)| from.value() == *name)
                        .map(|(from, _)| from.span()),
                };
                syn::Error::new(at.unwrap_or(span), format!("wharf::generate!: {problem}"))
            })
            .reduce(combined)
            .unwrap_or_else(|| syn::Error::new(span, "wharf::generate!: configuration error")),
        other => syn::Error::new(span, format!("wharf::generate!: {other}")),
    })?;
    let code: TokenStream = generated.code.parse().map_err(|e| {
        syn::Error::new(
            Span::call_site(),
            format!("wharf::generate!: internal error, generated code does not tokenize: {e}"),
        )
    })?;
    // Rebuild when the spec changes.
    let files: Vec<String> = generated
        .files
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    Ok(quote! {
        #(const _: &[u8] = include_bytes!(#files);)*
        #code
    })
}

/// Both errors, reported together.
fn combined(mut all: syn::Error, one: syn::Error) -> syn::Error {
    all.combine(one);
    all
}

#[cfg(test)]
mod tests {
    use super::expand_env;

    #[test]
    fn variables_in_spec_paths_are_expanded_or_named_when_missing() {
        let home = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        assert_eq!(
            expand_env("${CARGO_MANIFEST_DIR}/specs/a.yaml").unwrap(),
            format!("{home}/specs/a.yaml")
        );
        assert_eq!(expand_env("specs/a.yaml").unwrap(), "specs/a.yaml");
        let missing = expand_env("${WHARF_NO_SUCH_VARIABLE}/a.yaml").unwrap_err();
        assert!(missing.contains("`WHARF_NO_SUCH_VARIABLE`"), "{missing}");
        assert!(expand_env("${OPEN/a.yaml").unwrap_err().contains("closing"));
    }
}
