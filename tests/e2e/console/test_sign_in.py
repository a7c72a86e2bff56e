"""Signing in and out, security headers, CSRF, session expiry — in Chromium against the real console."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.e2e.console.conftest import Tab
from tests.e2e.console.platform import ConsolePlatform, console_config_file, start_console, username_for


def test_sign_in_lands_on_the_page_asked_for_and_sign_out_ends_the_session(
    tab: Tab, console_platform: ConsolePlatform
) -> None:
    assert tab.go("/loans") == 200  # redirected to the sign-in page
    assert "/login" in tab.page.url
    tab.screenshot("sign-in")
    tab.page.get_by_label("Username").fill(username_for("loan-officer"))
    tab.page.get_by_label("Password").fill("not the password")
    tab.page.get_by_role("button", name="Sign in").click()
    expect(tab.page.get_by_test_id("signin-error")).to_have_text("Unknown username or wrong password.")
    tab.sign_in("loan-officer", next_path="/loans")
    assert tab.page.url.endswith("/loans")
    expect(tab.page.get_by_test_id("operator-role")).to_have_text("Loan officer")
    cookie = next(c for c in tab.context.cookies() if c["name"] == "fintech_console_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    tab.page.get_by_role("button", name="Sign out").click()
    assert "/login" in tab.page.url
    tab.go("/loans")
    assert "/login" in tab.page.url


def test_every_page_carries_the_security_headers(tab: Tab) -> None:
    response = tab.page.goto(tab.base_url + "/login")
    assert response is not None
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    # No inline script or style anywhere in the page the browser received.
    html = tab.page.content()
    assert "<script>" not in html and " style=" not in html and "<style" not in html


def test_a_post_without_the_session_csrf_token_is_refused(tab: Tab, seeded: object) -> None:
    tab.sign_in("loan-officer", next_path="/loans")
    # A forged form (what another site would post, riding on the cookie): right fields, no token.
    response = tab.page.request.post(
        tab.base_url + "/loans/any-review/decide",
        form={"decision": "approve", "justification": "forged by another site"},
    )
    assert response.status == 403
    assert "CSRF" in response.text()
    # A token from another session does not work either.
    response = tab.page.request.post(
        tab.base_url + "/loans/any-review/decide",
        form={"decision": "approve", "justification": "forged by another site", "csrf_token": "x" * 43},
    )
    assert response.status == 403
    # A page's own form with its token tampered in the DOM is refused the same way.
    tab.go("/")
    tab.page.evaluate("document.querySelector('input[name=csrf_token]').value = 'tampered'")
    tab.page.get_by_role("button", name="Sign out").click()
    expect(tab.page.get_by_test_id("refused")).to_contain_text("CSRF check failed")
    tab.screenshot("csrf-refused")
    # The session is still there: the forged sign-out did nothing.
    assert tab.go("/loans") == 200 and tab.page.url.endswith("/loans")


def test_an_expired_session_sends_the_operator_back_to_sign_in(
    tab_factory: Callable[..., Tab], console_platform: ConsolePlatform
) -> None:
    config = console_config_file(
        console_platform.var / "short-console.toml",
        console_platform.pki,
        console_platform.var,
        console_platform.ports,
        console_platform.users_file,
        extra="session_lifetime_seconds = 2",
    )
    for process in start_console("short-console", console_platform.var, config):
        short = tab_factory(f"http://localhost:{process.port}")
        short.sign_in("sre", next_path="/audit")
        assert short.page.url.endswith("/audit")
        short.page.wait_for_timeout(2500)  # a real process: its session clock is the wall clock
        short.go("/audit")
        assert "/login" in short.page.url and "expired=1" in short.page.url
        expect(short.page.get_by_test_id("notice")).to_have_text("Your session has ended. Sign in again.")
