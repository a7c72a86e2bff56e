"""A small OpenID Connect provider for the console's sign-in tests, run as a real process.

Written for these tests (no PyPI provider enforced PKCE and nonces the way the console must be
checked against): discovery, JWKS (an RSA key, RS256), an authorization endpoint with a sign-in form,
and a token endpoint that checks the client secret (HTTP Basic), the redirect URI, the one-time code
and the PKCE ``S256`` verifier. ID tokens carry ``iss``, ``sub``, ``aud``, ``exp``, ``iat``, ``nonce``,
``name`` and the user's ``fintech_role``. ``POST /control/fault`` makes the next ID tokens faulty
(``wrong_audience``, ``expired``, ``wrong_nonce``, ``foreign_key``) so the tests see the console
refuse them.

Run: ``python -m tests.e2e.console.oidc_provider --users users.json --client-id console
--client-secret-file secret.txt --redirect-uri http://localhost:8080/auth/oidc/callback --ready-file p``
(prints nothing; writes the port to the ready file).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import html
import json
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CODE_LIFETIME = 60.0
TOKEN_LIFETIME = 300


@dataclass
class Grant:
    """One authorization code: what the token request must match."""

    client_id: str
    redirect_uri: str
    nonce: str
    code_challenge: str
    sub: str
    issued: float


class Provider:
    """The provider's state: signing keys, registered client, users, outstanding codes, fault mode."""

    def __init__(
        self, issuer: str, users: dict[str, dict[str, Any]], client_id: str, client_secret: str, redirect_uri: str
    ) -> None:
        self.issuer = issuer
        self.users = users
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self.codes: dict[str, Grant] = {}
        self.fault = ""

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "nonce": grant.nonce,
            "auth_time": now,
        }
        claims.update({k: v for k, v in self.users[grant.sub].items() if k != "password"})
        key = self.key
        if self.fault == "wrong_audience":
            claims["aud"] = "another-client"
        elif self.fault == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif self.fault == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif self.fault == "foreign_key":
            key = self.foreign_key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def _form(params: dict[str, str], users: dict[str, dict[str, Any]], error: str = "") -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    return (
        "<!doctype html><html lang=en><title>Bank identity provider</title><h1>Bank identity provider</h1>"
        + (f"<p role=alert>{html.escape(error)}</p>" if error else "")
        + '<form method="post" action="/authorize">'
        + hidden
        + '<label for="username">Username</label><input id="username" name="username">'
        + '<label for="password">Password</label><input id="password" name="password" type="password">'
        + '<button type="submit">Sign in at the bank</button></form>'
        + f"<p>{len(users)} test users.</p></html>"
    )


def build_app(provider: Provider) -> Starlette:
    """The provider's HTTP endpoints."""

    async def discovery(request: Request) -> Response:
        base = provider.issuer
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(provider.jwks())

    _PARAMS = (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    )

    def _check(params: dict[str, str]) -> str:
        if params.get("client_id") != provider.client_id:
            return "unknown client"
        if params.get("redirect_uri") != provider.redirect_uri:
            return "redirect_uri is not registered"
        if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
            return "only the code flow with the openid scope"
        if params.get("code_challenge_method") != "S256" or len(params.get("code_challenge", "")) < 43:
            return "PKCE with S256 is required"
        if not params.get("nonce") or not params.get("state"):
            return "state and nonce are required"
        return ""

    async def authorize(request: Request) -> Response:
        if request.method == "GET":
            params = {k: request.query_params.get(k, "") for k in _PARAMS}
            problem = _check(params)
            if problem:
                return HTMLResponse(f"<p>invalid request: {html.escape(problem)}</p>", status_code=400)
            return HTMLResponse(_form(params, provider.users))
        form = await request.form()
        params = {k: str(form.get(k, "")) for k in _PARAMS}
        problem = _check(params)
        if problem:
            return HTMLResponse(f"<p>invalid request: {html.escape(problem)}</p>", status_code=400)
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        user = provider.users.get(username)
        if user is None or not secrets.compare_digest(str(user.get("password", "")), password):
            return HTMLResponse(_form(params, provider.users, "Wrong username or password."), status_code=401)
        code = secrets.token_urlsafe(24)
        provider.codes[code] = Grant(
            params["client_id"],
            params["redirect_uri"],
            params["nonce"],
            params["code_challenge"],
            username,
            time.monotonic(),
        )
        return RedirectResponse(
            f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}", status_code=303
        )

    async def token(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        try:
            client_id, _, secret = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            client_id, secret = "", ""
        if client_id != provider.client_id or not secrets.compare_digest(secret, provider.client_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        form = await request.form()
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        grant = provider.codes.pop(str(form.get("code", "")), None)  # one use only
        if grant is None or time.monotonic() - grant.issued > CODE_LIFETIME:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri"}, status_code=400)
        if _challenge(str(form.get("code_verifier", ""))) != grant.code_challenge:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verifier"}, status_code=400)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "id_token": provider.id_token(grant),
            }
        )

    async def fault(request: Request) -> Response:
        provider.fault = str((await request.json()).get("fault", ""))
        return JSONResponse({"fault": provider.fault})

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]),
            Route("/control/fault", fault, methods=["POST"]),
        ]
    )


async def _serve(args: argparse.Namespace) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    users = json.loads(Path(args.users).read_text(encoding="utf-8"))  # noqa: ASYNC240 - start-up, before serving
    provider = Provider(
        f"http://127.0.0.1:{port}",
        users,
        args.client_id,
        Path(args.client_secret_file).read_text().strip(),  # noqa: ASYNC240 - start-up
        args.redirect_uri,
    )
    server = uvicorn.Server(uvicorn.Config(build_app(provider), log_level="warning", lifespan="off"))

    async def announce() -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers only this flag
            await asyncio.sleep(0.02)
        await asyncio.to_thread(Path(args.ready_file).write_text, f"{port}\n", encoding="utf-8")

    task = asyncio.create_task(announce())
    await server.serve(sockets=[sock])
    task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--users", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret-file", required=True)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--ready-file", required=True)
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
