"""Run with REAL Jina 3.34: write a Flow YAML with Jina's own `Flow.save_config` (the fixture
tests/jina/flow/yaml/jina_saved_flow.yml was made by this script; see the README there).

    python save_flow.py OUT.yml
"""

import sys

from jina import Flow

flow = (
    Flow(protocol=["grpc", "http"], port=[12345, 12346], cors=True)
    .add(
        name="shout",
        uses="EnvShouter",
        py_modules=["env_shouter.py"],
        replicas=2,
        env={"SHOUT_ENV": "from-yaml"},
        uses_with={"suffix": "!"},
    )
    .add(name="remote", needs="gateway", host="10.0.0.5", port=8081, external=True)
    .add(name="join", needs=["shout", "remote"])
)
flow.save_config(sys.argv[1])
