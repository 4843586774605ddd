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
    println!(
        "{}: {} operations, {} types",
        spec.display(),
        generated.operations.len(),
        generated.type_count
    );
    for op in &generated.operations {
        let scopes = op
            .security
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
            .collect::<Vec<_>>();
        let auth = if scopes.is_empty() {
            "no auth".to_owned()
        } else {
            scopes.join(" | ")
        };
        let key = if op.accepts_idempotency_key {
            "  idempotency-key"
        } else {
            ""
        };
        println!(
            "  {:<7} {:<50} {}  auth: {auth}{key}",
            op.method.to_uppercase(),
            op.path,
            op.const_name
        );
    }
    let warnings = generated.diagnostics.len();
    if warnings > 0 {
        println!("degraded ({warnings}):");
        for d in &generated.diagnostics {
            println!("  {d}");
        }
    }
    ExitCode::SUCCESS
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
