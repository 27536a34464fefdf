from __future__ import annotations

from jina_mesh.services.status import REPORTED_ENVS, ci_vendor, env_info, version_info

from jina import __version__

# the keys of `_status` shown in the user's documentation
DOCUMENTED_KEYS = {
    "jina",
    "docarray",
    "jina-proto",
    "protobuf",
    "proto-backend",
    "grpcio",
    "pyyaml",
    "python",
    "platform",
    "platform-release",
    "platform-version",
    "architecture",
    "processor",
    "uid",
    "session-id",
    "uptime",
    "ci-vendor",
}


def test_version_info_has_documented_keys_and_our_version():
    info = version_info()
    assert DOCUMENTED_KEYS <= set(info)
    assert info["jina"] == __version__
    assert info["docarray"] == "0.21.0"
    assert all(isinstance(v, str) for v in info.values())


def test_env_info_lists_every_variable_and_hides_secrets():
    env = {"JINA_LOG_LEVEL": "DEBUG", "JINA_AUTH_TOKEN": "s3cret", "JINA_NOT_LISTED": "x"}
    report = env_info(env)
    assert list(report) == list(REPORTED_ENVS)
    assert report["JINA_LOG_LEVEL"] == "DEBUG"
    assert report["JINA_AUTH_TOKEN"] == "(set)"
    assert "s3cret" not in report.values()
    assert report["JINA_DEFAULT_HOST"] == "(unset)"
    assert "JINA_NOT_LISTED" not in report


def test_ci_vendor():
    assert ci_vendor({}) == "(unset)"
    assert ci_vendor({"GITHUB_ACTIONS": "true", "CI": "true"}) == "GitHub Actions"
    assert ci_vendor({"CI": "true"}) == "CI"
