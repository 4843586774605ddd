//! The client: a `Client` struct, and per tag a module with each
//! operation's options type and response enums, then one `impl Client`
//! with their methods (plus a `…_stream` method for paginated operations,
//! a `…_streaming` one for binary downloads). Methods only describe the
//! request and what each status means; `wharf::client` serializes it and
//! the runtime sends it.

use super::docs::sanitize;
use super::types::{short_origin, TypeEmitter};
use super::{lit, Writer};
use crate::ir::{
    Access, ApiInfo, Body, BodyKind, FieldPath, Operation, Outcome, PageKind, Param, ParamIn,
    ParamStyle, Payload, StatusPattern, Ty, TypeKind, TypeSet,
};
use crate::naming::is_secret_field;

const STYLE: &str = "::wharf::client::Style";
const API_ERROR: &str = "::wharf::client::ApiError";

/// The runtime's `Style` variant for a parameter style.
fn style(s: ParamStyle) -> &'static str {
    match s {
        ParamStyle::Form => "Form",
        ParamStyle::Simple => "Simple",
        ParamStyle::Label => "Label",
        ParamStyle::Matrix => "Matrix",
        ParamStyle::SpaceDelimited => "SpaceDelimited",
        ParamStyle::PipeDelimited => "PipeDelimited",
        ParamStyle::DeepObject => "DeepObject",
    }
}

pub(super) struct ClientEmitter<'a> {
    types: TypeEmitter<'a>,
    set: &'a TypeSet,
}

impl<'a> ClientEmitter<'a> {
    pub(super) fn new(set: &'a TypeSet) -> Self {
        ClientEmitter {
            types: TypeEmitter::new(set),
            set,
        }
    }

    pub(super) fn all(&self, w: &mut Writer, operations: &[Operation], info: &ApiInfo) {
        if operations.is_empty() {
            return;
        }
        client_struct(w, info);
        let mut modules: Vec<&str> = Vec::new();
        for op in operations {
            if !modules.contains(&op.module.as_str()) {
                modules.push(&op.module);
            }
        }
        for module in modules {
            w.blank();
            let tag = operations
                .iter()
                .find(|o| o.module == module)
                .and_then(|o| o.tags.first())
                .map_or_else(
                    || "Operations without a tag.".to_owned(),
                    |t| format!("Operations tagged `{}`.", t.replace('`', "'")),
                );
            w.doc(&sanitize(&tag));
            // Status arms may overlap (`404`, then `400..=499`) or be
            // unreachable (`200..=299` after each 2xx); the first wins.
            w.line("#[allow(dead_code, unused_imports, unreachable_patterns, clippy::match_overlapping_arm)]");
            w.open(&format!("pub mod {module} {{"));
            w.line("use super::*;");
            let ops: Vec<&Operation> = operations.iter().filter(|o| o.module == module).collect();
            for op in &ops {
                w.blank();
                self.options(w, op);
                self.response_enum(w, op, true);
                self.response_enum(w, op, false);
            }
            w.blank();
            w.open("impl Client {");
            for (i, op) in ops.iter().enumerate() {
                if i > 0 {
                    w.blank();
                }
                self.methods(w, op);
            }
            w.close("}");
            w.close("}");
            w.blank();
            w.line(super::ALLOW_UNUSED_MODULE);
            w.line(&format!("pub use self::{module}::*;"));
        }
    }

    /// The operation's methods: the call, and a stream of its pages or of
    /// its body where it has them.
    fn methods(&self, w: &mut Writer, op: &Operation) {
        self.method(w, op);
        if op.pagination.is_some() {
            w.blank();
            self.stream_method(w, op);
        }
        if op.streaming_fn.is_some() {
            w.blank();
            self.streaming_method(w, op);
        }
    }

    fn payload_ty(&self, p: &Payload, success: bool) -> String {
        match p {
            Payload::Json(ty) => self.types.ty(ty),
            Payload::Text if success => "String".into(),
            Payload::Binary if success => "::wharf::Binary".into(),
            _ => "()".into(),
        }
    }

    fn ok_ty(&self, op: &Operation) -> String {
        match &op.responses.ok {
            Outcome::Single(p) => self.payload_ty(p, true),
            Outcome::Enum(name) => name.clone(),
        }
    }

    fn err_ty(&self, op: &Operation) -> String {
        match &op.responses.err {
            Outcome::Single(p) => self.payload_ty(p, false),
            Outcome::Enum(name) => name.clone(),
        }
    }

    /// What a method returns: a future (built at once, holding only the
    /// client) of the typed reply or error. `use<'_>` says it borrows
    /// nothing else; a method with an `impl Into<Body>` argument cannot say
    /// so (that type is always captured) and writes `'_`.
    fn return_ty(&self, op: &Operation) -> String {
        let impl_arg = required_body(op).is_some_and(|b| b.kind == BodyKind::Binary);
        format!(
            "impl ::wharf::client::ReplyFuture<{}, {}> + {}",
            self.ok_ty(op),
            self.err_ty(op),
            if impl_arg { "'_" } else { "use<'_>" }
        )
    }

    /// The options type: optional parameters, an optional body, settings.
    fn options(&self, w: &mut Writer, op: &Operation) {
        let name = &op.options_name;
        let optional: Vec<&Param> = op.params.iter().filter(|p| !p.required).collect();
        let body = op.body.as_ref().filter(|b| !b.required);
        if optional.is_empty() && body.is_none() {
            // The per-call settings alone: one runtime type for all such
            // operations (most of them), its name an alias.
            w.doc(&[format!(
                " Options of [`Client::{}`]: per-call settings (it has no optional parameters).",
                op.fn_name
            )]);
            w.line(&format!(
                "pub type {name} = ::wharf::client::CallOnlyOptions;"
            ));
            return;
        }
        w.doc(&[format!(
            " Optional parameters of [`Client::{}`], and per-call settings.",
            op.fn_name
        )]);
        let secret = optional.iter().any(|p| is_secret_field(&p.wire));
        w.line(if secret {
            "#[derive(Clone, Default)]"
        } else {
            "#[derive(Debug, Clone, Default)]"
        });
        w.open(&format!("pub struct {name} {{"));
        for p in &optional {
            param_doc(w, p);
            w.line(&format!(
                "pub {}: Option<{}>,",
                ident(&p.rust),
                self.types.ty(&p.ty)
            ));
        }
        if let Some(b) = body {
            w.doc(&sanitize(b.doc.as_deref().unwrap_or(" The request body.")));
            w.line(&format!(
                "pub {}: Option<{}>,",
                ident(&b.rust),
                self.body_field_ty(b)
            ));
        }
        w.line("/// Deadline, retry, idempotency key, extra headers, a raw body.");
        w.line("pub call: ::wharf::client::CallSettings,");
        w.close("}");
        if secret {
            w.blank();
            w.open(&format!("impl ::core::fmt::Debug for {name} {{"));
            w.open("fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {");
            w.line(&format!("f.debug_struct({})", lit(name)));
            w.indent_more();
            for p in &optional {
                if is_secret_field(&p.wire) {
                    w.line(&format!(
                        ".field({}, &self.{}.as_ref().map(|_| ::wharf::__private::Redacted))",
                        lit(&p.rust),
                        ident(&p.rust)
                    ));
                } else {
                    w.line(&format!(
                        ".field({}, &self.{})",
                        lit(&p.rust),
                        ident(&p.rust)
                    ));
                }
            }
            if let Some(b) = body {
                w.line(&format!(
                    ".field({}, &self.{})",
                    lit(&b.rust),
                    ident(&b.rust)
                ));
            }
            w.line(".field(\"call\", &self.call)");
            w.line(".finish()");
            w.indent_back();
            w.close("}");
            w.close("}");
        }
        w.blank();
        w.open(&format!("impl {name} {{"));
        let setters = optional
            .iter()
            .map(|p| (ident(&p.rust), self.types.ty(&p.ty)))
            .chain(body.map(|b| (ident(&b.rust), self.body_field_ty(b))));
        for (field, ty) in setters {
            w.line(&format!(
                "pub fn {field}(mut self, value: impl Into<{ty}>) -> Self {{ self.{field} = Some(value.into()); self }}"
            ));
        }
        w.close("}");
    }

    fn body_field_ty(&self, b: &Body) -> String {
        match b.kind {
            BodyKind::Text => "String".into(),
            BodyKind::Binary => "::wharf::Body".into(),
            _ => self.types.ty(&b.ty),
        }
    }

    /// The enum of success (or error) responses, when they differ in shape.
    fn response_enum(&self, w: &mut Writer, op: &Operation, success: bool) {
        let outcome = if success {
            &op.responses.ok
        } else {
            &op.responses.err
        };
        let Outcome::Enum(name) = outcome else {
            return;
        };
        w.blank();
        let side = if success { "Successful" } else { "Error" };
        w.doc(&[format!(" {side} responses of [`Client::{}`].", op.fn_name)]);
        w.line("#[derive(Debug, Clone, PartialEq)]");
        w.open(&format!("pub enum {name} {{"));
        for case in op.responses.cases.iter().filter(|c| c.success == success) {
            let mut doc = status_text(case.status);
            if let Some(d) = &case.description {
                doc.push_str(": ");
                doc.push_str(d);
            }
            w.doc(&sanitize(&doc));
            match self.payload_ty(&case.payload, success).as_str() {
                "()" => w.line(&format!("{},", case.variant)),
                ty => w.line(&format!("{}({ty}),", case.variant)),
            }
        }
        w.close("}");
    }

    /// The argument list after `&self`: required parameters, a required
    /// body, the options. `lifetime` is `'a ` for stream methods.
    fn arguments(&self, op: &Operation, lifetime: &str) -> Vec<String> {
        let mut args = Vec::new();
        for p in op.params.iter().filter(|p| p.required) {
            args.push(format!(
                "{}: {}",
                ident(&p.rust),
                self.arg_ty(&p.ty, lifetime)
            ));
        }
        if let Some(b) = required_body(op) {
            let ty = match b.kind {
                BodyKind::Text => format!("&{lifetime}str"),
                BodyKind::Binary => "impl Into<::wharf::Body>".into(),
                _ => format!("&{lifetime}{}", self.types.ty(&b.ty)),
            };
            args.push(format!("{}: {ty}", ident(&b.rust)));
        }
        args.push(format!("options: {}", op.options_name));
        args
    }

    /// A required parameter's argument as a reference.
    fn arg_ref(&self, p: &Param) -> String {
        if self.arg_ty(&p.ty, "").starts_with('&') {
            ident(&p.rust)
        } else {
            format!("&{}", ident(&p.rust))
        }
    }

    fn arg_ty(&self, ty: &Ty, lifetime: &str) -> String {
        match ty {
            Ty::String => format!("&{lifetime}str"),
            Ty::Bool
            | Ty::I8
            | Ty::I16
            | Ty::I32
            | Ty::I64
            | Ty::U8
            | Ty::U16
            | Ty::U32
            | Ty::U64
            | Ty::F64 => self.types.ty(ty),
            other => format!("&{lifetime}{}", self.types.ty(other)),
        }
    }

    fn method_doc(&self, w: &mut Writer, op: &Operation) {
        let mut doc = String::new();
        if let Some(s) = &op.summary {
            doc.push_str(s);
            doc.push_str("\n\n");
        }
        if let Some(d) = op
            .description
            .as_ref()
            .filter(|d| Some(*d) != op.summary.as_ref())
        {
            doc.push_str(d);
            doc.push_str("\n\n");
        }
        doc.push_str(&format!(
            "`{} {}` · Spec: `{}`",
            op.method.as_str(),
            op.path.replace('`', "'"),
            short_origin(&op.origin)
        ));
        // Arguments the spec describes (the names say the rest).
        let described: Vec<(&Param, &String)> = op
            .params
            .iter()
            .filter(|p| p.required)
            .filter_map(|p| Some((p, p.doc.as_ref().filter(|d| !d.trim().is_empty())?)))
            .collect();
        if !described.is_empty() {
            doc.push_str("\n\nArguments:");
            for (p, d) in described {
                doc.push_str(&format!(
                    "\n- `{}`: {}",
                    p.rust,
                    d.replace(['\n', '\r'], " ")
                ));
            }
        }
        w.doc(&sanitize(&doc));
        if op.deprecated {
            w.line("#[deprecated(note = \"deprecated in the spec\")]");
        }
    }

    /// `pub fn name(&self, arguments…) -> impl ReplyFuture<…>`: the request
    /// built, then sent with the `match` that reads its response.
    fn method(&self, w: &mut Writer, op: &Operation) {
        self.method_doc(w, op);
        let head = format!("pub fn {}", op.fn_name);
        let returns = self.return_ty(op);
        signature_lines(w, &head, "&self", &self.arguments(op, ""), &returns);
        self.request(w, op);
        w.open("self.core.call(r, options.call, |raw| match raw.code() {");
        self.dispatch(w, op);
        w.close("})");
        w.close("}");
    }

    /// The request `r`: path, parameters, body.
    fn request(&self, w: &mut Writer, op: &Operation) {
        w.line(&format!(
            "let mut r = self.core.request(&super::operations::{});",
            op.const_name
        ));
        let mut calls = self.path(op);
        calls.extend(op.params.iter().filter_map(|p| self.param(p)));
        if !calls.is_empty() {
            w.chain("r", &calls, 100);
        }
        if let Some(b) = &op.body {
            self.body(w, b);
        }
    }

    /// The same call with a successful body handed over as a stream: the
    /// generated method for downloads too large to hold.
    fn streaming_method(&self, w: &mut Writer, op: &Operation) {
        let Some(name) = &op.streaming_fn else { return };
        w.doc(&[
            format!(
                " [`Client::{}`], with a successful (2xx) response body handed over as a",
                op.fn_name
            ),
            " stream as it arrives, for downloads too large to hold. Error responses".into(),
            " are read whole and typed as in the buffered method.".into(),
        ]);
        if op.deprecated {
            w.line("#[deprecated(note = \"deprecated in the spec\")]");
        }
        let returns = format!(
            "Result<::wharf::client::Reply<::wharf::ByteStream>, {API_ERROR}<{}>>",
            self.err_ty(op)
        );
        let head = format!("pub async fn {name}");
        signature_lines(w, &head, "&self", &self.arguments(op, ""), &returns);
        self.request(w, op);
        w.open("let raw = match self.core.send_streaming(r, options.call).await? {");
        w.line("::wharf::client::Streamed::Body(reply) => return Ok(reply),");
        w.line("::wharf::client::Streamed::Raw(raw) => raw,");
        w.close("};");
        if op.responses.cases.iter().any(|c| !c.success) {
            w.open("match raw.code() {");
            self.error_arms(w, op);
            w.close("}");
        } else {
            w.line("raw.unexpected()");
        }
        w.close("}");
    }

    /// The path template as calls on the request: literal text and path
    /// parameters.
    fn path(&self, op: &Operation) -> Vec<String> {
        template(&op.path)
            .into_iter()
            .map(|segment| match segment {
                Segment::Literal(text) => format!(".path({})", lit(text)),
                Segment::Param(name) => match op
                    .params
                    .iter()
                    .find(|p| p.location == ParamIn::Path && p.wire == name)
                {
                    Some(p) if p.style == ParamStyle::Simple && !p.explode => {
                        format!(".path_param({}, {})", lit(&p.wire), self.arg_ref(p))
                    }
                    Some(p) => format!(
                        ".path_param_with({}, {}, {STYLE}::{}, {})",
                        lit(&p.wire),
                        self.arg_ref(p),
                        style(p.style),
                        p.explode
                    ),
                    // Undeclared: kept literally (lowering warned).
                    None => format!(".path({})", lit(&format!("{{{name}}}"))),
                },
            })
            .collect()
    }

    /// A query, header or cookie parameter as a call on the request (path
    /// parameters are in [`Self::path`]).
    fn param(&self, p: &Param) -> Option<String> {
        let value = if p.required {
            self.arg_ref(p)
        } else {
            format!("&options.{}", ident(&p.rust))
        };
        let wire = lit(&p.wire);
        Some(match p.location {
            ParamIn::Path => return None,
            ParamIn::Query if p.style == ParamStyle::Form && p.explode && !p.allow_reserved => {
                format!(".query({wire}, {value})")
            }
            ParamIn::Query => format!(
                ".query_with({wire}, {value}, {STYLE}::{}, {}, {})",
                style(p.style),
                p.explode,
                p.allow_reserved
            ),
            ParamIn::Header if !p.explode => format!(".header({wire}, {value})"),
            ParamIn::Header => format!(".header_with({wire}, {value}, true)"),
            ParamIn::Cookie if p.explode => format!(".cookie({wire}, {value})"),
            ParamIn::Cookie => format!(".cookie_with({wire}, {value}, false)"),
        })
    }

    fn body(&self, w: &mut Writer, b: &Body) {
        let media = lit(&b.media_type);
        let name = ident(&b.rust);
        let opened = if b.required {
            false
        } else {
            w.open(&format!("if let Some({name}) = &options.{name} {{"));
            true
        };
        match b.kind {
            BodyKind::Json => w.line(&format!("r.json({name}, {media});")),
            BodyKind::Text => w.line(&format!("r.text({name}.to_owned(), {media});")),
            BodyKind::Binary if b.required => w.line(&format!("r.body({name}, {media});")),
            BodyKind::Binary => w.line(&format!("r.body({name}.clone(), {media});")),
            BodyKind::Form => {
                if b.encodings.is_empty() {
                    w.line(&format!("r.form({name}, &[]);"));
                } else {
                    w.open(&format!("r.form({name}, &["));
                    for (field, field_style, explode) in &b.encodings {
                        let style = style(*field_style);
                        w.line(&format!(
                            "::wharf::client::FieldEncoding {{ name: {}, style: {STYLE}::{style}, explode: {explode} }},",
                            lit(field)
                        ));
                    }
                    w.close("]);");
                }
            }
            BodyKind::Multipart => self.multipart(w, b, &name),
        }
        if opened {
            w.close("}");
        }
    }

    /// Multipart parts: one per field of the body's struct; binary fields
    /// become file parts.
    fn multipart(&self, w: &mut Writer, b: &Body, name: &str) {
        w.line("let mut parts = ::wharf::client::Multipart::new();");
        let fields = match self.set.resolve(&b.ty) {
            Ty::Named(id) => match &self.set.get(*id).kind {
                TypeKind::Struct(s) if s.extra.is_none() => Some(&s.fields),
                _ => None,
            },
            _ => None,
        };
        match fields {
            Some(fields) => {
                for f in fields {
                    let wire = lit(&f.wire);
                    let field = format!("{name}.{}", ident(&f.name));
                    let is_file = |t: &Ty| matches!(t, Ty::Binary);
                    let access = f.access();
                    match (&f.ty, access) {
                        (Ty::Binary, Access::Plain) => {
                            w.line(&format!("parts.file({wire}, &{field});"))
                        }
                        (Ty::Binary, Access::Option) => w.line(&format!(
                            "if let Some(file) = &{field} {{ parts.file({wire}, file); }}"
                        )),
                        (Ty::Binary, Access::Nullable) => w.line(&format!(
                            "if let Some(file) = {field}.as_option() {{ parts.file({wire}, file); }}"
                        )),
                        (Ty::Vec(item), Access::Plain) if is_file(item) => w.line(&format!(
                            "for file in &{field} {{ parts.file({wire}, file); }}"
                        )),
                        (Ty::Vec(item), Access::Option) if is_file(item) => w.line(&format!(
                            "for file in {field}.iter().flatten() {{ parts.file({wire}, file); }}"
                        )),
                        _ => w.line(&format!(
                            "parts.field({wire}, &r.to_json({wire}, &{field}));"
                        )),
                    }
                }
            }
            None => w.line(&format!("parts.fields(&r.to_json(\"body\", {name}));")),
        }
        w.line("r.multipart(parts);");
    }

    /// The arms of the `match` from status to outcome. One success shape:
    /// every 2xx decodes as it. Several: an arm per documented status.
    /// Errors: an arm per documented status, `default` as the catch-all.
    fn dispatch(&self, w: &mut Writer, op: &Operation) {
        let cases = &op.responses.cases;
        match &op.responses.ok {
            Outcome::Single(p) => w.line(&format!("200..=299 => raw.{}(),", decoder(p))),
            Outcome::Enum(name) => {
                for case in cases.iter().filter(|c| c.success) {
                    let arm = match &case.payload {
                        Payload::Empty => format!("raw.empty_as({name}::{})", case.variant),
                        p => format!("raw.{}_into({name}::{})", decoder(p), case.variant),
                    };
                    w.line(&format!("{} => {arm},", status_pattern(case.status)));
                }
            }
        }
        self.error_arms(w, op);
    }

    /// The arms for documented error statuses, `default` (or an
    /// unexpected-status arm) last.
    fn error_arms(&self, w: &mut Writer, op: &Operation) {
        let mut has_default = false;
        for case in op.responses.cases.iter().filter(|c| !c.success) {
            has_default |= case.status == StatusPattern::Default;
            let arm = match (&op.responses.err, &case.payload) {
                (Outcome::Single(Payload::Json(_)), _) => {
                    "raw.error_json(::core::convert::identity)".to_owned()
                }
                (Outcome::Single(_), _) => "raw.error_raw(())".to_owned(),
                (Outcome::Enum(name), Payload::Json(_)) => {
                    format!("raw.error_json({name}::{})", case.variant)
                }
                (Outcome::Enum(name), _) => format!("raw.error_raw({name}::{})", case.variant),
            };
            w.line(&format!("{} => {arm},", status_pattern(case.status)));
        }
        if !has_default {
            w.line("_ => raw.unexpected(),");
        }
    }

    fn stream_method(&self, w: &mut Writer, op: &Operation) {
        let Some(page) = &op.pagination else { return };
        let how = match &page.kind {
            PageKind::Link => "following `Link: rel=\"next\"`",
            PageKind::Cursor { .. } => "with `has_more` and the last item's id as the cursor",
            PageKind::Token { .. } => "passing each page's token to the next request",
            PageKind::Offset { .. } => "advancing the offset by the items received",
        };
        w.doc(&[format!(
            " Every item of [`Client::{}`], page after page, {how}, up to the last page, an empty page or an error.",
            op.fn_name
        )]);
        if op.deprecated {
            w.line("#[allow(deprecated)]");
        }
        let args = self.arguments(op, "'a ");
        let returns = format!(
            "impl ::wharf::client::Stream<Item = Result<{}, {API_ERROR}<{}>>> + 'a",
            self.types.ty(&page.item_ty),
            self.err_ty(op)
        );
        let head = format!("pub fn {}<'a>", page.stream_fn);
        signature_lines(w, &head, "&'a self", &args, &returns);
        let call_args: Vec<String> = args
            .iter()
            .map(|a| a.split(':').next().unwrap_or("").trim().to_owned())
            .filter(|a| a != "options")
            .chain(["o".to_owned()])
            .collect();
        w.open("::wharf::client::paginate(");
        w.line("options,");
        w.line(&format!(
            "move |o| self.{}({}),",
            op.fn_name,
            call_args.join(", ")
        ));
        let items = Reach::follow("page.value", &page.items);
        let (param, next) = match &page.kind {
            PageKind::Link => {
                w.line("|o, page| ::wharf::client::next_link(o, page, |next| &mut next.call),");
                (None, String::new())
            }
            PageKind::Cursor {
                param,
                has_more,
                id_field,
            } => {
                let more = match Reach::follow("page.value", has_more) {
                    Reach::Place(p) => format!("!{p}"),
                    Reach::Optional(o) => format!("{o} != Some(&true)"),
                };
                w.open("|o, page| {");
                w.open(&format!("if {more} {{"));
                w.line("return None;");
                w.close("}");
                w.line(&format!("let last = {}.last()?;", items.or_return()));
                let id = Reach::follow("last", std::slice::from_ref(id_field));
                w.line(&format!("let id = {}.clone();", id.or_return()));
                (Some(param), "Some(id)".to_owned())
            }
            PageKind::Token { param, field } => {
                let token = Reach::follow("page.value", field);
                w.open("|o, page| {");
                w.line(&format!("let token = {}.clone();", token.or_return()));
                w.open("if token.is_empty() {");
                w.line("return None;");
                w.close("}");
                (Some(param), "Some(token)".to_owned())
            }
            PageKind::Offset { param } => {
                let received = match &items {
                    Reach::Place(p) => format!("{p}.len()"),
                    Reach::Optional(o) => format!("{o}.map_or(0, |items| items.len())"),
                };
                w.open("|o, page| {");
                w.line(&format!("let received = {received};"));
                let p = ident(param);
                (
                    Some(param),
                    format!("Some(::wharf::client::next_offset(next.{p}, received)?)"),
                )
            }
        };
        // Cursors, tokens and offsets: these options with the next value.
        if let Some(param) = param {
            w.line("let mut next = o.clone();");
            w.line(&format!("next.{} = {next};", ident(param)));
            w.line("Some(next)");
            w.close("},");
        }
        w.line(&format!("|page| {},", items_value(&page.items)));
        w.close(")");
        w.close("}");
    }
}

fn client_struct(w: &mut Writer, info: &ApiInfo) {
    w.blank();
    let mut doc = String::from("Client for ");
    if info.title.is_empty() {
        doc.push_str("this API");
    } else {
        doc.push_str(&format!("`{}`", info.title.replace('`', "'")));
    }
    if !info.version.is_empty() {
        doc.push_str(&format!(" (version `{}`)", info.version.replace('`', "'")));
    }
    doc.push_str(". Every method goes through the integration's request path: auth, deadline, retries, circuit breaker, rate limit and bulkhead apply to all of them.");
    w.doc(&sanitize(&doc));
    w.line(super::ALLOW_UNUSED);
    w.line("#[derive(Debug, Clone)]");
    w.open("pub struct Client {");
    w.line("core: ::wharf::client::ClientCore,");
    w.close("}");
    w.blank();
    w.line(super::ALLOW_UNUSED);
    w.open("impl Client {");
    w.line("/// The first server URL of the spec (variables at their defaults).");
    w.line(&format!(
        "pub const DEFAULT_BASE_URL: &'static str = {};",
        lit(&info.base_url)
    ));
    w.blank();
    w.line("/// A client calling `base_url` through `integration`.");
    w.open(
        "pub fn new(integration: ::wharf::call::Integration, base_url: impl AsRef<str>) -> Self {",
    );
    w.open("Client {");
    w.line("core: ::wharf::client::ClientCore::new(integration, base_url),");
    w.close("}");
    w.close("}");
    w.blank();
    w.line("/// The integration and base URL this client calls.");
    w.open("pub fn core(&self) -> &::wharf::client::ClientCore {");
    w.line("&self.core");
    w.close("}");
    w.close("}");
    w.blank();
    w.open("impl ::wharf::client::GeneratedClient for Client {");
    w.open("fn client_core(&self) -> &::wharf::client::ClientCore {");
    w.line("&self.core");
    w.close("}");
    w.blank();
    w.open("fn from_core(core: ::wharf::client::ClientCore) -> Self {");
    w.line("Client { core }");
    w.close("}");
    w.close("}");
}

fn param_doc(w: &mut Writer, p: &Param) {
    let place = match p.location {
        ParamIn::Path => "path",
        ParamIn::Query => "query",
        ParamIn::Header => "header",
        ParamIn::Cookie => "cookie",
    };
    let mut doc = format!("`{}` ({place})", p.wire.replace('`', "'"));
    if let Some(d) = &p.doc {
        doc.push_str(": ");
        doc.push_str(d);
    }
    if p.deprecated {
        doc.push_str(" (deprecated)");
    }
    w.doc(&sanitize(&doc));
}

/// The body a method takes as an argument (an optional one is in its
/// options); a binary one is `impl Into<Body>`.
fn required_body(op: &Operation) -> Option<&Body> {
    op.body.as_ref().filter(|b| b.required)
}

/// A signature and the block it opens: on one line where it fits in 100
/// columns, else the arguments on one line and the return type on the
/// next, else an argument per line.
fn signature_lines(w: &mut Writer, head: &str, receiver: &str, args: &[String], returns: &str) {
    let room = 100usize.saturating_sub(w.indent_width());
    let inputs = format!("{head}({receiver}, {})", args.join(", "));
    let whole = format!("{inputs} -> {returns} {{");
    if whole.len() <= room {
        w.open(&whole);
    } else if inputs.len() <= room {
        w.line(&inputs);
        w.indent_more();
        w.line(&format!("-> {returns} {{"));
    } else {
        w.line(&format!("{head}("));
        w.indent_more();
        w.line(&format!("{receiver},"));
        for a in args {
            w.line(&format!("{a},"));
        }
        w.indent_back();
        w.open(&format!(") -> {returns} {{"));
    }
}

fn status_text(status: StatusPattern) -> String {
    match status {
        StatusPattern::Code(c) => format!("HTTP {c}"),
        StatusPattern::Range(d) => format!("HTTP {d}xx"),
        StatusPattern::Default => "Any other status".into(),
    }
}

/// A status pattern as a `match` pattern on the status code.
fn status_pattern(status: StatusPattern) -> String {
    match status {
        StatusPattern::Code(c) => c.to_string(),
        StatusPattern::Range(d) => format!("{}..={}", d * 100, d * 100 + 99),
        StatusPattern::Default => "_".into(),
    }
}

/// The `RawReply` method that decodes a success payload.
fn decoder(p: &Payload) -> &'static str {
    match p {
        Payload::Json(_) => "json",
        Payload::Text => "text",
        Payload::Binary => "binary",
        Payload::Empty => "empty",
    }
}

/// Following a field path from a value: still a plain place (`a.b.c`), or
/// an `Option<&T>` once an optional field was crossed.
enum Reach {
    Place(String),
    Optional(String),
}

impl Reach {
    fn follow(start: &str, path: &[(String, Access)]) -> Reach {
        let mut reach = Reach::Place(start.to_owned());
        for (field, access) in path {
            let f = ident(field);
            reach = match (reach, access) {
                (Reach::Place(p), Access::Plain) => Reach::Place(format!("{p}.{f}")),
                (Reach::Place(p), Access::Option) => Reach::Optional(format!("{p}.{f}.as_ref()")),
                (Reach::Place(p), Access::Nullable) => {
                    Reach::Optional(format!("{p}.{f}.as_option()"))
                }
                (Reach::Optional(o), Access::Plain) => {
                    Reach::Optional(format!("{o}.map(|v| &v.{f})"))
                }
                (Reach::Optional(o), Access::Option) => {
                    Reach::Optional(format!("{o}.and_then(|v| v.{f}.as_ref())"))
                }
                (Reach::Optional(o), Access::Nullable) => {
                    Reach::Optional(format!("{o}.and_then(|v| v.{f}.as_option())"))
                }
            };
        }
        reach
    }

    /// The value, or `return None` from the enclosing function: `place` or `opt?`.
    fn or_return(&self) -> String {
        match self {
            Reach::Place(p) => p.clone(),
            Reach::Optional(o) => format!("{o}?"),
        }
    }
}

/// The items of a page, by value.
fn items_value(path: &FieldPath) -> String {
    match path.first() {
        None => "page".into(),
        Some((field, Access::Plain)) => format!("page.{}", ident(field)),
        Some((field, Access::Option)) => format!("page.{}.unwrap_or_default()", ident(field)),
        Some((field, Access::Nullable)) => {
            format!("page.{}.into_option().unwrap_or_default()", ident(field))
        }
    }
}

fn ident(name: &str) -> String {
    super::types::field_ident(name)
}

enum Segment<'a> {
    Literal(&'a str),
    Param(&'a str),
}

/// Splits a path template into literal text and `{param}` references.
fn template(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if open > 0 {
            out.push(Segment::Literal(&rest[..open]));
        }
        out.push(Segment::Param(&rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Segment::Literal(rest));
    }
    out
}
