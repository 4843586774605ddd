//! Rust identifiers from the names real specs use: any characters, leading
//! digits, keywords, `+1`/`-1`, and names that collide once converted.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use std::collections::HashSet;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Type names generated code refers to unqualified; a schema with one of these
/// names gets a suffix so it does not shadow the prelude.
const RESERVED_TYPES: &[&str] = &[
    "Option", "Some", "None", "Result", "Ok", "Err", "String", "Vec", "Box", "Self",
];

/// Splits a raw name into ASCII words, spelling out symbols that carry
/// meaning (`+1` → `plus 1`) and dropping the rest.
fn ascii_words(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 8);
    for (i, c) in raw.chars().enumerate() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c),
            '+' => out.push_str(" plus "),
            '-' if i == 0 => out.push_str("minus "),
            '@' => out.push_str(" at "),
            '*' => out.push_str(" star "),
            _ => out.push(' '),
        }
    }
    out
}

/// `UpperCamelCase` name for a type or variant; never empty, never starts
/// with a digit.
pub fn type_name(raw: &str) -> String {
    let mut name = ascii_words(raw).to_upper_camel_case();
    if name.is_empty() {
        name.push_str("Unnamed");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'N');
    }
    if RESERVED_TYPES.contains(&name.as_str()) {
        name.push_str("Schema");
    }
    name
}

/// `UpperCamelCase` name for an enum variant (variants live in their enum's
/// scope, so prelude names are fine there).
pub fn variant_name(raw: &str) -> String {
    let mut name = ascii_words(raw).to_upper_camel_case();
    if name.is_empty() {
        name.push_str(if raw.is_empty() { "Empty" } else { "Value" });
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    name
}

/// `snake_case` name for a field; never empty, never starts with a digit or
/// with `__` (generated code keeps those for itself).
pub fn field_name(raw: &str) -> String {
    let mut name = ascii_words(raw).to_snake_case();
    if name.is_empty() {
        name.push_str("field");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'n');
    }
    name
}

/// `snake_case` module name for a tag; a keyword gets a `_`.
pub fn module_name(tag: &str) -> String {
    let name = field_name(tag);
    match keyword_kind(&name) {
        Keyword::No => name,
        _ => format!("{name}_"),
    }
}

/// `SCREAMING_SNAKE` constant name; never empty or digit-led.
pub fn const_name(raw: &str) -> String {
    let words: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let mut name = words.to_shouty_snake_case();
    if name.is_empty() {
        name.push_str("OPERATION");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "OP_");
    }
    name
}

/// Whether `name` must be written `r#name`, or cannot be used at all.
pub fn keyword_kind(name: &str) -> Keyword {
    if NOT_RAW.contains(&name) {
        Keyword::Unusable
    } else if KEYWORDS.contains(&name) {
        Keyword::Raw
    } else {
        Keyword::No
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Keyword {
    No,
    Raw,
    Unusable,
}

/// Whether a field of a generated type holds a secret, so its `Debug`
/// output is redacted. Narrower than the runtime's list for headers and
/// query strings: `state`, `code` or a plain `key` are ordinary fields in
/// most API objects, and debugging them must stay possible.
pub fn is_secret_field(wire: &str) -> bool {
    let n = wire.to_ascii_lowercase().replace('-', "_");
    [
        "token",
        "secret",
        "password",
        "passwd",
        "credential",
        "private_key",
        "privatekey",
        "api_key",
        "apikey",
        "client_key",
        "signing_key",
        "session_key",
        "access_key",
        "authorization",
        "cookie",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Hands out names unique within one scope, adding `2`, `3`… on collision.
#[derive(Debug, Default)]
pub struct Scope {
    taken: HashSet<String>,
}

impl Scope {
    pub fn new() -> Self {
        Scope::default()
    }

    /// Reserves a name so it is never handed out.
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_owned());
    }

    /// A unique version of `wanted`; the flag is true when it had to change.
    pub fn claim(&mut self, wanted: &str) -> (String, bool) {
        let mut wanted = wanted.to_owned();
        if keyword_kind(&wanted) == Keyword::Unusable {
            wanted.push('_');
        }
        if self.taken.insert(wanted.clone()) {
            return (wanted, false);
        }
        let sep = if wanted.ends_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            ""
        };
        let mut n: u64 = 2;
        loop {
            let candidate = format!("{wanted}{sep}{n}");
            if self.taken.insert(candidate.clone()) {
                return (candidate, true);
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_names() {
        assert_eq!(const_name("repos/get-by-id"), "REPOS_GET_BY_ID");
        assert_eq!(const_name("GET /a/{b}"), "GET_A_B");
        assert_eq!(const_name("2fa"), "OP_2FA");
        assert_eq!(const_name("日本"), "OPERATION");
    }

    #[test]
    fn module_names() {
        assert_eq!(module_name("pull-requests"), "pull_requests");
        assert_eq!(module_name("type"), "type_");
    }

    #[test]
    fn converts_real_world_names() {
        assert_eq!(type_name("repo-owner.v2"), "RepoOwnerV2");
        assert_eq!(type_name("2fa_status"), "N2faStatus");
        assert_eq!(type_name("Result"), "ResultSchema");
        assert_eq!(type_name("日本"), "Unnamed");
        assert_eq!(field_name("+1"), "plus_1");
        assert_eq!(field_name("-1"), "minus_1");
        assert_eq!(field_name("fooBar"), "foo_bar");
        assert_eq!(field_name("@type"), "at_type");
        assert_eq!(field_name("$"), "field");
        assert_eq!(field_name("3d"), "n3d");
    }

    #[test]
    fn secret_fields() {
        for name in [
            "access_token",
            "client-secret",
            "Password",
            "private_key",
            "X-Api-Key",
            "refreshToken",
        ] {
            assert!(is_secret_field(name), "{name}");
        }
        for name in ["state", "code", "key", "name", "public_key_id"] {
            assert!(!is_secret_field(name), "{name}");
        }
    }

    #[test]
    fn scope_deduplicates_and_avoids_unusable_keywords() {
        let mut s = Scope::new();
        assert_eq!(s.claim("foo_bar"), ("foo_bar".into(), false));
        assert_eq!(s.claim("foo_bar"), ("foo_bar2".into(), true));
        assert_eq!(s.claim("v1"), ("v1".into(), false));
        assert_eq!(s.claim("v1"), ("v1_2".into(), true));
        assert_eq!(s.claim("self"), ("self_".into(), false));
        assert_eq!(keyword_kind("type"), Keyword::Raw);
    }
}
