"""Telling IP literals from names, picking the addresses a name resolves to, and what changed."""

from __future__ import annotations

import asyncio
import socket

import pytest
from jina_mesh.services.gateway.discovery import (
    changes,
    is_ip_literal,
    is_name,
    pick_addresses,
    resolve_all,
    split_address,
)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("executor1:8080", ("executor1", 8080)),
        ("[::1]:9", ("::1", 9)),
        ("exec.ns.svc.cluster.local:1", ("exec.ns.svc.cluster.local", 1)),
    ],
)
def test_split_address(address, expected):
    assert split_address(address) == expected


@pytest.mark.parametrize("address", ["executor1", ":8080", "host:port"])
def test_split_address_refuses_what_is_not_host_port(address):
    with pytest.raises(ValueError):
        split_address(address)


@pytest.mark.parametrize(
    ("host", "literal"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("::1", True),
        ("[fe80::1]", True),
        ("localhost", False),
        ("executor1", False),
        ("executor-1.default.svc", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_ip_literals_and_names(host, literal):
    assert is_ip_literal(host) is literal


def test_an_address_with_a_name_may_stand_for_several_replicas():
    assert is_name("executor1:8080") and is_name("localhost:1")
    assert not is_name("127.0.0.1:8080") and not is_name("[::1]:8080")


def _info(family: int, ip: str) -> tuple:
    sockaddr = (ip, 0) if family == socket.AF_INET else (ip, 0, 0, 0)
    return (family, socket.SOCK_STREAM, 6, "", sockaddr)


def test_every_ipv4_address_once_in_the_resolvers_order_and_ipv6_ignored_when_there_is_ipv4():
    infos = [
        _info(socket.AF_INET6, "fd00::5"),
        _info(socket.AF_INET, "10.0.0.7"),
        _info(socket.AF_INET, "10.0.0.5"),
        _info(socket.AF_INET, "10.0.0.7"),
    ]
    assert pick_addresses(infos, 8080) == ("10.0.0.7:8080", "10.0.0.5:8080")


def test_ipv6_only_when_there_is_no_ipv4():
    infos = [_info(socket.AF_INET6, "fd00::5"), _info(socket.AF_INET6, "fd00::6")]
    assert pick_addresses(infos, 81) == ("[fd00::5]:81", "[fd00::6]:81")
    assert pick_addresses([], 81) == ()


def test_changes_lists_what_to_add_and_remove_in_order():
    assert changes(["a:1", "b:1", "c:1"], ["c:1", "d:1", "a:1", "e:1"]) == (["d:1", "e:1"], ["b:1"])
    assert changes(["a:1", "b:1"], ["b:1", "a:1"]) == ([], [])  # a rotated DNS answer changes nothing


def test_the_default_resolver_goes_through_getaddrinfo():
    assert asyncio.run(resolve_all("localhost:4321")) == ("127.0.0.1:4321",)
    assert asyncio.run(resolve_all("127.0.0.1:4321")) == ("127.0.0.1:4321",)  # a literal needs no lookup
