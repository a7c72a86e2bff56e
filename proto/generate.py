"""Generates the Python code for every contract under ``proto/``.

The one script that writes ``clients/python/fintech/**/*_pb2*.py`` and the
``buf/validate`` module, and the descriptor set Envoy's JSON transcoder loads.
Third-party ``.proto`` sources are never copied into the repository: the
googleapis sources come from the installed ``googleapis-common-protos``, the
well-known types from ``grpc_tools``, and ``buf/validate/validate.proto`` from
the serialized descriptor the installed ``protovalidate`` package embeds.

Usage::

    python proto/generate.py                 # regenerate in place
    python proto/generate.py --out DIR       # write elsewhere (the staleness test)
    python proto/generate.py --image FILE    # also write a lint image with source info
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2

REPO = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO / "proto"
CLIENT_ROOT = REPO / "clients" / "python"
DESCRIPTOR_SET = REPO / "envoy" / "descriptors.binpb"
# The chart carries its own copy (Helm cannot read files outside the chart).
CHART_DESCRIPTOR_SET = REPO / "helm" / "fintech-platform" / "files" / "descriptors.binpb"
VALIDATE_PROTO = "buf/validate/validate.proto"
ERROR_DETAIL_PROTOS = ("google/rpc/error_details.proto", "google/rpc/status.proto")
# The protovalidate release whose embedded descriptor we read; a test pins it.
PROTOVALIDATE_VERSION = "2.1.0"


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"package {module!r} is not installed")
    return Path(spec.origin).parent


def embedded_validate_descriptor() -> bytes:
    """Return the serialized FileDescriptorProto of buf/validate/validate.proto.

    Read from the protovalidate package's generated module without importing
    it: the bytes are the first argument of its ``file_desc(...)`` call.
    """
    source = _package_dir("protovalidate") / "_gen" / "buf" / "validate" / "validate_pb.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "file_desc"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return node.args[0].value
    raise SystemExit(f"no embedded descriptor found in {source}")


def validate_descriptor_set() -> bytes:
    """A FileDescriptorSet holding validate.proto and the well-known types it imports."""
    fds = descriptor_pb2.FileDescriptorSet()
    for module in (descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2):
        fds.file.add().ParseFromString(module.DESCRIPTOR.serialized_pb)
    validate = fds.file.add()
    validate.ParseFromString(embedded_validate_descriptor())
    if validate.name != VALIDATE_PROTO:
        raise SystemExit(f"embedded descriptor is {validate.name!r}, expected {VALIDATE_PROTO!r}")
    return fds.SerializeToString()


def contract_files() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))


def _protoc(args: list[str]) -> None:
    from grpc_tools import protoc

    code = protoc.main(["grpc_tools.protoc", *args])
    if code != 0:
        raise SystemExit(f"protoc failed ({code}): {' '.join(args)}")


def generate(out: Path, descriptor_out: Path | None, image_out: Path | None) -> None:
    """Generate messages, stubs and .pyi files into ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        set_path = Path(tmp) / "validate.binpb"
        set_path.write_bytes(validate_descriptor_set())
        includes = [
            f"--descriptor_set_in={set_path}",
            f"-I{PROTO_ROOT}",
            f"-I{_package_dir('google.api.annotations_pb2').parent.parent}",
            f"-I{_package_dir('grpc_tools') / '_proto'}",
        ]
        files = contract_files()
        out.mkdir(parents=True, exist_ok=True)
        _protoc([*includes, f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}", *files])
        # The validate module our generated code imports, from the same set.
        _protoc([*includes, f"--python_out={out}", f"--pyi_out={out}", VALIDATE_PROTO])
        if descriptor_out is not None:
            descriptor_out.parent.mkdir(parents=True, exist_ok=True)
            # The rich error details too, so Envoy can print them as JSON (convert_grpc_status).
            _protoc(
                [*includes, "--include_imports", f"--descriptor_set_out={descriptor_out}", *files, *ERROR_DETAIL_PROTOS]
            )
        if image_out is not None:
            _protoc(
                [*includes, "--include_imports", "--include_source_info", f"--descriptor_set_out={image_out}", *files]
            )
    _drop_empty_grpc_modules(out)
    _write_package_markers(out)


def _drop_empty_grpc_modules(out: Path) -> None:
    # grpc_python_out writes a *_pb2_grpc.py for every file, services or not.
    for path in out.rglob("*_pb2_grpc.py"):
        if "def add_" not in path.read_text(encoding="utf-8"):
            path.unlink()


def _write_package_markers(out: Path) -> None:
    header = "# Generated by proto/generate.py. DO NOT EDIT.\n"
    for directory in sorted({p.parent for p in out.rglob("*_pb2.py")}):
        current = directory
        while current != out:
            marker = current / "__init__.py"
            if not marker.exists() or marker.read_text(encoding="utf-8") == header:
                marker.write_text(header, encoding="utf-8")
            current = current.parent


def generated_files(root: Path) -> dict[str, bytes]:
    """Map of relative path to content for every generated file under ``root``."""
    result: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        name = path.name
        if name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")) or (
            name == "__init__.py" and path.read_bytes().startswith(b"# Generated by proto/generate.py")
        ):
            result[str(path.relative_to(root))] = path.read_bytes()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="write here instead of clients/python")
    parser.add_argument("--descriptor-out", type=Path, default=None, help="descriptor set for Envoy")
    parser.add_argument("--image", type=Path, default=None, help="also write a buf image with source info")
    args = parser.parse_args(argv)
    if args.out is None:
        # In place: clear old generated files first so removed protos leave nothing behind.
        for rel in generated_files(CLIENT_ROOT):
            (CLIENT_ROOT / rel).unlink()
        for sub in ("fintech", "buf"):
            for d in sorted((CLIENT_ROOT / sub).rglob("*"), reverse=True) if (CLIENT_ROOT / sub).exists() else []:
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()
        generate(CLIENT_ROOT, args.descriptor_out or DESCRIPTOR_SET, args.image)
        if args.descriptor_out is None:
            shutil.copyfile(DESCRIPTOR_SET, CHART_DESCRIPTOR_SET)
    else:
        generate(args.out, args.descriptor_out, args.image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
