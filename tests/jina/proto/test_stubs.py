from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, in_ci, run_python


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_match_the_protos(tmp_path):
    written = _load_generator().generate(tmp_path)
    assert written
    stale = [str(p) for p in written if (tmp_path / p).read_text() != (ROOT / p).read_text()]
    assert not stale, f"stale generated stubs (run scripts/gen_protos.py): {stale}"


def test_our_docarray_descriptor_is_docarrays_own():
    from docarray.proto import docarray_pb2 as theirs

    from jina.proto import docarray_pb2 as ours

    assert ours.DESCRIPTOR.serialized_pb == theirs.DESCRIPTOR.serialized_pb
    assert ours.DocumentProto is theirs.DocumentProto


@pytest.mark.parametrize(
    "code",
    [
        "import jina.proto.jina_pb2, docarray; from docarray import Document; Document(text='x').to_protobuf()",
        "import docarray; import jina.proto.jina_pb2 as p; p.DataRequestProto().data.docs.docs.add(text='x')",
    ],
)
def test_import_order_does_not_matter(code):
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_gateway_never_imports_docarray():
    code = (
        "import sys, jina_mesh.services.gateway.main, jina_mesh.services.gateway.servicer; "
        "print('docarray' in sys.modules)"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_protoc_compiles_protos_for_cpp_and_java(tmp_path):
    protoc = shutil.which("protoc")
    if protoc is None:
        if in_ci():
            pytest.fail("protoc missing: apt-get install protobuf-compiler")
        pytest.skip("protoc missing: apt-get install protobuf-compiler")
    (tmp_path / "cpp").mkdir()
    (tmp_path / "java").mkdir()
    protos = ROOT / "protos"
    files = [str(p.relative_to(protos)) for p in sorted(protos.rglob("*.proto"))]
    result = subprocess.run(
        [protoc, f"-I{protos}", f"--cpp_out={tmp_path / 'cpp'}", f"--java_out={tmp_path / 'java'}", *files],
        capture_output=True,
        text=True,
        cwd=protos,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cpp" / "jina.pb.h").exists()
    assert list((tmp_path / "java").rglob("*.java"))


def test_every_data_rpc_with_http_meaning_is_annotated():
    from google.api import annotations_pb2

    from jina.proto import jina_pb2

    def rule(service, method):
        options = jina_pb2.DESCRIPTOR.services_by_name[service].methods_by_name[method].GetOptions()
        return options.Extensions[annotations_pb2.http]

    assert rule("JinaInfoRPC", "_status").get == "/status"
    assert rule("JinaGatewayDryRunRPC", "dry_run").get == "/dry_run"
    post = rule("JinaSingleDataRequestRPC", "process_single_data")
    assert (post.post, post.body) == ("/post", "*")
    assert sys.modules["jina.proto.jina_pb2"]
