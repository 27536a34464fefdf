from __future__ import annotations

from tests.conftest import run_python

CODE = """
import sys, time
from jina_mesh.services.executor import lazy_hubble
lazy_hubble.install()
from docarray import Document, DocumentArray
from docarray.array.mixins.io import pushpull
DocumentArray([Document(text='x')]).to_protobuf()
print('stub' if getattr(sys.modules['hubble'], '__jina_lazy_stub__', False) else 'real')
client_cls = pushpull.HubbleClient._target()  # what push/pull would call
import hubble
print(client_cls is hubble.Client, hubble.login_required.__module__, pushpull.EndpointsV2.upload_artifact)
"""


def test_hubble_loads_only_when_used_and_then_is_the_real_package():
    result = run_python(CODE)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first == "stub"
    assert second.split()[:2] == ["True", "hubble.utils.auth"] or second.startswith("True")


def test_no_stub_when_docarray_is_already_imported():
    result = run_python(
        "import docarray, sys; from jina_mesh.services.executor import lazy_hubble; lazy_hubble.install();"
        "print(getattr(sys.modules['hubble'], '__jina_lazy_stub__', False))"
    )
    assert result.stdout.strip() == "False"
