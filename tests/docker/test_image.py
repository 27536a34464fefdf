"""deploy/Dockerfile: one image for every role, non-root, with a health check and no build tools."""

from __future__ import annotations

import json

from tests.docker.conftest import docker


def test_image_runs_as_a_non_root_user_with_jina_as_its_entry_point(engine):
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", engine).stdout)
    assert config["User"] == "jina"
    assert config["Entrypoint"] == ["jina"]
    assert "jina ping" in " ".join(config["Healthcheck"]["Test"])
    uid = docker("run", "--rm", "--entrypoint", "id", engine, "-u").stdout.strip()
    assert uid == "10001"


def test_every_role_starts_from_the_same_image(engine):
    for role in ("executor", "gateway", "bridge", "flow", "export", "ping"):
        result = docker("run", "--rm", engine, role, "--help")
        assert result.stdout.startswith(f"usage: jina {role}"), result.stdout[:200]


def test_no_build_tools_are_left_in_the_image(engine):
    probe = "for tool in gcc cc c++ make ld; do command -v $tool || true; done; ls /opt/jina/bin"
    found = docker("run", "--rm", "--entrypoint", "sh", engine, "-c", probe).stdout.split()
    assert not [f for f in found if f.startswith("/")], found
    assert "pip" not in found, "the virtualenv ships without pip"
