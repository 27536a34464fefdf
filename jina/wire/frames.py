"""The WebSocket framing of Jina's wire that is not a message: the end of a client's input."""

from __future__ import annotations

#: what a `bytes` sub-protocol client sends when it has no more requests: Jina's `bytes(True)`
END_OF_INPUT = b"\x00"
