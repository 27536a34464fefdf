"""The values of one `Flow.add()`: external hosts in Jina's forms, ports, polling, batching (no processes)."""

from __future__ import annotations

import pytest

from jina import Flow
from jina.excepts import BadConfig
from jina.flow.executor_options import check_batching, check_polling, external_addresses, local_port


@pytest.mark.parametrize(
    ("host", "port", "tls", "expected"),
    [
        ("10.0.0.5", 8081, None, (("10.0.0.5:8081",), False)),
        ("10.0.0.5:8081", None, None, (("10.0.0.5:8081",), False)),
        ("grpc://exec.example:8081", None, None, (("exec.example:8081",), False)),
        ("grpcs://exec.example:443", None, None, (("exec.example:443",), True)),
        ("exec.example", 443, True, (("exec.example:443",), True)),
        (["a", "b"], 9000, None, (("a:9000", "b:9000"), False)),
        (["a", "b"], [9000, 9001], None, (("a:9000", "b:9001"), False)),
        (["a:1", "b"], 2, None, (("a:1", "b:2"), False)),
        (["[::1]:8081"], None, None, (("[::1]:8081",), False)),
        (["10.0.0.5"], [8081], None, (("10.0.0.5:8081",), False)),  # as Jina saves it in YAML
    ],
)
def test_external_hosts_in_every_form_jina_takes(host, port, tls, expected):
    assert external_addresses(host, port, tls, "x") == expected


@pytest.mark.parametrize(
    ("host", "port", "tls", "message"),
    [
        (None, 8081, None, "needs host="),
        ("http://exec:8081", None, None, "scheme 'http://'"),
        ("ws://exec:8081", None, None, "an executor speaks gRPC"),
        ("exec", None, None, "has no port"),
        ("exec:notaport", None, None, "not a TCP port number"),
        ("exec:70000", None, None, "not a TCP port number"),
        (["a", "b", "c"], [1, 2], None, "2 ports for 3 hosts"),
        (["grpc://a:1", "grpcs://b:2"], None, None, "mix grpc:// and grpcs://"),
        ("grpcs://a:1", None, False, "tls=False"),
        ("a/b:1", None, None, "not HOST or HOST:PORT"),
        ("", 1, None, "not a host name"),
    ],
)
def test_malformed_external_hosts_are_errors_naming_the_executor(host, port, tls, message):
    with pytest.raises(BadConfig, match="executor 'x'") as info:
        external_addresses(host, port, tls, "x")
    assert message in str(info.value)


def test_a_local_executor_keeps_a_fixed_port_only_when_it_is_one_process():
    assert local_port(None, "x", 1) is None
    assert local_port(12345, "x", 1) == 12345
    assert local_port([12345], "x", 1) == 12345  # Jina's saved form
    assert local_port(12345, "x", 2) is None  # replicas choose their own ports
    with pytest.raises(BadConfig, match="one port"):
        local_port([1, 2], "x", 1)


def test_polling_takes_jina_policies_in_any_case():
    assert check_polling("all", "x") == "ALL"
    assert check_polling({"/search": "all", "*": "Any"}, "x") == {"/search": "ALL", "*": "ANY"}
    with pytest.raises(BadConfig, match="polling 'SOME'"):
        check_polling("SOME", "x")
    with pytest.raises(BadConfig, match="polling 3"):
        check_polling({"/a": 3}, "x")


def test_dynamic_batching_settings_are_checked():
    table = {"/foo": {"preferred_batch_size": 8, "timeout": 200}}
    assert check_batching(table, "x") == table
    for bad, message in [
        ({"/foo": {"preferred_batch_size": 0}}, "positive integer"),
        ({"/foo": {"timeout": -1}}, "milliseconds"),
        ({"/foo": {"batch": 2}}, "unknown ['batch']"),
        ({"/foo": 3}, "must be a mapping"),
        ([1], "must be a mapping"),
    ]:
        with pytest.raises(BadConfig, match="executor 'x'") as info:
            check_batching(bad, "x")
        assert message in str(info.value)


def test_add_records_jina_options():
    flow = (
        Flow()
        .add(
            name="idx",
            shards=2,
            polling={"/search": "ALL"},
            uses_requests={"/foo": "bar"},
            uses_metas={"name": "renamed"},
            workspace="/tmp/ws",
            port_monitoring=9999,  # written by Jina's save_config; no effect here
        )
        .add(name="remote", host="grpcs://exec.example:443", external=True, needs="gateway")
        .needs_all(name="join", no_reduce=True)
    )
    idx, remote, join = flow.executors
    assert (idx.shards, idx.polling, idx.uses_requests, idx.uses_metas) == (
        2,
        {"/search": "ALL"},
        {"/foo": "bar"},
        {"name": "renamed"},
    )
    assert idx.workspace == "/tmp/ws" and not idx.external
    assert remote.external and remote.external_hosts == ("exec.example:443",) and remote.tls
    assert join.needs == ("idx", "remote") and join.no_reduce


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"host": "10.0.0.5", "port": 8081}, "add external=True"),
        ({"tls": True}, "tls=True is for an external executor"),
        ({"external": True, "host": "h:1", "replicas": 2}, "one host per replica"),
        ({"external": True, "host": "h:1", "uses": "tests.executors.Appender"}, "['uses'] do not apply"),
        ({"external": True, "host": "h:1", "shards": 2}, "['shards'] do not apply"),
        ({"shards": 0}, "shards must be a positive integer"),
        ({"uses_requests": ["/a"]}, "uses_requests must be a mapping"),
        ({"uses": "NoSuchExecutorClassAnywhere"}, "no Executor subclass named 'NoSuchExecutorClassAnywhere'"),
        ({"replicaz": 2}, "did you mean 'replicas'"),
    ],
)
def test_add_refuses_what_cannot_work_before_anything_starts(options, message):
    with pytest.raises(BadConfig) as info:
        Flow().add(name="x", **options)
    assert message in str(info.value)


def test_needs_all_waits_for_every_loose_end():
    flow = Flow().add(name="a").add(name="b", needs="gateway").add(name="c", needs="a").needs_all()
    assert flow.executors[-1].name == "joiner"
    assert flow.executors[-1].needs == ("b", "c")
    with pytest.raises(BadConfig, match="no Executor to wait for"):
        Flow().needs_all()
    assert Flow().add(name="a").add(name="b", needs="gateway").needs(["a", "b"], name="j").executors[-1].needs == (
        "a",
        "b",
    )
