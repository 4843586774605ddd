//! The sandbox's HTTP side: the accept loop, routing between the OAuth
//! endpoints and the API, and the API's request path (bearer token, API
//! key or basic account, scope,
//! scripted faults, the answer with rate-limit headers).

use super::super::fault::Fault;
use super::super::http_server::{perform, Ending};
use super::super::wire::{read_request, write_response, Received, WireRequest};
use super::api::{self, ApiState, Route};
use super::config::{SandboxConfig, API_KEY_HEADER};
use super::faults::{error, SandboxFaults};
use super::grants::{AccessCheck, Caller, Grants};
use super::log::{ApiRequest, SandboxLog, TokenCheck};
use super::oauth;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A client that connects and sends nothing is dropped after this.
const READ_AT_MOST: Duration = Duration::from_secs(30);

/// Everything the connections share. Locks are taken one at a time and
/// never held across an await.
pub(super) struct Shared {
    pub config: SandboxConfig,
    /// `http://127.0.0.1:PORT`, the issuer and the API's base URL.
    pub issuer: String,
    pub faults: SandboxFaults,
    grants: Mutex<Grants>,
    api: Mutex<ApiState>,
    log: Mutex<SandboxLog>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the sandbox down with it.
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Shared {
    pub fn new(config: SandboxConfig, issuer: String) -> Self {
        Shared {
            config,
            issuer,
            faults: SandboxFaults::default(),
            grants: Mutex::new(Grants::default()),
            api: Mutex::new(ApiState::default()),
            log: Mutex::new(SandboxLog::default()),
        }
    }

    pub fn grants(&self) -> MutexGuard<'_, Grants> {
        lock(&self.grants)
    }

    pub fn record(&self, f: impl FnOnce(&mut SandboxLog)) {
        f(&mut lock(&self.log));
    }

    pub fn log(&self) -> SandboxLog {
        lock(&self.log).clone()
    }

    /// The answer to one request, as a fault for [`perform`] to carry out.
    fn handle(&self, request: &WireRequest) -> Fault {
        if request.chunked {
            return error(
                411,
                "length_required",
                "send the body with a content-length",
            );
        }
        let path = request.path();
        let endpoint: Option<fn(&Shared, &WireRequest) -> Fault> = match path {
            oauth::METADATA_PATH => Some(|s, _| oauth::metadata(s)),
            oauth::AUTHORIZE_PATH => Some(oauth::authorize),
            oauth::CONSENT_PATH => Some(oauth::consent),
            oauth::TOKEN_PATH => Some(oauth::token),
            oauth::REVOKE_PATH => Some(oauth::revoke),
            oauth::INTROSPECT_PATH => Some(oauth::introspect),
            _ => None,
        };
        let Some(endpoint) = endpoint else {
            return self.api_request(request);
        };
        match self.faults.take(&request.method, path, None) {
            Some(fault) => {
                if commits(&fault) {
                    endpoint(self, request);
                }
                fault
            }
            None => endpoint(self, request),
        }
    }

    fn api_request(&self, request: &WireRequest) -> Fault {
        let mut entry = ApiRequest {
            method: request.method.clone(),
            target: crate::redact::url(&request.target),
            operation: None,
            status: 0,
            token: TokenCheck::Missing,
            fault: false,
            replayed: false,
            idempotency_key: request.header("idempotency-key").map(str::to_owned),
        };
        let fault = self.api_answer(request, &mut entry);
        entry.status = status_of(&fault);
        self.record(|log| log.api_requests.push(entry));
        fault
    }

    fn api_answer(&self, request: &WireRequest, entry: &mut ApiRequest) -> Fault {
        let op = match api::route(&request.method, request.path()) {
            Route::Found(op) => op,
            Route::WrongMethod(allowed) => {
                return error(405, "method_not_allowed", "method not allowed here")
                    .with_header("allow", allowed)
            }
            Route::NotFound => return error(404, "not_found", "no such path"),
        };
        entry.operation = Some(op.id);
        let caller = match self.caller(request, entry) {
            Ok(caller) => caller,
            Err(refused) => return refused,
        };
        if !caller.scopes.contains(op.scope) {
            return error(
                403,
                "insufficient_scope",
                &format!("this operation needs the {} scope", op.scope),
            )
            .with_header(
                "www-authenticate",
                &format!(
                    "Bearer realm=\"harbor\", error=\"insufficient_scope\", scope=\"{}\"",
                    op.scope
                ),
            );
        }
        let drift = self.faults.drift();
        if let Some(fault) = self
            .faults
            .take(&request.method, request.path(), Some(op.id))
        {
            entry.fault = true;
            if commits(&fault) {
                lock(&self.api).handle(op, request, &caller, drift);
            }
            return fault;
        }
        let (quota, answer) = {
            let mut api = lock(&self.api);
            let quota = api.rate(&caller.subject);
            let answer = (!quota.exceeded).then(|| api.handle(op, request, &caller, drift));
            (quota, answer)
        };
        let fault = match answer {
            Some(answer) => {
                entry.replayed = answer.replayed;
                answer.fault
            }
            None => error(
                429,
                "rate_limited",
                "the rate limit is spent until the reset",
            )
            .with_header("retry-after", &quota.retry_after().to_string()),
        };
        fault
            .with_header("x-ratelimit-limit", &quota.limit.to_string())
            .with_header("x-ratelimit-remaining", &quota.remaining.to_string())
            .with_header("x-ratelimit-reset", &quota.reset.to_string())
    }

    /// Who a request acts for: an API key in `X-Harbor-Key`, HTTP basic
    /// credentials of an account, or a bearer token, checked.
    fn caller(&self, request: &WireRequest, entry: &mut ApiRequest) -> Result<Caller, Fault> {
        let every_scope = || self.config.scopes.iter().cloned().collect();
        if let Some(key) = request.header(API_KEY_HEADER) {
            if !self.config.api_keys.iter().any(|k| k == key.trim()) {
                entry.token = TokenCheck::Unknown;
                return Err(error(401, "unauthorized", "unknown API key"));
            }
            entry.token = TokenCheck::ApiKey;
            return Ok(Caller {
                grant: 0,
                subject: "api-key".to_owned(),
                scopes: every_scope(),
            });
        }
        let authorization = request.header("authorization").map(str::trim);
        let (scheme, credentials) = authorization
            .and_then(|v| v.split_once(' '))
            .map_or(("", ""), |(s, c)| (s, c.trim()));
        if scheme.eq_ignore_ascii_case("basic") {
            let account = basic_account(credentials).and_then(|(user, password)| {
                self.config
                    .basic_accounts
                    .iter()
                    .find(|(a, t)| *a == user && *t == password)
            });
            let Some((account, _)) = account else {
                entry.token = TokenCheck::Unknown;
                return Err(error(401, "unauthorized", "unknown account or auth token")
                    .with_header("www-authenticate", "Basic realm=\"harbor\""));
            };
            entry.token = TokenCheck::Basic;
            return Ok(Caller {
                grant: 0,
                subject: account.clone(),
                scopes: every_scope(),
            });
        }
        let token = scheme.eq_ignore_ascii_case("bearer").then_some(credentials);
        match token.map(|t| self.grants().check_access(t)) {
            Some(AccessCheck::Valid(caller)) => {
                entry.token = TokenCheck::Valid;
                Ok(caller)
            }
            // RFC 6750 §3.1: no error code when no token was sent.
            None => Err(unauthorized("no access token", None)),
            Some(AccessCheck::Unknown) => {
                entry.token = TokenCheck::Unknown;
                Err(unauthorized("unknown access token", Some("invalid_token")))
            }
            Some(AccessCheck::Expired) => {
                entry.token = TokenCheck::Expired;
                Err(unauthorized(
                    "the access token expired",
                    Some("invalid_token"),
                ))
            }
            Some(AccessCheck::Revoked) => {
                entry.token = TokenCheck::Revoked;
                Err(unauthorized(
                    "the access token was revoked",
                    Some("invalid_token"),
                ))
            }
        }
    }
}

/// `user:password` of a `Basic` authorization.
fn basic_account(credentials: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn unauthorized(message: &str, code: Option<&str>) -> Fault {
    let challenge = match code {
        Some(code) => {
            format!("Bearer realm=\"harbor\", error=\"{code}\", error_description=\"{message}\"")
        }
        None => "Bearer realm=\"harbor\"".to_owned(),
    };
    error(401, "unauthorized", message).with_header("www-authenticate", &challenge)
}

/// Whether the request's effect happens before the fault hides the answer
/// (a reset after commit, a body cut short or stalled).
fn commits(fault: &Fault) -> bool {
    match fault {
        Fault::Latency(_, inner) => commits(inner),
        Fault::Reset { processed } => *processed,
        Fault::StallBody | Fault::Truncated { .. } => true,
        Fault::Respond { .. } | Fault::BlackHole => false,
    }
}

/// The status a fault sends, 0 when it sends none.
fn status_of(fault: &Fault) -> u16 {
    match fault {
        Fault::Respond { status, .. } => *status,
        Fault::Latency(_, inner) => status_of(inner),
        Fault::StallBody => 200,
        Fault::Truncated { status } => *status,
        Fault::Reset { .. } | Fault::BlackHole => 0,
    }
}

/// Accepts connections until the task is aborted; the connections are
/// aborted with it (they live in the `JoinSet`).
pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, shared.clone()));
                }
                // Out of descriptors, say: wait rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let received = match tokio::time::timeout(READ_AT_MOST, read_request(&mut stream)).await {
        Ok(Ok(received)) => received,
        _ => return,
    };
    let ending = match received {
        Received::Request(request) => {
            let fault = shared.handle(&request);
            perform(&mut stream, fault).await
        }
        Received::Refused(status, why) => {
            let body = serde_json::json!({"code": "bad_request", "message": why}).to_string();
            let headers = [("content-type".to_owned(), "application/json".to_owned())];
            write_response(&mut stream, status, &headers, body.as_bytes())
                .await
                .map(|()| Ending::Closed)
        }
        Received::Closed => return,
    };
    if let Ok(Ending::Reset) = ending {
        let _ = stream.set_zero_linger();
    }
}
