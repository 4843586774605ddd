//! [`Generator`]: the one entry point `build.rs`, the `generate!` macro and
//! the `wharf` command line all use.

use crate::diagnostic::{Diagnostic, Severity};
use crate::load::{LoadError, Spec};
use crate::{emit, ir};
use std::fmt;
use std::path::{Path, PathBuf};

/// Generates Rust for one OpenAPI document.
///
/// ```no_run
/// // build.rs: what was degraded prints as `cargo:warning` lines.
/// let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
/// wharf_codegen::Generator::new("specs/petstore.yaml")
///     .write_to(std::path::Path::new(&out).join("petstore.rs"))
///     .unwrap_or_else(|e| panic!("generating the Petstore client: {e}"));
/// ```
#[derive(Debug, Clone)]
pub struct Generator {
    source: Source,
    rerun_if_changed: bool,
    cargo_warnings: bool,
    serialize_received: bool,
    renames: std::collections::HashMap<String, String>,
    selection: ir::OperationOptions,
    policies: crate::policy::Policies,
}

#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Text(String),
}

/// The generated module and what was found on the way.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Formatted Rust: items for a module (no inner attributes, so the file
    /// can be `include!`d).
    pub code: String,
    /// Problems found, most severe first, with pointers (and JSON lines).
    pub diagnostics: Vec<Diagnostic>,
    /// How many Rust types were generated.
    pub type_count: usize,
    /// The operations, summarized (for `wharf inspect`).
    pub operations: Vec<crate::summary::OperationSummary>,
    /// The spec files read (the document and the files its `$ref`s reach).
    pub files: Vec<PathBuf>,
    /// The spec's `info.title`.
    pub title: String,
    /// The webhook events (for `wharf inspect`).
    pub webhooks: Vec<WebhookSummary>,
}

/// A webhook event as `wharf inspect` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSummary {
    /// The name the spec gives it.
    pub name: String,
    /// The Rust type of its payload.
    pub payload: String,
}

impl Generated {
    /// Diagnostics that are errors (parts of the spec that were not usable).
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

/// Why nothing could be generated.
#[derive(Debug)]
pub enum GeneratorError {
    /// The spec could not be read or is not an OpenAPI 3 document.
    Load(LoadError),
    /// Writing the output failed.
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The generator produced code it cannot format: a wharf bug.
    Internal(String),
    /// Configured policies break a rule (each with the policy it is about).
    Policy(Vec<(crate::policy::PolicyTarget, String)>),
    /// The configuration names what the spec lacks: a selected operation
    /// or tag, a pagination override's operation or fields, a renamed
    /// component.
    Config(Vec<ConfigProblem>),
}

/// One thing the configuration names that the spec does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// What the configuration says, as written there.
    pub target: ConfigTarget,
    pub message: String,
}

/// The configuration entry a [`ConfigProblem`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigTarget {
    /// `operations = [...]` / `Generator::operations`.
    Operation(String),
    /// `tags = [...]` / `Generator::tags`.
    Tag(String),
    /// `paging = { ... }` / `Generator::paging`, by operation.
    Paging(String),
    /// `rename = { ... }` / `Generator::rename_type`, by component.
    Rename(String),
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for GeneratorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GeneratorError::Load(e) => write!(f, "{e}"),
            GeneratorError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            GeneratorError::Internal(m) => {
                write!(f, "internal generator error (please report): {m}")
            }
            GeneratorError::Policy(problems) => {
                for (i, (target, problem)) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{target}: {problem}")?;
                }
                Ok(())
            }
            GeneratorError::Config(problems) => {
                for (i, problem) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for GeneratorError {}

impl From<LoadError> for GeneratorError {
    fn from(e: LoadError) -> Self {
        GeneratorError::Load(e)
    }
}

impl Generator {
    /// A generator for the spec file at `spec` (JSON or YAML).
    pub fn new(spec: impl AsRef<Path>) -> Self {
        Generator {
            source: Source::File(spec.as_ref().to_owned()),
            rerun_if_changed: std::env::var_os("CARGO_MANIFEST_DIR").is_some()
                && std::env::var_os("OUT_DIR").is_some(),
            cargo_warnings: in_build_script(),
            serialize_received: false,
            renames: Default::default(),
            selection: Default::default(),
            policies: Default::default(),
        }
    }

    /// A generator for a spec given as text (file `$ref`s cannot be followed).
    pub fn from_text(text: impl Into<String>) -> Self {
        Generator {
            source: Source::Text(text.into()),
            rerun_if_changed: false,
            cargo_warnings: in_build_script(),
            serialize_received: false,
            renames: Default::default(),
            selection: Default::default(),
            policies: Default::default(),
        }
    }

    /// Whether [`Generator::write_to`] prints `cargo:rerun-if-changed` lines
    /// for the spec files (on by default inside build scripts).
    pub fn rerun_if_changed(mut self, on: bool) -> Self {
        self.rerun_if_changed = on;
        self
    }

    /// Whether [`Generator::write_to`] prints each diagnostic (what was
    /// degraded to raw JSON, and why) as a `cargo:warning` line, so a
    /// build shows them (on by default inside build scripts).
    pub fn cargo_warnings(mut self, on: bool) -> Self {
        self.cargo_warnings = on;
        self
    }

    /// Whether types that are only received (responses, webhook payloads)
    /// implement `Serialize` too, e.g. to store or forward them as JSON.
    /// Off by default: types a call sends (request bodies, parameters, and
    /// what they hold) always do, and the rest would cost the compiler
    /// time and memory most apps do not need (GitHub's client: 12–13 s and
    /// 0.59 GB of `cargo check`, 40.2–41.9 s and 2.63 GB with it on).
    pub fn serialize_received(mut self, on: bool) -> Self {
        self.serialize_received = on;
        self
    }

    /// Generates only these operations (by `operationId`), and only the
    /// types they use. Combines with [`Generator::tags`] (either selects).
    pub fn operations<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.selection
            .operations
            .extend(ids.into_iter().map(Into::into));
        self
    }

    /// Generates only operations with one of these tags (and their types).
    pub fn tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.selection.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Names the Rust type of component schema `component` `rust_name`.
    pub fn rename_type(
        mut self,
        component: impl Into<String>,
        rust_name: impl Into<String>,
    ) -> Self {
        self.renames.insert(component.into(), rust_name.into());
        self
    }

    /// Overrides pagination detection for one operation (by `operationId`).
    pub fn paging(mut self, operation: impl Into<String>, paging: ir::Paging) -> Self {
        self.selection.paging.insert(operation.into(), paging);
        self
    }

    /// Attaches a policy to the client, a tag or one operation. The runtime
    /// applies it to every call of those operations (below per-call
    /// settings and runtime per-operation and per-tag configuration, see
    /// `wharf::policy`). Rules are checked when generating: retry limits,
    /// an idempotency plan for retried mutating operations, scopes the
    /// spec lists; a broken rule is a [`GeneratorError::Policy`].
    pub fn policy(
        mut self,
        target: crate::policy::PolicyTarget,
        policy: crate::policy::PolicySpec,
    ) -> Self {
        self.policies.by_target.insert(target, policy);
        self
    }

    /// Generates the module.
    pub fn generate(&self) -> Result<Generated, GeneratorError> {
        self.run()
    }

    /// The spec's security schemes alone (what `wharf login` needs), with
    /// the diagnostics of reading them; no code is generated.
    pub fn security_schemes(
        &self,
    ) -> Result<(Vec<ir::SchemeDef>, Vec<Diagnostic>), GeneratorError> {
        let mut diagnostics = Vec::new();
        let spec = self.load(&mut diagnostics)?;
        let schemes = ir::lower_security_schemes(&spec, &mut diagnostics);
        spec.fill_lines(&mut diagnostics);
        Ok((schemes, diagnostics))
    }

    fn load(&self, diagnostics: &mut Vec<Diagnostic>) -> Result<Spec, GeneratorError> {
        Ok(match &self.source {
            Source::File(path) => Spec::load(path, diagnostics)?,
            Source::Text(text) => Spec::from_text(text, diagnostics)?,
        })
    }

    fn run(&self) -> Result<Generated, GeneratorError> {
        let mut diagnostics = Vec::new();
        let timings = std::env::var_os("WHARF_TIMINGS").is_some();
        let t0 = std::time::Instant::now();
        let spec = self.load(&mut diagnostics)?;
        let t_load = t0.elapsed();
        let type_options = ir::TypeOptions {
            all_components: self.selection.selects_all(),
            renames: self.renames.clone(),
        };
        let schemes = ir::lower_security_schemes(&spec, &mut diagnostics);
        let mut lowerer = ir::Lowerer::new(&spec, &mut diagnostics, &type_options);
        let lowered = ir::lower_operations(&spec, &mut lowerer, &self.selection, &schemes);
        // Webhooks belong to the whole API: a selection of operations or
        // tags leaves them out.
        let webhooks = if self.selection.selects_all() {
            ir::lower_webhooks(&spec, &mut lowerer)
        } else {
            ir::LoweredWebhooks::default()
        };
        // The passes after lowering: naming (types' names settled in
        // `finish`, which also breaks cycles and shares identical types;
        // then operations' and webhooks'), then pagination.
        let (types, names) = lowerer.finish();
        let operations = ir::name_operations(lowered, &names);
        let webhooks = webhooks.named(&names);
        let (operations, paging_problems) = ir::finish_operations(operations, &types);
        let mut config = self.check_configuration(&operations, &spec);
        config.extend(paging_problems.into_iter().map(|(op, why)| ConfigProblem {
            message: format!("pagination override for {op:?} does not fit: {why}"),
            target: ConfigTarget::Paging(op),
        }));
        if !config.is_empty() {
            return Err(GeneratorError::Config(config));
        }
        let problems = self.policies.problems(&operations);
        if !problems.is_empty() {
            return Err(GeneratorError::Policy(problems));
        }
        let t_lower = t0.elapsed();
        let header = format!(
            "Generated by wharf {} from `{}` ({}). Do not edit: regenerate.",
            env!("CARGO_PKG_VERSION"),
            short_name(spec.name()),
            spec.format_name(),
        );
        let client = ir::lower_api_info(&spec);
        let code = emit::module_file(
            &types,
            &operations,
            &schemes,
            &client,
            &webhooks,
            &emit::EmitOptions {
                header: &header,
                policies: &self.policies,
                serialize_all: self.serialize_received,
            },
        );
        if timings {
            eprintln!(
                "timings: load {t_load:.2?}, lower {:.2?}, emit {:.2?}",
                t_lower - t_load,
                t0.elapsed() - t_lower,
            );
        }
        spec.fill_lines(&mut diagnostics);
        diagnostics.sort_by_key(|d| std::cmp::Reverse(d.severity));
        let files = spec.docs.iter().filter_map(|d| d.path.clone()).collect();
        let webhooks = webhooks
            .events
            .iter()
            .map(|event| WebhookSummary {
                name: event.name.clone(),
                payload: emit::type_text(&types, &event.payload),
            })
            .collect();
        Ok(Generated {
            webhooks,
            title: client.title.clone(),
            code,
            diagnostics,
            type_count: types.types.len(),
            operations: operations.iter().map(Into::into).collect(),
            files,
        })
    }

    /// Operations, tags, pagination overrides and renamed components named
    /// in the configuration that the spec lacks.
    fn check_configuration(&self, found: &[ir::Operation], spec: &Spec) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut ids: Vec<&String> = self.selection.operations.iter().collect();
        ids.sort();
        for id in ids {
            if !found.iter().any(|o| &o.name == id) {
                problems.push(ConfigProblem {
                    target: ConfigTarget::Operation(id.clone()),
                    message: format!("selected operation {id:?} is not in the spec"),
                });
            }
        }
        for tag in &self.selection.tags {
            if !found.iter().any(|o| o.tags.contains(tag)) {
                problems.push(ConfigProblem {
                    target: ConfigTarget::Tag(tag.clone()),
                    message: format!("selected tag {tag:?} has no operations in the spec"),
                });
            }
        }
        let mut paged: Vec<&String> = self.selection.paging.keys().collect();
        paged.sort();
        for id in paged {
            if !found.iter().any(|o| &o.name == id) {
                problems.push(ConfigProblem {
                    target: ConfigTarget::Paging(id.clone()),
                    message: format!(
                        "pagination override for {id:?}: no such operation among those generated"
                    ),
                });
            }
        }
        let components = spec
            .get(&crate::load::Location::root(0))
            .and_then(|doc| doc.get("components"))
            .and_then(|c| c.get("schemas"));
        let mut renamed: Vec<&String> = self.renames.keys().collect();
        renamed.sort();
        for component in renamed {
            if components.and_then(|c| c.get(component)).is_none() {
                problems.push(ConfigProblem {
                    target: ConfigTarget::Rename(component.clone()),
                    message: format!(
                        "rename of {component:?}: the spec has no component schema of that name"
                    ),
                });
            }
        }
        problems
    }

    /// Generates the module into `path` (written only when it changed, so
    /// cargo does not rebuild needlessly).
    pub fn write_to(&self, path: impl AsRef<Path>) -> Result<Generated, GeneratorError> {
        let path = path.as_ref();
        let generated = self.run()?;
        if self.rerun_if_changed {
            for file in &generated.files {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
        if self.cargo_warnings {
            for d in &generated.diagnostics {
                // One line each: cargo reads the rest of the line only.
                println!("cargo:warning={}", d.to_string().replace(['\n', '\r'], " "));
            }
        }
        let unchanged = std::fs::read_to_string(path).is_ok_and(|old| old == generated.code);
        if !unchanged {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| GeneratorError::Write {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            std::fs::write(path, &generated.code).map_err(|source| GeneratorError::Write {
                path: path.to_owned(),
                source,
            })?;
        }
        Ok(generated)
    }
}

/// Cargo sets `TARGET` and `HOST` for build scripts only (not for the
/// compiler running a proc macro, nor for a command line).
fn in_build_script() -> bool {
    ["OUT_DIR", "TARGET", "HOST"]
        .iter()
        .all(|v| std::env::var_os(v).is_some())
}

fn short_name(name: &str) -> String {
    Path::new(name)
        .file_name()
        .map_or_else(|| name.to_owned(), |f| f.to_string_lossy().into_owned())
}
