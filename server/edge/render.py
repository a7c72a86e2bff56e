"""Renders an :class:`~server.edge.model.EdgeConfig` into an Envoy v3 bootstrap.

    python -m server.edge.render --profile k8s --out envoy/envoy-k8s.yaml

The output is validated with the real binary (``envoy --mode validate``) in
the tests, and the chart ships the same rendering.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from server.edge.model import EdgeConfig, RateLimit, Upstream, k8s_profile

_TLS = "envoy.transport_sockets.tls"
_T = "type.googleapis.com/envoy.extensions"
HUNDRED = {"numerator": 100, "denominator": "HUNDRED"}


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _file(path: str) -> dict[str, str]:
    return {"filename": path}


def _rate_limit(name: str, limit: RateLimit) -> dict[str, Any]:
    return {
        "@type": f"{_T}.filters.http.local_ratelimit.v3.LocalRateLimit",
        "stat_prefix": f"rate_limit_{name}",
        "token_bucket": {
            "max_tokens": limit.max_tokens,
            "tokens_per_fill": limit.tokens_per_fill,
            "fill_interval": _seconds(limit.fill_interval_seconds),
        },
        "filter_enabled": {"runtime_key": f"rate_limit.{name}.enabled", "default_value": HUNDRED},
        "filter_enforced": {"runtime_key": f"rate_limit.{name}.enforced", "default_value": HUNDRED},
        # gRPC callers get RESOURCE_EXHAUSTED rather than the default UNAVAILABLE (which invites retries).
        "rate_limited_as_resource_exhausted": True,
        "response_headers_to_add": [
            {"append_action": "OVERWRITE_IF_EXISTS_OR_ADD", "header": {"key": "x-rate-limited", "value": "true"}}
        ],
    }


def _route(prefix: str, upstream: Upstream, cfg: EdgeConfig) -> dict[str, Any]:
    route: dict[str, Any] = {
        "match": {"prefix": prefix},
        "route": {
            "cluster": upstream.name,
            "timeout": _seconds(upstream.timeout_seconds),
            "retry_policy": {
                # Only `unavailable` and connection failures are retried: other statuses are answers. A reset
                # connection (a replica dying) is retried too: every mutation carries a request_id the service
                # deduplicates (AIP-155), so a repeat is safe. A stream is never retried once its response started.
                "retry_on": "unavailable,connect-failure,refused-stream,reset-before-request,reset",
                "num_retries": cfg.retries,
                "retry_back_off": {"base_interval": "0.025s", "max_interval": "0.25s"},
                "retry_host_predicate": [
                    {
                        "name": "envoy.retry_host_predicates.previous_hosts",
                        "typed_config": {"@type": f"{_T}.retry.host.previous_hosts.v3.PreviousHostsPredicate"},
                    }
                ],
                "host_selection_retry_max_attempts": 3,
            },
        },
    }
    if upstream.rate_limit is not None:
        route["typed_per_filter_config"] = {
            "envoy.filters.http.local_ratelimit": _rate_limit(upstream.name, upstream.rate_limit)
        }
    return route


def _upstream_tls(cfg: EdgeConfig, upstream: Upstream) -> dict[str, Any]:
    return {
        "name": _TLS,
        "typed_config": {
            "@type": f"{_T}.transport_sockets.tls.v3.UpstreamTlsContext",
            "sni": upstream.sni,
            "common_tls_context": {
                "alpn_protocols": ["h2"],
                "tls_certificates": [{"certificate_chain": _file(cfg.tls.cert), "private_key": _file(cfg.tls.key)}],
                "validation_context": {
                    "trusted_ca": _file(cfg.tls.ca),
                    # The backend must be one of ours, not merely any certificate the CA signed.
                    "match_typed_subject_alt_names": [
                        {"san_type": "URI", "matcher": {"exact": f"spiffe://{cfg.trust_domain}/server"}}
                    ],
                },
            },
        },
    }


def _cluster(cfg: EdgeConfig, upstream: Upstream) -> dict[str, Any]:
    ports = [int(p) for p in cfg.extra.get(f"ports.{upstream.name}", str(upstream.port)).split(",")]
    endpoints = [
        {"endpoint": {"address": {"socket_address": {"address": upstream.host, "port_value": port}}}} for port in ports
    ]
    return {
        "name": upstream.name,
        "type": "STRICT_DNS" if cfg.dns_discovery else "STATIC",
        "connect_timeout": "1s",
        "lb_policy": "LEAST_REQUEST",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": f"{_T}.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {"max_concurrent_streams": 1000}},
            }
        },
        "load_assignment": {"cluster_name": upstream.name, "endpoints": [{"lb_endpoints": endpoints}]},
        "transport_socket": _upstream_tls(cfg, upstream),
        "health_checks": [
            {
                "timeout": "1s",
                "interval": _seconds(cfg.health_check_interval_seconds),
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "no_traffic_interval": _seconds(cfg.health_check_interval_seconds),
                "grpc_health_check": {"service_name": upstream.grpc_service},
            }
        ],
        "outlier_detection": {
            "consecutive_5xx": cfg.outlier_consecutive_errors,
            "consecutive_gateway_failure": cfg.outlier_consecutive_errors,
            "consecutive_local_origin_failure": cfg.outlier_consecutive_errors,
            "interval": "1s",
            "base_ejection_time": _seconds(cfg.outlier_base_ejection_seconds),
            "max_ejection_percent": 50,
        },
        "circuit_breakers": {
            "thresholds": [
                {
                    "priority": "DEFAULT",
                    "max_connections": 1024,
                    "max_pending_requests": 1024,
                    "max_requests": 4096,
                    "retry_budget": {
                        "budget_percent": {"value": cfg.retry_budget_percent},
                        "min_retry_concurrency": 3,
                    },
                }
            ]
        },
    }


def _rbac(cfg: EdgeConfig) -> dict[str, Any]:
    policies: dict[str, Any] = {}
    for rule in cfg.access:
        permissions: list[dict[str, Any]]
        if rule.path_prefixes:
            permissions = [{"or_rules": {"rules": [{"url_path": {"path": {"prefix": p}}} for p in rule.path_prefixes]}}]
        else:
            permissions = [{"any": True}]
        ids = [{"authenticated": {"principal_name": {"exact": p}}} for p in rule.principals]
        policies[rule.name] = {"permissions": permissions, "principals": [{"or_ids": {"ids": ids}}]}
    return {
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": f"{_T}.filters.http.rbac.v3.RBAC",
            "rules": {"action": "ALLOW", "policies": policies},
        },
    }


ACCESS_LOG_FORMAT = {
    "time": "%START_TIME%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "protocol": "%PROTOCOL%",
    "status": "%RESPONSE_CODE%",
    "grpc_status": "%GRPC_STATUS%",
    "flags": "%RESPONSE_FLAGS%",
    "duration_ms": "%DURATION%",
    "upstream": "%UPSTREAM_HOST%",
    "peer": "%DOWNSTREAM_PEER_URI_SAN%",
    "tls": "%DOWNSTREAM_TLS_VERSION%",
}


def render(cfg: EdgeConfig) -> dict[str, Any]:
    """The Envoy bootstrap for ``cfg``."""
    routes = []
    for upstream in cfg.upstreams:
        if upstream.json_prefix:
            routes.append(_route(upstream.json_prefix, upstream, cfg))
        routes.append(_route(f"/{upstream.grpc_service}/", upstream, cfg))
    json_services = [u.grpc_service for u in cfg.upstreams if u.json_prefix]
    validation: dict[str, Any] = {"trusted_ca": _file(cfg.tls.ca)}
    if cfg.tls.crl:
        validation["crl"] = _file(cfg.tls.crl)
    http_filters: list[dict[str, Any]] = [
        {
            "name": "envoy.filters.http.local_ratelimit",
            "typed_config": {"@type": f"{_T}.filters.http.local_ratelimit.v3.LocalRateLimit", "stat_prefix": "edge"},
        },
        _rbac(cfg),
        {
            "name": "envoy.filters.http.grpc_json_transcoder",
            "typed_config": {
                "@type": f"{_T}.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
                "proto_descriptor": cfg.descriptor_set,
                "services": json_services,
                "convert_grpc_status": True,
                "print_options": {"always_print_primitive_fields": True, "add_whitespace": False},
                "request_validation_options": {"reject_unknown_query_parameters": True},
            },
        },
        {"name": "envoy.filters.http.router", "typed_config": {"@type": f"{_T}.filters.http.router.v3.Router"}},
    ]
    manager = {
        "@type": f"{_T}.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "edge",
        "codec_type": "AUTO",
        # Envoy replaces any x-forwarded-client-cert a caller sends with the verified certificate's URI.
        "forward_client_cert_details": "SANITIZE_SET",
        "set_current_client_cert_details": {"uri": True},
        "use_remote_address": True,
        "http2_protocol_options": {"max_concurrent_streams": 1000},
        "common_http_protocol_options": {"idle_timeout": "300s"},
        "access_log": [
            {
                "name": "envoy.access_loggers.stdout",
                "typed_config": {
                    "@type": f"{_T}.access_loggers.stream.v3.StdoutAccessLog",
                    "log_format": {"json_format": ACCESS_LOG_FORMAT},
                },
            }
        ],
        "route_config": {"name": "edge", "virtual_hosts": [{"name": "fintech", "domains": ["*"], "routes": routes}]},
        "http_filters": http_filters,
    }
    listener = {
        "name": "edge",
        "address": {"socket_address": {"address": cfg.listen_address, "port_value": cfg.listen_port}},
        "filter_chains": [
            {
                "transport_socket": {
                    "name": _TLS,
                    "typed_config": {
                        "@type": f"{_T}.transport_sockets.tls.v3.DownstreamTlsContext",
                        "require_client_certificate": True,
                        "common_tls_context": {
                            "tls_params": {
                                "tls_minimum_protocol_version": "TLSv1_3",
                                "tls_maximum_protocol_version": "TLSv1_3",
                            },
                            "alpn_protocols": ["h2", "http/1.1"],
                            "tls_certificates": [
                                {"certificate_chain": _file(cfg.tls.cert), "private_key": _file(cfg.tls.key)}
                            ],
                            "validation_context": validation,
                        },
                    },
                },
                "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}],
            }
        ],
    }
    return {
        "node": {"id": "fintech-edge", "cluster": "fintech-edge"},
        # The admin interface exposes everything: loopback only, never a Service port.
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": cfg.admin_port}}},
        "static_resources": {"listeners": [listener], "clusters": [_cluster(cfg, u) for u in cfg.upstreams]},
    }


def to_yaml(cfg: EdgeConfig) -> str:
    """The bootstrap as YAML, with a header saying where it came from."""
    header = "# Rendered by `python -m server.edge.render` from server/edge/model.py. DO NOT EDIT.\n"
    return header + str(yaml.safe_dump(render(cfg), sort_keys=False, width=120))


REPO = Path(__file__).resolve().parents[2]
CHART_NAMESPACE_PLACEHOLDER = "__NAMESPACE__"
RENDERED = REPO / "envoy" / "envoy-k8s.yaml"
CHART_FILE = REPO / "helm" / "fintech-platform" / "files" / "envoy.yaml"


def main(argv: list[str] | None = None) -> int:
    """Write the k8s bootstrap for reading (``envoy/envoy-k8s.yaml``) and for the chart (namespace placeholder)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--namespace", default="fintech")
    parser.add_argument("--out", type=Path, default=RENDERED)
    parser.add_argument("--chart-file", type=Path, default=CHART_FILE)
    args = parser.parse_args(argv)
    args.out.write_text(to_yaml(k8s_profile(args.namespace)), encoding="utf-8")
    args.chart_file.write_text(to_yaml(k8s_profile(CHART_NAMESPACE_PLACEHOLDER)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
