"""OpenID Connect sign-in: authorization code flow with PKCE (S256), discovery and ID token validation.

The flow: ``/auth/oidc/start`` makes a state, a nonce and a PKCE verifier, keeps them in a short-lived
signed cookie and sends the browser to the provider; ``/auth/oidc/callback`` checks the state,
exchanges the code (with the verifier, and the client secret when there is one) at the token
endpoint, and validates the ID token: signature by a key of the provider's JWKS (refetched once for
an unknown ``kid``, so key rotation works), an allowed asymmetric algorithm, ``iss``, ``aud``
(and ``azp`` when there are several audiences), ``exp``/``iat``/``nbf`` against the console's clock
with a small leeway, and the ``nonce``. The operator's role comes from a configured claim.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt

from fintech_console.auth.roles import STAFF_ROLES
from fintech_console.auth.sessions import Clock, Operator
from fintech_console.settings import OidcSettings

_STAFF_ID = re.compile(r"^[A-Za-z0-9._@+-]{1,128}$")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
# A JWKS refetch for an unknown key id at most this often (a forged kid must not hammer the provider).
_JWKS_REFRESH_MIN_SECONDS = 60.0


class OidcError(Exception):
    """Sign-in with the identity provider failed; the message is safe to show to the operator."""


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of the provider's discovery document the console uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    code_challenge_methods: tuple[str, ...]


@dataclass(frozen=True)
class PendingSignIn:
    """One sign-in in progress: what the callback must see again."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str

    def as_dict(self) -> dict[str, str]:
        """For the signed cookie."""
        return {"state": self.state, "nonce": self.nonce, "code_verifier": self.code_verifier, "next": self.next_path}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PendingSignIn:
        """From the signed cookie."""
        return cls(str(values["state"]), str(values["nonce"]), str(values["code_verifier"]), str(values["next"]))


def code_challenge(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636, section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _require_secure(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return
    raise OidcError(f"{what} must be an https URL (http only on loopback), got {url!r}")


def safe_next_path(value: str | None) -> str:
    """``value`` when it is a path on this console, else ``/`` (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class OidcClient:
    """The console as an OpenID Connect relying party."""

    def __init__(
        self, settings: OidcSettings, *, clock: Clock = time.time, http: httpx.AsyncClient | None = None
    ) -> None:
        """Configure the client; nothing is fetched until the first sign-in.

        Args:
            settings: The provider and client configuration.
            clock: Wall clock for the ID token's time claims (tests pass their own).
            http: HTTP client (tests may pass one); by default one verifying TLS with ``settings.ca_file``.
        """
        _require_secure(settings.issuer, "oidc.issuer")
        self._settings = settings
        self._clock = clock
        verify: Any = str(settings.ca_file) if settings.ca_file else True
        self._http = http or httpx.AsyncClient(timeout=settings.http_timeout_seconds, verify=verify)
        self._metadata: ProviderMetadata | None = None
        self._jwks: jwt.PyJWKSet | None = None
        self._jwks_fetched_at = 0.0
        self._secret: str | None = (
            settings.client_secret_file.read_text(encoding="utf-8").strip() if settings.client_secret_file else None
        )

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as error:
            raise OidcError(f"the identity provider is unreachable ({what}: {type(error).__name__})") from error
        if response.status_code != 200:
            raise OidcError(f"the identity provider answered {response.status_code} to the {what} request")
        try:
            document = response.json()
        except ValueError as error:
            raise OidcError(f"the identity provider's {what} is not JSON") from error
        if not isinstance(document, dict):
            raise OidcError(f"the identity provider's {what} is not a JSON object")
        return document

    async def metadata(self) -> ProviderMetadata:
        """The provider's discovery document (fetched once, checked against the configured issuer)."""
        if self._metadata is not None:
            return self._metadata
        issuer = self._settings.issuer.rstrip("/")
        document = await self._get_json(f"{issuer}/.well-known/openid-configuration", "discovery")
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise OidcError("the discovery document's issuer does not match oidc.issuer")
        try:
            metadata = ProviderMetadata(
                issuer=str(document["issuer"]),
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
                code_challenge_methods=tuple(document.get("code_challenge_methods_supported", ())),
            )
        except KeyError as error:
            raise OidcError(f"the discovery document lacks {error.args[0]}") from error
        for url, what in (
            (metadata.authorization_endpoint, "authorization_endpoint"),
            (metadata.token_endpoint, "token_endpoint"),
            (metadata.jwks_uri, "jwks_uri"),
        ):
            _require_secure(url, what)
        if metadata.code_challenge_methods and "S256" not in metadata.code_challenge_methods:
            raise OidcError("the identity provider does not support PKCE with S256")
        self._metadata = metadata
        return metadata

    def begin(self, next_path: str) -> PendingSignIn:
        """A new sign-in: fresh state, nonce and PKCE verifier (43+ characters, RFC 7636)."""
        return PendingSignIn(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            next_path=safe_next_path(next_path),
        )

    async def authorization_url(self, pending: PendingSignIn) -> str:
        """Where to send the browser for ``pending``."""
        metadata = await self.metadata()
        query = {
            "response_type": "code",
            "client_id": self._settings.client_id,
            "redirect_uri": self._settings.redirect_url,
            "scope": " ".join(self._settings.scopes),
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return f"{metadata.authorization_endpoint}{separator}{urlencode(query)}"

    async def complete(self, pending: PendingSignIn, *, state: str, code: str) -> Operator:
        """Finish a sign-in from the callback's ``state`` and ``code``.

        Raises:
            OidcError: the state does not match, the code exchange fails, or the ID token is invalid.
        """
        if not state or not hmac.compare_digest(state, pending.state):
            raise OidcError("the sign-in response does not belong to this browser's sign-in (state mismatch)")
        if not code:
            raise OidcError("the identity provider returned no authorization code")
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._settings.redirect_url,
            "code_verifier": pending.code_verifier,
        }
        extra: dict[str, Any] = {}
        if self._secret is not None:
            extra["auth"] = httpx.BasicAuth(self._settings.client_id, self._secret)  # client_secret_basic
        else:
            form["client_id"] = self._settings.client_id  # a public client: PKCE alone binds the code
        try:
            response = await self._http.post(metadata.token_endpoint, data=form, **extra)
        except httpx.HTTPError as error:
            raise OidcError(f"the identity provider is unreachable (token: {type(error).__name__})") from error
        if response.status_code != 200:
            error_code = ""
            try:
                error_code = str(response.json().get("error", ""))
            except ValueError:
                pass
            raise OidcError(
                f"the identity provider refused the code exchange ({response.status_code} {error_code})".strip()
            )
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the token response carries no id_token")
        claims = await self.validate_id_token(id_token, nonce=pending.nonce)
        return self.operator_from_claims(claims)

    async def _signing_key(self, kid: str | None, *, refresh: bool) -> jwt.PyJWK | None:
        metadata = await self.metadata()
        now = self._clock()
        if self._jwks is None or (refresh and now - self._jwks_fetched_at >= _JWKS_REFRESH_MIN_SECONDS):
            document = await self._get_json(metadata.jwks_uri, "JWKS")
            try:
                self._jwks = jwt.PyJWKSet.from_dict(document)
            except jwt.PyJWTError as error:
                raise OidcError("the identity provider's JWKS holds no usable key") from error
            self._jwks_fetched_at = now
        keys = [key for key in self._jwks.keys if key.public_key_use in (None, "sig")]
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((key for key in keys if key.key_id == kid), None)

    async def validate_id_token(self, token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of ``token`` after every check listed in the module docstring.

        Raises:
            OidcError: naming the check that failed.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise OidcError("the ID token is malformed") from error
        algorithm = header.get("alg")
        if algorithm not in self._settings.allowed_algorithms:
            raise OidcError(f"the ID token's algorithm {algorithm!r} is not allowed")
        kid = header.get("kid")
        key = await self._signing_key(kid, refresh=False) or await self._signing_key(kid, refresh=True)
        if key is None:
            raise OidcError("the ID token is signed with a key the identity provider does not publish")
        settings = self._settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=settings.client_id,
                issuer=(await self.metadata()).issuer,
                # Time claims are checked below against the console's clock.
                options={
                    "require": ["iss", "sub", "aud", "exp", "iat"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidAudienceError as error:
            raise OidcError("the ID token was issued for another client (aud)") from error
        except jwt.InvalidIssuerError as error:
            raise OidcError("the ID token was issued by another provider (iss)") from error
        except jwt.InvalidSignatureError as error:
            raise OidcError("the ID token's signature is invalid") from error
        except jwt.PyJWTError as error:
            raise OidcError(f"the ID token is invalid ({type(error).__name__})") from error
        now = self._clock()
        leeway = settings.leeway_seconds
        if float(claims["exp"]) < now - leeway:
            raise OidcError("the ID token has expired (exp)")
        if float(claims["iat"]) > now + leeway:
            raise OidcError("the ID token was issued in the future (iat)")
        if "nbf" in claims and float(claims["nbf"]) > now + leeway:
            raise OidcError("the ID token is not valid yet (nbf)")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != settings.client_id:
            raise OidcError("the ID token names several audiences and another authorized party (azp)")
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
            raise OidcError("the ID token's nonce does not match this sign-in (replayed or foreign token)")
        return claims

    def operator_from_claims(self, claims: dict[str, Any]) -> Operator:
        """The operator an ID token's claims name.

        Raises:
            OidcError: no staff id, or not exactly one staff role.
        """
        settings = self._settings
        staff_id = claims.get(settings.staff_id_claim)
        if not isinstance(staff_id, str) or not staff_id:
            raise OidcError(f"the ID token has no {settings.staff_id_claim!r} claim for the staff id")
        if not _STAFF_ID.match(staff_id):
            # Forwarded as gRPC metadata and written into audit records: plain ASCII only.
            raise OidcError(f"the {settings.staff_id_claim!r} claim is not a usable staff id (A-Z a-z 0-9 . _ @ + -)")
        raw = claims.get(settings.role_claim)
        values = [raw] if isinstance(raw, str) else [str(v) for v in raw] if isinstance(raw, list) else []
        if settings.role_mapping:
            roles = {settings.role_mapping[v] for v in values if v in settings.role_mapping}
        else:
            roles = {v for v in values if v in STAFF_ROLES}
        roles &= set(STAFF_ROLES)
        if not roles:
            raise OidcError(f"your account has no console role (claim {settings.role_claim!r}); ask for access")
        if len(roles) > 1:
            raise OidcError(f"your account holds several console roles ({', '.join(sorted(roles))}); one is allowed")
        display = claims.get(settings.display_name_claim)
        return Operator(
            staff_id=staff_id,
            role=roles.pop(),
            display_name=display if isinstance(display, str) and display else staff_id,
            signed_in_with="oidc",
        )
