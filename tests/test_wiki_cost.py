"""What a visit costs the wiki (issue #18): the login form's words are rendered once, not per visitor."""
from __future__ import annotations

import re
import time

import requests

from devwiki.wikiserver import ADMIN_PASSWORD, ADMIN_USER, CAPTCHA_ANSWER, USERS
from tests.conftest import AuthActions


def _form_asks(wiki, mark) -> list[str]:
    return [c for c in wiki.api_requests_since(mark) if "authmanagerinfo" in c]


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*? value="[^"]+"', "", html)


def _admin(wiki) -> requests.Session:
    s = requests.Session()
    token = s.get(wiki.api_url, params={"action": "query", "meta": "tokens", "type": "login",
                                        "format": "json"}).json()["query"]["tokens"]["logintoken"]
    answer = s.post(wiki.api_url, data={"action": "clientlogin", "username": ADMIN_USER, "password": ADMIN_PASSWORD,
                                        "logintoken": token, "loginreturnurl": "http://127.0.0.1/",
                                        "format": "json"}).json()
    assert answer["clientlogin"]["status"] == "PASS", answer
    return s


def _as_admin(s: requests.Session, wiki, **params) -> dict:
    token = s.get(wiki.api_url, params={"action": "query", "meta": "tokens", "format": "json"}).json()
    return s.post(wiki.api_url, data={**params, "token": token["query"]["tokens"]["csrftoken"],
                                      "format": "json"}).json()


def test_later_visitors_forms_make_the_wiki_render_no_messages(make_app, wiki):
    app = make_app(wiki)
    mark = wiki.log_mark()
    first = app.test_client().get("/login").get_data(as_text=True)
    second = app.test_client().get("/login").get_data(as_text=True)
    asks = _form_asks(wiki, mark)
    assert len(asks) == 2  # still one request per form page
    assert "amimessageformat=html" in asks[0] and "amimessageformat=none" in asks[1]
    assert "Username" in second and "Keep me logged in" in second
    assert _without_tokens(first) == _without_tokens(second)


def test_each_language_has_its_own_words(make_app, wiki):
    app = make_app(wiki)
    assert "Username" in app.test_client().get("/login").get_data(as_text=True)
    german = app.test_client().get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Benutzername" in german and "Username" not in german
    assert "Username" in app.test_client().get("/login").get_data(as_text=True)


def test_a_changed_wiki_message_shows_once_the_words_expire(make_app, wiki):
    app = make_app(wiki, WIKI_MESSAGES_TTL=1)
    assert "Username" in app.test_client().get("/login").get_data(as_text=True)
    admin = _admin(wiki)
    title = "MediaWiki:Userlogin-yourname"
    try:
        edited = _as_admin(admin, wiki, action="edit", title=title, text="Your wiki name", summary="test")
        assert edited.get("edit", {}).get("result") == "Success", edited
        time.sleep(1.2)
        assert "Your wiki name" in app.test_client().get("/login").get_data(as_text=True)
    finally:
        _as_admin(admin, wiki, action="delete", title=title, reason="test done")
    time.sleep(1.2)
    assert "Your wiki name" not in app.test_client().get("/login").get_data(as_text=True)


def test_two_visitors_never_share_a_captcha(make_app, captcha_wiki):
    captcha_wiki.reset_login_throttles()
    app = make_app(captcha_wiki)
    visitors = [app.test_client() for _ in range(2)]
    pages = [v.get("/login").get_data(as_text=True) for v in visitors]  # the second from the kept words
    ids = [re.search(r'name="captchaId"[^>]*value="([^"]+)"', p).group(1) for p in pages]
    assert ids[0] != ids[1]
    for visitor, page, name in zip(visitors, pages, ("Alice", "Bob")):
        done = visitor.post("/login", data={"csrf_token": AuthActions(visitor).csrf(page), "username": name,
                                            "password": USERS[name], "captchaWord": CAPTCHA_ANSWER,
                                            "wl_submit": "Log in"})
        assert done.status_code == 303, name
