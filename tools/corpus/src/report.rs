//! The corpus report: a table per spec and a summary.

use crate::compile::Results;
use crate::options::Options;
use crate::specs::{Failure, Outcome};
use std::fmt::Write as _;
use std::path::Path;

/// Writes `report.md`; returns the summary and the compile rate (percent of
/// checked specs in the selection that compile).
pub fn write(
    dir: &Path,
    generation: &[Outcome],
    compiled: &Results,
    options: &Options,
) -> Result<(String, f64), String> {
    let total = generation.len();
    let loaded = generation.iter().filter(|g| g.loaded()).count();
    let panicked = generation.iter().filter(|g| g.panicked()).count();
    let generated = generation.iter().filter(|g| g.generated()).count();
    let time: f64 = generation
        .iter()
        .filter_map(|g| g.result.as_ref().ok())
        .map(|g| g.time.as_secs_f64())
        .sum();
    let chosen = options.choose(generation);
    let checked: Vec<_> = chosen
        .iter()
        .filter_map(|o| compiled.current(o).map(|r| (o, r)))
        .collect();
    let compiles = checked.iter().filter(|(_, r)| r.is_none()).count();
    let mut summary = String::new();
    let _ = writeln!(summary, "specs: {total}");
    let _ = writeln!(summary, "loaded: {loaded} ({:.1}%)", pct(loaded, total));
    let _ = writeln!(
        summary,
        "generated: {generated} ({:.1}%), panics: {panicked}",
        pct(generated, total)
    );
    let _ = writeln!(
        summary,
        "generation time (sum over specs, release build): {time:.1} s"
    );
    let sample = if options.named {
        "named big specs".to_owned()
    } else if options.webhooks {
        "specs with webhook events".to_owned()
    } else {
        options.sample.map_or("all".to_owned(), |n| n.to_string())
    };
    if options.compile {
        let _ = writeln!(
            summary,
            "compiles: {compiles}/{} checked ({:.1}%) [sample {sample}, seed {}, shard {}/{}]",
            checked.len(),
            pct(compiles, checked.len()),
            options.seed,
            options.shard.0,
            options.shard.1
        );
    } else {
        let _ = writeln!(
            summary,
            "compiles: not checked in this run (add --compile); the table keeps {} earlier results for the current code",
            checked.len()
        );
    }
    let mut table = String::from("| spec | loaded | generated | compiles | types | lines | warnings | first error |\n|---|---|---|---|---|---|---|---|\n");
    for g in generation {
        let compile = compiled.current(g);
        let (loaded, generated, error) = match &g.result {
            Ok(_) => (
                "yes",
                "yes",
                compile.and_then(|e| e.clone()).unwrap_or_default(),
            ),
            Err(Failure::Load(e)) => ("no", "no", e.clone()),
            Err(Failure::Panic(e)) => ("yes", "PANIC", e.clone()),
        };
        let compiles = match compile {
            None => "-",
            Some(None) => "yes",
            Some(Some(_)) => "no",
        };
        let (types, lines, warnings) = g
            .result
            .as_ref()
            .map(|r| {
                (
                    r.types.to_string(),
                    r.lines.to_string(),
                    (r.warnings + r.errors).to_string(),
                )
            })
            .unwrap_or_default();
        let error = error.replace('|', "\\|").replace('\n', " ");
        let _ = writeln!(table, "| {} | {loaded} | {generated} | {compiles} | {types} | {lines} | {warnings} | {error} |", g.id);
    }
    let report = format!("# wharf corpus report\n\n```\n{summary}```\n\n{table}");
    let path = dir.join("report.md");
    std::fs::write(&path, report).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((
        format!("{summary}report: {}", path.display()),
        pct(compiles, checked.len()),
    ))
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        100.0 * n as f64 / d as f64
    }
}
