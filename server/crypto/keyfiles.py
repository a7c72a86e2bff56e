"""Key files: reading and creating the symmetric and signing keys the platform keeps outside its database.

Symmetric keys are files holding one line of base64 (a Kubernetes Secret mounts exactly that). Errors
name the file and the purpose, never the key material.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(ValueError):
    """A key file is missing, unreadable or malformed."""


def read_key_file(path: Path, *, purpose: str, size: int = 32) -> bytes:
    """Read a base64 symmetric key of exactly ``size`` bytes.

    Args:
        path: The file.
        purpose: What the key is for, named in errors ("master key").
        size: Required key length in bytes.

    Raises:
        KeyFileError: the file is missing, not base64, or the wrong length.
    """
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyFileError(f"{purpose} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{purpose} file {path} is unreadable: {type(exc).__name__}") from None
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{purpose} file {path} is not base64") from None
    if len(key) != size:
        raise KeyFileError(f"{purpose} file {path} holds {len(key)} bytes, expected {size}")
    return key


def _write_private(path: Path, data: bytes, *, force: bool) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; refusing to overwrite a key")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def create_key_file(path: Path, *, size: int = 32, force: bool = False) -> None:
    """Write a new random base64 key (mode 0600); refuses to overwrite unless ``force``."""
    _write_private(path, base64.b64encode(secrets.token_bytes(size)) + b"\n", force=force)


def create_signing_key(private_path: Path, public_path: Path, *, force: bool = False) -> None:
    """Write a new Ed25519 key pair (PKCS#8 PEM private key with mode 0600, SubjectPublicKeyInfo PEM public key)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(private_path, pem, force=force)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def read_signing_key(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key (PEM).

    Raises:
        KeyFileError: missing, unreadable or not Ed25519.
    """
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyFileError(f"checkpoint signing key file {path} does not exist") from None
    except ValueError:
        raise KeyFileError(f"checkpoint signing key file {path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"checkpoint signing key file {path} is not an Ed25519 key")
    return key


def read_public_key(path: Path) -> Ed25519PublicKey:
    """Read an Ed25519 public key (PEM).

    Raises:
        KeyFileError: missing, unreadable or not Ed25519.
    """
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise KeyFileError(f"checkpoint public key file {path} does not exist") from None
    except ValueError:
        raise KeyFileError(f"checkpoint public key file {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"checkpoint public key file {path} is not an Ed25519 key")
    return key
