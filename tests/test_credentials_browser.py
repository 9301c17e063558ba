"""Forgot your password, change it, log in again first; the wiki's own account pages. End to end:
Chromium -> the app over HTTP -> a real MediaWiki whose mails are written to files."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Iterator

import pytest
import responses

from tests.conftest import AuthActions, screenshot
from tests.mock_wiki import API, mock_read_side
from tests.test_login_browser import fill_login, submit
from devwiki.wikiserver import USERS, WikiServer, start_wiki

pytestmark = pytest.mark.browser

# Users of their own per test: each test changes its user's password.
CRED_USERS = {
    "Dana": "Dana-Resets-4711!",     # forgets her password
    "Erin": "Erin-Changes-0815!",    # changes hers
    "Finn": "Finn-Again-2357!",      # changes his after logging in again
    "Gus": "Gus-Unrelated-1029!",    # asks for resets, to be refused over the limit
}
# How long after a login the wiki lets a user change credentials without logging in again.
REAUTH_SECONDS = 8


@pytest.fixture(scope="session")
def mail_wiki(mw_version) -> Iterator[WikiServer]:
    """Mail on (written to files), every user with an e-mail address, a short $wgReauthenticateTime."""
    server = start_wiki("mail", mw_version=mw_version, mail=True, extra_settings=(
        f"$wgReauthenticateTime = [ 'default' => 300, 'ChangeCredentials' => {REAUTH_SECONDS} ];"))
    try:
        for name, password in CRED_USERS.items():
            server.create_user(name, password)
            server.set_email(name, email_of(name))
        yield server
    finally:
        server.close()


def email_of(name: str) -> str:
    return f"{name.lower()}@example.org"


def mails_to(wiki: WikiServer, name: str) -> list[dict]:
    return [m for m in wiki.mails() if any(email_of(name) in to for to in m["to"])]


def temporary_password(mail: dict) -> str:
    match = re.search(r"Temporary password:\s*(\S+)", mail["body"])
    assert match, mail["body"]
    return match.group(1)


def logs_in(app_url: str, page, name: str, password: str) -> bool:
    page.goto(app_url + "/login")
    fill_login(page, name, password)
    submit(page)
    return f"Logged in as {name}" in page.locator("main").inner_text()


def test_forgot_password_mail_temporary_password_then_a_new_one(mail_wiki, live_app, new_page, all_logs):
    app = live_app(mail_wiki)
    page = new_page()
    page.goto(app.url + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    assert page.get_by_role("heading", name=re.compile("Reset your password")).is_visible()
    # The wiki's routes take a user name and an e-mail address: either will do.
    assert page.get_by_label("Username").is_visible() and page.get_by_label("Email address").is_visible()
    assert page.get_by_label("Email address").get_attribute("type") == "email"
    screenshot(page, "reset-form")
    before = len(mails_to(mail_wiki, "Dana"))
    page.get_by_label("Username").fill("Dana")
    submit(page, "Reset password")
    assert page.get_by_role("heading", name="Check your email").is_visible()
    screenshot(page, "reset-sent")
    mails = mails_to(mail_wiki, "Dana")
    assert len(mails) == before + 1
    temporary = temporary_password(mails[-1])

    # Logging in with it: the wiki's own "set a new password" step, as a UI step.
    page.goto(app.url + "/login")
    fill_login(page, "Dana", temporary)
    submit(page)
    main = page.locator("main")
    assert "temporary" in main.inner_text().lower()
    new_box, retype_box = page.get_by_label("New password:", exact=True), page.get_by_label("Retype new password:", exact=True)
    assert new_box.get_attribute("autocomplete") == "new-password"
    assert retype_box.get_attribute("autocomplete") == "new-password"
    screenshot(page, "reset-new-password-step")
    new_box.fill("Dana-Chose-Anew-9182!")
    retype_box.fill("Dana-Chose-Otherwise-1!")
    submit(page, "Continue")
    assert page.get_by_role("alert").is_visible()  # the wiki: the passwords do not match
    assert page.get_by_label("New password:", exact=True).input_value() == ""
    screenshot(page, "reset-new-password-mismatch")
    page.get_by_label("New password:", exact=True).fill("Dana-Chose-Anew-9182!")
    page.get_by_label("Retype new password:", exact=True).fill("Dana-Chose-Anew-9182!")
    submit(page, "Continue")
    assert "Logged in as Dana" in main.inner_text()

    # The new password logs in; neither the old one nor the temporary one does any more.
    assert logs_in(app.url, new_page(), "Dana", "Dana-Chose-Anew-9182!")
    assert not logs_in(app.url, new_page(), "Dana", CRED_USERS["Dana"])
    assert not logs_in(app.url, new_page(), "Dana", temporary)
    mail_wiki.reset_login_throttles()
    for secret in (temporary, "Dana-Chose-Anew-9182!"):
        assert not any(secret in line for line in all_logs)
    store = Path(app.app.config["SESSION_DIR"])
    assert not any(temporary.encode() in p.read_bytes() for p in store.rglob("*") if p.is_file())


def test_reset_answer_says_no_more_than_the_wiki_about_accounts(mail_wiki, make_app):
    client = make_app(mail_wiki).test_client()
    auth = AuthActions(client)

    def reset(**fields: str) -> str:
        token = auth.csrf(client.get("/password/reset").get_data(as_text=True))
        answer = client.post("/password/reset", data={"csrf_token": token, "wl_submit": "Reset password", **fields})
        assert answer.status_code == 200
        return re.sub(r'name="csrf_token"[^>]*>', "", answer.get_data(as_text=True))

    before = len(mails_to(mail_wiki, "Dana"))
    by_email = reset(email=email_of("Dana"))
    assert len(mails_to(mail_wiki, "Dana")) == before + 1
    nobody = reset(username="Nobody Here At All")
    no_address = reset(email="no-such-address@example.org")
    assert "Check your email" in by_email
    assert by_email == nobody == no_address
    # Neither name nor address alone: asked for, and nothing sent to the wiki.
    mark = mail_wiki.log_mark()
    token = auth.csrf(client.get("/password/reset").get_data(as_text=True))
    empty = client.post("/password/reset", data={"csrf_token": token, "wl_submit": "Reset password"})
    assert empty.status_code == 422 and "Please fill in your username or your email address" in empty.get_data(
        as_text=True)
    assert not [r for r in mail_wiki.api_requests_since(mark) if r.startswith("POST")]


def test_resets_are_rate_limited_per_account(mail_wiki, make_app):
    client = make_app(mail_wiki, LOGIN_RATE_LIMIT_PER_USER="2 per minute").test_client()
    auth = AuthActions(client)
    statuses = []
    for _ in range(3):
        token = auth.csrf(client.get("/password/reset").get_data(as_text=True))
        answer = client.post("/password/reset", data={"csrf_token": token, "username": "gus",
                                                      "wl_submit": "Reset password"})
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 429]
    text = answer.get_data(as_text=True)
    assert "too many password reset requests for this account" in text and answer.headers["Retry-After"]
    # An address alone counts for that address.
    client = make_app(mail_wiki, LOGIN_RATE_LIMIT_PER_USER="1 per minute").test_client()
    auth = AuthActions(client)
    statuses = []
    for address in (email_of("Gus"), email_of("Gus").upper()):
        token = auth.csrf(client.get("/password/reset").get_data(as_text=True))
        statuses.append(client.post("/password/reset", data={"csrf_token": token, "email": address,
                                                             "wl_submit": "Reset password"}).status_code)
    assert statuses == [200, 429]


def test_change_password_stays_logged_in_and_the_new_one_works(mail_wiki, live_app, new_page, all_logs):
    app = live_app(mail_wiki)
    page = new_page()
    assert logs_in(app.url, page, "Erin", CRED_USERS["Erin"])
    account = page.get_by_role("navigation", name="Your account")
    # The wiki's own pages for what has no API: this wiki has no two-factor page.
    for label, special in (("Change email address", "ChangeEmail"), ("Bot passwords", "BotPasswords"),
                           ("Preferences", "Preferences")):
        assert account.get_by_role("link", name=label).get_attribute("href") == \
            f"{mail_wiki.index_url}/Special:{special}"
    assert account.get_by_role("link", name="Two-factor authentication").count() == 0
    screenshot(page, "home-account-links")
    account.get_by_role("link", name="Change password").click()
    assert page.get_by_role("heading", name=re.compile("Change password")).is_visible()
    screenshot(page, "change-password-form")
    page.get_by_label("New password:", exact=True).fill("Erin-Changed-It-3141!")
    page.get_by_label("Retype new password:", exact=True).fill("Erin-Mistyped-It-3141!")
    submit(page, "Save")
    assert "do not match" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("New password:", exact=True).input_value() == ""
    screenshot(page, "change-password-mismatch")
    page.get_by_label("New password:", exact=True).fill("Erin-Changed-It-3141!")
    page.get_by_label("Retype new password:", exact=True).fill("Erin-Changed-It-3141!")
    submit(page, "Save")
    assert page.get_by_role("heading", name="Your password was changed").is_visible()
    screenshot(page, "change-password-done")
    page.get_by_role("link", name="Home").first.click()
    assert "Logged in as Erin" in page.locator("main").inner_text()
    assert logs_in(app.url, new_page(), "Erin", "Erin-Changed-It-3141!")
    assert not logs_in(app.url, new_page(), "Erin", CRED_USERS["Erin"])
    mail_wiki.reset_login_throttles()
    assert not any("Erin-Changed-It-3141!" in line for line in all_logs)
    assert any("changeauthenticationdata status=success user=Erin" in line for line in all_logs)


def test_change_after_a_while_logs_in_again_and_comes_back(mail_wiki, live_app, new_page):
    app = live_app(mail_wiki)
    page = new_page()
    assert logs_in(app.url, page, "Finn", CRED_USERS["Finn"])
    time.sleep(REAUTH_SECONDS + 1)
    page.get_by_role("link", name="Change password").click()
    assert page.get_by_role("heading", name="Please log in again").is_visible()
    screenshot(page, "change-password-reauth")
    page.get_by_role("link", name="Log in again").click()
    assert page.get_by_role("heading", name=re.compile("Log in again")).is_visible()
    name_box = page.get_by_label("Username")
    assert name_box.input_value() == "Finn" and name_box.get_attribute("readonly") is not None
    screenshot(page, "change-password-reauth-login")
    page.get_by_label("Password", exact=True).fill(CRED_USERS["Finn"])
    submit(page)
    assert page.url.startswith(app.url + "/account/credentials")
    page.get_by_label("New password:", exact=True).fill("Finn-Fresh-Login-2718!")
    page.get_by_label("Retype new password:", exact=True).fill("Finn-Fresh-Login-2718!")
    submit(page, "Save")
    assert page.get_by_role("heading", name="Your password was changed").is_visible()
    assert logs_in(app.url, new_page(), "Finn", "Finn-Fresh-Login-2718!")


def test_logging_in_again_is_always_as_the_same_user(wiki, make_app):
    client = make_app(wiki).test_client()
    auth = AuthActions(client)
    auth.login("Bob")
    page = client.get("/account/reauth?returnto=/account/credentials").get_data(as_text=True)
    assert 'value="Bob"' in page and "readonly" in page
    # Another name typed in (the field is read-only, but a request can say anything): Bob's is sent.
    answer = client.post("/account/reauth?returnto=/account/credentials", data={
        "csrf_token": auth.csrf(page), "username": "Alice", "password": USERS["Alice"], "wl_submit": "Log in"})
    assert answer.status_code == 200 and "Incorrect username or password" in answer.get_data(as_text=True)
    assert 'class="wl-username">Bob<' in client.get("/").get_data(as_text=True)
    page = client.get("/account/reauth?returnto=/account/credentials").get_data(as_text=True)
    answer = client.post("/account/reauth?returnto=/account/credentials", data={
        "csrf_token": auth.csrf(page), "username": "Bob", "password": USERS["Bob"], "wl_submit": "Log in"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/account/credentials"
    wiki.reset_login_throttles()


def test_change_page_asks_to_log_in_first_and_comes_back(wiki, make_app):
    client = make_app(wiki).test_client()
    first = client.get("/account/credentials")
    assert first.status_code == 303 and "returnto=/account/credentials" in first.headers["Location"]
    done = AuthActions(client).login("Bob")
    page = client.get("/account/credentials").get_data(as_text=True)
    assert done.status_code == 303 and "Retype new password" in page
    # The wiki's field names, sent to changeauthenticationdata; no token, no change.
    refused = client.post("/account/credentials", data={"password": "x", "retype": "x"})
    assert refused.status_code == 400


def test_two_factor_link_where_the_wiki_has_it(oath_wiki, live_app, new_page):
    app = live_app(oath_wiki)
    page = new_page()
    assert logs_in(app.url, page, "Alice", USERS["Alice"])
    link = page.get_by_role("navigation", name="Your account").get_by_role("link", name="Two-factor authentication")
    assert link.get_attribute("href") == f"{oath_wiki.index_url}/Special:OATHManage"
    screenshot(page, "home-account-links-oath")


def test_no_reset_link_where_the_wiki_has_no_routes(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.get(API, json={"paraminfo": {"modules": [{"name": "resetpassword", "parameters": []}]}},
                 match=[responses.matchers.query_param_matcher({"action": "paraminfo"}, strict_match=False)])
        client = make_app(type("W", (), {"api_url": API})()).test_client()
        assert "Forgot your password?" not in client.get("/login").get_data(as_text=True)
        assert "Forgot your password?" not in client.get("/").get_data(as_text=True)
        assert client.get("/password/reset").status_code == 404


def test_a_bot_password_session_is_not_offered_a_credential_change(mail_wiki, make_app):
    # MediaWiki 1.39 lets a bot password's session (grants basic, editpage, highvolume)
    # change the account's own password through changeauthenticationdata; 1.43 refuses it.
    password = mail_wiki.create_bot_password("Gus", "gusbot")
    client = make_app(mail_wiki).test_client()
    auth = AuthActions(client)
    token = auth.csrf(client.get("/bot-login").get_data(as_text=True))
    assert client.post("/bot-login", data={"csrf_token": token, "username": "Gus@gusbot",
                                           "password": password}).status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert 'class="wl-username">Gus<' in home and "Change password" not in home
    mark = mail_wiki.log_mark()
    page = client.get("/account/credentials")
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and "logged in with a bot password" in html and 'type="password"' not in html
    refused = client.post("/account/credentials", data={"csrf_token": auth.csrf(home), "password": "Gus-Bot-9911!",
                                                        "retype": "Gus-Bot-9911!", "wl_submit": "Save"})
    assert refused.status_code == 403
    assert not [r for r in mail_wiki.api_requests_since(mark) if r.startswith("POST")]
