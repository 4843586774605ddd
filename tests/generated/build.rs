//! Generates every spec in `specs/` into OUT_DIR, as a user's build.rs
//! would, one spec grown by a field (a provider's next version), and two
//! real Swagger 2.0 documents.

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
        "swagger2.yaml",
        "sharing.yaml",
    ] {
        let module = name.split('.').next().unwrap_or(name);
        // Diagnostics print as `cargo:warning` lines by themselves. The
        // tolerant spec's types are only received; its tests serialize
        // them back (round trips), so they implement `Serialize` too.
        wharf_codegen::Generator::new(specs.join(name))
            .serialize_received(name == "tolerant.yaml")
            .write_to(Path::new(&out).join(format!("{module}.rs")))
            .unwrap_or_else(|e| panic!("generating {name}: {e}"));
    }
    // Real Swagger 2.0 documents (scripts/install-swagger2-specs.sh unpacks
    // them from Debian packages): tests/prism.rs calls them.
    let swagger2 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../build/corpus/swagger2");
    for (file, module) in [
        ("docker-engine.yaml", "docker_engine"),
        ("gitea.json", "gitea"),
    ] {
        let spec = swagger2.join(file);
        assert!(
            spec.is_file(),
            "{} is missing: run `bash scripts/install-swagger2-specs.sh` (scripts/test.sh does)",
            spec.display()
        );
        wharf_codegen::Generator::new(&spec)
            .write_to(Path::new(&out).join(format!("{module}.rs")))
            .unwrap_or_else(|e| panic!("generating {file}: {e}"));
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
