"""An Executor that runs under this project and under real Jina 3 alike (only `jina.Executor`, `requests`)."""

import os

from jina import Executor, requests


class EnvShouter(Executor):
    """Upper-cases each text and appends `suffix`; tags each document with $SHOUT_ENV and its process id."""

    def __init__(self, suffix: str = "", **kwargs):
        super().__init__(**kwargs)
        self.suffix = suffix

    @requests
    def shout(self, docs, **kwargs):
        for doc in docs:
            doc.text = (doc.text or "").upper() + self.suffix
            doc.tags["env"] = os.environ.get("SHOUT_ENV", "")
            doc.tags["pid"] = os.getpid()
