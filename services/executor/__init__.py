"""The executor runtime: one Executor instance behind the gRPC services of a Jina 3 executor."""
