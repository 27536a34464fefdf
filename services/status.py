"""The version and environment report served by `JinaInfoRPC/_status` and `GET /status`."""

from __future__ import annotations

import datetime
import os
import platform
import uuid
from importlib import metadata

import grpc
from google.protobuf import __version__ as protobuf_version
from google.protobuf.internal import api_implementation

from jina.version import __version__

#: the Jina wire version this project speaks (Jina 3.34's `jina-proto`)
JINA_PROTO_VERSION = "0.1.27"

#: the environment variables reported by `_status`, as in Jina's documentation
REPORTED_ENVS = (
    "JINA_AUTH_TOKEN",
    "JINA_DEFAULT_HOST",
    "JINA_DEFAULT_TIMEOUT_CTRL",
    "JINA_DEPLOYMENT_NAME",
    "JINA_DISABLE_HEALTHCHECK_LOGS",
    "JINA_DISABLE_UVLOOP",
    "JINA_EARLY_STOP",
    "JINA_FULL_CLI",
    "JINA_GATEWAY_IMAGE",
    "JINA_GRPC_RECV_BYTES",
    "JINA_GRPC_SEND_BYTES",
    "JINA_HUBBLE_REGISTRY",
    "JINA_HUB_NO_IMAGE_REBUILD",
    "JINA_LOCKS_ROOT",
    "JINA_LOG_CONFIG",
    "JINA_LOG_LEVEL",
    "JINA_LOG_NO_COLOR",
    "JINA_MP_START_METHOD",
    "JINA_RANDOM_PORT_MAX",
    "JINA_RANDOM_PORT_MIN",
)

#: variables whose value is never shown, only whether they are set
SECRET_ENVS = frozenset({"JINA_AUTH_TOKEN"})

UNSET = "(unset)"
SET = "(set)"

# (environment variable, CI vendor name); the first one present wins
_CI_VENDORS = (
    ("GITHUB_ACTIONS", "GitHub Actions"),
    ("GITLAB_CI", "GitLab CI"),
    ("CIRCLECI", "CircleCI"),
    ("TRAVIS", "Travis CI"),
    ("BUILDKITE", "Buildkite"),
    ("JENKINS_URL", "Jenkins"),
    ("TF_BUILD", "Azure Pipelines"),
    ("TEAMCITY_VERSION", "TeamCity"),
    ("CI", "CI"),
)

_SESSION_ID = str(uuid.uuid1())
_STARTED_AT = datetime.datetime.now().isoformat()


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return UNSET


def ci_vendor(environ: dict[str, str] | os._Environ[str] | None = None) -> str:
    env = os.environ if environ is None else environ
    for variable, vendor in _CI_VENDORS:
        if env.get(variable):
            return vendor
    return UNSET


def version_info() -> dict[str, str]:
    """The `jina` half of the report: versions of this package, its wire and platform."""
    return {
        "jina": __version__,
        "docarray": _distribution_version("docarray"),
        "jina-proto": JINA_PROTO_VERSION,
        "jina-vcs-tag": os.environ.get("JINA_VCS_VERSION", UNSET),
        "protobuf": protobuf_version,
        "proto-backend": api_implementation.Type(),
        "grpcio": grpc.__version__,
        "pyyaml": _distribution_version("pyyaml"),
        "python": platform.python_version(),
        "platform": platform.system(),
        "platform-release": platform.release(),
        "platform-version": platform.version(),
        "architecture": platform.machine(),
        "processor": platform.processor(),
        "uid": str(uuid.getnode()),
        "session-id": _SESSION_ID,
        "uptime": _STARTED_AT,
        "ci-vendor": ci_vendor(),
    }


def env_info(environ: dict[str, str] | os._Environ[str] | None = None) -> dict[str, str]:
    """The `envs` half: each reported variable's value, `(unset)`, or `(set)` for secrets."""
    env = os.environ if environ is None else environ
    report = {}
    for name in REPORTED_ENVS:
        value = env.get(name)
        if value is None:
            report[name] = UNSET
        elif name in SECRET_ENVS:
            report[name] = SET
        else:
            report[name] = value
    return report


def status_report() -> dict[str, dict[str, str]]:
    return {"jina": version_info(), "envs": env_info()}
