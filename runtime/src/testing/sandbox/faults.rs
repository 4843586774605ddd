//! Scripted faults for the sandbox: a queue of (target, fault, times)
//! consulted before a request is handled normally, and the drift switch.

use super::super::fault::Fault;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Which requests a scripted fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Any API request (not the OAuth endpoints).
    Any,
    /// API requests to one operation, by its `operationId` (`getRepo`).
    Operation(String),
    /// Requests whose path matches `path`, a template where `{name}`
    /// matches one segment; with `method`, only that method. Reaches the
    /// OAuth endpoints too (`/oauth/token`).
    Route {
        method: Option<String>,
        path: String,
    },
}

impl Target {
    pub fn operation(id: &str) -> Target {
        Target::Operation(id.to_owned())
    }

    /// `"GET /repos/{owner}/{repo}"`, or a path alone for any method.
    pub fn route(spec: &str) -> Target {
        match spec.trim().split_once(' ') {
            Some((method, path)) => Target::Route {
                method: Some(method.to_ascii_uppercase()),
                path: path.trim().to_owned(),
            },
            None => Target::Route {
                method: None,
                path: spec.trim().to_owned(),
            },
        }
    }

    /// `operation` is the request's `operationId` when it is an API request.
    fn matches(&self, method: &str, path: &str, operation: Option<&str>) -> bool {
        match self {
            Target::Any => operation.is_some(),
            Target::Operation(id) => operation == Some(id.as_str()),
            Target::Route { method: m, path: p } => {
                m.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
                    && template_matches(p, path)
            }
        }
    }
}

/// Whether `path` fits `template` segment by segment (`{x}` fits any one).
pub(super) fn template_matches(template: &str, path: &str) -> bool {
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) => {
                let wildcard = ts.starts_with('{') && ts.ends_with('}');
                if !((wildcard && !ps.is_empty()) || ts == ps) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[derive(Debug)]
struct Scripted {
    target: Target,
    fault: Fault,
    times: usize,
}

/// The fault script of a sandbox ([`super::Sandbox::faults`]).
#[derive(Debug, Default)]
pub struct SandboxFaults {
    queue: Mutex<VecDeque<Scripted>>,
    drift: AtomicBool,
}

impl SandboxFaults {
    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Scripted>> {
        match self.queue.lock() {
            Ok(q) => q,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The next request matching `target` gets `fault` (after faults
    /// scripted earlier for the same requests).
    pub fn push(&self, target: Target, fault: Fault) {
        self.push_times(1, target, fault);
    }

    /// The next `times` requests matching `target` get `fault`.
    pub fn push_times(&self, times: usize, target: Target, fault: Fault) {
        if times > 0 {
            self.queue().push_back(Scripted {
                target,
                fault,
                times,
            });
        }
    }

    /// Like [`SandboxFaults::push`], but ahead of everything scripted.
    pub fn push_front(&self, target: Target, fault: Fault) {
        self.queue().push_front(Scripted {
            target,
            fault,
            times: 1,
        });
    }

    /// Drops every scripted fault.
    pub fn clear(&self) {
        self.queue().clear();
    }

    /// Requests still to be met with a scripted fault.
    pub fn pending(&self) -> usize {
        self.queue().iter().map(|s| s.times).sum()
    }

    /// While on, `getRepo` answers with a body that drifts from the spec:
    /// `stars` as a string, an unknown `visibility`, an extra field.
    pub fn set_drift(&self, on: bool) {
        self.drift.store(on, Ordering::Relaxed);
    }

    pub fn drift(&self) -> bool {
        self.drift.load(Ordering::Relaxed)
    }

    /// The fault for this request, if one is scripted (used up by it).
    pub(super) fn take(&self, method: &str, path: &str, operation: Option<&str>) -> Option<Fault> {
        let mut queue = self.queue();
        let index = queue
            .iter()
            .position(|s| s.target.matches(method, path, operation))?;
        let entry = queue.get_mut(index)?;
        entry.times -= 1;
        let fault = entry.fault.clone();
        if entry.times == 0 {
            queue.remove(index);
        }
        Some(fault)
    }
}

/// An API error answer, as the sandbox sends them (`{code, message}`).
pub fn error(status: u16, code: &str, message: &str) -> Fault {
    let body = serde_json::json!({"code": code, "message": message});
    Fault::Respond {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into(),
    }
}

/// 429 with `Retry-After` (whole seconds, rounded up).
pub fn rate_limited(retry_after: Duration) -> Fault {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    error(429, "rate_limited", "too many requests; wait and try again")
        .with_header("retry-after", &seconds.to_string())
}

/// 503, a transient failure.
pub fn unavailable() -> Fault {
    error(503, "unavailable", "temporarily unavailable; try again")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_one_segment_per_placeholder() {
        assert!(template_matches(
            "/repos/{owner}/{repo}",
            "/repos/ada/notes"
        ));
        assert!(!template_matches(
            "/repos/{owner}/{repo}",
            "/repos/ada/notes/issues"
        ));
        assert!(!template_matches("/repos/{owner}/{repo}", "/repos/ada/"));
        assert!(template_matches("/oauth/token", "/oauth/token"));
    }

    #[test]
    fn scripted_faults_are_used_up_in_order() {
        let faults = SandboxFaults::default();
        faults.push_times(2, Target::operation("getRepo"), unavailable());
        faults.push(Target::Any, rate_limited(Duration::from_millis(1500)));
        assert_eq!(faults.pending(), 3);
        assert!(faults.take("GET", "/user", Some("getUser")).is_some());
        assert!(faults.take("GET", "/user", Some("getUser")).is_none());
        assert!(faults.take("POST", "/oauth/token", None).is_none());
        let fault = faults.take("GET", "/repos/a/b", Some("getRepo"));
        assert!(matches!(fault, Some(Fault::Respond { status: 503, .. })));
        faults.push_front(Target::route("POST /oauth/token"), unavailable());
        assert!(faults.take("POST", "/oauth/token", None).is_some());
        assert!(faults.take("GET", "/repos/a/b", Some("getRepo")).is_some());
        assert_eq!(faults.pending(), 0);
        match rate_limited(Duration::from_millis(1500)) {
            Fault::Respond { headers, .. } => {
                assert!(headers.contains(&("retry-after".into(), "2".into())))
            }
            other => panic!("{other:?}"),
        }
    }
}
