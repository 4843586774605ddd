//! YAML documents, converted to the JSON data model the rest of the generator
//! reads. Non-string keys (`200:` response codes, `true:`) become strings.

use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

pub(super) fn parse(text: &str) -> Result<Value, String> {
    let yaml: Yaml = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    Ok(convert(yaml))
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
    fn integer_keys_become_strings() {
        let v = super::parse("responses:\n  200:\n    description: ok\n").unwrap();
        assert_eq!(v["responses"]["200"]["description"], "ok");
    }
}
