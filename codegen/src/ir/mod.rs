//! The intermediate representation: the one place where OpenAPI's many
//! spellings of a schema become one model. The emitter reads only this.
//!
//! Built in passes: lowering (`schema`, `operations`, `webhooks`) turns the
//! spec into types and operations and asks for names; naming (`names`)
//! settles every module-level name at once; `recursion` boxes cycles;
//! `sharing` makes identical types aliases of one; `pagination` finds how
//! each list operation pages.

mod api_info;
mod names;
mod operations;
mod pagination;
mod recursion;
mod schema;
mod security;
mod sharing;
mod webhooks;

pub(crate) use api_info::lower_api_info;
pub use api_info::ApiInfo;
pub(crate) use operations::{lower_operations, name_operations};
pub use operations::{
    Access, Body, BodyKind, FieldPath, Operation, OperationOptions, Outcome, PageKind, Paging,
    Param, ParamIn, ParamStyle, Payload, StatusPattern,
};
pub(crate) use pagination::finish_operations;
pub(crate) use schema::Lowerer;
pub use schema::TypeOptions;
pub use security::{lower_security_schemes, SchemeDef};
pub(crate) use webhooks::{lower_webhooks, LoweredWebhooks};
pub use webhooks::{Webhook, Webhooks};

/// Index of a type in [`TypeSet::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub usize);

/// Every named type of a spec.
#[derive(Debug, Default)]
pub struct TypeSet {
    pub types: Vec<TypeDef>,
}

impl TypeSet {
    pub fn get(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0]
    }

    /// Follows aliases to the type a `Ty` stands for (a shared copy is an
    /// alias of the type kept).
    pub(crate) fn resolve<'t>(&'t self, ty: &'t Ty) -> &'t Ty {
        let mut ty = ty;
        for _ in 0..16 {
            match ty {
                Ty::Named(id) => match &self.get(*id).kind {
                    TypeKind::Alias(inner) => ty = inner,
                    _ => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    /// The Rust name (unique in the generated module).
    pub name: String,
    /// Where the schema is: `file#/pointer`.
    pub origin: String,
    pub doc: Option<String>,
    pub kind: TypeKind,
    /// The schema itself admits `null`.
    pub nullable: bool,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    Struct(StructDef),
    Enum(EnumDef),
    Union(UnionDef),
    /// `pub type Name = Ty;`
    Alias(Ty),
    /// `pub struct Name(pub Ty);` — an alias that is part of a cycle.
    Newtype(Ty),
}

/// The Rust type of a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    String,
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F64,
    DateTime,
    Date,
    Uuid,
    /// Raw bytes (`format: binary`).
    Binary,
    /// Raw JSON of any shape.
    Json,
    /// A free-form JSON object.
    JsonObject,
    Named(TypeId),
    /// A named type behind a `Box` (to break a recursive cycle).
    Boxed(TypeId),
    Vec(Box<Ty>),
    /// An object with arbitrary keys (`additionalProperties`).
    Map(Box<Ty>),
    /// A nullable array item or map value.
    Option(Box<Ty>),
}

#[derive(Debug, Clone)]
pub struct StructDef {
    pub fields: Vec<Field>,
    /// Type of declared `additionalProperties`, kept in an `extra` map.
    pub extra: Option<Ty>,
    /// Rust name of the `extra` field (unique among the fields).
    pub extra_name: String,
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON name.
    pub wire: String,
    /// The Rust name (without `r#`).
    pub name: String,
    pub ty: Ty,
    pub required: bool,
    pub nullable: bool,
    pub doc: Option<String>,
    pub deprecated: bool,
}

impl Field {
    /// How the field's value is held: raw JSON and required non-null
    /// fields plainly, required nullable and optional ones in an `Option`,
    /// optional nullable ones in a `Nullable`.
    pub fn access(&self) -> Access {
        match (self.required, self.nullable, self.ty == Ty::Json) {
            (_, _, true) | (true, false, _) => Access::Plain,
            (true, true, _) | (false, false, _) => Access::Option,
            (false, true, _) => Access::Nullable,
        }
    }
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub variants: Vec<EnumVariant>,
}

#[derive(Debug, Clone)]
pub struct EnumVariant {
    pub wire: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct UnionDef {
    pub variants: Vec<UnionVariant>,
    pub discriminator: Option<Discriminator>,
}

#[derive(Debug, Clone)]
pub struct UnionVariant {
    pub name: String,
    pub ty: Ty,
}

#[derive(Debug, Clone)]
pub struct Discriminator {
    pub property: String,
    /// Wire values per variant index.
    pub mapping: Vec<(String, usize)>,
}
