//! Compile-time checks the policy macros expand to (`const` items): what
//! an operation's generated metadata says about it.

use super::request::OperationMeta;

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether the spec lists `scope` in any security requirement of `op`.
pub const fn lists_scope(op: &OperationMeta, scope: &str) -> bool {
    let mut r = 0;
    while r < op.security.len() {
        let schemes = op.security[r].schemes;
        let mut s = 0;
        while s < schemes.len() {
            let scopes = schemes[s].scopes;
            let mut k = 0;
            while k < scopes.len() {
                if str_eq(scopes[k], scope) {
                    return true;
                }
                k += 1;
            }
            s += 1;
        }
        r += 1;
    }
    false
}

/// Whether a retry of `op` cannot repeat a side effect on its own:
/// idempotent by method, or taking an idempotency key the runtime sends,
/// or covered by a generated idempotency plan.
pub const fn retry_is_safe(op: &OperationMeta) -> bool {
    op.idempotent_by_method || op.accepts_idempotency_key || op.policies.has_idempotency_plan()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::{SchemeScopes, SecurityRequirement};

    #[test]
    fn const_checks_read_the_generated_metadata() {
        const SECURITY: &[SecurityRequirement] = &[SecurityRequirement {
            schemes: &[SchemeScopes {
                scheme: "oauth",
                scopes: &["repo", "read:org"],
                oauth: true,
            }],
        }];
        let mut op = OperationMeta::new("create", http::Method::POST, "/x");
        op.security = SECURITY;
        assert!(lists_scope(&op, "read:org"));
        assert!(!lists_scope(&op, "read:or"));
        assert!(!lists_scope(&op, "admin"));
        assert!(!retry_is_safe(&op));
        assert!(retry_is_safe(&op.clone().with_idempotency_key()));
        let put = OperationMeta::new("put", http::Method::PUT, "/x");
        assert!(retry_is_safe(&put));
    }
}
