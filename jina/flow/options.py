"""Checking Flow and `add()` options: known names, value types, and the seed's YAML quirks."""

from __future__ import annotations

import difflib
import logging
from typing import Any

from jina import logs
from jina.excepts import BadConfig
from jina.serve.access import check_token
from jina.serve.compression import compression_name

_logger = logging.getLogger("jina.flow")

# the gateway process's options (what a YAML `gateway:` section may set, with the bridge's)
_GATEWAY_PROCESS_OPTIONS = {
    "protocol",
    "port",
    "host",
    "prefetch",
    "timeout_send",
    "timeout_ready",
    "compression",
    "ssl_certfile",
    "ssl_keyfile",
    # mutual TLS: the authority client certificates must be signed by
    "ssl_ca_certs",
    # the bearer token every call must carry (jina.serve.access)
    "access_token",
}
# Flow options this version acts on (gateway and processes)
FLOW_OPTIONS = _GATEWAY_PROCESS_OPTIONS | {
    "name",
    "debug",
    "max_message_bytes",
    # supervision: restarts of one process allowed within `restart_window` seconds
    "max_restarts",
    "restart_window",
    # given to every executor (each executor's own `env` / `workspace` wins)
    "env",
    "workspace",
}
# options handed to the HTTP/WebSocket bridge
BRIDGE_OPTIONS = {
    "cors",
    "expose_endpoints",
    "no_debug_endpoints",
    "no_crud_endpoints",
    "uvicorn_kwargs",
    "title",
    "description",
    "expose_graphql_endpoint",
    # the gateway's, not the bridge's: it travels with these (a Flow hands them to `build_spec` and
    # saves them in YAML's `gateway:` section), and `build_spec` gives it to the gateway only
    "max_queued_requests",
}
#: of BRIDGE_OPTIONS, those the gateway process takes (the bridge never sees them)
GATEWAY_ONLY_OPTIONS = {"max_queued_requests"}
ALL_FLOW_OPTIONS = FLOW_OPTIONS | BRIDGE_OPTIONS
#: Flow options that are the gateway's (and its bridge's): what a YAML `gateway:` section may set
GATEWAY_OPTIONS = _GATEWAY_PROCESS_OPTIONS | BRIDGE_OPTIONS

ADD_OPTIONS = {
    "uses",
    "name",
    "uses_with",
    "needs",
    "replicas",
    "py_modules",
    "env",
    "uses_metas",
    "uses_requests",
    "uses_dynamic_batching",
    "when",
    "shards",
    "polling",
    "workspace",
    "no_reduce",
    # an executor running outside the Flow: host (and port) of each replica
    "host",
    "port",
    "external",
    "tls",
}
# options real Jina writes into every executor of a saved Flow YAML that have no effect here:
# accepted so such a file loads, and left out when this project saves one
IGNORED_ADD_OPTIONS = {"port_monitoring", "cors"}

# misspellings met in Jina's own documentation, accepted with a warning naming the right one
ALIASES = {"expose_graphql_endpont": "expose_graphql_endpoint"}

# `cors` is a boolean (any origin, no credentials) or a list of origins (those, with credentials)
BOOL_OPTIONS = {"no_debug_endpoints", "no_crud_endpoints", "expose_graphql_endpoint", "debug"}


def check_names(given: dict[str, Any], known: set[str], what: str, where: Any = "") -> dict[str, Any]:
    """Known option names (aliases renamed, with a warning); an unknown one is an error naming close ones.

    `where` prefixes messages: a string, or a function of the option name (YAML: file and line).
    """
    locate = where if callable(where) else (lambda _key: where)
    logs.configure("flow", logs.level_from_env("INFO"))
    out = {}
    for key, value in given.items():
        if key in ALIASES:
            _logger.warning("%s%r is misspelled; read as %r", locate(key), key, ALIASES[key])
            key = ALIASES[key]
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise BadConfig(f"{locate(key)}{what} got an unknown option {key!r}{hint}")
        out[key] = value
    return out


def coerce_bool(name: str, value: Any, where: str = "") -> bool:
    """A boolean option; Jina's docs write `True, ` in YAML (a string with a comma): accepted, with a warning."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        cleaned = value.strip().rstrip(",").strip().lower()
        if cleaned in ("true", "false", "yes", "no", "on", "off"):
            _logger.warning(
                "%s%s: %r is a string, read as %s; write it without quotes or a trailing comma",
                where,
                name,
                value,
                cleaned in ("true", "yes", "on"),
            )
            return cleaned in ("true", "yes", "on")
    raise BadConfig(f"{where}{name} must be true or false, got {value!r}")


def normalize_flow_options(options: dict[str, Any], where: Any = "") -> dict[str, Any]:
    """Checked Flow options; `where` as in `check_names`."""
    locate = where if callable(where) else (lambda _key: where)
    options = check_names(options, ALL_FLOW_OPTIONS, "Flow()", where)
    for name in BOOL_OPTIONS & set(options):
        options[name] = coerce_bool(name, options[name], locate(name))
    if "cors" in options and not isinstance(options["cors"], (list, tuple)):
        options["cors"] = coerce_bool("cors", options["cors"], locate("cors"))
    elif "cors" in options:
        options["cors"] = list(options["cors"])
    if "compression" in options:
        try:
            options["compression"] = compression_name(options["compression"])
        except ValueError as exc:
            raise BadConfig(f"{locate('compression')}{exc}") from None
    restarts = options.get("max_restarts")
    if restarts is not None and (not isinstance(restarts, int) or isinstance(restarts, bool) or restarts < 0):
        raise BadConfig(f"{locate('max_restarts')}max_restarts must be an integer >= 0, got {restarts!r}")
    window = options.get("restart_window")
    if window is not None and (not isinstance(window, (int, float)) or isinstance(window, bool) or window <= 0):
        raise BadConfig(f"{locate('restart_window')}restart_window must be seconds > 0, got {window!r}")
    try:
        check_token(options.get("access_token"))
    except ValueError as exc:
        raise BadConfig(f"{locate('access_token')}{exc}") from None
    env = options.get("env")
    if env is not None and not isinstance(env, dict):
        raise BadConfig(f"{locate('env')}env must be a mapping of environment variables, got {type(env).__name__}")
    queued = options.get("max_queued_requests")
    if queued is not None and (not isinstance(queued, int) or isinstance(queued, bool) or queued < 0):
        raise BadConfig(
            f"{locate('max_queued_requests')}max_queued_requests must be an integer >= 0 (0 = no limit), got {queued!r}"
        )
    limit = options.get("max_message_bytes")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1024):
        raise BadConfig(f"{locate('max_message_bytes')}max_message_bytes must be a number of bytes >= 1024")
    return options
