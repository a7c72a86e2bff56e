"""The role policy: which role may call which RPC, RPC by RPC.

Loaded from a TOML file (``server/config/roles.toml`` by default). There are
no wildcards: a new RPC is denied to everyone until the policy names it.
Every RPC the file names must exist in the contracts, so a typo is an error
at start-up rather than a silent denial.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pool


class PolicyError(ValueError):
    """The policy file is malformed or names an RPC that does not exist."""


@dataclass(frozen=True)
class RolePolicy:
    """An immutable role → allowed-RPC table."""

    public: frozenset[str]
    roles: Mapping[str, frozenset[str]]

    def allows(self, role: str, method: str) -> bool:
        """Whether ``role`` may call ``method`` (``/pkg.Service/Rpc``)."""
        name = method.lstrip("/")
        if name in self.public:
            return True
        allowed = self.roles.get(role)
        return allowed is not None and name in allowed

    def is_public(self, method: str) -> bool:
        """Whether any authenticated peer may call ``method`` (health, reflection)."""
        return method.lstrip("/") in self.public


def _rpc_exists(name: str) -> bool:
    service, _, method = name.partition("/")
    try:
        svc = descriptor_pool.Default().FindServiceByName(service)
    except KeyError:
        return False
    return any(m.name == method for m in svc.methods)


def _check_names(names: Iterable[str], where: str, known_external: frozenset[str]) -> frozenset[str]:
    result = set()
    for name in names:
        if not isinstance(name, str) or "/" not in name:
            raise PolicyError(f"{where}: {name!r} is not 'package.Service/Method'")
        if name not in known_external and not _rpc_exists(name):
            raise PolicyError(f"{where}: RPC {name!r} does not exist in the contracts")
        result.add(name)
    return frozenset(result)


def load_policy(path: Path, *, known_external: Iterable[str] = ()) -> RolePolicy:
    """Load and check a policy file.

    Args:
        path: The TOML file.
        known_external: RPCs not in our descriptor pool that may be named
            (the health and reflection services).

    Raises:
        PolicyError: malformed file or unknown RPC.
    """
    # Make sure every contract is in the default pool before checking names.
    import server.runtime.registry  # noqa: F401

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"cannot read role policy {path}: {exc}") from exc
    unknown = set(data) - {"public", "roles"}
    if unknown:
        raise PolicyError(f"{path}: unknown top-level keys {sorted(unknown)}")
    external = frozenset(known_external)
    public = _check_names(data.get("public", {}).get("rpcs", []), "public", external)
    roles: dict[str, frozenset[str]] = {}
    for role, entry in data.get("roles", {}).items():
        if set(entry) - {"rpcs", "description"}:
            raise PolicyError(f"{path}: role {role!r} has unknown keys {sorted(set(entry) - {'rpcs', 'description'})}")
        roles[role] = _check_names(entry.get("rpcs", []), f"role {role}", external)
    return RolePolicy(public=public, roles=roles)
