//! What the example-driving tests share.

use std::path::PathBuf;

/// An example's binary, built by `cargo test` next to the test's own.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let binary = profile.join("examples").join(name);
    assert!(
        binary.is_file(),
        "{} is missing (cargo test builds the package's examples)",
        binary.display()
    );
    binary
}
