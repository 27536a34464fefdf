"""Executors used by the tests (importable by path, so Flows can start them in child processes)."""

from __future__ import annotations

import asyncio
import os
import time

from docarray import Document, DocumentArray

from jina import Executor, requests


class Appender(Executor):
    """Appends `letter` to every text: chains show their order."""

    def __init__(self, letter: str = "x", **kwargs):
        super().__init__(**kwargs)
        self.letter = letter

    @requests
    def append(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.text = (doc.text or "") + self.letter


class IndexOnly(Executor):
    @requests(on="/index")
    def index(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.tags["indexed"] = True


class Failing(Executor):
    @requests(on="/fail")
    def fail(self, docs, **kwargs):
        raise ValueError("boom from executor", 42)

    @requests
    def ok(self, docs, **kwargs):
        for doc in docs:
            doc.tags["passed_failing"] = True


class Results(Executor):
    @requests
    async def count(self, docs, parameters, **kwargs):
        await asyncio.sleep(0)
        return {"count": len(docs), "echo": parameters.get("echo")}


class Replacer(Executor):
    @requests
    def replace(self, docs, **kwargs):
        return DocumentArray([Document(text=f"replaced {len(docs)}")])


class Sleeper(Executor):
    @requests
    def sleep(self, docs, parameters, **kwargs):
        time.sleep(float(parameters.get("seconds", 0.2)))
        for doc in docs:
            doc.tags["pid"] = os.getpid()


class BadReturn(Executor):
    @requests
    def bad(self, docs, **kwargs):
        return 42


class StrictSignature(Executor):
    """Declares exactly the arguments it wants, without **kwargs."""

    @requests
    def only_docs(self, docs):
        docs.append(Document(text="strict"))


class NoSuperInit(Executor):
    def __init__(self, greeting: str = "hi"):
        self.greeting = greeting  # never calls super().__init__()

    @requests
    def greet(self, docs, **kwargs):
        docs.append(Document(text=f"{self.greeting} from {self.metas.name}"))


class BrokenInit(Executor):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        raise RuntimeError("cannot load the model")


class AsyncSleeper(Executor):
    """Sleeps `parameters['seconds']` without blocking others: completion order differs from request order."""

    @requests
    async def sleep(self, docs, parameters, **kwargs):
        await asyncio.sleep(float(parameters.get("seconds", 0)))
        for doc in docs:
            doc.tags["slept"] = parameters.get("seconds", 0)


class Tagger(Executor):
    """Marks every document with its own name (after an optional sleep); records the parameters it got."""

    @requests
    def tag(self, docs, parameters, **kwargs):
        time.sleep(float(parameters.get("sleep", 0)))
        for doc in docs:
            doc.tags[self.metas.name] = True
            doc.tags[f"{self.metas.name}_parameters"] = dict(parameters)
            doc.tags[f"{self.metas.name}_pid"] = os.getpid()


class SlowFirstReplica(Executor):
    """Replica 0 answers after `parameters['seconds']`; the others at once."""

    @requests
    async def answer(self, docs, parameters, **kwargs):
        if self.runtime_args.replica_id == 0:
            await asyncio.sleep(float(parameters.get("seconds", 2)))
        for doc in docs:
            doc.tags["replica"] = self.runtime_args.replica_id


class Reporter(Executor):
    """Tags documents with what the executor sees of its runtime: env variables asked for, names, workspace."""

    @requests
    def report(self, docs, parameters, **kwargs):
        for doc in docs:
            doc.tags["env"] = {name: os.environ.get(name) for name in parameters.get("env", [])}
            doc.tags["metas_name"] = self.metas.name
            doc.tags["runtime_name"] = self.runtime_args.name
            doc.tags["shard_id"] = self.runtime_args.shard_id
            doc.tags["replicas"] = self.runtime_args.replicas
            doc.tags["workspace"] = self.workspace if parameters.get("workspace") else None


class Abandonable(Executor):
    """Sleeps `parameters['seconds']` without blocking; a call cancelled meanwhile (its caller's
    deadline passed, or the caller left) appends `cancelled <text>` to the file `marker`."""

    def __init__(self, marker: str = "", **kwargs):
        super().__init__(**kwargs)
        self.marker = marker

    @requests
    async def wait(self, docs, parameters, **kwargs):
        try:
            await asyncio.sleep(float(parameters.get("seconds", 0)))
        except asyncio.CancelledError:
            with open(self.marker, "a") as handle:
                handle.write(f"cancelled {docs[0].text}\n")
            raise
        for doc in docs:
            doc.tags["waited"] = True
