"""``python -m tests.integration.aml.aml_server serve --config F --ready-file R``: the real serving path
(``serve_forever``: signals, graceful shutdown) hosting the AMLService built by ``server.aml.service.build``,
for tests that kill the process. Until the lead registers the builder, ``fintech serve`` hosts the
UNIMPLEMENTED stand-in; this script is the same process with the real one."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from server.aml.service import build
from server.runtime.app import serve_forever
from server.runtime.config import load_settings
from server.runtime.observability import configure_logging
from server.runtime.wiring import build_context


def main(argv: list[str]) -> None:
    config = Path(argv[argv.index("--config") + 1])
    ready = argv[argv.index("--ready-file") + 1]
    settings = load_settings(config)
    configure_logging(settings.logging.level)

    async def run() -> None:
        ctx = await build_context(settings)
        await serve_forever(ctx, ready_file=ready, extra_bindings=[await build(ctx)])

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1:])
