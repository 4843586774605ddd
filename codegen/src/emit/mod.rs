//! Emitting Rust from the IR as formatted text.
//!
//! The emitter writes rustfmt-style text directly instead of building token
//! trees and pretty-printing them: for GitHub's spec (400k lines) parsing the
//! tokens back with syn alone took 2.7 s, writing text takes a fraction of
//! that. Safety comes from two rules: identifiers only come from
//! [`crate::naming`], and string literals only from [`lit`] (Rust's own
//! escaping). Tests parse every generated file with syn.

mod client;
mod docs;
mod operations;
mod security;
mod types;
mod webhooks;
mod writer;

use crate::ir::{ApiInfo, Operation, SchemeDef, TypeSet, Webhooks};

/// On top-level items and the `types` module: an app calls a few
/// operations of a large API, and a file `include!`d into a private module
/// would warn for the rest.
const ALLOW_UNUSED: &str = "#[allow(dead_code)]";
/// On modules and the re-exports of tag modules, which may go unused too.
const ALLOW_UNUSED_MODULE: &str = "#[allow(dead_code, unused_imports)]";
pub(crate) use writer::Writer;

/// How the module is written beyond what the IR says.
pub(crate) struct EmitOptions<'a> {
    /// The header comment (without `//`).
    pub(crate) header: &'a str,
    pub(crate) policies: &'a crate::policy::Policies,
    /// Every type implements `Serialize`, not only what calls send.
    pub(crate) serialize_all: bool,
}

/// The text of a generated module: a header comment, then the items. No
/// inner attributes, so the file can be `include!`d.
pub(crate) fn module_file(
    set: &TypeSet,
    operations: &[Operation],
    schemes: &[SchemeDef],
    client: &ApiInfo,
    hooks: &Webhooks,
    options: &EmitOptions<'_>,
) -> String {
    let mut w = Writer::with_capacity(set.types.len() * 2048 + operations.len() * 3072);
    for line in options.header.lines() {
        w.line(&format!("// {line}"));
    }
    types::TypeEmitter::for_operations(set, operations, options.serialize_all).all(&mut w);
    operations::operations_module(&mut w, operations, options.policies);
    security::security_module(&mut w, schemes);
    client::ClientEmitter::new(set).all(&mut w, operations, client);
    webhooks::webhooks_module(&mut w, set, hooks);
    w.finish()
}

/// The Rust type `ty` is written as.
pub(crate) fn type_text(set: &TypeSet, ty: &crate::ir::Ty) -> String {
    types::TypeEmitter::new(set).ty(ty)
}

/// A Rust string literal for `text` (Rust's `Debug` for `str` writes valid
/// literal syntax, escaping quotes, backslashes and control characters).
pub(crate) fn lit(text: &str) -> String {
    format!("{text:?}")
}
