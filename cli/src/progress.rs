//! A waiting indicator on stderr: one line rewritten in place each second
//! on a terminal, a single plain line otherwise (logs, pipes, CI), so
//! captured output carries no control characters.

use crate::time_text::span;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub(crate) struct Waiting {
    what: &'static str,
    started: Instant,
    timeout: Duration,
    live: bool,
}

impl Waiting {
    pub(crate) fn start(what: &'static str, timeout: Duration) -> Waiting {
        let live =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        let waiting = Waiting {
            what,
            started: Instant::now(),
            timeout,
            live,
        };
        if live {
            waiting.tick();
        } else {
            eprintln!("{what} (giving up after {})...", span(timeout));
        }
        waiting
    }

    /// Redraws the line with the elapsed time (terminals only).
    pub(crate) fn tick(&self) {
        if !self.live {
            return;
        }
        let elapsed = self.started.elapsed();
        // Rounded up: "giving up in 0s" only when it is about to.
        let left =
            Duration::from_secs_f64(self.timeout.saturating_sub(elapsed).as_secs_f64().ceil());
        let mut err = std::io::stderr().lock();
        // \r and erase-line: the line is redrawn, not appended to.
        let _ = write!(
            err,
            "\r\x1b[2K{}... {} (giving up in {}; Ctrl-C to cancel)",
            self.what,
            span(elapsed),
            span(left)
        );
        let _ = err.flush();
    }

    /// Clears the live line so what follows starts on a clean one.
    pub(crate) fn finish(&self) {
        if self.live {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
