"""Opaque, signed page tokens (AIP-158).

A token is ``base64url(json) "." base64url(HMAC-SHA256(key, scope || json))``. The scope binds it to one
list RPC and its filter, so a token from another list, another filter or another deployment (another key)
is refused like a tampered one: ``INVALID_ARGUMENT`` naming ``page_token``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from server.runtime.errors import FieldViolation, InvalidArgument


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def filter_scope(rpc: str, filters: Mapping[str, Any]) -> str:
    """A scope string for ``rpc`` with these filter values (any change of filter makes old tokens invalid)."""
    canonical = json.dumps(dict(filters), sort_keys=True, separators=(",", ":"), default=str)
    return f"{rpc}#{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


class PageTokenCodec:
    """Signs and checks page tokens with one HMAC key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("page token key must be at least 32 bytes")
        self._key = key

    def _mac(self, scope: str, body: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\x00" + body, hashlib.sha256).digest()

    def encode(self, position: Mapping[str, Any], *, scope: str) -> str:
        """A token for ``position`` (JSON-serialisable: the keyset cursor) valid only for ``scope``."""
        body = json.dumps(dict(position), sort_keys=True, separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._mac(scope, body))}"

    def decode(self, token: str, *, scope: str) -> dict[str, Any]:
        """The position a token carries.

        Raises:
            InvalidArgument: the token is malformed, tampered with, or from another list or key.
        """
        try:
            body_text, mac_text = token.split(".", 1)
            body = _unb64(body_text)
            mac = _unb64(mac_text)
        except (ValueError, binascii.Error):
            raise _bad_token() from None
        if not hmac.compare_digest(mac, self._mac(scope, body)):
            raise _bad_token()
        try:
            position = json.loads(body)
        except ValueError:
            raise _bad_token() from None
        if not isinstance(position, dict):
            raise _bad_token()
        return position


def _bad_token() -> InvalidArgument:
    return InvalidArgument(
        "page_token is invalid: not issued for this list and filter",
        reason="INVALID_PAGE_TOKEN",
        domain="storage.fintech",
        violations=[FieldViolation("page_token", "not a page token issued for this request", "INVALID_PAGE_TOKEN")],
    )
