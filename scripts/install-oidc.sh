#!/usr/bin/env bash
# Installs oidc-provider (the authorization server the OAuth tests run
# against) from npm into build/oidc. Idempotent; pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=8.8.1
dir=build/oidc
if [ -f "$dir/node_modules/oidc-provider/package.json" ] && grep -q "\"version\": \"$version\"" "$dir/node_modules/oidc-provider/package.json"; then
    exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name": "wharf-oidc", "private": true, "type": "module"}' > "$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error "oidc-provider@$version")
