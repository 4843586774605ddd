//! Doc comments from spec descriptions, made safe for rustdoc: code blocks in
//! descriptions are never compiled as doctests.

/// Lines of a description for `///` comments, each prefixed with a space.
/// Control characters (a bare CR is a compile error in a doc comment) are
/// dropped; lines are split at any line break.
pub(super) fn sanitize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    let cleaned: String = text
        .replace("\r\n", "\n")
        .chars()
        .map(|c| {
            if c == '\r' || c == '\u{2028}' || c == '\u{2029}' || c == '\u{85}' {
                '\n'
            } else {
                c
            }
        })
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect();
    for raw in cleaned.lines() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            let fence = &trimmed[..3];
            if in_fence {
                out.push(format!(" {fence}"));
            } else {
                // Mark every block as plain text: it is not Rust to test.
                out.push(format!(" {fence}text"));
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(format!(" {line}"));
        } else {
            // Four spaces of indentation would make an (untested-as-Rust)
            // indented code block a doctest; keep at most three.
            let indent = (line.len() - trimmed.len()).min(3);
            if trimmed.is_empty() {
                out.push(String::new());
            } else {
                out.push(format!(" {}{trimmed}", " ".repeat(indent)));
            }
        }
    }
    if in_fence {
        out.push(" ```".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn code_blocks_never_become_doctests() {
        let lines = sanitize("Example:\n```\nlet x = 1;\n```\n\n    indented code\n```json\n{}");
        assert_eq!(sanitize("a\rb\u{7}c"), [" a", " bc"]);
        assert_eq!(lines[1], " ```text");
        assert_eq!(lines[5], "    indented code");
        assert_eq!(lines[6], " ```text");
        assert_eq!(lines.last().map(String::as_str), Some(" ```"));
    }
}
