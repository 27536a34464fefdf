"""The executor runtime: one Executor instance behind the gRPC services of a Jina 3 executor."""

from jina_mesh.services.executor import lazy_hubble

# before anything here imports docarray: saves ~0.3 s of every executor's start-up (see the module)
lazy_hubble.install()
