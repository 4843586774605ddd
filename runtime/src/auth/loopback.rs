//! The one-shot loopback redirect listener of native apps (RFC 8252 §7.3):
//! 127.0.0.1 on a random port, one callback accepted, then closed.

use super::flow_error::FlowError;
use crate::time::Clock;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Longest request head read from the browser.
const MAX_HEAD: usize = 16 * 1024;
/// Stray requests (favicon, prefetch) answered before giving up.
const MAX_STRAY: usize = 16;

const DONE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Signed in</title>\
<p>You are signed in. You can close this window.</p>";

/// Waits for the authorization server's redirect.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    redirect_uri: String,
}

impl LoopbackListener {
    /// Listens on 127.0.0.1 on a port the system picks.
    pub async fn bind() -> Result<Self, FlowError> {
        Self::bind_on("127.0.0.1:0", |port| {
            format!("http://127.0.0.1:{port}/callback")
        })
        .await
    }

    /// Listens on [::1] on a port the system picks.
    pub async fn bind_v6() -> Result<Self, FlowError> {
        Self::bind_on("[::1]:0", |port| format!("http://[::1]:{port}/callback")).await
    }

    async fn bind_on(addr: &str, uri: impl Fn(u16) -> String) -> Result<Self, FlowError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| FlowError::Listener(e.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|e| FlowError::Listener(e.to_string()))?
            .port();
        Ok(LoopbackListener {
            listener,
            redirect_uri: uri(port),
        })
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The query string of the one callback, within `timeout`. The listener
    /// is closed afterwards, so a second request finds nothing.
    pub async fn receive(self, timeout: Duration, clock: &dyn Clock) -> Result<String, FlowError> {
        let wait = async {
            for _ in 0..MAX_STRAY {
                let (mut stream, _) = self
                    .listener
                    .accept()
                    .await
                    .map_err(|e| FlowError::Listener(e.to_string()))?;
                let head = read_head(&mut stream).await?;
                let target = head
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("GET "))
                    .and_then(|l| l.split(' ').next())
                    .unwrap_or("");
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                if path != "/callback" {
                    let _ = stream
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    continue;
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nreferrer-policy: no-referrer\r\nconnection: close\r\n\r\n{DONE_PAGE}",
                    DONE_PAGE.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
                return Ok(query.to_owned());
            }
            Err(FlowError::Listener("too many unrelated requests".into()))
        };
        tokio::select! {
            r = wait => r,
            () = clock.sleep(timeout) => Err(FlowError::TimedOut),
        }
    }
}

async fn read_head(stream: &mut tokio::net::TcpStream) -> Result<String, FlowError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_HEAD {
            return Err(FlowError::Listener("request head too large".into()));
        }
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| FlowError::Listener(e.to_string()))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Opens `url` in the system browser; `false` when none could be started
/// (print the URL instead). `BROWSER` comes first, as with xdg-open: a
/// `:`-separated list of commands, each given the URL in place of `%s` or
/// as its last argument.
pub fn open_browser(url: &str) -> bool {
    let from_env = browser_commands(std::env::var("BROWSER").ok().as_deref(), url);
    let candidates: &[(&str, &[&str])] = if cfg!(target_os = "macos") {
        &[("open", &[])]
    } else if cfg!(windows) {
        &[("cmd", &["/C", "start", ""])]
    } else {
        &[("xdg-open", &[]), ("sensible-browser", &[])]
    };
    let fallback = candidates.iter().map(|(program, args)| {
        let mut argv: Vec<String> = std::iter::once(*program)
            .chain(args.iter().copied())
            .map(str::to_owned)
            .collect();
        argv.push(url.to_owned());
        argv
    });
    from_env.into_iter().chain(fallback).any(|argv| {
        let Some((program, args)) = argv.split_first() else {
            return false;
        };
        std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    })
}

/// The commands a `BROWSER` value names, with the URL in place.
fn browser_commands(browser: Option<&str>, url: &str) -> Vec<Vec<String>> {
    let separator = if cfg!(windows) { ';' } else { ':' };
    browser
        .unwrap_or("")
        .split(separator)
        .filter_map(|command| {
            let mut argv: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            if argv.is_empty() {
                return None;
            }
            if argv.iter().any(|a| a.contains("%s")) {
                for a in &mut argv {
                    *a = a.replace("%s", url);
                }
            } else {
                argv.push(url.to_owned());
            }
            Some(argv)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::browser_commands;

    #[test]
    fn browser_variable_lists_commands_with_the_url_in_place() {
        let url = "http://127.0.0.1:1/authorize?a=b";
        assert!(browser_commands(None, url).is_empty());
        assert!(browser_commands(Some(" : "), url).is_empty());
        assert_eq!(
            browser_commands(Some("firefox --new-tab:w3m %s"), url),
            [
                vec!["firefox".to_owned(), "--new-tab".to_owned(), url.to_owned()],
                vec!["w3m".to_owned(), url.to_owned()],
            ]
        );
    }
}
