//! Operation metadata generated from specs/operations.yaml.

use wharf::http::Method;
use wharf_generated_tests::operations_spec::operations::*;

#[test]
fn method_path_tags_and_idempotency() {
    assert_eq!(REPOS_GET.name, "repos/get");
    assert_eq!(REPOS_GET.method, Method::GET);
    assert_eq!(REPOS_GET.path, "/repos/{owner}/{repo}");
    assert_eq!(REPOS_GET.tags, ["repos"]);
    assert!(REPOS_GET.is_safe() && !CHARGES_CREATE.is_idempotent());
    // Only the operation with an Idempotency-Key header (via $ref) takes one.
    let keyed: Vec<&str> = ALL
        .iter()
        .filter(|o| o.accepts_idempotency_key)
        .map(|o| o.name.as_ref())
        .collect();
    assert_eq!(keyed, ["charges/create"]);
}

#[test]
fn security_defaults_overrides_and_opt_outs() {
    // Document default.
    assert_eq!(
        wharf::scopes_for([&REPOS_GET])
            .into_iter()
            .collect::<Vec<_>>(),
        ["repo:read"]
    );
    // `security: []`: no authentication.
    assert!(GET_STATUS.security.is_empty());
    assert_eq!(GET_STATUS.name, "GET /status", "named from method and path");
    // Alternatives: the cheapest is taken (a bearer token needs no scopes).
    assert!(wharf::scopes_for([&REPOS_DELETE]).is_empty());
    // Optional auth (`{}`) needs nothing.
    assert!(wharf::scopes_for([&SEARCH]).is_empty());
}

#[test]
fn least_privilege_union_over_operations_in_use() {
    let scopes: Vec<_> = wharf::scopes_for([&REPOS_GET, &CHARGES_CREATE])
        .into_iter()
        .collect();
    assert_eq!(scopes, ["charges:read", "charges:write", "repo:read"]);
    let all: Vec<_> = wharf::scopes_for(ALL.iter().copied()).into_iter().collect();
    assert_eq!(all, ["charges:read", "charges:write", "repo:read"]);
}

#[test]
fn duplicate_operation_ids_get_distinct_constants() {
    assert_eq!(SEARCH.method, Method::GET);
    assert_eq!(SEARCH2.method, Method::POST);
    assert_eq!(SEARCH2.name, "search");
    assert_eq!(ALL.len(), 6);
}

#[test]
fn security_schemes_carry_oauth_endpoints_and_scopes() {
    use wharf_generated_tests::operations_spec::security_schemes::{ALL, OAUTH, TOKEN};
    assert_eq!(ALL.len(), 2);
    assert_eq!((OAUTH.name, OAUTH.kind), ("oauth", "oauth2"));
    assert_eq!(
        OAUTH.authorization_url,
        Some("https://example.test/authorize")
    );
    assert!(OAUTH.scopes.contains(&"repo:admin"));
    let metadata = wharf::auth::ServerMetadata::from_scheme(&OAUTH).unwrap();
    assert_eq!(metadata.token_endpoint, "https://example.test/token");
    assert_eq!(TOKEN.kind, "http");
    assert!(wharf::auth::ServerMetadata::from_scheme(&TOKEN).is_none());
}
