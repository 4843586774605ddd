//! The client of the Harbor API, generated from its spec.

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    // What was degraded to raw JSON prints as `cargo:warning` lines.
    wharf::codegen::Generator::new("harbor.yaml")
        .write_to(std::path::Path::new(&out).join("harbor.rs"))
        .unwrap_or_else(|e| panic!("generating the Harbor client: {e}"));
}
