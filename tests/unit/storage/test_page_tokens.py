"""Signed page tokens: round trip, and every kind of bad token is INVALID_ARGUMENT naming page_token."""

from __future__ import annotations

import pytest

from server.runtime.errors import InvalidArgument
from server.storage.page_tokens import PageTokenCodec, filter_scope

KEY = b"k" * 32
SCOPE = filter_scope("/fintech.audit.v1.AuditService/ListAuditRecords", {"decision": "APPROVE"})


def test_round_trip() -> None:
    codec = PageTokenCodec(KEY)
    token = codec.encode({"after": 42}, scope=SCOPE)
    assert codec.decode(token, scope=SCOPE) == {"after": 42}
    assert "42" not in token.split(".")[1]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: "eyJhZnRlciI6OTk5OX0" + t[t.index(".") :],  # body replaced ({"after":9999})
        lambda t: t.replace(".", ""),  # no separator
        lambda t: "!!!." + t.split(".")[1],  # not base64
        lambda t: "",
    ],
)
def test_tampered_token_is_invalid_argument(mutate) -> None:  # type: ignore[no-untyped-def]
    codec = PageTokenCodec(KEY)
    with pytest.raises(InvalidArgument) as caught:
        codec.decode(mutate(codec.encode({"after": 1}, scope=SCOPE)), scope=SCOPE)
    assert [v.field for v in caught.value.violations] == ["page_token"]
    assert caught.value.reason == "INVALID_PAGE_TOKEN"


def test_foreign_tokens_are_refused() -> None:
    token = PageTokenCodec(KEY).encode({"after": 1}, scope=SCOPE)
    with pytest.raises(InvalidArgument):
        PageTokenCodec(b"x" * 32).decode(token, scope=SCOPE)  # another deployment's key
    other = filter_scope("/fintech.audit.v1.AuditService/ListAuditRecords", {"decision": "DECLINE"})
    with pytest.raises(InvalidArgument):
        PageTokenCodec(KEY).decode(token, scope=other)  # another filter


def test_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PageTokenCodec(b"short")
