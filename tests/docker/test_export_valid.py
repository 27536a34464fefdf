"""Exported files are accepted by the real tools: `docker compose config` and `docker stack config`."""

from __future__ import annotations

from tests.conftest import ROOT
from tests.docker.conftest import docker
from tests.jina.deploy.sample import FLOW, export, write_flow_dir


def test_a_full_export_is_valid_for_compose_and_for_swarm(engine, tmp_path):
    flow_dir = write_flow_dir(tmp_path)
    result = export(flow_dir, FLOW.replace("tests.executors.Appender", "Splitter, py_modules: [code/execs.py]"))
    assert result.returncode == 0, result.stderr
    out = flow_dir / "out"
    merged = docker("compose", "config", cwd=out).stdout
    assert "condition: service_healthy" in merged and "host_ip: 127.0.0.1" in merged
    stack = docker("stack", "config", "-c", "docker-compose.yml", cwd=out).stdout
    assert "endpoint_mode: dnsrr" in stack and "mode: host" in stack


def test_the_demo_files_are_valid_for_compose_and_for_swarm(engine):
    docker("compose", "config", "-q", cwd=ROOT / "deploy")
    docker("stack", "config", "-c", "docker-compose.yml", cwd=ROOT / "deploy")
