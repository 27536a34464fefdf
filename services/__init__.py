"""The service processes of a Flow: the gRPC gateway and the executor runtime."""
