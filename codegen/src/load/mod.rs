//! Loading OpenAPI documents: JSON or YAML, 3.0.x or 3.1.x, with the files
//! their `$ref`s point to. Loading fails only when the root document cannot be
//! read or parsed at all; everything else becomes a diagnostic.

mod lines;
mod swagger2;
mod yaml;

use crate::diagnostic::{Diagnostic, Severity};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};

/// Files reachable through `$ref`s beyond this many are not loaded.
const MAX_DOCUMENTS: usize = 256;
/// Diagnostics per YAML document that get a line number.
const MAX_YAML_LINE_LOOKUPS: usize = 500;
/// `$ref` chains longer than this are treated as cycles.
const MAX_REF_HOPS: usize = 64;
/// How far a chain past the hop limit is followed to list it for the
/// diagnostic, once per chain.
const MAX_CHAIN_SCAN: usize = 100_000;

/// The OpenAPI version a document declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    V3_0,
    V3_1,
}

/// A loaded spec: the root document and every file its `$ref`s reach.
#[derive(Debug)]
pub struct Spec {
    pub(crate) docs: Vec<Document>,
    /// Document index by the path a `$ref` reached it with (as joined, and
    /// canonical): resolving a file `$ref` is a map lookup, not file I/O.
    files: HashMap<PathBuf, usize>,
    pub version: SpecVersion,
    /// The `openapi` (or `swagger`) field as written.
    pub declared_version: String,
    /// Read from Swagger 2.0 (and rewritten as 3.0 at load).
    swagger2: bool,
}

#[derive(Debug)]
pub(crate) struct Document {
    /// Display name: the path as given, or `<input>`.
    pub(crate) name: String,
    pub(crate) path: Option<PathBuf>,
    pub(crate) root: Value,
    pub(crate) text: String,
    pub(crate) is_json: bool,
    /// For a rewritten Swagger 2.0 document, where its nodes were written.
    origins: swagger2::Origins,
}

/// A node of a loaded spec: which document, and the JSON pointer within it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub(crate) doc: usize,
    pub(crate) pointer: String,
}

/// Why a `$ref` did not resolve; for chains of `$ref`-only schemas (a cycle
/// or past the hop limit), the locations followed, so one root cause is
/// reported once however many refs lead into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RefError {
    pub(crate) message: String,
    pub(crate) chain: Vec<Location>,
    /// The chain was already reported (see [`Spec::resolve_avoiding`]).
    pub(crate) known: bool,
}

impl std::fmt::Display for RefError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Location {
    pub(crate) fn root(doc: usize) -> Self {
        Location {
            doc,
            pointer: String::new(),
        }
    }

    /// The location of a child member or index.
    pub(crate) fn child(&self, segment: &str) -> Location {
        Location {
            doc: self.doc,
            pointer: crate::diagnostic::push_segment(&self.pointer, segment),
        }
    }

    pub fn pointer(&self) -> &str {
        &self.pointer
    }
}

/// The root document could not be used at all.
#[derive(Debug)]
pub enum LoadError {
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    Parse {
        file: String,
        message: String,
    },
    NotOpenApi {
        file: String,
        message: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            LoadError::Parse { file, message } => write!(f, "{file}: cannot parse: {message}"),
            LoadError::NotOpenApi { file, message } => write!(f, "{file}: {message}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl Spec {
    /// Loads a spec file and the files its `$ref`s point to.
    pub fn load(path: impl AsRef<Path>, diags: &mut Vec<Diagnostic>) -> Result<Spec, LoadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        let name = path.display().to_string();
        let doc = parse_document(name.clone(), Some(path.to_owned()), text).map_err(|message| {
            LoadError::Parse {
                file: name,
                message,
            }
        })?;
        Spec::from_root(doc, diags)
    }

    /// Loads a spec from text; relative file `$ref`s cannot be followed.
    pub fn from_text(text: &str, diags: &mut Vec<Diagnostic>) -> Result<Spec, LoadError> {
        let doc =
            parse_document("<input>".to_owned(), None, text.to_owned()).map_err(|message| {
                LoadError::Parse {
                    file: "<input>".to_owned(),
                    message,
                }
            })?;
        Spec::from_root(doc, diags)
    }

    fn from_root(mut doc: Document, diags: &mut Vec<Diagnostic>) -> Result<Spec, LoadError> {
        let Some(object) = doc.root.as_object() else {
            return Err(LoadError::NotOpenApi {
                file: doc.name,
                message: "the document is not a JSON/YAML object".to_owned(),
            });
        };
        let mut upgraded = None;
        let (version, declared) = match object.get("openapi").and_then(Value::as_str) {
            Some(v) if v.starts_with("3.1") || v.starts_with("3.2") => (SpecVersion::V3_1, v),
            Some(v) if v.starts_with("3.0") => (SpecVersion::V3_0, v),
            Some(v) => {
                return Err(LoadError::NotOpenApi {
                    file: doc.name,
                    message: format!("unsupported OpenAPI version {v:?} (3.0.x and 3.1.x are)"),
                })
            }
            None if object.get("openapi").is_some() => {
                return Err(LoadError::NotOpenApi {
                    file: doc.name,
                    message: "the `openapi` version field is not a string".to_owned(),
                })
            }
            None if object.contains_key("swagger") => {
                let declared = object.get("swagger").and_then(Value::as_str).unwrap_or("");
                if !declared.starts_with("2.") {
                    return Err(LoadError::NotOpenApi {
                        file: doc.name,
                        message: format!(
                            "unsupported Swagger version {:?} (2.0 is)",
                            object.get("swagger").unwrap_or(&Value::Null)
                        ),
                    });
                }
                upgraded = Some(swagger2::upgrade(object));
                (SpecVersion::V3_0, declared)
            }
            None => {
                diags.push(Diagnostic {
                    severity: Severity::Warning,
                    file: doc.name.clone(),
                    pointer: String::new(),
                    line: None,
                    message: "no `openapi` version field; reading it as OpenAPI 3.0".to_owned(),
                });
                (SpecVersion::V3_0, "")
            }
        };
        let declared_version = declared.to_owned();
        let swagger2 = upgraded.is_some();
        if let Some(upgraded) = upgraded {
            // Its warnings already point at the 2.0 text.
            for (pointer, message) in upgraded.warnings {
                diags.push(Diagnostic {
                    severity: Severity::Warning,
                    file: doc.name.clone(),
                    pointer,
                    line: None,
                    message,
                });
            }
            doc.root = upgraded.root;
            doc.origins = upgraded.origins;
        }
        let mut spec = Spec {
            docs: vec![doc],
            files: HashMap::new(),
            version,
            declared_version,
            swagger2,
        };
        spec.load_referenced_files(diags);
        Ok(spec)
    }

    /// Loads every file reachable through relative `$ref`s, breadth first.
    fn load_referenced_files(&mut self, diags: &mut Vec<Diagnostic>) {
        let mut queue = VecDeque::from([0usize]);
        if let Some(p) = &self.docs[0].path {
            self.files.insert(canonical(p), 0);
            self.files.insert(p.clone(), 0);
        }
        while let Some(index) = queue.pop_front() {
            let mut refs = Vec::new();
            collect_file_refs(&self.docs[index].root, &mut String::new(), &mut refs);
            for (pointer, file) in refs {
                let Some(base) = self.docs[index].path.as_ref() else {
                    diags.push(self.diag_at(
                        index,
                        &pointer,
                        Severity::Error,
                        format!("cannot follow file reference {file:?} from a spec given as text"),
                    ));
                    continue;
                };
                let target = base.parent().unwrap_or(Path::new(".")).join(&file);
                if self.files.contains_key(&target) {
                    continue;
                }
                let key = canonical(&target);
                if let Some(&known) = self.files.get(&key) {
                    // Another spelling of a loaded file: remember it too.
                    self.files.insert(target, known);
                    continue;
                }
                if self.docs.len() >= MAX_DOCUMENTS {
                    diags.push(self.diag_at(
                        index,
                        &pointer,
                        Severity::Error,
                        format!("more than {MAX_DOCUMENTS} referenced files; {file:?} not loaded"),
                    ));
                    continue;
                }
                let loaded = std::fs::read_to_string(&target)
                    .map_err(|e| e.to_string())
                    .and_then(|text| {
                        parse_document(target.display().to_string(), Some(target.clone()), text)
                    });
                match loaded {
                    Ok(mut doc) => {
                        if self.swagger2 {
                            let (root, origins) =
                                swagger2::upgrade_fragment(std::mem::take(&mut doc.root));
                            doc.root = root;
                            doc.origins = origins;
                        }
                        self.files.insert(key, self.docs.len());
                        self.files.insert(target, self.docs.len());
                        queue.push_back(self.docs.len());
                        self.docs.push(doc);
                    }
                    Err(message) => diags.push(self.diag_at(
                        index,
                        &pointer,
                        Severity::Error,
                        format!(
                            "cannot load referenced file {}: {message}",
                            target.display()
                        ),
                    )),
                }
            }
        }
    }

    /// The node at a location.
    pub(crate) fn get(&self, at: &Location) -> Option<&Value> {
        self.docs.get(at.doc)?.root.pointer(&at.pointer)
    }

    /// Resolves a `$ref` string written at `from`, following chains of refs.
    pub(crate) fn resolve(&self, from: &Location, reference: &str) -> Result<Location, RefError> {
        self.follow(from, reference, None)
    }

    /// [`Spec::resolve`], stopping at once on entering a chain in `broken`
    /// (one already reported). A chain past the hop limit is followed to
    /// its end (or a cycle, or [`MAX_CHAIN_SCAN`] schemas) so the error
    /// lists all of it: every later ref into it is then known at once.
    pub(crate) fn resolve_avoiding(
        &self,
        from: &Location,
        reference: &str,
        broken: &HashSet<Location>,
    ) -> Result<Location, RefError> {
        self.follow(from, reference, Some(broken))
    }

    /// Without `broken`, a chain is abandoned at the hop limit (callers that
    /// only look something up need not list it).
    fn follow(
        &self,
        from: &Location,
        reference: &str,
        broken: Option<&HashSet<Location>>,
    ) -> Result<Location, RefError> {
        let scan_limit = if broken.is_some() {
            MAX_CHAIN_SCAN
        } else {
            MAX_REF_HOPS
        };
        let plain = |message: String| RefError {
            message,
            chain: Vec::new(),
            known: false,
        };
        let mut target = self.resolve_once(from, reference).map_err(plain)?;
        let mut chain = vec![target.clone()];
        let mut seen: HashSet<Location> = HashSet::from([target.clone()]);
        loop {
            if broken.is_some_and(|b| b.contains(&target)) {
                return Err(RefError {
                    message: format!(
                        "$ref {reference:?} leads into a chain of `$ref`s already reported"
                    ),
                    chain,
                    known: true,
                });
            }
            let node = self
                .get(&target)
                .ok_or_else(|| plain(format!("$ref {reference:?} points to nothing")))?;
            let next = match node.get("$ref").and_then(Value::as_str) {
                // A pure alias ref: follow it. Refs with siblings are schemas.
                Some(next) if node.as_object().is_some_and(|o| o.len() == 1) => next,
                _ if chain.len() > MAX_REF_HOPS => break,
                _ => return Ok(target),
            };
            target = self.resolve_once(&target, next).map_err(plain)?;
            if !seen.insert(target.clone()) {
                if chain.len() > MAX_REF_HOPS {
                    break;
                }
                let start = chain.iter().position(|l| *l == target).unwrap_or(0);
                let cycle: Vec<String> = chain[start..]
                    .iter()
                    .chain([&target])
                    .map(|l| format!("#{}", l.pointer))
                    .collect();
                return Err(RefError {
                    message: format!(
                        "$ref {reference:?} leads into a cycle of schemas that are only `$ref`s ({}), which names no type",
                        cycle.join(" -> ")
                    ),
                    chain,
                    known: false,
                });
            }
            chain.push(target.clone());
            if chain.len() > scan_limit {
                break;
            }
        }
        Err(RefError {
            message: format!(
                "$ref {reference:?} starts a chain of more than {MAX_REF_HOPS} schemas that are only `$ref`s (the hop limit; this one has {}{}); every schema that refers into this chain is raw JSON, reported once",
                chain.len(),
                if chain.len() > scan_limit { " or more" } else { "" }
            ),
            chain,
            known: false,
        })
    }

    fn resolve_once(&self, from: &Location, reference: &str) -> Result<Location, String> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if file.is_empty() {
            from.doc
        } else if file.contains("://") {
            return Err(format!("remote $ref {reference:?} is not followed"));
        } else {
            let base = self.docs[from.doc]
                .path
                .as_ref()
                .ok_or_else(|| format!("cannot follow file $ref {reference:?} from text input"))?;
            let target = base.parent().unwrap_or(Path::new(".")).join(file);
            // Every file reference was seen (and its spelling recorded) while
            // loading; canonicalizing is only the fallback.
            self.files
                .get(&target)
                .or_else(|| self.files.get(&canonical(&target)))
                .copied()
                .ok_or_else(|| format!("file of $ref {reference:?} was not loaded"))?
        };
        let pointer = percent_decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(format!(
                "$ref {reference:?} has a fragment that is not a JSON pointer"
            ));
        }
        let at = Location { doc, pointer };
        if self.get(&at).is_none() {
            return Err(format!("$ref {reference:?} points to nothing"));
        }
        Ok(at)
    }

    /// A diagnostic at a location (line filled in later, see [`Spec::fill_lines`]).
    pub(crate) fn diag(&self, at: &Location, severity: Severity, message: String) -> Diagnostic {
        self.diag_at(at.doc, &at.pointer, severity, message)
    }

    fn diag_at(
        &self,
        doc: usize,
        pointer: &str,
        severity: Severity,
        message: String,
    ) -> Diagnostic {
        let doc = &self.docs[doc];
        Diagnostic {
            severity,
            file: doc.name.clone(),
            pointer: doc.origins.original(pointer).into_owned(),
            line: None,
            message: doc.origins.original_message(&message).into_owned(),
        }
    }

    /// `file#pointer` of a node as written (for a Swagger 2.0 document, where
    /// it was before the rewrite), for doc comments.
    pub(crate) fn origin(&self, at: &Location) -> String {
        let doc = &self.docs[at.doc];
        format!("{}#{}", doc.name, doc.origins.original(&at.pointer))
    }

    /// The kind and version of document, as in "OpenAPI 3.1.0".
    pub fn format_name(&self) -> String {
        let kind = if self.swagger2 { "Swagger" } else { "OpenAPI" };
        format!("{kind} {}", self.declared_version)
    }

    /// Fills in line numbers of diagnostics (JSON: one exact pass per
    /// document that has diagnostics; YAML: best effort, see `lines`).
    pub fn fill_lines(&self, diags: &mut [Diagnostic]) {
        for doc in &self.docs {
            let wanted: Vec<String> = diags
                .iter()
                .filter(|d| d.file == doc.name && d.line.is_none())
                .map(|d| d.pointer.clone())
                .collect();
            let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
            if wanted.is_empty() {
                continue;
            }
            let found = if doc.is_json {
                lines::json_lines(&doc.text, &wanted)
            } else {
                // Each YAML look-up scans the text: bound the work.
                lines::yaml_lines(
                    &doc.text,
                    &wanted[..wanted.len().min(MAX_YAML_LINE_LOOKUPS)],
                )
            };
            for d in diags.iter_mut().filter(|d| d.file == doc.name) {
                if d.line.is_none() {
                    d.line = found.get(d.pointer.as_str()).copied();
                }
            }
        }
    }

    /// Display name of the main document.
    pub fn name(&self) -> &str {
        &self.docs[0].name
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

fn parse_document(name: String, path: Option<PathBuf>, text: String) -> Result<Document, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let is_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    let root = if is_json {
        serde_json::from_str(trimmed).map_err(|e| e.to_string())?
    } else {
        yaml::parse(trimmed)?
    };
    Ok(Document {
        name,
        path,
        root,
        text,
        is_json,
        origins: swagger2::Origins::default(),
    })
}

/// Collects `(pointer, file)` of every `$ref` naming another file.
fn collect_file_refs(node: &Value, pointer: &mut String, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                let file = r.split_once('#').map_or(r.as_str(), |(f, _)| f);
                if !file.is_empty() && !file.contains("://") {
                    out.push((pointer.clone(), file.to_owned()));
                }
            }
            for (key, child) in map {
                let len = pointer.len();
                *pointer = crate::diagnostic::push_segment(pointer, key);
                collect_file_refs(child, pointer, out);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                collect_file_refs(child, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Decodes `%XX` escapes in a `$ref` fragment (invalid escapes are kept).
fn percent_decode(raw: &str) -> String {
    if !raw.contains('%') {
        return raw.to_owned();
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_of_fragments() {
        assert_eq!(percent_decode("/paths/~1a~1%7Bid%7D"), "/paths/~1a~1{id}");
        assert_eq!(percent_decode("/bad%zz%"), "/bad%zz%");
        assert_eq!(percent_decode("%41"), "A");
    }

    #[test]
    fn reads_swagger_2_and_rejects_older_and_non_objects() {
        let mut d = Vec::new();
        let spec = Spec::from_text(r#"{"swagger": "2.0", "paths": {}}"#, &mut d);
        assert_eq!(
            spec.map(|s| s.format_name()).ok().as_deref(),
            Some("Swagger 2.0")
        );
        assert!(Spec::from_text(r#"{"swagger": "1.2"}"#, &mut d).is_err());
        assert!(Spec::from_text(r#"{"swagger": 2}"#, &mut d).is_err());
        assert!(Spec::from_text("[1]", &mut d).is_err());
        assert!(Spec::from_text("openapi: '4.0'", &mut d).is_err());
        assert!(Spec::from_text("{", &mut d).is_err());
    }

    #[test]
    fn resolves_internal_ref_chains_and_detects_cycles() {
        let mut d = Vec::new();
        let spec = Spec::from_text(
            r##"{"openapi": "3.1.0", "components": {"schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"type": "string"},
                "C": {"$ref": "#/components/schemas/D"},
                "D": {"$ref": "#/components/schemas/C"}}}}"##,
            &mut d,
        )
        .unwrap();
        let root = Location::root(0);
        let b = spec.resolve(&root, "#/components/schemas/A").unwrap();
        assert_eq!(b.pointer, "/components/schemas/B");
        assert!(spec.resolve(&root, "#/components/schemas/C").is_err());
        assert!(spec.resolve(&root, "#/nowhere").is_err());
        assert!(spec.resolve(&root, "https://x/y.json#/a").is_err());
    }
}
