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
