//! The naming pass. Lowering does not name types: it asks for a name and
//! says what the name is made of (a text, or another asked-for name and a
//! suffix, as `Issue` + `StateReason`). Once everything is lowered, this
//! pass settles every request in the order it was made, in the one scope
//! the generated module's types share, and then names the variants of
//! unions, which are read from the names of their members' types.
//! Operations' constants, methods and tag modules are named here too
//! ([`OperationNamer`]), each in a scope of its own.
//!
//! Lowering asks in a canonical order (component schemas sorted, paths
//! sorted, methods in a fixed order), so the names settled here do not
//! depend on how a document orders its contents.

use super::{Ty, TypeKind, TypeSet};
use crate::load::Location;
use crate::naming::{const_name, field_name, keyword_kind, module_name, type_name, Keyword, Scope};
use std::collections::HashMap;

/// Names the generated module defines besides the spec's types.
const MODULE_NAMES: &[&str] = &["Client"];

/// One request for a name; an index into [`NameRequests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct NameId(usize);

/// What a name is made of: the settled name of `base` (if any) followed by
/// `text`, converted to a type name when settled.
#[derive(Debug, Clone)]
pub(crate) struct Hint {
    base: Option<NameId>,
    text: String,
}

impl Hint {
    /// A name made of text alone (an operation's `IssuesCreateBody`).
    pub(crate) fn text(text: impl Into<String>) -> Self {
        Hint {
            base: None,
            text: text.into(),
        }
    }

    /// The name `id` settles to.
    pub(crate) fn of(id: NameId) -> Self {
        Hint {
            base: Some(id),
            text: String::new(),
        }
    }

    /// This hint followed by `suffix` (`Issue` → `IssueLabelsItem`).
    pub(crate) fn then(&self, suffix: &str) -> Self {
        Hint {
            base: self.base,
            text: format!("{}{suffix}", self.text),
        }
    }
}

/// How a request wants to be called.
#[derive(Debug, Clone)]
pub(crate) enum Wanted {
    /// Exactly this type name (a component's, or `WebhookEvent`).
    Exact(String),
    /// The type name of what the hint settles to.
    Hint(Hint),
}

struct Request {
    wanted: Wanted,
    /// Where to report that the wanted name was taken (schemas whose name
    /// a reader looks for); other requests take a suffix silently.
    report_at: Option<Location>,
}

/// The requests made while lowering, in order.
#[derive(Default)]
pub(crate) struct NameRequests {
    requests: Vec<Request>,
}

impl NameRequests {
    /// Asks for a name; `report_at` says where a forced rename is reported.
    pub(crate) fn ask(&mut self, wanted: Wanted, report_at: Option<Location>) -> NameId {
        self.requests.push(Request { wanted, report_at });
        NameId(self.requests.len() - 1)
    }

    /// Settles every request, in the order they were made.
    pub(crate) fn settle(self) -> (Names, Vec<Renamed>) {
        let mut scope = Scope::new();
        for name in MODULE_NAMES {
            scope.reserve(name);
        }
        let mut settled: Vec<String> = Vec::with_capacity(self.requests.len());
        let mut renamed = Vec::new();
        for request in self.requests {
            let wanted = match request.wanted {
                Wanted::Exact(name) => name,
                Wanted::Hint(hint) => {
                    // A base is always asked for before what is named after it.
                    let base = hint.base.and_then(|b| settled.get(b.0));
                    type_name(&format!("{}{}", base.map_or("", String::as_str), hint.text))
                }
            };
            let (name, forced) = scope.claim(&wanted);
            if let (true, Some(at)) = (forced, request.report_at) {
                renamed.push(Renamed {
                    at,
                    wanted,
                    name: name.clone(),
                });
            }
            settled.push(name);
        }
        (Names { settled }, renamed)
    }
}

/// A wanted name that was taken, and the name given instead.
pub(crate) struct Renamed {
    pub(crate) at: Location,
    pub(crate) wanted: String,
    pub(crate) name: String,
}

/// The settled names.
pub(crate) struct Names {
    settled: Vec<String>,
}

impl Names {
    pub(crate) fn get(&self, id: NameId) -> &str {
        self.settled.get(id.0).map_or("", String::as_str)
    }
}

/// The names of an operation's items outside the type scope.
pub(crate) struct OperationNames {
    pub(crate) const_name: String,
    pub(crate) fn_name: String,
    pub(crate) module: String,
    /// The `…_streaming` method, for a binary success body.
    pub(crate) streaming_fn: Option<String>,
    /// The `…_stream` method, for a paged list.
    pub(crate) stream_fn: Option<String>,
}

/// Names operations' constants (in `operations`), the client's methods and
/// the tag modules, each in its own scope, in the order asked.
pub(crate) struct OperationNamer {
    consts: Scope,
    methods: Scope,
    modules: Scope,
    module_of_tag: HashMap<String, String>,
}

impl OperationNamer {
    pub(crate) fn new() -> Self {
        let mut consts = Scope::new();
        consts.reserve("ALL");
        let mut methods = Scope::new();
        for reserved in ["new", "core", "integration", "base_url", "clone", "fmt"] {
            methods.reserve(reserved);
        }
        let mut modules = Scope::new();
        for reserved in ["operations", "security_schemes", "types"] {
            modules.reserve(reserved);
        }
        OperationNamer {
            consts,
            methods,
            modules,
            module_of_tag: HashMap::new(),
        }
    }

    /// Names one operation from `base` (its operationId, or what stands
    /// for it) and its first tag.
    pub(crate) fn name(
        &mut self,
        base: &str,
        tag: &str,
        streaming: bool,
        paged: bool,
    ) -> OperationNames {
        let const_name = self.consts.claim(&const_name(base)).0;
        // A method named like a keyword (Azure's `move`) gets a `_`; the
        // names derived from it need none.
        let base_fn = field_name(base);
        let keyword = keyword_kind(&base_fn) != Keyword::No;
        let fn_name = self
            .methods
            .claim(&if keyword {
                format!("{base_fn}_")
            } else {
                base_fn.clone()
            })
            .0;
        let stem = if keyword { base_fn } else { fn_name.clone() };
        let module = match self.module_of_tag.get(tag) {
            Some(m) => m.clone(),
            None => {
                let m = self.modules.claim(&module_name(tag)).0;
                self.module_of_tag.insert(tag.to_owned(), m.clone());
                m
            }
        };
        let streaming_fn = streaming.then(|| self.methods.claim(&format!("{stem}_streaming")).0);
        let stream_fn = paged.then(|| self.methods.claim(&format!("{stem}_stream")).0);
        OperationNames {
            const_name,
            fn_name,
            module,
            streaming_fn,
            stream_fn,
        }
    }
}

/// Names each union's variants from their types: a member type named
/// after the union (`PullRequestBodyVariant1`) is the variant the rest of
/// its name (`Variant1`), any other named type is the variant its name, a
/// scalar the variant of its kind (`String`, `Integer`).
pub(crate) fn name_union_variants(set: &mut TypeSet) {
    for i in 0..set.types.len() {
        let TypeKind::Union(union) = &set.types[i].kind else {
            continue;
        };
        let parent = &set.types[i].name;
        let mut scope = Scope::new();
        scope.reserve("Other");
        let names: Vec<String> = union
            .variants
            .iter()
            .map(|v| scope.claim(&variant_name(set, &v.ty, parent)).0)
            .collect();
        if let TypeKind::Union(union) = &mut set.types[i].kind {
            for (variant, name) in union.variants.iter_mut().zip(names) {
                variant.name = name;
            }
        }
    }
}

fn variant_name(set: &TypeSet, ty: &Ty, parent: &str) -> String {
    match ty {
        Ty::Named(id) | Ty::Boxed(id) => {
            let name = &set.get(*id).name;
            match name.strip_prefix(parent) {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => rest.to_owned(),
                _ => name.clone(),
            }
        }
        Ty::String => "String".into(),
        Ty::Bool => "Bool".into(),
        Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 | Ty::U8 | Ty::U16 | Ty::U32 | Ty::U64 => {
            "Integer".into()
        }
        Ty::F64 => "Number".into(),
        Ty::DateTime => "DateTime".into(),
        Ty::Date => "Date".into(),
        Ty::Uuid => "Uuid".into(),
        Ty::Binary => "Binary".into(),
        Ty::Json => "Json".into(),
        Ty::JsonObject | Ty::Map(_) => "Object".into(),
        Ty::Vec(_) => "Array".into(),
        Ty::Option(inner) => variant_name(set, inner, parent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(pointer: &str) -> Location {
        Location {
            doc: 0,
            pointer: pointer.into(),
        }
    }

    #[test]
    fn a_name_made_from_another_follows_what_that_one_settled_to() {
        let mut requests = NameRequests::default();
        let first = requests.ask(Wanted::Exact("Repo".into()), Some(at("/a")));
        let second = requests.ask(Wanted::Exact("Repo".into()), Some(at("/b")));
        let item = requests.ask(Wanted::Hint(Hint::of(second).then("Item")), None);
        let client = requests.ask(Wanted::Hint(Hint::text("client")), None);
        let (names, renamed) = requests.settle();
        assert_eq!(names.get(first), "Repo");
        assert_eq!(names.get(second), "Repo2");
        assert_eq!(names.get(item), "Repo2Item");
        // The module's own `Client` is never handed out.
        assert_eq!(names.get(client), "Client2");
        assert_eq!(renamed.len(), 1);
        assert_eq!(
            (renamed[0].at.pointer.as_str(), renamed[0].wanted.as_str()),
            ("/b", "Repo")
        );
        assert_eq!(renamed[0].name, "Repo2");
    }

    #[test]
    fn operations_named_alike_keep_their_order_and_their_stems() {
        let mut namer = OperationNamer::new();
        let first = namer.name("search", "search", false, true);
        let second = namer.name("Search", "Search", true, true);
        let keyword = namer.name("move", "type", false, true);
        assert_eq!(
            (first.fn_name.as_str(), first.stream_fn.as_deref()),
            ("search", Some("search_stream"))
        );
        assert_eq!(second.const_name, "SEARCH2");
        assert_eq!(second.fn_name, "search2");
        assert_eq!(second.streaming_fn.as_deref(), Some("search2_streaming"));
        assert_eq!(second.stream_fn.as_deref(), Some("search2_stream"));
        // One module per tag, however its name meets another's.
        assert_eq!(
            (first.module.as_str(), second.module.as_str()),
            ("search", "search2")
        );
        assert_eq!(namer.name("get", "Search", false, false).module, "search2");
        assert_eq!(keyword.fn_name, "move_");
        assert_eq!(keyword.stream_fn.as_deref(), Some("move_stream"));
        assert_eq!(keyword.module, "type_");
    }

    #[test]
    fn hints_are_converted_to_type_names_once_joined() {
        let mut requests = NameRequests::default();
        let base = requests.ask(Wanted::Hint(Hint::text("issues/list")), None);
        let field = requests.ask(Wanted::Hint(Hint::of(base).then("StateReason")), None);
        let (names, _) = requests.settle();
        assert_eq!(names.get(base), "IssuesList");
        assert_eq!(names.get(field), "IssuesListStateReason");
    }
}
