"""Third-party login end to end: REDIRECT to the identity provider, the callback, RESTART."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import consent, screenshot, session_id, start_with_testidp
from devwiki.wikiserver import USERS

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fresh_throttles(request):
    # Every button login starts without a user name and counts against the
    # wiki's per-IP login throttle, which all tests share (all are 127.0.0.1).
    for name in ("idp_wiki", "idp_post_wiki"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset_login_throttles()
    yield


def test_password_form_and_provider_button_side_by_side(idp_wiki, live_app, new_page):
    app = live_app(idp_wiki)
    page = new_page()
    page.goto(app.url + "/login")
    assert page.get_by_label("Username").is_visible()
    assert page.get_by_role("button", name="Log in", exact=True).is_visible()
    assert page.get_by_role("button", name="Log in with TestIdP").is_visible()
    screenshot(page, "login-with-provider")
    # The password path still works, and the provider button is not required for it.
    page.get_by_label("Username").fill("Alice")
    page.get_by_label("Password", exact=True).fill(USERS["Alice"])
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(app.url + "/")
    assert "Logged in as Alice" in page.locator("main").inner_text()


def test_provider_button_ignores_a_half_filled_password_form(idp_wiki, live_app, new_page):
    app = live_app(idp_wiki)
    page = new_page()
    page.goto(app.url + "/login")
    page.get_by_label("Username").fill("Alice")  # typed, then changed their mind
    page.get_by_role("button", name="Log in with TestIdP").click()
    page.wait_for_selector("#testidp-identity")


def test_testidp_login_lands_as_alice(idp_wiki, live_app, new_page):
    app = live_app(idp_wiki)
    page = new_page()
    start_with_testidp(page, app.url)
    assert "/_test/idp.php" in page.url
    screenshot(page, "idp-consent")
    consent(page, "alice")
    page.wait_for_url(app.url + "/")
    # The provider's code never stays in the address bar or history.
    assert "code=" not in page.url
    assert "Logged in as Alice" in page.locator("main").inner_text()
    assert app.wiki_client_for(session_id(page)).whoami().name == "Alice"


def test_unlinked_identity_restart_then_existing_account_links_it(idp_wiki, live_app, new_page):
    app = live_app(idp_wiki)
    page = new_page()
    start_with_testidp(page, app.url)
    consent(page, "erin-unlinked")
    main = page.locator("main").inner_text()
    assert "no wiki account is linked" in main and "TestIdP" in main
    screenshot(page, "restart")
    page.get_by_role("button", name="Log in with an existing account").click()
    page.get_by_label("Username").fill("Bob")
    page.get_by_label("Password", exact=True).fill(USERS["Bob"])
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_load_state()
    # The wiki asks which identity to link (a real multiselect step).
    # Only a login sent with loginpreservestate=1 gets this step: the wiki offers
    # to link the identity it kept from the provider (a real multiselect field).
    page.get_by_role("checkbox", name="TestIdP (erin-unlinked)").check()
    screenshot(page, "restart-confirm-link")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(app.url + "/")
    assert "Logged in as Bob" in page.locator("main").inner_text()
    # Next time the same identity logs straight in as Bob.
    page2 = new_page()
    idp_wiki.reset_login_throttles()
    start_with_testidp(page2, app.url)
    consent(page2, "erin-unlinked")
    page2.wait_for_url(app.url + "/")
    assert "Logged in as Bob" in page2.locator("main").inner_text()


def test_redirect_then_second_factor_then_pass(idp_wiki, live_app, new_page):
    app = live_app(idp_wiki)
    page = new_page()
    start_with_testidp(page, app.url)
    consent(page, "carol")
    token = page.locator("input[name=OATHToken]")
    assert token.is_visible()
    screenshot(page, "idp-then-2fa")
    token.fill(idp_wiki.totp_code("Carol"))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(app.url + "/")
    assert "Logged in as Carol" in page.locator("main").inner_text()


def _callback_url(page) -> str:
    """Where the provider would send this browser back (taken from the consent page)."""
    return page.locator("input[name=redirect_uri]").input_value()


@pytest.mark.parametrize("tamper", ["forged", "missing", "replayed", "other-browser"])
def test_bad_callbacks_are_refused_without_calling_the_wiki(idp_wiki, live_app, new_page, tamper):
    app = live_app(idp_wiki)
    page = new_page()
    start_with_testidp(page, app.url)
    genuine = _callback_url(page)  # our loginreturnurl, with this browser's one-time value
    if tamper == "replayed":
        used = []
        page.on("request", lambda r: used.append(r.url) if "/login/return" in r.url else None)
        consent(page, "alice")
        page.wait_for_url(app.url + "/")
        target, visitor = used[0], page
    elif tamper == "forged":
        target, visitor = genuine.replace("wlstate=", "wlstate=forged") + "&code=abc&state=def", page
    elif tamper == "missing":
        target, visitor = app.url + "/login/return?code=abc&state=def", page
    else:
        target, visitor = genuine + "&code=abc&state=def", new_page()
    mark = idp_wiki.log_mark()
    visitor.goto(target)
    assert "This login link is not valid any more" in visitor.locator("main").inner_text()
    assert idp_wiki.api_requests_since(mark) == []
    if tamper == "forged":
        screenshot(visitor, "callback-refused")


def test_form_post_callback_works_like_get(idp_post_wiki, live_app, new_page):
    app = live_app(idp_post_wiki)
    page = new_page()
    start_with_testidp(page, app.url)
    consent(page, "alice")
    page.wait_for_url(app.url + "/")
    assert "Logged in as Alice" in page.locator("main").inner_text()


def test_two_users_through_the_provider_at_once(idp_wiki, live_app, new_page):
    app = live_app(idp_wiki)
    pages = {ident: new_page() for ident in ("alice", "carol")}
    for ident, page in pages.items():
        start_with_testidp(page, app.url)
        page.fill("#testidp-identity", ident)
    for page in pages.values():
        page.click("#testidp-allow", no_wait_after=True)
    pages["carol"].locator("input[name=OATHToken]").fill(idp_wiki.totp_code("Carol"))
    pages["carol"].get_by_role("button", name="Continue").click()
    for ident, page in pages.items():
        page.wait_for_url(app.url + "/")
    assert "Logged in as Alice" in pages["alice"].locator("main").inner_text()
    assert "Logged in as Carol" in pages["carol"].locator("main").inner_text()
    names = {ident: app.wiki_client_for(session_id(p)).whoami().name for ident, p in pages.items()}
    assert names == {"alice": "Alice", "carol": "Carol"}


def test_provider_code_is_never_stored_and_never_stays_in_the_address_bar(idp_wiki, live_app, new_page):
    app = live_app(idp_wiki)
    page = new_page()
    start_with_testidp(page, app.url)
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    consent(page, "carol")  # a second factor follows: a page is shown after the callback
    page.locator("input[name=OATHToken]").wait_for()
    callback = next(u for u in seen if "/login/return" in u)
    code = dict(p.split("=", 1) for p in callback.split("?", 1)[1].split("&"))["code"]
    assert "/login/return" not in page.url and "code=" not in page.url
    store = Path(app.app.config["SESSION_DIR"])
    assert not any(code.encode() in f.read_bytes() for f in store.rglob("*") if f.is_file())
    # The first prompt after the provider is a prompt, not an error.
    assert page.get_by_role("alert").count() == 0


def test_wiki_down_at_the_callback_is_a_clear_page_away_from_the_callback_url(idp_wiki, live_app, new_page):
    app = live_app(idp_wiki)
    page = new_page()
    start_with_testidp(page, app.url)
    page.fill("#testidp-identity", "alice")
    idp_wiki.set_slow(3)
    app.app.extensions["wiki"].timeout = 1
    try:
        page.click("#testidp-allow")
        page.wait_for_url(app.url + "/login/resume")
    finally:
        idp_wiki.set_slow(None)
    assert "could not be finished" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Start again").is_visible()
