//! The `wharf` command-line tool: the generator front end (`generate`,
//! `inspect`), credentials on a developer's machine (`login`, `token`,
//! `key`) and a sandbox provider to try them on (`sandbox`), webhooks
//! (`webhook verify|sign|dlq`), the outbox (`outbox status`) and
//! operations (`status`, `alerts`).

mod alerts;
mod auth_config;
mod dlq;
mod generate;
mod key;
mod login;
mod progress;
mod provider;
mod sandbox;
mod shaping;
mod status;
mod summary;
mod time_text;
mod token;
mod token_store;
mod webhook;

use clap::{Parser, Subcommand};
use generate::{Selection, Target};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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

/// Where an OAuth verb finds its integrations.
#[derive(clap::Args)]
struct ConfigArg {
    /// The config file naming the integrations (see `wharf login --help`).
    #[arg(long, value_name = "FILE", default_value = auth_config::DEFAULT_PATH)]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Generate Rust from an OpenAPI 3.0/3.1 document (JSON or YAML): a
    /// module file (`--out`) or a standalone crate (`--crate`).
    Generate {
        /// The spec file.
        spec: PathBuf,
        /// Write one module file here (usable with `include!` or as a
        /// module); `-` writes it to standard output.
        #[arg(long, value_name = "FILE.rs", conflicts_with = "crate_dir")]
        out: Option<PathBuf>,
        /// Write a standalone crate into this directory (Cargo.toml, src/lib.rs).
        #[arg(long = "crate", value_name = "DIR")]
        crate_dir: Option<PathBuf>,
        /// The crate's package name (default: from the spec's title).
        #[arg(long, requires = "crate_dir")]
        name: Option<String>,
        /// The crate depends on wharf at this path (default: the source
        /// this wharf was built from, when it is still there).
        #[arg(
            long,
            value_name = "PATH",
            requires = "crate_dir",
            conflicts_with = "wharf_version"
        )]
        wharf_path: Option<PathBuf>,
        /// The crate depends on this published version of wharf.
        #[arg(long, value_name = "VERSION", requires = "crate_dir")]
        wharf_version: Option<String>,
        #[command(flatten)]
        selection: Selection,
        /// Print only the count of warnings, not each one.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Print a spec's operations (method, path, scopes, idempotency,
    /// pagination) and what was degraded.
    Inspect {
        /// The spec file.
        spec: PathBuf,
        #[command(flatten)]
        selection: Selection,
    },
    /// Sign in to an integration in the browser (OAuth authorization code
    /// with PKCE, redirected to 127.0.0.1) and store the tokens encrypted.
    #[command(after_long_help = auth_config::FORMAT_HELP)]
    Login {
        /// The integration's name in the config file.
        integration: String,
        #[command(flatten)]
        config: ConfigArg,
        /// Ask for this scope instead of the configured ones; repeatable.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Do not start a browser; print the URL to open instead.
        #[arg(long)]
        no_browser: bool,
        /// Give up when the sign-in is not finished within this time
        /// (`90s`, `5m`, `1h`; a bare number is seconds).
        #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = time_text::parse_duration)]
        timeout: Duration,
    },
    /// Show, refresh or revoke the tokens `wharf login` stored.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Store, check or delete a provider's API key (or basic password,
    /// or static token), encrypted beside the tokens of `wharf login`.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Verify or sign a webhook delivery (the body on stdin).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// The outbox of outbound messages.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Run the embedded sandbox provider (an OAuth server with RFC 8414
    /// metadata and the Harbor API of specs/sandbox.yaml) until Ctrl-C,
    /// printing the wharf.yaml entry that logs in to it.
    Sandbox {
        /// The loopback address to listen on (port 0: any free port).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4000")]
        listen: std::net::SocketAddr,
    },
    /// Print a status page (`wharf::observe::StatusPage`) in the terminal:
    /// exits 0 when all is healthy, 3 when something needs attention, 1
    /// when the page cannot be read.
    Status {
        /// The page (`http://127.0.0.1:9464/status`) or its `status.json`;
        /// plain HTTP to loopback only.
        #[arg(long, value_name = "URL")]
        url: String,
    },
    /// Write Prometheus alerting rules for wharf's metrics: one group per
    /// integration (error rate, p99 latency, breaker, rate limiting, retry
    /// budget, dead letters, queues, drift, credentials, health checks).
    Alerts {
        /// The rules file to write; `-` writes to standard output.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// An integration to alert on; repeatable.
        #[arg(long = "integration", value_name = "NAME", required = true)]
        integrations: Vec<String>,
        /// Thresholds to use instead of the defaults (YAML; see the README's
        /// alert table for the fields).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Per endpoint: pending, in flight, dead, and the oldest waiting
    /// message's age.
    Status {
        /// The store: `sqlite:PATH` or a `postgres://` URL.
        #[arg(long, value_name = "URL")]
        store: String,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Check a delivery: prints `valid` and exits 0, or `invalid: <reason>`
    /// and exits 1 (2 for a usage error).
    Verify {
        #[command(flatten)]
        common: webhook::Common,
        /// Check timestamps against this time instead of the clock.
        #[arg(long, value_name = "UNIX_SECONDS")]
        now: Option<u64>,
        /// A header of the delivery, `Name: value`; repeatable.
        #[arg(long = "header", value_name = "'Name: value'", value_parser = webhook::parse_header)]
        headers: Vec<(wharf::http::HeaderName, wharf::http::HeaderValue)>,
    },
    /// Print the headers that sign the body, one `Name: value` per line
    /// (for Twilio, the body is the form-encoded parameters).
    Sign {
        #[command(flatten)]
        common: webhook::Common,
        /// The event id (default: a new random one).
        #[arg(long)]
        id: Option<String>,
        /// The signed time (default: now).
        #[arg(long, value_name = "UNIX_SECONDS")]
        timestamp: Option<i64>,
    },
    /// The dead-letter queue of a webhook store: list, inspect, replay.
    #[command(subcommand)]
    Dlq(DlqCommand),
}

#[derive(Subcommand)]
enum DlqCommand {
    /// One line per dead event, its id first.
    List {
        #[command(flatten)]
        selection: dlq::Selection,
        /// Print at most this many.
        #[arg(long, default_value_t = dlq::DEFAULT_LIMIT)]
        limit: usize,
    },
    /// Everything kept about a dead event: its error, attempts and body.
    Inspect {
        /// The store: `sqlite:PATH` or a `postgres://` URL.
        #[arg(long, value_name = "URL")]
        store: String,
        #[arg(long)]
        id: String,
    },
    /// Put dead events back for processing (attempts start again).
    #[command(group(clap::ArgGroup::new("which").required(true).args(["id", "all", "since"])))]
    Replay {
        #[command(flatten)]
        selection: dlq::Selection,
        /// The event with this id.
        #[arg(long)]
        id: Option<String>,
        /// Every dead event (that matches --source/--until, if given).
        #[arg(long)]
        all: bool,
    },
}

/// How an app finds a stored key, for `wharf key --help`.
const KEY_HELP: &str = "\
NAME is what the app passes to KeySource::from_store, by convention
`integration:scheme` (e.g. `stripe:secret_key`, `twilio:basic`). The store
is the `store:` directory of the config file (default .wharf/tokens; the
config file may be absent), encrypted with WHARF_TOKEN_KEY or the key file
<store>/token.key. The key is never printed.";

#[derive(Subcommand)]
enum KeyCommand {
    /// Store a key: one line from standard input, or --from-env VAR.
    /// Setting it again replaces it (running apps rotate to it with
    /// KeySource::reload_from).
    #[command(after_long_help = KEY_HELP)]
    Set {
        name: String,
        #[command(flatten)]
        config: ConfigArg,
        /// Read the key from this environment variable instead of stdin.
        #[arg(long, value_name = "VAR")]
        from_env: Option<String>,
    },
    /// Whether a key is stored under NAME, its length and when it was
    /// saved (exit 1 when none is).
    #[command(after_long_help = KEY_HELP)]
    Status {
        name: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Delete the key stored under NAME.
    #[command(after_long_help = KEY_HELP)]
    Delete {
        name: String,
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Whether tokens are stored for an integration: scopes, when the
    /// access token expires, whether a refresh token exists, and the
    /// store file. Exits non-zero when nothing is stored.
    #[command(after_long_help = auth_config::FORMAT_HELP)]
    Status {
        /// The integration's name in the config file.
        integration: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Use the refresh token now (refresh grant) and store what the server
    /// returns, including a rotated refresh token.
    #[command(after_long_help = auth_config::FORMAT_HELP)]
    Refresh {
        /// The integration's name in the config file.
        integration: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Revoke the stored tokens at the provider (RFC 7009) when it has a
    /// revocation endpoint, then delete them locally. When revocation
    /// fails, the tokens are kept so it can be retried.
    #[command(after_long_help = auth_config::FORMAT_HELP)]
    Revoke {
        /// The integration's name in the config file.
        integration: String,
        #[command(flatten)]
        config: ConfigArg,
        /// Only delete the local copy; do not contact the provider.
        #[arg(long)]
        local_only: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate {
            spec,
            out,
            crate_dir,
            name,
            wharf_path,
            wharf_version,
            selection,
            quiet,
        } => {
            let target = match (out, crate_dir) {
                (Some(file), _) if file.as_os_str() == "-" => Target::Stdout,
                (Some(file), _) => Target::File(file),
                (None, Some(dir)) => Target::Crate {
                    dir,
                    name,
                    wharf_path,
                    wharf_version,
                },
                (None, None) => {
                    eprintln!(
                        "error: say where to write: --out FILE.rs (a module file), --out - (standard output) or --crate DIR (a standalone crate)"
                    );
                    return ExitCode::from(2);
                }
            };
            generate::generate(&spec, &target, &selection, quiet)
        }
        Command::Inspect { spec, selection } => generate::inspect(&spec, &selection),
        Command::Login {
            integration,
            config,
            scopes,
            no_browser,
            timeout,
        } => run_async(login::run(login::LoginArgs {
            config: config.config,
            integration,
            scopes,
            no_browser,
            timeout,
        })),
        Command::Token(TokenCommand::Status {
            integration,
            config,
        }) => run_async(token::status(config.config, integration)),
        Command::Token(TokenCommand::Refresh {
            integration,
            config,
        }) => run_async(token::refresh(config.config, integration)),
        Command::Token(TokenCommand::Revoke {
            integration,
            config,
            local_only,
        }) => run_async(token::revoke(config.config, integration, local_only)),
        Command::Key(KeyCommand::Set {
            name,
            config,
            from_env,
        }) => run_async(key::set(config.config, name, from_env)),
        Command::Key(KeyCommand::Status { name, config }) => {
            run_async(key::status(config.config, name))
        }
        Command::Key(KeyCommand::Delete { name, config }) => {
            run_async(key::delete(config.config, name))
        }
        Command::Webhook(WebhookCommand::Verify {
            common,
            now,
            headers,
        }) => webhook::verify(common, now, headers),
        Command::Webhook(WebhookCommand::Sign {
            common,
            id,
            timestamp,
        }) => webhook::sign(common, id, timestamp),
        Command::Sandbox { listen } => with_runtime(sandbox::run(listen)),
        Command::Status { url } => with_runtime(status::run(&url)),
        Command::Alerts {
            out,
            integrations,
            config,
        } => alerts::run(&out, &integrations, config.as_deref()),
        Command::Outbox(OutboxCommand::Status { store }) => run_async(dlq::outbox_status(store)),
        Command::Webhook(WebhookCommand::Dlq(DlqCommand::List { selection, limit })) => {
            run_async(dlq::list(selection, limit))
        }
        Command::Webhook(WebhookCommand::Dlq(DlqCommand::Inspect { store, id })) => {
            run_async(dlq::inspect(store, id))
        }
        Command::Webhook(WebhookCommand::Dlq(DlqCommand::Replay { selection, id, all })) => {
            run_async(dlq::replay(selection, id, all))
        }
    }
}

/// Runs an OAuth verb on a single-threaded runtime (one login, one
/// request at a time) and turns its error into one line on stderr.
fn run_async(verb: impl std::future::Future<Output = Result<(), String>>) -> ExitCode {
    with_runtime(async {
        match verb.await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Runs `verb` on a current-thread tokio runtime.
fn with_runtime(verb: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(verb),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
