"""The staff roles an operator may hold and what each one is called on screen.

The names are the platform's (``server/runtime/identity.py`` ``STAFF_ROLES``); the console forwards
them in ``x-fintech-staff-role`` and the services check each RPC against ``server/config/roles.toml``.
The console keeps its own copy so that it does not import the server package.
"""

from __future__ import annotations

STAFF_ROLES: tuple[str, ...] = ("agent", "loan-officer", "investigator", "compliance-officer", "auditor", "sre")

ROLE_TITLES: dict[str, str] = {
    "agent": "Customer-service agent",
    "loan-officer": "Loan officer",
    "investigator": "AML investigator",
    "compliance-officer": "Compliance officer",
    "auditor": "Auditor",
    "sre": "Site reliability engineer",
}


def check_role(role: str) -> str:
    """Return ``role`` when it is a staff role.

    Raises:
        ValueError: naming the role and the ones allowed.
    """
    if role not in STAFF_ROLES:
        raise ValueError(f"role: {role!r} is not a staff role; one of {', '.join(STAFF_ROLES)}")
    return role
