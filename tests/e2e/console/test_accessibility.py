"""Accessibility basics: colour contrast of the stylesheet (WCAG 2.1), labelled form controls on every
page, and the skip link. Keyboard work of the queues is in test_escalations.py."""

from __future__ import annotations

import re

import pytest

from tests.e2e.console.conftest import Seeded, Tab
from tests.e2e.console.platform import REPO

CSS = REPO / "clients" / "console" / "fintech_console" / "static" / "console.css"

# (foreground, background, minimum ratio): text needs 4.5:1 (AA), focus rings and control borders 3:1.
PAIRS = [
    ("fg", "bg", 4.5),
    ("fg", "surface", 4.5),
    ("muted", "bg", 4.5),
    ("muted", "surface", 4.5),
    ("link", "bg", 4.5),
    ("link", "surface", 4.5),
    ("accent-fg", "accent-bg", 4.5),
    ("accent-bg", "bg", 4.5),
    ("accent-fg", "danger", 4.5),
    ("danger", "danger-bg", 4.5),
    ("ok", "ok-bg", 4.5),
    ("warn", "warn-bg", 4.5),
    ("fg", "danger-bg", 4.5),
    ("topbar-fg", "topbar-bg", 4.5),
    ("topbar-link", "topbar-bg", 4.5),
    ("mask-fg", "mask-bg", 4.5),
    ("focus", "bg", 3.0),
    ("focus", "surface", 3.0),
    ("focus-on-dark", "topbar-bg", 3.0),
    ("border", "bg", 3.0),
]


def _variables() -> dict[str, str]:
    root = re.search(r":root\s*{(.*?)}", CSS.read_text(encoding="utf-8"), re.S)
    assert root is not None
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;", root.group(1)))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_computation_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("fg", "bg", "minimum"), PAIRS)
def test_stylesheet_colours_meet_wcag_contrast(fg: str, bg: str, minimum: float) -> None:
    colours = _variables()
    ratio = contrast(colours[fg], colours[bg])
    assert ratio >= minimum, f"--{fg} on --{bg}: {ratio:.2f}:1 < {minimum}:1"


def test_every_colour_in_the_stylesheet_is_a_variable() -> None:
    text = CSS.read_text(encoding="utf-8")
    body = re.sub(r":root\s*{.*?}", "", text, count=1, flags=re.S)
    assert not re.findall(r"#[0-9a-fA-F]{3,6}\b", body), "colours outside :root escape the contrast test"


UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden')
  .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        ("loan-officer", ["/loans", "/loans/{review}"]),
        ("auditor", ["/audit", "/audit/verify"]),
        ("sre", ["/platform"]),
        ("agent", ["/escalations"]),
    ],
)
def test_every_form_control_is_labelled(tab: Tab, seeded: Seeded, role: str, paths: list[str]) -> None:
    tab.go("/login")
    assert tab.page.evaluate(UNLABELLED) == []
    tab.sign_in(role)
    for path in paths:
        if "{review}" in path:
            tab.go("/loans")
            tab.page.get_by_test_id("loan-queue").locator("tbody tr a").first.click()
        else:
            tab.go(path)
        assert tab.page.evaluate(UNLABELLED) == [], path
        # Every page starts with a skip link to the main content, and has exactly one h1.
        assert tab.page.locator("a.skip-link").get_attribute("href") == "#main"
        assert tab.page.locator("h1").count() == 1, path
