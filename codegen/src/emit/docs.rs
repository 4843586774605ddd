//! Doc comments from spec descriptions, made safe for rustdoc: code blocks in
//! descriptions are never compiled as doctests.

/// Lines of a description for `///` comments, each prefixed with a space.
/// Control characters (a bare CR is a compile error in a doc comment) are
/// dropped; lines are split at any line break.
pub(super) fn sanitize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    // The text column of the list item whose paragraph goes on, if any.
    let mut item_column: Option<usize> = None;
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
            item_column = None;
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
                item_column = None;
            } else if let Some(marker) = list_marker_len(trimmed) {
                out.push(format!(" {}{trimmed}", " ".repeat(indent)));
                item_column = Some(indent + marker);
            } else if let Some(column) = item_column {
                // A list item's paragraph goes on at the item's text column,
                // as Markdown reads it anyway (clippy warns about lines
                // indented less or more: doc_lazy_continuation,
                // doc_overindented_list_items).
                out.push(format!(" {}{trimmed}", " ".repeat(column)));
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

/// The width of a list marker and its space (`- `, `* `, `+ `, `12. `,
/// `3) `) starting `line`.
fn list_marker_len(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    match bytes {
        [b'-' | b'*' | b'+', b' ', ..] => Some(2),
        _ => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let ordered = (1..=9).contains(&digits)
                && matches!(bytes.get(digits), Some(b'.' | b')'))
                && bytes.get(digits + 1) == Some(&b' ');
            ordered.then_some(digits + 2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn list_items_continue_at_their_text_column() {
        let lines = sanitize("Modes:\n- `z`: shared\n   label for all\n- `Z`: private\nlabel\n\n1. one\n  more\n\nafter");
        assert_eq!(
            lines,
            [
                " Modes:",
                " - `z`: shared",
                "   label for all",
                " - `Z`: private",
                "   label",
                "",
                " 1. one",
                "    more",
                "",
                " after",
            ]
        );
    }

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
