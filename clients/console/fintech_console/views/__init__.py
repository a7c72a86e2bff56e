"""Pure view-model functions of the investigation pages: SDK responses in, template data out.

Nothing here performs I/O or decides anything: these functions only reshape what the AML and
compliance services returned into rows, text segments with highlights and graph elements, so the
pages stay thin and the shaping is unit-tested without a browser.
"""

from __future__ import annotations

__all__: list[str] = []
