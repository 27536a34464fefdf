"""The distribution installs `jina` and `jina_mesh` only: no generic top-level name lands in site-packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.conftest import ROOT


def test_the_wheel_holds_jina_and_jina_mesh_only(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("jina_mesh-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"jina", "jina_mesh"}
    assert "jina_mesh/services/gateway/router.py" in names
    assert "jina_mesh/bridge/app.py" in names
    assert not any(name.startswith("jina_mesh/__init__") for name in names), "jina_mesh is a namespace"
