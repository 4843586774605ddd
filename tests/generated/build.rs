//! Generates every spec in `specs/` into OUT_DIR, as a user's build.rs
//! would, and one spec grown by a field (a provider's next version).

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
    // The bodies spec a version later: `Widget` gained an optional field.
    // tests/request_types.rs compiles the same caller against both.
    let bodies = std::fs::read_to_string(specs.join("bodies.yaml")).expect("read bodies.yaml");
    let field = "        name: {type: string}\n        size: {type: integer}\n";
    assert_eq!(
        bodies.matches(field).count(),
        1,
        "bodies.yaml: Widget's fields"
    );
    let grown = bodies.replace(field, &format!("{field}        color: {{type: string}}\n"));
    let grown_spec = Path::new(&out).join("bodies_grown.yaml");
    std::fs::write(&grown_spec, grown).expect("write the grown spec");
    wharf_codegen::Generator::new(&grown_spec)
        .rerun_if_changed(false)
        .write_to(Path::new(&out).join("bodies_grown.rs"))
        .unwrap_or_else(|e| panic!("generating the grown bodies spec: {e}"));
}
