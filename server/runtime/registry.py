"""The table of services a process can host, and how each is built.

A domain that implements its service adds its builder here (one line); until
then the generated base servicer answers UNIMPLEMENTED, honestly.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fintech.aml.v1 import aml_service_pb2, aml_service_pb2_grpc
from fintech.audit.v1 import audit_service_pb2, audit_service_pb2_grpc
from fintech.compliance.v1 import compliance_service_pb2, compliance_service_pb2_grpc
from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc
from fintech.operations.v1 import operations_service_pb2, operations_service_pb2_grpc
from fintech.risk.v1 import risk_service_pb2, risk_service_pb2_grpc

from server.runtime.context import AppContext, ServiceBinding

Builder = Callable[[AppContext], Awaitable[ServiceBinding]]


@dataclass(frozen=True)
class ServiceEntry:
    """One hostable service."""

    name: str
    full_name: str
    base_servicer: type
    add_to_server: Callable[[Any, Any], None]
    # "module:function" of the domain's builder; empty while the RPCs are unimplemented.
    builder: str = ""


SERVICES: dict[str, ServiceEntry] = {
    "customer": ServiceEntry(
        "customer",
        customer_service_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name,
        customer_service_pb2_grpc.CustomerServiceServicer,
        customer_service_pb2_grpc.add_CustomerServiceServicer_to_server,
        builder="server.customer.service:build",
    ),
    "risk": ServiceEntry(
        "risk",
        risk_service_pb2.DESCRIPTOR.services_by_name["RiskService"].full_name,
        risk_service_pb2_grpc.RiskServiceServicer,
        risk_service_pb2_grpc.add_RiskServiceServicer_to_server,
        builder="server.risk.service:build",
    ),
    "aml": ServiceEntry(
        "aml",
        aml_service_pb2.DESCRIPTOR.services_by_name["AMLService"].full_name,
        aml_service_pb2_grpc.AMLServiceServicer,
        aml_service_pb2_grpc.add_AMLServiceServicer_to_server,
        builder="server.aml.service:build",
    ),
    "compliance": ServiceEntry(
        "compliance",
        compliance_service_pb2.DESCRIPTOR.services_by_name["ComplianceService"].full_name,
        compliance_service_pb2_grpc.ComplianceServiceServicer,
        compliance_service_pb2_grpc.add_ComplianceServiceServicer_to_server,
        builder="server.compliance.service:build",
    ),
    "operations": ServiceEntry(
        "operations",
        operations_service_pb2.DESCRIPTOR.services_by_name["OperationsService"].full_name,
        operations_service_pb2_grpc.OperationsServiceServicer,
        operations_service_pb2_grpc.add_OperationsServiceServicer_to_server,
        builder="server.operations.service:build",
    ),
    "audit": ServiceEntry(
        "audit",
        audit_service_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
        audit_service_pb2_grpc.AuditServiceServicer,
        audit_service_pb2_grpc.add_AuditServiceServicer_to_server,
        builder="server.audit.service:build",
    ),
}


async def build_service(entry: ServiceEntry, ctx: AppContext) -> ServiceBinding:
    """Build ``entry`` with its domain builder, or as an honest UNIMPLEMENTED service."""
    if entry.builder:
        module_name, _, function = entry.builder.partition(":")
        builder: Builder = getattr(importlib.import_module(module_name), function)
        return await builder(ctx)
    return ServiceBinding(
        name=entry.name,
        full_name=entry.full_name,
        servicer=entry.base_servicer(),
        add_to_server=entry.add_to_server,
    )
