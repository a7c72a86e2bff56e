"""Session-wide fixtures: one development PKI for the whole run, and real servers on demand.

Expensive things start once per session; areas add their own fixtures in
their own ``conftest.py`` (tests/<level>/<area>/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.runtime.pki import DevPki, init_dev_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A development PKI: CA, server certificate, one client certificate per role."""
    return init_dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root."""
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data(repo_root: Path) -> Path:
    """The shared data sets beside the checkout (CI lays them out the same way)."""
    path = repo_root.parent / "shared" / "data"
    assert path.is_dir(), f"shared data missing at {path}"
    return path
