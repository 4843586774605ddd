//! Pagination detection: which list operations can be turned into a
//! `Stream` of items, and how to get from one page to the next.
//!
//! Styles, tried in this order: `x-dropshot-pagination`; Stripe's
//! `has_more` + `starting_after`; a next-page token in the page sent back in
//! a parameter; `offset`/`limit`; RFC 8288 `Link` headers (a documented
//! `Link` header, or `page`/`per_page`-style parameters). A generator
//! override replaces detection for one operation.

use super::operations::{
    Access, Operation, Outcome, PageKind, Pagination, Paging, ParamIn, Payload, PendingPage,
};
use super::{Ty, TypeKind, TypeSet};

const ITEM_FIELDS: &[&str] = &[
    "data", "items", "results", "values", "entries", "records", "elements",
];
const TOKEN_FIELDS: &[&str] = &[
    "next_page_token",
    "nextPageToken",
    "next_cursor",
    "nextCursor",
    "next_page",
    "nextPage",
    "next_token",
    "nextToken",
    "cursor",
];
const TOKEN_PARAMS: &[&str] = &[
    "page_token",
    "pageToken",
    "cursor",
    "next_page_token",
    "nextPageToken",
    "next_token",
    "nextToken",
    "continuation_token",
];
const LINK_PARAMS: &[&str] = &["page", "per_page"];

/// The pagination of `op`, `Ok(None)` when it has none, or why a
/// configured style does not fit.
pub(crate) fn detect(
    op: &Operation,
    set: &TypeSet,
    pending: &PendingPage,
) -> Result<Option<Pagination>, String> {
    let Some(page_ty) = page_type(op) else {
        return match &pending.configured {
            Some(_) => Err("the operation has no single JSON success response".into()),
            None => Ok(None),
        };
    };
    let fields = struct_fields(set, page_ty);
    let items = items_location(set, page_ty, &fields);
    match &pending.configured {
        Some(Paging::Off) => return Ok(None),
        Some(configured) => {
            let (path, item_ty) = items.ok_or("no array of items found in the page")?;
            let kind = match configured {
                Paging::Off => return Ok(None),
                Paging::Link => PageKind::Link,
                Paging::Cursor { param } => cursor(op, set, &fields, &item_ty, param).ok_or(format!(
                    "cursor needs an optional string parameter {param:?}, a `has_more` flag and items with an `id`"
                ))?,
                Paging::Token { param, field } => token(op, set, &fields, &[field.as_str()], &[param.as_str()])
                    .ok_or(format!("token needs an optional string parameter {param:?} and a string field {field:?}"))?,
                Paging::Offset { param } => offset(op, param).ok_or(format!("no optional integer parameter {param:?}"))?,
            };
            return Ok(Some(Pagination {
                stream_fn: String::new(),
                kind,
                items: path,
                item_ty,
            }));
        }
        None => {}
    }
    let Some((path, item_ty)) = items else {
        return Ok(None);
    };
    let kind = if pending.dropshot {
        token(op, set, &fields, &["next_page"], &["page_token"])
    } else {
        None
    }
    .or_else(|| cursor(op, set, &fields, &item_ty, "starting_after"))
    .or_else(|| token(op, set, &fields, TOKEN_FIELDS, TOKEN_PARAMS))
    .or_else(|| {
        ["offset", "skip"].iter().find_map(|p| {
            offset(op, p).filter(|_| {
                has_param(op, "limit") || has_param(op, "top") || has_param(op, "count")
            })
        })
    })
    .or_else(|| {
        let link_params = LINK_PARAMS.iter().any(|p| has_param(op, p));
        (pending.documents_link || link_params).then_some(PageKind::Link)
    });
    Ok(kind.map(|kind| Pagination {
        stream_fn: String::new(),
        kind,
        items: path,
        item_ty,
    }))
}

/// The single JSON type of the success responses.
fn page_type(op: &Operation) -> Option<&Ty> {
    match &op.responses.ok {
        Outcome::Single(Payload::Json(ty)) => Some(ty),
        _ => None,
    }
}

/// A field of a page: (wire, rust, type, how its value is wrapped).
type FieldInfo = (String, String, Ty, Access);

fn struct_fields(set: &TypeSet, ty: &Ty) -> Vec<FieldInfo> {
    match set.resolve(ty) {
        Ty::Named(id) => match &set.get(*id).kind {
            TypeKind::Struct(s) => s
                .fields
                .iter()
                .map(|f| (f.wire.clone(), f.name.clone(), f.ty.clone(), f.access()))
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Where the items are: the page itself (an array) or one of its fields.
fn items_location(
    set: &TypeSet,
    page: &Ty,
    fields: &[FieldInfo],
) -> Option<(Vec<(String, Access)>, Ty)> {
    if let Ty::Vec(item) = set.resolve(page) {
        return Some((Vec::new(), (**item).clone()));
    }
    let arrays: Vec<(&FieldInfo, Ty)> = fields
        .iter()
        .filter_map(|f| match set.resolve(&f.2) {
            Ty::Vec(item) => Some((f, (**item).clone())),
            _ => None,
        })
        .collect();
    let chosen = ITEM_FIELDS
        .iter()
        .find_map(|name| arrays.iter().find(|(f, _)| f.0 == *name))
        .or_else(|| (arrays.len() == 1).then(|| &arrays[0]))?;
    Some((vec![(chosen.0 .1.clone(), chosen.0 .3)], chosen.1.clone()))
}

fn has_param(op: &Operation, wire: &str) -> bool {
    op.params
        .iter()
        .any(|p| p.location == ParamIn::Query && p.wire == wire)
}

/// An optional query parameter with a given wire name and a type test.
fn optional_param<'o>(op: &'o Operation, wire: &str, ok: impl Fn(&Ty) -> bool) -> Option<&'o str> {
    op.params
        .iter()
        .find(|p| p.location == ParamIn::Query && p.wire == wire && !p.required && ok(&p.ty))
        .map(|p| p.rust.as_str())
}

fn is_string(set: &TypeSet, ty: &Ty) -> bool {
    matches!(set.resolve(ty), Ty::String)
}

fn cursor(
    op: &Operation,
    set: &TypeSet,
    fields: &[FieldInfo],
    item: &Ty,
    param: &str,
) -> Option<PageKind> {
    let param = optional_param(op, param, |t| is_string(set, t))?;
    let has_more = fields
        .iter()
        .find(|f| f.0 == "has_more" && matches!(set.resolve(&f.2), Ty::Bool))?;
    let id = struct_fields(set, item)
        .into_iter()
        .find(|f| f.0 == "id" && is_string(set, &f.2))?;
    Some(PageKind::Cursor {
        param: param.to_owned(),
        has_more: vec![(has_more.1.clone(), has_more.3)],
        id_field: (id.1, id.3),
    })
}

fn token(
    op: &Operation,
    set: &TypeSet,
    fields: &[FieldInfo],
    names: &[&str],
    params: &[&str],
) -> Option<PageKind> {
    let param = params
        .iter()
        .find_map(|p| optional_param(op, p, |t| is_string(set, t)))?;
    // The token directly in the page, or one level down (Slack's
    // `response_metadata.next_cursor`).
    let direct = names
        .iter()
        .find_map(|n| fields.iter().find(|f| f.0 == *n && is_string(set, &f.2)))
        .map(|f| vec![(f.1.clone(), f.3)]);
    let nested = || {
        fields.iter().find_map(|outer| {
            let inner = struct_fields(set, &outer.2);
            names
                .iter()
                .find_map(|n| inner.iter().find(|f| f.0 == *n && is_string(set, &f.2)))
                .map(|f| vec![(outer.1.clone(), outer.3), (f.1.clone(), f.3)])
        })
    };
    let field = direct.or_else(nested)?;
    Some(PageKind::Token {
        param: param.to_owned(),
        field,
    })
}

fn offset(op: &Operation, wire: &str) -> Option<PageKind> {
    let param = optional_param(op, wire, |t| {
        matches!(
            t,
            Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 | Ty::U8 | Ty::U16 | Ty::U32 | Ty::U64
        )
    })?;
    Some(PageKind::Offset {
        param: param.to_owned(),
    })
}

/// Resolves pagination for every operation once all types are known; also
/// the configured overrides that do not fit, by operation name.
pub(crate) fn finish_operations(
    named: Vec<(Operation, Option<PendingPage>)>,
    set: &TypeSet,
) -> (Vec<Operation>, Vec<(String, String)>) {
    let mut misfits = Vec::new();
    let operations = named
        .into_iter()
        .map(|(mut op, pending)| {
            if let Some(p) = pending {
                match detect(&op, set, &p) {
                    Ok(Some(mut found)) => {
                        found.stream_fn = p.stream_name;
                        op.pagination = Some(found);
                    }
                    Ok(None) => {}
                    Err(why) => misfits.push((op.name.clone(), why)),
                }
            }
            op
        })
        .collect();
    (operations, misfits)
}
