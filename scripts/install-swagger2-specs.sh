#!/usr/bin/env bash
# Installs real Swagger 2.0 documents into build/corpus/swagger2 from Debian
# packages, downloaded and unpacked (not installed: their Go dependencies are
# not needed): Docker Engine's API (golang-github-docker-docker-dev), and
# Gitea's, Bitbucket's, Kubernetes' and Quay's as go-openapi's validator
# keeps them among its test fixtures (golang-github-go-openapi-validate-dev).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/corpus/swagger2
[ -f "$dir/.complete" ] && exit 0
work=build/swagger2-debs
rm -rf "$work" "$dir"
mkdir -p "$work/root" "$dir"
packages=(golang-github-docker-docker-dev golang-github-go-openapi-validate-dev)
if ! (cd "$work" && apt-get download -qq "${packages[@]}" 2>/dev/null); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    (cd "$work" && apt-get download -qq "${packages[@]}")
fi
for deb in "$work"/*.deb; do
    dpkg-deb -x "$deb" "$work/root"
done
src="$work/root/usr/share/gocode/src/github.com"
fixtures="$src/go-openapi/validate/fixtures"
cp "$src/docker/docker/api/swagger.yaml" "$dir/docker-engine.yaml"
cp "$fixtures/bugs/1614/gitea.json" "$dir/gitea.json"
cp "$fixtures/go-swagger/canary/bitbucket.org/swagger.json" "$dir/bitbucket.json"
cp "$fixtures/go-swagger/canary/kubernetes/swagger.json" "$dir/kubernetes.json"
cp "$fixtures/go-swagger/canary/quay.io/swagger.json" "$dir/quay.json"
rm -rf "$work"
touch "$dir/.complete"
ls "$dir"
