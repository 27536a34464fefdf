"""The access token: `Authorization: Bearer <token>` on every call to a Flow, checked at its edges.

Rules:

* off unless a token is configured: `Flow(access_token=...)` / YAML `access_token:`, or the
  `JINA_MESH_ACCESS_TOKEN` environment variable of a gateway or bridge started on its own (the
  name is not Jina's `JINA_AUTH_TOKEN`, which is a Jina Cloud login); an empty value is off;
* a process gets the token in its environment, never on its command line (which `ps` shows to
  every user of the machine), and drops it from its environment once read;
* checked on gRPC metadata `authorization` and on the HTTP/WebSocket `Authorization` header,
  compared in constant time with the whole expected value (`hmac.compare_digest`), so the time a
  refusal takes says nothing about how much of a guess was right;
* health stays open (`grpc.health.v1.Health`; the bridge's health route), so that orchestrators
  and load balancers can probe without the secret;
* a refusal says only what is missing (UNAUTHENTICATED / HTTP 401 with `WWW-Authenticate:
  Bearer`), never the token presented or expected.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping, Sequence

#: where a process started on its own (not by a Flow) finds its token
ENV_VARIABLE = "JINA_MESH_ACCESS_TOKEN"
#: gRPC metadata keys are lower case
METADATA_KEY = "authorization"
#: what a refusal says, on every protocol
REFUSAL = "a valid access token is required: send 'authorization: Bearer <token>'"


def bearer(token: str) -> str:
    """The header value that carries `token`."""
    return f"Bearer {token}"


def check_token(token: object) -> str | None:
    """The configured token (None: off), or ValueError saying why it cannot be one."""
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise ValueError("access_token must be a string")
    if token != token.strip() or any(ord(c) < 0x21 or ord(c) > 0x7E for c in token):
        # an HTTP header value carries it: visible ASCII only, and spaces would be ambiguous
        raise ValueError("access_token may hold only visible ASCII characters (no spaces)")
    return token


def token_from_env(environ: dict[str, str] | os._Environ[str] | None = None) -> str | None:
    """Read and remove the process's token from its environment (executor code it runs, its
    `/status` and any child it starts then never see it)."""
    env = os.environ if environ is None else environ
    return check_token(env.pop(ENV_VARIABLE, None))


class TokenCheck:
    """Whether an `Authorization` value carries the expected token."""

    def __init__(self, token: str):
        self._expected = bearer(token).encode()

    def accepts(self, presented: str | bytes | None) -> bool:
        if presented is None:
            return False
        value = presented.encode("utf-8", "replace") if isinstance(presented, str) else presented
        return hmac.compare_digest(value.strip(), self._expected)

    def accepts_metadata(self, metadata: Sequence[tuple[str, str | bytes]] | None) -> bool:
        """gRPC invocation metadata: exactly one `authorization` entry, and the right one."""
        values = [v for k, v in metadata or () if k == METADATA_KEY]
        return len(values) == 1 and self.accepts(values[0])

    def accepts_headers(self, headers: Mapping[str, str] | Sequence[tuple[bytes, bytes]]) -> bool:
        """ASGI headers (a list of byte pairs) or a mapping."""
        if isinstance(headers, Mapping):
            return self.accepts(headers.get("authorization"))
        values = [v for k, v in headers if k.lower() == b"authorization"]
        return len(values) == 1 and self.accepts(values[0])


def call_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """The metadata a client sends with every call (none without a token)."""
    return ((METADATA_KEY, bearer(token)),) if token else ()
