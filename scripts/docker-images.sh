#!/usr/bin/env bash
# The images the Docker suite runs: a local Python base (no registry is reachable here, so
# `python:3.11-slim` cannot be pulled) tagged under that name, then the project's image from
# deploy/Dockerfile. The Debian root filesystem is cached as a tarball between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${JINA_CI_CACHE:-$HOME/.cache/jina-mesh}
BASE=python:3.11-slim
IMAGE=${JINA_IMAGE:-jina-mesh:$(.venv/bin/python -c 'import jina; print(jina.__version__)')}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if ! docker image inspect local/debian:bookworm >/dev/null 2>&1; then
    mkdir -p "$CACHE"
    rootfs_tar="$CACHE/debian-bookworm-minbase.tar"
    if [ ! -s "$rootfs_tar" ]; then
      # the Debian mirror apt already uses (its main archive, not security or third-party ones)
      mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -oE '^(URIs:|deb) +https?://[^ ]+' | awk '{print $2}' | grep -E '/debian/?$' | head -n 1 || true)
      rootfs=$(mktemp -d)
      as_root debootstrap --variant=minbase bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
      as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
      as_root tar -C "$rootfs" -cf "$rootfs_tar.tmp" .
      as_root rm -rf "$rootfs"
      mv "$rootfs_tar.tmp" "$rootfs_tar"
    fi
    docker import "$rootfs_tar" local/debian:bookworm >/dev/null
  fi
  # the build machine's extra CA certificates: pip inside image builds goes through its TLS proxy
  context=$(mktemp -d)
  cp .ci/docker-base/Dockerfile "$context/"
  cp /usr/local/share/ca-certificates/*.crt "$context/" 2>/dev/null || true
  [ -n "$(ls "$context"/*.crt 2>/dev/null)" ] || touch "$context/none.crt"
  docker build -q -t "$BASE" "$context" >/dev/null
  rm -rf "$context"
fi
docker build -q -f deploy/Dockerfile -t "$IMAGE" . >/dev/null
docker image ls "$IMAGE" --format 'image {{.Repository}}:{{.Tag}} {{.Size}}'
