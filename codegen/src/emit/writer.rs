//! A line writer with indentation, for emitting formatted Rust.

pub(crate) struct Writer {
    out: String,
    indent: usize,
}

impl Writer {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Writer {
            out: String::with_capacity(bytes),
            indent: 0,
        }
    }

    /// Writes one line at the current indentation.
    pub(crate) fn line(&mut self, text: &str) {
        if text.is_empty() {
            self.out.push('\n');
            return;
        }
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Writes a line that opens a block (`… {`) and indents what follows.
    pub(crate) fn open(&mut self, text: &str) {
        self.line(text);
        self.indent += 1;
    }

    /// Closes a block with `text` (e.g. `}` or `},`).
    pub(crate) fn close(&mut self, text: &str) {
        self.indent = self.indent.saturating_sub(1);
        self.line(text);
    }

    /// Indents what follows without writing a line (after a multi-line
    /// signature whose last line opened the block).
    pub(crate) fn indent_more(&mut self) {
        self.indent += 1;
    }

    /// Undoes one level of indentation without writing a line.
    pub(crate) fn indent_back(&mut self) {
        self.indent = self.indent.saturating_sub(1);
    }

    /// Writes the statement `head` followed by method calls (`.name(…)`),
    /// as many to a line as fit in `width` columns, continuation lines
    /// indented once more; ends it with `;`.
    pub(crate) fn chain(&mut self, head: &str, calls: &[String], width: usize) {
        let mut current = head.to_owned();
        let mut room = width.saturating_sub(self.indent * 4);
        let mut continued = false;
        for call in calls {
            if current.len() + call.len() > room && !current.is_empty() {
                self.line(&current);
                current.clear();
                if !continued {
                    continued = true;
                    self.indent += 1;
                    room = room.saturating_sub(4);
                }
            }
            current.push_str(call);
        }
        current.push(';');
        self.line(&current);
        if continued {
            self.indent -= 1;
        }
    }

    /// The columns the current indentation takes.
    pub(crate) fn indent_width(&self) -> usize {
        self.indent * 4
    }

    pub(crate) fn blank(&mut self) {
        self.out.push('\n');
    }

    /// Writes `///` doc lines.
    pub(crate) fn doc(&mut self, lines: &[String]) {
        for l in lines {
            if l.is_empty() {
                self.line("///");
            } else {
                self.line(&format!("///{l}"));
            }
        }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::Writer;

    #[test]
    fn chains_fill_lines_up_to_the_width() {
        let mut w = Writer::with_capacity(64);
        w.indent_more();
        let calls: Vec<String> = [".alpha()", ".beta()", ".gamma()"]
            .map(String::from)
            .to_vec();
        w.chain("r", &calls, 4 + 18);
        w.chain("s", &calls[..1], 4 + 18);
        assert_eq!(
            w.finish(),
            "    r.alpha().beta()\n        .gamma();\n    s.alpha();\n"
        );
    }
}
