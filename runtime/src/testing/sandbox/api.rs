//! The Harbor API of `specs/sandbox.yaml`: its routes, the data behind
//! them (one user, seven repositories, issues opened during the run), the
//! idempotency-key store and the rate-limit window.

use super::super::fault::Fault;
use super::super::wire::WireRequest as Request;
use super::faults::{error, template_matches};
use super::grants::Caller;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The user that authorization-code grants act for.
pub const USER_LOGIN: &str = "ada";
const USER_NAME: &str = "Ada Lovelace";
/// Requests per rate-limit window and the window's length.
const RATE_LIMIT: u64 = 5000;
const RATE_WINDOW_SECS: u64 = 3600;
/// Longest idempotency key accepted (the spec's `maxLength`).
const MAX_KEY: usize = 255;
const MAX_TITLE: usize = 256;

/// An operation of the spec.
#[derive(Debug)]
pub(super) struct Operation {
    pub id: &'static str,
    pub method: &'static str,
    pub template: &'static str,
    /// The scope its security requirement names.
    pub scope: &'static str,
}

pub(super) const OPERATIONS: &[Operation] = &[
    Operation {
        id: "getUser",
        method: "GET",
        template: "/user",
        scope: "user:read",
    },
    Operation {
        id: "listRepos",
        method: "GET",
        template: "/repos",
        scope: "repo:read",
    },
    Operation {
        id: "getRepo",
        method: "GET",
        template: "/repos/{owner}/{repo}",
        scope: "repo:read",
    },
    Operation {
        id: "createIssue",
        method: "POST",
        template: "/repos/{owner}/{repo}/issues",
        scope: "repo:write",
    },
];

/// Where a request goes.
pub(super) enum Route {
    Found(&'static Operation),
    /// The path is the API's, the method is not (the allowed one).
    WrongMethod(&'static str),
    NotFound,
}

pub(super) fn route(method: &str, path: &str) -> Route {
    let mut allowed = None;
    for op in OPERATIONS {
        if template_matches(op.template, path) {
            if op.method == method {
                return Route::Found(op);
            }
            allowed = Some(op.method);
        }
    }
    allowed.map_or(Route::NotFound, Route::WrongMethod)
}

/// The `{name}` segments of `path` under `template`, percent-decoded.
fn path_params(template: &str, path: &str) -> Option<Vec<String>> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter(|(t, _)| t.starts_with('{'))
        .map(|(_, p)| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8()
                .ok()
                .map(|s| s.into_owned())
        })
        .collect()
}

struct Repo {
    id: &'static str,
    name: &'static str,
    private: bool,
    stars: u64,
    created_at: &'static str,
    description: Option<&'static str>,
}

/// Seven repositories: three pages at `limit=3`.
const REPOS: &[Repo] = &[
    Repo {
        id: "repo_01",
        name: "analytical-engine",
        private: false,
        stars: 1843,
        created_at: "2015-12-10T09:00:00Z",
        description: Some("Notes on the engine, with the first published program"),
    },
    Repo {
        id: "repo_02",
        name: "bernoulli-numbers",
        private: false,
        stars: 512,
        created_at: "2016-03-01T12:30:00Z",
        description: Some("Note G, step by step"),
    },
    Repo {
        id: "repo_03",
        name: "poetical-science",
        private: true,
        stars: 7,
        created_at: "2017-07-21T08:15:00Z",
        description: None,
    },
    Repo {
        id: "repo_04",
        name: "jacquard-cards",
        private: false,
        stars: 230,
        created_at: "2018-01-05T16:45:00Z",
        description: Some("Punched-card patterns as data"),
    },
    Repo {
        id: "repo_05",
        name: "difference-engine",
        private: false,
        stars: 96,
        created_at: "2019-11-30T10:00:00Z",
        description: Some("Tables by the method of differences"),
    },
    Repo {
        id: "repo_06",
        name: "letters",
        private: true,
        stars: 0,
        created_at: "2021-02-14T19:20:00Z",
        description: None,
    },
    Repo {
        id: "repo_07",
        name: "sketch-of-the-engine",
        private: false,
        stars: 64,
        created_at: "2023-08-08T08:08:00Z",
        description: Some("The translation and its notes"),
    },
];

fn repo_json(repo: &Repo) -> Value {
    json!({
        "id": repo.id,
        "name": repo.name,
        "owner": {"login": USER_LOGIN},
        "visibility": if repo.private { "private" } else { "public" },
        "stars": repo.stars,
        "created_at": repo.created_at,
        "description": repo.description,
    })
}

/// The same repository drifted from the spec: a number as a string, an
/// enum value the spec does not list, a field it does not define.
fn drifted_repo_json(repo: &Repo) -> Value {
    let mut value = repo_json(repo);
    if let Some(map) = value.as_object_mut() {
        map.insert("stars".into(), Value::String(repo.stars.to_string()));
        map.insert("visibility".into(), Value::String("internal".into()));
        map.insert("topics".into(), json!(["mathematics", "engines"]));
    }
    value
}

fn find_repo(owner: &str, name: &str) -> Option<&'static Repo> {
    (owner == USER_LOGIN)
        .then(|| REPOS.iter().find(|r| r.name == name))
        .flatten()
}

/// An answer kept for an idempotency key.
struct Stored {
    /// SHA-256 of method, path and body: the same key with another request
    /// is refused.
    fingerprint: Vec<u8>,
    answer: Fault,
}

/// A rate-limit window of one subject.
struct Window {
    resets_at: u64,
    used: u64,
}

/// Where a caller stands in its rate-limit window.
pub(super) struct Quota {
    pub limit: u64,
    pub remaining: u64,
    /// When the window resets, in Unix seconds.
    pub reset: u64,
    /// This request is over the limit.
    pub exceeded: bool,
}

impl Quota {
    /// Seconds until the reset.
    pub fn retry_after(&self) -> u64 {
        self.reset.saturating_sub(unix_now()).max(1)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The API's mutable data.
#[derive(Default)]
pub(super) struct ApiState {
    /// Issues opened per repository (numbers run from 1).
    issues: HashMap<String, u64>,
    /// By subject and key: keys are scoped to who sent them.
    idempotency: HashMap<(String, String), Stored>,
    windows: HashMap<String, Window>,
}

/// The API's answer to a request.
pub(super) struct Answer {
    pub fault: Fault,
    pub replayed: bool,
}

fn json_answer(status: u16, body: &Value) -> Fault {
    Fault::Respond {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into(),
    }
}

fn answer(fault: Fault) -> Answer {
    Answer {
        fault,
        replayed: false,
    }
}

impl ApiState {
    /// Counts a request against the caller's window.
    pub fn rate(&mut self, subject: &str) -> Quota {
        let now = unix_now();
        let window = self.windows.entry(subject.to_owned()).or_insert(Window {
            resets_at: now + RATE_WINDOW_SECS,
            used: 0,
        });
        if now >= window.resets_at {
            *window = Window {
                resets_at: now + RATE_WINDOW_SECS,
                used: 0,
            };
        }
        window.used += 1;
        Quota {
            limit: RATE_LIMIT,
            remaining: RATE_LIMIT.saturating_sub(window.used),
            reset: window.resets_at,
            exceeded: window.used > RATE_LIMIT,
        }
    }

    /// The operation's normal answer.
    pub fn handle(
        &mut self,
        op: &Operation,
        request: &Request,
        caller: &Caller,
        drift: bool,
    ) -> Answer {
        let Some(params) = path_params(op.template, request.path()) else {
            return answer(error(404, "not_found", "no such path"));
        };
        match (op.id, params.as_slice()) {
            ("getUser", _) => answer(user(caller)),
            ("listRepos", _) => answer(list_repos(request.query())),
            ("getRepo", [owner, name]) => answer(match find_repo(owner, name) {
                Some(repo) if drift => json_answer(200, &drifted_repo_json(repo)),
                Some(repo) => json_answer(200, &repo_json(repo)),
                None => error(404, "not_found", "no such repository"),
            }),
            ("createIssue", [owner, name]) => self.create_issue(owner, name, request, caller),
            _ => answer(error(404, "not_found", "no such path")),
        }
    }

    fn create_issue(
        &mut self,
        owner: &str,
        name: &str,
        request: &Request,
        caller: &Caller,
    ) -> Answer {
        let key = request.header("idempotency-key").map(str::to_owned);
        if key
            .as_ref()
            .is_some_and(|k| k.is_empty() || k.len() > MAX_KEY)
        {
            return answer(error(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 characters",
            ));
        }
        let fingerprint = {
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            ctx.update(request.method.as_bytes());
            ctx.update(b" ");
            ctx.update(request.target.as_bytes());
            ctx.update(b"\n");
            ctx.update(&request.body);
            ctx.finish().as_ref().to_vec()
        };
        let slot = key.map(|k| (caller.subject.clone(), k));
        if let Some(stored) = slot.as_ref().and_then(|s| self.idempotency.get(s)) {
            if stored.fingerprint != fingerprint {
                return answer(error(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request",
                ));
            }
            return Answer {
                fault: stored
                    .answer
                    .clone()
                    .with_header("idempotent-replayed", "true"),
                replayed: true,
            };
        }
        let fault = self.open_issue(owner, name, &request.body);
        if let Some(slot) = slot {
            self.idempotency.insert(
                slot,
                Stored {
                    fingerprint,
                    answer: fault.clone(),
                },
            );
        }
        answer(fault)
    }

    fn open_issue(&mut self, owner: &str, name: &str, body: &[u8]) -> Fault {
        let Some(repo) = find_repo(owner, name) else {
            return error(404, "not_found", "no such repository");
        };
        let Ok(Value::Object(input)) = serde_json::from_slice::<Value>(body) else {
            return error(400, "invalid_json", "the body must be a JSON object");
        };
        let title = match input.get("title") {
            Some(Value::String(t)) if !t.trim().is_empty() && t.chars().count() <= MAX_TITLE => {
                t.clone()
            }
            _ => {
                return error(
                    422,
                    "validation_failed",
                    "title must be a non-empty string of at most 256 characters",
                )
            }
        };
        let text = match input.get("body") {
            None | Some(Value::Null) => None,
            Some(Value::String(b)) => Some(b.clone()),
            Some(_) => return error(422, "validation_failed", "body must be a string"),
        };
        let opened = self
            .issues
            .entry(format!("{USER_LOGIN}/{}", repo.name))
            .or_default();
        *opened += 1;
        json_answer(
            201,
            &json!({"number": *opened, "title": title, "body": text, "state": "open"}),
        )
    }
}

fn user(caller: &Caller) -> Fault {
    let body = if caller.subject == USER_LOGIN {
        json!({"login": USER_LOGIN, "name": USER_NAME, "plan": "pro"})
    } else {
        json!({"login": caller.subject, "name": format!("{} (service account)", caller.subject), "plan": "team"})
    };
    json_answer(200, &body)
}

fn list_repos(query: &str) -> Fault {
    let mut limit: usize = 10;
    let mut after: Option<String> = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => {
                    return error(
                        400,
                        "invalid_request",
                        "limit must be an integer from 1 to 100",
                    )
                }
            },
            "starting_after" => after = Some(v.into_owned()),
            _ => {}
        }
    }
    let start = match after {
        None => 0,
        Some(id) => match REPOS.iter().position(|r| r.id == id) {
            Some(i) => i + 1,
            None => {
                return error(
                    400,
                    "invalid_cursor",
                    "starting_after is not the id of a repository",
                )
            }
        },
    };
    let page: Vec<Value> = REPOS
        .iter()
        .skip(start)
        .take(limit)
        .map(repo_json)
        .collect();
    let has_more = start + page.len() < REPOS.len();
    json_answer(200, &json!({"data": page, "has_more": has_more}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_method_and_template() {
        assert!(matches!(route("GET", "/repos/ada/x"), Route::Found(op) if op.id == "getRepo"));
        assert!(matches!(
            route("DELETE", "/repos/ada/x"),
            Route::WrongMethod("GET")
        ));
        assert!(matches!(route("GET", "/nope"), Route::NotFound));
        assert_eq!(
            path_params("/repos/{owner}/{repo}", "/repos/ada/a%20b"),
            Some(vec!["ada".to_owned(), "a b".to_owned()])
        );
    }
}
