//! `#[wharf::policy(...)]`: a policy on the caller's own async function.
//! The body runs in a `wharf::policy::Scope`, so every wharf call inside
//! applies the policy. The seeds' rules are checked here, at compile time:
//! by the macro when the policy alone decides, and by `const` items over
//! the generated operation metadata (`calls = [...]`) when the spec does.

use crate::policy_args::{self, PolicyArgs};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::ItemFn;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match run(attr, item.clone()) {
        Ok(tokens) => tokens,
        // The function stays, unchanged, beside the error: dropping it
        // would add errors and unused-import warnings about everything it
        // uses, burying the one that matters.
        Err(e) => {
            let error = e.to_compile_error();
            quote::quote! { #error #item }
        }
    }
}

fn run(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = syn::parse::Parser::parse2(
        |input: syn::parse::ParseStream<'_>| policy_args::parse(input, true),
        attr,
    )?;
    let function: ItemFn = syn::parse2(item)?;
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new(
            function.sig.fn_token.span(),
            "#[wharf::policy] goes on an `async fn`: its calls run inside the policy",
        ));
    }
    let checks = rules(&args, Span::call_site())?;
    let literal: TokenStream =
        args.spec.literal().parse().map_err(|e| {
            syn::Error::new(Span::call_site(), format!("wharf: internal error: {e}"))
        })?;
    let name = function.sig.ident.to_string();
    let natural_key = args.natural_key.as_ref().map(|expr| {
        quote_spanned! {expr.span()=> .natural_key(#expr) }
    });
    // The listed operations, for the runtime to refuse (debug) or warn
    // about (release) a call inside that is not among them. Each is bound
    // to a const reference first (a temporary of a type with a destructor
    // cannot be borrowed in a constant otherwise).
    let (calls_fn, calls) = if args.calls.is_empty() {
        (None, None)
    } else {
        let idents: Vec<syn::Ident> = (0..args.calls.len())
            .map(|i| syn::Ident::new(&format!("__WHARF_CALL_{i}"), Span::call_site()))
            .collect();
        let paths = &args.calls;
        (
            Some(quote! {
                fn __wharf_calls(operation: &str) -> bool {
                    #(const #idents: &::wharf::OperationMeta = &#paths;)*
                    [#(#idents),*].iter().any(|o| o.name == operation)
                }
            }),
            Some(quote! { .calls(__wharf_calls) }),
        )
    };
    let ItemFn {
        attrs,
        vis,
        modifiers,
        sig,
        block,
    } = function;
    let defaultness = modifiers.defaultness;
    Ok(quote! {
        #(#attrs)*
        #vis #defaultness #sig {
            #checks
            static __WHARF_POLICY: ::wharf::policy::Policy = #literal;
            #calls_fn
            ::wharf::policy::Scope::new(
                &__WHARF_POLICY,
                ::core::concat!(::core::module_path!(), "::", #name),
            )
            #natural_key
            #calls
            .run(async move #block)
            .await
        }
    })
}

/// The rules as compile errors (policy-only) and `const` checks (spec).
fn rules(args: &PolicyArgs, attr: Span) -> syn::Result<TokenStream> {
    let spec = &args.spec;
    let calls = &args.calls;
    let mut checks = TokenStream::new();
    // Each call path bound to a const reference (a temporary of a type with
    // a destructor cannot be borrowed in a const expression otherwise).
    let refs: Vec<(syn::Ident, &syn::Path)> = calls
        .iter()
        .enumerate()
        .map(|(i, p)| (syn::Ident::new(&format!("__WHARF_OP_{i}"), p.span()), p))
        .collect();
    for (ident, path) in &refs {
        checks.extend(quote_spanned! {path.span()=>
            const #ident: &::wharf::OperationMeta = &#path;
        });
    }

    if spec.timeout.is_none() {
        if calls.is_empty() {
            return Err(syn::Error::new(
                attr,
                "no timeout on this call path: add `timeout = \"2s\"` (or name the generated operations it calls with `calls = [...]`, if their generated policy sets one)",
            ));
        }
        for (ident, path) in &refs {
            let message = format!(
                "no timeout on this call path: `{}` has no generated timeout policy; add `timeout = \"2s\"` to #[wharf::policy]",
                path_text(path)
            );
            checks.extend(quote_spanned! {path.span()=>
                if !#ident.policies.has_timeout() {
                    ::core::panic!(#message);
                }
            });
        }
    }

    if spec.retries() && spec.idempotency.is_none() {
        let Some(retry) = args.retry_span else {
            return Err(syn::Error::new(
                attr,
                "wharf: internal error: retry without a span",
            ));
        };
        if calls.is_empty() {
            return Err(syn::Error::new(
                retry,
                "retries need an idempotency plan: add `idempotency = key`, `natural_key(<expr>)` or `unsafe_allow(\"reason\")`, or name the operations with `calls = [...]` so wharf can check they are idempotent",
            ));
        }
        for (ident, path) in &refs {
            let message = format!(
                "`{}` is a mutating endpoint retried with no idempotency plan: add `idempotency = key`, `idempotency = natural_key(<expr>)` or `idempotency = unsafe_allow(\"reason\")`",
                path_text(path)
            );
            checks.extend(quote_spanned! {path.span()=>
                if !::wharf::__private::checks::retry_is_safe(#ident) {
                    ::core::panic!(#message);
                }
            });
        }
    }

    if !spec.scopes.is_empty() {
        if calls.is_empty() {
            let at = args.scopes_span.unwrap_or(attr);
            return Err(syn::Error::new(
                at,
                "scopes are checked against the spec: name the operations this function calls with `calls = [...]`",
            ));
        }
        for lit in &args.scope_lits {
            let scope = lit.value();
            let message = format!(
                "scope \"{scope}\" is not listed by the spec for any operation in `calls`; use a scope their security requirements name"
            );
            let idents = refs.iter().map(|(i, _)| i);
            checks.extend(quote_spanned! {lit.span()=>
                if #(!::wharf::__private::checks::lists_scope(#idents, #scope))&&* {
                    ::core::panic!(#message);
                }
            });
        }
    }

    if checks.is_empty() {
        return Ok(checks);
    }
    let span = args.calls_span.unwrap_or(attr);
    Ok(quote_spanned! {span=>
        #[allow(non_upper_case_globals)]
        const _: () = { #checks };
    })
}

fn path_text(path: &syn::Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
