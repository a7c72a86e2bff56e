"""The README's configuration reference is the one the code generates (regenerate with `fintech config reference`)."""

from __future__ import annotations

from pathlib import Path

from server.runtime.config import reference_markdown


def test_readme_configuration_reference_is_current() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- config-reference:start -->", "<!-- config-reference:end -->"
    current = readme[readme.index(start) + len(start) : readme.index(end)].strip()
    assert current == reference_markdown().strip(), "README configuration reference is stale"
