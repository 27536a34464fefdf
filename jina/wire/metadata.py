"""The gRPC metadata keys of Jina's wire."""

from __future__ import annotations

#: set by a client on a `JinaRPC.Call` stream: "true" asks for the responses in request order
IN_ORDER_KEY = "__results_in_order__"
#: set by a client on a `JinaRPC.Call` stream: at most this many requests in flight (0: no limit)
PREFETCH_KEY = "__prefetch__"
#: the trailing metadata a Jina executor sets on a response with an error status; Jina's gateway reads it
ERROR_TRAILER = ("is-error", "true")
