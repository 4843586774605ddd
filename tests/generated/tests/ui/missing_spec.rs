// Paths are relative to the crate trybuild makes: target/tests/trybuild/<crate>/.
mod api {
    wharf::generate!("specs/does-not-exist.yaml");
}

fn main() {}
