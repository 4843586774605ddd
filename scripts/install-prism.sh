#!/usr/bin/env bash
# Installs Stoplight Prism (the mock server the generated clients are tested
# against) from npm into build/prism. Idempotent; pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=5.14.2
dir=build/prism
if [ -x "$dir/node_modules/.bin/prism" ] && [ "$("$dir/node_modules/.bin/prism" --version 2>/dev/null)" = "$version" ]; then
    exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"name": "wharf-prism", "private": true}' > "$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$version")
"$dir/node_modules/.bin/prism" --version
