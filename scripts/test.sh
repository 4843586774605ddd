#!/usr/bin/env bash
# wharf's whole test suite, on a fresh machine. Installs what the tests need
# (the npm corpus of real provider specs, Prism, oidc-provider, PostgreSQL,
# Chromium, D-Bus and GNOME Keyring) by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# One clean build: incremental state would only take disk (gigabytes here).
export CARGO_INCREMENTAL=0

# Each step reports the disk left, so a CI machine that runs out says where.
step() { printf '\n==> %s (disk free: %s)\n' "$*" "$(df -h --output=avail . | tail -1 | tr -d ' ')"; }

command -v cargo >/dev/null || { echo "cargo is required"; exit 1; }
command -v npm >/dev/null || { echo "npm (Node 20) is required for the spec corpus"; exit 1; }

step "test peers from npm: Prism (mock server for generated clients), oidc-provider (OAuth server)"
command -v node >/dev/null || { echo "node (Node 20) is required for the test servers"; exit 1; }
bash scripts/install-prism.sh
bash scripts/install-oidc.sh

step "test peers from PyPI and npm: the providers' webhook libraries (standardwebhooks, stripe, slack_sdk, twilio, @octokit/webhooks-methods)"
command -v python3 >/dev/null || { echo "python3 is required for the webhook signature cross-check"; exit 1; }
bash scripts/install-webhook-peers.sh

step "test peers from Debian: PostgreSQL (shared token store), Chromium + driver (browser login, status page), D-Bus + GNOME Keyring (Secret Service keyring), Prometheus + promtool (scrape, alert rules)"
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v dbus-daemon >/dev/null || missing+=(dbus-daemon)
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
ls /usr/lib/postgresql/*/bin/initdb

step "real Swagger 2.0 documents from Debian packages (Docker Engine; Gitea, Bitbucket, Kubernetes, Quay from go-openapi's fixtures)"
bash scripts/install-swagger2-specs.sh
command -v chromium chromedriver dbus-daemon gnome-keyring-daemon prometheus promtool

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

step "no import cycles between the modules of the runtime, the generator, the macros and the CLI"
for src in runtime/src codegen/src macros/src cli/src; do
    python3 scripts/module_cycles.py "$src"
    python3 scripts/module_cycles.py "$src" --depth 1
done

step "real provider specs: every spec of the corpus loads and generates without panic"
cargo build --release -p wharf-corpus
./target/release/wharf-corpus

step "named big specs compile (GitHub x2, GitHub webhooks, Stripe, Kubernetes, Slack, Jira, Twilio, Microsoft Graph; Swagger 2.0: Docker, Gitea, Bitbucket, Kubernetes, Quay)"
# One spec per batch: GitHub or Graph alone take several GB in rustc.
./target/release/wharf-corpus --named --compile --batch 1 --min-compile-rate 100

step "every corpus spec with webhook events compiles (GitHub's webhooks description, callbacks)"
./target/release/wharf-corpus --webhooks --compile --batch 4 --min-compile-rate 100

step "GitHub's webhook payload examples decode into the events generated from its description"
./target/release/wharf-corpus --webhook-examples

step "a seeded random sample of 300 corpus specs compiles (goal >= 98%)"
./target/release/wharf-corpus --compile --sample 300 --seed 1 --min-compile-rate 98

step "the README's main command runs (quickstart on the embedded default)"
cargo run -q --example quickstart > /dev/null

step "unit, integration and doc tests"
cargo test --workspace
step "done"
