"""The gRPC gateway: routes each request through the Flow's executors; speaks only gRPC."""
