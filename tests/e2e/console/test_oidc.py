"""OpenID Connect sign-in against a local provider process (tests/e2e/console/oidc_provider.py):
authorization code flow with PKCE, the ID token checked (signature by JWKS, issuer, audience, expiry,
nonce), the role from a claim — and every faulty token refused."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.console.conftest import Seeded, Tab
from tests.e2e.console.platform import (
    ENV,
    REPO,
    ConsolePlatform,
    Process,
    console_config_file,
    free_port,
    start_console,
)

CLIENT_ID = "fintech-console"
USERS = {
    "olivia": {"password": "olivia-pass-123", "name": "Olivia Officer", "fintech_role": "loan-officer"},
    "casey": {"password": "casey-pass-123", "name": "Casey Customer", "fintech_role": "customer"},
}


class Provider:
    def __init__(self, process: Process) -> None:
        self.process = process
        self.issuer = f"http://127.0.0.1:{process.port}"

    def fault(self, name: str) -> None:
        httpx.post(f"{self.issuer}/control/fault", json={"fault": name}, timeout=5).raise_for_status()


@pytest.fixture(scope="module")
def oidc_console(console_platform: ConsolePlatform) -> Iterator[tuple[str, Provider]]:
    """A provider process and a console signing in with it (``sign_in = "oidc"``)."""
    var = console_platform.var
    console_port = free_port()
    redirect = f"http://localhost:{console_port}/auth/oidc/callback"
    (var / "oidc-users.json").write_text(json.dumps(USERS), encoding="utf-8")
    (var / "oidc-secret.txt").write_text("s3cret-for-the-console-client\n", encoding="utf-8")
    provider_process = Process(
        "oidc-provider",
        [
            sys.executable,
            "-m",
            "tests.e2e.console.oidc_provider",
            "--users",
            str(var / "oidc-users.json"),
            "--client-id",
            CLIENT_ID,
            "--client-secret-file",
            str(var / "oidc-secret.txt"),
            "--redirect-uri",
            redirect,
            "--ready-file",
            str(var / "oidc-provider.ready"),
        ],
        var / "oidc-provider.log",
        var / "oidc-provider.ready",
    ).start()
    assert ENV and REPO
    try:
        provider = Provider(provider_process.wait_ready())
        config = console_config_file(
            var / "oidc-console.toml",
            console_platform.pki,
            var,
            console_platform.ports,
            console_platform.users_file,
            extra=f"""sign_in = "oidc"
[console.oidc]
issuer = "{provider.issuer}"
client_id = "{CLIENT_ID}"
client_secret_file = "{var / "oidc-secret.txt"}"
redirect_url = "{redirect}"
role_claim = "fintech_role"
""",
        )
        # The TOML above opens [console.oidc] before the file's [console.service_addresses]: both are [console] tables.
        for process in start_console("oidc-console", var, config, port=console_port):
            yield f"http://localhost:{process.port}", provider
    finally:
        provider_process.stop()


def _sign_in_at_provider(tab: Tab, username: str, password: str) -> None:
    tab.go("/loans")
    assert "/login" in tab.page.url
    tab.page.get_by_test_id("oidc-start").click()
    tab.page.wait_for_url("http://127.0.0.1:*/authorize?*")
    assert "code_challenge_method=S256" in tab.page.url and "nonce=" in tab.page.url
    tab.page.get_by_label("Username").fill(username)
    tab.page.get_by_label("Password").fill(password)
    tab.page.get_by_role("button", name="Sign in at the bank").click()
    tab.page.wait_for_load_state()


def test_oidc_sign_in_takes_the_role_from_the_id_token(
    tab_factory: Callable[..., Tab], oidc_console: tuple[str, Provider], seeded: Seeded
) -> None:
    url, provider = oidc_console
    provider.fault("")
    tab = tab_factory(url)
    tab.go("/login")
    expect(tab.page.get_by_label("Username")).to_have_count(0)  # no password form in OIDC mode
    tab.screenshot("sign-in-oidc")
    _sign_in_at_provider(tab, "olivia", USERS["olivia"]["password"])
    tab.page.wait_for_url(f"{url}/loans")
    expect(tab.page.get_by_test_id("operator")).to_have_text("Olivia Officer")
    expect(tab.page.get_by_test_id("operator-role")).to_have_text("Loan officer")
    expect(tab.page.get_by_test_id("loan-queue").or_(tab.page.get_by_test_id("empty"))).to_be_visible()
    cookie = next(c for c in tab.context.cookies() if c["name"] == "fintech_console_session")
    assert cookie["sameSite"] == "Strict" and cookie["httpOnly"]
    # The flow's own cookie is gone once used.
    assert not [c for c in tab.context.cookies() if c["name"] == "fintech_console_oidc"]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("wrong_audience", "issued for another client (aud)"),
        ("expired", "has expired (exp)"),
        ("wrong_nonce", "nonce does not match"),
        ("foreign_key", "signature is invalid"),
    ],
)
def test_a_faulty_id_token_is_refused(
    tab_factory: Callable[..., Tab], oidc_console: tuple[str, Provider], fault: str, message: str
) -> None:
    url, provider = oidc_console
    provider.fault(fault)
    try:
        tab = tab_factory(url)
        _sign_in_at_provider(tab, "olivia", USERS["olivia"]["password"])
        expect(tab.page.get_by_test_id("signin-error")).to_contain_text(message)
        assert tab.go("/loans") == 200 and "/login" in tab.page.url  # not signed in
    finally:
        provider.fault("")


def test_an_account_without_a_console_role_is_refused(
    tab_factory: Callable[..., Tab], oidc_console: tuple[str, Provider]
) -> None:
    url, provider = oidc_console
    provider.fault("")
    tab = tab_factory(url)
    _sign_in_at_provider(tab, "casey", USERS["casey"]["password"])
    expect(tab.page.get_by_test_id("signin-error")).to_contain_text("no console role")


def test_a_callback_not_started_by_this_browser_is_refused(
    tab_factory: Callable[..., Tab], oidc_console: tuple[str, Provider]
) -> None:
    url, _ = oidc_console
    tab = tab_factory(url)
    assert tab.go("/auth/oidc/callback?code=stolen&state=guessed") == 401
    expect(tab.page.get_by_test_id("signin-error")).to_contain_text("did not start here")
