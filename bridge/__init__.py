"""The HTTP/WebSocket bridge: a separate process that transcodes HTTP and WebSocket into the gateway's gRPC."""
