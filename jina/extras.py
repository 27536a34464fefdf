"""Optional dependencies (pip extras): a clear error, before anything starts, when one is missing."""

from __future__ import annotations

import importlib.util

from jina.excepts import BadConfig

#: the GraphQL endpoint's library (`expose_graphql_endpoint`)
GRAPHQL_MODULES = ("strawberry", "graphql")
GRAPHQL_INSTALL = "pip install 'jina-mesh[graphql]'"


def require_graphql() -> None:
    """BadConfig saying what to install, unless strawberry-graphql is installed (not imported here:
    the Flow's own process never loads it)."""
    if any(importlib.util.find_spec(name) is None for name in GRAPHQL_MODULES):
        raise BadConfig(f"expose_graphql_endpoint needs strawberry-graphql, which is not installed: {GRAPHQL_INSTALL}")
