"""Generated protobuf and gRPC stubs for protos/ (regenerate with scripts/gen_protos.py).

`docarray_pb2` here registers exactly the file descriptor docarray 0.21 registers, so this
package and docarray can be imported in either order, and processes that never touch
documents (gateway, bridge) need not import docarray at all.
"""
