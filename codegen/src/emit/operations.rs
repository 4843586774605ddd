//! The `operations` module: one static of metadata per operation, and
//! `ALL`, for the runtime (`Integration::call`) and least-privilege scopes
//! (`wharf::scopes_for(operations::ALL)`).

use super::docs::sanitize;
use super::{lit, Writer};
use crate::ir::Operation;
use crate::policy::{Policies, PolicyTarget};
use heck::ToShoutySnakeCase;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn operations_module(w: &mut Writer, operations: &[Operation], policies: &Policies) {
    w.blank();
    w.line("/// Metadata of every operation: method, path template, tags, idempotency");
    w.line("/// key, security requirements with scopes, and attached policies.");
    w.line(super::ALLOW_UNUSED_MODULE);
    w.open("pub mod operations {");
    w.line("use ::wharf::http::Method;");
    w.line("use ::wharf::{OperationMeta, SchemeScopes, SecurityRequirement};");
    w.blank();
    let names = policy_consts(w, policies, operations);
    for op in operations {
        let mut doc = format!("`{} {}`", op.method.as_str(), op.path.replace('`', "'"));
        if let Some(summary) = op.summary.as_deref().filter(|s| !s.trim().is_empty()) {
            doc.push_str(": ");
            doc.push_str(summary.trim());
        }
        doc.push_str(&format!(
            " · Spec: `{}`",
            super::types::short_origin(&op.origin)
        ));
        w.doc(&sanitize(&doc));
        let head = format!(
            "pub static {}: OperationMeta = OperationMeta::spec({}, Method::{}, {})",
            op.const_name,
            lit(&op.name),
            op.method.as_str(),
            lit(&op.path)
        );
        let mut calls = Vec::new();
        if !op.tags.is_empty() {
            let tags: Vec<String> = op.tags.iter().map(|t| lit(t)).collect();
            calls.push(format!(".tags(&[{}])", tags.join(", ")));
        }
        if !op.responses.accept.is_empty() {
            calls.push(format!(".accept({})", lit(&op.responses.accept)));
        }
        if !op.security.is_empty() {
            calls.push(format!(".security(&[{}])", security_list(op).join(", ")));
        }
        if op.accepts_idempotency_key {
            calls.push(".with_idempotency_key()".to_owned());
        }
        if let Some(levels) = policy_levels(op, policies, &names) {
            calls.push(format!(".policies(&{levels})"));
        }
        w.chain(&head, &calls, 100);
        w.blank();
    }
    w.line("/// Every operation of the spec, in document order.");
    let all: Vec<String> = operations
        .iter()
        .map(|o| format!("&{}", o.const_name))
        .collect();
    if all.is_empty() {
        w.line("pub static ALL: &[&::wharf::OperationMeta] = &[];");
    } else {
        w.open("pub static ALL: &[&::wharf::OperationMeta] = &[");
        for a in all {
            w.line(&format!("{a},"));
        }
        w.close("];");
    }
    w.close("}");
}

/// The configured policies as constants (`CLIENT_POLICY`, `TAG_…_POLICY`,
/// `OP_…_POLICY`); returns each target's constant name. Names never clash
/// with each other or with the operation constants of the same module.
fn policy_consts(
    w: &mut Writer,
    policies: &Policies,
    operations: &[Operation],
) -> BTreeMap<PolicyTarget, String> {
    let mut taken: BTreeSet<String> = operations.iter().map(|o| o.const_name.clone()).collect();
    taken.insert("ALL".to_owned());
    let mut names = BTreeMap::new();
    for (target, spec) in &policies.by_target {
        let name = match target {
            PolicyTarget::Client => "CLIENT_POLICY".to_owned(),
            PolicyTarget::Tag(t) => format!("TAG_{}_POLICY", t.to_shouty_snake_case()),
            PolicyTarget::Operation(o) => format!("OP_{}_POLICY", o.to_shouty_snake_case()),
        };
        let mut unique = name.clone();
        let mut n = 2;
        while !taken.insert(unique.clone()) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        w.line(&format!("/// The {target}."));
        w.line(&format!(
            "pub const {unique}: ::wharf::policy::Policy = {};",
            spec.literal()
        ));
        w.blank();
        names.insert(target.clone(), unique);
    }
    names
}

/// The operation's policy levels as an `OperationPolicies` literal, or
/// `None` when no policies are configured.
fn policy_levels(
    op: &Operation,
    policies: &Policies,
    names: &BTreeMap<PolicyTarget, String>,
) -> Option<String> {
    if policies.is_empty() {
        return None;
    }
    let [own, tag, client] =
        policies
            .levels(op)
            .map(|(target, spec)| match (spec, names.get(&target)) {
                (Some(_), Some(name)) => name.clone(),
                _ => "::wharf::policy::Policy::NONE".to_owned(),
            });
    Some(format!(
        "::wharf::policy::OperationPolicies {{ operation: {own}, tag: {tag}, client: {client} }}"
    ))
}

/// Each security alternative as a `SecurityRequirement` literal.
fn security_list(op: &Operation) -> Vec<String> {
    op.security
        .iter()
        .map(|requirement| {
            let schemes: Vec<String> = requirement
                .iter()
                .map(|used| {
                    let scopes: Vec<String> = used.scopes.iter().map(|s| lit(s)).collect();
                    format!(
                        "SchemeScopes::{}({}, &[{}])",
                        if used.oauth { "oauth" } else { "other" },
                        lit(&used.scheme),
                        scopes.join(", ")
                    )
                })
                .collect();
            format!("SecurityRequirement::of(&[{}])", schemes.join(", "))
        })
        .collect()
}
