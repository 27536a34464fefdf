"""Executors for the bridge tests: the reference Jina runs' `EpExecutor` (http.txt, section B)."""

from __future__ import annotations

from docarray import Document, DocumentArray

from jina import Executor, requests


class EpExecutor(Executor):
    """Marks every input with the endpoint that ran (`tags['hit']`) and appends '<endpoint> was called'."""

    @requests
    def default(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.tags["hit"] = "default"
        docs.append(Document(text="default was called"))

    @requests(on="/foo")
    def foo(self, docs: DocumentArray, parameters, **kwargs):
        for doc in docs:
            doc.tags["hit"] = "/foo"
        docs.append(Document(text="foo was called", tags={"parameters": parameters}))

    @requests(on="/bar")
    def bar(self, docs: DocumentArray, parameters, **kwargs):
        for doc in docs:
            doc.tags["hit"] = "/bar"
        docs.append(Document(text="bar was called", tags={"parameters": parameters}))

    @requests(on="/index")
    def index(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.tags["hit"] = "/index"
