"""Linked accounts and removable credentials (#16 items 4, 5), end to end: Chromium -> the app over HTTP ->
a real MediaWiki with TestIdP as a linking provider (TYPE_LINK) -> the fake IdP page and back."""
from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

import pytest
import requests

from devwiki.wikiserver import USERS
from tests.conftest import AuthActions, consent, screenshot, start_with_testidp
from tests.test_login_browser import fill_login, submit

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _fresh_throttles(idp_wiki):
    # Every TestIdP login starts without a user name: one per-address counter on the wiki.
    idp_wiki.reset_login_throttles()
    yield
    idp_wiki.reset_login_throttles()


def _main(page) -> str:
    return page.locator("main").inner_text()


def _log_out(page) -> None:
    page.get_by_role("button", name="Log out").first.click()
    page.wait_for_load_state()


def test_bob_links_an_identity_logs_in_with_it_unlinks_it_and_it_no_longer_logs_him_in(
        idp_wiki, live_app, new_page, all_logs):
    app = live_app(idp_wiki)
    identity = f"bob-{secrets.token_hex(3)}"
    page = new_page()
    page.goto(app.url + "/login")
    fill_login(page, "Bob", USERS["Bob"])
    submit(page)
    page.get_by_role("navigation", name="Your account").get_by_role("link", name="Linked accounts").click()
    assert page.get_by_role("heading", name=re.compile("Linked accounts")).is_visible()
    assert identity not in _main(page)
    screenshot(page, "linked-before")
    page.get_by_role("link", name="Link another account").click()
    assert page.get_by_role("heading", name=re.compile("Link accounts")).is_visible()
    screenshot(page, "link-form")
    page.get_by_role("button", name="Link TestIdP account").click()
    page.wait_for_selector("#testidp-identity")
    consent(page, identity)
    # Back through the same one-time callback as a login, on the list, which says so once.
    assert urlsplit(page.url).path == "/account/linked"
    assert "The account was linked." in _main(page)
    row = page.locator(".wl-credential", has_text=identity)
    assert row.count() == 1 and "TestIdP" in row.inner_text()
    screenshot(page, "linked-after-link")
    page.reload()
    assert "The account was linked." not in _main(page)
    page.get_by_role("link", name="Remove credentials").click()
    assert page.locator(".wl-credential", has_text=identity).count() == 1
    screenshot(page, "remove-credentials")
    _log_out(page)

    fresh = new_page()
    start_with_testidp(fresh, app.url)
    consent(fresh, identity)
    assert "Logged in as Bob" in _main(fresh)
    fresh.get_by_role("link", name="Linked accounts").click()
    fresh.get_by_role("button", name=f"Unlink TestIdP {identity}").click()
    fresh.wait_for_load_state()
    assert "The account was unlinked." in _main(fresh)
    assert fresh.locator(".wl-credential", has_text=identity).count() == 0
    screenshot(fresh, "linked-after-unlink")
    _log_out(fresh)

    again = new_page()
    start_with_testidp(again, app.url)
    consent(again, identity)
    assert "no wiki account is linked" in _main(again) and "Logged in as" not in _main(again)
    screenshot(again, "unlinked-identity-restarts")
    assert any("auth action=link status=PASS user=Bob provider=TestIdP" in line for line in all_logs)
    assert any("credentials action=unlinkaccount status=success user=Bob" in line for line in all_logs)


def _link_by_api_shortcut(client, auth: AuthActions, identity: str) -> None:
    """Link ``identity`` to the logged-in user through the app, the IdP approving at once (prompt=none)."""
    form = client.get("/account/link").get_data(as_text=True)
    away = client.post("/account/link", data={"csrf_token": auth.csrf(form), "testidplink": "1"})
    assert away.status_code == 303, away.get_data(as_text=True)
    back = requests.get(away.headers["Location"] + f"&prompt=none&login_hint={identity}", allow_redirects=False,
                        timeout=30).headers["Location"]
    parts = urlsplit(back)
    done = client.get(f"{parts.path}?{parts.query}")
    assert done.status_code == 303 and done.headers["Location"] == "/account/linked"


def _logs_in_as(app, idp_wiki, identity: str) -> str:
    """Who the identity logs in as through the app (the IdP approving at once); "" if nobody."""
    client = app.test_client()
    auth = AuthActions(client)
    form = client.get("/login").get_data(as_text=True)
    away = client.post("/login", data={"csrf_token": auth.csrf(form), "testidplogin": "1"})
    back = requests.get(away.headers["Location"] + f"&prompt=none&login_hint={identity}", allow_redirects=False,
                        timeout=30).headers["Location"]
    parts = urlsplit(back)
    client.get(f"{parts.path}?{parts.query}")
    with client.session_transaction() as stored:
        return stored.get("user") or ""


def test_remove_credentials_lists_what_the_wiki_offers_and_removes_a_linked_identity(idp_wiki, live_app):
    app = live_app(idp_wiki).app
    identity = f"bob-{secrets.token_hex(3)}"
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login("Bob").status_code == 303
    _link_by_api_shortcut(client, auth, identity)
    assert _logs_in_as(app, idp_wiki, identity) == "Bob"
    page = client.get("/account/remove").get_data(as_text=True)
    # The wiki's removable credentials: the temporary password (if one is pending) and the
    # linked identity; never the password ($wgRemoveCredentialsBlacklist).
    assert "Temporary password" in page and f"TestIdPIdentityRequest:{identity}" in page
    assert "PasswordAuthenticationRequest" not in page.replace("TemporaryPasswordAuthenticationRequest", "")
    mark = idp_wiki.log_mark()
    done = client.post("/account/remove", data={
        "csrf_token": auth.csrf(page), "request": f"MediaWiki\\Extension\\TestIdP\\TestIdPIdentityRequest:{identity}"})
    assert done.status_code == 303 and done.headers["Location"] == "/account/remove"
    posts = [r for r in idp_wiki.api_requests_since(mark) if r.startswith("POST")]
    assert len(posts) == 1, posts  # removeauthenticationdata, nothing else
    after = client.get("/account/remove").get_data(as_text=True)
    assert "Your credentials have been removed." in after and identity not in after
    assert _logs_in_as(app, idp_wiki, identity) == ""
    # A request the wiki does not offer (any more): nothing is sent.
    mark = idp_wiki.log_mark()
    gone = client.post("/account/remove", data={
        "csrf_token": auth.csrf(after), "request": f"MediaWiki\\Extension\\TestIdP\\TestIdPIdentityRequest:{identity}"})
    assert gone.status_code == 404 and "does not offer this any more" in gone.get_data(as_text=True)
    assert not [r for r in idp_wiki.api_requests_since(mark) if r.startswith("POST")]


def test_linking_pages_need_a_login_and_a_token(idp_wiki, live_app):
    app = live_app(idp_wiki).app
    client = app.test_client()
    for path in ("/account/linked", "/account/link", "/account/remove"):
        answer = client.get(path)
        assert answer.status_code == 303 and f"returnto={path}" in answer.headers["Location"]
    auth = AuthActions(client)
    auth.login("Bob")
    mark = idp_wiki.log_mark()
    for path in ("/account/linked", "/account/link", "/account/remove"):
        assert client.post(path, data={"request": "x", "testidplink": "1"}).status_code == 400
    assert not [r for r in idp_wiki.api_requests_since(mark) if r.startswith("POST")]


def test_a_restart_while_logging_in_again_links_the_identity_with_loginpreservestate(idp_wiki, live_app):
    """Logging in again (REAUTH) with a provider whose identity no account has: RESTART. The way on is
    logging in again as the session's user with loginpreservestate=1, and the wiki's ConfirmLink step
    links the identity; no "create a new account", no login as anyone else."""
    app = live_app(idp_wiki).app
    identity = f"bob-{secrets.token_hex(3)}"
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login("Bob").status_code == 303
    form = client.get("/account/reauth?returnto=/account/linked").get_data(as_text=True)
    away = client.post("/account/reauth?returnto=/account/linked", data={
        "csrf_token": auth.csrf(form), "username": "Bob", "testidplogin": "1"})
    back = requests.get(away.headers["Location"] + f"&prompt=none&login_hint={identity}", allow_redirects=False,
                        timeout=30).headers["Location"]
    parts = urlsplit(back)
    assert client.get(f"{parts.path}?{parts.query}").headers["Location"] == "/login/resume"
    restart = client.get("/login/resume").get_data(as_text=True)
    assert "no wiki account is linked" in restart and "Create a new wiki account" not in restart
    assert "/account/reauth?restart=1" in restart
    again = client.post("/login/existing-account", data={"csrf_token": auth.csrf(restart)}).get_data(as_text=True)
    assert 'value="Bob"' in again and "readonly" in again and "will then be linked to your account" in again
    step = client.post("/account/reauth", data={"csrf_token": auth.csrf(again), "username": "Alice",
                                                "password": USERS["Bob"], "wl_submit": "Log in"})
    html = step.get_data(as_text=True)
    link_id = f"MediaWiki\\Extension\\TestIdP\\TestIdPIdentityRequest:{identity}"
    # ConfirmLink's step: the wiki offers it only to a login sent with loginpreservestate=1.
    assert step.status_code == 200 and f'value="{link_id}"' in html, html
    done = client.post("/account/reauth", data={"csrf_token": auth.csrf(html), "confirmedLinkIDs": link_id,
                                                "wl_submit": "Continue"})
    assert done.status_code == 303 and done.headers["Location"] == "/account/linked"
    assert identity in client.get("/account/linked").get_data(as_text=True)
    with client.session_transaction() as stored:
        assert stored["user"] == "Bob"
    assert _logs_in_as(app, idp_wiki, identity) == "Bob"
