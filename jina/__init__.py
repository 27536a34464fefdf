"""A Jina-compatible SDK: write Executors, chain them in a Flow, talk to it with a Client.

`from jina import Client, Executor, Flow, requests` works as with Jina 3. `Document` and
`DocumentArray` (docarray 0.21) are re-exported lazily, so processes that never handle
documents (the gateway, the bridge) do not pay for importing docarray.
"""

from __future__ import annotations

from jina.clients import Client
from jina.deployment import Deployment
from jina.executor import Executor, dynamic_batching, requests
from jina.flow import Flow
from jina.version import __version__

__all__ = [
    "Client",
    "Deployment",
    "Document",
    "DocumentArray",
    "Executor",
    "Flow",
    "__version__",
    "dynamic_batching",
    "requests",
]


def __getattr__(name: str):
    if name in ("Document", "DocumentArray"):
        import docarray

        return getattr(docarray, name)
    raise AttributeError(f"module 'jina' has no attribute {name!r}")
