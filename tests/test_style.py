"""The code base stays ruff-clean (lint and format), generated stubs excepted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def ruff() -> str:
    found = Path(sys.executable).with_name("ruff")
    if not found.exists():
        found = shutil.which("ruff")
    if not found:
        pytest.fail("ruff is missing: pip install -e '.[test]'")
    return str(found)


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff(args):
    result = subprocess.run([ruff(), *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
