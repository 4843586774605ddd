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

    /// Writes `items` (each ending in `separator`) several to a line,
    /// wrapped before `width` columns: lists of short names (a struct's
    /// shorthand fields) without a line each.
    pub(crate) fn wrapped(&mut self, items: &[String], separator: &str, width: usize) {
        let room = width.saturating_sub(self.indent * 4);
        let mut current = String::new();
        for item in items {
            let piece = format!("{item}{separator}");
            if !current.is_empty() && current.len() + 1 + piece.len() > room {
                self.line(&current);
                current.clear();
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&piece);
        }
        if !current.is_empty() {
            self.line(&current);
        }
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
    fn wrapped_lists_fill_lines_up_to_the_width() {
        let mut w = Writer::with_capacity(64);
        w.indent_more();
        let items: Vec<String> = ["alpha", "beta", "gamma", "delta"]
            .map(String::from)
            .to_vec();
        w.wrapped(&items, ",", 4 + 12);
        assert_eq!(w.finish(), "    alpha, beta,\n    gamma,\n    delta,\n");
    }
}
