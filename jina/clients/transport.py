"""How a client connects: compression, the CA that vouches for the server's TLS certificate, size limit."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from jina.excepts import BadConfig
from jina.serve.compression import compression_name, parse_compression
from jina.serve.options import channel_options, message_limits


@dataclass(frozen=True)
class ClientTransport:
    """`compression`: none/gzip/deflate for what the client sends (gRPC). `ca_certs`: a PEM file of the
    certificate authority (or self-signed certificate) to trust for TLS, instead of the system's.
    `max_message_bytes`: the largest message sent or received (default: JINA_GRPC_SEND_BYTES /
    JINA_GRPC_RECV_BYTES, else 50 MiB)."""

    compression: str = "none"
    ca_certs: str | None = None
    max_message_bytes: int | None = None

    @classmethod
    def build(
        cls, compression: object = None, ca_certs: str | None = None, max_message_bytes: int | None = None
    ) -> ClientTransport:
        try:
            name = compression_name(compression)
        except ValueError as exc:
            raise BadConfig(str(exc)) from None
        if ca_certs is not None:
            try:
                Path(ca_certs).read_bytes()
            except OSError as exc:
                raise BadConfig(f"ca_certs {ca_certs!r} cannot be read: {exc.strerror or exc}") from None
        if max_message_bytes is not None and (not isinstance(max_message_bytes, int) or max_message_bytes < 1024):
            raise BadConfig("max_message_bytes must be a number of bytes >= 1024")
        return cls(compression=name, ca_certs=ca_certs, max_message_bytes=max_message_bytes)

    @property
    def send_limit(self) -> int:
        """-1 when unlimited."""
        return self.max_message_bytes or message_limits()[0]

    def grpc_compression(self) -> grpc.Compression:
        return parse_compression(self.compression)

    def grpc_options(self) -> list[tuple[str, int | str]]:
        options = channel_options()
        if self.max_message_bytes:
            limits = {"grpc.max_send_message_length", "grpc.max_receive_message_length"}
            options = [o for o in options if o[0] not in limits]
            options += [(name, self.max_message_bytes) for name in sorted(limits)]
        return options

    def grpc_credentials(self) -> grpc.ChannelCredentials:
        roots = Path(self.ca_certs).read_bytes() if self.ca_certs else None
        return grpc.ssl_channel_credentials(root_certificates=roots)

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_certs)
