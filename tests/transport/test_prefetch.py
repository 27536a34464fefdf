"""prefetch: at most N requests of one client stream inside the Flow, read lazily, never deadlocking."""

from __future__ import annotations

import itertools

from docarray import Document

from jina import Client, Flow

IN_FLIGHT = "tests.bridge.executors_ws:InFlight"


def endless(counter: list[int], stop_after: int = 200):
    """The seed's endless generator, cut after `stop_after` documents; counts what was pulled."""

    def generate():
        for i in itertools.count():
            if i == stop_after:
                return
            counter[0] += 1
            yield Document(text=str(i))

    return generate


def peak(docs) -> int:
    return int(max(doc.tags["in_flight"] for doc in docs))


def test_prefetch_two_holds_two_even_for_a_client_with_a_larger_window(flows):
    flow = flows(Flow(host="127.0.0.1", prefetch=2).add(uses=IN_FLIGHT))
    pulled = [0]
    with Client(port=flow.port, prefetch=1000) as client:  # the client would send 1000 at once
        docs = client.post("/", inputs=endless(pulled), request_size=1, parameters={"seconds": 0.01})
    assert len(docs) == 200 and pulled[0] == 200
    assert peak(docs) == 2


def test_seed_sample_form_flow_post_with_prefetch(flows):
    flow = flows(Flow(host="127.0.0.1", prefetch=2).add(uses=IN_FLIGHT))
    docs = flow.post(on="/", inputs=endless([0]), request_size=1, parameters={"seconds": 0.005})
    assert len(docs) == 200 and peak(docs) == 2


def test_prefetch_zero_is_no_limit(flows):
    flow = flows(Flow(host="127.0.0.1", prefetch=0).add(uses=IN_FLIGHT))
    with Client(port=flow.port) as client:
        docs = client.post("/", inputs=endless([0], 50), request_size=1, parameters={"seconds": 0.3})
    assert peak(docs) > 10


def test_per_call_prefetch(flows):
    flow = flows(Flow(host="127.0.0.1", prefetch=0).add(uses=IN_FLIGHT))
    with Client(port=flow.port) as client:
        docs = client.post("/", inputs=endless([0], 40), request_size=1, prefetch=3, parameters={"seconds": 0.02})
    assert peak(docs) == 3


def test_over_websocket_prefetch_two_completes_without_deadlock(flows):
    flow = flows(Flow(protocol="websocket", host="127.0.0.1", prefetch=2).add(uses=IN_FLIGHT))
    with Client(port=flow.port, protocol="websocket", prefetch=1000) as client:
        docs = client.post("/", inputs=endless([0]), request_size=1, parameters={"seconds": 0.005})
    assert len(docs) == 200 and peak(docs) == 2
