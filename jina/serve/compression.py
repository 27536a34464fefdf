"""The `compression` option: names (Jina's and gRPC's, any case) → grpc.Compression."""

from __future__ import annotations

import grpc

# what users write → the algorithm; Jina's parser takes NoCompression/Deflate/Gzip, its docs none/gzip
_CHOICES: dict[str, grpc.Compression] = {
    "none": grpc.Compression.NoCompression,
    "nocompression": grpc.Compression.NoCompression,
    "gzip": grpc.Compression.Gzip,
    "deflate": grpc.Compression.Deflate,
}

CHOICES = ("none", "gzip", "deflate")


def parse_compression(value: object) -> grpc.Compression:
    """`None` and 'none' → no compression; 'gzip'/'Gzip', 'deflate'/'Deflate' → that; else a ValueError."""
    if value is None or isinstance(value, grpc.Compression):
        return value or grpc.Compression.NoCompression
    key = str(value).strip().lower()
    if key not in _CHOICES:
        raise ValueError(f"compression {value!r} is not one of {', '.join(CHOICES)} (any case)")
    return _CHOICES[key]


def compression_name(value: object) -> str:
    """The canonical name (for command lines): none, gzip or deflate."""
    return {grpc.Compression.Gzip: "gzip", grpc.Compression.Deflate: "deflate"}.get(parse_compression(value), "none")
