"""Integration tests of the real-MediaWiki harness (devwiki/wikiserver.py).

They also record real API responses into tests/data/ for the app's unit tests:
a file is written only when UPDATE_WIKI_FIXTURES=1, so normal
runs leave the repository unchanged.
"""

import json
import os
from pathlib import Path

import pytest
import requests

from devwiki.wikiserver import (
    CAPTCHA_ANSWER,
    CAPTCHA_QUESTION,
    TOTP_USERS,
    USERS,
    start_wiki,
)

# The project registers "slow" for tests that run real servers (see pytest.ini).
pytestmark = pytest.mark.slow

DATA_DIR = Path(__file__).parent / "data"
RETURN_URL = "http://127.0.0.1:5000/login/return"


def capture(name, data, wiki):
    """Save an API response as tests/data/mw139_<name>.json (mw143_ from 1.43; see module docstring)."""
    path = DATA_DIR / f"mw{wiki.mw_version.replace('.', '')}_{name}.json"
    if os.environ.get("UPDATE_WIKI_FIXTURES") == "1":
        DATA_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


class Api:
    """Minimal API client: one cookie session, format=json&formatversion=2."""

    def __init__(self, wiki):
        self.wiki = wiki
        self.http = requests.Session()

    def get(self, **params):
        params.update(format="json", formatversion=2)
        resp = self.http.get(self.wiki.api_url, params=params, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def post(self, **params):
        params.update(format="json", formatversion=2)
        resp = self.http.post(self.wiki.api_url, data=params, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def login_token(self):
        tokens = self.get(action="query", meta="tokens", type="login")["query"]["tokens"]
        return tokens["logintoken"]

    def authmanagerinfo(self, requests_for="login", **params):
        return self.get(action="query", meta="authmanagerinfo", amirequestsfor=requests_for,
                        amimergerequestfields=1, **params)

    def clientlogin(self, **params):
        return self.post(action="clientlogin", logintoken=self.login_token(), **params)

    def start_login(self, username, password, **params):
        return self.clientlogin(username=username, password=password, loginreturnurl=RETURN_URL,
                                **params)

    def userinfo(self):
        return self.get(action="query", meta="userinfo")["query"]["userinfo"]


# Own module-scoped wikis rather than conftest's shared ones: these tests
# restart them, make them read-only and delete their sessions.
@pytest.fixture(scope="module")
def plain_wiki(mw_version):
    with start_wiki("plain", mw_version=mw_version) as wiki:
        yield wiki


@pytest.fixture(scope="module")
def oath_captcha_wiki(mw_version):
    with start_wiki("oath", mw_version=mw_version, oath=True, captcha="always") as wiki:
        yield wiki


def captcha_fields(api):
    """Fetch a fresh captcha in api's session and return the answer fields."""
    fields = api.authmanagerinfo()["query"]["authmanagerinfo"]["fields"]
    return {"captchaId": fields["captchaId"]["value"], "captchaWord": CAPTCHA_ANSWER}


def test_siteinfo(plain_wiki, mw_version):
    general = Api(plain_wiki).get(action="query", meta="siteinfo")["query"]["general"]
    # The version the harness installed (the host's package, or the root's).
    assert general["generator"] == f"MediaWiki {plain_wiki.mw.version}"
    assert plain_wiki.mw.version.startswith(mw_version + ".")
    assert plain_wiki.mw_version == mw_version
    assert general["server"] == plain_wiki.base_url


def test_router_serves_mediawiki_and_test_pages(plain_wiki):
    base = plain_wiki.base_url
    assert requests.get(f"{base}/index.php/Main_Page", timeout=30).status_code == 200
    login_page = requests.get(plain_wiki.index_url, params={"title": "Special:UserLogin"},
                              timeout=30)
    assert login_page.status_code == 200 and 'name="wpName"' in login_page.text
    for path in ("/_test/missing.php", "/_test/a.b.php", "/_test/%2e%2e/router.php"):
        assert requests.get(base + path, timeout=30).status_code == 404, path


def test_password_login(plain_wiki):
    api = Api(plain_wiki)
    info = api.authmanagerinfo()
    capture("authmanagerinfo_login_plain", info, plain_wiki)
    assert "captchaId" not in info["query"]["authmanagerinfo"]["fields"]

    result = api.start_login("Alice", USERS["Alice"])
    capture("clientlogin_pass", result, plain_wiki)
    assert result["clientlogin"] == {"status": "PASS", "username": "Alice"}
    assert api.userinfo()["name"] == "Alice"


def test_wrong_password_fails(plain_wiki):
    api = Api(plain_wiki)
    result = api.start_login("Bob", "not-the-password", loginmessageformat="html")
    capture("clientlogin_fail_wrongpassword_html", result, plain_wiki)
    assert result["clientlogin"]["status"] == "FAIL"
    assert result["clientlogin"]["messagecode"] == "wrongpassword"
    plain_wiki.reset_login_throttles()


def test_missing_returnurl_is_an_api_error(plain_wiki):
    api = Api(plain_wiki)
    result = api.clientlogin(username="Alice", password=USERS["Alice"])
    capture("clientlogin_error_missingparam", result, plain_wiki)
    assert result["error"]["code"] == "missingparam"


def test_read_only(plain_wiki):
    api = Api(plain_wiki)
    plain_wiki.set_read_only("Database maintenance")
    try:
        general = api.get(action="query", meta="siteinfo")["query"]["general"]
        assert general["readonly"] is True
        assert general["readonlyreason"] == "Database maintenance"
        result = api.start_login("Alice", USERS["Alice"])
        capture("clientlogin_error_readonly", result, plain_wiki)
        assert result["error"]["code"] == "readonly"
    finally:
        plain_wiki.set_read_only(None)
    assert api.get(action="query", meta="siteinfo")["query"]["general"]["readonly"] is False
    assert api.start_login("Alice", USERS["Alice"])["clientlogin"]["status"] == "PASS"


def test_requests_since(plain_wiki):
    api = Api(plain_wiki)
    mark = plain_wiki.log_mark()
    api.get(action="query", meta="userinfo")
    api.post(action="query", meta="siteinfo")
    requests.get(plain_wiki.base_url + "/_test/missing.php", timeout=30)
    assert plain_wiki.requests_since(mark) == [
        "GET /api.php?action=query&meta=userinfo&format=json&formatversion=2",
        "POST /api.php",
        "GET /_test/missing.php",
    ]
    assert plain_wiki.api_requests_since(mark) == plain_wiki.requests_since(mark)[:2]
    assert plain_wiki.requests_since(plain_wiki.log_mark()) == []


def test_clear_sessions_logs_out(plain_wiki):
    api = Api(plain_wiki)
    assert api.start_login("Bob", USERS["Bob"])["clientlogin"]["status"] == "PASS"
    assert api.userinfo()["name"] == "Bob"
    assert plain_wiki.clear_sessions() >= 1
    assert api.userinfo().get("anon") is True


def test_bot_password(plain_wiki):
    password = plain_wiki.create_bot_password("Alice", "harness")
    api = Api(plain_wiki)
    result = api.post(action="login", lgname="Alice@harness", lgpassword=password,
                      lgtoken=api.login_token())
    assert result["login"]["result"] == "Success"
    assert api.userinfo()["name"] == "Alice"


def test_restart_keeps_data_and_sessions(plain_wiki):
    plain_wiki.create_user("Dave", "Dave-Restart-Pass-1357")
    api = Api(plain_wiki)
    assert api.start_login("Dave", "Dave-Restart-Pass-1357")["clientlogin"]["status"] == "PASS"
    port = plain_wiki.port
    plain_wiki.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(plain_wiki.api_url, timeout=5)
    plain_wiki.start()
    assert plain_wiki.port == port
    assert api.userinfo()["name"] == "Dave"


def test_captcha_always_shown(oath_captcha_wiki):
    api = Api(oath_captcha_wiki)
    info = api.authmanagerinfo()
    capture("authmanagerinfo_login_captcha", info, oath_captcha_wiki)
    fields = info["query"]["authmanagerinfo"]["fields"]
    assert {"captchaId", "captchaInfo", "captchaWord"} <= fields.keys()
    assert fields["captchaInfo"]["value"] == CAPTCHA_QUESTION
    # Labels are wikitext by default; the app wants HTML.
    html = Api(oath_captcha_wiki).authmanagerinfo(amimessageformat="html")
    capture("authmanagerinfo_login_captcha_html", html, oath_captcha_wiki)
    assert "<a " in html["query"]["authmanagerinfo"]["fields"]["captchaInfo"]["label"]


def test_wrong_captcha_fails(oath_captcha_wiki):
    api = Api(oath_captcha_wiki)
    fields = captcha_fields(api)
    fields["captchaWord"] = "41"
    result = api.start_login("Alice", USERS["Alice"], loginmessageformat="html", **fields)
    capture("clientlogin_fail_captcha_html", result, oath_captcha_wiki)
    assert result["clientlogin"]["status"] == "FAIL"
    # ConfirmEdit deliberately does not say whether password or captcha was wrong.
    assert result["clientlogin"]["messagecode"] == "wrongpassword"
    oath_captcha_wiki.reset_login_throttles()


def test_captcha_login(oath_captcha_wiki):
    api = Api(oath_captcha_wiki)
    result = api.start_login("Alice", USERS["Alice"], **captcha_fields(api))
    assert result["clientlogin"]["status"] == "PASS"


def test_totp_login(oath_captcha_wiki):
    password, _ = TOTP_USERS["Carol"]
    api = Api(oath_captcha_wiki)
    ui = api.start_login("Carol", password, **captcha_fields(api))
    capture("clientlogin_ui_oath", ui, oath_captcha_wiki)
    assert ui["clientlogin"]["status"] == "UI"
    assert ui["clientlogin"]["messagecode"] == "oathauth-auth-ui"
    (req,) = ui["clientlogin"]["requests"]
    assert "OATHToken" in req["fields"]
    capture("authmanagerinfo_login_continue_oath", api.authmanagerinfo("login-continue"),
            oath_captcha_wiki)

    wrong = api.clientlogin(OATHToken="000000", logincontinue=1, loginmessageformat="html")
    capture("clientlogin_ui_oath_wrong_code_html", wrong, oath_captcha_wiki)
    assert wrong["clientlogin"]["status"] == "UI"
    assert wrong["clientlogin"]["messagecode"] == "oathauth-login-failed"

    result = api.clientlogin(OATHToken=oath_captcha_wiki.totp_code("Carol"), logincontinue=1)
    assert result["clientlogin"] == {"status": "PASS", "username": "Carol"}
    assert api.userinfo()["name"] == "Carol"

    # A second login right away works because totp_code() moves to the next window.
    again = Api(oath_captcha_wiki)
    again.start_login("Carol", password, **captcha_fields(again))
    result = again.clientlogin(OATHToken=oath_captcha_wiki.totp_code("Carol"), logincontinue=1)
    assert result["clientlogin"]["status"] == "PASS"


def test_captcha_after_bad_logins(mw_version):
    with start_wiki("badlogin", mw_version=mw_version, captcha="badlogin") as wiki:
        api = Api(wiki)

        def captcha_shown():
            return "captchaId" in api.authmanagerinfo()["query"]["authmanagerinfo"]["fields"]

        for _ in range(3):
            assert not captcha_shown()
            assert api.start_login("Bob", "wrong")["clientlogin"]["status"] == "FAIL"
        assert captcha_shown()
        # Counted per IP, so a fresh session sees it too.
        assert "captchaId" in Api(wiki).authmanagerinfo()["query"]["authmanagerinfo"]["fields"]
        result = api.start_login("Alice", USERS["Alice"])
        assert result["clientlogin"]["messagecode"] == "wrongpassword"

        wiki.reset_login_throttles()
        assert not captcha_shown()
        assert api.start_login("Alice", USERS["Alice"])["clientlogin"]["status"] == "PASS"
