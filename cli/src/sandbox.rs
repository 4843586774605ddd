//! `wharf sandbox [--listen ADDR]`: the embedded provider (an OAuth 2
//! authorization server with RFC 8414 metadata, and the Harbor API of
//! `specs/sandbox.yaml`) as a process, to try `wharf login` and the token
//! verbs against. It prints its URL and the `wharf.yaml` entry to use, and
//! runs until Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;
use wharf::testing::sandbox::{
    Sandbox, SandboxConfig, API_KEY, BASIC_ACCOUNT, BASIC_TOKEN, QUICKSTART_CLIENT_ID,
};

/// What to paste into `wharf.yaml` for this sandbox.
fn config_entry(issuer: &str) -> String {
    format!(
        "integrations:\n  harbor:\n    issuer: {issuer}\n    client_id: {QUICKSTART_CLIENT_ID}\n    scopes: [user:read, repo:read]\n"
    )
}

pub async fn run(listen: SocketAddr) -> ExitCode {
    if !listen.ip().is_loopback() {
        eprintln!(
            "error: --listen {listen}: the sandbox serves plain HTTP, which wharf sends only to loopback; use 127.0.0.1 or [::1]"
        );
        return ExitCode::from(2);
    }
    let sandbox = match Sandbox::start_on(listen, SandboxConfig::default()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let issuer = sandbox.issuer();
    println!("wharf sandbox: {issuer} (the Harbor API of specs/sandbox.yaml and its OAuth server)");
    println!("metadata: {issuer}/.well-known/oauth-authorization-server");
    println!("sign-ins are approved at once as the user `ada`");
    println!();
    println!("# wharf.yaml");
    print!("{}", config_entry(&issuer));
    println!();
    println!("then: wharf login harbor; wharf token status harbor. Ctrl-C stops the sandbox.");
    println!();
    println!("without OAuth (not secrets: they open this sandbox only):");
    println!("  API key (scheme harbor_key): X-Harbor-Key: {API_KEY}");
    println!("  HTTP basic (scheme harbor_basic): {BASIC_ACCOUNT} / {BASIC_TOKEN}");
    println!("  e.g. curl -H 'X-Harbor-Key: {API_KEY}' {issuer}/user");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    match tokio::signal::ctrl_c().await {
        Ok(()) => {
            eprintln!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot wait for Ctrl-C: {e}");
            ExitCode::FAILURE
        }
    }
}
