"""The app in-process (no services reachable): sign-in, CSRF, headers, role guard, a service named when down."""

from __future__ import annotations

import re

import grpc
import httpx
import pytest
from fintech.client import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied, Unavailable
from pydantic import ValidationError

from fintech_console.services import describe_problem
from fintech_console.settings import ConsoleSettings, load_console_settings

from .conftest import PASSWORD, Clock


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, role: str) -> str:
    token = _token((await client.get("/login")).text)
    reply = await client.post(
        "/login", data={"username": f"u-{role}", "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    assert reply.status_code == 303, reply.text
    return _token((await client.get("/")).text)


async def test_pages_need_a_session_and_remember_where_to_return(client: httpx.AsyncClient) -> None:
    reply = await client.get("/loans?status=all")
    assert reply.status_code == 303 and reply.headers["location"] == "/login?next=%2Floans%3Fstatus%3Dall"


async def test_sign_in_needs_the_csrf_token_and_rotates_the_session(client: httpx.AsyncClient) -> None:
    login = await client.get("/login")
    before = client.cookies["fintech_console_session"]
    refused = await client.post("/login", data={"username": "u-agent", "password": PASSWORD})
    assert refused.status_code == 403 and "CSRF" in refused.text
    ok = await client.post(
        "/login", data={"username": "u-agent", "password": PASSWORD, "csrf_token": _token(login.text)}
    )
    assert ok.status_code == 303
    assert client.cookies["fintech_console_session"] != before
    assert "HttpOnly" in ok.headers["set-cookie"] and "SameSite=Strict" in ok.headers["set-cookie"]


async def test_repeated_wrong_passwords_are_throttled(client: httpx.AsyncClient) -> None:
    token = _token((await client.get("/login")).text)
    statuses = []
    for _ in range(6):
        reply = await client.post(
            "/login", data={"username": "u-sre", "password": "wrong-password!", "csrf_token": token}
        )
        statuses.append(reply.status_code)
    assert statuses == [401] * 5 + [429]
    # Even the right password is refused while throttled (without checking it).
    reply = await client.post("/login", data={"username": "u-sre", "password": PASSWORD, "csrf_token": token})
    assert reply.status_code == 429 and "Too many failed attempts" in reply.text


async def test_a_cross_origin_post_is_refused_even_with_the_token(client: httpx.AsyncClient) -> None:
    token = await sign_in(client, "agent")
    reply = await client.post("/logout", data={"csrf_token": token}, headers={"origin": "https://evil.example"})
    assert reply.status_code == 403 and "another site" in reply.text
    same = await client.post("/logout", data={"csrf_token": token}, headers={"origin": "http://console.test"})
    assert same.status_code == 303


async def test_the_csrf_token_may_come_as_a_header_for_scripts(client: httpx.AsyncClient) -> None:
    token = await sign_in(client, "agent")
    reply = await client.post("/logout", headers={"x-csrf-token": token})
    assert reply.status_code == 303


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for path in ("/login", "/static/console.css", "/nowhere"):
        headers = (await client.get(path)).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff", path


async def test_the_navigation_shows_only_the_role_pages_and_others_are_refused(client: httpx.AsyncClient) -> None:
    await sign_in(client, "auditor")
    home = (await client.get("/")).text
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', home, re.S)
    assert nav is not None
    assert "/audit" in nav.group(1) and "/loans" not in nav.group(1) and "/escalations" not in nav.group(1)
    assert (await client.get("/loans")).status_code == 403
    assert (await client.get("/platform")).status_code == 403


async def test_a_service_that_is_down_is_named(client: httpx.AsyncClient) -> None:
    await sign_in(client, "loan-officer")
    reply = await client.get("/loans")
    assert reply.status_code == 503
    assert "RiskService is unavailable" in reply.text and "Traceback" not in reply.text


async def test_the_platform_page_names_the_failure_in_each_half(client: httpx.AsyncClient) -> None:
    await sign_in(client, "sre")
    reply = await client.get("/platform")
    assert reply.status_code == 503 and reply.text.count("OperationsService is unavailable") == 2


async def test_a_session_expires_with_the_clock(client: httpx.AsyncClient, clock: Clock) -> None:
    await sign_in(client, "auditor")
    clock.now += 3601
    reply = await client.get("/audit")
    assert reply.status_code == 303 and "expired=1" in reply.headers["location"]


@pytest.mark.parametrize(
    ("error", "status", "headline"),
    [
        (
            Unavailable("x", code=grpc.StatusCode.UNAVAILABLE, method="/fintech.risk.v1.RiskService/ListLoanReviews"),
            503,
            "RiskService is unavailable",
        ),
        (
            PermissionDenied(
                "role 'agent' may not",
                code=grpc.StatusCode.PERMISSION_DENIED,
                reason="ROLE_NOT_ALLOWED",
                method="/fintech.audit.v1.AuditService/ListAuditRecords",
            ),
            403,
            "AuditService refused ListAuditRecords",
        ),
        (
            NotFound(
                "no such", code=grpc.StatusCode.NOT_FOUND, method="/fintech.customer.v1.CustomerService/GetEscalation"
            ),
            404,
            "CustomerService found no such item",
        ),
        (
            FailedPrecondition(
                "closed",
                code=grpc.StatusCode.FAILED_PRECONDITION,
                method="/fintech.risk.v1.RiskService/DecideLoanReview",
            ),
            409,
            "state does not allow",
        ),
        (
            InvalidArgument(
                "bad",
                code=grpc.StatusCode.INVALID_ARGUMENT,
                method="/fintech.risk.v1.RiskService/DecideLoanReview",
                field_violations=(FieldViolation("justification", "too short"),),
            ),
            400,
            "rejected the request",
        ),
    ],
)
def test_errors_become_named_problems(error: Exception, status: int, headline: str) -> None:
    problem = describe_problem(error)  # type: ignore[arg-type]
    assert problem.status_code == status and headline in problem.headline
    if isinstance(error, InvalidArgument):
        assert "justification: too short" in problem.detail
    if isinstance(error, Unavailable):
        assert "could not reach" in problem.detail  # the transport's text is not shown


def test_settings_name_the_bad_field(settings: ConsoleSettings) -> None:
    tls = settings.tls.model_dump()
    with pytest.raises(ValidationError, match="oidc"):
        load_console_settings(None, tls=tls, sign_in="oidc")
    with pytest.raises(ValidationError, match="unknown service"):
        load_console_settings(None, tls=tls, service_addresses={"payments": "x:1"})
    with pytest.raises(ValidationError, match="openid"):
        load_console_settings(
            None,
            tls=tls,
            sign_in="oidc",
            oidc={"issuer": "https://i", "client_id": "c", "redirect_url": "https://r", "scopes": ["profile"]},
        )
    assert settings.address_of("risk") == "127.0.0.1:9"
