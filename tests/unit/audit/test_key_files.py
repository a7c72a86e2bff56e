"""Key files: created private, read strictly, errors name the file and never the key."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from server.crypto.keyfiles import KeyFileError, create_key_file, create_signing_key, read_key_file, read_signing_key
from server.crypto.subjects import Subject


def test_created_key_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k" / "master.key"
    create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(read_key_file(path, purpose="master key")) == 32
    with pytest.raises(FileExistsError):
        create_key_file(path)


def test_bad_key_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"master key file .* does not exist"):
        read_key_file(tmp_path / "missing", purpose="master key")
    short = tmp_path / "short"
    short.write_text(base64.b64encode(b"x" * 16).decode())
    with pytest.raises(KeyFileError, match="16 bytes, expected 32"):
        read_key_file(short, purpose="master key")
    junk = tmp_path / "junk"
    junk.write_text("not base64 !!")
    with pytest.raises(KeyFileError, match="not base64") as caught:
        read_key_file(junk, purpose="master key")
    assert "!!" not in str(caught.value)
    create_signing_key(tmp_path / "s.pem", tmp_path / "s.pub")
    read_signing_key(tmp_path / "s.pem")
    with pytest.raises(KeyFileError, match="not a PEM private key"):
        read_signing_key(junk)


def test_subjects_are_checked() -> None:
    assert str(Subject("customer", "c-1")) == "customer/c-1"
    with pytest.raises(ValueError, match="unknown"):
        Subject("planet", "x")
    with pytest.raises(ValueError, match="malformed") as caught:
        Subject("customer", "Jane Doe")
    assert "Jane" not in str(caught.value)
