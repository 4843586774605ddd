//! The `operations` module: one constant of metadata per operation, and
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
    let names = policy_consts(w, policies, operations);
    for op in operations {
        let mut doc = format!("`{} {}`", op.method.as_str(), op.path.replace('`', "'"));
        if let Some(summary) = op.summary.as_deref().filter(|s| !s.trim().is_empty()) {
            doc.push_str(": ");
            doc.push_str(summary.trim());
        }
        doc.push_str(&format!(
            "\n\nSpec: `{}`",
            super::types::short_origin(&op.origin)
        ));
        w.doc(&sanitize(&doc));
        w.open(&format!(
            "pub const {}: ::wharf::OperationMeta = ::wharf::OperationMeta {{",
            op.const_name
        ));
        w.line(&format!(
            "name: ::wharf::__private::Cow::Borrowed({}),",
            lit(&op.name)
        ));
        w.line(&format!(
            "method: ::wharf::http::Method::{},",
            op.method.as_str()
        ));
        w.line(&format!(
            "path: ::wharf::__private::Cow::Borrowed({}),",
            lit(&op.path)
        ));
        w.line(&format!(
            "accepts_idempotency_key: {},",
            op.accepts_idempotency_key
        ));
        w.line(&format!("accept: {},", lit(&op.responses.accept)));
        if op.security.is_empty() {
            w.line("security: &[],");
        } else {
            w.open("security: &[");
            for requirement in &op.security {
                let schemes: Vec<String> = requirement
                    .iter()
                    .map(|used| {
                        let scopes: Vec<String> = used.scopes.iter().map(|s| lit(s)).collect();
                        format!(
                            "::wharf::SchemeScopes {{ scheme: {}, scopes: &[{}], oauth: {} }}",
                            lit(&used.scheme),
                            scopes.join(", "),
                            used.oauth
                        )
                    })
                    .collect();
                w.line(&format!(
                    "::wharf::SecurityRequirement {{ schemes: &[{}] }},",
                    schemes.join(", ")
                ));
            }
            w.close("],");
        }
        let tags: Vec<String> = op.tags.iter().map(|t| lit(t)).collect();
        w.line(&format!("tags: &[{}],", tags.join(", ")));
        w.line(&format!(
            "idempotent_by_method: {},",
            op.idempotent_by_method()
        ));
        policy_field(w, op, policies, &names);
        w.close("};");
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

fn policy_field(
    w: &mut Writer,
    op: &Operation,
    policies: &Policies,
    names: &BTreeMap<PolicyTarget, String>,
) {
    if policies.is_empty() {
        w.line("policies: &::wharf::policy::OperationPolicies::NONE,");
        return;
    }
    let [own, tag, client] =
        policies
            .levels(op)
            .map(|(target, spec)| match (spec, names.get(&target)) {
                (Some(_), Some(name)) => name.clone(),
                _ => "::wharf::policy::Policy::NONE".to_owned(),
            });
    w.open("policies: &::wharf::policy::OperationPolicies {");
    w.line(&format!("operation: {own},"));
    w.line(&format!("tag: {tag},"));
    w.line(&format!("client: {client},"));
    w.close("},");
}
