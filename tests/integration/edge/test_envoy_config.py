"""The rendered Envoy configuration: valid for the real binary, fresh in the repository, strict on TLS."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from server.edge.model import dev_profile, k8s_profile
from server.edge.render import render, to_yaml
from server.runtime.pki import DevPki
from tests.fixtures.envoy import ENVOY

REPO = Path(__file__).resolve().parents[3]


def _validate(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(config), "--use-dynamic-base-id", "--log-level", "error"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dev_profile_validates_with_the_real_binary(pki: DevPki, tmp_path: Path) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(to_yaml(dev_profile(REPO, certs=pki.root, backend_ports=50051)))
    result = _validate(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_k8s_profile_validates_with_the_real_binary(pki: DevPki, tmp_path: Path) -> None:
    # The chart mounts certificates and descriptors under /etc/envoy; point those at real files here.
    text = to_yaml(k8s_profile())
    for mounted, local in {
        "/etc/envoy/tls/tls.crt": pki.client("envoy").cert,
        "/etc/envoy/tls/tls.key": pki.client("envoy").key,
        "/etc/envoy/tls/ca.crt": pki.ca,
        "/etc/envoy/descriptors/descriptors.binpb": REPO / "envoy" / "descriptors.binpb",
    }.items():
        text = text.replace(mounted, str(local))
    config = tmp_path / "envoy.yaml"
    config.write_text(text)
    result = _validate(config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_transcoder_rejects_an_unknown_service(pki: DevPki, tmp_path: Path) -> None:
    # The validator really loads the descriptor set: a service it does not hold is an error.
    text = to_yaml(dev_profile(REPO, certs=pki.root, backend_ports=50051))
    config = tmp_path / "envoy.yaml"
    config.write_text(text.replace("- fintech.customer.v1.CustomerService", "- fintech.customer.v1.NoSuchService"))
    assert _validate(config).returncode != 0


def test_rendered_k8s_bootstrap_in_the_repository_is_fresh() -> None:
    rendered = to_yaml(k8s_profile())
    assert (REPO / "envoy" / "envoy-k8s.yaml").read_text() == rendered, "run: python -m server.edge.render"
    chart_file = REPO / "helm" / "fintech-platform" / "files" / "envoy.yaml"
    assert chart_file.read_text() == to_yaml(k8s_profile("__NAMESPACE__")), "run: python -m server.edge.render"


def test_policy_in_the_bootstrap() -> None:
    boot = render(k8s_profile())
    listener = boot["static_resources"]["listeners"][0]
    tls = listener["filter_chains"][0]["transport_socket"]["typed_config"]
    assert tls["require_client_certificate"] is True
    assert tls["common_tls_context"]["tls_params"]["tls_minimum_protocol_version"] == "TLSv1_3"
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["forward_client_cert_details"] == "SANITIZE_SET"
    assert [f["name"] for f in manager["http_filters"]][-1] == "envoy.filters.http.router"
    assert boot["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    rbac = next(f for f in manager["http_filters"] if f["name"] == "envoy.filters.http.rbac")
    mobile = rbac["typed_config"]["rules"]["policies"]["mobile-backend-customer-only"]
    prefixes = [r["url_path"]["path"]["prefix"] for r in mobile["permissions"][0]["or_rules"]["rules"]]
    assert all("customer" in p for p in prefixes)
    for cluster in boot["static_resources"]["clusters"]:
        assert cluster["health_checks"][0]["grpc_health_check"]["service_name"].startswith("fintech.")
        assert cluster["outlier_detection"]["consecutive_5xx"] >= 1
        assert cluster["circuit_breakers"]["thresholds"][0]["retry_budget"]["budget_percent"]["value"] > 0


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2])
async def test_tls_below_1_3_is_refused(pki: DevPki, repo_root: Path, tmp_path: Path, version: ssl.TLSVersion) -> None:
    import asyncio

    from tests.fixtures.envoy import free_port, running_envoy

    cfg = dev_profile(repo_root, certs=pki.root, backend_ports=1, listen_port=free_port(), admin_port=free_port())
    async with running_envoy(cfg, tmp_path):
        context = ssl.create_default_context(cafile=str(pki.ca))
        context.load_cert_chain(str(pki.client("core-banking").cert), str(pki.client("core-banking").key))
        context.maximum_version = version
        with pytest.raises((ssl.SSLError, ConnectionError)):
            _, writer = await asyncio.open_connection("localhost", cfg.listen_port, ssl=context)
            writer.close()
