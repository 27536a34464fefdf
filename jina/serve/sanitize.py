"""What an error message may say once it leaves the Flow: what happened and to which executor, nothing internal.

Messages the gateway and the bridge write themselves (never an Executor's own exception, which
is the user's and reaches the client as it is) go through `sanitize` before they leave: internal
addresses, gRPC core's transport text and `debug_error_string`, and Python reprs of internal
objects are cut or replaced by a short phrase. With debug on (`Flow(debug=True)`) the full text
passes. The rules are one table, applied in order; each is a regular expression and its
replacement, so adding a case is adding a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replacement: str


def _rule(name: str, pattern: str, replacement: str, flags: int = 0) -> Rule:
    return Rule(name, re.compile(pattern, flags), replacement)


_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?"
_IPV6 = r"\[[0-9A-Fa-f:.%\w]*\](?::\d{1,5})?"
#: a host (container or service name, localhost) with a port: `enc:8081`, `gateway-0.svc:8080`
_NAMED = r"(?<![\w/.\-])[A-Za-z][\w\-]*(?:\.[\w\-]+)*:\d{2,5}(?![\w.])"
_UNIX = r"unix(?:-abstract)?:[^\s,;'\")]+"
#: an address as gRPC core and our own messages write one (`ipv4:` / `ipv6:` / `dns:///` prefixes included)
_ADDRESS = rf"(?:(?:ipv4|ipv6):|dns:(?://[^/\s]*/)?)?(?:{_IPV4}|{_IPV6}|{_UNIX}|{_NAMED})"

#: in order; later rules see what earlier ones left
RULES: tuple[Rule, ...] = (
    # grpc's repr of a failed call: `<AioRpcError of RPC that terminated with: status = ... details = "..." ...>`
    _rule(
        "rpc_error_repr",
        r"<\w*RpcError of RPC that terminated with:\s*status = StatusCode\.(\w+)\s*"
        r"details = \"((?:[^\"\\]|\\.)*)\".*?>",
        r"\1: \2",
        re.DOTALL,
    ),
    _rule("debug_error_string", r",?\s*debug_error_string\s*=\s*\"(?:[^\"\\]|\\.)*\"", ""),
    # gRPC core's structured error text: `{grpc_message:"...", grpc_status:14, created_time:"..."}`
    _rule("grpc_core_blob", r"\s*\{[^{}]*(?:created_time|\"created\"|grpc_status|file_line)[^{}]*\}", ""),
    _rule("connect_failure", r"failed to connect to all addresses(?:;\s*last error:.*)?", "could not connect", re.I),
    _rule("backends_failing", r"connections to all backends failing(?:;\s*last error:.*)?", "could not connect", re.I),
    _rule("dns_failure", r"DNS resolution failed for .*", "the name did not resolve"),
    # a socket call's failure as gRPC core words it: `sendmsg: Connection reset by peer (104)`
    _rule(
        "syscall_error",
        r"\b(?:sendmsg|recvmsg|connect|read|write|accept|getsockopt|setsockopt)\s*:\s*[A-Za-z][^();,]*?\s*\(\d+\)",
        "",
    ),
    _rule("peer_error", r"Error received from peer\s+" + _ADDRESS, "error received from the peer"),
    # `executor 'enc' at 127.0.0.1:5000: ...` → `executor 'enc': ...`
    _rule("located", r"\s+(?:at|from|to|on|peer)\s+(?:peer\s+)?" + _ADDRESS, ""),
    _rule("address", _ADDRESS, "(internal address)"),
    _rule("object_repr", r"<[^<>]*\bat 0x[0-9A-Fa-f]+>", "(internal object)"),
    _rule("class_repr", r"<class '(?:[\w]+\.)*(\w+)'>", r"\1"),
    _rule("module_path", r"\b(?:jina_mesh|grpc\._\w+)(?:\.\w+)*\.(\w+)", r"\1"),
    _rule("hex_address", r"\b0x[0-9A-Fa-f]{6,}\b", ""),
    # tidy what the cuts left
    _rule("empty_brackets", r"\s*(?:\(\s*\)|\[\s*\])", ""),
    _rule("doubled_separator", r"\s*([:;,])(?:\s*[:;,])+", r"\1"),
    _rule("spaces", r"[ \t]{2,}", " "),
    _rule("trailing_separator", r"[\s:;,]+$", ""),
)


def sanitize(text: str, *, debug: bool = False) -> str:
    """`text` with internal detail cut (unchanged when `debug`); never empty when `text` was not."""
    if debug or not text:
        return text
    cleaned = text
    for rule in RULES:
        cleaned = rule.pattern.sub(rule.replacement, cleaned)
    cleaned = cleaned.strip()
    return cleaned or "internal error (details are logged; run with debug to see them)"


__all__ = ["RULES", "Rule", "sanitize"]
