"""Faults from the wiki and restarts of the app: a clear page each time, nothing typed lost but secrets."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
import responses

from tests.conftest import AuthActions
from tests.mock_wiki import API, mock_read_side
from devwiki.wikiserver import TOTP_USERS, USERS, start_wiki


@pytest.fixture(scope="module")
def fault_wiki(mw_version):
    """A wiki of its own, to stop, slow down and make read-only without disturbing others."""
    server = start_wiki("faults", mw_version=mw_version)
    yield server
    server.close()


def login_form(client):
    html = client.get("/login").get_data(as_text=True)
    return AuthActions(client).csrf(html)


def post_login(client, csrf, password="typed-secret-Pa55"):
    return client.post("/login", data={"csrf_token": csrf, "username": "Alice", "password": password,
                                       "wl_submit": "Log in"})


def assert_clear_page(response, status, words, *, kept=True):
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:500]
    assert words in html
    assert "Traceback" not in html and "typed-secret-Pa55" not in html
    if kept:
        assert 'value="Alice"' in html


# --- the real wiki, stopped, slowed, read-only --------------------------------------------

def test_wiki_down_on_the_form_page(fault_wiki, make_app):
    client = make_app(fault_wiki).test_client()
    client.get("/")  # siteinfo cached while the wiki is up
    fault_wiki.stop()
    try:
        response = client.get("/login")
        assert_clear_page(response, 503, "could not be reached", kept=False)
        assert "Try again" in response.get_data(as_text=True)
    finally:
        fault_wiki.start()


def test_wiki_down_when_the_form_is_sent(fault_wiki, make_app):
    client = make_app(fault_wiki).test_client()
    csrf = login_form(client)
    fault_wiki.stop()
    try:
        assert_clear_page(post_login(client, csrf), 503, "could not be reached")
    finally:
        fault_wiki.start()
    # Back up: the same form now works.
    response = post_login(client, csrf, USERS["Alice"])
    assert response.status_code == 303


def test_wiki_too_slow(fault_wiki, make_app):
    client = make_app(fault_wiki, WIKI_TIMEOUT=1).test_client()
    csrf = login_form(client)
    fault_wiki.set_slow(2.5)
    try:
        assert_clear_page(post_login(client, csrf), 503, "did not answer within 1 second.")
    finally:
        fault_wiki.set_slow(None)


def test_wiki_read_only(fault_wiki, make_app):
    client = make_app(fault_wiki).test_client()
    csrf = login_form(client)
    fault_wiki.set_read_only("Database upgrade until noon")
    try:
        response = post_login(client, csrf)
        assert_clear_page(response, 502, "read-only")
        assert "Database upgrade until noon" in response.get_data(as_text=True)
    finally:
        fault_wiki.set_read_only(None)


# --- faults only a mock can make ------------------------------------------------------------

@pytest.fixture
def mock_client(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        app = make_app(type("W", (), {"api_url": API})())
        yield app.test_client(), rsps


@pytest.mark.parametrize("answer,status,words", [
    (dict(status=500, body="<h1>Internal error</h1>"), 503, "server error (HTTP 500)"),
    (dict(status=502, body="Bad gateway"), 503, "server error (HTTP 502)"),
    (dict(status=503, body="Service Unavailable"), 503, "server error (HTTP 503)"),
    (dict(status=200, body="<!doctype html><p>Welcome to the wiki"), 503, "was not JSON"),
    (dict(json={"batchcomplete": True}), 503, "has no result"),
    (dict(json={"clientlogin": {"status": "PERHAPS"}}), 503, "unknown status"),
    (dict(json={"error": {"code": "maxlag", "info": "Waiting for a database server"}}), 502, "busy"),
    (dict(json={"error": {"code": "ratelimited", "info": "You've exceeded your rate limit"}}), 502, "busy"),
    (dict(json={"error": {"code": "internal_api_error_DBQueryError", "info": "[abc] Database query error"}}),
     502, "Database query error"),
    (dict(body=requests.ConnectionError("reset by peer")), 503, "could not be reached"),
])
def test_faults_on_clientlogin(mock_client, answer, status, words):
    client, rsps = mock_client
    csrf = login_form(client)
    rsps.post(API, **answer)
    assert_clear_page(post_login(client, csrf), status, words)
    # A POST is never replayed blindly: exactly one clientlogin went out.
    assert sum(c.request.method == "POST" for c in rsps.calls) == 1


def test_unexpected_fields_json_on_the_form_page(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        from tests.mock_wiki import SITEINFO
        from responses import matchers

        rsps.get(API, json=SITEINFO, match=[matchers.query_param_matcher({"meta": "siteinfo"}, strict_match=False)])
        rsps.get(API, json={"query": {"tokens": {}}})
        client = make_app(type("W", (), {"api_url": API})()).test_client()
        response = client.get("/login")
        assert_clear_page(response, 503, "authmanagerinfo answer lacks", kept=False)


# --- restarts of the app ----------------------------------------------------------------

def test_app_restart_between_password_and_second_factor(oath_wiki, make_app):
    first = make_app(oath_wiki).test_client()
    password, _ = TOTP_USERS["Carol"]
    csrf = login_form(first)
    step = first.post("/login", data={"csrf_token": csrf, "username": "Carol", "password": password,
                                      "wl_submit": "Log in"})
    assert 'name="OATHToken"' in step.get_data(as_text=True)
    cookie = first.get_cookie("wikilogin_session").value
    # A new process on the same store and secret: the login goes on.
    second = make_app(oath_wiki).test_client()
    second.set_cookie("wikilogin_session", cookie)
    done = second.post("/login", data={"csrf_token": csrf, "OATHToken": oath_wiki.totp_code("Carol"),
                                       "wl_submit": "Continue"})
    assert done.status_code == 303
    assert "Logged in as <strong class=\"wl-username\">Carol</strong>" in second.get("/").get_data(as_text=True)


def test_app_restart_between_redirect_and_callback(idp_wiki, make_app):
    idp_wiki.reset_login_throttles()
    first = make_app(idp_wiki, PUBLIC_URL="http://127.0.0.1:5999").test_client()
    csrf = login_form(first)
    away = first.post("/login", data={"csrf_token": csrf, "testidplogin": "Log in with TestIdP"})
    assert away.status_code == 303
    # The provider approves at once (its prompt=none shortcut) and sends the browser back.
    back = requests.get(away.headers["Location"] + "&prompt=none&login_hint=alice",
                        allow_redirects=False, timeout=10).headers["Location"]
    cookie = first.get_cookie("wikilogin_session").value
    second = make_app(idp_wiki, PUBLIC_URL="http://127.0.0.1:5999").test_client()
    second.set_cookie("wikilogin_session", cookie)
    parts = urlsplit(back)
    resumed = second.get(f"{parts.path}?{parts.query}")
    assert resumed.status_code == 303 and resumed.headers["Location"] == "/"
    assert "Logged in as" in second.get("/").get_data(as_text=True)
