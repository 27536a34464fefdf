"""A Jina-compatible SDK: write Executors, chain them in a Flow, talk to it with a Client.

`from jina import Client, Executor, Flow, requests` works as with Jina 3. `Document` and
`DocumentArray` (docarray 0.21) are re-exported lazily, so processes that never handle
documents (the gateway, the bridge) do not pay for importing docarray.
"""

from __future__ import annotations

__version__ = "0.1.0"

from jina.clients import Client  # noqa: E402
from jina.executor import Executor, requests  # noqa: E402
from jina.flow import Flow  # noqa: E402

__all__ = ["Client", "Document", "DocumentArray", "Executor", "Flow", "__version__", "requests"]


def __getattr__(name: str):
    if name in ("Document", "DocumentArray"):
        import docarray

        return getattr(docarray, name)
    raise AttributeError(f"module 'jina' has no attribute {name!r}")
