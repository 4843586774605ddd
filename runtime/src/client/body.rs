//! Request bodies other than JSON: `application/x-www-form-urlencoded`
//! (flat, exploded, or nested the way Stripe reads it) and
//! `multipart/form-data` (fields and files).

use super::params::{self, scalar_text, Style};
use crate::binary::Binary;
use serde_json::Value;

/// How one form field is encoded (from the media type's `encoding` object).
#[derive(Debug, Clone, Copy)]
pub struct FieldEncoding {
    pub name: &'static str,
    pub style: Style,
    pub explode: bool,
}

/// A form body from an object. Fields without an `encoding` entry use
/// `form` + explode for scalars and arrays of scalars, and bracketed keys
/// for nested objects (the only encoding servers agree on for them).
pub fn form(value: &Value, encodings: &[FieldEncoding]) -> String {
    let mut out = Vec::new();
    let Value::Object(map) = value else {
        // A non-object body has no field names; send it as one value.
        return params::encode(&scalar_text(value));
    };
    for (name, v) in map {
        if v.is_null() {
            continue;
        }
        let encoding = encodings.iter().find(|e| e.name == name);
        let nested = match v {
            Value::Object(_) => true,
            Value::Array(items) => items.iter().any(|i| i.is_object() || i.is_array()),
            _ => false,
        };
        match encoding {
            Some(e) if !(nested && e.style == Style::Form) => {
                params::query(&mut out, name, v, e.style, e.explode, false)
            }
            _ if nested => params::deep_object(&mut out, &params::encode(name), v, false),
            _ => params::query(&mut out, name, v, Style::Form, true, false),
        }
    }
    out.join("&")
}

/// A `multipart/form-data` body under construction.
#[derive(Debug)]
pub struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Default for Multipart {
    fn default() -> Self {
        Self::new()
    }
}

impl Multipart {
    pub fn new() -> Self {
        Multipart {
            // A boundary only has to be absent from the parts: the random
            // source failing leaves a fixed but unlikely one.
            boundary: match crate::ids::correlation_id() {
                Ok(id) => format!("wharf-{id}"),
                Err(_) => "wharf-7c1d0a9e5b3f4e2d8a6c0b1e9f3d5a7c".to_owned(),
            },
            body: Vec::new(),
        }
    }

    /// The `Content-Type` header value, with the boundary.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    fn part_header(&mut self, name: &str, file_name: Option<&str>, content_type: &str) {
        let quote = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace(['\r', '\n'], " ")
        };
        self.body.extend_from_slice(b"--");
        self.body.extend_from_slice(self.boundary.as_bytes());
        self.body
            .extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        self.body.extend_from_slice(quote(name).as_bytes());
        self.body.push(b'"');
        if let Some(f) = file_name {
            self.body.extend_from_slice(b"; filename=\"");
            self.body.extend_from_slice(quote(f).as_bytes());
            self.body.push(b'"');
        }
        self.body.extend_from_slice(b"\r\nContent-Type: ");
        self.body
            .extend_from_slice(content_type.replace(['\r', '\n'], " ").as_bytes());
        self.body.extend_from_slice(b"\r\n\r\n");
    }

    /// A field: scalars as text, arrays of scalars as one part per item,
    /// objects as JSON (the OpenAPI defaults). Null fields are left out.
    pub fn field(&mut self, name: &str, value: &Value) {
        match value {
            Value::Null => {}
            Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                for item in items {
                    self.field(name, item);
                }
            }
            Value::Object(_) | Value::Array(_) => {
                self.part_header(name, None, "application/json");
                self.body.extend_from_slice(value.to_string().as_bytes());
                self.body.extend_from_slice(b"\r\n");
            }
            scalar => {
                self.part_header(name, None, "text/plain; charset=utf-8");
                self.body.extend_from_slice(scalar_text(scalar).as_bytes());
                self.body.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Every member of an object as a field (for bodies wharf has no
    /// struct for).
    pub fn fields(&mut self, value: &Value) {
        if let Value::Object(map) = value {
            for (k, v) in map {
                self.field(k, v);
            }
        }
    }

    /// A file part.
    pub fn file(&mut self, name: &str, file: &Binary) {
        let file_name = file.file_name.as_deref().unwrap_or(name);
        let content_type = file
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        self.part_header(name, Some(file_name), content_type);
        self.body.extend_from_slice(&file.bytes);
        self.body.extend_from_slice(b"\r\n");
    }

    /// The finished body.
    pub fn finish(mut self) -> Vec<u8> {
        self.body.extend_from_slice(b"--");
        self.body.extend_from_slice(self.boundary.as_bytes());
        self.body.extend_from_slice(b"--\r\n");
        self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stripe_style_form_bodies() {
        let body = json!({
            "amount": 2000,
            "currency": "usd",
            "expand": ["customer", "invoice"],
            "metadata": {"order_id": "6735"},
            "line_items": [{"price": "price_1", "quantity": 2}],
            "description": null,
            "note": "a&b=c d",
        });
        let expand = FieldEncoding {
            name: "expand",
            style: Style::DeepObject,
            explode: true,
        };
        assert_eq!(
            form(&body, &[expand]),
            "amount=2000&currency=usd&expand%5B0%5D=customer&expand%5B1%5D=invoice\
             &metadata%5Border_id%5D=6735&line_items%5B0%5D%5Bprice%5D=price_1\
             &line_items%5B0%5D%5Bquantity%5D=2&note=a%26b%3Dc%20d"
        );
        assert_eq!(form(&json!({"tags": ["a", "b"]}), &[]), "tags=a&tags=b");
    }

    #[test]
    fn multipart_fields_and_files() {
        let mut m = Multipart::new();
        m.field("name", &json!("cat"));
        m.field("meta", &json!({"a": 1}));
        m.file(
            "photo",
            &Binary::from(vec![0u8, 1, 2])
                .with_file_name("c\"at.png")
                .with_content_type("image/png"),
        );
        let boundary = m.boundary.clone();
        let body = m.finish();
        let text = String::from_utf8_lossy(&body);
        assert!(text
            .contains("name=\"name\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncat\r\n"));
        assert!(
            text.contains("name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n")
        );
        assert!(
            text.contains("name=\"photo\"; filename=\"c\\\"at.png\"\r\nContent-Type: image/png")
        );
        assert!(body.windows(3).any(|w| w == [0, 1, 2]));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }
}
