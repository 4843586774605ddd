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
    // Alternatives: the cheapest OAuth one; the bearer-token alternative
    // does not lower what an OAuth token needs.
    assert_eq!(
        wharf::scopes_for([&REPOS_DELETE])
            .into_iter()
            .collect::<Vec<_>>(),
        ["repo:admin"]
    );
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
    assert_eq!(
        all,
        ["charges:read", "charges:write", "repo:admin", "repo:read"]
    );
}

#[test]
fn duplicate_operation_ids_get_constants_named_from_their_method() {
    assert_eq!(SEARCH.method, Method::GET);
    assert_eq!(SEARCH_POST.method, Method::POST);
    assert_eq!(SEARCH_POST.name, "search");
    assert_eq!(ALL.len(), 6);
}

#[test]
fn security_schemes_carry_oauth_endpoints_and_scopes() {
    use wharf_generated_tests::operations_spec::security_schemes::{ALL, OAUTH, TOKEN};
    // oauth, token, shop_key, crm_key, account.
    assert_eq!(ALL.len(), 5);
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

/// The spec's non-OAuth schemes become ready authenticators: the key goes
/// where the spec says, and a scheme that needs something else says what.
#[tokio::test]
async fn security_schemes_make_ready_authenticators() {
    use wharf::auth::KeySource;
    use wharf::call::{Authenticator, OperationMeta, Placement, SchemeScopes, SecurityRequirement};
    use wharf_generated_tests::operations_spec::security_schemes as schemes;

    let secured = |scheme: &'static str| {
        let mut op = OperationMeta::new("things/list", Method::GET, "/things");
        op.security = Box::leak(Box::new([SecurityRequirement {
            schemes: Box::leak(Box::new([SchemeScopes {
                scheme,
                scopes: &[],
                oauth: false,
            }])),
        }]));
        op
    };
    let key = |text: &str| KeySource::new(wharf::secrecy::SecretString::from(text.to_owned()));

    let header = schemes::SHOP_KEY.authenticator(key("shop_CANARY")).unwrap();
    let sent = header
        .authorize(&secured("shop_key"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        sent.placement,
        Placement::Header("x-shop-key".parse().unwrap())
    );
    assert_eq!(sent.value, "shop_CANARY");

    let query = schemes::CRM_KEY.authenticator(key("crm_CANARY")).unwrap();
    let sent = query.authorize(&secured("crm_key")).await.unwrap().unwrap();
    assert_eq!(sent.placement, Placement::Query("hapikey".into()));

    let bearer = schemes::TOKEN.authenticator(key("tok_CANARY")).unwrap();
    let sent = bearer.authorize(&secured("token")).await.unwrap().unwrap();
    assert_eq!(sent.value, "Bearer tok_CANARY");

    // `scheme: Basic` in the spec: basic needs a user.
    let refused = schemes::ACCOUNT.authenticator(key("pw")).unwrap_err();
    assert!(
        refused.to_string().contains("basic_authenticator"),
        "{refused}"
    );
    let basic = schemes::ACCOUNT
        .basic_authenticator("AC123", key("pw_CANARY"))
        .unwrap();
    let sent = basic.authorize(&secured("account")).await.unwrap().unwrap();
    assert!(sent.value.to_str().unwrap().starts_with("Basic "));
    // OAuth is a Credential's job.
    let oauth = schemes::OAUTH.authenticator(key("x")).unwrap_err();
    assert!(oauth.to_string().contains("Credential"), "{oauth}");
    assert!(schemes::SHOP_KEY
        .basic_authenticator("u", key("p"))
        .is_err());
}
