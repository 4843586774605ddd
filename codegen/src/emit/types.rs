//! Rust items for the types of the IR: a struct, enum, union, newtype or alias
//! per type, each with its tolerant decoder.

use super::docs::doc_attrs;
use crate::ir::{
    EnumDef, Field, StructDef, Ty, TypeDef, TypeKind, TypeSet, UnionDef,
};
use crate::naming::{keyword_kind, Keyword};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// Locals the generated `decode_fields` uses for itself.
const DECODER_LOCALS: &[&str] = &["map", "cx", "key"];

pub(super) struct TypeEmitter<'a> {
    set: &'a TypeSet,
}

impl<'a> TypeEmitter<'a> {
    pub(super) fn new(set: &'a TypeSet) -> Self {
        TypeEmitter { set }
    }

    pub(super) fn all(&self) -> TokenStream {
        let items = self.set.types.iter().map(|def| self.item(def));
        quote! { #(#items)* }
    }

    fn item(&self, def: &TypeDef) -> TokenStream {
        let name = format_ident!("{}", def.name);
        let mut doc = def.doc.clone().unwrap_or_default();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&format!("Schema: `{}`", short_origin(&def.origin)));
        let doc = doc_attrs(Some(&doc));
        match &def.kind {
            TypeKind::Struct(s) => self.structure(&name, doc, s),
            TypeKind::Enum(e) => self.string_enum(&name, doc, e),
            TypeKind::Union(u) => self.union(&name, doc, u),
            TypeKind::Alias(ty) => {
                let ty = self.ty(ty);
                quote! { #doc pub type #name = #ty; }
            }
            TypeKind::Newtype(ty) => {
                let ty = self.ty(ty);
                quote! {
                    #doc
                    #[derive(Debug, Clone, PartialEq, ::wharf::__private::Serialize)]
                    #[serde(crate = "::wharf::__private::serde", transparent)]
                    pub struct #name(pub #ty);
                    ::wharf::__private::impl_decode!(newtype #name);
                }
            }
        }
    }

    /// The Rust type of a value.
    fn ty(&self, ty: &Ty) -> TokenStream {
        match ty {
            Ty::String => quote!(String),
            Ty::Bool => quote!(bool),
            Ty::I8 => quote!(i8),
            Ty::I16 => quote!(i16),
            Ty::I32 => quote!(i32),
            Ty::I64 => quote!(i64),
            Ty::U8 => quote!(u8),
            Ty::U16 => quote!(u16),
            Ty::U32 => quote!(u32),
            Ty::U64 => quote!(u64),
            Ty::F64 => quote!(f64),
            Ty::DateTime => quote!(::wharf::DateTime),
            Ty::Date => quote!(::wharf::Date),
            Ty::Uuid => quote!(::wharf::Uuid),
            Ty::Json => quote!(::wharf::Value),
            Ty::JsonObject => quote!(::wharf::JsonObject),
            Ty::Named(id) => {
                let name = format_ident!("{}", self.set.get(*id).name);
                quote!(#name)
            }
            Ty::Boxed(id) => {
                let name = format_ident!("{}", self.set.get(*id).name);
                quote!(Box<#name>)
            }
            Ty::Vec(inner) => {
                let inner = self.ty(inner);
                quote!(Vec<#inner>)
            }
            Ty::Map(inner) => {
                let inner = self.ty(inner);
                quote!(::std::collections::BTreeMap<String, #inner>)
            }
            Ty::Option(inner) => {
                let inner = self.ty(inner);
                quote!(Option<#inner>)
            }
        }
    }

    fn field_ty(&self, f: &Field) -> TokenStream {
        let ty = self.ty(&f.ty);
        match field_shape(f) {
            FieldShape::Plain | FieldShape::Any => ty,
            FieldShape::NullableRequired | FieldShape::Optional | FieldShape::OptionalAny => {
                quote!(Option<#ty>)
            }
            FieldShape::OptionalNullable => quote!(::wharf::Nullable<#ty>),
        }
    }

    fn structure(&self, name: &Ident, doc: TokenStream, s: &StructDef) -> TokenStream {
        let mut fields = Vec::with_capacity(s.fields.len() + 1);
        let mut locals = Vec::with_capacity(s.fields.len() + 1);
        let mut arms = Vec::with_capacity(s.fields.len());
        let mut takes = Vec::new();
        let mut inits = Vec::with_capacity(s.fields.len() + 1);
        for f in &s.fields {
            let ident = field_ident(&f.name);
            let local = local_ident(&f.name);
            let ty = self.field_ty(f);
            let wire = f.wire.as_str();
            let mut serde_args = Vec::new();
            if wire != f.name {
                serde_args.push(quote!(rename = #wire));
            }
            let shape = field_shape(f);
            let (init, method) = match shape {
                FieldShape::Plain | FieldShape::Any | FieldShape::NullableRequired => {
                    takes.push(quote! {
                        let Some(#local) = #local.take(cx, #wire) else {
                            return Ok(None);
                        };
                    });
                    (quote!(::wharf::__private::Required::new()), quote!(required))
                }
                FieldShape::Optional => {
                    serde_args.push(quote!(skip_serializing_if = "Option::is_none"));
                    (quote!(None), quote!(optional))
                }
                FieldShape::OptionalAny => {
                    serde_args.push(quote!(skip_serializing_if = "Option::is_none"));
                    (quote!(None), quote!(optional_json))
                }
                FieldShape::OptionalNullable => {
                    serde_args.push(quote!(skip_serializing_if = "::wharf::Nullable::is_absent"));
                    (quote!(::wharf::Nullable::Absent), quote!(optional))
                }
            };
            let serde_attr = if serde_args.is_empty() {
                quote!()
            } else {
                quote!(#[serde(#(#serde_args),*)])
            };
            let mut text = f.doc.clone().unwrap_or_default();
            if f.deprecated {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str("**Deprecated** in the spec.");
            }
            let field_doc = doc_attrs((!text.is_empty()).then_some(text.as_str()));
            fields.push(quote! { #field_doc #serde_attr pub #ident: #ty });
            arms.push(quote! { #wire => cx.#method(map, #wire, &mut #local)? });
            inits.push(quote! { let mut #local = #init; });
            locals.push(if ident == local { quote!(#ident) } else { quote!(#ident: #local) });
        }
        let fallback = match &s.extra {
            Some(extra) => {
                let ident = field_ident(&s.extra_name);
                let local = local_ident(&s.extra_name);
                let ty = self.ty(extra);
                fields.push(quote! {
                    /// Properties beyond the declared ones (`additionalProperties`).
                    #[serde(flatten)]
                    pub #ident: ::std::collections::BTreeMap<String, #ty>
                });
                inits.push(quote! { let mut #local = ::std::collections::BTreeMap::new(); });
                locals.push(if ident == local { quote!(#ident) } else { quote!(#ident: #local) });
                quote! { cx.extra_field(map, key, &mut #local)? }
            }
            None => quote! { cx.unknown_field(map, &key)? },
        };
        let body = if arms.is_empty() {
            quote! {
                while let Some(key) = cx.next_key(map)? {
                    #fallback;
                }
            }
        } else {
            quote! {
                while let Some(key) = cx.next_key(map)? {
                    match key.as_str() {
                        #(#arms,)*
                        _ => #fallback,
                    }
                }
            }
        };
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, ::wharf::__private::Serialize)]
            #[serde(crate = "::wharf::__private::serde")]
            pub struct #name {
                #(#fields,)*
            }

            impl ::wharf::__private::DecodeObject for #name {
                fn decode_fields<'de, A: ::wharf::__private::MapAccess<'de>>(
                    map: &mut A,
                    cx: &mut ::wharf::__private::Cx,
                ) -> ::wharf::__private::Decoding<Self, A::Error> {
                    #(#inits)*
                    #body
                    #(#takes)*
                    Ok(Some(Self { #(#locals),* }))
                }
            }

            ::wharf::__private::impl_decode!(object #name);
        }
    }

    fn string_enum(&self, name: &Ident, doc: TokenStream, e: &EnumDef) -> TokenStream {
        let variants: Vec<Ident> = e.variants.iter().map(|v| format_ident!("{}", v.name)).collect();
        let wires: Vec<&str> = e.variants.iter().map(|v| v.wire.as_str()).collect();
        let variant_docs = wires.iter().map(|w| {
            let text = format!(" `{}`", w.replace('`', "'"));
            quote!(#[doc = #text])
        });
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            pub enum #name {
                #(#variant_docs #variants,)*
                /// A value this version of the spec does not list.
                Unknown(String),
            }

            impl ::wharf::__private::StringEnum for #name {
                fn from_wire(value: &str) -> Self {
                    match value {
                        #(#wires => Self::#variants,)*
                        other => Self::Unknown(other.to_owned()),
                    }
                }

                fn as_wire(&self) -> &str {
                    match self {
                        #(Self::#variants => #wires,)*
                        Self::Unknown(other) => other,
                    }
                }

                fn is_unknown(&self) -> bool {
                    matches!(self, Self::Unknown(_))
                }
            }

            ::wharf::__private::impl_decode!(enum #name);
        }
    }

    fn union(&self, name: &Ident, doc: TokenStream, u: &UnionDef) -> TokenStream {
        let variants: Vec<Ident> = u.variants.iter().map(|v| format_ident!("{}", v.name)).collect();
        let types = u.variants.iter().map(|v| self.ty(&v.ty));
        let decode = match &u.discriminator {
            Some(d) => {
                let property = d.property.as_str();
                let arms = u.variants.iter().enumerate().filter_map(|(i, _)| {
                    let wires: Vec<&str> = d
                        .mapping
                        .iter()
                        .filter(|(_, v)| *v == i)
                        .map(|(w, _)| w.as_str())
                        .collect();
                    if wires.is_empty() {
                        return None;
                    }
                    let variant = &variants[i];
                    Some(quote! { Some(#(#wires)|*) => trial.tagged(Self::#variant, Self::Other) })
                });
                quote! {
                    let tag = ::wharf::__private::discriminator(&value, #property).map(str::to_owned);
                    let trial = ::wharf::__private::UnionTrial::new(value, cx);
                    match tag.as_deref() {
                        #(#arms,)*
                        _ => trial.unknown_tag(#property, Self::Other),
                    }
                }
            }
            None => quote! {
                ::wharf::__private::UnionTrial::new(value, cx)
                    #(.variant(Self::#variants))*
                    .finish(Self::Other)
            },
        };
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::large_enum_variant)]
            pub enum #name {
                #(#variants(#types),)*
                /// A value that fits none of the variants, kept as raw JSON.
                Other(::wharf::Value),
            }

            impl ::wharf::__private::DecodeUnion for #name {
                fn decode_value(value: ::wharf::Value, cx: &mut ::wharf::__private::Cx) -> Self {
                    #decode
                }
            }

            ::wharf::__private::impl_decode!(union #name [#(#variants),*]);
        }
    }
}

/// How a field is represented and decoded.
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

fn field_ident(name: &str) -> Ident {
    match keyword_kind(name) {
        Keyword::Raw => Ident::new_raw(name, Span::call_site()),
        // Scope::claim never hands these out; stay total anyway.
        Keyword::Unusable => format_ident!("{}_", name),
        Keyword::No => format_ident!("{}", name),
    }
}

/// The decoder's local for a field: the field name, unless that would shadow
/// one of the decoder's own locals.
fn local_ident(name: &str) -> Ident {
    if DECODER_LOCALS.contains(&name) {
        format_ident!("{}_", name)
    } else {
        field_ident(name)
    }
}

/// `file#/pointer` with the file reduced to its name, so generated code does
/// not depend on where the spec was on the generating machine.
fn short_origin(origin: &str) -> String {
    let (file, pointer) = origin.split_once('#').unwrap_or((origin, ""));
    let file = std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_owned(), |f| f.to_string_lossy().into_owned());
    format!("{file}#{pointer}")
}
