//! Parameter serialization: every OpenAPI `style` × `explode` combination
//! for path, query, header and cookie parameters, with RFC 3986
//! percent-encoding. Values arrive as JSON (via `Serialize`), so generated
//! types, scalars, arrays and maps all take one path.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

/// An OpenAPI parameter (or form field) serialization style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Form,
    Simple,
    Label,
    Matrix,
    SpaceDelimited,
    PipeDelimited,
    DeepObject,
}

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `allowReserved: true`: reserved characters pass, except the ones that
/// would break the query's own structure.
const RESERVED_ALLOWED: &AsciiSet = &COMPONENT
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b',')
    .remove(b';')
    .remove(b'[')
    .remove(b']');

/// Percent-encodes one name or value (everything but unreserved characters).
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

fn encode_with(text: &str, allow_reserved: bool) -> String {
    let set = if allow_reserved {
        RESERVED_ALLOWED
    } else {
        COMPONENT
    };
    utf8_percent_encode(text, set).to_string()
}

/// A scalar as parameter text; nested structures as compact JSON (the spec
/// has no style for them outside `deepObject`).
pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The shape a parameter value serializes as.
enum Shape<'v> {
    Scalar(String),
    List(Vec<String>),
    Pairs(Vec<(&'v str, String)>),
}

fn shape(value: &Value) -> Shape<'_> {
    match value {
        Value::Array(items) => Shape::List(items.iter().map(scalar_text).collect()),
        Value::Object(map) => Shape::Pairs(
            map.iter()
                .map(|(k, v)| (k.as_str(), scalar_text(v)))
                .collect(),
        ),
        other => Shape::Scalar(scalar_text(other)),
    }
}

/// A path parameter (`simple`, `label` or `matrix`), encoded for a path.
pub fn path(name: &str, value: &Value, style: Style, explode: bool) -> String {
    let e = |s: &str| encode(s);
    match (style, shape(value)) {
        (Style::Label, Shape::Scalar(s)) => format!(".{}", e(&s)),
        (Style::Label, Shape::List(items)) => {
            let sep = if explode { "." } else { "," };
            format!(".{}", join(items.iter().map(|s| e(s)), sep))
        }
        (Style::Label, Shape::Pairs(pairs)) => {
            let parts = pairs_text(&pairs, explode, e);
            format!(".{}", parts.join(if explode { "." } else { "," }))
        }
        (Style::Matrix, Shape::Scalar(s)) if s.is_empty() => format!(";{}", e(name)),
        (Style::Matrix, Shape::Scalar(s)) => format!(";{}={}", e(name), e(&s)),
        (Style::Matrix, Shape::List(items)) if explode => items
            .iter()
            .map(|s| format!(";{}={}", e(name), e(s)))
            .collect(),
        (Style::Matrix, Shape::List(items)) => {
            format!(";{}={}", e(name), join(items.iter().map(|s| e(s)), ","))
        }
        (Style::Matrix, Shape::Pairs(pairs)) if explode => pairs
            .iter()
            .map(|(k, v)| format!(";{}={}", e(k), e(v)))
            .collect(),
        (Style::Matrix, Shape::Pairs(pairs)) => {
            format!(";{}={}", e(name), pairs_text(&pairs, false, e).join(","))
        }
        // `simple` (the default) and anything not meant for paths.
        (_, Shape::Scalar(s)) => e(&s),
        (_, Shape::List(items)) => join(items.iter().map(|s| e(s)), ","),
        (_, Shape::Pairs(pairs)) => pairs_text(&pairs, explode, e).join(","),
    }
}

/// Object members as `k,v` items (not exploded) or `k=v` items (exploded).
fn pairs_text(pairs: &[(&str, String)], explode: bool, e: impl Fn(&str) -> String) -> Vec<String> {
    let mut out = Vec::with_capacity(pairs.len() * 2);
    for (k, v) in pairs {
        if explode {
            out.push(format!("{}={}", e(k), e(v)));
        } else {
            out.push(e(k));
            out.push(e(v));
        }
    }
    out
}

fn join(items: impl Iterator<Item = String>, sep: &str) -> String {
    items.collect::<Vec<_>>().join(sep)
}

/// Appends a query parameter's `name=value` pairs (already encoded) to `out`.
pub fn query(
    out: &mut Vec<String>,
    name: &str,
    value: &Value,
    style: Style,
    explode: bool,
    allow_reserved: bool,
) {
    let e = |s: &str| encode_with(s, allow_reserved);
    let n = encode(name);
    match (style, shape(value)) {
        (Style::DeepObject, _) => deep_object(out, &n, value, allow_reserved),
        (Style::SpaceDelimited, Shape::List(items)) if !explode => {
            out.push(format!("{n}={}", join(items.iter().map(|s| e(s)), "%20")))
        }
        (Style::PipeDelimited, Shape::List(items)) if !explode => {
            out.push(format!("{n}={}", join(items.iter().map(|s| e(s)), "|")))
        }
        (Style::SpaceDelimited, Shape::Pairs(pairs)) if !explode => {
            out.push(format!("{n}={}", pairs_text(&pairs, false, e).join("%20")))
        }
        (Style::PipeDelimited, Shape::Pairs(pairs)) if !explode => {
            out.push(format!("{n}={}", pairs_text(&pairs, false, e).join("|")))
        }
        (_, Shape::Scalar(s)) => out.push(format!("{n}={}", e(&s))),
        (_, Shape::List(items)) if explode => {
            out.extend(items.iter().map(|s| format!("{n}={}", e(s))))
        }
        (_, Shape::List(items)) => {
            out.push(format!("{n}={}", join(items.iter().map(|s| e(s)), ",")))
        }
        (_, Shape::Pairs(pairs)) if explode => {
            out.extend(pairs.iter().map(|(k, v)| format!("{}={}", e(k), e(v))))
        }
        (_, Shape::Pairs(pairs)) => {
            out.push(format!("{n}={}", pairs_text(&pairs, false, e).join(",")))
        }
    }
}

/// `name[key]=value`, recursively for nested objects and arrays (arrays get
/// indices, as Stripe and Rails-style servers read them).
pub(crate) fn deep_object(
    out: &mut Vec<String>,
    prefix: &str,
    value: &Value,
    allow_reserved: bool,
) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = format!("{prefix}%5B{}%5D", encode(k));
                deep_object(out, &key, v, allow_reserved);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let key = format!("{prefix}%5B{i}%5D");
                deep_object(out, &key, v, allow_reserved);
            }
        }
        Value::Null => {}
        scalar => out.push(format!(
            "{prefix}={}",
            encode_with(&scalar_text(scalar), allow_reserved)
        )),
    }
}

/// A header parameter's value (`simple` style).
pub fn header(value: &Value, explode: bool) -> String {
    match shape(value) {
        Shape::Scalar(s) => s,
        Shape::List(items) => items.join(","),
        Shape::Pairs(pairs) => pairs_text(&pairs, explode, str::to_owned).join(","),
    }
}

/// A cookie parameter's `name=value` pairs (`form` style; values encoded).
pub fn cookie(out: &mut Vec<String>, name: &str, value: &Value, explode: bool) {
    let n = encode(name);
    match shape(value) {
        Shape::Scalar(s) => out.push(format!("{n}={}", encode(&s))),
        Shape::List(items) if explode => {
            out.extend(items.iter().map(|s| format!("{n}={}", encode(s))))
        }
        Shape::List(items) => out.push(format!(
            "{n}={}",
            join(items.iter().map(|s| encode(s)), ",")
        )),
        Shape::Pairs(pairs) if explode => out.extend(
            pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v))),
        ),
        Shape::Pairs(pairs) => out.push(format!(
            "{n}={}",
            pairs_text(&pairs, false, encode).join(",")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(value: &Value, style: Style, explode: bool) -> String {
        let mut out = Vec::new();
        query(&mut out, "id", value, style, explode, false);
        out.join("&")
    }

    /// The style table of the OpenAPI specification, for the scalar 5, the
    /// array [3, 4, 5] and the object {"role": "admin", "firstName": "Alex"}.
    #[test]
    fn openapi_style_table() {
        let five = json!(5);
        let list = json!([3, 4, 5]);
        let obj = json!({"role": "admin", "firstName": "Alex"});
        let p = |v: &Value, s, x| path("id", v, s, x);
        assert_eq!(p(&five, Style::Matrix, false), ";id=5");
        assert_eq!(p(&list, Style::Matrix, false), ";id=3,4,5");
        assert_eq!(
            p(&obj, Style::Matrix, false),
            ";id=role,admin,firstName,Alex"
        );
        assert_eq!(p(&list, Style::Matrix, true), ";id=3;id=4;id=5");
        assert_eq!(p(&obj, Style::Matrix, true), ";role=admin;firstName=Alex");
        assert_eq!(p(&five, Style::Label, false), ".5");
        assert_eq!(p(&list, Style::Label, false), ".3,4,5");
        assert_eq!(p(&obj, Style::Label, false), ".role,admin,firstName,Alex");
        assert_eq!(p(&list, Style::Label, true), ".3.4.5");
        assert_eq!(p(&obj, Style::Label, true), ".role=admin.firstName=Alex");
        assert_eq!(p(&list, Style::Simple, false), "3,4,5");
        assert_eq!(p(&obj, Style::Simple, false), "role,admin,firstName,Alex");
        assert_eq!(p(&obj, Style::Simple, true), "role=admin,firstName=Alex");
        assert_eq!(p(&json!(""), Style::Matrix, false), ";id");

        assert_eq!(q(&five, Style::Form, true), "id=5");
        assert_eq!(q(&list, Style::Form, false), "id=3,4,5");
        assert_eq!(q(&list, Style::Form, true), "id=3&id=4&id=5");
        assert_eq!(q(&obj, Style::Form, false), "id=role,admin,firstName,Alex");
        assert_eq!(q(&obj, Style::Form, true), "role=admin&firstName=Alex");
        assert_eq!(q(&list, Style::SpaceDelimited, false), "id=3%204%205");
        assert_eq!(q(&list, Style::PipeDelimited, false), "id=3|4|5");
        assert_eq!(
            q(&obj, Style::DeepObject, true),
            "id%5Brole%5D=admin&id%5BfirstName%5D=Alex"
        );
        assert_eq!(q(&Value::Null, Style::DeepObject, true), "");
    }

    #[test]
    fn values_are_percent_encoded_and_reserved_only_when_allowed() {
        assert_eq!(
            path("p", &json!("a/b c?"), Style::Simple, false),
            "a%2Fb%20c%3F"
        );
        assert_eq!(q(&json!("x&y=z"), Style::Form, true), "id=x%26y%3Dz");
        let mut out = Vec::new();
        query(&mut out, "u", &json!("a/b:c&d"), Style::Form, true, true);
        assert_eq!(out, ["u=a/b:c%26d"]);
        assert_eq!(
            path("p", &json!("ünï"), Style::Simple, false),
            "%C3%BCn%C3%AF"
        );
    }

    #[test]
    fn nested_deep_objects_use_stripe_brackets() {
        let mut out = Vec::new();
        let v = json!({"metadata": {"k": "v"}, "items": [{"price": "p1"}, {"price": "p2"}]});
        deep_object(&mut out, "card", &v, false);
        assert_eq!(
            out,
            [
                "card%5Bmetadata%5D%5Bk%5D=v",
                "card%5Bitems%5D%5B0%5D%5Bprice%5D=p1",
                "card%5Bitems%5D%5B1%5D%5Bprice%5D=p2",
            ]
        );
    }

    #[test]
    fn headers_and_cookies() {
        assert_eq!(header(&json!([1, 2]), false), "1,2");
        assert_eq!(header(&json!({"a": 1, "b": 2}), true), "a=1,b=2");
        let mut c = Vec::new();
        cookie(&mut c, "sid", &json!("a b"), true);
        cookie(&mut c, "ids", &json!([1, 2]), false);
        assert_eq!(c, ["sid=a%20b", "ids=1,2"]);
    }
}
