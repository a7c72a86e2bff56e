"""The contracts: generated code is fresh, buf lint is clean, the validate descriptor is where we read it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "proto"))
import generate  # noqa: E402


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    descriptor = tmp_path / "descriptors.binpb"
    generate.generate(tmp_path / "out", descriptor, None)
    fresh = generate.generated_files(tmp_path / "out")
    checked_in = generate.generated_files(REPO / "clients" / "python")
    assert sorted(fresh) == sorted(checked_in), "generated file set differs: run `make proto`"
    stale = [name for name, content in fresh.items() if checked_in[name] != content]
    assert not stale, f"stale generated files (run `make proto`): {stale[:5]}"
    assert descriptor.read_bytes() == (REPO / "envoy" / "descriptors.binpb").read_bytes(), "stale Envoy descriptor set"
    chart_copy = REPO / "helm" / "fintech-platform" / "files" / "descriptors.binpb"
    assert descriptor.read_bytes() == chart_copy.read_bytes(), "stale descriptor set in the chart: run `make proto`"


def test_protovalidate_version_and_embedded_descriptor_are_pinned() -> None:
    assert importlib.metadata.version("protovalidate") == generate.PROTOVALIDATE_VERSION
    from google.protobuf import descriptor_pb2

    fd = descriptor_pb2.FileDescriptorProto.FromString(generate.embedded_validate_descriptor())
    assert fd.name == "buf/validate/validate.proto"
    assert any(m.name == "FieldRules" for m in fd.message_type)


def _buf() -> str:
    return str(Path(sys.executable).parent / "buf")


def _lint(image: Path, proto_root: Path) -> subprocess.CompletedProcess[str]:
    paths = [str(p.relative_to(proto_root)) for p in proto_root.rglob("*.proto")]
    args = [_buf(), "lint", str(image), "--config", str(REPO / "buf.yaml")]
    for path in paths:
        args += ["--path", path]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_buf_lint_is_clean(tmp_path: Path) -> None:
    image = tmp_path / "image.binpb"
    generate.generate(tmp_path / "out", None, image)
    result = _lint(image, REPO / "proto")
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_lint_catches_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A copy of the contracts with one STANDARD violation: an enum without an _UNSPECIFIED zero value.
    import shutil

    root = tmp_path / "proto"
    shutil.copytree(REPO / "proto" / "fintech", root / "fintech")
    bad = root / "fintech" / "common" / "v1" / "common.proto"
    bad.write_text(bad.read_text() + "\nenum Colour {\n  RED = 0;\n}\n")
    monkeypatch.setattr(generate, "PROTO_ROOT", root)
    image = tmp_path / "image.binpb"
    generate.generate(tmp_path / "out", None, image)
    result = _lint(image, root)
    assert result.returncode != 0
    assert "ENUM_ZERO_VALUE_SUFFIX" in result.stdout or "UNSPECIFIED" in result.stdout
