//! Lowering JSON Schema (OpenAPI 3.0 and 3.1 dialects) into [`TypeSet`].
//!
//! Each schema is first *classified* into one [`Form`] (cheap, no recursion),
//! then lowered. Named types are keyed by the location of their schema, so a
//! `$ref` to an already-seen location (including a cycle) reuses its type.
//! Whatever cannot be modelled becomes raw JSON plus a diagnostic.

use super::names::{self, Hint, NameId, NameRequests, Names, Wanted};
use super::{
    recursion, Discriminator, EnumDef, EnumVariant, Field, StructDef, Ty, TypeDef, TypeId,
    TypeKind, TypeSet, UnionDef, UnionVariant,
};
use crate::diagnostic::{Diagnostic, Severity};
use crate::load::{Location, RefError, Spec};
use crate::naming::{field_name, type_name, variant_name, Scope};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};

/// Keys that only annotate a schema; a schema made of these says nothing
/// about the shape of a value.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "externalDocs",
    "xml",
    "nullable",
    "format",
    "$comment",
    "$id",
    "$schema",
    "$anchor",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
    "discriminator",
    "contentMediaType",
    "contentEncoding",
];

/// Keys that, beside a `$ref`, add structure (OpenAPI 3.1 allows siblings).
const STRUCTURAL_SIBLINGS: &[&str] = &[
    "properties",
    "allOf",
    "oneOf",
    "anyOf",
    "additionalProperties",
];

/// Deepest `allOf` merge followed before giving up.
const MAX_MERGE_DEPTH: usize = 32;

/// What to lower: every component (the default), or only what a selection
/// of operations reaches, with component types renamed on request.
#[derive(Debug, Default, Clone)]
pub struct TypeOptions {
    /// Lower every component schema, used or not.
    pub all_components: bool,
    /// Rust names for component schemas, by component name.
    pub renames: HashMap<String, String>,
}

impl<'a> Lowerer<'a> {
    /// A lowerer with every component schema named (so names do not depend
    /// on which operations are selected) and, with `all_components`, queued.
    pub(crate) fn new(
        spec: &'a Spec,
        diags: &'a mut Vec<Diagnostic>,
        options: &TypeOptions,
    ) -> Self {
        let mut lowerer = Lowerer {
            spec,
            diags,
            types: Vec::new(),
            by_location: HashMap::new(),
            defined: Vec::new(),
            queue: VecDeque::new(),
            names: NameRequests::default(),
            type_names: Vec::new(),
            reserved: HashMap::new(),
            broken_ref_chains: HashSet::new(),
        };
        let schemas_at = Location::root(0).child("components").child("schemas");
        match spec.get(&schemas_at) {
            Some(Value::Object(schemas)) => {
                // In sorted order (names asked for first, types lowered
                // after), so names that meet are settled the same however
                // the document orders its schemas.
                let mut sorted: Vec<&String> = schemas.keys().collect();
                sorted.sort();
                let mut components = Vec::with_capacity(sorted.len());
                for name in sorted {
                    let at = schemas_at.child(name);
                    let wanted = options
                        .renames
                        .get(name)
                        .map_or_else(|| type_name(name), |n| type_name(n));
                    let id = lowerer.names.ask(Wanted::Exact(wanted), Some(at.clone()));
                    lowerer.reserved.insert(at.clone(), id);
                    components.push((at, id));
                }
                if options.all_components {
                    for (at, id) in components {
                        lowerer.create(at, id);
                    }
                }
            }
            Some(_) => lowerer.warn(
                &schemas_at,
                "`components/schemas` is not an object; ignored",
            ),
            None => {}
        }
        lowerer
    }

    /// Asks for the name of a type that is not a schema (operation
    /// options, response enums), so it never collides with one.
    pub(crate) fn ask_name(&mut self, wanted: &str) -> NameId {
        self.names.ask(Wanted::Exact(type_name(wanted)), None)
    }

    /// The type of the schema at `at` (a parameter, body or response),
    /// naming inline structures after `hint`.
    pub(crate) fn schema_ty(&mut self, at: &Location, hint: &str) -> (Ty, bool) {
        let spec = self.spec;
        match spec.get(at) {
            Some(schema) => self.ty_of(at, schema, &Hint::text(hint)),
            None => (Ty::Json, false),
        }
    }

    pub(crate) fn warn_at(&mut self, at: &Location, message: impl Into<String>) {
        self.warn(at, message);
    }

    /// Lowers everything queued, settles the names asked for (the naming
    /// pass), breaks recursive cycles and shares identical types.
    pub(crate) fn finish(mut self) -> (TypeSet, Names) {
        self.drain();
        let (names, renamed) = self.names.settle();
        for r in renamed {
            let d = self.spec.diag(
                &r.at,
                Severity::Warning,
                format!(
                    "type name `{}` is already taken; this schema is named `{}`",
                    r.wanted, r.name
                ),
            );
            self.diags.push(d);
        }
        let mut set = TypeSet { types: self.types };
        for (ty, id) in set.types.iter_mut().zip(self.type_names) {
            ty.name = names.get(id).to_owned();
        }
        names::name_union_variants(&mut set);
        recursion::break_cycles(&mut set);
        super::sharing::share_identical(&mut set);
        (set, names)
    }
}

/// What a schema is, before anything is lowered.
enum Form<'v> {
    /// A `$ref` (with annotations at most).
    Ref(&'v str),
    /// Objects merged from `allOf` members (or a `$ref` with structure beside it).
    AllOf,
    /// A composition with exactly one real member: that member.
    Single(Location, &'v Value),
    /// `oneOf`/`anyOf` with several members.
    Union(Vec<(Location, &'v Value)>),
    /// A string enum.
    Enum(Vec<String>),
    /// An object with declared properties.
    Object,
    /// An object with arbitrary keys; the value schema if one is declared.
    Map(Option<(Location, &'v Value)>),
    Array(Option<(Location, &'v Value)>),
    Scalar(Ty),
    /// A 3.1 `type` array naming several non-null types.
    MultiType(Vec<String>),
    Any,
}

pub(crate) struct Lowerer<'a> {
    spec: &'a Spec,
    diags: &'a mut Vec<Diagnostic>,
    types: Vec<TypeDef>,
    by_location: HashMap<Location, TypeId>,
    defined: Vec<bool>,
    queue: VecDeque<(TypeId, Location)>,
    /// The names asked for, settled by the naming pass in `finish`.
    names: NameRequests,
    /// The name asked for each type, by `TypeId`.
    type_names: Vec<NameId>,
    /// Names of component schemas, asked for before anything is lowered.
    reserved: HashMap<Location, NameId>,
    /// Schemas of `$ref` chains already reported (a cycle, or past the hop
    /// limit): refs leading into them are not reported again.
    broken_ref_chains: HashSet<Location>,
}

impl<'a> Lowerer<'a> {
    fn warn(&mut self, at: &Location, message: impl Into<String>) {
        let d = self.spec.diag(at, Severity::Warning, message.into());
        self.diags.push(d);
    }

    /// Reports a `$ref` that did not resolve, once per broken chain.
    fn ref_failed(&mut self, at: &Location, error: RefError, consequence: &str) {
        let known = error.known
            || error
                .chain
                .iter()
                .any(|l| self.broken_ref_chains.contains(l));
        self.broken_ref_chains.extend(error.chain);
        if !known {
            self.warn(at, format!("{}; {consequence}", error.message));
        }
    }

    fn origin(&self, at: &Location) -> String {
        self.spec.origin(at)
    }

    /// The type of a named location (a component, or any `$ref` target),
    /// created and queued on first sight; `wanted` is asked only then.
    fn named(&mut self, at: Location, wanted: impl FnOnce(&Location) -> Wanted) -> TypeId {
        if let Some(&id) = self.by_location.get(&at) {
            return id;
        }
        let name = match self.reserved.get(&at) {
            Some(&name) => name,
            None => self.names.ask(wanted(&at), Some(at.clone())),
        };
        self.create(at, name)
    }

    /// A new named type at `at`, queued to be defined.
    fn create(&mut self, at: Location, name: NameId) -> TypeId {
        let schema = self.spec.get(&at);
        let id = self.push_type(name, &at, schema);
        self.queue.push_back((id, at));
        id
    }

    fn push_type(&mut self, name: NameId, at: &Location, schema: Option<&Value>) -> TypeId {
        let id = TypeId(self.types.len());
        let (doc, nullable) = match schema.and_then(Value::as_object) {
            Some(o) => (doc_of(o), self.nullable(at, o, 0)),
            None => (None, false),
        };
        self.types.push(TypeDef {
            name: String::new(),
            origin: self.origin(at),
            doc,
            kind: TypeKind::Alias(Ty::Json),
            nullable,
        });
        self.defined.push(false);
        self.type_names.push(name);
        self.by_location.insert(at.clone(), id);
        id
    }

    fn drain(&mut self) {
        while let Some((id, at)) = self.queue.pop_front() {
            if self.defined[id.0] {
                continue;
            }
            let spec = self.spec;
            let name = Hint::of(self.type_names[id.0]);
            let kind = match spec.get(&at) {
                Some(schema) => self.define(&at, schema, &name),
                None => TypeKind::Alias(Ty::Json),
            };
            self.types[id.0].kind = kind;
            self.defined[id.0] = true;
        }
    }

    /// The kind of a named type from its schema.
    fn define(&mut self, at: &Location, schema: &'a Value, name: &Hint) -> TypeKind {
        let Some(o) = schema.as_object() else {
            return TypeKind::Alias(self.non_object_schema(at, schema));
        };
        let form = self.classify(at, o);
        if let Form::Ref(reference) = form {
            return TypeKind::Alias(self.referenced(at, reference, name).0);
        }
        match self.lower_form(at, o, form, name) {
            Lowered::Kind(kind) => kind,
            Lowered::Ty(ty, _) => TypeKind::Alias(ty),
        }
    }

    /// The type a `$ref` written at `at` points to, and whether it is nullable.
    fn referenced(&mut self, at: &Location, reference: &str, hint: &Hint) -> (Ty, bool) {
        match self
            .spec
            .resolve_avoiding(at, reference, &self.broken_ref_chains)
        {
            Ok(target) => {
                let id = self.named(target, |target| match last_segment(&target.pointer) {
                    Some(segment) => Wanted::Exact(type_name(segment)),
                    None => Wanted::Hint(hint.clone()),
                });
                (Ty::Named(id), self.types[id.0].nullable)
            }
            Err(why) => {
                self.ref_failed(at, why, "modelled as raw JSON");
                (Ty::Json, false)
            }
        }
    }

    fn non_object_schema(&mut self, at: &Location, schema: &Value) -> Ty {
        match schema {
            Value::Bool(true) => {}
            Value::Bool(false) => {
                self.warn(at, "schema `false` admits no value; modelled as raw JSON")
            }
            _ => self.warn(at, "schema is not an object; modelled as raw JSON"),
        }
        Ty::Json
    }

    /// The type of a value described by `schema` at `at` (a field, an item, a
    /// variant), and whether it admits `null`. Inline objects, enums and
    /// unions become named types called `hint`.
    fn ty_of(&mut self, at: &Location, schema: &'a Value, hint: &Hint) -> (Ty, bool) {
        let Some(o) = schema.as_object() else {
            return (self.non_object_schema(at, schema), false);
        };
        let form = self.classify(at, o);
        if let Form::Ref(reference) = form {
            // `referenced` resolves the target once and knows whether it is
            // nullable; only this node's own spellings remain to check.
            let (ty, target_nullable) = self.referenced(at, reference, hint);
            return (ty, own_nullable(o) || target_nullable);
        }
        let nullable = self.nullable(at, o, 0);
        if let Some(&id) = self.by_location.get(at) {
            return (Ty::Named(id), nullable);
        }
        if form_needs_type(&form) {
            let wanted =
                shared_component_name(at).map_or_else(|| Wanted::Hint(hint.clone()), Wanted::Exact);
            let name = self.names.ask(wanted, None);
            let id = self.push_type(name, at, Some(schema));
            let kind = match self.lower_form(at, o, form, &Hint::of(name)) {
                Lowered::Kind(kind) => kind,
                Lowered::Ty(ty, _) => TypeKind::Alias(ty),
            };
            self.types[id.0].kind = kind;
            self.defined[id.0] = true;
            return (Ty::Named(id), nullable);
        }
        match self.lower_form(at, o, form, hint) {
            Lowered::Ty(ty, inner_nullable) => (ty, nullable || inner_nullable),
            Lowered::Kind(kind) => {
                // Unreachable by construction of `form_needs_type`, but stay total.
                let name = self.names.ask(Wanted::Hint(hint.clone()), None);
                let id = self.push_type(name, at, Some(schema));
                self.types[id.0].kind = kind;
                self.defined[id.0] = true;
                (Ty::Named(id), nullable)
            }
        }
    }

    /// Whether a schema admits `null`, in any of the spellings of 3.0 and 3.1.
    fn nullable(&self, at: &Location, o: &Map<String, Value>, depth: usize) -> bool {
        if own_nullable(o) {
            return true;
        }
        // `allOf: [$ref]` plus `nullable` is handled above; a lone ref to a
        // nullable schema is nullable too.
        if depth < 8 {
            if let Some(Value::String(r)) = o.get("$ref") {
                if let Ok(target) = self.spec.resolve(at, r) {
                    if let Some(Value::Object(t)) = self.spec.get(&target) {
                        return self.nullable(&target, t, depth + 1);
                    }
                }
            }
        }
        false
    }

    fn classify(&mut self, at: &Location, o: &'a Map<String, Value>) -> Form<'a> {
        if let Some(reference) = o.get("$ref") {
            let Some(reference) = reference.as_str() else {
                self.warn(at, "`$ref` is not a string; modelled as raw JSON");
                return Form::Any;
            };
            if STRUCTURAL_SIBLINGS.iter().any(|k| o.contains_key(*k)) {
                // 3.1: siblings of a `$ref` apply too; read it as an `allOf`.
                return Form::AllOf;
            }
            return Form::Ref(reference);
        }
        if let Some(Value::Array(members)) = o.get("allOf") {
            let real: Vec<_> = members
                .iter()
                .enumerate()
                .filter(|(_, m)| !is_trivial(m))
                .map(|(i, m)| (at.child("allOf").child(&i.to_string()), m))
                .collect();
            let own_shape = o.contains_key("properties") || o.contains_key("additionalProperties");
            if let [(loc, m)] = real.as_slice() {
                if !own_shape && !o.contains_key("oneOf") && !o.contains_key("anyOf") {
                    return Form::Single(loc.clone(), m);
                }
            }
            if !real.is_empty() {
                if o.contains_key("oneOf") || o.contains_key("anyOf") {
                    self.warn(
                        at,
                        "`oneOf`/`anyOf` beside `allOf` is not modelled; only `allOf` is merged",
                    );
                }
                return Form::AllOf;
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(members)) = o.get(key) {
                let real: Vec<_> = members
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| !is_trivial(m) && !is_null_schema(m))
                    .map(|(i, m)| (at.child(key).child(&i.to_string()), m))
                    .collect();
                match real.as_slice() {
                    [] => {}
                    [(loc, m)] if !o.contains_key("properties") => {
                        return Form::Single(loc.clone(), m)
                    }
                    [_] => {}
                    _ => return Form::Union(real),
                }
            }
        }
        if let Some(values) = o.get("enum") {
            return self.classify_enum(at, o, values);
        }
        if let Some(c) = o.get("const") {
            return match c {
                Value::String(_) => Form::Scalar(Ty::String),
                Value::Bool(_) => Form::Scalar(Ty::Bool),
                Value::Number(n) if n.is_i64() || n.is_u64() => Form::Scalar(Ty::I64),
                Value::Number(_) => Form::Scalar(Ty::F64),
                _ => Form::Any,
            };
        }
        let types: Vec<&str> = match o.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect(),
            Some(_) => {
                self.warn(at, "`type` is neither a string nor an array; ignored");
                Vec::new()
            }
            None => Vec::new(),
        };
        match types.as_slice() {
            [] => self.infer_form(at, o),
            [single] => self.type_form(at, o, single),
            many => Form::MultiType(many.iter().map(|t| (*t).to_owned()).collect()),
        }
    }

    fn infer_form(&mut self, at: &Location, o: &'a Map<String, Value>) -> Form<'a> {
        if o.contains_key("properties") {
            self.type_form(at, o, "object")
        } else if o.contains_key("items") {
            self.type_form(at, o, "array")
        } else if o.contains_key("additionalProperties") {
            self.type_form(at, o, "object")
        } else {
            Form::Any
        }
    }

    fn type_form(&mut self, at: &Location, o: &'a Map<String, Value>, t: &str) -> Form<'a> {
        let format = o.get("format").and_then(Value::as_str).unwrap_or("");
        match t {
            "string" => Form::Scalar(match format {
                "date-time" => Ty::DateTime,
                "date" => Ty::Date,
                "uuid" => Ty::Uuid,
                "binary" => Ty::Binary,
                _ if o.contains_key("contentMediaType") && !o.contains_key("contentSchema") => {
                    Ty::Binary
                }
                _ => Ty::String,
            }),
            "integer" => Form::Scalar(match format {
                "int8" => Ty::I8,
                "int16" => Ty::I16,
                "int32" => Ty::I32,
                "uint8" => Ty::U8,
                "uint16" => Ty::U16,
                "uint32" => Ty::U32,
                "uint64" => Ty::U64,
                _ => Ty::I64,
            }),
            "number" => Form::Scalar(Ty::F64),
            "boolean" => Form::Scalar(Ty::Bool),
            "null" => Form::Any,
            "array" => match o.get("items") {
                Some(items @ Value::Object(_)) | Some(items @ Value::Bool(_)) => {
                    Form::Array(Some((at.child("items"), items)))
                }
                Some(_) => {
                    self.warn(
                        at,
                        "`items` is not a schema (tuple form?); items are raw JSON",
                    );
                    Form::Array(None)
                }
                None => Form::Array(None),
            },
            "object" => {
                if o.get("properties").is_some_and(|p| !p.is_object()) {
                    self.warn(
                        &at.child("properties"),
                        "`properties` is not an object; ignored",
                    );
                }
                let has_properties = o
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| !p.is_empty());
                if has_properties {
                    return Form::Object;
                }
                match o.get("additionalProperties") {
                    Some(v @ Value::Object(m)) if !m.is_empty() => {
                        Form::Map(Some((at.child("additionalProperties"), v)))
                    }
                    _ => Form::Map(None),
                }
            }
            other => {
                self.warn(at, format!("unknown type {other:?}; modelled as raw JSON"));
                Form::Any
            }
        }
    }

    fn classify_enum(
        &mut self,
        at: &Location,
        o: &'a Map<String, Value>,
        values: &Value,
    ) -> Form<'a> {
        let Some(values) = values.as_array() else {
            self.warn(at, "`enum` is not an array; ignored");
            return self.infer_form(at, o);
        };
        let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
        if non_null.is_empty() {
            return Form::Any;
        }
        if non_null.iter().all(|v| v.is_string()) {
            let declared = o.get("type").and_then(Value::as_str);
            if declared.is_none_or(|t| t == "string") {
                let mut seen = HashSet::new();
                let wires = non_null
                    .iter()
                    .filter_map(|v| v.as_str())
                    .filter(|s| seen.insert(*s))
                    .map(str::to_owned)
                    .collect();
                return Form::Enum(wires);
            }
        }
        if non_null.iter().all(|v| v.is_boolean()) {
            return Form::Scalar(Ty::Bool);
        }
        if non_null.iter().all(|v| v.is_i64() || v.is_u64()) {
            return self.type_form(at, o, "integer");
        }
        if non_null.iter().all(|v| v.is_number()) {
            return Form::Scalar(Ty::F64);
        }
        // Mixed value types: keep whatever `type` says, else raw JSON.
        match o.get("type").and_then(Value::as_str) {
            Some(t) => self.type_form(at, o, t),
            None => Form::Any,
        }
    }

    fn lower_form(
        &mut self,
        at: &Location,
        o: &'a Map<String, Value>,
        form: Form<'a>,
        name: &Hint,
    ) -> Lowered {
        match form {
            Form::Ref(_) | Form::Any => Lowered::Ty(Ty::Json, false),
            Form::Scalar(ty) => Lowered::Ty(ty, false),
            Form::Single(loc, member) => {
                let (ty, nullable) = self.ty_of(&loc, member, name);
                Lowered::Ty(ty, nullable)
            }
            Form::Array(items) => {
                let item = match items {
                    Some((loc, schema)) => self.item_ty(&loc, schema, &name.then("Item")),
                    None => Ty::Json,
                };
                Lowered::Ty(Ty::Vec(Box::new(item)), false)
            }
            Form::Map(values) => match values {
                Some((loc, schema)) => {
                    let value = self.item_ty(&loc, schema, &name.then("Value"));
                    Lowered::Ty(Ty::Map(Box::new(value)), false)
                }
                None => Lowered::Ty(Ty::JsonObject, false),
            },
            Form::Object | Form::AllOf => Lowered::Kind(TypeKind::Struct(self.object(at, o, name))),
            Form::Enum(wires) => Lowered::Kind(TypeKind::Enum(enum_def(wires))),
            Form::Union(members) => {
                Lowered::Kind(TypeKind::Union(self.union(at, o, members, name)))
            }
            Form::MultiType(types) => {
                Lowered::Kind(TypeKind::Union(self.multi_type(at, o, &types)))
            }
        }
    }

    /// The type of an array item or map value (nullable ones are `Option`).
    fn item_ty(&mut self, at: &Location, schema: &'a Value, hint: &Hint) -> Ty {
        let (ty, nullable) = self.ty_of(at, schema, hint);
        if nullable && ty != Ty::Json {
            Ty::Option(Box::new(ty))
        } else {
            ty
        }
    }

    /// The name of the component schema whose own property `at` is
    /// (`/components/schemas/C/properties/p`), if it is one.
    fn component_owning(&self, at: &Location) -> Option<NameId> {
        let rest = at.pointer.strip_prefix("/components/schemas/")?;
        let (component, property) = rest.split_once("/properties/")?;
        if component.contains('/') || property.contains('/') {
            return None;
        }
        let owner = Location {
            doc: at.doc,
            pointer: format!("/components/schemas/{component}"),
        };
        self.reserved.get(&owner).copied()
    }

    /// An object, merging `allOf` members and `$ref` siblings into one set
    /// of fields.
    fn object(&mut self, at: &Location, o: &'a Map<String, Value>, name: &Hint) -> StructDef {
        let mut acc = Merged::default();
        let mut visited = HashSet::new();
        self.merge(at, o, &mut acc, &mut visited, 0);
        let mut scope = Scope::new();
        let mut fields = Vec::with_capacity(acc.properties.len());
        for (wire, (loc, schema)) in &acc.properties {
            // A property merged from a component (`allOf: [$ref]`) is named
            // for that component, whoever reaches it first: `Issue`'s
            // `state_reason` is `IssueStateReason` even when an operation's
            // response merging `Issue` is lowered before `Issue` itself.
            let owner = self.component_owning(loc).map(Hint::of);
            let hint = owner.as_ref().unwrap_or(name).then(&type_name(wire));
            let (ty, nullable) = self.ty_of(loc, schema, &hint);
            let wanted = field_name(wire);
            let (rust, renamed) = scope.claim(&wanted);
            if renamed {
                self.warn(
                    loc,
                    format!("field name `{wanted}` collides with another field; named `{rust}`"),
                );
            }
            let schema_object = schema.as_object();
            fields.push(Field {
                wire: wire.clone(),
                name: rust,
                ty,
                required: acc.required.contains(wire.as_str()),
                nullable,
                doc: schema_object.and_then(doc_of),
                deprecated: schema_object
                    .is_some_and(|s| s.get("deprecated") == Some(&Value::Bool(true))),
            });
        }
        let extra = acc
            .additional
            .map(|(loc, schema)| self.item_ty(&loc, schema, &name.then("Value")));
        let (extra_name, _) = scope.claim("extra");
        StructDef {
            fields,
            extra,
            extra_name,
        }
    }

    fn merge(
        &mut self,
        at: &Location,
        o: &'a Map<String, Value>,
        acc: &mut Merged<'a>,
        visited: &mut HashSet<Location>,
        depth: usize,
    ) {
        if depth > MAX_MERGE_DEPTH || !visited.insert(at.clone()) {
            return;
        }
        if let Some(reference) = o.get("$ref").and_then(Value::as_str) {
            match self
                .spec
                .resolve_avoiding(at, reference, &self.broken_ref_chains)
            {
                Ok(target) => {
                    if let Some(Value::Object(t)) = self.spec.get(&target) {
                        self.merge(&target, t, acc, visited, depth + 1);
                    }
                }
                Err(why) => self.ref_failed(at, why, "its fields are not merged"),
            }
        }
        if let Some(Value::Array(members)) = o.get("allOf") {
            for (i, member) in members.iter().enumerate() {
                let loc = at.child("allOf").child(&i.to_string());
                match member.as_object() {
                    Some(m) => self.merge(&loc, m, acc, visited, depth + 1),
                    None => self.warn(&loc, "`allOf` member is not an object; skipped"),
                }
            }
        }
        if depth > 0
            && (o.contains_key("oneOf") || o.contains_key("anyOf"))
            && !o.contains_key("properties")
        {
            self.warn(
                at,
                "`oneOf`/`anyOf` inside `allOf` is not merged; its fields arrive as unknown fields",
            );
        }
        match o.get("properties") {
            Some(Value::Object(props)) => {
                let props_at = at.child("properties");
                for (wire, schema) in props {
                    acc.properties
                        .insert(wire.clone(), (props_at.child(wire), schema));
                }
            }
            Some(_) => self.warn(
                &at.child("properties"),
                "`properties` is not an object; ignored",
            ),
            None => {}
        }
        if let Some(required) = o.get("required") {
            match required.as_array() {
                Some(names) => acc.required.extend(names.iter().filter_map(Value::as_str)),
                None => self.warn(&at.child("required"), "`required` is not an array; ignored"),
            }
        }
        match o.get("additionalProperties") {
            Some(v @ Value::Object(_)) => {
                acc.additional = Some((at.child("additionalProperties"), v))
            }
            Some(Value::Bool(true)) if acc.additional.is_none() => {
                acc.additional = Some((at.child("additionalProperties"), &Value::Bool(true)));
            }
            _ => {}
        }
    }

    fn union(
        &mut self,
        at: &Location,
        o: &'a Map<String, Value>,
        members: Vec<(Location, &'a Value)>,
        name: &Hint,
    ) -> UnionDef {
        let mut variants = Vec::with_capacity(members.len());
        let mut targets = Vec::with_capacity(members.len());
        for (i, (loc, member)) in members.iter().enumerate() {
            let title = member.get("title").and_then(Value::as_str).map(type_name);
            let hint = name.then(&title.unwrap_or_else(|| format!("Variant{}", i + 1)));
            let (ty, nullable) = self.ty_of(loc, member, &hint);
            let ty = if nullable && ty != Ty::Json {
                Ty::Option(Box::new(ty))
            } else {
                ty
            };
            targets.push(
                member
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| self.spec.resolve(loc, r).ok()),
            );
            // Named by the naming pass, from the member types' names.
            variants.push(UnionVariant {
                name: String::new(),
                ty,
            });
        }
        let discriminator = self.discriminator(at, o, &targets);
        UnionDef {
            variants,
            discriminator,
        }
    }

    /// The discriminator of a union whose members are all `$ref`s.
    fn discriminator(
        &mut self,
        at: &Location,
        o: &Map<String, Value>,
        targets: &[Option<Location>],
    ) -> Option<Discriminator> {
        let d = o.get("discriminator")?.as_object()?;
        let property = d.get("propertyName")?.as_str()?.to_owned();
        if targets.iter().any(Option::is_none) {
            self.warn(at, "discriminator ignored: not every variant is a `$ref`");
            return None;
        }
        let mut mapping: Vec<(String, usize)> = Vec::new();
        let mut mapped = vec![false; targets.len()];
        if let Some(Value::Object(explicit)) = d.get("mapping") {
            for (wire, target) in explicit {
                let Some(target) = target.as_str() else {
                    continue;
                };
                let reference =
                    if target.contains('#') || target.contains('/') || target.contains('.') {
                        target.to_owned()
                    } else {
                        format!("#/components/schemas/{target}")
                    };
                let resolved = self.spec.resolve(at, &reference).ok();
                match targets.iter().position(|t| t.is_some() && *t == resolved) {
                    Some(i) => {
                        mapping.push((wire.clone(), i));
                        mapped[i] = true;
                    }
                    None => self.warn(
                        &at.child("discriminator").child("mapping").child(wire),
                        "discriminator mapping names no variant of this union; ignored",
                    ),
                }
            }
        }
        for (i, target) in targets.iter().enumerate() {
            if !mapped[i] {
                if let Some(name) = target.as_ref().and_then(|t| last_segment(&t.pointer)) {
                    mapping.push((name.to_owned(), i));
                }
            }
        }
        Some(Discriminator { property, mapping })
    }

    /// A 3.1 `type: [a, b]` union of primitive types.
    fn multi_type(
        &mut self,
        at: &Location,
        o: &'a Map<String, Value>,
        types: &[String],
    ) -> UnionDef {
        let mut variants = Vec::new();
        for t in types {
            let ty = match self.type_form(at, o, t) {
                Form::Scalar(ty) => ty,
                Form::Array(_) => Ty::Vec(Box::new(Ty::Json)),
                Form::Object | Form::Map(_) => Ty::JsonObject,
                _ => Ty::Json,
            };
            variants.push(UnionVariant {
                name: String::new(),
                ty,
            });
        }
        UnionDef {
            variants,
            discriminator: None,
        }
    }
}

enum Lowered {
    Kind(TypeKind),
    Ty(Ty, bool),
}

#[derive(Default)]
struct Merged<'v> {
    properties: indexmap_lite::OrderedMap<'v>,
    required: HashSet<&'v str>,
    additional: Option<(Location, &'v Value)>,
}

/// Properties in first-seen order; a later definition replaces the schema.
mod indexmap_lite {
    use crate::load::Location;
    use serde_json::Value;
    use std::collections::HashMap;

    #[derive(Default)]
    pub(super) struct OrderedMap<'v> {
        order: Vec<String>,
        entries: HashMap<String, (Location, &'v Value)>,
    }

    impl<'v> OrderedMap<'v> {
        pub(super) fn insert(&mut self, key: String, value: (Location, &'v Value)) {
            if self.entries.insert(key.clone(), value).is_none() {
                self.order.push(key);
            }
        }

        pub(super) fn len(&self) -> usize {
            self.order.len()
        }
    }

    impl<'m, 'v> IntoIterator for &'m OrderedMap<'v> {
        type Item = (&'m String, &'m (Location, &'v Value));
        type IntoIter = Box<dyn Iterator<Item = Self::Item> + 'm>;

        fn into_iter(self) -> Self::IntoIter {
            Box::new(
                self.order
                    .iter()
                    .filter_map(move |k| self.entries.get_key_value(k)),
            )
        }
    }
}

/// Whether a schema itself admits `null` (not looking through `$ref`), in
/// any of the spellings of 3.0 and 3.1.
fn own_nullable(o: &Map<String, Value>) -> bool {
    if o.get("nullable") == Some(&Value::Bool(true)) {
        return true;
    }
    match o.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(types)) if types.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    if o.get("const") == Some(&Value::Null) {
        return true;
    }
    if let Some(Value::Array(values)) = o.get("enum") {
        if values.iter().any(Value::is_null) {
            return true;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(members)) = o.get(key) {
            if members.iter().any(is_null_schema) {
                return true;
            }
        }
    }
    false
}

fn form_needs_type(form: &Form<'_>) -> bool {
    matches!(
        form,
        Form::AllOf | Form::Union(_) | Form::Enum(_) | Form::Object | Form::MultiType(_)
    )
}

fn enum_def(wires: Vec<String>) -> EnumDef {
    let mut scope = Scope::new();
    scope.reserve("Unknown");
    let variants = wires
        .into_iter()
        .map(|wire| {
            let (name, _) = scope.claim(&variant_name(&wire));
            EnumVariant { wire, name }
        })
        .collect();
    EnumDef { variants }
}

/// A member of a composition that constrains nothing about shape.
fn is_trivial(schema: &Value) -> bool {
    match schema {
        Value::Object(o) => o
            .keys()
            .all(|k| ANNOTATIONS.contains(&k.as_str()) || k.starts_with("x-")),
        Value::Bool(true) => true,
        _ => false,
    }
}

/// `{type: "null"}`, `{enum: [null]}`, `{const: null}` or `{nullable: true}` alone.
fn is_null_schema(schema: &Value) -> bool {
    let Some(o) = schema.as_object() else {
        return false;
    };
    o.get("type").and_then(Value::as_str) == Some("null")
        || o.get("const") == Some(&Value::Null)
        || o.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|v| !v.is_empty() && v.iter().all(Value::is_null))
        || (o.get("nullable") == Some(&Value::Bool(true))
            && o.keys().all(|k| ANNOTATIONS.contains(&k.as_str())))
}

fn doc_of(o: &Map<String, Value>) -> Option<String> {
    let text = o
        .get("description")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            o.get("title")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        })?;
    Some(text.trim().to_owned())
}

/// The last segment of a JSON pointer, unescaped.
fn last_segment(pointer: &str) -> Option<&str> {
    let last = pointer.rsplit('/').next().filter(|s| !s.is_empty())?;
    // Escaped names (`~0`, `~1`) are rare in schema names; keep them readable.
    Some(last)
}

/// The name of a schema that a shared component holds directly: a
/// parameter's (`/components/parameters/direction/schema` → `Direction`),
/// a response's or a request body's (`…/content/<type>/schema`). It is named
/// for that component, not for the first operation that uses it.
fn shared_component_name(at: &Location) -> Option<String> {
    let mut segments = at.pointer.strip_prefix("/components/")?.split('/');
    let (kind, component) = (segments.next()?, segments.next()?);
    let rest: Vec<&str> = segments.collect();
    let direct = match kind {
        "parameters" => rest == ["schema"],
        "responses" | "requestBodies" => {
            rest.len() == 3 && rest[0] == "content" && rest[2] == "schema"
        }
        _ => false,
    };
    direct.then(|| type_name(&component.replace("~1", "/").replace("~0", "~")))
}
