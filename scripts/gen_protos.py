"""Generate the Python stubs from protos/ (run after editing a .proto; a test checks they are fresh)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (include dirs, proto file, output package dir relative to the output root); protoc names a file
# by its path below the first include dir holding it, and writes its stub at that path
_UNITS = [
    (["protos"], "protos/docarray.proto", "jina/proto"),
    (["protos"], "protos/jina.proto", "jina/proto"),
    # the gateway's own view of a data request: named `passthrough.proto`, its stub next to the gateway
    (["protos/jina_mesh", "protos"], "protos/jina_mesh/passthrough.proto", "services/gateway"),
]

# protoc writes `import jina_pb2 as ...`; the stubs live in packages, so imports are rewritten.
_IMPORT_REWRITES = {
    "docarray_pb2": "jina.proto",
    "jina_pb2": "jina.proto",
}


def _rewrite_imports(text: str) -> str:
    for module, package in _IMPORT_REWRITES.items():
        text = re.sub(rf"^import {module} as ", f"from {package} import {module} as ", text, flags=re.M)
    return text


def generate(out_root: Path) -> list[Path]:
    """Write every generated stub under out_root; return the written paths (relative)."""
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    written: list[Path] = []
    for includes, proto, out_dir in _UNITS:
        target = out_root / out_dir
        target.mkdir(parents=True, exist_ok=True)
        args = ["grpc_tools.protoc"]
        args += [f"-I{ROOT / inc}" for inc in includes] + [f"-I{well_known}"]
        with_grpc = proto.endswith("jina.proto")
        args += [f"--python_out={target}", f"--pyi_out={target}"]
        if with_grpc:
            args.append(f"--grpc_python_out={target}")
        args.append(str(ROOT / proto))
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {proto}")
        stem = Path(proto).stem
        suffixes = ["_pb2.py", "_pb2.pyi"] + (["_pb2_grpc.py"] if with_grpc else [])
        for suffix in suffixes:
            path = target / f"{stem}{suffix}"
            path.write_text(_rewrite_imports(path.read_text()))
            written.append(Path(out_dir) / path.name)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    for p in generate(out):
        print(p)
