"""Under the Content-Security-Policy the pages still work in Chromium: styles apply,
our script runs, and the browser reports no violation or script error."""
from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot
from devwiki.wikiserver import USERS

pytestmark = pytest.mark.browser

# What Chromium logs for any page answered with an error status: expected here.
ERROR_STATUS = re.compile(r"^Failed to load resource: the server responded with a status of (400|404|429)\b")
IDP = "http://idp.test/"  # served by Playwright itself: no network, but another site


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_load_state()


def test_pages_work_under_the_csp_with_no_console_errors(wiki, live_app, new_page):
    wiki.reset_login_throttles()
    app = live_app(wiki, LOGIN_RATE_LIMIT_PER_USER="2 per 5 minutes")
    page = new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"{msg.type}: {msg.text}")
            if msg.type in ("error", "warning") and not ERROR_STATUS.match(msg.text) else None)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))

    page.goto(app.url + "/")
    # Both stylesheets apply: Codex's buttons and the app's cards.
    assert page.locator(".wl-card").evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    assert page.locator(".cdx-button").first.evaluate("e => getComputedStyle(e).cursor") == "pointer"

    log_in(page, app.url, "Alice", "not-her-password")
    assert page.get_by_role("alert").is_visible()
    log_in(page, app.url, "Alice", "still-not-her-password")
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Too many login attempts").is_visible()
    assert "Please try again in 5 minutes." in page.locator("main").inner_text()
    screenshot(page, "deploy-too-many-attempts")

    page.goto(app.url + "/no-such-page")
    assert page.get_by_role("heading", name="Page not found").is_visible()

    log_in(page, app.url, "Bob", USERS["Bob"])
    assert "Logged in as Bob" in page.locator("main").inner_text()

    # An identity provider's form POST back to us comes without our SameSite=Lax
    # cookie; static/js/relay.js re-posts it from our own page, where it has it.
    page.route(IDP, lambda route: route.fulfill(content_type="text/html", body=(
        f'<form method="post" action="{app.url}/login/return">'
        '<input type="hidden" name="wlstate" value="not-a-valid-state">'
        '<button>Back to the wiki</button></form>')))
    page.goto(IDP)
    page.get_by_role("button", name="Back to the wiki").click()
    page.wait_for_url(app.url + "/login/return")
    page.get_by_role("heading", name="This login link is not valid any more").wait_for()

    assert problems == []
    wiki.reset_login_throttles()
