"""The role policy: RPC by RPC, every name checked against the contracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.runtime.app import EXTERNAL_RPCS
from server.runtime.policy import PolicyError, load_policy

DEFAULT = Path(__file__).resolve().parents[3] / "server" / "config" / "roles.toml"


def test_default_policy_loads_and_is_per_rpc() -> None:
    policy = load_policy(DEFAULT, known_external=EXTERNAL_RPCS)
    assert policy.allows("mobile-backend", "/fintech.customer.v1.CustomerService/Ask")
    assert not policy.allows("mobile-backend", "/fintech.customer.v1.CustomerService/SearchKnowledge")
    assert policy.allows("investigator", "/fintech.aml.v1.AMLService/UpdateAlert")
    assert not policy.allows("agent", "/fintech.aml.v1.AMLService/UpdateAlert")
    assert not policy.allows("nobody", "/fintech.aml.v1.AMLService/UpdateAlert")
    assert policy.allows("nobody", "/grpc.health.v1.Health/Check")
    # The forwarders can do nothing in their own name.
    assert not any(policy.allows(r, "/fintech.customer.v1.CustomerService/Ask") for r in ("envoy", "console"))


def test_unknown_rpc_in_policy_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "roles.toml"
    path.write_text('[roles.agent]\nrpcs = ["fintech.customer.v1.CustomerService/AskTwice"]\n')
    with pytest.raises(PolicyError, match="AskTwice"):
        load_policy(path)


def test_wildcards_are_not_a_thing(tmp_path: Path) -> None:
    path = tmp_path / "roles.toml"
    path.write_text('[roles.agent]\nrpcs = ["fintech.customer.v1.CustomerService/*"]\n')
    with pytest.raises(PolicyError):
        load_policy(path)


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "roles.toml"
    path.write_text("[roles.agent]\nrcps = []\n")
    with pytest.raises(PolicyError, match="rcps"):
        load_policy(path)
