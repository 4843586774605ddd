//! Generate the client from the spec at build time: this is all a user writes.

fn main() {
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs/tolerant.yaml");
    match wharf_codegen::Generator::new(spec)
        .write_to(std::path::Path::new(&out).join("tolerant.rs"))
    {
        Ok(generated) => {
            for d in &generated.diagnostics {
                println!("cargo:warning={d}");
            }
        }
        Err(e) => {
            eprintln!("wharf: {e}");
            std::process::exit(1);
        }
    }
}
