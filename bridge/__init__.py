"""The HTTP/WebSocket bridge process (transcodes into the gRPC gateway); built in a later issue."""
