"""The Helm chart: lint, render with default and production values, validate every manifest against the
Kubernetes schemas, and assert the things an SRE and an auditor rely on."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from server.edge.model import k8s_profile
from server.edge.render import to_yaml

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "helm" / "fintech-platform"
PRODUCTION = REPO / "helm" / "values-production.yaml"
HELM = REPO / ".tools" / "kubectl-layer" / "helm" / "helm"
KUBERNETES_VERSION = "1.35.0"
# Custom resources the schemas do not know; their shape is asserted below instead.
CRD_KINDS = {"PrometheusRule", "Certificate"}


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert HELM.exists(), f"helm missing at {HELM}: run tests/setup.sh (make test does)"
    home = REPO / ".tools" / "helm-home"
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    result = subprocess.run([str(HELM), *args], capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def render(namespace: str = "fintech", *extra: str) -> list[dict[str, Any]]:
    out = helm("template", "release", str(CHART), "--namespace", namespace, *extra).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def default_docs() -> list[dict[str, Any]]:
    return render()


@pytest.fixture(scope="module")
def production_docs() -> list[dict[str, Any]]:
    return render("bank-prod", "-f", str(PRODUCTION))


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def containers(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for doc in docs:
        spec = doc.get("spec", {})
        pod = spec.get("template", {}).get("spec") if doc["kind"] in ("Deployment", "StatefulSet", "Job") else None
        if pod:
            for container in pod["containers"]:
                yield doc["metadata"]["name"], pod, container


def test_helm_lint_strict() -> None:
    helm("lint", "--strict", str(CHART))
    helm("lint", "--strict", str(CHART), "-f", str(PRODUCTION))


@pytest.mark.parametrize("which", ["default", "production"])
def test_every_manifest_validates_against_kubernetes(which: str, request: pytest.FixtureRequest) -> None:
    docs = request.getfixturevalue(f"{which}_docs")
    assert len(docs) > 40
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_custom_resources_have_their_expected_shape(production_docs: list[dict[str, Any]]) -> None:
    rules = of_kind(production_docs, "PrometheusRule")[0]
    assert rules["apiVersion"] == "monitoring.coreos.com/v1"
    names = {r["alert"] for g in rules["spec"]["groups"] for r in g["rules"]}
    assert {
        "FintechRpcErrorRate",
        "FintechEscalationRate",
        "FintechAmlAlertBacklog",
        "FintechInferenceEjections",
    } <= names
    certs = of_kind(production_docs, "Certificate")
    assert certs and all(c["spec"]["uris"][0].startswith("spiffe://fintech.local/") for c in certs)


def test_llm_pods_are_pinned_to_a100_nodes(production_docs: list[dict[str, Any]]) -> None:
    sets = [d for d in of_kind(production_docs, "StatefulSet") if d["metadata"]["name"].startswith("fintech-vllm-")]
    assert len(sets) == 2
    for sts in sets:
        pod = sts["spec"]["template"]["spec"]
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        expression = terms[0]["matchExpressions"][0]
        assert expression["key"] == "nvidia.com/gpu.product" and expression["operator"] == "In"
        assert all(v.startswith("NVIDIA-A100") for v in expression["values"])
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        container = pod["containers"][0]
        gpus = int(container["resources"]["limits"]["nvidia.com/gpu"])
        args = dict(a.removeprefix("--").split("=", 1) for a in container["args"][1:] if "=" in a)
        assert int(args["tensor-parallel-size"]) * int(args["pipeline-parallel-size"]) == gpus
        assert args["served-model-name"].startswith("deepseek")
        assert "ssl-ca-certs" in args and args["ssl-cert-reqs"] == "2"
        assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "model-cache"
        assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 1800
    primary = next(s for s in sets if s["metadata"]["name"] == "fintech-vllm-deepseek-chat")
    assert "AWQ" in primary["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert primary["spec"]["replicas"] == 3
    headless = [s for s in of_kind(production_docs, "Service") if s["metadata"]["name"] == "fintech-vllm-deepseek-chat"]
    assert headless and headless[0]["spec"]["clusterIP"] == "None"


def test_service_probes_use_fintech_health_with_the_pods_certificate(default_docs: list[dict[str, Any]]) -> None:
    deployments = [d for d in of_kind(default_docs, "Deployment") if d["metadata"]["name"] != "fintech-envoy"]
    assert {d["metadata"]["name"] for d in deployments} == {
        f"fintech-{s}" for s in ("customer", "risk", "aml", "compliance", "operations", "audit")
    }
    for deployment in deployments:
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        liveness = container["livenessProbe"]["exec"]["command"]
        readiness = container["readinessProbe"]["exec"]["command"]
        assert liveness[:2] == ["fintech", "health"] and "--cert" in liveness
        # Liveness: the process serves; readiness: this service and its dependencies.
        assert "--service" not in liveness
        assert readiness[readiness.index("--service") + 1].startswith("fintech.")


def test_every_container_is_restricted_and_sized(production_docs: list[dict[str, Any]]) -> None:
    seen = 0
    for name, pod, container in containers(production_docs):
        seen += 1
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod.get("automountServiceAccountToken") is False, name
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), (name, kind)
        assert "@sha256:" in container["image"] and not container["image"].split("@")[0].endswith(":latest"), name
    assert seen >= 9


def test_network_policies(default_docs: list[dict[str, Any]]) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(default_docs, "NetworkPolicy")}
    deny = policies["fintech-default-deny"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    dns = policies["fintech-allow-dns"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}
    services_in = policies["fintech-services-ingress"]["ingress"]
    sources = services_in[0]["from"]
    allowed_pods = {
        s["podSelector"]["matchLabels"].get("app.kubernetes.io/name") for s in sources if "podSelector" in s
    }
    assert {"fintech-envoy", "fintech-console"} <= allowed_pods
    namespaces = [
        s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for s in sources
        if "namespaceSelector" in s
    ]
    assert namespaces == ["core-banking"]
    assert services_in[1]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "monitoring"
    assert services_in[1]["ports"][0]["port"] == 9464
    llm = policies["fintech-llm"]
    assert llm["egress"] == []
    assert llm["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == {"fintech.bank/role": "service"}
    egress = policies["fintech-services-egress"]["egress"]
    ports = {p["port"] for rule in egress for p in rule["ports"]}
    assert ports == {8000, 5432, 19530, 50051}


def test_envoy_config_in_the_chart_is_the_one_tested_live(production_docs: list[dict[str, Any]]) -> None:
    config = next(c for c in of_kind(production_docs, "ConfigMap") if c["metadata"]["name"] == "fintech-envoy")
    assert config["data"]["envoy.yaml"].strip() == to_yaml(k8s_profile("bank-prod")).strip()
    import base64

    shipped = base64.b64decode(config["binaryData"]["descriptors.binpb"])
    assert shipped == (REPO / "envoy" / "descriptors.binpb").read_bytes()


def test_migrations_run_once_per_release_before_anything_else(default_docs: list[dict[str, Any]]) -> None:
    job = of_kind(default_docs, "Job")[0]
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]


def _values_with(tmp_path: Path, patch: dict[str, Any]) -> Path:
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def merge(base: dict[str, Any], change: dict[str, Any]) -> None:
        for key, value in change.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                merge(base[key], value)
            else:
                base[key] = value

    merge(values, patch)
    path = tmp_path / "values.yaml"
    path.write_text(json.dumps(values))
    return path


BAD_VALUES = {
    "tp-times-pp-not-gpus": {
        "vllm": {"groups": [{**yaml.safe_load((CHART / "values.yaml").read_text())["vllm"]["groups"][0], "gpus": 4}]}
    },
    "image-without-digest": {
        "image": {"repository": "registry.bank.internal/fintech/platform", "tag": "0.1.0", "digest": ""}
    },
    "latest-tag": {
        "envoy": {
            "image": {"repository": "docker.io/envoyproxy/envoy", "tag": "latest", "digest": "sha256:" + "a" * 64}
        }
    },
    "unknown-key": {"services": {"customer": {"replicaz": 3}}},
    "non-a100-gpu": {"vllm": {"gpuProducts": ["NVIDIA-T4"]}},
    "missing-resources": {"envoy": {"resources": None}},
}


@pytest.mark.parametrize("case", sorted(BAD_VALUES))
def test_schema_rejects_bad_values(case: str, tmp_path: Path) -> None:
    result = helm("template", "release", str(CHART), "-f", str(_values_with(tmp_path, BAD_VALUES[case])), check=False)
    assert result.returncode != 0, f"{case} was accepted"
    assert "values don't meet the specifications" in result.stderr or "schema" in result.stderr.lower(), result.stderr


def test_rendered_server_configuration_is_what_the_code_accepts(production_docs: list[dict[str, Any]]) -> None:
    import tomllib

    from server.runtime.config import Settings

    configs = [d for d in of_kind(production_docs, "ConfigMap") if d["metadata"]["name"].endswith("-config")]
    assert len(configs) == 6
    for config in configs:
        # Unknown keys are errors: a chart that drifts from the code fails here, not in the cluster.
        settings = Settings.model_validate(tomllib.loads(config["data"]["server.toml"]))
        assert len(settings.server.services) == 1
        assert settings.database.url.startswith("postgresql+asyncpg://") and "@" in settings.database.url
        assert settings.database.password_file is not None
        groups = [g.name for g in settings.inference.groups]
        assert groups == ["deepseek-chat", "deepseek-fallback"]
        assert all(g.dns_name.endswith(".bank-prod.svc.cluster.local") for g in settings.inference.groups)
        assert settings.inference.tls.cert_file is not None
        if settings.server.services == ["compliance"]:
            assert settings.compliance.review_processes == 2  # one per core of the pod's limit
    job = of_kind(production_docs, "Job")[0]
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    Settings.model_validate(
        {"database": {"url": env["FINTECH_DATABASE__URL"], "password_file": env["FINTECH_DATABASE__PASSWORD_FILE"]}}
    )
