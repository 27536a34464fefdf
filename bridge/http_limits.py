"""Limits on the HTTP/1.1 request head and timeouts for slow clients, in uvicorn's httptools protocol.

uvicorn bounds neither the size nor the number of request headers with httptools (llhttp) and has
no timeout for a head or body that never ends (slowloris, RFC 9110 §15.5.9), only the idle
keep-alive one. This protocol adds, before the ASGI app sees a request:

* at most `max_header_count` header fields and `max_head_bytes` bytes of request line and
  headers, counted as the bytes arrive (a head that grows past it is cut at once): else
  **431 Request Header Fields Too Large** (RFC 6585 §5) and the connection closes;
* a request head must be complete `timeout_request_head` seconds after its first byte (or after
  the connection opened): else **408 Request Timeout**, and the connection closes;
* while a body is being received, at most `timeout_request_body` seconds without a byte: else
  408 (if no answer started) and the connection closes; the app sees a disconnect.

Every refusal is the bridge's one JSON error shape (`errors.HTTPError`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httptools
from jina_mesh.bridge.errors import HTTPError
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


@dataclass(frozen=True)
class HeadLimits:
    max_header_count: int = 100
    max_head_bytes: int = 32 * 1024
    timeout_request_head: float = 10.0
    timeout_request_body: float = 30.0


class _Refused(Exception):
    pass


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with `HeadLimits` (set on a subclass by `protocol_class`)."""

    limits = HeadLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._tail = b""
        self._refusal: tuple[int, str] | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    # -- connection ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()  # a connection that never sends a byte is held no longer

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None or self.transport.is_closing():
            return
        if self._in_head:
            if self._head_timer is None:
                self._start_head_timer()
            # the head ends at the first blank line: bytes after it are body (or the next request)
            end = (self._tail + data).find(b"\r\n\r\n")
            counted = len(data) if end < 0 else max(end + 4 - len(self._tail), 0)
            self._tail = (self._tail + data)[-3:]
            self._head_bytes += counted
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse(431, f"the request head is over the limit of {self.limits.max_head_bytes} bytes")
                return
        elif self._body_timer is not None:
            self._start_body_timer()  # a byte arrived: the body is still moving
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._refusal is not None:
                self._refuse(*self._refusal)
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)

    # -- parser callbacks ----------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_header_count:
            self._refusal = (431, f"the request has more than {self.limits.max_header_count} header fields")
            raise _Refused  # httptools stops parsing; data_received answers
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes, self._tail = 0, b""
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.more_body and not self.parser.should_upgrade():
            self._start_body_timer()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._in_head = True  # what comes next is the next request's head; its timer starts with it

    # -- timers and refusals ---------------------------------------------------------------------

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.timeout_request_head, self._head_timed_out)

    def _start_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
        self._body_timer = self.loop.call_later(self.limits.timeout_request_body, self._body_timed_out)

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, f"the request head was not complete within {self.limits.timeout_request_head}s")

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or self.flow.read_paused:
            return  # paused by us (the app reads slowly), not by the client
        seconds = self.limits.timeout_request_body
        if self.cycle is not None and not self.cycle.response_started:
            self._refuse(408, f"no byte of the request body arrived for {seconds}s")
        else:
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` with the one error shape and close the connection."""
        self._refusal = (status, message)
        self._cancel_timers()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.response_started = True  # the app must not write after this answer
        body = json.dumps(HTTPError(status, message).to_json()).encode()
        head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body))
        self.logger.info("refused a request: %d %s", status, message)
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def protocol_class(limits: HeadLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class to give uvicorn (`http=`) for these limits."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
