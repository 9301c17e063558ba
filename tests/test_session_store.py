"""The session store's own rules: a destroyed session stays destroyed; anonymous ones are short-lived."""
from __future__ import annotations

import pytest

from auth.session_store import MIN_ANONYMOUS_LIFETIME
from tests.servers import RedisServer
from devwiki.wikiserver import USERS


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(params=["files", "redis"])
def app_for(request, make_app, wiki, redis_server):
    def factory(**config):
        if request.param == "redis":
            redis_server.client.flushall()
            config["REDIS_URL"] = redis_server.url
        return make_app(wiki, **config)

    return factory


def stored(app, sid):
    iface = app.session_interface
    return iface._retrieve_session_data(iface._get_store_id(sid))


def test_a_request_in_flight_during_logout_does_not_bring_the_session_back(app_for, auth):
    app = app_for()
    auth.client = app.test_client()
    assert auth.login("Alice").status_code == 303
    sid = auth.client.get_cookie("wikilogin_session").value
    # A slow request of the same browser opened the session before the logout...
    with app.test_request_context("/", headers={"Cookie": f"wikilogin_session={sid}"}):
        iface = app.session_interface
        from flask import request

        slow = iface.open_session(app, request)
        assert slow.get("user") == "Alice"
        # ...the logout runs and ends...
        html = auth.client.get("/logout").get_data(as_text=True)
        assert auth.client.post("/logout", data={"csrf_token": auth.csrf(html)}).status_code in (200, 303)
        assert stored(app, sid) is None
        # ...then the slow one finishes, having changed the session.
        slow["wiki_cookies"] = []
        response = app.response_class("late")
        iface.save_session(app, slow, response)
    assert stored(app, sid) is None
    assert "Set-Cookie" not in response.headers


def test_anonymous_sessions_are_short_lived_logged_in_ones_last(app_for, auth, redis_server):
    app = app_for(SESSION_LIFETIME=7 * 24 * 3600)
    auth.client = app.test_client()
    auth.client.get("/login")
    anonymous = auth.client.get_cookie("wikilogin_session").value
    assert stored(app, anonymous) is not None
    if app.config["REDIS_URL"]:
        ttl = redis_server.client.ttl(app.session_interface._get_store_id(anonymous))
        assert 0 < ttl <= MIN_ANONYMOUS_LIFETIME
    assert auth.login("Bob").status_code == 303
    logged_in = auth.client.get_cookie("wikilogin_session").value
    if app.config["REDIS_URL"]:
        ttl = redis_server.client.ttl(app.session_interface._get_store_id(logged_in))
        assert ttl > 6 * 24 * 3600


def test_an_expiry_refresh_never_rides_on_a_cacheable_response(app_for, auth):
    app = app_for()
    auth.client = app.test_client()
    assert auth.login("Alice").status_code == 303
    sid = auth.client.get_cookie("wikilogin_session").value
    iface = app.session_interface
    data = stored(app, sid)
    data["written_at"] = 0  # written long ago: a refresh of its expiry is due
    if app.config["REDIS_URL"]:
        iface.client.set(iface._get_store_id(sid), iface.serializer.encode(data))
    else:
        iface.cache.set(iface._get_store_id(sid), data)
    static = auth.client.get("/static/app.css")
    assert "Set-Cookie" not in static.headers
    page = auth.client.get("/logout")  # a no-store page: the refresh happens here
    assert "wikilogin_session=" in page.headers.get("Set-Cookie", "")
    assert stored(app, sid)["written_at"] > 0


def test_a_login_makes_a_new_csrf_secret_and_the_page_it_lands_on_writes_nothing(app_for, auth):
    app = app_for()
    auth.client = app.test_client()
    auth.client.get("/login")
    before = stored(app, auth.client.get_cookie("wikilogin_session").value)["csrf_token"]
    page = auth.client.get("/login")
    assert auth.client.post("/login", data={
        "csrf_token": auth.csrf(page.get_data(as_text=True)), "username": "Alice",
        "password": USERS["Alice"], "wl_submit": "Log in"}).status_code == 303
    sid = auth.client.get_cookie("wikilogin_session").value
    after = stored(app, sid)
    assert after["csrf_token"] and after["csrf_token"] != before
    iface = app.session_interface
    writes = []
    upsert = iface._upsert_session
    iface._upsert_session = lambda *a: (writes.append(a), upsert(*a))
    home = auth.client.get("/")
    assert "Log out" in home.get_data(as_text=True) and writes == []
    # The logout form of that page carries a token of the new secret: it works.
    html = auth.client.get("/logout").get_data(as_text=True)
    assert auth.client.post("/logout", data={"csrf_token": auth.csrf(html)}).status_code in (200, 303)
    assert stored(app, sid) is None
