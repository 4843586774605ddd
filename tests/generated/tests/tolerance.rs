//! The tolerant decoding rules, on types generated from specs/tolerant.yaml.
//! Each rule is shown failing under plain strict serde expectations (or as a
//! hard error where strictness is required) and passing with wharf.

use serde_json::json;
use wharf::{DriftKind, JsonType, Nullable};
use wharf_generated_tests::tolerant::*;

fn repo_json() -> serde_json::Value {
    json!({
        "id": 7,
        "name": "wharf",
        "full-name": "acme/wharf",
        "description": null,
        "visibility": "public",
        "owner": {"login": "acme", "id": 1},
        "created_at": "2026-01-02T03:04:05Z",
        "labels": {"bug": 3},
        "+1": 2
    })
}

fn decode<T: wharf::__private::Decode>(
    v: &serde_json::Value,
) -> Result<wharf::Decoded<T>, wharf::DecodeError> {
    wharf::decode::<T>(v.to_string().as_bytes())
}

#[test]
fn conforming_payload_decodes_without_drift() {
    let d = decode::<Repo>(&repo_json()).unwrap();
    assert!(d.drift.is_empty(), "{:?}", d.drift);
    assert_eq!(d.value.id, 7);
    assert_eq!(d.value.full_name.as_deref(), Some("acme/wharf"));
    assert_eq!(d.value.visibility, Visibility::Public);
    assert_eq!(d.value.owner.login, "acme");
    assert_eq!(d.value.plus_1, Some(2));
    assert_eq!(d.value.labels.as_ref().map(|l| l["bug"]), Some(3));
}

#[test]
fn unknown_fields_are_ignored_and_reported() {
    let mut v = repo_json();
    v["brand_new"] = json!({"x": [1, 2]});
    v["owner"]["avatar"] = json!("u");
    let d = decode::<Repo>(&v).unwrap();
    let mut found: Vec<_> = d
        .drift
        .iter()
        .map(|d| (d.pointer.as_str(), &d.kind))
        .collect();
    found.sort_by_key(|(p, _)| *p);
    assert_eq!(
        found,
        [
            ("/brand_new", &DriftKind::UnknownField),
            ("/owner/avatar", &DriftKind::UnknownField)
        ]
    );
}

#[test]
fn unknown_enum_values_are_kept() {
    let mut v = repo_json();
    v["visibility"] = json!("secret");
    let d = decode::<Repo>(&v).unwrap();
    assert_eq!(d.value.visibility, Visibility::Unknown("secret".into()));
    assert_eq!(d.value.visibility.to_string(), "secret");
    assert_eq!(d.drift[0].pointer, "/visibility");
    assert_eq!(
        d.drift[0].kind,
        DriftKind::UnknownEnumValue {
            value: "secret".into()
        }
    );
    // And it serializes back as it came.
    assert_eq!(
        serde_json::to_value(&d.value).unwrap()["visibility"],
        "secret"
    );
}

#[test]
fn absent_null_and_value_are_three_states() {
    let mut v = repo_json();
    let d = decode::<Repo>(&v).unwrap();
    assert_eq!(d.value.description, Nullable::Null);
    v.as_object_mut().unwrap().remove("description");
    assert_eq!(
        decode::<Repo>(&v).unwrap().value.description,
        Nullable::Absent
    );
    v["description"] = json!("docs");
    assert_eq!(
        decode::<Repo>(&v).unwrap().value.description,
        Nullable::Value("docs".into())
    );
}

#[test]
fn serialization_preserves_absent_and_null() {
    let v = repo_json();
    let repo = decode::<Repo>(&v).unwrap().value;
    let back = serde_json::to_value(&repo).unwrap();
    assert_eq!(back["description"], json!(null), "explicit null kept");
    assert!(back.get("topics").is_none(), "absent stays absent");
    assert!(back.get("license").is_none());
    assert_eq!(back, v, "round trip is exact for a conforming payload");
}

#[test]
fn lossless_scalar_coercions_with_drift() {
    let mut v = repo_json();
    v["id"] = json!("123");
    v["stars"] = json!(5.0);
    v["private"] = json!("true");
    v["name"] = json!(42);
    let d = decode::<Repo>(&v).unwrap();
    assert_eq!(
        (d.value.id, d.value.stars, d.value.private),
        (123, Some(5), Some(true))
    );
    assert_eq!(d.value.name, "42");
    let mut kinds: Vec<_> = d
        .drift
        .iter()
        .map(|d| (d.pointer.as_str(), &d.kind))
        .collect();
    kinds.sort_by_key(|(p, _)| *p);
    assert_eq!(
        kinds,
        [
            (
                "/id",
                &DriftKind::Coerced {
                    from: JsonType::String,
                    to: "i64"
                }
            ),
            (
                "/name",
                &DriftKind::Coerced {
                    from: JsonType::Integer,
                    to: "String"
                }
            ),
            (
                "/private",
                &DriftKind::Coerced {
                    from: JsonType::String,
                    to: "bool"
                }
            ),
            (
                "/stars",
                &DriftKind::Coerced {
                    from: JsonType::Float,
                    to: "i32"
                }
            ),
        ]
    );
}

#[test]
fn null_in_non_nullable_optional_field_becomes_absent() {
    let mut v = repo_json();
    v["topics"] = json!(null);
    let d = decode::<Repo>(&v).unwrap();
    assert_eq!(d.value.topics, None);
    assert_eq!(d.drift[0].pointer, "/topics");
    assert_eq!(d.drift[0].kind, DriftKind::NullInNonNullable);
}

#[test]
fn unfit_optional_value_becomes_absent_not_a_failure() {
    let mut v = repo_json();
    v["stars"] = json!({"not": "a number"});
    v["uuid"] = json!("not-a-uuid");
    v["license"] = json!([1, 2]);
    v["topics"] = json!(["a", {"b": 1}]);
    let d = decode::<Repo>(&v).unwrap();
    assert_eq!(d.value.stars, None);
    assert_eq!(d.value.uuid, None);
    assert_eq!(d.value.license, Nullable::Absent);
    assert_eq!(d.value.topics, None);
    let mut pointers: Vec<_> = d.drift.iter().map(|d| d.pointer.as_str()).collect();
    pointers.sort();
    assert_eq!(pointers, ["/license", "/stars", "/topics", "/uuid"]);
    assert!(d
        .drift
        .iter()
        .all(|d| matches!(d.kind, DriftKind::Discarded { .. })));
    // The nested failure location is named in the reason.
    let topics = d.drift.iter().find(|d| d.pointer == "/topics").unwrap();
    let DriftKind::Discarded { reason } = &topics.kind else {
        unreachable!()
    };
    assert!(reason.contains("/topics/1"), "{reason}");
}

#[test]
fn nested_optional_object_with_missing_required_field_is_dropped() {
    let mut v = repo_json();
    v["parent"] = json!({"id": 1});
    let d = decode::<Repo>(&v).unwrap();
    assert_eq!(d.value.parent, None);
    let DriftKind::Discarded { reason } = &d.drift[0].kind else {
        panic!("{:?}", d.drift)
    };
    assert!(reason.contains("missing required field `name`"), "{reason}");
}

#[test]
fn missing_required_field_is_an_error_naming_pointer_and_field() {
    let mut v = repo_json();
    v["owner"].as_object_mut().unwrap().remove("login");
    let err = decode::<Repo>(&v).unwrap_err();
    assert_eq!(err.pointer(), Some("/owner/login"));
    assert_eq!(err.field(), Some("login"));
    assert!(err.to_string().contains("missing required field `login`"));
}

#[test]
fn unfit_required_value_is_an_error() {
    let mut v = repo_json();
    v["created_at"] = json!("last tuesday");
    let err = decode::<Repo>(&v).unwrap_err();
    assert_eq!(err.pointer(), Some("/created_at"));
    assert_eq!(err.field(), Some("created_at"));
}

#[test]
fn plain_serde_is_tolerant_too() {
    let mut v = repo_json();
    v["id"] = json!("9");
    v["visibility"] = json!("secret");
    v["extra"] = json!(true);
    v["stars"] = json!("many");
    let repo: Repo = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(repo.id, 9);
    assert_eq!(repo.stars, None);
    let repo: Repo = serde_json::from_slice(v.to_string().as_bytes()).unwrap();
    assert_eq!(repo.visibility, Visibility::Unknown("secret".into()));
    v.as_object_mut().unwrap().remove("name");
    let err = serde_json::from_value::<Repo>(v).unwrap_err();
    assert!(
        err.to_string().contains("missing required field `name`"),
        "{err}"
    );
}

#[test]
fn discriminated_union_routes_by_tag() {
    let d = decode::<Pet>(&json!({"pet_type": "Dog", "name": "Rex", "bark": "woof"})).unwrap();
    assert!(matches!(&d.value, Pet::Dog(dog) if dog.bark.as_deref() == Some("woof")));
    let d = decode::<Pet>(&json!({"pet_type": "kitty", "name": "Tom"})).unwrap();
    assert!(matches!(d.value, Pet::Cat(_)), "explicit mapping");
    let d = decode::<Pet>(&json!({"pet_type": "parrot", "name": "Polly"})).unwrap();
    assert!(
        matches!(&d.value, Pet::Other(raw) if raw["name"] == "Polly"),
        "kept raw"
    );
    assert!(matches!(
        d.drift[0].kind,
        DriftKind::UnmatchedVariant { .. }
    ));
    // Serializing gives back the same JSON.
    let v = json!({"pet_type": "Dog", "name": "Rex"});
    assert_eq!(
        serde_json::to_value(decode::<Pet>(&v).unwrap().value).unwrap(),
        v
    );
}

#[test]
fn untagged_union_picks_the_best_fit() {
    let d = decode::<Shape>(&json!({"side": 2.0})).unwrap();
    assert!(
        matches!(d.value, Shape::Square(ref s) if s.side == 2.0),
        "{:?}",
        d.value
    );
    assert!(d.drift.is_empty());
    let d = decode::<IdOrName>(&json!(5)).unwrap();
    assert_eq!(d.value, IdOrName::Integer(5), "exact match beats coercion");
    let d = decode::<IdOrName>(&json!("x")).unwrap();
    assert_eq!(d.value, IdOrName::String("x".into()));
    let d = decode::<Shape>(&json!([1])).unwrap();
    assert!(matches!(d.value, Shape::Other(_)));
}

#[test]
fn all_of_merges_fields() {
    let d = decode::<Named>(&json!({"login": "a", "display": "A"})).unwrap();
    assert_eq!(
        (d.value.login.as_str(), d.value.display.as_str()),
        ("a", "A")
    );
    assert!(
        decode::<Named>(&json!({"login": "a"})).is_err(),
        "required from the second member"
    );
}

#[test]
fn recursive_types_compile_and_decode() {
    let d = decode::<Node>(&json!({"value": 1, "next": {"value": 2}, "children": [{"value": 3}]}))
        .unwrap();
    assert_eq!(d.value.next.as_ref().map(|n| n.value), Some(2));
    let t = decode::<Tree>(&json!([[], [[]]])).unwrap();
    assert_eq!(t.value.0.len(), 2);
}

#[test]
fn additional_properties_are_kept_not_drift() {
    let v = json!({"theme": "dark", "font": "mono", "size": 12});
    let d = decode::<Settings>(&v).unwrap();
    assert!(d.drift.is_empty());
    assert_eq!(d.value.extra["font"], "mono");
    assert_eq!(serde_json::to_value(&d.value).unwrap(), v);
}

#[test]
fn nullable_array_items_and_keyword_fields() {
    let d = decode::<Tags>(&json!(["a", null])).unwrap();
    assert_eq!(d.value, vec![Some("a".to_owned()), None]);
    let d = decode::<OptionSchema>(&json!({"self": "s", "crate": "c", "map": "m", "key": "k"}))
        .unwrap();
    assert_eq!(d.value.self_.as_deref(), Some("s"));
    assert_eq!(d.value.map.as_deref(), Some("m"));
    assert_eq!(serde_json::to_value(&d.value).unwrap()["crate"], "c");
}

#[test]
fn malformed_json_is_a_syntax_error() {
    let err = wharf::decode::<Repo>(b"{\"id\": 1,").unwrap_err();
    assert!(matches!(err, wharf::DecodeError::Malformed { .. }), "{err}");
}

/// What a hand-written client would derive for the same schema: each rule's
/// payload fails here and decodes with the generated type.
mod strict {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    pub struct Repo {
        pub id: i64,
        pub name: String,
        pub stars: Option<i32>,
        pub private: Option<bool>,
        pub visibility: Visibility,
        pub uuid: Option<uuid_like::Uuid>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "lowercase")]
    pub enum Visibility {
        Public,
        Private,
        Internal,
    }

    pub mod uuid_like {
        /// A UUID-shaped string (strict: anything else is an error).
        #[derive(Debug)]
        pub struct Uuid;
        impl<'de> serde::Deserialize<'de> for Uuid {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if s.len() == 36 {
                    Ok(Uuid)
                } else {
                    Err(serde::de::Error::custom("not a uuid"))
                }
            }
        }
    }
}

#[test]
fn each_rule_fails_strictly_and_passes_tolerantly() {
    let cases: [(&str, serde_json::Value); 5] = [
        ("integer as string", json!("123")),
        ("unknown enum value", json!("secret")),
        ("boolean as string", json!("true")),
        (
            "value that does not fit an optional field",
            json!({"not": "a number"}),
        ),
        ("malformed uuid", json!("not-a-uuid")),
    ];
    let fields = ["id", "visibility", "private", "stars", "uuid"];
    for ((rule, value), field) in cases.into_iter().zip(fields) {
        let mut v = repo_json();
        v[field] = value;
        let strict = serde_json::from_value::<strict::Repo>(v.clone());
        assert!(strict.is_err(), "{rule}: strict derive accepted it");
        let tolerant = decode::<Repo>(&v).unwrap_or_else(|e| panic!("{rule}: {e}"));
        assert_eq!(tolerant.drift.len(), 1, "{rule}: exactly one drift record");
        assert_eq!(tolerant.drift[0].pointer, format!("/{field}"), "{rule}");
    }
}

#[test]
fn secrets_in_generated_types_never_reach_debug() {
    let v = json!({
        "token": "CANARY-tok",
        "expires_at": "2026-01-01T00:00:00Z",
        "refresh_token": "CANARY-ref",
        "permissions": {"contents": "read"}
    });
    let t = decode::<InstallationToken>(&v).unwrap().value;
    let shown = format!("{t:?} {t:#?}");
    assert!(!shown.contains("CANARY"), "{shown}");
    assert!(
        shown.contains("expires_at") && shown.contains("[redacted]"),
        "{shown}"
    );
    // The value itself is intact for the code that needs it.
    assert_eq!(t.token, "CANARY-tok");
    // Unknown extra fields with secret-like names are redacted too.
    let s = decode::<Settings>(&json!({"theme": "dark", "api_key": "CANARY-key"}))
        .unwrap()
        .value;
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("CANARY") && shown.contains("dark"),
        "{shown}"
    );
}
