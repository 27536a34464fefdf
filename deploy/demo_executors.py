"""The demo Flow's Executors (imported by demo_flow.py and named by flow.yml)."""

from __future__ import annotations

from docarray import DocumentArray

from jina import Executor, requests


class WordCounter(Executor):
    """Counts the words of every text document."""

    @requests
    def count(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.tags["words"] = len((doc.text or "").split())


class Shouter(Executor):
    """Upper-cases texts, only for the /shout endpoint."""

    @requests(on="/shout")
    def shout(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.text = (doc.text or "").upper()
