"""Graceful shutdown of a real server process: SIGTERM lets a slow call finish, refuses new ones."""

from __future__ import annotations

import signal
import threading
import time

import grpc
from fintech.customer.v1 import customer_service_pb2, customer_service_pb2_grpc

from server.runtime.pki import DevPki
from tests.fixtures.runtime import client_credentials, server_process, write_config


def test_sigterm_during_a_slow_call_lets_it_finish(pki: DevPki, tmp_path) -> None:
    config = write_config(tmp_path / "server.toml", pki, tmp_path / "data", extra="")
    config.write_text(config.read_text().replace("[server]\n", '[server]\nservices = ["operations"]\n'))
    with server_process(config, module="tests.fixtures.slow_server", args=["--delay", "2.0"]) as proc:
        target = f"localhost:{proc.port}"
        result: dict[str, object] = {}

        def slow_call() -> None:
            with grpc.secure_channel(target, client_credentials(pki, "core-banking")) as channel:
                stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
                try:
                    reply = stub.SearchKnowledge(customer_service_pb2.SearchKnowledgeRequest(query="slow"), timeout=20)
                    result["text"] = reply.hits[0].text
                except grpc.RpcError as error:
                    result["error"] = error.code()

        worker = threading.Thread(target=slow_call)
        worker.start()
        time.sleep(0.7)  # the call is in flight inside the server
        started = time.monotonic()
        proc.signal(signal.SIGTERM)
        time.sleep(0.3)
        # A new call after SIGTERM is refused.
        with grpc.secure_channel(target, client_credentials(pki, "core-banking")) as channel:
            stub = customer_service_pb2_grpc.CustomerServiceStub(channel)
            try:
                stub.SearchKnowledge(customer_service_pb2.SearchKnowledgeRequest(query="late"), timeout=3)
                late = grpc.StatusCode.OK
            except grpc.RpcError as error:
                late = error.code()
        worker.join(20)
        code = proc.wait(20)
        assert result == {"text": "slow"}
        assert late != grpc.StatusCode.OK
        assert code == 0
        # It waited for the in-flight call rather than the whole grace period (10 s).
        assert time.monotonic() - started < 8
