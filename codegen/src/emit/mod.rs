//! Emitting Rust from the IR: one formatted module file.

mod docs;
mod types;

use crate::ir::TypeSet;
use proc_macro2::TokenStream;

/// Formats the items of a generated module, with a header comment.
pub(crate) fn module_file(header: &str, items: TokenStream) -> Result<String, String> {
    let file: syn::File = syn::parse2(items).map_err(|e| format!("generated code does not parse: {e}"))?;
    let body = prettyplease::unparse(&file);
    let mut out = String::with_capacity(body.len() + header.len() + 64);
    for line in header.lines() {
        out.push_str("// ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&body);
    Ok(out)
}

/// The items of every type in `set`.
pub(crate) fn type_items(set: &TypeSet) -> TokenStream {
    types::TypeEmitter::new(set).all()
}
