"""mTLS at the door: no client certificate, a foreign CA, plaintext, and revocation are all refused."""

from __future__ import annotations

import asyncio
import socket
import uuid

import grpc
import pytest
from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from server.runtime.pki import DevPki, init_dev_pki, issue, load_cert, load_key, revoke, spiffe_id
from tests.fixtures.runtime import aio_channel, running_server, settings_for


async def _health(channel: grpc.aio.Channel) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return reply.status


async def test_trusted_client_certificate_is_served(server, pki: DevPki) -> None:
    async with aio_channel(pki, "sre", server.port) as channel:
        assert await _health(channel) == health_pb2.HealthCheckResponse.SERVING


async def test_call_without_client_certificate_fails_the_handshake(server, pki: DevPki) -> None:
    credentials = grpc.ssl_channel_credentials(pki.ca.read_bytes())
    async with grpc.aio.secure_channel(f"localhost:{server.port}", credentials) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await _health(channel)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_certificate_from_another_ca_fails_the_handshake(server, pki: DevPki, tmp_path) -> None:
    other = init_dev_pki(tmp_path / "other")
    issued = other.client("sre")
    # Trust our server's CA, but present a client certificate the server's CA never signed.
    credentials = grpc.ssl_channel_credentials(pki.ca.read_bytes(), issued.key.read_bytes(), issued.cert.read_bytes())
    async with grpc.aio.secure_channel(f"localhost:{server.port}", credentials) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await _health(channel)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_plaintext_connection_fails(server) -> None:
    async with grpc.aio.insecure_channel(f"localhost:{server.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await _health(channel)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_plaintext_http2_bytes_get_no_grpc_answer(server) -> None:
    # A raw HTTP/2 preface on the TLS port: the server must not speak to it.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        sock.settimeout(5)
        try:
            reply = sock.recv(1024)
        except (ConnectionResetError, TimeoutError):
            reply = b""
    assert b"grpc" not in reply.lower()
    assert not reply.startswith(b"\x00\x00")  # no HTTP/2 SETTINGS frame in the clear


async def test_revoked_certificate_is_refused_without_restart(pki: DevPki, tmp_path) -> None:
    # A private PKI copy: revoking in the session PKI would break other tests.
    own = init_dev_pki(tmp_path / "pki")
    settings = settings_for(own, tmp_path / "data", server={"services": ["operations"]})
    async with running_server(settings) as running:
        async with aio_channel(own, "sre", running.port) as channel:
            assert await _health(channel) == health_pb2.HealthCheckResponse.SERVING
            revoke(own, own.client("sre").cert)
            await asyncio.sleep(0.3)  # past reload_interval_seconds (0.2 in tests)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await _health(channel)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Another identity is unaffected.
        async with aio_channel(own, "auditor", running.port) as channel:
            assert await _health(channel) == health_pb2.HealthCheckResponse.SERVING


async def test_server_certificate_reloads_when_its_files_change(tmp_path) -> None:
    own = init_dev_pki(tmp_path / "pki")
    settings = settings_for(own, tmp_path / "data", server={"services": ["operations"]})
    async with running_server(settings) as running:
        ca_cert, ca_key = load_cert(own.ca), load_key(own.ca_key)
        cert, key = issue(
            ca_cert,
            ca_key,
            common_name="fintech-server-rotated",
            uris=[spiffe_id("server")],
            dns_names=["localhost"],
            ips=["127.0.0.1"],
            server=True,
        )
        from cryptography.hazmat.primitives import serialization

        own.server.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        own.server.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        await asyncio.sleep(0.3)
        # New connections get the new certificate; retry a few handshakes while the fetcher notices.
        seen = ""
        for _ in range(20):
            async with aio_channel(own, "sre", running.port) as channel:
                await _health(channel)
            if running.credentials.reloads:
                break
            await asyncio.sleep(0.1)
        seen = "reloaded" if running.credentials.reloads else "not reloaded"
        assert seen == "reloaded"
        pem = await asyncio.to_thread(_server_certificate, running.port)
        assert "fintech-server-rotated" in str(load_pem(pem).subject)


def _server_certificate(port: int) -> bytes:
    import ssl

    return ssl.get_server_certificate(("127.0.0.1", port)).encode()


def load_pem(pem: bytes):  # type: ignore[no-untyped-def]
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem)


async def test_unimplemented_rpc_says_so_honestly(server, pki: DevPki) -> None:
    # The stand-in CustomerService implements SearchKnowledge only; its other RPCs say so.
    async with aio_channel(pki, "agent", server.port) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await customer_service_pb2_grpc.CustomerServiceStub(channel).ListDocuments(
                customer_service_pb2.ListDocumentsRequest()
            )
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_slow_stand_in_answers(server, pki: DevPki) -> None:
    async with aio_channel(pki, "core-banking", server.port) as channel:
        reply = await customer_service_pb2_grpc.CustomerServiceStub(channel).SearchKnowledge(
            customer_service_pb2.SearchKnowledgeRequest(query=f"q-{uuid.uuid4()}"), timeout=5
        )
    assert reply.hits[0].text.startswith("q-")
