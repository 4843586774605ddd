//! The `wharf` command-line tool.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wharf_codegen::{Generator, Severity};

#[derive(Parser)]
#[command(
    name = "wharf",
    version,
    about = "Typed, resilient API clients from OpenAPI documents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate Rust from an OpenAPI 3.0/3.1 document (JSON or YAML).
    Generate {
        /// The spec file.
        spec: PathBuf,
        /// Write one module file here (usable with `include!` or as a module).
        #[arg(long, value_name = "FILE.rs")]
        out: PathBuf,
        /// Print only the count of warnings, not each one.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Print a spec's operations (method, path, scopes, idempotency) and
    /// what was degraded.
    Inspect {
        /// The spec file.
        spec: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { spec, out, quiet } => generate(spec, out, quiet),
        Command::Inspect { spec } => inspect(spec),
    }
}

fn inspect(spec: PathBuf) -> ExitCode {
    let generated = match Generator::new(&spec).rerun_if_changed(false).generate() {
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
    match write_inspection(&mut out, &spec, &generated) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One operation's security, e.g. `oauth[repo:admin] | token`.
fn auth_summary(op: &wharf_codegen::ir::Operation) -> String {
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
                .map(|(scheme, scopes)| {
                    if scopes.is_empty() {
                        scheme.clone()
                    } else {
                        format!("{scheme}[{}]", scopes.join(" "))
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
        let key = if op.accepts_idempotency_key {
            "  idempotency-key"
        } else {
            ""
        };
        writeln!(
            out,
            "  {:<7} {:<50} {}  auth: {}{key}",
            op.method.to_uppercase(),
            op.path,
            op.const_name,
            auth_summary(op)
        )?;
    }
    if !generated.diagnostics.is_empty() {
        writeln!(out, "degraded ({}):", generated.diagnostics.len())?;
        for d in &generated.diagnostics {
            writeln!(out, "  {d}")?;
        }
    }
    Ok(())
}

fn generate(spec: PathBuf, out: PathBuf, quiet: bool) -> ExitCode {
    let started = std::time::Instant::now();
    let generated = match Generator::new(&spec).rerun_if_changed(false).write_to(&out) {
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
        "wrote {} ({} types, {} lines) in {:.2?}; {errors} errors, {warnings} warnings (degraded parts are raw JSON)",
        out.display(),
        generated.type_count,
        generated.code.lines().count(),
        started.elapsed(),
    );
    ExitCode::SUCCESS
}
