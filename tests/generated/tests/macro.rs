//! `wharf::generate!`: the same generator inside the compiler, with
//! selection, renames and paging overrides; mistakes are compile errors
//! that point at the argument (tests/ui, checked with trybuild).

mod pets {
    wharf::generate!(
        "../../specs/responses.yaml",
        operations = ["getPet", "listEvents"],
        rename = { "Pet" = "Animal" },
        paging = { "listEvents" = off },
    );
}

mod paged {
    wharf::generate!("../../specs/responses.yaml", tags = ["paging"]);
}

mod stored {
    wharf::generate!(
        "../../specs/responses.yaml",
        operations = ["getPet"],
        serialize_received = true,
    );
}

#[test]
fn serialize_received_makes_responses_serializable() {
    let pet = stored::Pet {
        id: 7,
        name: "Rex".to_owned(),
        tag: None,
    };
    assert_eq!(
        serde_json::to_value(&pet).unwrap(),
        serde_json::json!({"id": 7, "name": "Rex"})
    );
}

#[test]
fn selection_keeps_only_the_chosen_operations_and_their_types() {
    let names: Vec<&str> = pets::operations::ALL
        .iter()
        .map(|o| o.name.as_ref())
        .collect();
    // In path order (/events, /pets/{id}): the canonical order names are
    // settled in.
    assert_eq!(names, ["listEvents", "getPet"]);
    // The renamed type is what `get_pet` returns.
    let animal = pets::Animal {
        id: 1,
        name: "Rex".into(),
        tag: None,
    };
    let decoded: pets::Animal = wharf::decode(br#"{"id": 1, "name": "Rex"}"#).unwrap().value;
    assert_eq!(decoded, animal);
    // `NewPet` (used only by createPet) was not generated: this module
    // would not compile if a test named it, which the UI tests check.
    let by_tag: Vec<&str> = paged::operations::ALL
        .iter()
        .map(|o| o.name.as_ref())
        .collect();
    assert_eq!(
        by_tag,
        [
            "listCharges",
            "listEvents",
            "listLogs",
            "listMembers",
            "listIssues"
        ]
    );
}

#[test]
fn macro_mistakes_are_compile_errors_at_the_argument() {
    // The UI tests name specs as `${WHARF_TEST_SPECS}/...`: found wherever
    // the target directory (and so trybuild's crate) is.
    let specs = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs")
        .canonicalize()
        .unwrap();
    std::env::set_var("WHARF_TEST_SPECS", specs);
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
