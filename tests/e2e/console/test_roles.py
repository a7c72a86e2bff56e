"""Roles: the console hides and refuses another role's pages; the services refuse the RPC even if the
console were bypassed; and a direct caller cannot pass itself off as a member of staff."""

from __future__ import annotations

import uuid

import grpc
import pytest
from fintech.audit.v1 import audit_service_pb2 as audit
from fintech.audit.v1 import audit_service_pb2_grpc as audit_grpc
from fintech.risk.v1 import risk_service_pb2 as risk
from fintech.risk.v1 import risk_service_pb2_grpc as risk_grpc
from playwright.sync_api import expect

from server.risk import samples
from tests.e2e.console.conftest import Seeded, Tab
from tests.e2e.console.platform import ConsolePlatform

PAGES = {"/escalations": "agent", "/loans": "loan-officer", "/audit": "auditor", "/platform": "sre"}


def test_an_agent_sees_only_their_pages_and_is_refused_the_others(tab: Tab) -> None:
    tab.sign_in("agent")
    nav = tab.page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Escalations")).to_be_visible()
    for label in ("Loan reviews", "Audit", "Platform", "Alerts and cases"):
        expect(nav.get_by_role("link", name=label)).to_have_count(0)
    for path in ("/loans", "/audit", "/platform", "/audit/verify/events"):
        assert tab.go(path) == 403, path
        expect(tab.page.get_by_test_id("refused")).to_contain_text("You are signed in as agent")
    tab.screenshot("role-refused")


@pytest.mark.parametrize("role", ["loan-officer", "sre"])
def test_each_role_reaches_only_its_own_pages(tab: Tab, role: str) -> None:
    tab.sign_in(role)
    for path, owner in PAGES.items():
        allowed = owner == role or (path == "/audit" and role == "sre")
        status = tab.go(path)
        if allowed:
            assert status in (200, 503), (path, status)  # 503 only if a service is down
        else:
            assert status == 403, (path, status)


def _console_call(platform: ConsolePlatform, staff_role: str) -> tuple[tuple[str, str], ...]:
    return (("x-fintech-staff-id", f"bypass-{staff_role}"), ("x-fintech-staff-role", staff_role))


def test_the_service_refuses_the_rpc_even_when_the_console_is_bypassed(console_platform: ConsolePlatform) -> None:
    # The console's own certificate, an agent signed in: RiskService refuses the loan officer's RPC.
    with console_platform.channel("console", service="risk") as channel:
        stub = risk_grpc.RiskServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.ListLoanReviews(
                risk.ListLoanReviewsRequest(), metadata=_console_call(console_platform, "agent"), timeout=10
            )
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "agent" in (refused.value.details() or "")
        # Without an operator the console's certificate can do nothing at all.
        with pytest.raises(grpc.RpcError) as bare:
            stub.ListLoanReviews(risk.ListLoanReviewsRequest(), timeout=10)
        assert bare.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # With the right role it works: the service, not the console, decides.
        stub.ListLoanReviews(
            risk.ListLoanReviewsRequest(), metadata=_console_call(console_platform, "loan-officer"), timeout=10
        )


def test_a_direct_caller_cannot_forge_a_staff_identity(console_platform: ConsolePlatform, seeded: Seeded) -> None:
    forged = (("x-fintech-staff-id", "e2e-loan-officer"), ("x-fintech-staff-role", "loan-officer"))
    # Core banking claiming to be a loan officer is still core banking: the review queue is refused.
    with console_platform.channel("core-banking", service="risk") as channel:
        stub = risk_grpc.RiskServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.ListLoanReviews(risk.ListLoanReviewsRequest(), metadata=forged, timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # An RPC core banking may call is accepted, but in its own name: the audit record says so.
        application = f"app-forge-{uuid.uuid4().hex[:8]}"
        request = samples.approve_request(application, f"cust-{uuid.uuid4().hex[:8]}")
        request.request_id = str(uuid.uuid4())
        stub.AssessLoanApplication(request, metadata=forged, timeout=60)
    with console_platform.channel("auditor") as channel:
        records = audit_grpc.AuditServiceStub(channel).ListAuditRecords(
            audit.ListAuditRecordsRequest(rpc="/fintech.risk.v1.RiskService/AssessLoanApplication", page_size=1000),
            timeout=10,
        )
    callers = {r.caller for r in records.audit_records if r.request_id == request.request_id}
    assert callers == {"spiffe://fintech.local/core-banking"}, callers
