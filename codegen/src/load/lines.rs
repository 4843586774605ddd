//! Finds the line of JSON-pointer locations in JSON text, for diagnostics.
//! One forward scan over the text; no allocation per value beyond the
//! current pointer.

use std::collections::{HashMap, HashSet};

/// Lines (1-based) of the wanted pointers that exist in `text`.
pub(super) fn json_lines<'w>(text: &str, wanted: &[&'w str]) -> HashMap<&'w str, usize> {
    let wanted: HashSet<&str> = wanted.iter().copied().collect();
    let mut found = HashMap::new();
    let mut scan = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut pointer = String::new();
    scan.value(&mut pointer, &wanted, &mut found, 0);
    found
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    /// Reads a string token, returning its raw (still escaped) content.
    fn string(&mut self) -> Option<String> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        self.pos += 1;
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\\' => self.pos += 2,
                b'"' => {
                    let raw = &self.bytes[start..self.pos];
                    self.pos += 1;
                    let quoted = [b"\"", raw, b"\""].concat();
                    return serde_json::from_slice::<String>(&quoted).ok();
                }
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
        None
    }

    fn value<'w>(
        &mut self,
        pointer: &mut String,
        wanted: &HashSet<&'w str>,
        found: &mut HashMap<&'w str, usize>,
        depth: usize,
    ) -> Option<()> {
        self.skip_ws();
        if let Some(w) = wanted.get(pointer.as_str()) {
            found.insert(w, self.line);
        }
        if depth > 512 {
            return None;
        }
        match *self.bytes.get(self.pos)? {
            b'{' => {
                self.pos += 1;
                loop {
                    self.skip_ws();
                    match *self.bytes.get(self.pos)? {
                        b'}' => {
                            self.pos += 1;
                            return Some(());
                        }
                        b',' => {
                            self.pos += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if self.bytes.get(self.pos) != Some(&b':') {
                        return None;
                    }
                    self.pos += 1;
                    let len = pointer.len();
                    *pointer = crate::diagnostic::push_segment(pointer, &key);
                    self.value(pointer, wanted, found, depth + 1)?;
                    pointer.truncate(len);
                }
            }
            b'[' => {
                self.pos += 1;
                let mut index = 0usize;
                loop {
                    self.skip_ws();
                    match *self.bytes.get(self.pos)? {
                        b']' => {
                            self.pos += 1;
                            return Some(());
                        }
                        b',' => {
                            self.pos += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&index.to_string());
                    self.value(pointer, wanted, found, depth + 1)?;
                    pointer.truncate(len);
                    index += 1;
                }
            }
            b'"' => self.string().map(|_| ()),
            _ => {
                // Number, true, false, null: up to the next delimiter.
                while let Some(&b) = self.bytes.get(self.pos) {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.pos += 1;
                }
                Some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_lines_of_nested_pointers() {
        let text = "{\n  \"a\": {\n    \"b/c\": [\n      1,\n      {\"d\": true}\n    ]\n  }\n}\n";
        let found = super::json_lines(text, &["/a", "/a/b~1c/1/d", "/missing"]);
        assert_eq!(found.get("/a"), Some(&2));
        assert_eq!(found.get("/a/b~1c/1/d"), Some(&5));
        assert_eq!(found.get("/missing"), None);
    }
}

/// Lines (1-based) of the wanted pointers in YAML text, best effort: block
/// mappings and sequences are followed exactly; inside a flow collection
/// (`{a: 1}`) the line of the enclosing entry is given.
pub(super) fn yaml_lines<'w>(text: &str, wanted: &[&'w str]) -> HashMap<&'w str, usize> {
    let lines: Vec<&str> = text.lines().collect();
    wanted
        .iter()
        .filter_map(|w| yaml_line(&lines, w).map(|line| (*w, line)))
        .collect()
}

fn yaml_line(lines: &[&str], pointer: &str) -> Option<usize> {
    // (index of the line that holds the current node, its indentation)
    let mut at: Option<usize> = None;
    let mut parent_indent: isize = -1;
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let from = at.map_or(0, |i| i + 1);
        // Within the block of the current node: lines indented deeper.
        let mut found = None;
        let mut item = 0usize;
        let index: Option<usize> = segment.parse().ok();
        for (i, line) in lines.iter().enumerate().skip(from) {
            let content = line.trim_start();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let indent = (line.len() - content.len()) as isize;
            if indent <= parent_indent {
                break;
            }
            // A number is a sequence index or a key (`200:` under
            // `responses`): whichever the block holds.
            if let Some(wanted) = index {
                if let Some(rest) = content.strip_prefix('-') {
                    if rest.is_empty() || rest.starts_with(' ') {
                        if item == wanted {
                            found = Some((i, indent));
                            break;
                        }
                        item += 1;
                        continue;
                    }
                }
            }
            let key = content.strip_prefix("- ").unwrap_or(content);
            if key_matches(key, &segment) {
                found = Some((i, indent));
                break;
            }
        }
        match found {
            Some((i, indent)) => {
                at = Some(i);
                parent_indent = indent;
            }
            // Not in block style: give the deepest line we could place.
            None => return at.map(|i| i + 1),
        }
    }
    at.map(|i| i + 1)
}

fn key_matches(content: &str, key: &str) -> bool {
    for quoted in [key.to_owned(), format!("\"{key}\""), format!("'{key}'")] {
        if let Some(rest) = content.strip_prefix(quoted.as_str()) {
            if rest.starts_with(':') {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod yaml_tests {
    #[test]
    fn finds_block_and_flow_locations() {
        let text = "openapi: 3.1.0\ncomponents:\n  schemas:\n    A:\n      type: object\n      properties:\n        id: {type: integer}\n        tags:\n          - x\n          - y\n    \"B/C\":\n      type: string\n";
        let found = super::yaml_lines(
            text,
            &[
                "/components/schemas/A/properties/id",
                "/components/schemas/A/properties/id/type",
                "/components/schemas/A/properties/tags/1",
                "/components/schemas/B~1C",
                "/nope",
            ],
        );
        assert_eq!(found.get("/components/schemas/A/properties/id"), Some(&7));
        assert_eq!(
            found.get("/components/schemas/A/properties/id/type"),
            Some(&7)
        );
        assert_eq!(
            found.get("/components/schemas/A/properties/tags/1"),
            Some(&10)
        );
        assert_eq!(found.get("/components/schemas/B~1C"), Some(&11));
        assert_eq!(found.get("/nope"), None);
    }

    #[test]
    fn status_codes_are_keys_not_indexes() {
        let text = "paths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n          content:\n            application/json:\n              schema:\n                type: nope\n        '404':\n          description: no\n";
        let found = super::yaml_lines(
            text,
            &[
                "/paths/~1a/get/responses/200/content/application~1json/schema",
                "/paths/~1a/get/responses/404",
            ],
        );
        assert_eq!(
            found.get("/paths/~1a/get/responses/200/content/application~1json/schema"),
            Some(&9)
        );
        assert_eq!(found.get("/paths/~1a/get/responses/404"), Some(&11));
    }
}
