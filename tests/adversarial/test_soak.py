"""A short soak (benchmarks/soak.py): clients over every protocol while processes of the Flow are killed;
nothing may be lost, duplicated or answered wrongly."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, run_python

pytestmark = pytest.mark.adversarial

SOAK = ROOT / "benchmarks" / "soak.py"


@pytest.mark.timeout(180)
def test_a_short_soak_with_faults_loses_nothing():
    result = run_python(SOAK, "--clients", "8", "--seconds", "15", timeout=170)
    print(result.stdout)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-5000:]}"
    assert "| all " in result.stdout
