"""The SDK against the platform's own server runtime: what its interceptors send, the SDK decodes.

A contract check between ``server.runtime`` (validation, authorisation, error
mapping of domain errors) and ``fintech.client``: the servicer is a small
stand-in that raises the runtime's domain errors; everything in front of it is
the real interceptor chain over real mTLS.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fintech.aml.v1 import aml_service_pb2 as aml
from fintech.aml.v1 import aml_service_pb2_grpc
from fintech.client import (
    AMLServiceClient,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    secure_channel,
)

from server.runtime import errors
from server.runtime.app import RunningServer
from server.runtime.context import ServiceBinding
from server.runtime.pki import DevPki
from tests.fixtures.runtime import running_server, settings_for


class DomainErrorsAml(aml_service_pb2_grpc.AMLServiceServicer):
    """Raises the runtime's domain errors, as an engine would."""

    async def GetAlert(self, request, context):  # type: ignore[no-untyped-def]
        if request.alert_id.startswith("busy"):
            raise errors.ResourceExhausted(
                "screening queue full", reason="QUEUE_FULL", domain="aml.fintech", retry_after_seconds=2.5
            )
        raise errors.NotFound(
            f"alert {request.alert_id} not found",
            reason="ALERT_NOT_FOUND",
            domain="aml.fintech",
            metadata={"alert_id": request.alert_id},
        )

    async def UpdateAlert(self, request, context):  # type: ignore[no-untyped-def]
        return aml.UpdateAlertResponse(alert=aml.Alert(alert_id=request.alert_id, case_id=request.request_id))


@pytest.fixture(scope="module")
async def runtime(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    # The runtime hosts at least one registered service; operations is only a bystander here.
    settings = settings_for(pki, tmp_path_factory.mktemp("client-runtime"), server={"services": ["operations"]})
    binding = ServiceBinding(
        name="aml",
        full_name="fintech.aml.v1.AMLService",
        servicer=DomainErrorsAml(),
        add_to_server=aml_service_pb2_grpc.add_AMLServiceServicer_to_server,
    )
    async with running_server(settings, extra_bindings=[binding]) as running:
        yield running


def _client_args(pki: DevPki, role: str) -> dict[str, object]:
    issued = pki.client(role)
    return {"ca_file": pki.ca, "cert_file": issued.cert, "key_file": issued.key}


async def test_runtime_errors_decode_into_the_sdk_exceptions(runtime: RunningServer, pki: DevPki) -> None:
    async with secure_channel(f"localhost:{runtime.port}", **_client_args(pki, "investigator")) as channel:
        client = AMLServiceClient(channel)
        with pytest.raises(NotFound) as not_found:
            await client.get_alert(request=aml.GetAlertRequest(alert_id="al-404"))
        assert (not_found.value.reason, not_found.value.domain) == ("ALERT_NOT_FOUND", "aml.fintech")
        assert not_found.value.metadata.get("alert_id") == "al-404"

        with pytest.raises(ResourceExhausted) as busy:
            await client.get_alert(request=aml.GetAlertRequest(alert_id="busy-1"))
        assert busy.value.retry_delay == timedelta(seconds=2.5)

        # The validation interceptor names every bad field; the SDK's generated request_id is valid.
        with pytest.raises(InvalidArgument) as invalid:
            await client.update_alert(request=aml.UpdateAlertRequest(alert_id="", status=aml.ALERT_STATUS_ESCALATED))
        fields = {v.field for v in invalid.value.field_violations}
        assert "alert_id" in fields
        assert "request_id" not in fields
        assert invalid.value.reason

        response = await client.update_alert(
            request=aml.UpdateAlertRequest(alert_id="al-1", status=aml.ALERT_STATUS_ESCALATED, reason="pattern")
        )
        assert uuid.UUID(response.alert.case_id).version == 4


async def test_a_role_without_the_rpc_gets_permission_denied(runtime: RunningServer, pki: DevPki) -> None:
    async with secure_channel(f"localhost:{runtime.port}", **_client_args(pki, "mobile-backend")) as channel:
        with pytest.raises(PermissionDenied) as denied:
            await AMLServiceClient(channel).get_alert(request=aml.GetAlertRequest(alert_id="al-1"))
    assert denied.value.reason
    assert denied.value.attempts == 1
