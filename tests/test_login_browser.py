"""The core login, end to end: Chromium -> the app over HTTP -> a real MediaWiki."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from tests.conftest import screenshot, session_id
from devwiki.wikiserver import CAPTCHA_ANSWER, CAPTCHA_QUESTION, TOTP_USERS, USERS

pytestmark = pytest.mark.browser


def fill_login(page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)


def submit(page, label: str = "Log in") -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def test_password_login_shows_name_and_stored_session_is_alice(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/")
    assert page.get_by_role("heading", name="Test Wiki").is_visible()
    screenshot(page, "home-logged-out")
    page.get_by_role("link", name="Log in").first.click()
    screenshot(page, "login-form")
    fill_login(page, "Alice", USERS["Alice"])
    submit(page)
    assert page.url == app.url + "/"
    assert "Logged in as Alice" in page.locator("main").inner_text()
    screenshot(page, "home-logged-in")
    # The wiki session the app keeps for this browser is Alice's.
    info = app.wiki_client_for(session_id(page)).whoami()
    assert info.name == "Alice" and not info.anonymous


def test_wrong_password_shows_wiki_message_keeps_username_empties_password(wiki, live_app, new_page):
    wiki.reset_login_throttles()
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/login")
    fill_login(page, "Alice", "not-her-password")
    submit(page)
    alert = page.get_by_role("alert")
    assert "Incorrect username or password" in alert.inner_text()
    assert page.get_by_label("Username").input_value() == "Alice"
    assert page.get_by_label("Password", exact=True).input_value() == ""
    assert "not-her-password" not in page.content()
    screenshot(page, "login-wrong-password")
    wiki.reset_login_throttles()


def test_captcha_wrong_answer_new_captcha_then_right_answer(captcha_wiki, live_app, new_page):
    app = live_app(captcha_wiki)
    page = new_page()
    page.goto(app.url + "/login")
    assert CAPTCHA_QUESTION in page.locator("main").inner_text()
    first_id = page.locator("input[name=captchaId]").input_value()
    screenshot(page, "login-captcha")
    fill_login(page, "Alice", USERS["Alice"])
    page.get_by_role("textbox", name="CAPTCHA").fill("wrong answer")
    submit(page)
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Username").input_value() == "Alice"
    # A new captcha, and the wrong answer is not put back.
    assert page.locator("input[name=captchaId]").input_value() != first_id
    assert page.locator("input[name=captchaWord]").input_value() == ""
    screenshot(page, "login-captcha-wrong")
    page.get_by_label("Password", exact=True).fill(USERS["Alice"])
    page.locator("input[name=captchaWord]").fill(CAPTCHA_ANSWER)
    submit(page)
    assert "Logged in as Alice" in page.locator("main").inner_text()
    captcha_wiki.reset_login_throttles()


def test_two_factor_wrong_code_then_right_code(oath_wiki, live_app, new_page):
    app = live_app(oath_wiki)
    page = new_page()
    password, _secret = TOTP_USERS["Carol"]
    page.goto(app.url + "/login")
    fill_login(page, "Carol", password)
    submit(page)
    code_box = page.locator("input[name=OATHToken]")
    assert code_box.is_visible()
    # Recovery codes are 16 characters: nothing may limit the box to 6 digits.
    assert code_box.get_attribute("maxlength") is None
    assert code_box.get_attribute("pattern") is None
    assert code_box.get_attribute("autocomplete") == "one-time-code"
    screenshot(page, "login-2fa")
    code_box.fill("000000")
    submit(page, "Continue")
    assert page.get_by_role("alert").is_visible()
    assert page.locator("input[name=OATHToken]").input_value() == ""
    screenshot(page, "login-2fa-wrong")
    page.locator("input[name=OATHToken]").fill(oath_wiki.totp_code("Carol"))
    submit(page, "Continue")
    assert "Logged in as Carol" in page.locator("main").inner_text()


def test_alice_and_bob_at_the_same_time_each_see_themselves(wiki, live_app, new_page):
    app = live_app(wiki)
    pages = {name: new_page() for name in ("Alice", "Bob")}
    for name, page in pages.items():
        page.goto(app.url + "/login")
        fill_login(page, name, USERS[name])
    # Both forms are filled before either is sent; then both are sent together.
    for page in pages.values():
        page.get_by_role("button", name="Log in", exact=True).click(no_wait_after=True)
    for name, page in pages.items():
        page.wait_for_url(app.url + "/")
        assert f"Logged in as {name}" in page.locator("main").inner_text()
    results: dict[str, str] = {}
    sids = {name: session_id(page) for name, page in pages.items()}

    def who(name: str) -> None:
        results[name] = app.wiki_client_for(sids[name]).whoami().name

    threads = [threading.Thread(target=who, args=(n,)) for n in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"Alice": "Alice", "Bob": "Bob"}


def test_no_password_or_code_in_store_or_logs(oath_wiki, live_app, new_page, all_logs, tmp_path):
    app = live_app(oath_wiki)
    page = new_page()
    password, _ = TOTP_USERS["Carol"]
    page.goto(app.url + "/login")
    fill_login(page, "Carol", password)
    submit(page)
    code = oath_wiki.totp_code("Carol")
    page.locator("input[name=OATHToken]").fill(code)
    submit(page, "Continue")
    assert "Logged in as Carol" in page.locator("main").inner_text()
    store = Path(app.app.config["SESSION_DIR"])
    blobs = [p.read_bytes() for p in store.rglob("*") if p.is_file()]
    assert blobs, "the session store is empty"
    for secret in (password, code):
        assert not any(secret.encode() in b for b in blobs), "a secret is in the session store"
        assert not any(secret in line for line in all_logs), "a secret is in the log"
    assert any("status=PASS" in line and "Carol" in line for line in all_logs)


def test_plain_login_costs_two_wiki_requests(wiki, make_app):
    client = make_app(wiki).test_client()
    client.get("/")  # siteinfo is fetched once and cached
    mark = wiki.log_mark()
    html = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    done = client.post("/login", data={"csrf_token": csrf, "username": "Bob", "password": USERS["Bob"],
                                       "wl_submit": "Log in"})
    assert done.status_code == 303
    calls = wiki.api_requests_since(mark)
    assert len(calls) == 2, calls
    assert calls[0].startswith("GET /api.php?") and "authmanagerinfo" in calls[0]
    assert calls[1] == "POST /api.php"
    # The page it lands on (who am I, groups, rights) is one more read, not part of the login;
    # the first page with the app's own words (Flask-Babel) also fetches the reader's language's
    # fallbacks and the wiki's words, once for the whole app (WIKI_MESSAGES_TTL).
    assert "Logged in as" in client.get(done.headers["Location"]).get_data(as_text=True)
    later = wiki.api_requests_since(mark)[2:]
    assert len([c for c in later if "meta=allmessages" not in c]) <= 1 and len(later) <= 2, later
    mark = wiki.log_mark()
    client.get(done.headers["Location"])
    assert len(wiki.api_requests_since(mark)) == 1


def test_session_id_renewed_cookie_flags_and_csrf(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/login")
    before = session_id(page)
    assert before
    cookie = next(c for c in page.context.cookies() if c["name"] == "wikilogin_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # the public URL is http here; https is tested in test_app_config
    fill_login(page, "Alice", USERS["Alice"])
    submit(page)
    after = session_id(page)
    assert after and after != before
    assert app.stored_session(before) is None
    # A POST without the CSRF token: a clear 400 page and no call to the wiki.
    mark = wiki.log_mark()
    response = page.request.post(app.url + "/login", form={"username": "Alice", "password": "x"})
    assert response.status == 400
    assert "This form has expired" in response.text()
    assert wiki.api_requests_since(mark) == []


def test_login_page_works_without_javascript(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page(java_script_enabled=False)
    page.goto(app.url + "/login?returnto=/")
    fill_login(page, "Alice", USERS["Alice"])
    submit(page)
    assert "Logged in as Alice" in page.locator("main").inner_text()


def test_login_page_on_a_phone(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(app.url + "/login")
    box = page.get_by_label("Username").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375
    screenshot(page, "login-phone")


def test_returnto_is_followed_only_on_our_origin(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/login?returnto=//evil.example/x")
    fill_login(page, "Alice", USERS["Alice"])
    submit(page)
    assert page.url == app.url + "/"
    page2 = new_page()
    page2.goto(app.url + "/login?returnto=/static/app.css%3Fx%3D1")
    fill_login(page2, "Bob", USERS["Bob"])
    page2.get_by_role("button", name="Log in", exact=True).click()
    page2.wait_for_url(re.compile(r"/static/app\.css\?x=1$"))


def test_labels_come_in_the_browsers_language(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page(locale="de-DE", extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"})
    page.goto(app.url + "/login")
    assert page.get_by_label("Benutzername").is_visible()
