"""Account creation through the same flow as login, in Chromium against the real wiki."""
from __future__ import annotations

import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import consent, screenshot, session_id, start_with_testidp
from devwiki.wikiserver import CAPTCHA_ANSWER

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Fresh-Account-Pass-8813!"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def wiki_has_user(wiki, name: str) -> bool:
    data = requests.get(wiki.api_url, params={"action": "query", "list": "users", "ususers": name,
                                              "format": "json", "formatversion": "2"}, timeout=10).json()
    return "missing" not in data["query"]["users"][0]


def fill_create(page, username: str, password: str, retype: str | None = None, email: str = "") -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Retype password:").fill(retype if retype is not None else password)
    if email:
        page.get_by_label("Email").fill(email)


def test_login_page_links_to_create_account(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/login")
    # The wiki's own words (userlogin-noaccount, userlogin-joinproject), as on Special:UserLogin.
    expect(page.locator(".wl-links")).to_contain_text("Don't have an account?")
    page.get_by_role("link", name="Join Test Wiki").click()
    assert page.get_by_role("heading", name="Create account").is_visible()
    screenshot(page, "create-form")


def test_new_user_creates_account_and_is_logged_in(wiki, live_app, new_page):
    app = live_app(wiki)
    name = unique("Newbie")
    page = new_page()
    page.goto(app.url + "/create")
    fill_create(page, name, NEW_PASSWORD, email="newbie@example.org")
    page.get_by_role("button", name="Create your account").click()
    page.wait_for_url(app.url + "/")
    assert f"Logged in as {name}" in page.locator("main").inner_text()
    assert wiki_has_user(wiki, name)
    assert app.wiki_client_for(session_id(page)).whoami().name == name


def test_create_with_captcha(captcha_wiki, live_app, new_page):
    app = live_app(captcha_wiki)
    name = unique("Captcha")
    page = new_page()
    page.goto(app.url + "/create")
    fill_create(page, name, NEW_PASSWORD)
    page.get_by_role("textbox", name="CAPTCHA").fill(CAPTCHA_ANSWER)
    screenshot(page, "create-captcha")
    page.get_by_role("button", name="Create your account").click()
    # This wiki wants a captcha on every login too: the login form says the
    # account exists and has the name filled in.
    assert f"Your account {name} was created" in page.locator("main").inner_text()
    assert wiki_has_user(captcha_wiki, name)
    assert page.get_by_label("Username").input_value() == name
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="CAPTCHA").fill(CAPTCHA_ANSWER)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(app.url + "/")
    assert f"Logged in as {name}" in page.locator("main").inner_text()
    captcha_wiki.reset_login_throttles()


def test_taken_username_shows_wiki_message_and_keeps_other_inputs(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/create")
    fill_create(page, "Alice", NEW_PASSWORD, email="someone@example.org")
    page.get_by_role("button", name="Create your account").click()
    assert "already in use" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Username").input_value() == "Alice"
    assert page.get_by_label("Email").input_value() == "someone@example.org"
    assert page.get_by_label("Password", exact=True).input_value() == ""
    assert NEW_PASSWORD not in page.content()
    screenshot(page, "create-taken")


def test_weak_password_shows_wiki_message(wiki, live_app, new_page):
    app = live_app(wiki)
    name = unique("Weakling")
    page = new_page()
    page.goto(app.url + "/create")
    fill_create(page, name, name, email="weak@example.org")  # the password is the user name
    page.get_by_role("button", name="Create your account").click()
    alert = page.get_by_role("alert").inner_text()
    assert "password" in alert.lower()
    assert page.get_by_label("Username").input_value() == name
    assert page.get_by_label("Email").input_value() == "weak@example.org"
    assert not wiki_has_user(wiki, name)
    screenshot(page, "create-weak-password")


def test_mismatched_retype_is_the_wikis_message(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/create")
    fill_create(page, unique("Typo"), NEW_PASSWORD, retype=NEW_PASSWORD + "x")
    page.get_by_role("button", name="Create your account").click()
    assert "passwords" in page.get_by_role("alert").inner_text().lower()


def test_restart_then_create_linked_account_then_identity_logs_straight_in(idp_wiki, live_app, new_page):
    idp_wiki.reset_login_throttles()
    app = live_app(idp_wiki)
    identity, name = unique("fresh-id-"), unique("Linked")
    page = new_page()
    start_with_testidp(page, app.url)
    consent(page, identity)
    page.get_by_role("button", name="Create a new wiki account linked to it").click()
    screenshot(page, "create-linked")
    # No password: the provider's identity is the credential.
    assert page.locator("input[type=password]").count() == 0
    page.get_by_label("Username").fill(name)
    page.get_by_role("button", name="Create your account").click()
    # Logged in to the new account through the provider (which asks again).
    page.wait_for_selector("#testidp-identity")
    consent(page, identity)
    page.wait_for_url(app.url + "/")
    assert f"Logged in as {name}" in page.locator("main").inner_text()
    assert wiki_has_user(idp_wiki, name)
    # Next time, straight in.
    idp_wiki.reset_login_throttles()
    again = new_page()
    start_with_testidp(again, app.url)
    consent(again, identity)
    again.wait_for_url(app.url + "/")
    assert f"Logged in as {name}" in again.locator("main").inner_text()


def test_a_wiki_without_account_creation_says_so_instead_of_a_form(login_only_wiki, live_app, new_page):
    app = live_app(login_only_wiki)
    page = new_page()
    page.goto(app.url + "/create")
    assert page.get_by_role("heading", name="Accounts cannot be created here").is_visible()
    assert page.get_by_label("Password", exact=True).count() == 0
    screenshot(page, "create-not-possible")
    page.get_by_role("link", name="Log in").first.click()
    assert page.get_by_label("Password", exact=True).is_visible()
    assert page.locator("a[href='/create']").count() == 0
