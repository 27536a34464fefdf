"""The batch queue and batching policies, without sockets."""

from __future__ import annotations

import asyncio
import time

import pytest
from docarray import Document, DocumentArray
from jina_mesh.services.executor.batching import BatchPolicy, BatchQueue, BatchResultError, policies_for

from jina import Executor, dynamic_batching, requests
from jina.excepts import BadConfig
from jina.executor import DEFAULT_ENDPOINT, build_executor


def docs(*texts: str) -> DocumentArray:
    return DocumentArray([Document(text=t) for t in texts])


class Recorder:
    """A batch call that records what it was called with; `fail_on` texts make it raise."""

    def __init__(self, fail_on=(), result=None):
        self.calls: list[list[str]] = []
        self.fail_on = set(fail_on)
        self.result = result

    async def __call__(self, batch: DocumentArray):
        self.calls.append(batch.texts)
        await asyncio.sleep(0)
        if self.fail_on & set(batch.texts):
            raise RuntimeError(f"failed on {batch.texts}")
        if self.result is not None:
            return self.result(batch)
        for doc in batch:
            doc.text += "!"
        return None


def run(coroutine):
    return asyncio.run(coroutine)


def test_full_batches_go_at_once_and_the_rest_after_the_timeout():
    recorder = Recorder()

    async def scenario():
        queue = BatchQueue(recorder, BatchPolicy(preferred_batch_size=4, timeout_ms=100))
        started = time.perf_counter()
        futures = [queue.submit(docs(str(i))) for i in range(10)]
        first = await futures[0]
        early = time.perf_counter() - started
        results = [await f for f in futures]
        return first, early, time.perf_counter() - started, results

    first, early, total, results = run(scenario())
    assert recorder.calls == [["0", "1", "2", "3"], ["4", "5", "6", "7"], ["8", "9"]]
    assert first.texts == ["0!"]
    assert early < 0.05 and 0.09 < total < 0.5  # the last two waited for the timeout
    assert [r.texts for r in results] == [[f"{i}!"] for i in range(10)]


def test_requests_are_split_across_batches_and_get_their_documents_back_in_order():
    recorder = Recorder()

    async def scenario():
        queue = BatchQueue(recorder, BatchPolicy(preferred_batch_size=3, timeout_ms=10))
        futures = [queue.submit(docs("a1", "a2")), queue.submit(docs("b1", "b2", "b3")), queue.submit(docs("c1"))]
        return [(await f).texts for f in futures]

    assert run(scenario()) == [["a1!", "a2!"], ["b1!", "b2!", "b3!"], ["c1!"]]
    # the second request filled a batch: the two go (in calls of 3), the third waits for its own
    assert recorder.calls == [["a1", "a2", "b1"], ["b2", "b3"], ["c1"]]


@pytest.mark.parametrize("policy", [BatchPolicy(preferred_batch_size=2, flush_all=True), BatchPolicy(None)])
def test_flush_all_or_no_preferred_size_calls_once_with_everything(policy):
    recorder = Recorder()

    async def scenario():
        queue = BatchQueue(recorder, BatchPolicy(policy.preferred_batch_size, 20, policy.flush_all))
        futures = [queue.submit(docs(str(i))) for i in range(2)]
        await asyncio.sleep(0.001)
        futures.append(queue.submit(docs("late")))
        return [await f for f in futures]

    run(scenario())
    if policy.preferred_batch_size is None:
        assert recorder.calls == [["0", "1", "late"]]  # only the timeout triggers
    else:
        assert recorder.calls == [["0", "1"], ["late"]]  # the size triggers, the call takes all there is


def test_an_error_reaches_every_request_of_its_batch_only():
    recorder = Recorder(fail_on={"b"})

    async def scenario():
        queue = BatchQueue(recorder, BatchPolicy(preferred_batch_size=2, timeout_ms=10))
        futures = [queue.submit(docs(t)) for t in ("a", "b", "c", "d")]
        return await asyncio.gather(*futures, return_exceptions=True)

    first, second, third, fourth = run(scenario())
    assert isinstance(first, RuntimeError) and first is second
    assert (third.texts, fourth.texts) == (["c!"], ["d!"])


@pytest.mark.parametrize(
    ("result", "error", "message"),
    [
        (lambda batch: docs("only one"), ValueError, "Expected output size 2, but got 1"),
        (lambda batch: {"a": 1}, BatchResultError, "not dict"),
    ],
)
def test_the_method_must_return_none_or_as_many_documents(result, error, message):
    async def scenario():
        queue = BatchQueue(Recorder(result=result), BatchPolicy(preferred_batch_size=2))
        return await asyncio.gather(queue.submit(docs("a")), queue.submit(docs("b")), return_exceptions=True)

    for outcome in run(scenario()):
        assert isinstance(outcome, error) and message in str(outcome)


def test_returned_documents_replace_each_requests_own():
    result = lambda batch: DocumentArray([Document(text=f"new {d.text}") for d in batch])  # noqa: E731

    async def scenario():
        queue = BatchQueue(Recorder(result=result), BatchPolicy(preferred_batch_size=3))
        futures = [queue.submit(docs("a", "b")), queue.submit(docs("c"))]
        return [(await f).texts for f in futures]

    assert run(scenario()) == [["new a", "new b"], ["new c"]]


def test_custom_metric_weighs_documents():
    recorder = Recorder()

    async def scenario():
        policy = BatchPolicy(preferred_batch_size=10, timeout_ms=10, weight=lambda d: len(d.text))
        queue = BatchQueue(recorder, policy)
        await asyncio.gather(*(queue.submit(docs(t)) for t in ("aaaaa", "bbbbbb", "c")))

    run(scenario())
    assert recorder.calls == [["aaaaa", "bbbbbb"], ["c"]]


def test_close_flushes_and_the_queue_becomes_idle():
    recorder = Recorder()

    async def scenario():
        queue = BatchQueue(recorder, BatchPolicy(preferred_batch_size=100, timeout_ms=60_000))
        future = queue.submit(docs("a"))
        assert not queue.idle
        await queue.close()
        return (await future).texts, queue.idle

    assert run(scenario()) == (["a!"], True)


class Configured(Executor):
    @requests(on=["/a", "/b"])
    @dynamic_batching(preferred_batch_size=8, timeout=50)
    def encode(self, docs, **kwargs):
        pass

    @requests
    def other(self, docs, **kwargs):
        pass


def test_policies_from_decorators_method_names_and_endpoints():
    plain = build_executor(Configured)
    assert policies_for(plain) == {"/a": BatchPolicy(8, 50.0), "/b": BatchPolicy(8, 50.0)}
    overrides = {"/b": {"timeout": 5}, "other": {"preferred_batch_size": 2}, "/a": {"use_dynamic_batching": False}}
    overridden = build_executor(Configured, dynamic_batching=overrides)
    # an endpoint's own configuration is laid over its method's
    assert policies_for(overridden) == {"/b": BatchPolicy(8, 5.0), DEFAULT_ENDPOINT: BatchPolicy(2, 10_000.0)}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"encod": {"timeout": 1}}, "'encod' is neither an endpoint"),
        ({"/a": {"preferred_size": 1}}, "unknown option(s) ['preferred_size']"),
        ({"/a": {"preferred_batch_size": 0}}, "preferred_batch_size must be a number >= 1"),
        ({"/a": {"timeout": -1}}, "timeout must be milliseconds >= 0"),
    ],
)
def test_bad_batching_configurations_are_errors_at_start(config, message):
    with pytest.raises(BadConfig) as info:
        policies_for(build_executor(Configured, dynamic_batching=config))
    assert message in str(info.value)
