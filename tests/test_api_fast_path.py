"""``/api``'s fast path (auth/api_fast_path.py): the ordinary call below Flask, everything else through it.

The fast path may only ever answer what the Flask view would answer the same
way; whatever it cannot vouch for goes to the view, with the wiki asked once.
"""
from __future__ import annotations

import functools
import re
import time

import pytest

from auth import api_fast_path
from auth.session_store import WRITTEN_AT
from tests.servers import RedisServer
from tests.test_editor_api import (
    COOKIE, WIKI_COOKIE, Answer, FakeWiki, csrf_from, sid_of, stored_session,
)

GET = "/api?action=query&meta=userinfo&titles=A&titles=B&format=json"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


@pytest.fixture
def fake_wiki():
    fake = FakeWiki()
    yield fake
    fake.close()


def _logged_in(app, base_url: str = "http://localhost"):
    client = app.test_client()
    with client.session_transaction(base_url=base_url) as s:
        s["user"] = "Alice"
        s["wiki_cookies"] = [WIKI_COOKIE]
    return client


@pytest.fixture
def setup(make_app, fake_wiki):
    """(app, Alice's client, the number of calls the Flask view answered)."""
    app = make_app(fake_wiki)
    views = []
    view = app.view_functions["api.api"]

    @functools.wraps(view)  # the same name: still exempt from CSRFProtect, as the view checks itself
    def counted():
        views.append(1)
        return view()

    app.view_functions["api.api"] = counted
    client = _logged_in(app)
    csrf = csrf_from(client)
    fake_wiki.requests.clear()
    return app, client, views, csrf


def _flask_only(app):
    """The same app with its fast path taken out: every call through the Flask view."""
    app.wsgi_app = app.wsgi_app.flask_wsgi


def test_ordinary_gets_and_posts_never_reach_flask_and_reach_the_wiki_once_each(setup, fake_wiki):
    app, client, views, csrf = setup
    assert client.get(GET, headers=SAME_ORIGIN).status_code == 200
    assert client.post("/api", data={"action": "parse", "text": "Grüße &=%"},
                       headers={"X-CSRFToken": csrf, **SAME_ORIGIN, "Origin": "http://localhost"}).status_code == 200
    assert views == [] and [r.method for r in fake_wiki.requests] == ["GET", "POST"]
    get, post = fake_wiki.requests
    assert get.params == [("action", "query"), ("meta", "userinfo"), ("titles", "A"), ("titles", "B"),
                          ("format", "json"), ("assert", "user")]
    assert post.params == [("action", "parse"), ("text", "Grüße &=%"), ("format", "json"), ("assert", "user")]
    assert get.headers["Cookie"] == post.headers["Cookie"] == "testwiki_session=s3cr3t-wiki-session"


@pytest.mark.parametrize("public_url, base_url", [
    ("", "http://localhost"),
    ("http://wiki-login.example", "http://wiki-login.example"),
    ("", "https://localhost"),  # HTTPS: Strict-Transport-Security too
])
def test_the_fast_answer_is_the_answer_flask_gives(make_app, fake_wiki, public_url, base_url):
    """Status, body and every header the same, whichever way the call went."""
    def answer(fast: bool):
        app = make_app(fake_wiki, PUBLIC_URL=public_url)
        if not fast:
            _flask_only(app)
        client = _logged_in(app, base_url)
        html = client.get("/", base_url=base_url).get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        return [client.get(GET, headers=SAME_ORIGIN, base_url=base_url),
                client.post("/api", data={"action": "parse", "text": "x"}, base_url=base_url,
                            headers={"X-CSRFToken": csrf, **SAME_ORIGIN, "Origin": base_url})]

    fake_wiki.answer(Answer(status=200, body=b'{"batchcomplete":true,"x":"\\u00e9"}', headers=(
        ("Content-Type", "application/json; charset=utf-8"), ("Retry-After", "5"), ("X-Wiki-Internal", "no"))))
    for fast, slow in zip(answer(True), answer(False)):
        assert (fast.status, fast.data) == (slow.status, slow.data) == ("200 OK", b'{"batchcomplete":true,"x":"\\u00e9"}')
        assert sorted(fast.headers.items()) == sorted(slow.headers.items())
        assert ("Strict-Transport-Security" in fast.headers) == base_url.startswith("https:")


@pytest.mark.parametrize("answer, status", [
    (Answer(headers=(("Content-Type", "application/json"), ("Set-Cookie", "testwiki_session=new; path=/"))), 200),
    (Answer(body=b'{"error":{"code":"assertuserfailed","info":"no"}}',
            headers=(("Content-Type", "application/json"), ("MediaWiki-API-Error", "assertuserfailed"))), 401),
    (Answer(status=500, body=b"<html>Fatal</html>", headers=(("Content-Type", "text/html"),)), 502),
])
def test_answers_to_act_on_go_to_flask_without_asking_the_wiki_again(setup, fake_wiki, answer, status):
    app, client, views, csrf = setup
    fake_wiki.answer(answer)
    response = client.post("/api", data={"action": "edit", "text": "x"}, headers={"X-CSRFToken": csrf, **SAME_ORIGIN})
    assert response.status_code == status and views == [1]
    assert len(fake_wiki.requests) == 1  # a POST sent twice could save twice
    stored = stored_session(app, sid_of(client))
    if status == 200:
        assert [c[1] for c in stored["wiki_cookies"] if c[0] == "testwiki_session"] == ["new"]
    if status == 401:
        assert stored is None


def test_a_wiki_that_cannot_be_reached_is_flasks_502(make_app, fake_wiki):
    app = make_app(fake_wiki)
    client = _logged_in(app)
    fake_wiki.close()
    response = client.get(GET)
    assert response.status_code == 502 and response.get_json()["error"]["code"] == "wikiunavailable"


@pytest.mark.parametrize("call", [
    dict(path=GET, headers={"Sec-Fetch-Site": "cross-site"}),
    dict(path=GET, headers={"Origin": "https://evil.example"}),
    dict(path="/api?action=clientlogin"),
    dict(path="/api?action.x=query"),
    dict(path="/api?action=query&format=xml"),
    dict(path="/api?action=query", method="HEAD"),
    dict(path="/api", method="POST", data={"action": "edit"}),  # no CSRF token
    dict(path="/api", method="POST", data={"action": "edit"}, headers={"X-CSRFToken": "forged"}),
])
def test_calls_to_refuse_are_left_to_flask(setup, fake_wiki, call):
    app, client, views, csrf = setup
    response = client.open(call["path"], method=call.get("method", "GET"), data=call.get("data"),
                           headers=call.get("headers", {}))
    assert response.status_code >= 400 and views == [1]
    assert fake_wiki.requests == []


def test_another_sessions_csrf_token_is_left_to_flask_and_refused(setup, make_app, fake_wiki):
    app, client, views, csrf = setup
    other = _logged_in(app)
    theirs = csrf_from(other)
    fake_wiki.requests.clear()
    response = client.post("/api", data={"action": "edit"}, headers={"X-CSRFToken": theirs})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "badcsrf"
    assert views == [1] and fake_wiki.requests == []


def test_no_session_and_an_unknown_host_are_left_to_flask(make_app, fake_wiki):
    app = make_app(fake_wiki, PUBLIC_URL="https://wiki-login.example")
    client = _logged_in(app)
    assert client.get(GET, headers={"Host": "evil.example"}).status_code == 400
    anonymous = app.test_client()
    assert anonymous.get(GET, headers={"Host": "wiki-login.example"}).status_code == 401
    assert not any("userinfo" in r.path for r in fake_wiki.requests)  # (the 400 page's siteinfo aside)


def test_a_session_whose_expiry_is_due_to_move_goes_through_flask_and_moves(setup, fake_wiki):
    app, client, views, csrf = setup
    iface, sid = app.session_interface, sid_of(client)
    data = stored_session(app, sid)
    data[WRITTEN_AT] = int(time.time()) - 86400 * 7  # written a week ago (Flask-Session would say now)
    iface.cache.set(iface._get_store_id(sid), data, 86400)
    fake_wiki.requests.clear()
    assert client.get(GET).status_code == 200 and views == [1]
    assert stored_session(app, sid_of(client))[WRITTEN_AT] >= time.time() - 60
    assert client.get(GET).status_code == 200 and views == [1]  # moved: the next call is ordinary again


def test_a_fault_in_the_fast_path_costs_nothing_but_its_speed(setup, fake_wiki, monkeypatch, caplog):
    app, client, views, csrf = setup

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_fast_path, "call_params", broken)
    assert client.get(GET).status_code == 200 and views == [1] and len(fake_wiki.requests) == 1
    assert "api fast path" in caplog.text


def test_the_cookie_header_follows_the_jars_rules_and_expiry(make_app, fake_wiki):
    """Stored cookies give the header a jar would: an expired one drops out, another path's never goes."""
    app = make_app(fake_wiki)
    client = app.test_client()
    soon = int(time.time()) + 2
    with client.session_transaction() as s:
        s["user"] = "Alice"
        s["wiki_cookies"] = [WIKI_COOKIE, ["short", "1", "127.0.0.1", "/", soon, False],
                             ["elsewhere", "2", "127.0.0.1", "/other/", None, False],
                             ["tls", "3", "127.0.0.1", "/", None, True]]
    client.get(GET)
    time.sleep(max(0.0, soon - time.time()) + 1.1)
    client.get(GET)
    first, second = (r.headers["Cookie"] for r in fake_wiki.requests)
    assert first == "short=1; testwiki_session=s3cr3t-wiki-session" or set(first.split("; ")) == {
        "short=1", "testwiki_session=s3cr3t-wiki-session"}
    assert second == "testwiki_session=s3cr3t-wiki-session"
    assert COOKIE not in first


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.mark.parametrize("store", ["files", "redis"])
def test_after_a_logout_the_old_session_id_is_never_answered_fast(make_app, fake_wiki, redis_server, store):
    config = {"REDIS_URL": redis_server.url} if store == "redis" else {}
    app = make_app(fake_wiki, **config)
    client = _logged_in(app)
    sid = sid_of(client)
    assert client.get(GET).status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client)})  # (this wiki cannot hear it: ours ends anyway)
    assert stored_session(app, sid) is None
    replay = app.test_client()
    replay.set_cookie(COOKIE, sid)
    fake_wiki.requests.clear()
    response = replay.get(GET)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "notloggedin"
    assert fake_wiki.requests == []
