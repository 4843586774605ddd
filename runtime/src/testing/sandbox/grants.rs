//! The authorization server's memory: grants, and the codes and tokens
//! issued from them. Expiry runs on real time (`std::time::Instant`), so
//! the sandbox behaves the same whatever clock a test pauses.

use super::log::RevocationCause;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Authorization codes are good for this long (RFC 6749 §4.1.2: short).
const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// A consent page's decision must come within this.
const CONSENT_LIFETIME: Duration = Duration::from_secs(600);

/// An unguessable value with a readable prefix (`hba_` access token, ...),
/// from the OS generator through two v4 UUIDs (244 random bits).
pub(super) fn random(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Joins scopes the way responses carry them.
pub(super) fn scope_text(scopes: &BTreeSet<String>) -> String {
    scopes
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// `BASE64URL(SHA256(verifier))`, the S256 challenge (RFC 7636 §4.2).
pub(super) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// One user's (or service's) authorization of one client.
struct Grant {
    client_id: String,
    subject: String,
    scopes: BTreeSet<String>,
    alive: bool,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scopes: BTreeSet<String>,
    subject: String,
    expires: Instant,
    /// Set at the first exchange attempt: codes are single use.
    used: bool,
    /// The grant its exchange created, revoked if the code comes back.
    grant: Option<u64>,
}

struct AccessToken {
    grant: u64,
    scopes: BTreeSet<String>,
    iat: u64,
    exp: u64,
    expires: Instant,
    revoked: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    Active,
    /// Exchanged for a newer one; using it again is theft (or a bug).
    Rotated,
    Revoked,
}

struct RefreshToken {
    grant: u64,
    state: RefreshState,
}

/// An authorization request waiting for the consent page's decision.
#[derive(Clone)]
pub(super) struct PendingConsent {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub challenge: String,
    pub scopes: BTreeSet<String>,
    expires: Instant,
}

impl PendingConsent {
    pub fn new(
        client_id: String,
        redirect_uri: String,
        state: Option<String>,
        challenge: String,
        scopes: BTreeSet<String>,
    ) -> Self {
        PendingConsent {
            client_id,
            redirect_uri,
            state,
            challenge,
            scopes,
            expires: Instant::now() + CONSENT_LIFETIME,
        }
    }
}

/// Tokens of one successful token request.
pub(super) struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: BTreeSet<String>,
}

impl Issued {
    /// The RFC 6749 §5.1 answer.
    pub fn response(&self, lifetime: Duration) -> Value {
        let mut body = json!({
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs().max(1),
            "scope": scope_text(&self.scopes),
        });
        if let (Some(rt), Some(map)) = (&self.refresh_token, body.as_object_mut()) {
            map.insert("refresh_token".into(), Value::String(rt.clone()));
        }
        body
    }
}

/// Why a token request failed: an OAuth error code, a description, and
/// whether it was a reuse that revoked grants.
#[derive(Debug)]
pub(super) struct Refused {
    pub code: &'static str,
    pub description: &'static str,
    /// Set when a used code or rotated refresh token came back.
    pub reuse: Option<RevocationCause>,
    /// Grants that reuse ended.
    pub revoked_grants: usize,
}

fn refused(code: &'static str, description: &'static str) -> Refused {
    Refused {
        code,
        description,
        reuse: None,
        revoked_grants: 0,
    }
}

/// Who an API request acts for.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    pub grant: u64,
    pub subject: String,
    pub scopes: BTreeSet<String>,
}

pub(super) enum AccessCheck {
    Valid(Caller),
    Unknown,
    Expired,
    Revoked,
}

/// What the revocation endpoint did.
pub(super) enum Revoked {
    /// Not a token of this server (RFC 7009 §2.2: still a success).
    Unknown,
    /// A token of another client: refused.
    OtherClient,
    Done {
        token_type: &'static str,
        grants: usize,
    },
}

#[derive(Default)]
pub(super) struct Grants {
    next_grant: u64,
    grants: HashMap<u64, Grant>,
    codes: HashMap<String, Code>,
    consents: HashMap<String, PendingConsent>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
}

impl Grants {
    fn new_grant(&mut self, client_id: &str, subject: &str, scopes: &BTreeSet<String>) -> u64 {
        self.next_grant += 1;
        self.grants.insert(
            self.next_grant,
            Grant {
                client_id: client_id.to_owned(),
                subject: subject.to_owned(),
                scopes: scopes.clone(),
                alive: true,
            },
        );
        self.next_grant
    }

    fn issue_access(
        &mut self,
        grant: u64,
        scopes: &BTreeSet<String>,
        lifetime: Duration,
    ) -> String {
        let token = random("hba_");
        let now = SystemTime::now();
        self.access.insert(
            token.clone(),
            AccessToken {
                grant,
                scopes: scopes.clone(),
                iat: unix(now),
                exp: unix(now + lifetime),
                expires: Instant::now() + lifetime,
                revoked: false,
            },
        );
        token
    }

    fn issue_refresh(&mut self, grant: u64) -> String {
        let token = random("hbr_");
        self.refresh.insert(
            token.clone(),
            RefreshToken {
                grant,
                state: RefreshState::Active,
            },
        );
        token
    }

    /// Ends a grant: its access and refresh tokens stop working. Returns
    /// whether it was alive.
    fn end_grant(&mut self, id: u64) -> bool {
        match self.grants.get_mut(&id) {
            Some(g) if g.alive => {
                g.alive = false;
                true
            }
            _ => false,
        }
    }

    fn grant_alive(&self, id: u64) -> bool {
        self.grants.get(&id).is_some_and(|g| g.alive)
    }

    /// A code for an approved authorization request.
    pub fn new_code(&mut self, consent: &PendingConsent, subject: &str) -> String {
        let now = Instant::now();
        // Expired codes and consents are of no use to anyone: drop them so
        // a long-running sandbox does not grow without end.
        self.codes
            .retain(|_, c| c.expires > now || c.grant.is_some());
        self.consents.retain(|_, c| c.expires > now);
        let code = random("hbc_");
        self.codes.insert(
            code.clone(),
            Code {
                client_id: consent.client_id.clone(),
                redirect_uri: consent.redirect_uri.clone(),
                challenge: consent.challenge.clone(),
                scopes: consent.scopes.clone(),
                subject: subject.to_owned(),
                expires: now + CODE_LIFETIME,
                used: false,
                grant: None,
            },
        );
        code
    }

    pub fn hold_consent(&mut self, consent: PendingConsent) -> String {
        let id = random("hbq_");
        self.consents.insert(id.clone(), consent);
        id
    }

    /// The pending request of a consent page, once.
    pub fn take_consent(&mut self, id: &str) -> Option<PendingConsent> {
        self.consents
            .remove(id)
            .filter(|c| c.expires > Instant::now())
    }

    /// The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6).
    pub fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        lifetime: Duration,
        with_refresh: bool,
    ) -> Result<Issued, Refused> {
        let Some(record) = self.codes.get_mut(code) else {
            return Err(refused("invalid_grant", "unknown authorization code"));
        };
        if record.client_id != client_id {
            return Err(refused(
                "invalid_grant",
                "the code was issued to another client",
            ));
        }
        if record.used {
            // RFC 6749 §4.1.2: a code used twice revokes what it gave.
            let revoked = record.grant.is_some_and(|g| self.end_grant(g));
            return Err(Refused {
                code: "invalid_grant",
                description: "the authorization code was already used",
                reuse: Some(RevocationCause::CodeReuse),
                revoked_grants: usize::from(revoked),
            });
        }
        record.used = true;
        if record.expires <= Instant::now() {
            return Err(refused("invalid_grant", "the authorization code expired"));
        }
        if redirect_uri != Some(record.redirect_uri.as_str()) {
            return Err(refused(
                "invalid_grant",
                "redirect_uri differs from the authorization request's",
            ));
        }
        let verified = verifier.is_some_and(|v| valid_verifier(v) && s256(v) == record.challenge);
        if !verified {
            return Err(refused("invalid_grant", "PKCE verification failed"));
        }
        let (subject, scopes) = (record.subject.clone(), record.scopes.clone());
        let grant = self.new_grant(client_id, &subject, &scopes);
        if let Some(record) = self.codes.get_mut(code) {
            record.grant = Some(grant);
        }
        Ok(Issued {
            access_token: self.issue_access(grant, &scopes, lifetime),
            refresh_token: with_refresh.then(|| self.issue_refresh(grant)),
            scopes,
        })
    }

    /// The refresh token grant (RFC 6749 §6), with rotation and reuse
    /// detection when `rotate`.
    pub fn refresh(
        &mut self,
        token: &str,
        client_id: &str,
        requested: Option<BTreeSet<String>>,
        rotate: bool,
        lifetime: Duration,
    ) -> Result<Issued, Refused> {
        let Some(record) = self.refresh.get(token) else {
            return Err(refused("invalid_grant", "unknown refresh token"));
        };
        let (grant_id, state) = (record.grant, record.state);
        let Some(grant) = self.grants.get(&grant_id) else {
            return Err(refused("invalid_grant", "unknown refresh token"));
        };
        if grant.client_id != client_id {
            return Err(refused(
                "invalid_grant",
                "the refresh token was issued to another client",
            ));
        }
        match state {
            RefreshState::Rotated => {
                let revoked = self.end_grant(grant_id);
                return Err(Refused {
                    code: "invalid_grant",
                    description: "refresh token reused; the grant is revoked",
                    reuse: Some(RevocationCause::RefreshTokenReuse),
                    revoked_grants: usize::from(revoked),
                });
            }
            RefreshState::Revoked => {
                return Err(refused("invalid_grant", "the refresh token was revoked"))
            }
            RefreshState::Active if !grant.alive => {
                return Err(refused("invalid_grant", "the grant was revoked"))
            }
            RefreshState::Active => {}
        }
        let scopes = match requested {
            None => grant.scopes.clone(),
            Some(asked) if asked.is_subset(&grant.scopes) && !asked.is_empty() => asked,
            Some(_) => {
                return Err(refused(
                    "invalid_scope",
                    "a refresh may narrow the grant's scopes, never widen them",
                ))
            }
        };
        let refresh_token = if rotate {
            if let Some(old) = self.refresh.get_mut(token) {
                old.state = RefreshState::Rotated;
            }
            self.issue_refresh(grant_id)
        } else {
            token.to_owned()
        };
        Ok(Issued {
            access_token: self.issue_access(grant_id, &scopes, lifetime),
            refresh_token: Some(refresh_token),
            scopes,
        })
    }

    /// The client credentials grant (RFC 6749 §4.4): access only.
    pub fn client_credentials(
        &mut self,
        client_id: &str,
        scopes: BTreeSet<String>,
        lifetime: Duration,
    ) -> Issued {
        let subject = service_account(client_id);
        let grant = self.new_grant(client_id, &subject, &scopes);
        Issued {
            access_token: self.issue_access(grant, &scopes, lifetime),
            refresh_token: None,
            scopes,
        }
    }

    /// What a bearer token is worth now.
    pub fn check_access(&self, token: &str) -> AccessCheck {
        let Some(record) = self.access.get(token) else {
            return AccessCheck::Unknown;
        };
        let Some(grant) = self.grants.get(&record.grant) else {
            return AccessCheck::Unknown;
        };
        if record.revoked || !grant.alive {
            AccessCheck::Revoked
        } else if record.expires <= Instant::now() {
            AccessCheck::Expired
        } else {
            AccessCheck::Valid(Caller {
                grant: record.grant,
                subject: grant.subject.clone(),
                scopes: record.scopes.clone(),
            })
        }
    }

    /// RFC 7009 §2.1 for `client_id`.
    pub fn revoke(&mut self, token: &str, client_id: &str) -> Revoked {
        let owner = |grants: &HashMap<u64, Grant>, id: u64| {
            grants.get(&id).map(|g| g.client_id.as_str() == client_id)
        };
        if let Some(record) = self.refresh.get(token) {
            let grant = record.grant;
            if owner(&self.grants, grant) != Some(true) {
                return Revoked::OtherClient;
            }
            if let Some(record) = self.refresh.get_mut(token) {
                record.state = RefreshState::Revoked;
            }
            let ended = self.end_grant(grant);
            return Revoked::Done {
                token_type: "refresh_token",
                grants: usize::from(ended),
            };
        }
        if let Some(grant) = self.access.get(token).map(|r| r.grant) {
            if owner(&self.grants, grant) != Some(true) {
                return Revoked::OtherClient;
            }
            if let Some(record) = self.access.get_mut(token) {
                record.revoked = true;
            }
            return Revoked::Done {
                token_type: "access_token",
                grants: 0,
            };
        }
        Revoked::Unknown
    }

    /// Ends every grant (the user revoked the app). Returns how many ended.
    pub fn revoke_all(&mut self) -> usize {
        let ids: Vec<u64> = self.grants.keys().copied().collect();
        ids.into_iter().filter(|id| self.end_grant(*id)).count()
    }

    /// Makes every access token expired now, as if their lifetime passed.
    pub fn expire_access(&mut self) {
        let now = Instant::now();
        let wall = unix(SystemTime::now());
        for record in self.access.values_mut() {
            record.expires = record.expires.min(now);
            record.exp = record.exp.min(wall);
        }
    }

    /// The RFC 7662 answer for a token.
    pub fn introspect(&self, token: &str, issuer: &str) -> Value {
        if let AccessCheck::Valid(caller) = self.check_access(token) {
            if let (Some(record), Some(grant)) =
                (self.access.get(token), self.grants.get(&caller.grant))
            {
                return json!({
                    "active": true,
                    "token_type": "access_token",
                    "scope": scope_text(&record.scopes),
                    "client_id": grant.client_id,
                    "sub": grant.subject,
                    "username": grant.subject,
                    "iss": issuer,
                    "iat": record.iat,
                    "exp": record.exp,
                });
            }
        }
        if let Some(record) = self.refresh.get(token) {
            if record.state == RefreshState::Active && self.grant_alive(record.grant) {
                if let Some(grant) = self.grants.get(&record.grant) {
                    return json!({
                        "active": true,
                        "token_type": "refresh_token",
                        "scope": scope_text(&grant.scopes),
                        "client_id": grant.client_id,
                        "sub": grant.subject,
                        "iss": issuer,
                    });
                }
            }
        }
        json!({"active": false})
    }
}

/// The subject of a client credentials grant: the client's own account.
pub(super) fn service_account(client_id: &str) -> String {
    format!("{client_id}[bot]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256(VERIFIER),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn codes_are_single_use_and_reuse_revokes_the_grant() {
        let mut g = Grants::default();
        let consent = PendingConsent::new(
            "app".into(),
            "http://127.0.0.1:1/cb".into(),
            None,
            s256(VERIFIER),
            scopes(&["repo:read"]),
        );
        let code = g.new_code(&consent, "ada");
        let cb = Some("http://127.0.0.1:1/cb");
        let minute = Duration::from_secs(60);
        let first = g
            .redeem_code(&code, "app", cb, Some(VERIFIER), minute, true)
            .ok()
            .unwrap();
        assert!(matches!(
            g.check_access(&first.access_token),
            AccessCheck::Valid(_)
        ));
        let again = g.redeem_code(&code, "app", cb, Some(VERIFIER), minute, true);
        assert!(matches!(
            again,
            Err(Refused {
                revoked_grants: 1,
                ..
            })
        ));
        assert!(matches!(
            g.check_access(&first.access_token),
            AccessCheck::Revoked
        ));
    }

    #[test]
    fn rotation_retires_old_refresh_tokens_and_reuse_ends_the_grant() {
        let mut g = Grants::default();
        let minute = Duration::from_secs(60);
        let consent = PendingConsent::new(
            "app".into(),
            "http://127.0.0.1:1/cb".into(),
            None,
            s256(VERIFIER),
            scopes(&["repo:read", "repo:write"]),
        );
        let code = g.new_code(&consent, "ada");
        let first = g
            .redeem_code(
                &code,
                "app",
                Some("http://127.0.0.1:1/cb"),
                Some(VERIFIER),
                minute,
                true,
            )
            .ok()
            .unwrap();
        let rt = first.refresh_token.unwrap();
        let narrowed = g
            .refresh(&rt, "app", Some(scopes(&["repo:read"])), true, minute)
            .ok()
            .unwrap();
        assert_eq!(narrowed.scopes, scopes(&["repo:read"]));
        let rt2 = narrowed.refresh_token.unwrap();
        assert_ne!(rt, rt2);
        let wider = g.refresh(&rt2, "app", Some(scopes(&["user:read"])), true, minute);
        assert!(matches!(
            wider,
            Err(Refused {
                code: "invalid_scope",
                ..
            })
        ));
        let reuse = g.refresh(&rt, "app", None, true, minute);
        assert!(matches!(
            reuse,
            Err(Refused {
                revoked_grants: 1,
                ..
            })
        ));
        assert!(g.refresh(&rt2, "app", None, true, minute).is_err());
        assert!(matches!(
            g.check_access(&narrowed.access_token),
            AccessCheck::Revoked
        ));
    }
}
