//! wharf-macros: procedural macros of wharf. Use them through the `wharf`
//! facade (`wharf::generate!`).

mod generate;

use proc_macro::TokenStream;

/// Generates a client from an OpenAPI document at compile time, in place:
///
/// ```ignore
/// mod petstore {
///     wharf::generate!(
///         "specs/petstore.yaml",            // relative to the crate root
///         operations = ["listPets", "showPetById"],
///         tags = ["store"],
///         rename = { "Pet" = "Animal" },
///         paging = { "listPets" = cursor("starting_after"), "search" = off },
///     );
/// }
/// ```
///
/// Every option is optional; with `operations` or `tags`, only those
/// operations and the types they use are generated. Paging styles: `off`,
/// `link`, `cursor("param")`, `token("param", "field")`, `offset("param")`.
/// A spec that cannot be loaded, or a selection that names nothing in it,
/// is a compile error pointing at the argument.
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    generate::expand(input.into()).into()
}
