//! wharf-macros: procedural macros of wharf. Use them through the `wharf`
//! facade (`wharf::generate!`, `#[wharf::policy]`).

mod generate;
mod policy;
mod policy_args;

use proc_macro::TokenStream;

/// Generates a client from an OpenAPI document at compile time, in place
/// (the `wharf` crate's top-level documentation has examples of it that run
/// as doctests):
///
/// ```text
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
/// The path is relative to the crate root and may use environment
/// variables set at compile time, `${NAME}` (`"${OUT_DIR}/spec.json"` for a
/// spec a build script fetched). A spec that cannot be loaded, or a
/// selection that names nothing in it, is a compile error pointing at the
/// argument.
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    generate::expand(input.into()).into()
}

/// Puts a policy on an async function that calls wharf endpoints: every
/// call made inside (however deep, in the same task) applies it.
///
/// ```text
/// #[wharf::policy(
///     calls = [harbor::operations::CREATE_ISSUE],  // generated metadata: checked
///     timeout = "2s",                                // the whole function's budget
///     retry(max = 3, base = "100ms", cap = "2s"),    // attempts in all
///     idempotency = natural_key(order.id),           // or key, or unsafe_allow("why")
///     breaker = "payments", rate = "20/s", bulkhead = 8,
///     scopes = ["repo:write"],
/// )]
/// async fn file_issue(client: &harbor::Client, order: &Order) -> Result<(), Error> { ... }
/// ```
///
/// Compile errors, pointing at the argument: no timeout on the call path;
/// a retry without a limit or with jitter off; retries of a mutating
/// endpoint with no idempotency plan; a scope the spec does not list for
/// the endpoints in `calls`; unknown keys, malformed durations and rates.
#[proc_macro_attribute]
pub fn policy(attr: TokenStream, item: TokenStream) -> TokenStream {
    policy::expand(attr.into(), item.into()).into()
}
