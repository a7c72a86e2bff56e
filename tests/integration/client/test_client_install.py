"""The SDK installs on its own into a fresh virtualenv and imports without the server's heavy dependencies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# What `pip install clients/python` may bring: the SDK, its four dependencies and what they need.
ALLOWED_DISTRIBUTIONS = {
    "fintech-client",
    "grpcio",
    "grpcio-status",
    "protobuf",
    "googleapis-common-protos",
    "typing-extensions",  # required by grpcio
}

PROBE = r"""
import importlib, importlib.metadata, importlib.util, json, re
import fintech.client
from fintech.client import AMLServiceClient, secure_channel
from fintech.client import AuditServiceClient
services = ["customer", "risk", "aml", "compliance", "operations", "audit"]
HEAVY = ("torch", "pymilvus", "server", "sentence_transformers")
DISTRIBUTIONS = list(importlib.metadata.distributions())
for name in services:
    importlib.import_module(f"fintech.{name}.v1.{name}_service_pb2_grpc")
from fintech.aml.v1 import aml_service_pb2
from buf.validate import validate_pb2
print(json.dumps({
    "client_file": fintech.client.__file__,
    "request": aml_service_pb2.GetAlertRequest(alert_id="a1").alert_id,
    "missing": {m: importlib.util.find_spec(m) is None for m in HEAVY},
    "distributions": sorted({re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower() for d in DISTRIBUTIONS}),
    "typed": importlib.util.find_spec("fintech.client").submodule_search_locations[0],
}))
"""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.mark.slow
def test_the_sdk_installs_into_a_fresh_venv_without_torch(tmp_path: Path, repo_root: Path) -> None:
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    source = tmp_path / "fintech-client"
    shutil.copytree(
        repo_root / "clients" / "python",
        source,
        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", ".mypy_cache", ".ruff_cache"),
    )
    env = _clean_env()
    pip = [sys.executable, "-m", "pip"]
    # Speed: the wheel is built by this environment's setuptools (--no-build-isolation saves fetching
    # setuptools from the index), and pip drives the fresh venv with --python, so the venv needs no
    # seeded pip (ensurepip costs ~8 s). Dependencies still resolve from the index as for any user.
    wheels = tmp_path / "wheels"
    subprocess.run(
        [*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels), str(source)],
        check=True,
        env=env,
        timeout=120,
    )
    (wheel,) = wheels.glob("fintech_client-*.whl")
    venv = tmp_path / "venv"
    # No --system-site-packages: nothing from the platform's environment can leak in.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=env, timeout=60)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [*pip, "--python", str(python), "install", "--quiet", "--only-binary=:all:", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    probe = subprocess.run(
        [str(python), "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout)
    assert Path(report["client_file"]).is_relative_to(venv), report["client_file"]
    assert report["request"] == "a1"
    assert report["missing"] == {"torch": True, "pymilvus": True, "server": True, "sentence_transformers": True}
    assert set(report["distributions"]) <= ALLOWED_DISTRIBUTIONS, report["distributions"]
    assert "fintech-client" in report["distributions"]
    package = Path(report["typed"])
    assert (package / "py.typed").is_file()
    assert (package.parent / "aml" / "v1" / "aml_service_pb2.pyi").is_file()
    check = subprocess.run(
        [*pip, "--python", str(python), "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
