"""The user's document's samples, verbatim, each run as its own process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_python

SEED = ROOT.parent / "shared" / "seed" / "000_4d890d780802b54b.txt"
SAMPLES = Path(__file__).parent / "samples"


def test_samples_are_verbatim_copies_of_the_seed():
    if not SEED.exists():
        pytest.skip("the seed document is not next to this checkout")
    seed = SEED.read_text()
    for sample in SAMPLES.glob("*.py"):
        assert sample.read_text().strip() in seed, f"{sample.name} differs from the seed"


@pytest.mark.parametrize("protocol", ["grpc", "http", "websocket"])
def test_seed_sample_prints_foo_was_called(protocol, tmp_path):
    result = run_python(SAMPLES / f"{protocol}_sample.py", cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['foo was called']"
    assert not re.search(r"Traceback", result.stderr), result.stderr
