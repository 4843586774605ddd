//! YAML documents, converted to the JSON data model the rest of the generator
//! reads. Non-string keys (`200:` response codes, `true:`) become strings.

use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

/// Flow collections (`[`, `{`) nested deeper than this are refused before
/// parsing: the YAML parser's time grows with the square of the depth (a
/// 200 KB document 100,000 deep took 45 s), and it refuses anything deeper
/// than 128 levels anyway.
const MAX_FLOW_DEPTH: usize = 1000;

pub(super) fn parse(text: &str) -> Result<Value, String> {
    check_flow_depth(text)?;
    let yaml: Yaml = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    Ok(convert(yaml))
}

/// One linear pass over the text counting open flow collections outside
/// quoted scalars and comments; an error names the line where the depth
/// passes [`MAX_FLOW_DEPTH`]. Brackets inside plain scalars may count too,
/// which only matters for a document that is pathological anyway.
fn check_flow_depth(text: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let mut previous = b'\n';
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
            comment = false;
        } else if comment {
            // Skipped to the end of the line.
        } else if let Some(q) = quote {
            if q == b'"' && b == b'\\' {
                i += 1;
            } else if b == q {
                // `''` inside a single-quoted scalar is an escaped quote.
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 1;
                } else {
                    quote = None;
                }
            }
        } else {
            match b {
                b'#' if previous.is_ascii_whitespace() => comment = true,
                b'"' | b'\'' if !previous.is_ascii_alphanumeric() => quote = Some(b),
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Err(format!(
                            "line {line}: collections nested more than {MAX_FLOW_DEPTH} deep; refused before parsing"
                        ));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        previous = b;
        i += 1;
    }
    Ok(())
}

fn convert(node: Yaml) -> Value {
    match node {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(convert).collect()),
        Yaml::Mapping(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(key_text(k), convert(v));
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => convert(tagged.value),
    }
}

fn key_text(key: Yaml) -> String {
    match key {
        Yaml::String(s) => s,
        Yaml::Null => "null".to_owned(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        other => serde_json::to_string(&convert(other)).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn deep_nesting_is_refused_at_once_and_shallow_brackets_pass() {
        let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let err = super::parse(&deep).unwrap_err();
        assert!(err.contains("nested more than 1000 deep"), "{err}");
        assert!(err.starts_with("line 1:"), "{err}");
        let fine = "a: \"[[[[\" # {{{{\nb: '[[[['\nc: [1, {d: [2]}]\n";
        let v = super::parse(fine).unwrap();
        assert_eq!(v["b"], "[[[[");
        assert_eq!(v["c"][1]["d"][0], 2);
    }

    #[test]
    fn integer_keys_become_strings() {
        let v = super::parse("responses:\n  200:\n    description: ok\n").unwrap();
        assert_eq!(v["responses"]["200"]["description"], "ok");
    }
}
