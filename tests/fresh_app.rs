//! A fresh app outside the workspace, made as the README's "first client"
//! section says: `wharf` (plus tokio) is its one dependency, also as the
//! build-dependency whose `build` feature generates the client in
//! build.rs; its test calls the OAuth sandbox and reads a paginated stream
//! through `wharf::prelude`. `cargo tree` of its normal dependencies has
//! no trace of the command-line tool (clap) or the generator. The crate is
//! `tests/fresh_app/`, copied to `build/fresh-app/` (its own target dir, so
//! it never waits on the workspace's).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cargo(app: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(app)
        .env("CARGO_TARGET_DIR", root().join("build/fresh-app-target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The app, written afresh from `tests/fresh_app/`.
fn app() -> PathBuf {
    let from = root().join("tests/fresh_app");
    let app = root().join("build/fresh-app");
    let _ = std::fs::remove_dir_all(&app);
    for dir in ["src", "tests"] {
        std::fs::create_dir_all(app.join(dir)).unwrap();
    }
    for file in ["build.rs", "src/lib.rs", "tests/sandbox.rs"] {
        std::fs::copy(from.join(file), app.join(file)).unwrap();
    }
    let manifest = std::fs::read_to_string(from.join("Cargo.toml.in"))
        .unwrap()
        .replace("WHARF_PATH", &root().display().to_string());
    std::fs::write(app.join("Cargo.toml"), manifest).unwrap();
    // One schema the generator cannot use, to see its diagnostic reach the
    // build's output as a warning with no code in build.rs for it.
    let spec = std::fs::read_to_string(root().join("specs/sandbox.yaml")).unwrap();
    assert_eq!(spec.matches("\n  schemas:\n").count(), 1);
    let spec = spec.replace(
        "\n  schemas:\n",
        "\n  schemas:\n    Unusable:\n      $ref: \"#/components/schemas/Nowhere\"\n",
    );
    std::fs::write(app.join("harbor.yaml"), spec).unwrap();
    // The workspace's versions: the same crates, already downloaded.
    std::fs::copy(root().join("Cargo.lock"), app.join("Cargo.lock")).unwrap();
    app
}

#[test]
fn a_fresh_app_needs_wharf_alone_and_carries_no_cli() {
    let app = app();
    let build = cargo(&app, &["build", "--offline"]);
    assert!(build.status.success(), "{}", text(&build));
    assert!(
        text(&build).contains(
            "warning: fresh-app@0.1.0: warning: harbor.yaml#/components/schemas/Unusable"
        ),
        "the degraded schema is a build warning: {}",
        text(&build)
    );
    let test = cargo(&app, &["test", "--offline", "--quiet"]);
    assert!(
        test.status.success(),
        "the fresh app's test: {}",
        text(&test)
    );
    assert!(text(&test).contains("2 passed"), "{}", text(&test));

    // Direct dependencies: wharf and tokio, nothing else.
    let direct = cargo(
        &app,
        &[
            "tree",
            "--offline",
            "-e",
            "normal",
            "--depth",
            "1",
            "--prefix",
            "none",
        ],
    );
    assert!(direct.status.success(), "{}", text(&direct));
    let names: Vec<String> = String::from_utf8_lossy(&direct.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(names, ["tokio", "wharf-sdk"], "{}", text(&direct));
    // No CLI anywhere in the build, and no generator in what the app links
    // (the default `generate!` macro runs it in the compiler only).
    for (absent, edges) in [
        ("clap", "all"),
        ("wharf-codegen", "normal,no-proc-macro"),
        ("serde_yaml_ng", "normal,no-proc-macro"),
    ] {
        // Not a package of the build at all, or not on these edges (then
        // nothing of it is printed).
        let tree = cargo(&app, &["tree", "--offline", "-e", edges, "-i", absent]);
        let said = text(&tree);
        assert!(
            tree.stdout.is_empty()
                && (said.contains("did not match any packages")
                    || said.contains("nothing to print")),
            "{absent} is in the app's tree: {said}"
        );
    }
}
