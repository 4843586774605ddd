//! The `operations` module: one constant of metadata per operation, and
//! `ALL`, for the runtime (`Integration::call`) and least-privilege scopes
//! (`wharf::scopes_for(operations::ALL)`).

use super::docs::sanitize;
use super::{lit, Writer};
use crate::ir::Operation;

pub(super) fn operations_module(w: &mut Writer, operations: &[Operation]) {
    w.blank();
    w.line("/// Metadata of every operation: method, path template, tags, idempotency");
    w.line("/// key, and security requirements with scopes.");
    w.open("pub mod operations {");
    for op in operations {
        let mut doc = format!(
            "`{} {}`",
            op.method.to_uppercase(),
            op.path.replace('`', "'")
        );
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
            op.method.to_uppercase()
        ));
        w.line(&format!(
            "path: ::wharf::__private::Cow::Borrowed({}),",
            lit(&op.path)
        ));
        w.line(&format!(
            "accepts_idempotency_key: {},",
            op.accepts_idempotency_key
        ));
        if op.security.is_empty() {
            w.line("security: &[],");
        } else {
            w.open("security: &[");
            for requirement in &op.security {
                let schemes: Vec<String> = requirement
                    .iter()
                    .map(|(scheme, scopes)| {
                        let scopes: Vec<String> = scopes.iter().map(|s| lit(s)).collect();
                        format!(
                            "::wharf::SchemeScopes {{ scheme: {}, scopes: &[{}] }}",
                            lit(scheme),
                            scopes.join(", ")
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
