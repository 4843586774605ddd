//! Request bodies built with `new` (the required fields) and `with_`
//! setters keep compiling when the provider's spec grows an optional
//! field: the same caller code, written against `specs/bodies.yaml`,
//! compiles against the grown version build.rs writes, and sends the same
//! JSON (the new field is left out).

use wharf_generated_tests::{bodies, bodies_grown};

/// The caller, written once against the first version.
macro_rules! caller {
    ($api:ident) => {
        $api::Widget::new("gear")
            .with_size(3)
            .with_tags(vec!["small".to_owned()])
    };
}

#[test]
fn a_caller_of_new_and_with_survives_a_new_optional_field() {
    let before = caller!(bodies);
    let after = caller!(bodies_grown);
    assert_eq!(after.color, None, "the field the spec added");
    assert_eq!(
        serde_json::to_value(&before).unwrap(),
        serde_json::json!({"name": "gear", "size": 3, "tags": ["small"]})
    );
    assert_eq!(
        serde_json::to_value(&before).unwrap(),
        serde_json::to_value(&after).unwrap()
    );
    // And the new field is there to set for who wants it.
    let colored = caller!(bodies_grown).with_color("red");
    assert_eq!(serde_json::to_value(&colored).unwrap()["color"], "red");
}
