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

/// Whether a type implements `Serialize`, asked of the compiler: an
/// inherent method whose bound holds wins over the trait's fallback.
struct Probe<T>(std::marker::PhantomData<T>);

trait Fallback {
    fn serializes(&self) -> bool {
        false
    }
}

impl<T> Fallback for Probe<T> {}

impl<T: serde::Serialize> Probe<T> {
    fn serializes(&self) -> bool {
        true
    }
}

macro_rules! serializes {
    ($ty:ty) => {
        Probe::<$ty>(std::marker::PhantomData).serializes()
    };
}

#[test]
fn what_a_call_sends_serializes_and_what_it_only_receives_does_not() {
    use wharf_generated_tests::{params, responses, tolerant};
    // The probe itself tells the two apart.
    assert!(serializes!(String));
    assert!(!serializes!(std::time::Instant));
    // Request bodies, what they hold, and parameters' types.
    assert!(serializes!(responses::NewPet));
    assert!(serializes!(bodies::Widget));
    assert!(serializes!(params::Filter));
    assert!(serializes!(params::Point));
    // Only received: responses and errors.
    assert!(!serializes!(responses::Pet));
    assert!(!serializes!(responses::Problem));
    assert!(!serializes!(responses::ListChargesResponse200));
    // `Generator::serialize_received(true)` (build.rs, tolerant.yaml).
    assert!(serializes!(tolerant::Repo));
    assert!(serializes!(tolerant::Pet));
}
