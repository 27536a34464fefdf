"""What a join executor (several `needs`) is sent, by the topology's `join` mode.

* `merge` (the default): one request, the branches merged by the rule of merge.py
  (`process_single_data`);
* `merge+parts`: `process_data([merged, branch_1, ..., branch_n])`: the executor (run with
  `--join-parts`) works on the merge and sees each branch in `docs_matrix` / `docs_map`;
* `parts`: `process_data([branch_1, ..., branch_n])`, nothing merged (Jina's `no_reduce`; the
  executor runs with `--no-reduce`).

Branches come in the order of `needs`, and each one's last route entry names the upstream it
came from (the need's name, or `gateway`), so that an executor keys `docs_map` by
`routes[-1].executor` as Jina's do; an entry is appended when the upstream did not add its own
(it skipped the endpoint, it is the gateway, or it is an external executor named otherwise).
Every part carries the parameters of the merged request.
"""

from __future__ import annotations

from collections.abc import Iterable

from jina_mesh.services.gateway.connections import Outgoing
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest, PassthroughRequestList

MERGE = "merge"
MERGE_AND_PARTS = "merge+parts"
PARTS = "parts"


def labelled(upstream: str, branch: PassthroughRequest, parameters) -> PassthroughRequest:
    """A copy of the branch whose last route entry is `upstream`."""
    part = PassthroughRequest()
    part.CopyFrom(branch)
    part.parameters.CopyFrom(parameters)
    if not part.routes or part.routes[-1].executor != upstream:
        part.routes.add(executor=upstream)
    return part


def join_request(mode: str, merged: PassthroughRequest, branches: Iterable[tuple[str, PassthroughRequest]]) -> Outgoing:
    """What to send a join executor: `merged` itself, or a list of parts (see the module's rules)."""
    if mode == MERGE:
        return merged
    parts = [labelled(upstream, branch, merged.parameters) for upstream, branch in branches]
    if mode == MERGE_AND_PARTS:
        parts.insert(0, merged)
    elif mode != PARTS:
        raise ValueError(f"unknown join mode {mode!r}")
    return PassthroughRequestList(requests=parts)
