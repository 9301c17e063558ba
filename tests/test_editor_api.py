"""The same-origin /api, logout and the home page: against the real wiki, and a recording fake.

The fake (``FakeWiki``) is a tiny HTTP server standing in for api.php: it
records exactly what reaches it over the wire and answers what it is told, so
the tests can assert on the headers that cross each way.
"""
from __future__ import annotations

import io
import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from tests.conftest import AuthActions
from devwiki.wikiserver import USERS

COOKIE = "wikilogin_session"


# --- helpers shared with test_editor_browser and test_bot_login -----------------------------

def wiki_api_session(wiki, user: str) -> requests.Session:
    """A requests session logged in to the wiki directly (not through the app) as ``user``."""
    s = requests.Session()
    token = s.get(wiki.api_url, params={"action": "query", "meta": "tokens", "type": "login",
                                        "format": "json"}).json()["query"]["tokens"]["logintoken"]
    answer = s.post(wiki.api_url, data={
        "action": "clientlogin", "username": user, "password": USERS[user], "logintoken": token,
        "loginreturnurl": "http://127.0.0.1/", "format": "json",
    }).json()
    assert answer["clientlogin"]["status"] == "PASS", answer
    return s


def wiki_edit(s: requests.Session, wiki, title: str, text: str, summary: str = "") -> dict:
    """Edit ``title`` directly on the wiki with session ``s``."""
    token = s.get(wiki.api_url, params={"action": "query", "meta": "tokens",
                                        "format": "json"}).json()["query"]["tokens"]["csrftoken"]
    answer = s.post(wiki.api_url, data={"action": "edit", "title": title, "text": text, "summary": summary,
                                        "token": token, "format": "json", "formatversion": "2"}).json()
    assert answer.get("edit", {}).get("result") == "Success", answer
    return answer["edit"]


def history(wiki, title: str) -> list[tuple[str, str]]:
    """(user, summary) of each revision of ``title``, newest first, read directly from the wiki."""
    data = requests.get(wiki.api_url, params={
        "action": "query", "prop": "revisions", "titles": title, "rvprop": "user|comment",
        "rvlimit": 50, "format": "json", "formatversion": "2",
    }).json()
    return [(r["user"], r["comment"]) for r in data["query"]["pages"][0].get("revisions", [])]


def userinfo_with_cookies(wiki, cookies: list) -> dict:
    """meta=userinfo sent straight to the wiki with these stored cookies."""
    jar = requests.Session()
    for name, value, domain, path, expires, secure in cookies:
        jar.cookies.set(name, value, domain=domain, path=path)
    return jar.get(wiki.api_url, params={"action": "query", "meta": "userinfo", "format": "json",
                                         "formatversion": "2"}).json()["query"]["userinfo"]


def unique_title(prefix: str = "Sandbox") -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def stored_session(app, sid: str | None):
    iface = app.session_interface
    return iface._retrieve_session_data(iface._get_store_id(sid)) if sid else None


def sid_of(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def csrf_from(client) -> str:
    """The page CSRF token the editor would send, from the home page's logout form."""
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# --- a recording stand-in for the wiki --------------------------------------------------------

@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def params(self) -> list[tuple[str, str]]:
        query = parse_qsl(urlsplit(self.path).query, keep_blank_values=True)
        return query + parse_qsl(self.body.decode(), keep_blank_values=True)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"batchcomplete":true}'
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json; charset=utf-8"),)


class FakeWiki:
    """api.php on 127.0.0.1: records each request; answers the queued answers, then the last one again."""

    def __init__(self):
        self.requests: list[Recorded] = []
        self.answers: deque[Answer] = deque([Answer()])
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                fake.requests.append(Recorded(self.command, self.path, dict(self.headers), self.rfile.read(length)))
                answer = fake.answers.popleft() if len(fake.answers) > 1 else fake.answers[0]
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self._server.server_port}/api.php"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, *answers: Answer) -> None:
        self.answers = deque(answers)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake_wiki() -> Iterator[FakeWiki]:
    fake = FakeWiki()
    yield fake
    fake.close()


WIKI_COOKIE = ["testwiki_session", "s3cr3t-wiki-session", "127.0.0.1", "/", None, False]


@pytest.fixture
def fake_logged_in(make_app, fake_wiki):
    """An app for the fake wiki, and a test client whose session says Alice with one wiki cookie."""
    app = make_app(fake_wiki)
    client = app.test_client()
    with client.session_transaction() as s:
        s["user"] = "Alice"
        s["wiki_cookies"] = [WIKI_COOKIE]
    client.set_cookie("some_other_cookie", "browser-only")
    return app, client


@pytest.fixture
def alice(make_app, wiki):
    """An app for the real wiki and a test client logged in as Alice through the app's login page."""
    app = make_app(wiki)
    client = app.test_client()
    response = AuthActions(client).login("Alice")
    assert response.status_code == 303, response.get_data(as_text=True)
    return app, client


# --- what crosses the proxy, on the wire -------------------------------------------------------

def test_get_reaches_the_wiki_with_only_the_users_wiki_cookie_and_assert_user(fake_logged_in, fake_wiki):
    app, client = fake_logged_in
    client.get("/api?action=query&meta=userinfo&titles=A&titles=B&format=json&assert=anon",
               headers={"Cookie": f"{COOKIE}={sid_of(client)}; some_other_cookie=browser-only",
                        "Referer": "http://localhost/edit/X", "Origin": "http://localhost",
                        "Accept-Language": "de"})
    [seen] = fake_wiki.requests
    assert seen.method == "GET" and seen.path.startswith("/api.php?")
    assert seen.headers["Cookie"] == "testwiki_session=s3cr3t-wiki-session"
    assert seen.params == [("action", "query"), ("meta", "userinfo"), ("titles", "A"), ("titles", "B"),
                           ("format", "json"), ("assert", "user")]
    for header in ("Referer", "Origin", "X-CSRFToken", "Accept-Language"):
        assert header not in seen.headers
    assert seen.headers["User-Agent"].startswith("wiki-login/")


def test_post_body_is_forwarded_but_not_the_csrf_header_or_browser_cookies(fake_logged_in, fake_wiki):
    app, client = fake_logged_in
    token = csrf_from(client)
    fake_wiki.requests.clear()
    response = client.post("/api", data={"action": "edit", "title": "Sandbox", "text": "Grüße\n&=%", "token": "+\\"},
                           headers={"X-CSRFToken": token, "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200
    [seen] = fake_wiki.requests
    assert seen.method == "POST" and seen.path == "/api.php"
    assert seen.headers["Cookie"] == "testwiki_session=s3cr3t-wiki-session"
    assert "X-CSRFToken" not in seen.headers and token not in seen.body.decode()
    assert dict(seen.params) == {"action": "edit", "title": "Sandbox", "text": "Grüße\n&=%", "token": "+\\",
                                 "format": "json", "assert": "user"}


def test_answer_is_the_wikis_bytes_and_status_and_its_cookies_stay_server_side(fake_logged_in, fake_wiki):
    app, client = fake_logged_in
    body = b'{"error":{"code":"badtoken","info":"Invalid CSRF token."} ,  "x":"\\u00e9"}'
    fake_wiki.answer(Answer(status=200, body=body, headers=(
        ("Content-Type", "application/json; charset=utf-8"),
        ("MediaWiki-API-Error", "badtoken"),
        ("Set-Cookie", "testwiki_session=renewed-by-wiki; path=/; HttpOnly"),
        ("X-Wiki-Internal", "nope"),
    )))
    response = client.get("/api?action=query")
    assert response.status_code == 200
    assert response.data == body
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "X-Wiki-Internal" not in response.headers
    set_cookies = response.headers.getlist("Set-Cookie")
    assert not any("testwiki_session" in c or "renewed-by-wiki" in c for c in set_cookies)
    assert response.headers["Cache-Control"] == "no-store"
    # The wiki's new cookie is kept for the user's next call, on our side only.
    stored = stored_session(app, sid_of(client))
    assert [c[1] for c in stored["wiki_cookies"] if c[0] == "testwiki_session"] == ["renewed-by-wiki"]


def test_wiki_http_errors_pass_through_but_never_its_html(fake_logged_in, fake_wiki):
    app, client = fake_logged_in
    fake_wiki.answer(Answer(status=429, body=b'{"error":{"code":"ratelimited"}}', headers=(
        ("Content-Type", "application/json"), ("Retry-After", "7"))))
    response = client.get("/api?action=query")
    assert response.status_code == 429 and response.get_json()["error"]["code"] == "ratelimited"
    assert response.headers["Retry-After"] == "7"
    fake_wiki.answer(Answer(status=500, body=b"<html><script>alert(1)</script></html>",
                            headers=(("Content-Type", "text/html"),)))
    response = client.get("/api?action=query")
    assert response.status_code == 502 and response.is_json
    assert response.get_json()["error"]["code"] == "badwikiresponse"
    assert b"<script>" not in response.data


def test_unreachable_wiki_is_a_502_json(fake_logged_in, fake_wiki):
    app, client = fake_logged_in
    fake_wiki.close()
    response = client.get("/api?action=query")
    assert response.status_code == 502 and response.is_json
    assert response.get_json()["error"] == {"code": "wikiunavailable",
                                            "info": "The wiki could not be reached. Please try again in a moment."}


def test_assertuserfailed_ends_our_session_and_points_to_login_with_returnto(fake_logged_in, fake_wiki):
    app, client = fake_logged_in
    sid = sid_of(client)
    fake_wiki.answer(Answer(body=b'{"error":{"code":"assertuserfailed","info":"You are no longer logged in."}}',
                            headers=(("Content-Type", "application/json"), ("MediaWiki-API-Error", "assertuserfailed"))))
    response = client.get("/api?action=query", headers={"X-Return-To": "/edit/Sandbox_1?x=1"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "sessionexpired"
    assert response.get_json()["error"]["login_url"] == "/login?returnto=/edit/Sandbox_1?x%3D1"
    assert stored_session(app, sid) is None
    assert client.get_cookie(COOKIE) is None


@pytest.mark.parametrize("returnto,expected", [
    ("//evil.example/x", "/login"),
    ("https://evil.example/", "/login"),
    ("/edit/Page", "/login?returnto=/edit/Page"),
])
def test_login_url_returns_only_to_our_own_pages(make_app, fake_wiki, returnto, expected):
    client = make_app(fake_wiki).test_client()
    response = client.get("/api?action=query", headers={"X-Return-To": returnto})
    assert response.status_code == 401 and response.get_json()["error"]["login_url"] == expected
    assert fake_wiki.requests == []


def test_login_url_falls_back_to_a_same_origin_referrer(make_app, fake_wiki):
    client = make_app(fake_wiki).test_client()
    ours = client.get("/api", headers={"Referer": "http://localhost/edit/From_referrer"})
    theirs = client.get("/api", headers={"Referer": "http://evil.example/edit/X"})
    assert ours.get_json()["error"]["login_url"] == "/login?returnto=/edit/From_referrer"
    assert theirs.get_json()["error"]["login_url"] == "/login"


# --- the guards, against the real wiki: a refusal never reaches it -----------------------------

def test_logged_in_call_is_answered_by_the_wiki_as_the_user(alice, wiki):
    app, client = alice
    response = client.get("/api?action=query&meta=userinfo&format=json&formatversion=2")
    assert response.status_code == 200
    assert response.get_json()["query"]["userinfo"]["name"] == "Alice"


def test_not_logged_in_is_401_json_with_the_login_url(make_app, wiki):
    client = make_app(wiki).test_client()
    mark = wiki.log_mark()
    for response in (client.get("/api?action=query&meta=userinfo"),
                     client.post("/api", data={"action": "query"}, headers={"X-Return-To": "/edit/A"})):
        assert response.status_code == 401 and response.is_json
        assert response.get_json()["error"]["code"] == "notloggedin"
        assert response.get_json()["error"]["login_url"].startswith("/login")
    assert wiki.api_requests_since(mark) == []


@pytest.mark.parametrize("module", [
    "login", "clientlogin", "logout", "createaccount", "linkaccount", "unlinkaccount",
    "changeauthenticationdata", "removeauthenticationdata", "resetpassword", "validatepassword",
    "ClientLogin", " logout",
])
def test_authentication_modules_are_refused(alice, wiki, module):
    app, client = alice
    token = csrf_from(client)
    mark = wiki.log_mark()
    for response in (client.get(f"/api?action={module}"),
                     client.post("/api", data={"action": module, "lgname": "Bob", "lgpassword": "x"},
                                 headers={"X-CSRFToken": token})):
        assert response.status_code == 403 and response.is_json
        assert response.get_json()["error"]["code"] == "authmodule"
    assert wiki.api_requests_since(mark) == []


def test_post_without_or_with_a_wrong_csrf_token_is_400_json(alice, wiki):
    app, client = alice
    mark = wiki.log_mark()
    for headers in ({}, {"X-CSRFToken": "forged"}):
        response = client.post("/api", data={"action": "query", "meta": "userinfo"}, headers=headers)
        assert response.status_code == 400 and response.is_json
        assert response.get_json()["error"]["code"] == "badcsrf"
    assert wiki.api_requests_since(mark) == []
    response = client.post("/api", data={"action": "query", "meta": "userinfo", "formatversion": "2"},
                           headers={"X-CSRFToken": csrf_from(client)})
    assert response.status_code == 200 and response.get_json()["query"]["userinfo"]["name"] == "Alice"


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost.evil.example"},
])
def test_cross_site_calls_are_refused_even_with_a_valid_token(alice, wiki, headers):
    app, client = alice
    token = csrf_from(client)
    mark = wiki.log_mark()
    post = client.post("/api", data={"action": "query"}, headers={"X-CSRFToken": token, **headers})
    get = client.get("/api?action=query", headers=headers)
    for response in (post, get):
        assert response.status_code == 403 and response.get_json()["error"]["code"] == "crosssite"
    assert wiki.api_requests_since(mark) == []


def test_same_origin_headers_are_accepted(alice):
    app, client = alice
    response = client.post("/api", data={"action": "query"}, headers={
        "X-CSRFToken": csrf_from(client), "Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"})
    assert response.status_code == 200


@pytest.mark.parametrize("query,code", [
    ("action=query&format=xml", "badformat"),
    ("action=query&format=jsonfm", "badformat"),
    ("action=query&callback=steal", "badparams"),
    ("action=query&origin=*", "badparams"),
    ("action=query&centralauthtoken=x", "badparams"),
])
def test_other_formats_jsonp_and_cors_are_refused(alice, wiki, query, code):
    app, client = alice
    mark = wiki.log_mark()
    response = client.get(f"/api?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code
    assert wiki.api_requests_since(mark) == []


def test_uploads_too_many_parameters_and_huge_bodies_are_refused_as_json(alice, wiki):
    app, client = alice
    token = csrf_from(client)
    mark = wiki.log_mark()
    upload = client.post("/api", headers={"X-CSRFToken": token}, content_type="multipart/form-data",
                         data={"action": "upload", "filename": "x.png", "file": (io.BytesIO(b"\x89PNG"), "x.png")})
    many = client.post("/api", headers={"X-CSRFToken": token}, data={f"p{i}": "x" for i in range(150)})
    huge = client.post("/api", headers={"X-CSRFToken": token},
                       data={"action": "parse", "text": "x" * (9 * 1024 * 1024)})
    long_get = client.get("/api?action=query&titles=" + "x" * 20000)
    assert (upload.status_code, upload.get_json()["error"]["code"]) == (400, "nouploads")
    for response in (many, huge, long_get):
        assert response.status_code == 413 and response.get_json()["error"]["code"] == "toolarge"
    assert wiki.api_requests_since(mark) == []


def test_a_whole_large_page_fits(alice):
    app, client = alice
    text = "Grüße aus der Wiki-Welt. " * 40000  # ~1 MB of text, ~3 MB form-encoded
    response = client.post("/api", headers={"X-CSRFToken": csrf_from(client)},
                           data={"action": "query", "meta": "userinfo", "formatversion": "2", "curtimestamp": "1",
                                 "text": text})
    assert response.status_code == 200 and response.get_json()["query"]["userinfo"]["name"] == "Alice"


def test_wiki_session_killed_behind_our_back_ends_ours(alice, wiki):
    app, client = alice
    sid = sid_of(client)
    wiki.clear_sessions()
    response = client.get("/api?action=query&meta=userinfo", headers={"X-Return-To": "/edit/Sandbox"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "sessionexpired"
    assert response.get_json()["error"]["login_url"] == "/login?returnto=/edit/Sandbox"
    assert stored_session(app, sid) is None
    again = client.get("/api?action=query&meta=userinfo")
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "notloggedin"


# --- logout -----------------------------------------------------------------------------------

def test_logout_ends_the_wiki_session_and_destroys_ours(alice, wiki):
    app, client = alice
    sid = sid_of(client)
    wiki_cookies = stored_session(app, sid)["wiki_cookies"]
    assert userinfo_with_cookies(wiki, wiki_cookies)["name"] == "Alice"
    response = client.post("/logout", data={"csrf_token": csrf_from(client)})
    assert response.status_code == 303 and response.headers["Location"].startswith("/?logged_out=")
    assert any(c.startswith(f"{COOKIE}=;") for c in response.headers.getlist("Set-Cookie"))
    assert stored_session(app, sid) is None
    # The wiki was told: its session for those cookies is anonymous now.
    assert userinfo_with_cookies(wiki, wiki_cookies).get("anon") is True
    # Replaying the old cookie gets nothing, and brings nothing back.
    replay = app.test_client()
    replay.set_cookie(COOKIE, sid)
    assert replay.get("/api?action=query&meta=userinfo").status_code == 401
    assert "You are not logged in" in replay.get("/").get_data(as_text=True)
    assert stored_session(app, sid) is None
    home = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are logged out, here and on the wiki." in home
    # Only a logout that happened says so: a made-up link does not.
    assert "You are logged out" not in client.get("/?logged_out=1").get_data(as_text=True)


def test_logout_that_the_wiki_cannot_hear_still_ends_our_session_and_says_so(fake_logged_in, fake_wiki):
    app, client = fake_logged_in
    sid = sid_of(client)
    token = csrf_from(client)
    fake_wiki.answer(Answer(status=503, body=b"<html>down</html>", headers=(("Content-Type", "text/html"),)))
    response = client.post("/logout", data={"csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You are logged out here" in page and "the wiki could not be told" in page
    assert stored_session(app, sid) is None
    assert client.get("/api?action=query").status_code == 401


def test_logout_when_the_wiki_already_forgot_the_session_is_quiet(fake_logged_in, fake_wiki):
    app, client = fake_logged_in
    token = csrf_from(client)
    fake_wiki.requests.clear()
    fake_wiki.answer(Answer(body=b'{"error":{"code":"assertuserfailed","info":"no"}}',
                            headers=(("Content-Type", "application/json"),)))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    # Only the token request: nothing was logged out on the wiki's side for an anonymous session.
    assert [r.method for r in fake_wiki.requests] == ["GET"]
    assert ("assert", "user") in fake_wiki.requests[0].params


def test_logout_needs_a_post_with_this_sessions_token(alice):
    app, client = alice
    confirm = client.get("/logout")
    assert confirm.status_code == 200 and "Log out?" in confirm.get_data(as_text=True)
    forged = client.post("/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert "nothing was done" in forged.get_data(as_text=True)
    assert "Logged in as" in client.get("/").get_data(as_text=True)


def test_logout_without_a_session_just_goes_home(make_app, wiki):
    client = make_app(wiki).test_client()
    response = client.post("/logout")
    # Nothing was ended, so nothing is claimed and no cookie is touched.
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Set-Cookie" not in response.headers


# --- home -------------------------------------------------------------------------------------

def test_home_shows_name_groups_and_rights(alice):
    app, client = alice
    page = client.get("/").get_data(as_text=True)
    assert "Logged in as <strong class=\"wl-username\">Alice</strong>" in page
    assert "autoconfirmed" in page and "edit pages" in page and "create pages" in page
    # A right of every user on both versions (1.43 no longer has writeapi or purge).
    assert "<code>editmyoptions</code>" in page
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_home_after_the_wiki_forgot_the_session_says_so_and_logs_out(alice, wiki):
    app, client = alice
    sid = sid_of(client)
    wiki.clear_sessions()
    page = client.get("/").get_data(as_text=True)
    assert "Your session on the wiki has ended" in page and "You are not logged in" in page
    assert stored_session(app, sid) is None


def test_editor_page_sends_strangers_to_login_and_rejects_bad_titles(make_app, wiki, alice):
    stranger = make_app(wiki).test_client()
    response = stranger.get("/edit/Some_page?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?returnto=/edit/Some_page?x%3D1"
    app, client = alice
    assert client.get("/edit/sandbox_lower").headers["Location"] == "/edit/Sandbox_lower"
    assert client.get("/edit?title=Two words").headers["Location"] == "/edit/Two_words"
    for title, words in (("Special:Version", "Special pages"), ("Bad[title]", "not a valid page title"),
                         ("MediaWiki:Common.css", "not wikitext")):
        response = client.get(f"/edit/{title}")
        assert response.status_code == 404 and words in response.get_data(as_text=True)


def test_editor_page_holds_the_current_text_and_base_revision(alice, wiki):
    app, client = alice
    title = unique_title()
    s = wiki_api_session(wiki, "Bob")
    edit = wiki_edit(s, wiki, title, "\nStarts with a newline & <b>markup</b>")
    page = client.get("/edit/" + title.replace(" ", "_")).get_data(as_text=True)
    assert f'data-revid="{edit["newrevid"]}"' in page and f'data-timestamp="{edit["newtimestamp"]}"' in page
    assert 'spellcheck="true">\n\nStarts with a newline &amp; &lt;b&gt;markup&lt;/b&gt;</textarea>' in page
    assert json.dumps(title)[1:-1] in page


# --- parameter names PHP would rename, and methods other than GET and POST ---------------------

# Names PHP (so the wiki) reads as ``action``: leading spaces (a "+" in a form body or query),
# anything after a NUL byte, and an array suffix. The app's own checks compare exact names.
PHP_ACTION_ALIASES = [" action", "   action", "action\x00x", "action[]", "action[0]"]


def test_php_reads_these_names_as_action(wiki):
    """Why the next test matters: straight to the wiki, a renamed name is the real parameter."""
    for name in PHP_ACTION_ALIASES[:3]:
        answer = requests.post(wiki.api_url, data={name: "query", "meta": "siteinfo", "format": "json"}).json()
        assert answer["query"]["general"]["generator"].startswith("MediaWiki"), (name, answer)


@pytest.mark.parametrize("name", [
    *PHP_ACTION_ALIASES,
    # PHP's other renamings ("." and " " and a lone "[" become "_"), and what it would cut or mangle.
    "action.", "action ", ".action", "act.ion", "act ion", "action[", "ac[tion", "action]", "",
    "\taction", "action\n", "açtion", "a:b", "a%20b",
])
def test_parameter_names_php_would_rename_are_refused(alice, wiki, name):
    app, client = alice
    token = csrf_from(client)
    mark = wiki.log_mark()
    refused = [
        client.get("/api?" + urlencode({"action": "query", name: "changeauthenticationdata"})),
        client.post("/api", data={"action": "query", name: "changeauthenticationdata"},
                    headers={"X-CSRFToken": token}),
    ]
    for response in refused:
        assert response.status_code == 400 and response.is_json, response.get_data(as_text=True)
        error = response.get_json()["error"]
        assert error["code"] == "badparams" and json.dumps(name) in error["info"]
    assert wiki.api_requests_since(mark) == []


@pytest.mark.parametrize("raw", [
    "action=query&+callback=steal",
    "action=query&%20origin=*",
    "action=query&+format=xml",
    "+action=changeauthenticationdata&changeauthrequest=x",
    "action=query&%20assert=anon",
])
def test_raw_bodies_and_queries_with_renamed_names_are_refused(fake_logged_in, fake_wiki, raw):
    app, client = fake_logged_in
    token = csrf_from(client)
    fake_wiki.requests.clear()
    post = client.post("/api", data=raw, content_type="application/x-www-form-urlencoded",
                       headers={"X-CSRFToken": token})
    get = client.get("/api?" + raw)
    for response in (post, get):
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "badparams"
    assert fake_wiki.requests == []


def test_real_parameter_names_still_pass(fake_logged_in, fake_wiki):
    """MediaWiki 1.39's names are [a-z0-9_-], templated ones like fromtext-{slot} included."""
    app, client = fake_logged_in
    names = ["action", "prop", "rvslots", "rvprop", "fromtext-main", "fromcontentmodel-main", "wpName", "x_Y-1"]
    response = client.get("/api?" + urlencode([(n, "v") for n in names]))
    assert response.status_code == 200
    [seen] = fake_wiki.requests
    assert [n for n, _ in seen.params] == names + ["format", "assert"]


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"])
def test_methods_other_than_get_and_post_are_refused_before_the_wiki(fake_logged_in, fake_wiki, method):
    app, client = fake_logged_in
    fake_wiki.requests.clear()
    response = client.open("/api?action=query&meta=userinfo", method=method,
                           data={"action": "edit", "title": "X", "text": "y"})
    assert response.status_code == 405
    assert response.headers["MediaWiki-API-Error"] == "badmethod"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    if method != "HEAD":
        assert response.get_json()["error"]["code"] == "badmethod"
    assert fake_wiki.requests == []


@pytest.mark.parametrize("method", ["HEAD", "PUT", "OPTIONS", "post", ""])
def test_forward_sends_only_get_and_post(fake_wiki, method):
    from wiki import Wiki
    from wiki.passthrough import forward
    client = Wiki(fake_wiki.api_url, user_agent="wiki-login-tests").client()
    with pytest.raises(ValueError, match=repr(method)):
        forward(client, method, [("action", "query")])
    assert fake_wiki.requests == []
    assert forward(client, "POST", [("action", "query")]).status == 200
    assert [r.method for r in fake_wiki.requests] == ["POST"]
