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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { spec, out, quiet } => generate(spec, out, quiet),
    }
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
