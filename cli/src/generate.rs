//! `wharf generate` and `wharf inspect`: the generator front end.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wharf_codegen::{Generator, Severity};
use wharf_codegen::{OperationSummary, PagingStyle};

/// Which operations to generate (default: all).
#[derive(clap::Args)]
pub(crate) struct Selection {
    /// Only this operation (by operationId); repeatable.
    #[arg(long = "operation", value_name = "ID")]
    operations: Vec<String>,
    /// Only operations with this tag; repeatable.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    #[command(flatten)]
    shaping: crate::shaping::Shaping,
}

impl Selection {
    /// The generator for `spec` with this selection, renames, paging
    /// overrides and policies; an error names a bad policies file.
    pub(crate) fn generator(&self, spec: &Path) -> Result<Generator, String> {
        self.shaping.apply(
            Generator::new(spec)
                .rerun_if_changed(false)
                .operations(self.operations.iter().cloned())
                .tags(self.tags.iter().cloned()),
        )
    }
}

pub(crate) enum Target {
    File(PathBuf),
    /// The module on standard output (diagnostics stay on standard error).
    Stdout,
    Crate {
        dir: PathBuf,
        name: Option<String>,
        wharf_path: Option<PathBuf>,
        wharf_version: Option<String>,
    },
}

pub(crate) fn inspect(spec: &Path, selection: &Selection) -> ExitCode {
    let generated = match selection
        .generator(spec)
        .and_then(|g| g.generate().map_err(|e| e.to_string()))
    {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Written through a locked stdout: a closed pipe (`| head`) ends the
    // listing quietly instead of panicking in `println!`.
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match write_inspection(&mut out, spec, &generated) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One operation's security, e.g. `oauth[repo:admin] | token`.
fn auth_summary(op: &OperationSummary) -> String {
    if op.security.is_empty() {
        return "no auth".to_owned();
    }
    op.security
        .iter()
        .map(|alternative| {
            if alternative.is_empty() {
                return "none".to_owned();
            }
            alternative
                .iter()
                .map(|used| {
                    if used.scopes.is_empty() {
                        used.scheme.clone()
                    } else {
                        format!("{}[{}]", used.scheme, used.scopes.join(" "))
                    }
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn write_inspection(
    out: &mut impl std::io::Write,
    spec: &std::path::Path,
    generated: &wharf_codegen::Generated,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {} operations, {} types",
        spec.display(),
        generated.operations.len(),
        generated.type_count
    )?;
    for op in &generated.operations {
        let key = if op.idempotency_key {
            "  idempotency-key"
        } else {
            ""
        };
        writeln!(
            out,
            "  {:<7} {:<50} {}  auth: {}{key}",
            op.method,
            op.path,
            op.function,
            auth_summary(op)
        )?;
        if let Some(page) = &op.pagination {
            let style = match &page.style {
                PagingStyle::Link => "Link header".to_owned(),
                PagingStyle::Cursor { param } => format!("cursor via `{param}` (has_more)"),
                PagingStyle::Token { param } => format!("page token via `{param}`"),
                PagingStyle::Offset { param } => format!("offset via `{param}`"),
            };
            writeln!(
                out,
                "          paginated: {style} -> {}",
                page.stream_function
            )?;
        }
    }
    for hook in &generated.webhooks {
        writeln!(out, "webhook {} {}", hook.name, hook.payload)?;
    }
    if !generated.diagnostics.is_empty() {
        writeln!(out, "degraded ({}):", generated.diagnostics.len())?;
        for d in &generated.diagnostics {
            writeln!(out, "  {d}")?;
        }
    }
    Ok(())
}

pub(crate) fn generate(
    spec: &Path,
    target: &Target,
    selection: &Selection,
    quiet: bool,
) -> ExitCode {
    let started = std::time::Instant::now();
    let generator = match selection.generator(spec) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match target {
        Target::File(file) => generator
            .write_to(file)
            .map(|g| (g, file.clone()))
            .map_err(Into::into),
        Target::Stdout => generator.generate().map_err(Into::into).and_then(|g| {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(g.code.as_bytes())?;
            out.flush()?;
            Ok((g, PathBuf::from("standard output")))
        }),
        Target::Crate {
            dir,
            name,
            wharf_path,
            wharf_version,
        } => write_crate(
            &generator,
            dir,
            name.as_deref(),
            wharf_path.as_deref(),
            wharf_version.as_deref(),
        ),
    };
    let (generated, written) = match result {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let warnings = generated
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    let errors = generated.diagnostics.len() - warnings;
    if !quiet {
        for d in &generated.diagnostics {
            eprintln!("{d}");
        }
    }
    eprintln!(
        "wrote {} ({} types, {} operations, {} lines) in {:.2?}; {errors} errors, {warnings} warnings (degraded parts are raw JSON)",
        written.display(),
        generated.type_count,
        generated.operations.len(),
        generated.code.lines().count(),
        started.elapsed(),
    );
    // Problems of the spec were degraded to raw JSON: the client is usable,
    // so they do not fail the command (what the configuration names and
    // the spec lacks already did, before anything was written).
    ExitCode::SUCCESS
}

/// The `wharf` dependency of a generated crate (the package `wharf-sdk`,
/// whose library is `wharf`): at `--wharf-path`, at `--wharf-version`, or
/// else at the source this CLI was built from when it is still there.
fn wharf_dependency(
    path: Option<&Path>,
    version: Option<&str>,
) -> Result<String, Box<dyn std::error::Error>> {
    let at_path = |p: &Path| -> Result<String, Box<dyn std::error::Error>> {
        let p =
            std::fs::canonicalize(p).map_err(|e| format!("--wharf-path {}: {e}", p.display()))?;
        Ok(format!(
            "{{ package = \"wharf-sdk\", path = {:?}, default-features = false }}",
            p.display().to_string()
        ))
    };
    match (path, version) {
        (Some(p), _) => at_path(p),
        (None, Some(v)) => Ok(format!(
            "{{ package = \"wharf-sdk\", version = {v:?}, default-features = false }}"
        )),
        (None, None) => {
            // This package is `cli/` of the workspace whose root is the SDK.
            let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
            let source = cli.parent().unwrap_or(cli);
            if source.join("src/lib.rs").is_file() && source.join("runtime").is_dir() {
                at_path(source)
            } else {
                Err("say where the crate's `wharf` dependency comes from: --wharf-path DIR (a checkout of wharf) or --wharf-version VERSION".into())
            }
        }
    }
}

/// A standalone crate: Cargo.toml and src/lib.rs holding the module.
fn write_crate(
    generator: &Generator,
    dir: &Path,
    name: Option<&str>,
    wharf_path: Option<&Path>,
    wharf_version: Option<&str>,
) -> Result<(wharf_codegen::Generated, PathBuf), Box<dyn std::error::Error>> {
    let generated = generator.generate()?;
    let title = generated.title.clone();
    let name = match name {
        Some(n) => n.to_owned(),
        None => package_name(&title),
    };
    let wharf = wharf_dependency(wharf_path, wharf_version)?;
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"Client for {} generated by wharf\"\npublish = false\n\n[dependencies]\nwharf = {wharf}\n\n[workspace]\n",
        title.replace(['"', '\\'], "")
    );
    let lib = format!(
        "//! Client for {}, generated by wharf from `{}`.\n//! Regenerate instead of editing.\n\n{}",
        if title.is_empty() { "an API".to_owned() } else { format!("`{}`", title.replace('`', "'")) },
        generator_spec_name(&generated),
        generated.code
    );
    std::fs::create_dir_all(dir.join("src"))?;
    let manifest_path = dir.join("Cargo.toml");
    if manifest_path.exists() {
        // The user's edits (features, metadata, a workspace) stay.
        eprintln!(
            "kept {} as it is (yours); only src/lib.rs was regenerated",
            manifest_path.display()
        );
    } else {
        std::fs::write(&manifest_path, manifest)?;
    }
    let lib_path = dir.join("src/lib.rs");
    std::fs::write(&lib_path, lib)?;
    Ok((generated, lib_path))
}

fn generator_spec_name(generated: &wharf_codegen::Generated) -> String {
    generated
        .files
        .first()
        .and_then(|f| f.file_name())
        .map_or_else(|| "a spec".to_owned(), |f| f.to_string_lossy().into_owned())
}

/// A valid package name from a title: `GitHub v3 REST API` -> `github-v3-rest-api`.
fn package_name(title: &str) -> String {
    let mut name = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-').to_owned();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("api-client{}{name}", if name.is_empty() { "" } else { "-" })
    } else {
        format!("{name}-client")
    }
}
