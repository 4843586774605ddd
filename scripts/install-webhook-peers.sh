#!/usr/bin/env bash
# Installs the providers' own webhook libraries the signature cross-check
# runs against: from PyPI standardwebhooks, stripe, slack_sdk and twilio (a
# virtualenv in build/webhook-peers/venv), from npm @octokit/webhooks-methods
# (build/webhook-peers/node). Idempotent; pinned versions.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/webhook-peers
python=$dir/venv/bin/python
pins="standardwebhooks==1.3.0 stripe==16.1.0 slack_sdk==3.48.0 twilio==9.13.0"
if ! [ -x "$python" ] || ! "$python" -c "import standardwebhooks, stripe, slack_sdk, twilio" 2>/dev/null; then
    mkdir -p "$dir"
    python3 -m venv "$dir/venv"
    # shellcheck disable=SC2086
    "$dir/venv/bin/pip" install --quiet --disable-pip-version-check $pins
fi
node_pkg=$dir/node/node_modules/@octokit/webhooks-methods/package.json
if ! [ -f "$node_pkg" ] || ! grep -q '"version": "6.0.0"' "$node_pkg"; then
    mkdir -p "$dir/node"
    [ -f "$dir/node/package.json" ] || echo '{"name": "wharf-webhook-peers", "private": true, "type": "module"}' > "$dir/node/package.json"
    (cd "$dir/node" && npm install --no-audit --no-fund --loglevel=error "@octokit/webhooks-methods@6.0.0")
fi
