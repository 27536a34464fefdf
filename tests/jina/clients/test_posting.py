"""post() as every client runs it, over fake connections and a mocked HTTP gateway: no sockets."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from jina.clients.grpc import AsyncGRPCClient
from jina.clients.hosts import resolve_address
from jina.clients.http import AsyncHTTPClient, HTTPClient
from jina.clients.posting import AsyncPostingClient, PostingClient, SharedConnection
from jina.documents import Document
from jina.excepts import BadServer
from jina.flow.ports import free_port
from jina.proto import jina_pb2

ADDRESS = resolve_address("127.0.0.1", 1)
TEXTS = [str(i) for i in range(7)]


def answer_to(request: jina_pb2.DataRequestProto) -> jina_pb2.DataRequestProto:
    response = jina_pb2.DataRequestProto()
    response.CopyFrom(request)
    for doc in response.data.docs.docs:
        doc.text += "!"
    return response


class FakeConnection:
    """Holds requests until the window is full (or the inputs are used up), then answers them newest first."""

    def __init__(self, window: int, total: int, fail_after: int | None = None, error: BaseException | None = None):
        self.window = window
        self.total = total
        self.fail_after = fail_after  # answers before `error` goes to the inbox instead
        self.error = error or ConnectionError("the fake gateway went away")
        self.sent: list[str] = []
        self.held: list[jina_pb2.DataRequestProto] = []
        self.answered: list[str] = []
        self.forgotten: list[str] = []
        self.most_in_flight = 0

    def _take(self, request: jina_pb2.DataRequestProto, queued: int) -> list:
        # in flight as the post() counts: sent, and not yet taken out of its inbox
        self.most_in_flight = max(self.most_in_flight, len(self.sent) - len(self.answered) + queued + 1)
        self.sent.append(request.header.request_id)
        self.held.append(request)
        if len(self.held) < min(self.window, self.total - len(self.answered)):
            return []
        batch, self.held = self.held[::-1], []
        out = []
        for held in batch:
            if self.fail_after is not None and len(self.answered) == self.fail_after:
                return [*out, self.error]
            self.answered.append(held.header.request_id)
            out.append((held.header.request_id, answer_to(held)))
        return out

    def send(self, request, inbox) -> None:
        for answer in self._take(request, inbox.qsize()):
            inbox.put(answer)

    def forget(self, request_ids: list[str]) -> None:
        self.forgotten.extend(request_ids)


class AsyncFakeConnection(FakeConnection):
    async def send(self, request, inbox) -> None:
        for answer in self._take(request, inbox.qsize()):
            inbox.put_nowait(answer)


class FakeClient(PostingClient):
    def __init__(self, connection: FakeConnection | Exception):
        super().__init__(ADDRESS)
        self.connection = connection

    def _open(self):
        if isinstance(self.connection, Exception):
            raise self.connection
        return self.connection

    def _dry_run(self, timeout):
        raise ConnectionError("nobody there")

    def close(self) -> None:
        pass


class AsyncFakeClient(AsyncPostingClient):
    def __init__(self, connection: AsyncFakeConnection | Exception):
        super().__init__(ADDRESS)
        self.connection = connection

    async def _open(self):
        if isinstance(self.connection, Exception):
            raise self.connection
        return self.connection

    async def _dry_run(self, timeout):
        return jina_pb2.StatusProto()

    async def close(self) -> None:
        pass


def docs(texts=TEXTS) -> list[Document]:
    return [Document(text=text) for text in texts]


# -- the synchronous post() ------------------------------------------------------------------


@pytest.mark.parametrize("window", [1, 3, 1000])
def test_results_in_order_undoes_the_gateways_order(window):
    fake = FakeConnection(window, len(TEXTS))
    result = FakeClient(fake).post("/", docs(), request_size=1, prefetch=window, results_in_order=True)
    assert result.texts == [f"{text}!" for text in TEXTS]
    assert fake.most_in_flight == min(window, len(TEXTS))
    assert fake.forgotten == []


def test_without_results_in_order_responses_come_as_answered():
    fake = FakeConnection(3, len(TEXTS))
    result = FakeClient(fake).post("/", docs(), request_size=1, prefetch=3)
    assert result.texts == ["2!", "1!", "0!", "5!", "4!", "3!", "6!"]
    assert fake.most_in_flight == 3


def test_the_clients_prefetch_is_the_default_window():
    fake = FakeConnection(2, len(TEXTS))
    client = FakeClient(fake)
    client.prefetch = 2
    assert len(client.post("/", docs(), request_size=1, results_in_order=True)) == len(TEXTS)
    assert fake.most_in_flight == 2


def test_a_broken_connection_goes_to_on_error_and_the_rest_is_forgotten():
    fake = FakeConnection(3, len(TEXTS), fail_after=1)
    errors, done = [], []
    FakeClient(fake).post("/", docs(), request_size=1, prefetch=3, on_error=errors.append, on_done=done.append)
    assert [type(error) for error in errors] == [ConnectionError]
    assert [response.docs.texts for response in done] == [["2!"]]
    assert sorted(fake.forgotten) == sorted(set(fake.sent) - set(fake.answered))
    assert len(fake.forgotten) == 3  # two answered after the failure, one sent meanwhile


def test_a_broken_connection_raises_without_on_error():
    with pytest.raises(ConnectionError, match="went away"):
        FakeClient(FakeConnection(3, len(TEXTS), fail_after=0)).post("/", docs(), request_size=1, prefetch=3)


def test_a_failed_request_goes_to_on_error_like_a_broken_connection():
    fake = FakeConnection(1, 1, fail_after=0, error=BadServer("the gateway answered nonsense"))
    errors = []
    assert len(FakeClient(fake).post("/", docs(["x"]), on_error=errors.append)) == 0
    assert isinstance(errors[0], BadServer)


def test_anything_else_in_the_inbox_is_raised_even_with_on_error():
    fake = FakeConnection(1, 1, fail_after=0, error=RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        FakeClient(fake).post("/", docs(["x"]), on_error=lambda error: None)


def test_a_connection_already_broken_fails_the_send_and_forgets_the_request():
    class Broken(FakeConnection):
        def send(self, request, inbox):
            self.sent.append(request.header.request_id)
            raise ConnectionError("broken before")

    fake = Broken(1, 1)
    errors = []
    FakeClient(fake).post("/", docs(["x"]), on_error=errors.append)
    assert str(errors[0]) == "broken before"
    assert fake.forgotten == fake.sent


def test_a_connection_that_cannot_be_opened_goes_to_on_error():
    errors = []
    assert len(FakeClient(ConnectionError("cannot open")).post("/", docs(), on_error=errors.append)) == 0
    assert str(errors[0]) == "cannot open"
    with pytest.raises(ConnectionError, match="cannot open"):
        FakeClient(ConnectionError("cannot open")).post("/", docs())


def test_is_flow_ready_and_the_context_manager():
    with FakeClient(FakeConnection(1, 1)) as client:
        assert not client.is_flow_ready()
        assert (client.host, client.port) == ("127.0.0.1", 1)


class EchoTwice(SharedConnection):
    """A shared connection whose server answers every request twice (a duplicate on the wire)."""

    def send(self, request, inbox) -> None:
        self._expect(request, inbox)
        self._deliver(answer_to(request))
        self._deliver(answer_to(request))


def test_a_shared_connection_delivers_one_answer_per_request_and_then_forgets_it():
    shared = EchoTwice()
    result = FakeClient(shared).post("/", docs(), request_size=1, prefetch=3)
    assert sorted(result.texts) == sorted(f"{text}!" for text in TEXTS)  # no duplicate became a result
    assert shared._inboxes == {}  # a long-lived client keeps no id it was answered for


# -- the asyncio post() ----------------------------------------------------------------------


async def collect(client: AsyncPostingClient, **kwargs) -> list:
    return [item async for item in client.post("/", docs(), request_size=1, **kwargs)]


def test_async_post_yields_documents_in_order_or_as_answered():
    in_order = asyncio.run(collect(AsyncFakeClient(AsyncFakeConnection(3, 7)), prefetch=3, results_in_order=True))
    assert [d.texts for d in in_order] == [[f"{text}!"] for text in TEXTS]
    answered = asyncio.run(collect(AsyncFakeClient(AsyncFakeConnection(3, 7)), prefetch=3))
    assert [d.texts[0] for d in answered] == ["2!", "1!", "0!", "5!", "4!", "3!", "6!"]


def test_async_post_yields_responses_and_calls_back():
    always = []
    responses = asyncio.run(
        collect(AsyncFakeClient(AsyncFakeConnection(2, 7)), prefetch=2, return_responses=True, on_always=always.append)
    )
    assert [r.docs.texts for r in responses] == [r.docs.texts for r in always]
    assert sorted(r.docs.texts[0] for r in responses) == sorted(f"{text}!" for text in TEXTS)


def test_async_failures_go_to_on_error_and_leaving_early_forgets_the_rest():
    fake = AsyncFakeConnection(3, 7, fail_after=2)
    errors = []
    assert len(asyncio.run(collect(AsyncFakeClient(fake), prefetch=3, on_error=errors.append))) == 2
    assert isinstance(errors[0], ConnectionError)
    assert sorted(fake.forgotten) == sorted(set(fake.sent) - set(fake.answered))

    async def first_only(fake):
        posting = AsyncFakeClient(fake).post("/", docs(), request_size=1, prefetch=3)
        first = await anext(posting)
        await posting.aclose()
        return first

    fake = AsyncFakeConnection(3, 7)
    assert asyncio.run(first_only(fake)).texts == ["2!"]
    assert sorted(fake.forgotten) == sorted(fake.sent[:2])


def test_async_open_failures_and_readiness():
    async def run():
        errors = []
        client = AsyncFakeClient(ConnectionError("cannot open"))
        assert [x async for x in client.post("/", docs(), on_error=errors.append)] == []
        with pytest.raises(ConnectionError, match="cannot open"):
            async for _ in client.post("/", docs()):
                pass
        async with client:
            return errors, await client.is_flow_ready()

    errors, ready = asyncio.run(run())
    assert str(errors[0]) == "cannot open" and ready


def test_async_grpc_readiness_logs_the_gateway_nobody_listens_at(caplog):
    client = AsyncGRPCClient(resolve_address("127.0.0.1", free_port()))

    async def run():
        async with client:
            ready = await client.is_flow_ready(timeout=2)
            # Jina's old name: the same bool, with Jina's DeprecationWarning
            with pytest.warns(DeprecationWarning, match="`dry_run` is renamed to `is_flow_ready`"):
                old_name = await client.dry_run(timeout=2)
            return ready, old_name

    with caplog.at_level("INFO", logger="jina.client"):
        assert asyncio.run(run()) == (False, False)
    assert f"gRPC call to {client.address.target} failed: UNAVAILABLE" in caplog.text


# -- HTTP: answers matched to requests although the gateway gives them new ids ----------------


def delay(request: httpx.Request) -> float:
    # later requests are answered sooner
    return 0.02 * (8 - int(json.loads(request.content)["data"][0]["text"]))


def gateway_reply(request: httpx.Request) -> httpx.Response:
    # every answer carries the gateway's own request id, as real Jina's HTTP gateway's do
    text = json.loads(request.content)["data"][0]["text"]
    return httpx.Response(200, json={"header": {"requestId": f"gw-{text}"}, "data": [{"text": text + "!"}]})


def test_http_matches_answers_to_requests_by_position_and_keeps_the_gateways_ids():
    threads = []

    def handler(request: httpx.Request) -> httpx.Response:
        threads.append(threading.current_thread())
        time.sleep(delay(request))
        return gateway_reply(request)

    client = HTTPClient(resolve_address("127.0.0.1", 1, "http"))
    client._http = httpx.Client(base_url=client.url, transport=httpx.MockTransport(handler))
    client._pool = ThreadPoolExecutor(max_workers=4)
    try:
        responses = client.post("/", docs(TEXTS), request_size=1, results_in_order=True, return_responses=True)
        assert [r.docs.texts for r in responses] == [[f"{text}!"] for text in TEXTS]
        assert [r.request_id for r in responses] == [f"gw-{text}" for text in TEXTS]
        assert threading.main_thread() not in threads
        # a post() of one request is sent from the calling thread
        threads.clear()
        assert client.post("/", Document(text="7")).texts == ["7!"]
        assert threads == [threading.main_thread()]
    finally:
        client._pool.shutdown()
        client._http.close()


def test_async_http_matches_answers_to_requests_by_position():
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(delay(request))
        return gateway_reply(request)

    async def run():
        client = AsyncHTTPClient(resolve_address("127.0.0.1", 1, "http"))
        client._loop = asyncio.get_running_loop()
        client._http = httpx.AsyncClient(base_url=client.url, transport=httpx.MockTransport(handler))
        async with client:
            ordered = [r async for r in client.post("/", docs(), request_size=1, results_in_order=True)]
            unordered = [r async for r in client.post("/", docs(), request_size=1, return_responses=True)]
        return ordered, unordered

    ordered, unordered = asyncio.run(run())
    assert [d.texts for d in ordered] == [[f"{text}!"] for text in TEXTS]
    assert [r.request_id for r in unordered] == [f"gw-{text}" for text in reversed(TEXTS)]
