//! Rust items for the types of the IR: a struct, enum, union, newtype or alias
//! per type. Structs and enums go through the runtime's `object!` and
//! `string_enum!`, which write their tolerant decoders; unions and newtypes
//! are followed by theirs.

use super::docs::sanitize;
use super::{lit, Writer};
use crate::ir::{EnumDef, Field, Operation, StructDef, Ty, TypeDef, TypeKind, TypeSet, UnionDef};
use crate::naming::{is_secret_field, keyword_kind, Keyword};
use std::collections::HashSet;

/// Adds the structs `ty` holds (itself, its fields', variants' and items'
/// types) to `sent`.
fn collect_sent(set: &TypeSet, ty: &Ty, sent: &mut HashSet<usize>) {
    match ty {
        Ty::Named(id) | Ty::Boxed(id) => {
            if !sent.insert(id.0) {
                return;
            }
            match set.types.get(id.0).map(|d| &d.kind) {
                Some(TypeKind::Struct(s)) => {
                    for f in &s.fields {
                        collect_sent(set, &f.ty, sent);
                    }
                    if let Some(extra) = &s.extra {
                        collect_sent(set, extra, sent);
                    }
                }
                Some(TypeKind::Union(u)) => {
                    for v in &u.variants {
                        collect_sent(set, &v.ty, sent);
                    }
                }
                Some(TypeKind::Alias(inner) | TypeKind::Newtype(inner)) => {
                    collect_sent(set, inner, sent);
                }
                Some(TypeKind::Enum(_)) | None => {}
            }
        }
        Ty::Vec(inner) | Ty::Map(inner) | Ty::Option(inner) => collect_sent(set, inner, sent),
        _ => {}
    }
}

const SERDE_CRATE: &str = "#[serde(crate = \"::wharf::__private::serde\")]";

pub(super) struct TypeEmitter<'a> {
    set: &'a TypeSet,
    /// Structs an app builds to send (request bodies and what they hold):
    /// they get a constructor and `with_` setters.
    sent: HashSet<usize>,
    /// Types a call serializes (bodies, parameters, what they hold): they
    /// implement `Serialize`. Types only received do not: in GitHub's
    /// client that is most of them, and the derives cost rustc 30% of its
    /// time and 22% of its memory.
    serialized: HashSet<usize>,
}

/// The derive line of a struct or newtype.
fn derives(debug: bool, default: bool, serialize: bool) -> String {
    let mut list = Vec::new();
    if default {
        list.push("Default");
    }
    if debug {
        list.push("Debug");
    }
    list.extend(["Clone", "PartialEq"]);
    if serialize {
        list.push("::wharf::__private::Serialize");
    }
    format!("#[derive({})]", list.join(", "))
}

impl<'a> TypeEmitter<'a> {
    /// For rendering types only.
    pub(super) fn new(set: &'a TypeSet) -> Self {
        TypeEmitter {
            set,
            sent: HashSet::new(),
            serialized: HashSet::new(),
        }
    }

    /// For emitting every type, with constructors for what `operations`
    /// send.
    pub(super) fn for_operations(
        set: &'a TypeSet,
        operations: &[Operation],
        serialize_all: bool,
    ) -> Self {
        let mut sent = HashSet::new();
        for body in operations.iter().filter_map(|o| o.body.as_ref()) {
            collect_sent(set, &body.ty, &mut sent);
        }
        let mut serialized = sent.clone();
        for param in operations.iter().flat_map(|o| &o.params) {
            collect_sent(set, &param.ty, &mut serialized);
        }
        if serialize_all {
            serialized.extend(0..set.types.len());
        }
        TypeEmitter {
            set,
            sent,
            serialized,
        }
    }

    /// The `types` module, re-exported: every type, with the lints an
    /// app that uses a few of them would trip allowed once for all.
    pub(super) fn all(&self, w: &mut Writer) {
        if self.set.types.is_empty() {
            return;
        }
        w.blank();
        w.line("/// The spec's schemas, and the types its operations and webhooks declare inline.");
        w.line(super::ALLOW_UNUSED);
        w.open("pub mod types {");
        self.items(w);
        w.close("}");
        w.blank();
        w.line(super::ALLOW_UNUSED_MODULE);
        w.line("pub use self::types::*;");
    }

    fn items(&self, w: &mut Writer) {
        for (index, def) in self.set.types.iter().enumerate() {
            if index > 0 {
                w.blank();
            }
            self.item(w, def, index);
            if let (TypeKind::Struct(s), true) = (&def.kind, self.sent.contains(&index)) {
                w.blank();
                self.constructor(w, &def.name, s);
            }
        }
    }

    /// `new` with the required fields, and a `with_` setter per optional
    /// one: callers written this way keep compiling when the spec adds an
    /// optional field (a struct literal would not).
    fn constructor(&self, w: &mut Writer, name: &str, s: &StructDef) {
        let required: Vec<&Field> = s.fields.iter().filter(|f| f.required).collect();
        let args: Vec<String> = required
            .iter()
            .map(|f| {
                let ty = self.ty(&f.ty);
                let arg = match field_shape(f) {
                    FieldShape::NullableRequired => format!("impl Into<Option<{ty}>>"),
                    _ => format!("impl Into<{ty}>"),
                };
                format!("{}: {arg}", field_ident(&f.name))
            })
            .collect();
        w.open(&format!("impl {name} {{"));
        w.line("/// The required fields; set optional ones with the `with_` methods.");
        if required.is_empty() {
            // The struct derives `Default` (see `structure`).
            w.line("pub fn new() -> Self { Self::default() }");
        } else {
            w.open(&format!("pub fn new({}) -> Self {{", args.join(", ")));
            w.open(&format!("{name} {{"));
            for f in &s.fields {
                let ident = field_ident(&f.name);
                if f.required {
                    w.line(&format!("{ident}: {ident}.into(),"));
                } else {
                    w.line(&format!("{ident}: Default::default(),"));
                }
            }
            if s.extra.is_some() {
                w.line(&format!(
                    "{}: Default::default(),",
                    field_ident(&s.extra_name)
                ));
            }
            w.close("}");
            w.close("}");
        }
        for f in s.fields.iter().filter(|f| !f.required) {
            let ty = self.ty(&f.ty);
            let set = match field_shape(f) {
                FieldShape::OptionalNullable => "::wharf::Nullable::Value(value.into())",
                _ => "Some(value.into())",
            };
            // One line each: a request type of a payment API has dozens.
            w.line(&format!(
                "pub fn with_{}(mut self, value: impl Into<{ty}>) -> Self {{ self.{} = {set}; self }}",
                f.name,
                field_ident(&f.name)
            ));
        }
        w.close("}");
    }

    /// One type, with its doc (the schema's description and where it is
    /// from). Enums and structs are written inside the runtime macro that
    /// writes their decoders, unions and newtypes followed by theirs.
    fn item(&self, w: &mut Writer, def: &TypeDef, index: usize) {
        let serialized = self.serialized.contains(&index);
        let mut doc = def.doc.clone().unwrap_or_default();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&format!("Schema: `{}`", short_origin(&def.origin)));
        let doc = sanitize(&doc);
        let name = def.name.as_str();
        match &def.kind {
            TypeKind::Struct(s) => {
                let sent = self.sent.contains(&index);
                self.structure(w, name, &doc, s, sent, serialized);
            }
            TypeKind::Enum(e) => {
                w.open("::wharf::__private::string_enum! {");
                w.doc(&doc);
                string_enum(w, name, e);
                w.close("}");
            }
            TypeKind::Union(u) => {
                w.doc(&doc);
                self.union(w, name, u, serialized);
            }
            TypeKind::Alias(ty) => {
                w.doc(&doc);
                w.line(&format!("pub type {name} = {};", self.ty(ty)));
            }
            TypeKind::Newtype(ty) => {
                w.doc(&doc);
                w.line(&derives(true, false, serialized));
                if serialized {
                    w.line("#[serde(crate = \"::wharf::__private::serde\", transparent)]");
                }
                w.line(&format!("pub struct {name}(pub {});", self.ty(ty)));
                w.blank();
                w.line(&format!(
                    "::wharf::__private::impl_decode!(newtype {name});"
                ));
            }
        }
    }

    /// The Rust type of a value.
    pub(super) fn ty(&self, ty: &Ty) -> String {
        match ty {
            Ty::String => "String".into(),
            Ty::Bool => "bool".into(),
            Ty::I8 => "i8".into(),
            Ty::I16 => "i16".into(),
            Ty::I32 => "i32".into(),
            Ty::I64 => "i64".into(),
            Ty::U8 => "u8".into(),
            Ty::U16 => "u16".into(),
            Ty::U32 => "u32".into(),
            Ty::U64 => "u64".into(),
            Ty::F64 => "f64".into(),
            Ty::DateTime => "::wharf::DateTime".into(),
            Ty::Date => "::wharf::Date".into(),
            Ty::Uuid => "::wharf::Uuid".into(),
            Ty::Binary => "::wharf::Binary".into(),
            Ty::Json => "::wharf::Value".into(),
            Ty::JsonObject => "::wharf::JsonObject".into(),
            Ty::Named(id) => self.set.get(*id).name.clone(),
            Ty::Boxed(id) => format!("Box<{}>", self.set.get(*id).name),
            Ty::Vec(inner) => format!("Vec<{}>", self.ty(inner)),
            Ty::Map(inner) => format!("::std::collections::BTreeMap<String, {}>", self.ty(inner)),
            Ty::Option(inner) => format!("Option<{}>", self.ty(inner)),
        }
    }

    fn field_ty(&self, f: &Field) -> String {
        let ty = self.ty(&f.ty);
        match field_shape(f) {
            FieldShape::Plain | FieldShape::Any => ty,
            FieldShape::NullableRequired | FieldShape::Optional | FieldShape::OptionalAny => {
                format!("Option<{ty}>")
            }
            FieldShape::OptionalNullable => format!("::wharf::Nullable<{ty}>"),
        }
    }

    /// A struct inside the runtime's `object!`, which writes its decoder:
    /// each field says its slot and wire name after its type.
    fn structure(
        &self,
        w: &mut Writer,
        name: &str,
        doc: &[String],
        s: &StructDef,
        sent: bool,
        serialized: bool,
    ) {
        // Secrets (and unknown extra fields, which may be secrets) get a
        // redacting `Debug` instead of the derived one.
        let redacting = s.extra.is_some() || s.fields.iter().any(|f| is_secret_field(&f.wire));
        // Every field of a request type without required ones has a default.
        let default = sent && s.fields.iter().all(|f| !f.required);
        w.open("::wharf::__private::object! {");
        w.doc(doc);
        w.line(&derives(!redacting, default, serialized));
        if serialized {
            w.line(SERDE_CRATE);
        }
        w.open(&format!("pub struct {name} {{"));
        for f in &s.fields {
            let mut text = f.doc.clone().unwrap_or_default();
            if f.deprecated {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str("**Deprecated** in the spec.");
            }
            w.doc(&sanitize(&text));
            // Only `Serialize` reads these attributes.
            let mut serde = Vec::new();
            if serialized && f.wire != f.name {
                serde.push(format!("rename = {}", lit(&f.wire)));
            }
            match field_shape(f) {
                _ if !serialized => {}
                FieldShape::Optional | FieldShape::OptionalAny => {
                    serde.push("skip_serializing_if = \"Option::is_none\"".into());
                }
                FieldShape::OptionalNullable => {
                    serde.push("skip_serializing_if = \"::wharf::Nullable::is_absent\"".into());
                }
                FieldShape::Plain | FieldShape::Any | FieldShape::NullableRequired => {}
            }
            if !serde.is_empty() {
                w.line(&format!("#[serde({})]", serde.join(", ")));
            }
            let slot = match field_shape(f) {
                FieldShape::Plain | FieldShape::Any => "Required",
                FieldShape::NullableRequired => "RequiredNullable",
                FieldShape::Optional | FieldShape::OptionalNullable => "Optional",
                FieldShape::OptionalAny => "OptionalJson",
            };
            w.line(&format!(
                "pub {}: {} = {slot}({}),",
                field_ident(&f.name),
                self.field_ty(f),
                lit(&f.wire)
            ));
        }
        if let Some(extra) = &s.extra {
            w.line("..");
            w.line("/// Properties beyond the declared ones (`additionalProperties`).");
            if serialized {
                w.line("#[serde(flatten)]");
            }
            w.line(&format!(
                "pub {}: ::std::collections::BTreeMap<String, {}>,",
                field_ident(&s.extra_name),
                self.ty(extra)
            ));
        }
        w.close("}");
        w.close("}");
        if redacting {
            w.blank();
            redacting_debug(w, name, s);
        }
    }

    fn union(&self, w: &mut Writer, name: &str, u: &UnionDef, serialized: bool) {
        w.line("#[derive(Debug, Clone, PartialEq)]");
        w.line("#[allow(clippy::large_enum_variant)]");
        w.open(&format!("pub enum {name} {{"));
        for v in &u.variants {
            w.line(&format!("{}({}),", v.name, self.ty(&v.ty)));
        }
        w.line("/// A value that fits none of the variants, kept as raw JSON.");
        w.line("Other(::wharf::Value),");
        w.close("}");
        w.blank();
        w.open(&format!(
            "impl ::wharf::__private::DecodeUnion for {name} {{"
        ));
        w.open("fn decode_value(value: ::wharf::Value, cx: &mut ::wharf::__private::Cx) -> Self {");
        match &u.discriminator {
            Some(d) => {
                let property = lit(&d.property);
                w.line(&format!(
                    "let tag = ::wharf::__private::discriminator(&value, {property}).map(str::to_owned);"
                ));
                w.line("let trial = ::wharf::__private::UnionTrial::new(value, cx);");
                w.open("match tag.as_deref() {");
                for (i, v) in u.variants.iter().enumerate() {
                    let wires: Vec<String> = d
                        .mapping
                        .iter()
                        .filter(|(_, index)| *index == i)
                        .map(|(wire, _)| lit(wire))
                        .collect();
                    if !wires.is_empty() {
                        w.line(&format!(
                            "Some({}) => trial.tagged(Self::{}, Self::Other),",
                            wires.join(" | "),
                            v.name
                        ));
                    }
                }
                w.line(&format!("_ => trial.unknown_tag({property}, Self::Other),"));
                w.close("}");
            }
            None => {
                w.open("::wharf::__private::UnionTrial::new(value, cx)");
                for v in &u.variants {
                    w.line(&format!(".variant(Self::{})", v.name));
                }
                w.line(".finish(Self::Other)");
                w.indent_back();
            }
        }
        w.close("}");
        w.close("}");
        w.blank();
        if serialized {
            let names: Vec<&str> = u.variants.iter().map(|v| v.name.as_str()).collect();
            w.line(&format!(
                "::wharf::__private::impl_decode!(union {name} [{}]);",
                names.join(", ")
            ));
        } else {
            w.line(&format!("::wharf::__private::impl_decode!(union {name});"));
        }
    }
}

/// `Debug` that prints `[redacted]` for secret fields and redacts sensitive
/// keys of the `extra` map.
fn redacting_debug(w: &mut Writer, name: &str, s: &StructDef) {
    w.open(&format!("impl ::core::fmt::Debug for {name} {{"));
    w.open("fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {");
    w.line(&format!("f.debug_struct({})", lit(name)));
    w.indent_more();
    for field in &s.fields {
        let ident = field_ident(&field.name);
        if is_secret_field(&field.wire) {
            w.line(&format!(
                ".field({}, &::wharf::__private::Redacted)",
                lit(&field.name)
            ));
        } else {
            w.line(&format!(".field({}, &self.{ident})", lit(&field.name)));
        }
    }
    if s.extra.is_some() {
        let ident = field_ident(&s.extra_name);
        w.line(&format!(
            ".field({}, &::wharf::__private::RedactedMap(&self.{ident}))",
            lit(&s.extra_name)
        ));
    }
    w.line(".finish()");
    w.indent_back();
    w.close("}");
    w.close("}");
}

/// A string enum inside the runtime's `string_enum!`: a line per variant
/// (name and wire value) instead of the enum, its two mappings and its
/// impls written out.
fn string_enum(w: &mut Writer, name: &str, e: &EnumDef) {
    w.open(&format!("pub enum {name} {{"));
    for v in &e.variants {
        w.line(&format!("{} = {},", v.name, lit(&v.wire)));
    }
    w.close("}");
}

/// How a field is represented and decoded.
#[derive(PartialEq, Eq)]
enum FieldShape {
    /// Required, not nullable: `T`.
    Plain,
    /// Required raw JSON (null is a JSON value): `Value`.
    Any,
    /// Required and nullable: `Option<T>`.
    NullableRequired,
    /// Optional, not nullable: `Option<T>`; a `null` is drift.
    Optional,
    /// Optional raw JSON: `Option<Value>`, with `null` kept as a value.
    OptionalAny,
    /// Optional and nullable: `Nullable<T>`.
    OptionalNullable,
}

fn field_shape(f: &Field) -> FieldShape {
    match (f.required, f.nullable, f.ty == Ty::Json) {
        (true, _, true) => FieldShape::Any,
        (false, _, true) => FieldShape::OptionalAny,
        (true, false, false) => FieldShape::Plain,
        (true, true, false) => FieldShape::NullableRequired,
        (false, false, false) => FieldShape::Optional,
        (false, true, false) => FieldShape::OptionalNullable,
    }
}

pub(super) fn field_ident(name: &str) -> String {
    match keyword_kind(name) {
        Keyword::Raw => format!("r#{name}"),
        // Scope::claim never hands these out; stay total anyway.
        Keyword::Unusable => format!("{name}_"),
        Keyword::No => name.to_owned(),
    }
}

/// `file#/pointer` with the file reduced to its name, so generated code does
/// not depend on where the spec was on the generating machine.
pub(super) fn short_origin(origin: &str) -> String {
    let (file, pointer) = origin.split_once('#').unwrap_or((origin, ""));
    let file = std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_owned(), |f| f.to_string_lossy().into_owned());
    format!("{file}#{pointer}")
}
