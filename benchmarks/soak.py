"""Soak: many clients over gRPC, HTTP and WebSocket for a while, with processes of the Flow killed on a schedule.

Run:  .venv/bin/python benchmarks/soak.py [--clients 32] [--seconds 60] [--no-faults]

The script starts a Flow (gateway, bridge, an executor with two replicas, then a single-replica
one) and runs `--clients` asyncio clients of our own `jina.Client`, spread round-robin over the
three protocols. Each sends one request at a time, each request with documents whose ids occur
nowhere else in the run; both executors tag every document with its own id, so each answer can
be checked. Meanwhile faults are injected (SIGKILL): one replica, the single-replica executor,
the gateway; the Flow's supervisor restarts each.

Every request ends one way:
  answered    a response came (it is also checked: `mismatched` when its documents are not the
              ones sent, each tagged by both executors; `duplicated` when a document came back
              in more than one answer, or a request got more than one answer)
  failed      post() raised an error the Flow or the connection reported (by cause in a table)
  lost        neither: post() ended with no answer and no error, or the client's own deadline
              passed with no word from the Flow (NoAnswer: the gateway must answer a request's
              deadline itself), or the request was still open when the run ended

Exit status 1 when any request was lost, duplicated or mismatched (failed ones are reported only).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import sys
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from docarray import Document, DocumentArray
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jina import Client, Executor, Flow, requests
from jina.excepts import ExecutorError, NoAnswer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.table import print_table  # noqa: E402

PROTOCOLS = ("grpc", "http", "websocket")
DOCS_PER_REQUEST = 4
#: each request's deadline (s): the gateway answers by then, with an error if it must
REQUEST_TIMEOUT = 20.0
#: how long the clients get, after the run, to finish the request each has open
DRAIN = REQUEST_TIMEOUT + 10.0
#: how long a client waits after a failed request before its next one (as a client with a retry policy would)
FAILURE_PAUSE = 0.2
#: when each fault happens, as a fraction of the run, and which process it hits
FAULTS = ((0.2, "replicated/rep-0"), (0.45, "single"), (0.7, "gateway"))
#: how long to wait for a killed process to be started again by the supervisor
RESTART_WAIT = 30.0


class Tagger(Executor):
    """Tags every document with its own id under this executor's name (what the soak checks)."""

    @requests
    def tag(self, docs: DocumentArray, **kwargs):
        for doc in docs:
            doc.tags[self.metas.name] = doc.id


# -- bookkeeping ------------------------------------------------------------------------------------


@dataclass
class Tally:
    """One protocol's outcomes."""

    sent: int = 0
    answered: int = 0
    lost: int = 0
    duplicated: int = 0
    mismatched: int = 0
    failed: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    #: cause → the end of the first such error's traceback
    first_errors: dict[str, str] = field(default_factory=dict)

    def note(self, what: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(what)


@dataclass
class FaultRecord:
    at: float
    target: str
    old_pid: int | None
    new_pid: int | None = None
    #: seconds from the kill until the supervisor started it again (a new pid), and until it answered
    #: its health check with SERVING
    restarted_after: float | None = None
    serving_after: float | None = None


class Ledger:
    """Every document id handed out, and every one seen in an answer (to find duplicates across answers)."""

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.seen: set[str] = set()

    def documents(self, client: int, seq: int) -> DocumentArray:
        return DocumentArray(
            [Document(id=f"{self.run}-{client}-{seq}-{k}", text=f"soak {k}") for k in range(DOCS_PER_REQUEST)]
        )

    def first_sighting(self, ids: list[str]) -> bool:
        """Record `ids` as answered; False when any of them was answered before."""
        fresh = not (self.seen.intersection(ids) or len(set(ids)) != len(ids))
        self.seen.update(ids)
        return fresh


# -- checking one answer ------------------------------------------------------------------------------


EXECUTORS = ("replicated", "single")


def mismatch(sent: DocumentArray, answer: DocumentArray) -> str | None:
    """What is wrong with `answer` to `sent` (None: nothing)."""
    if [d.id for d in answer] != [d.id for d in sent]:
        return f"ids {[d.id for d in answer]} for {[d.id for d in sent]}"
    for doc in answer:
        tags = {name: doc.tags.get(name) for name in EXECUTORS}
        if any(value != doc.id for value in tags.values()):
            return f"{doc.id}: tags {tags}"
        if doc.text != sent[doc.id].text:
            return f"{doc.id}: text {doc.text!r}"
    return None


_STATUS_NAMES = "|".join(code.name for code in grpc.StatusCode)


def cause_of(error: BaseException) -> str:
    """The exception's type with the gRPC status or HTTP code its message names, if any."""
    name = type(error).__name__
    if isinstance(error, ExecutorError):
        return f"{name} {error.exception_name}"
    text = str(error)
    status = re.search(r"\bHTTP (\d{3})\b", text) or re.search(rf"\b({_STATUS_NAMES})\b", text)
    if status:
        return f"{name} {status.group(1)}"
    close = re.search(r"\b(1\d{3}) \(", text)  # websockets words a close as `received 1011 (internal error)`
    return f"{name} close {close.group(1)}" if close else name


# -- the clients ----------------------------------------------------------------------------------


def count_failure(error: BaseException, tally: Tally) -> None:
    cause = cause_of(error)
    if cause not in tally.failed:
        tally.first_errors[cause] = "".join(traceback.format_exception(error)[-3:]).strip()
    tally.failed[cause] += 1


def count_answers(sent: DocumentArray, answers: list[DocumentArray], tally: Tally, ledger: Ledger) -> None:
    """A post() that ended without an error: answered (and checked), or lost when nothing came."""
    if not answers:
        tally.lost += 1
        tally.note(f"lost (post() ended without an answer): {sent[0].id}")
        return
    tally.answered += 1
    ids = [d.id for answer in answers for d in answer]
    if len(answers) > 1 or not ledger.first_sighting(ids):
        tally.duplicated += 1
        tally.note(f"duplicated: {sent[0].id} ({len(answers)} answers)")
    wrong = mismatch(sent, answers[0])
    if wrong:
        tally.mismatched += 1
        tally.note(f"mismatched: {wrong}")


async def one_request(client, docs: DocumentArray, tally: Tally, ledger: Ledger) -> None:
    """Send one request, wait for its answer, and count how it ended."""
    tally.sent += 1
    started = time.perf_counter()
    answers: list[DocumentArray] = []
    try:
        async for answer in client.post("/", docs, request_size=len(docs), timeout=REQUEST_TIMEOUT):
            answers.append(answer)
    except NoAnswer as err:  # the Flow let the request's deadline pass without a word
        tally.lost += 1
        tally.note(f"lost (client deadline): {docs[0].id}: {err}")
        return
    except Exception as err:  # noqa: BLE001  (every error is counted by its cause)
        count_failure(err, tally)
        await asyncio.sleep(FAILURE_PAUSE)
        return
    if answers:
        tally.latencies.append(time.perf_counter() - started)
    count_answers(docs, answers, tally, ledger)


def make_client(flow: Flow, protocol: str):
    return Client(host="127.0.0.1", port=flow.ports[protocol], protocol=protocol, asyncio=True)


async def run_client(index: int, flow: Flow, protocol: str, until: float, tally: Tally, ledger: Ledger) -> None:
    """One client: requests one after the other until `until` (monotonic time)."""
    client = make_client(flow, protocol)
    seq = 0
    try:
        while time.monotonic() < until:
            await one_request(client, ledger.documents(index, seq), tally, ledger)
            seq += 1
    finally:
        await client.close()


# -- faults -----------------------------------------------------------------------------------------


async def wait_restarted(flow: Flow, name: str, old_pid: int) -> int | None:
    """The new pid of `name` once the supervisor started it again (None: not within RESTART_WAIT)."""
    deadline = time.monotonic() + RESTART_WAIT
    while time.monotonic() < deadline:
        pid = flow.pids.get(name)
        if pid is not None and pid != old_pid:
            return pid
        await asyncio.sleep(0.05)
    return None


async def serving(address: str) -> bool:
    """One health check on a fresh channel (a channel that failed to connect would wait out its backoff)."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.aio.AioRpcError:
            return False
    return answer.status == health_pb2.HealthCheckResponse.SERVING


async def wait_serving(address: str) -> bool:
    """Poll a process's gRPC health check until it says SERVING (False: not within RESTART_WAIT)."""
    deadline = time.monotonic() + RESTART_WAIT
    while time.monotonic() < deadline:
        if await serving(address):
            return True
        await asyncio.sleep(0.05)
    return False


async def kill_and_watch(flow: Flow, name: str, record: FaultRecord) -> None:
    """SIGKILL `name` (not reaped here: the Flow's supervisor does) and time its way back."""
    killed = time.monotonic()
    os.kill(record.old_pid, signal.SIGKILL)
    record.new_pid = await wait_restarted(flow, name, record.old_pid)
    if record.new_pid is None:
        return
    record.restarted_after = time.monotonic() - killed
    if await wait_serving(flow.addresses[name]):
        record.serving_after = time.monotonic() - killed


async def inject_faults(flow: Flow, started: float, seconds: float) -> list[FaultRecord]:
    """Kill each process of FAULTS at its time in the run."""
    records = []
    for fraction, name in FAULTS:
        await asyncio.sleep(max(0.0, started + fraction * seconds - time.monotonic()))
        record = FaultRecord(at=time.monotonic() - started, target=name, old_pid=flow.pids.get(name))
        records.append(record)
        if record.old_pid is not None:
            await kill_and_watch(flow, name, record)
    return records


# -- memory ----------------------------------------------------------------------------------------


def rss_from_proc(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def rss_bytes(pid: int) -> int | None:
    """A process's resident set size (psutil when installed, else /proc); None when it is gone."""
    try:
        import psutil
    except ImportError:
        return rss_from_proc(pid)
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return None


def memory_snapshot(flow: Flow) -> dict[str, tuple[int, int | None]]:
    """process name → (pid, RSS bytes), this script's own process included."""
    pids = {"soak (clients, Flow object)": os.getpid(), **flow.pids}
    return {name: (pid, rss_bytes(pid)) for name, pid in pids.items()}


# -- the run ---------------------------------------------------------------------------------------


def build_flow() -> Flow:
    return (
        Flow(protocol=list(PROTOCOLS), host="127.0.0.1")
        .add(uses=Tagger, name="replicated", replicas=2)
        .add(uses=Tagger, name="single")
    )


async def soak(flow: Flow, clients: int, seconds: float, faults: bool) -> tuple[dict[str, Tally], list[FaultRecord]]:
    """Run the clients (and the faults) for `seconds`; each client's open request gets DRAIN s more."""
    ledger = Ledger()
    tallies = {protocol: Tally() for protocol in PROTOCOLS}
    started = time.monotonic()
    until = started + seconds
    tasks = [
        asyncio.create_task(run_client(i, flow, PROTOCOLS[i % 3], until, tallies[PROTOCOLS[i % 3]], ledger))
        for i in range(clients)
    ]
    fault_task = asyncio.create_task(inject_faults(flow, started, seconds)) if faults else None
    _, pending = await asyncio.wait(tasks, timeout=seconds + DRAIN)
    for task in pending:  # still waiting for an answer after the drain: those requests are lost
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for tally in tallies.values():
        unaccounted = tally.sent - tally.answered - tally.lost - sum(tally.failed.values())
        if unaccounted:
            tally.lost += unaccounted
            tally.note(f"lost: {unaccounted} request(s) still open {DRAIN:g} s after the run")
    records = await fault_task if fault_task is not None else []
    return tallies, records


# -- the report ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0] * 1000:.1f}"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1] * 1000:.1f}"


def outcome_rows(tallies: dict[str, Tally]) -> list[list[str]]:
    rows = []
    total = Tally()
    for protocol, tally in tallies.items():
        rows.append(tally_row(protocol, tally))
        for name in ("sent", "answered", "lost", "duplicated", "mismatched"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        total.failed.update(tally.failed)
        total.latencies.extend(tally.latencies)
    rows.append(tally_row("all", total))
    return rows


def tally_row(name: str, tally: Tally) -> list[str]:
    counts = (tally.sent, tally.answered, tally.lost, tally.duplicated, tally.mismatched, sum(tally.failed.values()))
    return [name, *map(str, counts), percentile(tally.latencies, 50), percentile(tally.latencies, 99)]


def failure_rows(tallies: dict[str, Tally]) -> list[list[str]]:
    return [
        [protocol, cause, str(count)]
        for protocol, tally in tallies.items()
        for cause, count in sorted(tally.failed.items(), key=lambda item: -item[1])
    ]


def fault_rows(records: list[FaultRecord]) -> list[list[str]]:
    def show(value: object, fmt: str = "{}") -> str:
        return "-" if value is None else fmt.format(value)

    return [
        [
            f"{r.at:.1f}",
            r.target,
            show(r.old_pid),
            show(r.new_pid),
            show(r.restarted_after, "{:.2f}"),
            show(r.serving_after, "{:.2f}"),
        ]
        for r in records
    ]


def memory_rows(before: dict[str, tuple[int, int | None]], after: dict[str, tuple[int, int | None]]) -> list[list[str]]:
    def mib(value: int | None) -> str:
        return "-" if value is None else f"{value / 2**20:.1f}"

    rows = []
    for name in before.keys() | after.keys():
        pid0, rss0 = before.get(name, (None, None))
        pid1, rss1 = after.get(name, (None, None))
        pids = f"{pid0}" if pid0 == pid1 else f"{pid0} -> {pid1}"
        rows.append([name, pids, mib(rss0), mib(rss1)])
    return sorted(rows)


def report(args: argparse.Namespace, tallies, records, before, after, elapsed: float) -> None:
    faults = "no faults" if args.no_faults else "faults: " + ", ".join(name for _, name in FAULTS)
    title = f"soak: {args.clients} clients, {args.seconds:g} s ({elapsed:.0f} s with the drain), {faults}"
    header = ["protocol", "sent", "answered", "lost", "duplicated", "mismatched", "failed", "p50 ms", "p99 ms"]
    print_table(title, header, outcome_rows(tallies))
    failures = failure_rows(tallies)
    if failures:
        print_table("failed requests by cause", ["protocol", "cause", "requests"], failures)
    if records:
        header = ["at s", "SIGKILL", "pid", "new pid", "restarted after s", "SERVING after s"]
        print_table("faults injected", header, fault_rows(records))
    print_table("memory (RSS, MiB)", ["process", "pid", "start", "end"], memory_rows(before, after))
    for protocol, tally in tallies.items():
        for cause, error in tally.first_errors.items():
            print(f"\nfirst {cause} over {protocol}:\n  " + error.replace("\n", "\n  "))
    examples = [example for tally in tallies.values() for example in tally.examples]
    if examples:
        print("\nexamples of what went wrong:")
        for example in examples:
            print(f"  {example}")


def broken(tallies: dict[str, Tally]) -> bool:
    return any(t.lost or t.duplicated or t.mismatched for t in tallies.values())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients, round-robin over the protocols")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients send requests")
    parser.add_argument("--no-faults", action="store_true", help="kill nothing (a baseline)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with build_flow() as flow:
        before = memory_snapshot(flow)
        started = time.monotonic()
        tallies, records = asyncio.run(soak(flow, args.clients, args.seconds, not args.no_faults))
        elapsed = time.monotonic() - started
        after = memory_snapshot(flow)
    report(args, tallies, records, before, after, elapsed)
    if broken(tallies):
        print("\nFAIL: requests were lost, duplicated or mismatched")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
