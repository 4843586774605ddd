//! Generate the Harbor client from the spec at build time: this is all a
//! user writes. A client-wide policy gives every call a 10 s budget.

use wharf_codegen::{Generator, PolicySpec, PolicyTarget};

fn main() {
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    // Build scripts run in the package's directory: a relative path is
    // the package's (read when the script runs, not baked in when it is
    // compiled).
    let spec = "../../specs/sandbox.yaml";
    let every_call = PolicySpec {
        timeout: Some(std::time::Duration::from_secs(10)),
        ..PolicySpec::default()
    };
    // What was degraded to raw JSON prints as `cargo:warning` lines.
    if let Err(e) = Generator::new(spec)
        .policy(PolicyTarget::Client, every_call)
        .write_to(std::path::Path::new(&out).join("harbor.rs"))
    {
        eprintln!("wharf: {e}");
        std::process::exit(1);
    }
}
