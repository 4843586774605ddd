//! Identical inline schemas are written once (`specs/sharing.yaml`): every
//! name the spec gives still exists, the copies are the same Rust type as
//! the one kept, and values decode, serialize and build through any name.

use wharf_generated_tests::sharing::*;

/// Compiles only if the two names are one type.
fn same<T>(value: T) -> T {
    value
}

#[test]
fn copies_are_the_type_kept_under_their_own_names() {
    let link = Link {
        href: "https://x.test/a".to_owned(),
    };
    let html: ReviewLinksHtml = same::<Link>(link.clone());
    let own: CommentLinksSelfSchema = same::<Link>(html);
    assert_eq!(own, link);
    // Enum variants through an alias.
    let state: ReviewState = CreateCommentBodyState::Open;
    assert_eq!(same::<CommentState>(state), CommentState::Open);
    // Two identical components stay two types.
    let review = Review {
        id: 1,
        state: None,
        links: ReviewLinks {
            html: None,
            self_: None,
        },
    };
    assert_eq!(review.id, 1);
}

#[test]
fn values_decode_and_serialize_through_any_name() {
    let links = wharf::decode::<ReviewLinks>(br#"{"html": {"href": "h"}, "self": {"href": "s"}}"#)
        .expect("links decode");
    assert!(links.drift.is_empty(), "{:?}", links.drift);
    assert_eq!(links.value.html.map(|l| l.href).as_deref(), Some("h"));
    let comment = wharf::decode::<Comment>(br#"{"id": 7, "state": "closed", "links": {}}"#)
        .expect("comment decodes");
    assert_eq!(comment.value.state, Some(CommentState::Closed));
    // What a call sends serializes, enums through their alias too.
    let body = CreateCommentBody::new("hi").with_state(CreateCommentBodyState::Open);
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({"body": "hi", "state": "open"})
    );
}
