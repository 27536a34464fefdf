"""How a client connects: compression, the CA that vouches for the server's TLS certificate, the
client's own certificate (mutual TLS), the access token, size limit."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from jina.excepts import BadConfig
from jina.serve.access import bearer, check_token
from jina.serve.compression import compression_name, parse_compression
from jina.serve.options import channel_options, message_limits


@dataclass(frozen=True)
class ClientTransport:
    """`compression`: none/gzip/deflate for what the client sends (gRPC). `ca_certs`: a PEM file of the
    certificate authority (or self-signed certificate) to trust for TLS, instead of the system's.
    `max_message_bytes`: the largest message sent or received (default: JINA_GRPC_SEND_BYTES /
    JINA_GRPC_RECV_BYTES, else 50 MiB). `client_cert`/`client_key`: the PEM certificate and key this
    client presents to a server that asks for one (`ssl_ca_certs` on the Flow). `access_token`: sent as
    `authorization: Bearer ...` with every call (see `jina.serve.access`)."""

    compression: str = "none"
    ca_certs: str | None = None
    max_message_bytes: int | None = None
    client_cert: str | None = None
    client_key: str | None = None
    access_token: str | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        compression: object = None,
        ca_certs: str | None = None,
        max_message_bytes: int | None = None,
        *,
        client_cert: str | None = None,
        client_key: str | None = None,
        access_token: str | None = None,
    ) -> ClientTransport:
        try:
            name = compression_name(compression)
        except ValueError as exc:
            raise BadConfig(str(exc)) from None
        for option, path in (("ca_certs", ca_certs), ("client_cert", client_cert), ("client_key", client_key)):
            if path is not None:
                _readable(option, path)
        if bool(client_cert) != bool(client_key):
            raise BadConfig("a client certificate needs both client_cert and client_key")
        if client_cert:
            try:
                ssl.create_default_context().load_cert_chain(client_cert, client_key)
            except ssl.SSLError as exc:
                raise BadConfig(
                    f"client_cert {client_cert!r} / client_key {client_key!r}: {exc.reason or exc}"
                ) from None
        if max_message_bytes is not None and (not isinstance(max_message_bytes, int) or max_message_bytes < 1024):
            raise BadConfig("max_message_bytes must be a number of bytes >= 1024")
        try:
            token = check_token(access_token)
        except ValueError as exc:
            raise BadConfig(str(exc)) from None
        return cls(
            compression=name,
            ca_certs=ca_certs,
            max_message_bytes=max_message_bytes,
            client_cert=client_cert,
            client_key=client_key,
            access_token=token,
        )

    @property
    def tls_required(self) -> bool:
        """Options that only make sense over TLS were given."""
        return self.ca_certs is not None or self.client_cert is not None

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
        if not self.client_cert:
            return grpc.ssl_channel_credentials(root_certificates=roots)
        return grpc.ssl_channel_credentials(
            root_certificates=roots,
            private_key=Path(str(self.client_key)).read_bytes(),
            certificate_chain=Path(self.client_cert).read_bytes(),
        )

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_certs)
        if self.client_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context

    def http_headers(self) -> dict[str, str]:
        """Headers every HTTP request and WebSocket handshake carries."""
        return {"Authorization": bearer(self.access_token)} if self.access_token else {}


#: what a connection cut during the TLS handshake may mean, for a client that presented no certificate
CLIENT_CERT_HINT = "if the server asks for a client certificate (mutual TLS), pass client_cert= and client_key="


def handshake_hint(cut_during_tls: bool) -> str:
    """A hint to add to a connection over TLS that the server cut without a word."""
    return f" ({CLIENT_CERT_HINT})" if cut_during_tls else ""


def _readable(option: str, path: str) -> None:
    try:
        Path(path).read_bytes()
    except OSError as exc:
        raise BadConfig(f"{option} {path!r} cannot be read: {exc.strerror or exc}") from None
