//! The config file of the OAuth verbs (`wharf.yaml` in the current
//! directory unless `--config` says otherwise):
//!
//! ```yaml
//! store: .wharf/tokens            # optional, relative to this file
//! integrations:
//!   harbor:
//!     spec: specs/sandbox.yaml    # relative to this file
//!     scheme: harbor_oauth        # optional with one OAuth scheme in the spec
//!     client_id: wharf-quickstart
//!     client_secret_env: HARBOR_SECRET  # optional; the secret's env variable
//!     issuer: http://127.0.0.1:4000     # optional: RFC 8414 discovery
//!     scopes: [user:read, repo:read]    # optional; default: all the scheme's
//!     revocation_url: https://…/revoke  # optional; discovery finds it too
//!     profile: standard           # optional: standard|github|slack|google|microsoft
//! ```
//!
//! Endpoints come from the spec's `components.securitySchemes` (an
//! `oauth2` scheme's flows, or an `openIdConnect` scheme's discovery URL),
//! or from the issuer's metadata when `issuer` is set. Secrets are never in
//! the file: a `client_secret` key is refused.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use wharf::auth::ProviderProfile;

pub(crate) const DEFAULT_PATH: &str = "wharf.yaml";

/// The store directory when the config names none (relative to the file).
const DEFAULT_STORE: &str = ".wharf/tokens";

/// The config format, for `--help`.
pub(crate) const FORMAT_HELP: &str = "\
CONFIG (wharf.yaml in the current directory, or --config FILE):

  store: .wharf/tokens              # optional; encrypted token store directory,
                                    # relative to the config file
  integrations:
    harbor:                         # the name given on the command line
      spec: specs/sandbox.yaml      # OpenAPI document, relative to the config file;
                                    # its securitySchemes give endpoints and scopes
      scheme: harbor_oauth          # optional when the spec has one oauth2 or
                                    # openIdConnect scheme
      client_id: wharf-quickstart
      client_secret_env: HARBOR_SECRET   # optional; the environment variable holding
                                         # the client secret (never put it in the file)
      issuer: http://127.0.0.1:4000      # optional; discover endpoints (RFC 8414 /
                                         # OpenID) instead of the spec's URLs
      scopes: [user:read, repo:read]     # optional; default: every scope of the
                                         # scheme; --scope overrides
      revocation_url: https://example.com/oauth/revoke  # optional; for `token revoke`
                                         # when discovery does not give one
      profile: standard             # optional; token endpoint quirks: standard,
                                    # github, slack, google, microsoft

Either `spec` or `issuer` is required. Tokens are stored encrypted
(XChaCha20-Poly1305), one file per integration, under the key in
WHARF_TOKEN_KEY (`id:` and 64 hex digits) or else in the key file
`<store>/token.key`, created with mode 0600 on the first login. Plain
HTTP is allowed to loopback addresses only; everything else needs HTTPS.";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<PathBuf>,
    #[serde(default)]
    integrations: BTreeMap<String, RawIntegration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntegration {
    spec: Option<PathBuf>,
    scheme: Option<String>,
    client_id: String,
    client_secret_env: Option<String>,
    issuer: Option<String>,
    scopes: Option<Vec<String>>,
    revocation_url: Option<String>,
    profile: Option<String>,
    /// Accepted by the parser only to be refused with a clear message; its
    /// value is never read or shown.
    #[serde(default)]
    client_secret: Option<serde::de::IgnoredAny>,
}

/// A parsed config file.
#[derive(Debug)]
pub(crate) struct AuthConfig {
    /// The file, as given.
    pub path: PathBuf,
    /// The encrypted store's directory (resolved against the file's).
    pub store_dir: PathBuf,
    integrations: BTreeMap<String, RawIntegration>,
}

/// One integration, with paths resolved and the secret read.
#[derive(Debug)]
pub(crate) struct Integration {
    pub name: String,
    pub spec: Option<PathBuf>,
    pub scheme: Option<String>,
    pub client_id: String,
    /// The variable name, for messages; the value is read by [`Integration::client_secret`].
    pub client_secret_env: Option<String>,
    pub issuer: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub revocation_url: Option<String>,
    pub profile: ProviderProfile,
}

impl AuthConfig {
    pub(crate) fn load(path: &Path) -> Result<AuthConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "config file {} not found (create it or give --config FILE; see `wharf login --help`)",
                    path.display()
                )
            } else {
                format!("cannot read config file {}: {e}", path.display())
            }
        })?;
        AuthConfig::parse(path, &text)
    }

    pub(crate) fn parse(path: &Path, text: &str) -> Result<AuthConfig, String> {
        let raw: RawConfig = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("config file {}: {e}", path.display()))?;
        let base = base_dir(path);
        let store_dir = base.join(raw.store.unwrap_or_else(|| PathBuf::from(DEFAULT_STORE)));
        // Absolute, so messages name the file wherever they are read.
        let store_dir = std::path::absolute(&store_dir).unwrap_or(store_dir);
        Ok(AuthConfig {
            path: path.to_owned(),
            store_dir,
            integrations: raw.integrations,
        })
    }

    /// The command to sign in again, with `--config` when it is not the
    /// default file.
    pub(crate) fn login_command(&self, integration: &str) -> String {
        if self.path == Path::new(DEFAULT_PATH) {
            format!("wharf login {integration}")
        } else {
            format!("wharf login {integration} --config {}", self.path.display())
        }
    }

    /// The integration `name`, checked; an unknown name lists the known ones.
    pub(crate) fn integration(&self, name: &str) -> Result<Integration, String> {
        let file = self.path.display();
        let Some(raw) = self.integrations.get(name) else {
            let known: Vec<&str> = self.integrations.keys().map(String::as_str).collect();
            return Err(if known.is_empty() {
                format!("no integration {name:?}: {file} defines no integrations")
            } else {
                format!(
                    "no integration {name:?} in {file}; it has: {}",
                    known.join(", ")
                )
            });
        };
        let at = format!("integration {name:?} in {file}");
        if raw.client_secret.is_some() {
            return Err(format!(
                "{at} has `client_secret`: secrets do not go in the config file; put it in an environment variable and name it with `client_secret_env`"
            ));
        }
        if raw.spec.is_none() && raw.issuer.is_none() {
            return Err(format!(
                "{at} needs `spec` (an OpenAPI document with the OAuth scheme) or `issuer` (for discovery)"
            ));
        }
        if raw.client_id.trim().is_empty() {
            return Err(format!("{at} has an empty `client_id`"));
        }
        let profile = match raw.profile.as_deref() {
            None | Some("standard") => ProviderProfile::default(),
            Some("github") => ProviderProfile::github(),
            Some("slack") => ProviderProfile::slack_user(),
            Some("google") => ProviderProfile::google(),
            Some("microsoft") => ProviderProfile::microsoft(),
            Some(other) => {
                return Err(format!(
                    "{at}: unknown profile {other:?} (known: standard, github, slack, google, microsoft)"
                ))
            }
        };
        let base = base_dir(&self.path);
        Ok(Integration {
            name: name.to_owned(),
            spec: raw.spec.as_ref().map(|s| base.join(s)),
            scheme: raw.scheme.clone(),
            client_id: raw.client_id.clone(),
            client_secret_env: raw.client_secret_env.clone(),
            issuer: raw.issuer.clone(),
            scopes: raw.scopes.clone(),
            revocation_url: raw.revocation_url.clone(),
            profile,
        })
    }
}

impl Integration {
    /// The client secret from `client_secret_env`, if one is configured.
    /// Read as late as possible and boxed at once.
    pub(crate) fn client_secret(&self) -> Result<Option<secrecy::SecretString>, String> {
        let Some(var) = &self.client_secret_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Some(value.into())),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(format!(
                "the client secret's environment variable {var} (client_secret_env of integration {:?}) is not set",
                self.name
            )),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "the client secret's environment variable {var} is not valid UTF-8"
            )),
        }
    }
}

/// The directory relative paths in the file are resolved against (empty
/// for a file in the current directory, so paths print as written).
fn base_dir(config: &Path) -> PathBuf {
    config.parent().map(Path::to_owned).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AuthConfig, String> {
        AuthConfig::parse(Path::new("conf/wharf.yaml"), text)
    }

    #[test]
    fn paths_resolve_against_the_config_file() {
        let c = parse("integrations:\n  h:\n    spec: s.yaml\n    client_id: c\n").unwrap();
        assert!(c.store_dir.is_absolute());
        assert!(c.store_dir.ends_with("conf/.wharf/tokens"));
        let i = c.integration("h").unwrap();
        assert_eq!(i.spec.as_deref(), Some(Path::new("conf/s.yaml")));
        let c = parse("store: /var/t\nintegrations: {}\n").unwrap();
        assert_eq!(c.store_dir, Path::new("/var/t"));
    }

    #[test]
    fn mistakes_are_named_with_the_file() {
        let e = parse("integrations:\n  h:\n    client_id: c\n    scope: [a]\n").unwrap_err();
        assert!(
            e.contains("conf/wharf.yaml") && e.contains("unknown field `scope`"),
            "{e}"
        );
        let c = parse("integrations:\n  b:\n    issuer: https://x\n    client_id: c\n  a:\n    issuer: https://y\n    client_id: c\n").unwrap();
        let e = c.integration("nope").unwrap_err();
        assert!(e.contains("conf/wharf.yaml") && e.contains("a, b"), "{e}");
        let c = parse("integrations:\n  h:\n    client_id: c\n").unwrap();
        assert!(c.integration("h").unwrap_err().contains("`spec`"));
    }

    #[test]
    fn a_secret_in_the_file_is_refused_without_being_shown() {
        let c = parse(
            "integrations:\n  h:\n    issuer: https://x\n    client_id: c\n    client_secret: CANARY-FILE-SECRET\n",
        )
        .unwrap();
        let e = c.integration("h").unwrap_err();
        assert!(e.contains("client_secret_env"), "{e}");
        assert!(!e.contains("CANARY") && !format!("{c:?}").contains("CANARY"));
    }
}
