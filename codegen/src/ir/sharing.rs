//! Structurally identical types written once. Providers repeat the same
//! inline object under many components (GitHub's spec has 229 copies of
//! `{href}` links and 59 of a repository's `permissions`): each copy would be
//! a struct, a decoder and a `Serialize` impl for the compiler to check.
//! Copies become aliases of one of them, so every name stays (a field keeps
//! the type it had, now `pub type Copy = First;`) and the code is there once.
//!
//! Two types are identical when their definitions are, field by field and
//! doc by doc, with the types they refer to compared after sharing: a
//! struct whose fields are copies of other shared types is shared in a
//! later round. The one kept is a component's own schema if there is one,
//! else one defined inside a component, else the first in lowering order
//! (which is canonical, so the choice does not depend on the order of the
//! spec). Components themselves are never made aliases, even of an
//! identical component: they are distinct types in the spec, and a later
//! version may tell them apart.

use super::{Ty, TypeId, TypeKind, TypeSet};
use std::collections::HashMap;
use std::fmt::Write;

/// Rewrites copies into aliases of the type kept.
pub(super) fn share_identical(set: &mut TypeSet) {
    let n = set.types.len();
    let mut kept: Vec<usize> = (0..n).collect();
    let order = preferred_order(set);
    // Each round shares at least one type more, or stops.
    for _ in 0..n {
        let mut first: HashMap<String, usize> = HashMap::new();
        let mut changed = false;
        for &(i, rank) in &order {
            if kept[i] != i {
                continue;
            }
            let Some(key) = key_of(set, i, &kept) else {
                continue;
            };
            match first.get(&key) {
                Some(_) if rank == Rank::Component => {}
                Some(&k) => {
                    kept[i] = k;
                    changed = true;
                }
                None => {
                    first.insert(key, i);
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (i, &k) in kept.iter().enumerate() {
        if k != i {
            set.types[i].kind = TypeKind::Alias(Ty::Named(TypeId(k)));
            // A copy is inline: its description is, as a rule, the doc of
            // the field that holds it; the alias says where it is from.
            set.types[i].doc = None;
        }
    }
}

/// Where a type was defined, in the order of preference for the name a
/// shared type keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// `#/components/schemas/Name` (Swagger 2.0: `#/definitions/Name`).
    Component,
    /// Inside a component (a property, an item).
    InComponent,
    /// Inline in an operation or a webhook.
    Elsewhere,
}

/// Every type with its rank, best rank first, each rank in lowering order.
fn preferred_order(set: &TypeSet) -> Vec<(usize, Rank)> {
    let mut order: Vec<(usize, Rank)> = set
        .types
        .iter()
        .enumerate()
        .map(|(i, def)| (i, rank_of(&def.origin)))
        .collect();
    order.sort_by_key(|&(i, rank)| (rank, i));
    order
}

fn rank_of(origin: &str) -> Rank {
    let pointer = origin.rsplit_once('#').map_or("", |(_, p)| p);
    let within = ["/components/schemas/", "/definitions/"]
        .iter()
        .find_map(|prefix| pointer.strip_prefix(prefix));
    match within {
        Some(name) if !name.contains('/') => Rank::Component,
        Some(_) => Rank::InComponent,
        None => Rank::Elsewhere,
    }
}

/// Everything that makes a definition what it is, with referred types by
/// the one kept; `None` for kinds not worth sharing (aliases, newtypes).
fn key_of(set: &TypeSet, i: usize, kept: &[usize]) -> Option<String> {
    let def = &set.types[i];
    let mut key = String::new();
    let _ = write!(key, "{}|", def.nullable);
    match &def.kind {
        TypeKind::Struct(s) => {
            key.push_str("struct|");
            for f in &s.fields {
                let _ = write!(
                    key,
                    "{:?}:{:?}:{}:{}:{}:{:?}:",
                    f.wire, f.name, f.required, f.nullable, f.deprecated, f.doc
                );
                ty_key(&f.ty, kept, &mut key);
                key.push(';');
            }
            if let Some(extra) = &s.extra {
                let _ = write!(key, "extra {:?}:", s.extra_name);
                ty_key(extra, kept, &mut key);
            }
        }
        TypeKind::Enum(e) => {
            key.push_str("enum|");
            for v in &e.variants {
                let _ = write!(key, "{:?}={:?};", v.name, v.wire);
            }
        }
        TypeKind::Union(u) => {
            key.push_str("union|");
            for v in &u.variants {
                let _ = write!(key, "{:?}:", v.name);
                ty_key(&v.ty, kept, &mut key);
                key.push(';');
            }
            if let Some(d) = &u.discriminator {
                let _ = write!(key, "tag {:?} {:?}", d.property, d.mapping);
            }
        }
        TypeKind::Alias(_) | TypeKind::Newtype(_) => return None,
    }
    Some(key)
}

fn ty_key(ty: &Ty, kept: &[usize], out: &mut String) {
    match ty {
        Ty::Named(id) => {
            let _ = write!(out, "N{}", kept.get(id.0).copied().unwrap_or(id.0));
        }
        Ty::Boxed(id) => {
            let _ = write!(out, "B{}", kept.get(id.0).copied().unwrap_or(id.0));
        }
        Ty::Vec(inner) => {
            out.push_str("Vec<");
            ty_key(inner, kept, out);
            out.push('>');
        }
        Ty::Map(inner) => {
            out.push_str("Map<");
            ty_key(inner, kept, out);
            out.push('>');
        }
        Ty::Option(inner) => {
            out.push_str("Option<");
            ty_key(inner, kept, out);
            out.push('>');
        }
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Field, StructDef, TypeDef};

    fn field(name: &str, ty: Ty) -> Field {
        Field {
            wire: name.to_owned(),
            name: name.to_owned(),
            ty,
            required: true,
            nullable: false,
            doc: None,
            deprecated: false,
        }
    }

    fn object(name: &str, origin: &str, fields: Vec<Field>) -> TypeDef {
        TypeDef {
            name: name.to_owned(),
            origin: format!("api.json#{origin}"),
            doc: None,
            kind: TypeKind::Struct(StructDef {
                fields,
                extra: None,
                extra_name: "extra".to_owned(),
            }),
            nullable: false,
        }
    }

    fn alias_of(set: &TypeSet, i: usize) -> Option<usize> {
        match &set.types[i].kind {
            TypeKind::Alias(Ty::Named(id)) => Some(id.0),
            _ => None,
        }
    }

    #[test]
    fn copies_become_aliases_of_the_component_in_rounds() {
        let mut set = TypeSet {
            types: vec![
                // 0, 1: inline copies of `Link` (2), seen before it.
                object(
                    "ReviewLinksHtml",
                    "/components/schemas/review/properties/html",
                    vec![field("href", Ty::String)],
                ),
                object(
                    "CommentLinksSelf",
                    "/components/schemas/comment/properties/self",
                    vec![field("href", Ty::String)],
                ),
                object(
                    "Link",
                    "/components/schemas/link",
                    vec![field("href", Ty::String)],
                ),
                // 3, 4: identical once their fields' types are shared.
                object(
                    "ReviewLinks",
                    "/components/schemas/review/properties/_links",
                    vec![field("html", Ty::Named(TypeId(0)))],
                ),
                object(
                    "CommentLinks",
                    "/components/schemas/comment/properties/_links",
                    vec![field("html", Ty::Named(TypeId(1)))],
                ),
                // 5: differs (optional), stays.
                object(
                    "Other",
                    "/components/schemas/other",
                    vec![Field {
                        required: false,
                        ..field("href", Ty::String)
                    }],
                ),
            ],
        };
        share_identical(&mut set);
        assert_eq!(alias_of(&set, 0), Some(2));
        assert_eq!(alias_of(&set, 1), Some(2));
        assert_eq!(alias_of(&set, 2), None, "the component keeps its struct");
        assert_eq!(alias_of(&set, 3), None);
        assert_eq!(alias_of(&set, 4), Some(3));
        assert_eq!(alias_of(&set, 5), None);
        // Every name is still there.
        let names: Vec<&str> = set.types.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names.len(), 6);
    }

    #[test]
    fn docs_and_boxing_keep_types_apart() {
        let documented = Field {
            doc: Some("the page".to_owned()),
            ..field("href", Ty::String)
        };
        let mut set = TypeSet {
            types: vec![
                object(
                    "A",
                    "/components/schemas/a",
                    vec![field("href", Ty::String)],
                ),
                object("B", "/components/schemas/b", vec![documented]),
                object(
                    "C",
                    "/components/schemas/c",
                    vec![field("next", Ty::Named(TypeId(2)))],
                ),
                object(
                    "D",
                    "/components/schemas/d",
                    vec![field("next", Ty::Boxed(TypeId(2)))],
                ),
            ],
        };
        share_identical(&mut set);
        assert!((0..4).all(|i| alias_of(&set, i).is_none()));
    }

    #[test]
    fn identical_components_stay_apart_and_inline_copies_take_a_components_name() {
        let mut set = TypeSet {
            types: vec![
                // An operation's inline body, lowered first.
                object(
                    "CreateBody",
                    "/paths/~1a/post/requestBody/content/application~1json/schema",
                    vec![field("id", Ty::I64)],
                ),
                object(
                    "Comment",
                    "/components/schemas/Comment",
                    vec![field("id", Ty::I64)],
                ),
                object(
                    "Review",
                    "/components/schemas/Review",
                    vec![field("id", Ty::I64)],
                ),
                object(
                    "ReviewLinks",
                    "/components/schemas/Review/properties/links",
                    vec![field("id", Ty::I64)],
                ),
            ],
        };
        share_identical(&mut set);
        assert_eq!(alias_of(&set, 0), Some(1));
        assert_eq!(alias_of(&set, 1), None);
        assert_eq!(alias_of(&set, 2), None, "a component is never an alias");
        assert_eq!(alias_of(&set, 3), Some(1));
    }
}
