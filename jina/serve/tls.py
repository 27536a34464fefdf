"""TLS material: reading and checking a certificate/key pair before anything starts serving."""

from __future__ import annotations

import ssl
from pathlib import Path

from jina.excepts import BadConfig


def check_tls_pair(certfile: str | None, keyfile: str | None) -> tuple[str, str] | None:
    """None when neither is given; both, readable and matching, or a BadConfig saying which is wrong."""
    if not certfile and not keyfile:
        return None
    if not certfile or not keyfile:
        given, missing = ("ssl_certfile", "ssl_keyfile") if certfile else ("ssl_keyfile", "ssl_certfile")
        raise BadConfig(f"TLS needs both ssl_certfile and ssl_keyfile: {given} is given, {missing} is not")
    for option, path in (("ssl_certfile", certfile), ("ssl_keyfile", keyfile)):
        try:
            Path(path).read_bytes()
        except OSError as exc:
            raise BadConfig(f"{option} {path!r} cannot be read: {exc.strerror or exc}") from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile)
    except ssl.SSLError as exc:
        reason = "the key does not match the certificate" if "MISMATCH" in str(exc).upper() else exc.reason or str(exc)
        raise BadConfig(f"ssl_certfile {certfile!r} / ssl_keyfile {keyfile!r}: {reason}") from None
    return str(certfile), str(keyfile)


def read_tls_files(certfile: str | None, keyfile: str | None) -> tuple[bytes, bytes] | None:
    """(certificate chain, key) bytes for grpc.ssl_server_credentials, after check_tls_pair."""
    pair = check_tls_pair(certfile, keyfile)
    if pair is None:
        return None
    return Path(pair[0]).read_bytes(), Path(pair[1]).read_bytes()


def read_client_ca(ca_certs: str | None, certfile: str | None) -> bytes | None:
    """The PEM of `ssl_ca_certs` (the authority client certificates must be signed by), or None; a
    BadConfig when it is given without a server certificate or cannot be read as PEM certificates."""
    if not ca_certs:
        return None
    if not certfile:
        raise BadConfig("ssl_ca_certs (client certificates) needs TLS: give ssl_certfile and ssl_keyfile too")
    try:
        pem = Path(ca_certs).read_bytes()
    except OSError as exc:
        raise BadConfig(f"ssl_ca_certs {ca_certs!r} cannot be read: {exc.strerror or exc}") from None
    try:
        ssl.create_default_context(cadata=pem.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError, ValueError):
        raise BadConfig(f"ssl_ca_certs {ca_certs!r} holds no PEM certificate") from None
    return pem
