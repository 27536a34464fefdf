"""Executors for the client tests (importable by path, so Flows start them in child processes)."""

from __future__ import annotations

from jina import Executor, requests


class Endpoints(Executor):
    """Tags every document with the CRUD endpoint that reached it."""

    @requests(on="/index")
    def index(self, docs, **kwargs):
        self._tag(docs, "index")

    @requests(on="/search")
    def search(self, docs, **kwargs):
        self._tag(docs, "search")

    @requests(on="/update")
    def update(self, docs, **kwargs):
        self._tag(docs, "update")

    @requests(on="/delete")
    def delete(self, docs, **kwargs):
        self._tag(docs, "delete")

    @staticmethod
    def _tag(docs, endpoint: str) -> None:
        for doc in docs:
            doc.tags["endpoint"] = endpoint


class Flaky(Executor):
    """Fails a request holding a document whose text starts with "bad"; appends "!" to the others."""

    @requests
    def check(self, docs, **kwargs):
        for doc in docs:
            if (doc.text or "").startswith("bad"):
                raise ValueError(f"boom {doc.text}")
        for doc in docs:
            doc.text = (doc.text or "") + "!"
