"""Executors for the gateway's shard, join and TLS tests (started as `jina executor` processes)."""

from __future__ import annotations

from docarray import Document, DocumentArray

from jina import Executor, requests


class ShardTagger(Executor):
    """Each shard leaves its mark: a tag, a match and a result naming its shard id."""

    @requests
    def tag(self, docs: DocumentArray, parameters, **kwargs):
        shard = self.runtime_args.shard_id
        if parameters.get("fail_shard") == shard:
            raise ValueError(f"shard {shard} refuses")
        for doc in docs:
            doc.tags[f"shard{shard}"] = True
            doc.matches.append(Document(id=f"match-{doc.id}-{shard}", tags={"shard": shard}))
        return {"shard": shard}


class JoinRecorder(Executor):
    """Returns (in `__results__`) what a join handed it: docs, docs_matrix and docs_map, as texts."""

    @requests
    def record(self, docs: DocumentArray, docs_matrix=None, docs_map=None, **kwargs):
        return {
            "docs": sorted(docs.texts),
            "matrix": None if docs_matrix is None else [sorted(part.texts) for part in docs_matrix],
            "map": None if docs_map is None else {name: sorted(part.texts) for name, part in docs_map.items()},
        }
