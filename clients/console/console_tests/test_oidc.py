"""The OIDC relying party: PKCE, discovery checks, and every ID token check, against keys served over HTTP.

The provider's HTTP side is an ``httpx.MockTransport`` here (the process boundary); the browser tests
run the whole flow against a real provider process (tests/e2e/console/test_oidc.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from fintech_console.auth.oidc import OidcClient, OidcError, code_challenge, safe_next_path
from fintech_console.settings import OidcSettings

ISSUER = "https://idp.bank.example"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


class Idp:
    def __init__(self) -> None:
        self.keys = [_jwk(KEY, "k1")]
        self.jwks_fetches = 0
        self.issuer = ISSUER

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{ISSUER}/authorize",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/jwks",
                    "code_challenge_methods_supported": ["S256"],
                },
            )
        if request.url.path == "/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json={"keys": self.keys})
        return httpx.Response(404)


def client(idp: Idp, now: float | None = None, **overrides: Any) -> OidcClient:
    settings = OidcSettings(
        issuer=ISSUER, client_id="console", redirect_url="https://console.bank.example/auth/oidc/callback", **overrides
    )
    return OidcClient(
        settings,
        clock=lambda: now if now is not None else time.time(),
        http=httpx.AsyncClient(transport=httpx.MockTransport(idp.handler)),
    )


def token(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "sub": "olivia",
        "aud": "console",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        "fintech_role": "loan-officer",
        "name": "Olivia",
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def test_pkce_challenge_matches_rfc_7636() -> None:
    assert (
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("/loans?x=1", "/loans?x=1"), ("//evil.example", "/"), ("https://evil.example", "/"), ("/\\evil", "/"), ("", "/")],
)
def test_only_local_paths_are_followed_after_sign_in(value: str, expected: str) -> None:
    assert safe_next_path(value) == expected


async def test_authorization_url_carries_state_nonce_and_s256_challenge() -> None:
    oidc = client(Idp())
    pending = oidc.begin("/audit")
    url = httpx.URL(await oidc.authorization_url(pending))
    assert url.params["code_challenge"] == code_challenge(pending.code_verifier)
    assert url.params["code_challenge_method"] == "S256"
    assert url.params["state"] == pending.state and url.params["nonce"] == pending.nonce
    assert len(pending.code_verifier) >= 43 and pending.next_path == "/audit"


async def test_a_valid_token_names_the_operator() -> None:
    oidc = client(Idp())
    claims = await oidc.validate_id_token(token(), nonce="n-1")
    operator = oidc.operator_from_claims(claims)
    assert (operator.staff_id, operator.role, operator.display_name, operator.signed_in_with) == (
        "olivia",
        "loan-officer",
        "Olivia",
        "oidc",
    )


@dataclass(frozen=True)
class _Offset:
    seconds: int


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"aud": "someone-else"}, "another client"),
        ({"iss": "https://evil.example"}, "another provider"),
        # Times as offsets from when the test runs (collection may be many minutes earlier).
        ({"exp": _Offset(-600)}, "expired"),
        ({"iat": _Offset(600)}, "in the future"),
        ({"nbf": _Offset(600)}, "not valid yet"),
        ({"nonce": "other"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"exp": None}, "invalid"),
        ({"aud": ["console", "other"]}, "azp"),
    ],
)
async def test_bad_claims_are_refused(bad: dict[str, Any], message: str) -> None:
    now = int(time.time())
    bad = {k: now + v.seconds if isinstance(v, _Offset) else v for k, v in bad.items()}
    with pytest.raises(OidcError, match=message):
        await client(Idp()).validate_id_token(token(**bad), nonce="n-1")


async def test_several_audiences_pass_with_the_console_as_authorized_party() -> None:
    claims = await client(Idp()).validate_id_token(token(aud=["console", "other"], azp="console"), nonce="n-1")
    assert claims["azp"] == "console"


async def test_a_token_signed_by_another_key_or_with_hmac_or_none_is_refused() -> None:
    idp = Idp()
    with pytest.raises(OidcError, match="signature"):
        await client(idp).validate_id_token(token(key=OTHER), nonce="n-1")
    hmac_token = jwt.encode(
        {"sub": "x"}, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256", headers={"kid": "k1"}
    )
    with pytest.raises(OidcError, match="not allowed"):
        await client(idp).validate_id_token(hmac_token, nonce="n-1")
    unsigned = jwt.encode({"sub": "x"}, None, algorithm="none")
    with pytest.raises(OidcError, match="not allowed"):
        await client(idp).validate_id_token(unsigned, nonce="n-1")


async def test_an_unknown_key_id_refetches_the_jwks_once_for_rotation() -> None:
    idp = Idp()
    now = [time.time()]
    oidc = OidcClient(
        OidcSettings(issuer=ISSUER, client_id="console", redirect_url="https://c/cb"),
        clock=lambda: now[0],
        http=httpx.AsyncClient(transport=httpx.MockTransport(idp.handler)),
    )
    await oidc.validate_id_token(token(), nonce="n-1")
    idp.keys.append(_jwk(OTHER, "k2"))  # the provider rotates in a new key
    now[0] += 61  # refetches are rate-limited to one a minute
    claims = await oidc.validate_id_token(token(key=OTHER, kid="k2"), nonce="n-1")
    assert claims["sub"] == "olivia" and idp.jwks_fetches == 2
    with pytest.raises(OidcError, match="does not publish"):
        await oidc.validate_id_token(token(kid="k9"), nonce="n-1")
    assert idp.jwks_fetches == 2  # a forged kid right after a refresh does not hammer the provider


async def test_discovery_must_name_the_configured_issuer() -> None:
    idp = Idp()
    idp.issuer = "https://other.example"
    with pytest.raises(OidcError, match="issuer"):
        await client(idp).metadata()


def test_plain_http_is_refused_except_on_loopback() -> None:
    with pytest.raises(OidcError, match="https"):
        OidcClient(OidcSettings(issuer="http://idp.bank.example", client_id="c", redirect_url="https://x/cb"))


@pytest.mark.parametrize(
    ("claims", "mapping", "result"),
    [
        ({"fintech_role": "auditor"}, {}, "auditor"),
        ({"fintech_role": ["staff", "sre"]}, {}, "sre"),
        ({"fintech_role": ["grp-loans"]}, {"grp-loans": "loan-officer"}, "loan-officer"),
        ({"fintech_role": "admin"}, {}, "no console role"),
        ({"fintech_role": ["agent", "sre"]}, {}, "several"),
        ({}, {}, "no console role"),
        ({"sub": "bad id with spaces", "fintech_role": "sre"}, {}, "usable staff id"),
    ],
)
def test_role_and_staff_id_from_claims(claims: dict[str, Any], mapping: dict[str, str], result: str) -> None:
    oidc = client(Idp(), role_mapping=mapping)
    full = {"sub": "olivia", **claims}
    if result in ("auditor", "sre", "loan-officer"):
        assert oidc.operator_from_claims(full).role == result
    else:
        with pytest.raises(OidcError, match=result):
            oidc.operator_from_claims(full)
