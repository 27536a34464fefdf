"""The sanitiser's rules, one row per kind of internal detail, and what it must leave alone."""

from __future__ import annotations

import re

import pytest

from jina.serve.sanitize import RULES, sanitize

# (what the gateway, gRPC or Python wrote, what may leave the Flow)
CASES = [
    (
        "executor 'enc' at 127.0.0.1:4567: UNAVAILABLE: failed to connect to all addresses; last error: "
        "UNKNOWN: ipv4:127.0.0.1:4567: Failed to connect to remote host: Connection refused",
        "executor 'enc': UNAVAILABLE: could not connect",
    ),
    (
        "executor 'enc' at enc:8081 did not answer within timeout_send=2000 ms; raise timeout_send",
        "executor 'enc' did not answer within timeout_send=2000 ms; raise timeout_send",
    ),
    (
        "unreachable executors: ext at 127.0.0.1:1234: UNAVAILABLE failed to connect to all addresses; "
        "last error: UNKNOWN: ipv4:127.0.0.1:1234: Connection refused",
        "unreachable executors: ext: UNAVAILABLE could not connect",
    ),
    (
        '<AioRpcError of RPC that terminated with:\n\tstatus = StatusCode.UNAVAILABLE\n\tdetails = "Socket closed"\n'
        '\tdebug_error_string = "UNKNOWN:Error received from peer ipv4:127.0.0.1:5 {grpc_status:14}"\n>',
        "UNAVAILABLE: Socket closed",
    ),
    (
        'Connection reset, debug_error_string = "UNKNOWN:Error received from peer  {created_time:\\"2024\\"}"',
        "Connection reset",
    ),
    ("Error received from peer ipv4:10.0.0.2:8080", "error received from the peer"),
    ("connections to all backends failing; last error: UNAVAILABLE: ipv4:127.0.0.1:1", "could not connect"),
    ("DNS resolution failed for enc:8081: C-ares status is not ARES_SUCCESS", "the name did not resolve"),
    ("the gateway at 127.0.0.1:5555 is not serving", "the gateway is not serving"),
    ("the gateway at gateway:8080 is not serving", "the gateway is not serving"),
    ("peer [::1]:5000 and ipv6:[::1]:5000 left", "peer (internal address) and (internal address) left"),
    ("the socket unix:/tmp/gw.sock closed", "the socket (internal address) closed"),
    ("Socket closed on unix:/tmp/gw.sock", "Socket closed"),
    ("bad <jina_mesh.services.gateway.router.Router object at 0x7f3a2b1c9d90> here", "bad (internal object) here"),
    ("Unexpected <class 'jina_mesh.services.gateway.router.Oops'>: boom", "Unexpected Oops: boom"),
    ("in jina_mesh.services.gateway.servicer.GatewayServicer", "in GatewayServicer"),
    ("id 0x7f3a2b1c9d90 left", "id left"),
    (
        "executor 'grp' exited or lost its connection while handling this request "
        "(sendmsg: Connection reset by peer (104)); the request was not sent again",
        "executor 'grp' exited or lost its connection while handling this request; the request was not sent again",
    ),
    ("Failed to connect to remote host: connect: Connection refused (111)", "Failed to connect to remote host"),
]

# messages that say nothing internal: unchanged
KEPT = [
    "executor 'enc' is unreachable (UNAVAILABLE)",
    "the request's deadline of 2000 ms passed while waiting for executor(s) 'enc'",
    "the gateway is at its limit of 4 queued requests (max_queued_requests); retry after 1 s",
    "target_executor '(' is not a valid regular expression: missing ), unterminated subpattern at position 0",
    "Received message larger than max (5000000 vs. 4194304)",
    "/jina.JinaRPC/Call",
    "no route for GET /foo; see /docs for the routes",
]


@pytest.mark.parametrize(("raw", "public"), CASES)
def test_internal_detail_is_cut(raw, public):
    assert sanitize(raw) == public


@pytest.mark.parametrize("text", KEPT)
def test_what_the_caller_needs_is_kept(text):
    assert sanitize(text) == text


@pytest.mark.parametrize(("raw", "_public"), CASES)
def test_debug_lets_everything_through(raw, _public):
    assert sanitize(raw, debug=True) == raw


@pytest.mark.parametrize(("raw", "_public"), CASES)
def test_nothing_internal_is_left(raw, _public):
    cleaned = sanitize(raw)
    assert not re.search(r"\d+\.\d+\.\d+\.\d+|:\d{2,5}\b|0x[0-9a-f]|debug_error_string|jina_mesh|ipv4", cleaned)


def test_sanitising_twice_changes_nothing_more():
    for raw, public in CASES:
        assert sanitize(public) == public, raw


def test_never_empty():
    assert sanitize("") == ""
    assert sanitize("127.0.0.1:5000") == "(internal address)"
    assert sanitize('debug_error_string = "x"').startswith("internal error")


def test_rules_are_named_once():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
