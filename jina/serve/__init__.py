"""Building blocks of the gRPC services and of the streams clients keep to them (jina/ imports no service)."""
