//! The generator on specs written here: snapshots of the generated code
//! (`WHARF_UPDATE_SNAPSHOTS=1` rewrites them), validity of every output as
//! Rust, and diagnostics for broken input.

use std::path::{Path, PathBuf};
use wharf_codegen::{Diagnostic, Generator, Severity};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn assert_parses(name: &str, code: &str) {
    if let Err(e) = syn::parse_file(code) {
        let line = e.span().start().line;
        let context: Vec<_> = code.lines().skip(line.saturating_sub(3)).take(5).collect();
        panic!(
            "{name}: generated code does not parse: {e} at line {line}:\n{}",
            context.join("\n")
        );
    }
}

#[test]
fn snapshots_of_specs_written_here() {
    let update = std::env::var_os("WHARF_UPDATE_SNAPSHOTS").is_some();
    let mut checked = 0;
    let mut specs: Vec<_> = std::fs::read_dir(root().join("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "json")
            )
        })
        .collect();
    specs.sort();
    for spec in specs {
        let stem = spec.file_stem().unwrap().to_string_lossy().into_owned();
        let generated = Generator::new(&spec)
            .rerun_if_changed(false)
            .generate()
            .unwrap();
        assert_parses(&stem, &generated.code);
        let snapshot = root()
            .join("codegen/tests/snapshots")
            .join(format!("{stem}.rs"));
        if update {
            std::fs::write(&snapshot, &generated.code).unwrap();
        } else {
            let expected = std::fs::read_to_string(&snapshot).unwrap_or_else(|_| {
                panic!(
                    "no snapshot {}; run with WHARF_UPDATE_SNAPSHOTS=1",
                    snapshot.display()
                )
            });
            assert!(
                expected == generated.code,
                "{stem}: generated code differs from {} (rerun with WHARF_UPDATE_SNAPSHOTS=1 and review the diff)",
                snapshot.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "no specs found in specs/");
}

#[test]
fn generation_is_deterministic() {
    let spec = root().join("specs/tolerant.yaml");
    let a = Generator::new(&spec).generate().unwrap().code;
    let b = Generator::new(&spec).generate().unwrap().code;
    assert_eq!(a, b);
}

fn find<'a>(diags: &'a [Diagnostic], pointer: &str) -> &'a Diagnostic {
    diags
        .iter()
        .find(|d| d.pointer == pointer)
        .unwrap_or_else(|| panic!("no diagnostic at {pointer}; got:\n{}", list(diags)))
}

fn list(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn broken_spec_degrades_with_located_diagnostics() {
    let spec = root().join("codegen/tests/fixtures/broken.json");
    let generated = Generator::new(&spec).generate().unwrap();
    assert_parses("broken", &generated.code);
    let d = &generated.diagnostics;
    let dangling = find(d, "/components/schemas/DanglingRef");
    assert!(dangling.message.contains("points to nothing"), "{dangling}");
    assert_eq!(dangling.line, Some(9), "line of the node in the JSON text");
    assert!(find(d, "/components/schemas/RemoteRef")
        .message
        .contains("remote"));
    assert!(find(d, "/components/schemas/NotASchema")
        .message
        .contains("not an object"));
    assert!(find(d, "/components/schemas/WeirdType")
        .message
        .contains("unknown type \"file\""));
    assert!(find(d, "/components/schemas/BadProps/properties")
        .message
        .contains("not an object"));
    assert!(find(d, "/components/schemas/Collide/properties/foo_bar")
        .message
        .contains("collides"));
    assert!(find(d, "/components/schemas/TupleItems")
        .message
        .contains("tuple"));
    assert!(find(d, "/components/schemas/RefCycleA")
        .message
        .contains("cycle"));
    assert!(find(d, "/components/schemas/FalseSchema")
        .message
        .contains("admits no value"));
    assert!(find(d, "/components/schemas/good")
        .message
        .contains("already taken"));
    assert!(d
        .iter()
        .all(|x| x.severity == Severity::Warning || x.severity == Severity::Error));
    // Degraded schemas are still types users can name.
    for ty in [
        "pub type DanglingRef = ::wharf::Value;",
        "pub struct Good2 ",
        "pub struct DeepAllOf ",
    ] {
        assert!(generated.code.contains(ty), "missing `{ty}`");
    }
}

#[test]
fn relative_file_refs_load_with_cross_file_cycles() {
    let spec = root().join("codegen/tests/fixtures/multi/main.yaml");
    let generated = Generator::new(&spec).generate().unwrap();
    assert_parses("multi", &generated.code);
    let code = &generated.code;
    assert!(code.contains("pub struct Order {"));
    assert!(
        code.contains("pub error: Box<Error> = Required(\"error\"),"),
        "{code}"
    );
    assert!(
        code.contains("pub order: Option<Box<Order>> = Optional(\"order\"),"),
        "cycle across files is boxed"
    );
    assert!(code.contains("pub struct Customer {"));
    let missing = generated
        .diagnostics
        .iter()
        .find(|d| d.message.contains("nope.yaml"))
        .unwrap_or_else(|| panic!("{}", list(&generated.diagnostics)));
    assert!(missing.file.ends_with("common.yaml"), "{missing}");
    assert_eq!(missing.pointer, "/Customer/properties/missing");
    assert_eq!(missing.line, Some(10), "YAML diagnostics carry lines too");
}

#[test]
fn unreadable_or_non_openapi_input_is_an_error_not_a_panic() {
    assert!(Generator::new("/nonexistent/spec.yaml").generate().is_err());
    for text in [
        "",
        "{",
        "[]",
        "swagger: '1.2'",
        "openapi: 9.9.9",
        "\u{feff}{\"openapi\": 1}",
    ] {
        assert!(Generator::from_text(text).generate().is_err(), "{text:?}");
    }
}

#[test]
fn odd_but_valid_inputs_generate() {
    for text in [
        "openapi: 3.1.0",
        "{\"openapi\": \"3.0.0\", \"components\": {\"schemas\": []}}",
        "openapi: 3.1.0\ncomponents:\n  schemas:\n    A: {type: [\"null\"]}\n    B: {oneOf: []}\n    C: {allOf: [{}]}\n    D: {properties: {}}\n    E: {type: object, additionalProperties: false}\n    F: {enum: []}\n    G: {$ref: 5}\n    H: {anyOf: [{type: 'null'}, {$ref: '#/components/schemas/H'}]}",
        "openapi: 3.0.0\ncomponents:\n  schemas:\n    '': {type: string}\n    '123': {type: string}\n    'a b': {type: object, properties: {'': {type: string}, '\"': {type: string}, '\\\\': {type: integer}}}",
    ] {
        let generated = Generator::from_text(text).generate().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_parses(text, &generated.code);
    }
}

/// A schema named like a type the module defines itself (`Client`) is
/// renamed, with a diagnostic, instead of clashing (found in the corpus).
#[test]
fn schemas_named_client_do_not_clash_with_the_client() {
    let text = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/c": {"get": {"operationId": "listClients", "responses": {"200": {
            "description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Client"}}}}}}}},
        "components": {"schemas": {"Client": {"type": "object", "properties": {"id": {"type": "string"}}}}}}"##;
    let generated = Generator::from_text(text).generate().unwrap();
    assert!(generated.code.contains("pub struct Client2 {"));
    assert!(
        generated.code.contains("ReplyFuture<Client2, ()>"),
        "{}",
        generated.code
    );
    assert!(generated
        .diagnostics
        .iter()
        .any(|d| d.message.contains("this schema is named `Client2`")));
    assert_parses("client-clash", &generated.code);
}

#[test]
fn policies_replace_per_target_and_their_constants_never_clash() {
    use std::time::Duration;
    use wharf_codegen::{PolicySpec, PolicyTarget, RetrySpec};
    let spec = r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /users:
    get:
      operationId: getUser
      responses: {"200": {description: ok}}
  /other:
    post:
      operationId: opGetUserPolicy
      responses: {"200": {description: ok}}
"#;
    let retrying = PolicySpec {
        retry: Some(RetrySpec {
            max_attempts: 3,
            base: None,
            cap: None,
        }),
        ..PolicySpec::default()
    };
    let op = |id: &str| PolicyTarget::Operation(id.to_owned());
    // Retrying the mutating operation is refused...
    let refused = Generator::from_text(spec)
        .policy(op("opGetUserPolicy"), retrying.clone())
        .generate();
    assert!(matches!(
        refused,
        Err(wharf_codegen::GeneratorError::Policy(_))
    ));
    // ...unless a later policy for the same target replaces it.
    let timeout = PolicySpec {
        timeout: Some(Duration::from_secs(2)),
        ..PolicySpec::default()
    };
    let generated = Generator::from_text(spec)
        .policy(op("opGetUserPolicy"), retrying)
        .policy(op("opGetUserPolicy"), timeout.clone())
        .policy(op("getUser"), timeout)
        .generate()
        .unwrap();
    assert_parses("policies", &generated.code);
    // getUser's policy constant would shout like the other operation's
    // metadata static: it gets a suffix instead of a duplicate item.
    assert!(generated.code.contains("pub static OP_GET_USER_POLICY:"));
    assert!(generated.code.contains("pub const OP_GET_USER_POLICY_2:"));
}

#[test]
fn webhook_names_do_not_depend_on_the_order_of_the_spec() {
    // Two events whose names collide in Rust (`item-created`, `item_created`)
    // and a schema already called `WebhookEvent`: whichever comes first in
    // the file, the same one gets the plain name.
    let spec = |first: &str, second: &str| {
        format!(
            r#"{{"openapi": "3.1.0", "info": {{"title": "t", "version": "1"}},
                "components": {{"schemas": {{"WebhookEvent": {{"type": "string"}}}}}},
                "webhooks": {{{first}, {second}}}}}"#
        )
    };
    let event = |name: &str| {
        format!(
            r#""{name}": {{"post": {{"requestBody": {{"content": {{"application/json": {{"schema": {{"type": "object", "properties": {{"n": {{"type": "integer"}}}}}}}}}}}}, "responses": {{"200": {{"description": "ok"}}}}}}}}"#
        )
    };
    let (a, b) = (event("item-created"), event("item_created"));
    let one = Generator::from_text(spec(&a, &b)).generate().unwrap();
    let other = Generator::from_text(spec(&b, &a)).generate().unwrap();
    assert_eq!(one.code, other.code);
    assert_parses("webhook-order", &one.code);
    assert!(
        one.code.contains("pub enum WebhookEvent2 {"),
        "the schema keeps its name"
    );
    assert!(one
        .code
        .contains("    ItemCreated(Box<ItemCreatedPayload>),"));
    assert!(one
        .code
        .contains("    ItemCreated2(Box<ItemCreated2Payload>),"));
    assert!(one.code.contains("fn item_created2("));
    assert_eq!(
        one.webhooks
            .iter()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>(),
        ["item-created", "item_created"]
    );
}

#[test]
fn configuration_naming_what_the_spec_lacks_is_an_error_naming_each_target() {
    use wharf_codegen::{ConfigTarget, GeneratorError, Paging};
    let spec = root().join("specs/responses.yaml");
    let err = Generator::new(&spec)
        .rerun_if_changed(false)
        .paging("listEventz", Paging::Link)
        .paging(
            "listEvents",
            Paging::Token {
                param: "page_token".into(),
                field: "next_token".into(),
            },
        )
        .rename_type("Pett", "Animal")
        .generate()
        .unwrap_err();
    let GeneratorError::Config(problems) = &err else {
        panic!("{err}");
    };
    let targets: Vec<&ConfigTarget> = problems.iter().map(|p| &p.target).collect();
    assert_eq!(
        targets,
        [
            &ConfigTarget::Paging("listEventz".into()),
            &ConfigTarget::Rename("Pett".into()),
            &ConfigTarget::Paging("listEvents".into()),
        ]
    );
    let text = err.to_string();
    assert!(text.contains("\"next_token\""), "{text}");
    assert!(text.contains("no component schema"), "{text}");
    // write_to writes nothing then.
    let out = std::env::temp_dir().join(format!("wharf-config-{}.rs", std::process::id()));
    let _ = std::fs::remove_file(&out);
    assert!(Generator::new(&spec)
        .rerun_if_changed(false)
        .tags(["nope"])
        .write_to(&out)
        .is_err());
    assert!(!out.exists(), "nothing written");
    // The same names that exist pass.
    Generator::new(&spec)
        .rerun_if_changed(false)
        .paging("listEvents", Paging::Link)
        .rename_type("Pet", "Animal")
        .generate()
        .unwrap();
}

/// A spec whose component `S0` refers to `S1`, ... up to `S{n-1}`, and
/// `S{n-1}` to `end` (a `$ref` or a schema).
fn ref_chain(n: usize, end: &str) -> String {
    let mut schemas: Vec<String> = (0..n - 1)
        .map(|i| {
            format!(
                "\"S{i}\": {{\"$ref\": \"#/components/schemas/S{}\"}}",
                i + 1
            )
        })
        .collect();
    schemas.push(format!("\"S{}\": {end}", n - 1));
    format!(
        r#"{{"openapi": "3.0.3", "info": {{"title": "chain", "version": "1"}}, "paths": {{}},
            "components": {{"schemas": {{{}}}}}}}"#,
        schemas.join(", ")
    )
}

#[test]
fn a_long_ref_chain_or_a_ref_cycle_is_one_diagnostic_naming_its_cause() {
    let long = Generator::from_text(ref_chain(2000, r#"{"type": "string"}"#))
        .generate()
        .unwrap();
    let about: Vec<&Diagnostic> = long
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("$ref"))
        .collect();
    assert_eq!(about.len(), 1, "{}", list(&long.diagnostics));
    assert!(
        about[0].message.contains("hop limit"),
        "{}",
        about[0].message
    );
    assert!(!about[0].message.contains("cycle"), "{}", about[0].message);

    let cycle = Generator::from_text(ref_chain(5, r##"{"$ref": "#/components/schemas/S2"}"##))
        .generate()
        .unwrap();
    let about: Vec<&Diagnostic> = cycle
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("$ref"))
        .collect();
    assert_eq!(about.len(), 1, "{}", list(&cycle.diagnostics));
    assert!(
        about[0].message.contains(
            "cycle of schemas that are only `$ref`s (#/components/schemas/S2 -> #/components/schemas/S3 -> #/components/schemas/S4 -> #/components/schemas/S2)"
        ),
        "{}",
        about[0].message
    );
}

/// Every public name a generated module defines, sorted.
fn public_names(code: &str) -> Vec<String> {
    let mut names: Vec<String> = code
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("pub ")?;
            let rest = rest.strip_prefix("async ").unwrap_or(rest);
            let (kind, rest) = rest.split_once(' ')?;
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            [
                "struct", "enum", "fn", "const", "static", "mod", "type", "trait",
            ]
            .contains(&kind)
            .then(|| format!("{kind} {name}"))
        })
        .collect();
    names.sort();
    names
}

/// `value` with the entries of every object in reverse order.
fn reversed(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map.iter().rev() {
                out.insert(k.clone(), reversed(v));
            }
            serde_json::Value::Object(out)
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(reversed).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn reordering_a_spec_renames_nothing_public() {
    for spec in [
        "operations.yaml",
        "responses.yaml",
        "bodies.yaml",
        "params.yaml",
        "tolerant.yaml",
    ] {
        let text = std::fs::read_to_string(root().join("specs").join(spec)).unwrap();
        let value: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
        let as_written = Generator::from_text(serde_json::to_string(&value).unwrap())
            .generate()
            .unwrap();
        let shuffled = Generator::from_text(serde_json::to_string(&reversed(&value)).unwrap())
            .generate()
            .unwrap();
        let names = public_names(&as_written.code);
        assert!(names.len() > 10, "{spec}: {names:?}");
        assert_eq!(names, public_names(&shuffled.code), "{spec}");
    }
    // A second operation with an operationId keeps a name from its method,
    // whichever comes first in the document.
    let ops = std::fs::read_to_string(root().join("specs/operations.yaml")).unwrap();
    let code = Generator::from_text(ops).generate().unwrap().code;
    assert!(
        code.contains("pub static SEARCH_POST: OperationMeta"),
        "{code}"
    );
    assert!(code.contains("pub fn search_post("));
}

#[test]
fn shared_schemas_are_named_for_their_component_whoever_reaches_them_first() {
    // `updateIssue`'s response merges `Issue`; it is lowered before the
    // component, and must not name `Issue`'s inline enum after itself.
    let spec = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
      "paths": {
        "/a": {"patch": {"operationId": "updateIssue", "tags": ["issues"], "responses": {"200": {
          "description": "ok", "content": {"application/json": {"schema": {
            "allOf": [{"$ref": "#/components/schemas/Issue"}],
            "properties": {"extra": {"type": "string"}}}}}}}}},
        "/b": {"get": {"operationId": "getIssue", "tags": ["issues"],
          "parameters": [{"$ref": "#/components/parameters/direction"}],
          "responses": {"200": {
          "description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Issue"}}}},
          "503": {"$ref": "#/components/responses/service_unavailable"}}}}},
      "components": {"schemas": {"Issue": {"type": "object", "properties": {
        "state_reason": {"type": "string", "enum": ["completed", "not_planned"]}}}},
        "parameters": {"direction": {"name": "direction", "in": "query",
          "schema": {"type": "string", "enum": ["asc", "desc"]}}},
        "responses": {"service_unavailable": {"description": "down", "content": {
          "application/json": {"schema": {"type": "object", "properties": {"code": {"type": "string"}}}}}}}}}"##;
    for selected in [vec![], vec!["updateIssue"], vec!["getIssue"]] {
        let code = Generator::from_text(spec)
            .operations(selected.clone())
            .generate()
            .unwrap()
            .code;
        assert!(
            code.contains("pub enum IssueStateReason {"),
            "{selected:?}: {code}"
        );
        assert!(
            !code.contains("UpdateIssueResponse200StateReason"),
            "{selected:?}"
        );
    }
    // Shared parameters and responses are named for their component too.
    let code = Generator::from_text(spec).generate().unwrap().code;
    assert!(code.contains("pub direction: Option<Direction>,"), "{code}");
    assert!(code.contains("pub struct ServiceUnavailable {"), "{code}");
    assert!(!code.contains("GetIssueError503"), "{code}");
}

#[test]
fn oauth_schemes_are_known_through_a_ref_and_api_keys_are_not_oauth() {
    let spec = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
      "security": [{"login": ["read"]}, {"key": []}],
      "paths": {"/a": {"get": {"operationId": "getA", "responses": {"204": {"description": "ok"}}}}},
      "x-shared": {"oauth": {"type": "oauth2", "flows": {"clientCredentials": {
        "tokenUrl": "https://auth.example.test/token", "scopes": {"read": "r"}}}}},
      "components": {"securitySchemes": {
        "login": {"$ref": "#/x-shared/oauth"},
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}}"##;
    let code = Generator::from_text(spec).generate().unwrap().code;
    assert!(
        code.contains(r#"SchemeScopes::oauth("login", &["read"])"#),
        "{code}"
    );
    assert!(
        code.contains(r#"SchemeScopes::other("key", &[])"#),
        "{code}"
    );
}

#[test]
fn swagger_2_is_read_as_openapi_3_and_diagnostics_point_at_what_was_written() {
    let spec = root().join("specs/swagger2.yaml");
    let generated = Generator::new(&spec).generate().unwrap();
    let code = &generated.code;
    for expected in [
        "from `swagger2.yaml` (Swagger 2.0)",
        "pub const DEFAULT_BASE_URL: &'static str = \"https://kennel.example.com/v1\";",
        // `x-nullable`, and doc comments name the 2.0 location.
        "pub breed: ::wharf::Nullable<String>",
        "Schema: `swagger2.yaml#/definitions/Dog`",
        // A body parameter is the request body; a formData file, multipart.
        "body: &Dog,",
        "r.multipart(parts);",
        "parts.file(\"photo\", &body.photo);",
        // collectionFormat: multi repeats the key, pipes joins with `|`.
        "pub tags: Option<Vec<String>>",
        // securityDefinitions: OAuth2 flow with its scopes, and the API key.
        "token_url: Some(\"https://kennel.example.com/oauth/token\"),",
        "scopes: &[\"dogs:read\", \"dogs:write\"],",
        "key_name: Some(\"X-Kennel-Key\"),",
    ] {
        assert!(code.contains(expected), "missing `{expected}`");
    }
    // The diagnostic quotes the `$ref` and points at the node as written
    // in 2.0, not as rewritten (`#/components/schemas/...`).
    let broken = find(&generated.diagnostics, "/definitions/Broken");
    assert!(
        broken
            .message
            .contains("$ref \"#/definitions/Nowhere\" points to nothing"),
        "{broken}"
    );
    assert_eq!(broken.line, Some(47), "line in the 2.0 text: {broken}");
    let response = find(
        &generated.diagnostics,
        "/paths/~1broken/get/responses/200/schema",
    );
    assert_eq!(response.line, Some(119), "{response}");
    assert_eq!(
        generated.diagnostics.len(),
        2,
        "{}",
        list(&generated.diagnostics)
    );
}

#[test]
fn operations_named_like_keywords_get_methods_that_compile() {
    let spec = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
        "/move": {"post": {"operationId": "Move", "responses": {"204": {"description": "moved"}}}},
        "/self": {"get": {"operationId": "self", "responses": {"204": {"description": "me"}}}}
    }}"#;
    let generated = Generator::from_text(spec).generate().unwrap();
    assert_parses("keywords", &generated.code);
    assert!(generated.code.contains("pub fn move_("));
    assert!(generated.code.contains("pub fn self_("));
}

#[test]
fn arguments_named_like_the_methods_locals_are_renamed() {
    let spec = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
        "/": {"get": {"operationId": "search", "parameters": [
            {"name": "r", "in": "query", "required": true, "schema": {"type": "string"}},
            {"name": "o", "in": "query", "required": true, "schema": {"type": "string"}},
            {"name": "raw", "in": "query", "required": true, "schema": {"type": "string"}},
            {"name": "page", "in": "query", "schema": {"type": "integer"}}
        ], "responses": {"204": {"description": "ok"}}}}
    }}"#;
    let generated = Generator::from_text(spec).generate().unwrap();
    let code = &generated.code;
    assert_parses("locals", code);
    for expected in [
        "r_: &str,",
        ".query(\"r\", r_)",
        ".query(\"o\", o_)",
        ".query(\"raw\", raw_)",
        // An options field is not an argument: it keeps its name.
        "pub page: Option<i64>,",
    ] {
        assert!(code.contains(expected), "missing `{expected}`");
    }
}

#[test]
fn what_a_sent_body_holds_in_additional_properties_serializes() {
    let spec = r##"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
        "/config": {"put": {"operationId": "putConfig",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Config"}}}},
            "responses": {"204": {"description": "ok"}}}}},
        "components": {"schemas": {
            "Config": {"type": "object", "properties": {"name": {"type": "string"}},
                       "additionalProperties": {"$ref": "#/components/schemas/Branch"}},
            "Branch": {"type": "object", "properties": {"tests": {"type": "boolean"}}}
        }}
    }"##;
    let generated = Generator::from_text(spec).generate().unwrap();
    let code = &generated.code;
    let branch = code
        .find("pub struct Branch ")
        .and_then(|at| code[..at].rfind("#[derive("))
        .and_then(|at| code[at..].lines().next());
    assert!(
        branch.is_some_and(|d| d.contains("Serialize")),
        "Branch is sent through Config's additionalProperties: {branch:?}"
    );
}
