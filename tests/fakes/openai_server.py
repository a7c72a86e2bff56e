"""A scripted OpenAI-compatible HTTP server, run as a real separate process on a loopback port.

Tests of every area that reaches an LLM use it: it serves scripted good answers and injects
the faults a real vLLM fleet produces (500, 429 with ``Retry-After``, a slow first token, a
mid-stream disconnect, malformed JSON, a hang past the deadline, a dropped connection), and
a refused connection is simply a killed server or a closed port.

Run it: ``python -m tests.fakes.openai_server --port 0`` prints ``LISTENING <port>`` once ready.

Script it over its control endpoints (the :class:`FakeOpenAIServer` handle below wraps them):

- ``POST /_control/script`` ``{"steps": [STEP, ...], "default": STEP | null, "append": false}``:
  each chat request consumes the first step; when the queue is empty the default answers.
- ``POST /_control/health`` ``{"mode": "ok" | "fail" | "missing"}`` (``missing``: ``/health`` is 404,
  so a prober must fall back to ``/v1/models``).
- ``POST /_control/metrics`` ``{"waiting": 3, "running": 2, "kv": 0.4}`` or ``{"text": "..."}``:
  what ``/metrics`` returns, in vLLM's exposition format.
- ``GET /_control/requests``: every chat request received (path, JSON body, headers of interest).
- ``POST /_control/reset``: back to the defaults.

A STEP is a JSON object with ``kind`` one of:

- ``ok``: ``content`` (text; a stream splits it on spaces unless ``chunks`` is given), ``delay``
  (seconds before the first byte; with ``serial: true`` requests wait for each other, like a saturated
  replica), ``token_delay`` (between stream chunks), ``model``,
  ``finish_reason``, ``prompt_tokens``/``completion_tokens``.
- ``slow_first_token``: as ``ok`` with ``delay`` (default 2 s) before the first token.
- ``status``: ``status`` (default 500), ``retry_after`` (header value), ``message``.
- ``disconnect``: the connection is closed before any response byte.
- ``midstream_disconnect``: a stream sends ``after_chunks`` chunks (default 1) and then the connection
  is cut without the terminating chunk; a non-stream sends half a body and cuts.
- ``malformed``: a 200 whose body (or, in a stream, whose first event) is not JSON.
- ``hang``: nothing is sent for ``seconds`` (default 3600).

Every step may carry ``match``: ``"stream"`` or ``"non_stream"`` to apply only to that kind of request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

DEFAULT_MODEL = "fake-model"
_REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------


class _State:
    def __init__(self, model: str) -> None:
        self.model = model
        self.reset()

    def reset(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.default: dict[str, Any] = {"kind": "ok", "content": "ok"}
        self.health = "ok"
        self.metrics_text = _render_metrics(0, 0, 0.0)
        self.requests: list[dict[str, Any]] = []
        self.counter = 0

    def next_step(self, stream: bool) -> dict[str, Any]:
        for index, step in enumerate(self.steps):
            match = step.get("match")
            if match is None or (match == "stream") == stream:
                return self.steps.pop(index)
        return self.default


def _render_metrics(waiting: float, running: float, kv: float) -> str:
    labels = '{model_name="fake-model"}'
    return (
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
        "# TYPE vllm:num_requests_running gauge\n"
        f"vllm:num_requests_running{labels} {running}\n"
        "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n"
        "# TYPE vllm:num_requests_waiting gauge\n"
        f"vllm:num_requests_waiting{labels} {waiting}\n"
        "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n"
        "# TYPE vllm:kv_cache_usage_perc gauge\n"
        f"vllm:kv_cache_usage_perc{labels} {kv}\n"
    )


class _Request:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").strip().split(" ")
    if len(parts) < 2:
        return None
    method, path = parts[0], parts[1]
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return _Request(method, path.split("?", 1)[0], headers, body)


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "Status")
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    extra: Mapping[str, str] | None = None,
) -> None:
    headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **(extra or {})}
    writer.write(_head(status, headers) + body)
    await writer.drain()


async def _send_json(
    writer: asyncio.StreamWriter, status: int, payload: Any, extra: Mapping[str, str] | None = None
) -> None:
    await _send(writer, status, json.dumps(payload).encode(), extra=extra)


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class _Cut(Exception):
    """The scripted fault closes the connection."""


class FakeServerApp:
    """The request handler of the fake server process."""

    def __init__(self, model: str) -> None:
        self.state = _State(model)
        self.serial_lock = asyncio.Lock()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                await self._dispatch(request, writer)
                if request.headers.get("connection", "").lower() == "close":
                    break
        except (_Cut, ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            # A scripted cut, a client that went away, or shutdown: nothing left to answer.
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.transport.abort()

    async def _dispatch(self, request: _Request, writer: asyncio.StreamWriter) -> None:
        state = self.state
        path = request.path
        if path.startswith("/_control/"):
            await self._control(request, writer)
        elif path == "/health":
            if state.health == "ok":
                await _send_json(writer, 200, {"status": "ok"})
            elif state.health == "missing":
                await _send_json(writer, 404, {"error": "not found"})
            else:
                await _send_json(writer, 503, {"status": "unhealthy"})
        elif path in ("/v1/models", "/models"):
            if state.health == "fail":
                await _send_json(writer, 503, {"error": "unhealthy"})
            else:
                await _send_json(writer, 200, {"object": "list", "data": [{"id": state.model, "object": "model"}]})
        elif path == "/metrics":
            await _send(writer, 200, state.metrics_text.encode(), content_type="text/plain; version=0.0.4")
        elif path in ("/v1/chat/completions", "/chat/completions") and request.method == "POST":
            await self._chat(request, writer)
        else:
            await _send_json(writer, 404, {"error": {"message": f"no route {path}"}})

    async def _control(self, request: _Request, writer: asyncio.StreamWriter) -> None:
        state = self.state
        body = json.loads(request.body or b"{}")
        name = request.path[len("/_control/") :]
        if name == "script":
            if not body.get("append"):
                state.steps = []
            state.steps.extend(body.get("steps", []))
            if body.get("default") is not None:
                state.default = body["default"]
        elif name == "reset":
            state.reset()
        elif name == "health":
            state.health = body["mode"]
        elif name == "metrics":
            state.metrics_text = (
                body["text"]
                if "text" in body
                else _render_metrics(body.get("waiting", 0), body.get("running", 0), body.get("kv", 0.0))
            )
        elif name == "requests":
            await _send_json(writer, 200, {"requests": state.requests})
            return
        else:
            await _send_json(writer, 404, {"error": f"unknown control {name}"})
            return
        await _send_json(writer, 200, {"ok": True})

    async def _chat(self, request: _Request, writer: asyncio.StreamWriter) -> None:
        state = self.state
        payload = json.loads(request.body or b"{}")
        stream = bool(payload.get("stream"))
        state.requests.append(
            {
                "path": request.path,
                "body": payload,
                "time": time.time(),
                "authorization": request.headers.get("authorization", ""),
                "traceparent": request.headers.get("traceparent", ""),
            }
        )
        step = state.next_step(stream)
        kind = step.get("kind", "ok")
        if kind == "hang":
            await asyncio.sleep(float(step.get("seconds", 3600)))
            raise _Cut
        if kind == "disconnect":
            raise _Cut
        if kind == "status":
            status = int(step.get("status", 500))
            extra = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else {}
            message = step.get("message", f"scripted {status}")
            await _send_json(
                writer, status, {"error": {"message": message, "type": "scripted", "code": status}}, extra=extra
            )
            return
        delay = float(step.get("delay", 2.0 if kind == "slow_first_token" else 0.0))
        if delay and step.get("serial"):
            # A replica with no spare capacity: requests queue behind each other, as on a saturated GPU.
            async with self.serial_lock:
                await asyncio.sleep(delay)
        elif delay:
            await asyncio.sleep(delay)
        state.counter += 1
        model = step.get("model", payload.get("model") or state.model)
        content = str(step.get("content", "ok"))
        completion_id = f"chatcmpl-fake-{os.getpid()}-{state.counter}"
        prompt_tokens = int(step.get("prompt_tokens", _count_prompt_tokens(payload)))
        completion_tokens = int(step.get("completion_tokens", max(1, len(content.split()))))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        finish = step.get("finish_reason", "stop")
        if not stream:
            if kind == "malformed":
                await _send(writer, 200, b'{"id": "x", "choices": [ {"message": ')
                return
            body = json.dumps(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
                    ],
                    "usage": usage,
                }
            ).encode()
            if kind == "midstream_disconnect":
                writer.write(
                    _head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
                    + body[: len(body) // 2]
                )
                await writer.drain()
                raise _Cut
            await _send(writer, 200, body)
            return
        await self._stream(writer, step, kind, completion_id, model, content, usage, finish, payload)

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        step: Mapping[str, Any],
        kind: str,
        completion_id: str,
        model: str,
        content: str,
        usage: Mapping[str, int],
        finish: str,
        payload: Mapping[str, Any],
    ) -> None:
        writer.write(
            _head(
                200, {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache"}
            )
        )
        chunks: Sequence[str] = step.get("chunks") or _split(content)
        token_delay = float(step.get("token_delay", 0.0))
        cut_after = int(step.get("after_chunks", 1))

        def event(delta: Mapping[str, Any], finish_reason: str | None, with_usage: bool = False) -> bytes:
            body: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
            if with_usage:
                body["choices"] = []
                body["usage"] = dict(usage)
            return _chunk(b"data: " + json.dumps(body).encode() + b"\n\n")

        if kind == "malformed":
            writer.write(_chunk(b"data: {this is not json\n\n"))
            await writer.drain()
            raise _Cut
        writer.write(event({"role": "assistant", "content": ""}, None))
        for index, piece in enumerate(chunks):
            if kind == "midstream_disconnect" and index >= cut_after:
                await writer.drain()
                raise _Cut
            writer.write(event({"content": piece}, None))
            await writer.drain()
            if token_delay:
                await asyncio.sleep(token_delay)
        if kind == "midstream_disconnect":
            raise _Cut
        writer.write(event({}, finish))
        if (payload.get("stream_options") or {}).get("include_usage"):
            writer.write(event({}, None, with_usage=True))
        writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()


def _split(content: str) -> list[str]:
    words = content.split(" ")
    return [w if i == len(words) - 1 else w + " " for i, w in enumerate(words)] if content else []


def _count_prompt_tokens(payload: Mapping[str, Any]) -> int:
    text = " ".join(str(m.get("content", "")) for m in payload.get("messages", []) if isinstance(m, Mapping))
    return max(1, len(text) // 4)


async def _serve(args: argparse.Namespace) -> None:
    app = FakeServerApp(args.model)
    context: ssl.SSLContext | None = None
    if args.certfile:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.certfile, args.keyfile)
        if args.cafile:
            context.load_verify_locations(args.cafile)
            context.verify_mode = ssl.CERT_REQUIRED
    server = await asyncio.start_server(app.handle, args.host, args.port, ssl=context, backlog=512)
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the fake server process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    parser.add_argument("--cafile", help="require client certificates chaining to this CA")
    asyncio.run(_serve(parser.parse_args(argv)))


# --------------------------------------------------------------------------------------------
# The handle tests use
# --------------------------------------------------------------------------------------------


class FakeOpenAIServer:
    """A running fake server process and its control API.

    Attributes:
        port: The loopback port it listens on.
        base_url: ``http(s)://127.0.0.1:<port>/v1``, what an OpenAI client takes.
        root_url: Without ``/v1`` (health, metrics).
    """

    def __init__(
        self, process: subprocess.Popen[str], port: int, *, tls: bool = False, verify: ssl.SSLContext | bool = True
    ) -> None:
        self.process = process
        self.port = port
        scheme = "https" if tls else "http"
        self.root_url = f"{scheme}://127.0.0.1:{port}"
        self.base_url = f"{self.root_url}/v1"
        self._control = httpx.Client(base_url=self.root_url, timeout=10.0, verify=verify)

    @classmethod
    def start(
        cls,
        *,
        model: str = DEFAULT_MODEL,
        port: int = 0,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        cafile: Path | None = None,
        control_cert: tuple[Path, Path] | None = None,
    ) -> FakeOpenAIServer:
        """Start a fake server process and wait until it listens.

        Args:
            model: The model name it reports.
            port: Port to bind (0 picks a free one).
            certfile: Serve TLS with this certificate (and ``keyfile``).
            keyfile: The key of ``certfile``.
            cafile: Require client certificates chaining to this CA (mTLS).
            control_cert: Client certificate and key the control API presents under mTLS.
        """
        command = [sys.executable, "-m", "tests.fakes.openai_server", "--port", str(port), "--model", model]
        if certfile and keyfile:
            command += ["--certfile", str(certfile), "--keyfile", str(keyfile)]
        if cafile:
            command += ["--cafile", str(cafile)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=_REPO_ROOT, env=env)
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("LISTENING "):
            process.kill()
            raise RuntimeError(f"fake OpenAI server did not start: {line!r}")
        verify: ssl.SSLContext | bool = True
        if certfile:
            context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
            if control_cert:
                context.load_cert_chain(str(control_cert[0]), str(control_cert[1]))
            verify = context
        return cls(process, int(line.split()[1]), tls=certfile is not None, verify=verify)

    # scripting ------------------------------------------------------------------------------
    def script(self, *steps: Mapping[str, Any], default: Mapping[str, Any] | None = None, append: bool = False) -> None:
        """Queue ``steps`` (consumed one per chat request); ``default`` answers when the queue is empty."""
        self._post("script", {"steps": list(steps), "default": default, "append": append})

    def set_default(self, step: Mapping[str, Any]) -> None:
        """What answers once the scripted steps are used up."""
        self._post("script", {"steps": [], "default": step, "append": True})

    def set_health(self, mode: str) -> None:
        """``ok``, ``fail`` (503) or ``missing`` (``/health`` is 404)."""
        self._post("health", {"mode": mode})

    def set_metrics(self, *, waiting: float = 0, running: float = 0, kv: float = 0.0) -> None:
        """What ``/metrics`` reports (vLLM gauge names)."""
        self._post("metrics", {"waiting": waiting, "running": running, "kv": kv})

    def requests(self) -> list[dict[str, Any]]:
        """Every chat request received since the last reset."""
        response = self._control.get("/_control/requests")
        response.raise_for_status()
        return list(response.json()["requests"])

    def reset(self) -> None:
        """Back to the defaults: no steps, answer ``ok``, healthy, idle metrics, empty request log."""
        self._post("reset", {})

    def _post(self, name: str, body: Mapping[str, Any]) -> None:
        response = self._control.post(f"/_control/{name}", json=dict(body))
        response.raise_for_status()

    # life cycle -----------------------------------------------------------------------------
    def kill(self) -> None:
        """SIGKILL: the port then refuses connections (what a crashed replica looks like)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._control.close()
        if self.process.stdout:
            self.process.stdout.close()


def closed_port_url() -> str:
    """A ``/v1`` URL on a loopback port nothing listens on: connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


if __name__ == "__main__":
    main()
