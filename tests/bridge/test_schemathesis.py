"""The OpenAPI document tells the truth: schemathesis fuzzes a real Flow from its own `/openapi.json`.

Every operation gets schema-valid and schema-violating requests (schemathesis's `examples` and
`fuzzing` phases, positive and negative data). The run fails on a 5xx; on a response whose body,
status code, content type or headers the document does not describe (errors included: the one
`{"error": {...}}` shape); on a valid request refused, an invalid one accepted, or a method the
route does not have answered otherwise than 405.

One refusal is excused (`filter_failure` below, loaded into schemathesis from this file): JSON
Schema cannot say that a tensor's rows all have the same length, so a ragged `tensor`/`embedding`
that the document cannot forbid is answered 422, and only that 422 is not counted.

Bounded for CI: a fixed number of cases per operation and a fixed seed, so a run is repeatable;
`SCHEMATHESIS_SEED` and `SCHEMATHESIS_MAX_EXAMPLES` explore further. schemathesis runs as its
command line in a subprocess (its own process group, stopped by PID on a timeout), in a scratch
directory so that nothing it writes lands in the work tree.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import schemathesis

from jina import Flow
from jina.flow.ports import free_port
from tests.bridge.executors_http import EpExecutor

#: every check of schemathesis 4 that applies to an API without auth or state (named, not `all`,
#: so that a check added by a later release is a decision, not a surprise in CI)
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
)
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261202"))
#: seconds the fuzzer may take (it takes about 40 s for 25 cases on each of the 10 operations)
RUN_TIMEOUT = 150
_REPORT_CHARS = 20_000
ROOT = Path(__file__).resolve().parents[2]


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure but "a valid request refused" whose only complaint is a ragged tensor."""
    if failure.code != "ST202" or response is None or response.status_code != 422:
        return True
    try:
        details = json.loads(response.content)["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return True
    ragged = bool(details) and all(
        isinstance(d, dict)
        and str(d.get("location", "")).endswith((".tensor", ".embedding"))
        and "regular shape" in str(d.get("message", ""))
        for d in details
    )
    return not ragged


@pytest.fixture(scope="module")
def flow_url():
    # the default routes (debug, CRUD, health) and an exposed one
    flow = Flow(protocol="http", host="127.0.0.1", port=free_port()).add(uses=EpExecutor)
    flow.expose_endpoint("/foo", summary="my endpoint")
    try:
        flow.start()
        yield f"http://127.0.0.1:{flow.port}"
    finally:
        flow.close()


def _operations(url: str) -> int:
    document = httpx.get(url + "/openapi.json", timeout=30).json()
    verbs = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    return sum(1 for item in document["paths"].values() for verb in item if verb in verbs)


def _environment() -> dict[str, str]:
    """This file is schemathesis's hooks module too; it imports `tests.…`, so the work tree goes on the path."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "SCHEMATHESIS_HOOKS": str(Path(__file__).resolve()), "PYTHONPATH": path}


def _run_schemathesis(url: str, workdir) -> tuple[int, str]:
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,fuzzing",
        "--mode",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "4",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--max-failures",
        "20",
        "--no-color",
    ]
    process = subprocess.Popen(
        argv,
        cwd=workdir,
        env=_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopped whole on a timeout
    )
    try:
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"schemathesis did not finish in {RUN_TIMEOUT} s; its output so far:\n{output[-_REPORT_CHARS:]}")
    return process.returncode, output


def _report(output: str) -> str:
    """The failures section and the summary (each failure with a curl line that reproduces it)."""
    start = output.find("=== FAILURES")
    if start < 0:
        start = output.find("=== ERRORS")
    text = output[start:] if start >= 0 else output
    if len(text) > _REPORT_CHARS:
        text = text[: _REPORT_CHARS // 2] + "\n[... cut ...]\n" + text[-_REPORT_CHARS // 2 :]
    return text


@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_the_flow_answers_what_its_openapi_document_says(flow_url, tmp_path):
    operations = _operations(flow_url)
    assert operations >= 10  # /, /status, /dry_run, /endpoints, /post, 4 CRUD routes, /foo
    started = time.monotonic()
    code, output = _run_schemathesis(flow_url, tmp_path)
    elapsed = time.monotonic() - started
    assert code == 0, (
        f"schemathesis {' '.join(CHECKS)} (seed {SEED}, {MAX_EXAMPLES} cases per operation) found where "
        f"the Flow and its /openapi.json disagree, in {elapsed:.0f} s:\n\n{_report(output)}"
    )
    # not vacuous: every operation of the document was tested, and cases were sent
    tested = re.search(r"^\s*Tested:\s*(\d+)", output, re.M)
    assert tested is not None and int(tested.group(1)) == operations, output[-_REPORT_CHARS:]
    cases = re.search(r"(\d+) generated", output)
    assert cases is not None and int(cases.group(1)) >= operations * 2, output[-_REPORT_CHARS:]
