//! Generates every spec in `specs/` into OUT_DIR, as a user's build.rs would.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    for name in [
        "tolerant.yaml",
        "operations.yaml",
        "params.yaml",
        "bodies.yaml",
        "responses.yaml",
        "webhooks.yaml",
    ] {
        let module = name.split('.').next().unwrap_or(name);
        // Diagnostics print as `cargo:warning` lines by themselves.
        wharf_codegen::Generator::new(specs.join(name))
            .write_to(Path::new(&out).join(format!("{module}.rs")))
            .unwrap_or_else(|e| panic!("generating {name}: {e}"));
    }
}
