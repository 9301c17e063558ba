"""Bot passwords (action=login): the Python function and the web page.

Success, Failed, Aborted, throttling and the refused main-account password
come from the real wiki; the token troubles and older wikis' answers, which a
real 1.39 wiki does not give on demand, from ``responses`` mocks.
"""
from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qs

import pytest
import requests
import responses
from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.test_editor_api import history, unique_title, wiki_api_session, wiki_edit
from tests.test_editor_browser import editor_path, open_editor, text_box
from devwiki.wikiserver import TOTP_USERS, USERS
from wiki import Wiki, WikiAPIError
from wiki.bot_login import BotLoginCode, bot_login

MOCK_API = "http://wiki.test/api.php"


@pytest.fixture(scope="module")
def alice_bot(wiki) -> tuple[str, str]:
    """(user name, password) of a bot password of Alice's, made on the wiki for this module."""
    appid = "mybot" + uuid.uuid4().hex[:6]
    return f"Alice@{appid}", wiki.create_bot_password("Alice", appid)


def client_for(server):
    return Wiki(server.api_url, user_agent="wiki-login-tests").client()


def whoami(client) -> dict:
    """The wiki's raw userinfo for this client (the app's own code reads it typed, as whoami())."""
    return client.get(action="query", meta="userinfo", uiprop="rights")["query"]["userinfo"]


# --- the Python function, against the real wiki -------------------------------------------------

def test_success_logs_the_client_in_and_its_edits_are_the_users(wiki, alice_bot):
    name, password = alice_bot
    client = client_for(wiki)
    result = bot_login(client, name, password)
    assert result.ok and result.code is BotLoginCode.SUCCESS
    assert result.username == "Alice" and result.user_id > 0
    me = whoami(client)
    assert me["name"] == "Alice" and "edit" in me["rights"] and "delete" not in me["rights"]
    title = unique_title()
    wiki_edit(wiki_api_session(wiki, "Bob"), wiki, title, "Made by Bob.")
    client.post(action="edit", title=title, appendtext="\nA bot was here.", summary="via bot password",
                token=client.token("csrf"))
    assert history(wiki, title)[0] == ("Alice", "via bot password")


def test_credentials_travel_only_in_post_bodies(wiki, alice_bot):
    name, password = alice_bot
    mark = wiki.log_mark()
    assert bot_login(client_for(wiki), name, password).ok
    calls = wiki.api_requests_since(mark)
    assert calls[0].startswith("GET /api.php?") and "lgpassword" not in calls[0]
    assert calls[1] == "POST /api.php"  # nothing in its query string: no mustpostparams


def test_wrong_bot_password_is_failed_with_the_wikis_reason(wiki, alice_bot):
    name, _ = alice_bot
    client = client_for(wiki)
    result = bot_login(client, name, "0" * 32)
    assert result.code is BotLoginCode.FAILED and not result.ok
    assert result.reason_code == "wrongpassword" and "Incorrect" in result.reason
    assert whoami(client).get("anon") is True


def test_main_account_password_is_refused_and_that_session_logged_out(wiki):
    client = client_for(wiki)
    result = bot_login(client, "Alice", USERS["Alice"])
    assert result.code is BotLoginCode.MAIN_ACCOUNT and result.username == "Alice"
    assert whoami(client).get("anon") is True
    allowed = client_for(wiki)
    assert bot_login(allowed, "Alice", USERS["Alice"], allow_main_account=True).ok
    assert whoami(allowed)["name"] == "Alice"


def test_main_account_that_needs_two_factor_is_aborted(oath_wiki):
    password, _ = TOTP_USERS["Carol"]
    result = bot_login(client_for(oath_wiki), "Carol", password)
    assert result.code is BotLoginCode.ABORTED
    assert result.reason_code.startswith("api-login-fail-aborted")


def test_too_many_failures_are_throttled_even_for_the_right_password(wiki):
    user = "Throttled" + uuid.uuid4().hex[:6]  # its own counters: no other test is slowed down
    wiki.create_user(user, "Throttled-User-Pass-1234!")
    password = wiki.create_bot_password(user, "tbot")
    client = client_for(wiki)
    codes = [bot_login(client, f"{user}@tbot", "0" * 32).code for _ in range(6)]
    assert codes[0] is BotLoginCode.FAILED and codes[-1] is BotLoginCode.THROTTLED
    result = bot_login(client, f"{user}@tbot", password)
    assert result.code is BotLoginCode.THROTTLED and result.reason_code == "login-throttled"


def test_empty_credentials_are_a_programming_error(wiki):
    with pytest.raises(ValueError, match="Alice@mybot"):
        bot_login(client_for(wiki), " ", "x")


# --- the Python function, what a real 1.39 wiki does not give on demand ------------------------

def _mock_wiki(login_answers: list[dict], tokens: list[str] | None = None):
    """Mock api.php: login tokens from ``tokens`` (then the last again), login answers in order."""
    tokens = list(tokens or ["token-1+\\", "token-2+\\"])

    def get(request):
        query = parse_qs(request.url.split("?", 1)[1])
        if query.get("meta") == ["tokens"]:
            token = tokens.pop(0) if len(tokens) > 1 else tokens[0]
            kind = query.get("type", ["csrf"])[0]
            return 200, {}, f'{{"query": {{"tokens": {{"{kind}token": "{token}"}}}}}}'.replace("\\", "\\\\")
        return 404, {}, "{}"

    def post(request):
        answer = login_answers.pop(0) if len(login_answers) > 1 else login_answers[0]
        return 200, {}, json.dumps(answer)

    responses.add_callback(responses.GET, MOCK_API, callback=get)
    responses.add_callback(responses.POST, MOCK_API, callback=post)


def _mock_client():
    return Wiki(MOCK_API, user_agent="wiki-login-tests", timeout=2).client()


def _login_posts() -> list[dict[str, list[str]]]:
    return [parse_qs(c.request.body) for c in responses.calls if c.request.method == "POST"]


@responses.activate
def test_wrong_token_is_retried_once_with_a_fresh_token():
    _mock_wiki([{"login": {"result": "WrongToken"}},
                {"login": {"result": "Success", "lgusername": "Alice", "lguserid": 3}}])
    result = bot_login(_mock_client(), "Alice@mybot", "p" * 32)
    assert result.ok and result.username == "Alice"
    posts = _login_posts()
    assert [p["lgtoken"] for p in posts] == [["token-1+\\"], ["token-2+\\"]]
    for call in responses.calls:
        assert "p" * 32 not in call.request.url and "lgtoken" not in call.request.url
    assert all(p["lgpassword"] == ["p" * 32] for p in posts)


@pytest.mark.parametrize("code", ["WrongToken", "NeedToken"])
@responses.activate
def test_token_trouble_twice_gives_up_with_its_own_code(code):
    _mock_wiki([{"login": {"result": code, "token": "x"}}])
    result = bot_login(_mock_client(), "Alice@mybot", "p" * 32)
    assert result.code is BotLoginCode(code) and not result.ok
    assert len(_login_posts()) == 2


@responses.activate
def test_older_wikis_throttled_result_carries_the_wait():
    _mock_wiki([{"login": {"result": "Throttled", "wait": 300}}])
    result = bot_login(_mock_client(), "Alice@mybot", "p" * 32)
    assert result.code is BotLoginCode.THROTTLED and result.wait_seconds == 300


@responses.activate
def test_api_errors_in_plaintext_errorformat_are_raised_typed():
    _mock_wiki([{"errors": [{"code": "readonly", "text": "The wiki is in read-only mode."}]}])
    with pytest.raises(WikiAPIError) as info:
        bot_login(_mock_client(), "Alice@mybot", "p" * 32)
    assert info.value.code == "readonly"


# --- the web page --------------------------------------------------------------------------------

def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def post_bot_login(client, username: str, password: str):
    token = _csrf(client.get("/bot-login").get_data(as_text=True))
    return client.post("/bot-login", data={"csrf_token": token, "username": username, "password": password})


def test_bot_login_in_chromium_then_edit_in_the_editor_as_the_user(wiki, live_app, new_page, alice_bot):
    name, password = alice_bot
    title = unique_title()
    wiki_edit(wiki_api_session(wiki, "Bob"), wiki, title, "A page to improve.")
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/")
    page.get_by_role("link", name="Log in with a bot password").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Log in with a bot password")
    screenshot(page, "bot-login")
    page.get_by_label("Bot user name", exact=True).fill(name)
    page.get_by_label("Bot password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(app.url + "/")
    main = page.locator("main")
    expect(main).to_contain_text("Logged in as Alice")
    expect(main).to_contain_text("You can edit pages")  # and no more than the bot was granted
    assert "create pages" not in main.inner_text()
    screenshot(page, "home-bot-password")

    open_editor(page, app, title)
    text_box(page).fill("A page to improve, improved by a bot.")
    page.get_by_label("Summary").fill("bot edit")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#wl-editor-status .cdx-message--success")).to_contain_text("Saved as Alice")
    assert history(wiki, title)[0] == ("Alice", "bot edit")


def test_wrong_bot_password_in_chromium_keeps_the_name_and_says_what_to_check(wiki, live_app, new_page, alice_bot):
    name, _ = alice_bot
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/bot-login?returnto=" + editor_path("Somewhere"))
    page.get_by_label("Bot user name", exact=True).fill(name)
    page.get_by_label("Bot password", exact=True).fill("0" * 32)
    page.get_by_role("button", name="Log in", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The wiki did not accept this bot user name and password.")
    expect(alert.get_by_role("link", name="Special:BotPasswords")).to_have_attribute(
        "href", re.compile(r"Special:BotPasswords$"))
    assert page.get_by_label("Bot user name", exact=True).input_value() == name
    assert page.get_by_label("Bot password", exact=True).input_value() == ""
    assert "returnto=" in page.locator("form.wl-form").get_attribute("action")
    screenshot(page, "bot-login-failed")


@pytest.mark.parametrize("who,words", [
    ("wrong", "did not accept this bot user name and password"),
    ("main", "That was your account's own password. This page logs in with bot passwords only"),
])
def test_real_wiki_failures_each_have_their_message_and_log_nobody_in(make_app, wiki, alice_bot, who, words):
    name, _ = alice_bot
    client = make_app(wiki).test_client()
    username, password = (name, "0" * 32) if who == "wrong" else ("Alice", USERS["Alice"])
    response = post_bot_login(client, username, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and words in page
    assert password not in page
    assert "Logged in as" not in client.get("/").get_data(as_text=True)


def test_aborted_on_the_real_wiki_explains_the_main_account_password(make_app, oath_wiki):
    password, _ = TOTP_USERS["Carol"]
    client = make_app(oath_wiki).test_client()
    page = post_bot_login(client, "Carol", password).get_data(as_text=True)
    assert "That looks like your account's own password, not a bot password." in page
    assert 'href="/login">normal login</a>' in page


def test_success_renews_the_session_id_and_follows_returnto(make_app, wiki, alice_bot):
    name, password = alice_bot
    client = make_app(wiki).test_client()
    page = client.get("/bot-login?returnto=/edit/Sandbox").get_data(as_text=True)
    before = client.get_cookie("wikilogin_session").value
    response = client.post("/bot-login?returnto=/edit/Sandbox",
                           data={"csrf_token": _csrf(page), "username": name, "password": password})
    assert response.status_code == 303 and response.headers["Location"] == "/edit/Sandbox"
    assert client.get_cookie("wikilogin_session").value != before


def test_form_needs_its_csrf_token_and_both_fields(make_app, wiki):
    client = make_app(wiki).test_client()
    mark = wiki.log_mark()
    forged = client.post("/bot-login", data={"username": "Alice@x", "password": "y"})
    assert forged.status_code == 400 and "This form has expired" in forged.get_data(as_text=True)
    token = _csrf(client.get("/bot-login").get_data(as_text=True))
    empty = client.post("/bot-login", data={"csrf_token": token, "username": "", "password": ""})
    page = empty.get_data(as_text=True)
    assert empty.status_code == 422
    assert "Please fill in the bot user name" in page and "Please fill in the bot password" in page
    assert not [c for c in wiki.api_requests_since(mark) if c.startswith("POST")]



@pytest.mark.parametrize("username", ["   ", " \t ", "\u3000"])
def test_a_blank_user_name_is_asked_for_again_not_a_server_error(make_app, wiki, username):
    client = make_app(wiki).test_client()
    mark = wiki.log_mark()
    response = post_bot_login(client, username, "p" * 32)
    assert response.status_code == 422
    assert "Please fill in the bot user name" in response.get_data(as_text=True)
    assert not [c for c in wiki.api_requests_since(mark) if c.startswith("POST")]


def test_the_page_answers_a_refused_name_as_a_form_error(make_app, wiki, monkeypatch):
    """Whatever the form lets through, bot_login's ValueError is a message, never a 500."""
    import blueprints.bot_login as page

    def refuse(*args, **kwargs):
        raise ValueError("bot_login needs a user name (like Alice@mybot) and a bot password")

    monkeypatch.setattr(page, "bot_login", refuse)
    response = post_bot_login(make_app(wiki).test_client(), "Alice@mybot", "p" * 32)
    assert response.status_code == 422
    assert "Please fill in the bot user name (like Alice@mybot) and the bot password." in \
        response.get_data(as_text=True)

MOCKED_MESSAGES = {
    # case: (outcome, the wiki's login answer, words only that outcome's message has)
    "throttled-1.39": ("throttled", {"login": {"result": "Failed", "reason": {
        "code": "login-throttled", "text": "You have made too many recent login attempts. Please wait 5 minutes."}}},
        "There were too many failed logins for this account"),
    "throttled-old": ("throttled", {"login": {"result": "Throttled", "wait": 120}}, "Please wait about 2 minutes"),
    "wrongtoken": ("token", {"login": {"result": "WrongToken"}}, "refused its own login token twice"),
    "needtoken": ("token", {"login": {"result": "NeedToken", "token": "t"}}, "refused its own login token twice"),
    "sessionlost": ("sessionlost", {"login": {"result": "Failed", "reason": {
        "code": "sessionlost", "text": "Unable to continue login."}}}, "lost track of this login attempt"),
    "aborted-other": ("aborted", {"login": {"result": "Aborted", "reason": {
        "code": "api-login-fail-sameorigin", "text": "Cannot log in when the same-origin policy is not applied."}}},
        "The wiki would not log in this way: “Cannot log in when the same-origin policy"),
    "locked": ("failed", {"login": {"result": "Failed", "reason": {
        "code": "botpasswords-locked", "text": "You cannot login with a bot password as your account is locked."}}},
        "The wiki said: “You cannot login with a bot password as your account is locked.”"),
}


@pytest.mark.parametrize("case", sorted(MOCKED_MESSAGES))
@responses.activate
def test_each_outcome_the_real_wiki_cannot_easily_give_has_its_own_message(make_app, case):
    outcome, answer, words = MOCKED_MESSAGES[case]
    _mock_wiki([answer])
    app = make_app(type("Mock", (), {"api_url": MOCK_API})())
    response = post_bot_login(app.test_client(), "Alice@mybot", "p" * 32)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and words in page
    assert "p" * 32 not in page
    others = [w for o, _, w in MOCKED_MESSAGES.values() if o != outcome]
    assert not any(w in page for w in others)


@responses.activate
def test_wiki_down_is_a_clear_page_not_a_traceback(make_app):
    responses.add(responses.GET, MOCK_API, body=requests.ConnectionError("refused"))
    app = make_app(type("Mock", (), {"api_url": MOCK_API})())
    response = post_bot_login(app.test_client(), "Alice@mybot", "p" * 32)
    assert response.status_code == 503
    assert "The wiki could not be reached." in response.get_data(as_text=True)
