"""Error paths of the API client that a real wiki cannot easily produce (mocked transport)."""
from __future__ import annotations

import gzip
import json
import logging
from urllib.parse import parse_qs

import pytest
import requests
import responses
import urllib3

from wiki import (
    AUTH_ACTIONS, BadToken, NotLoggedIn, Wiki, WikiAPIError, WikiResponseError, WikiUnavailable, make_pool,
)

API = "http://wiki.test/w/api.php"


@pytest.fixture
def client():
    return Wiki(API, user_agent="wiki-login-tests", timeout=2).client()


@responses.activate
def test_connection_refused_is_unavailable_after_one_retry_for_reads(client):
    responses.get(API, body=requests.ConnectionError("refused"))
    with pytest.raises(WikiUnavailable, match="could not be reached"):
        client.get(action="query")
    assert len(responses.calls) == 2


@responses.activate
def test_timeout_is_unavailable_and_names_the_limit(client):
    responses.get(API, body=requests.ReadTimeout("slow"))
    with pytest.raises(WikiUnavailable, match="within 2 seconds"):
        client.get(action="query")


@responses.activate
def test_posts_are_never_replayed(client):
    responses.post(API, body=requests.ConnectionError("reset"))
    with pytest.raises(WikiUnavailable):
        client.post(action="clientlogin", username="A", password="p")
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(client, status):
    responses.get(API, status=status, body="<html>oops</html>")
    with pytest.raises(WikiUnavailable, match=f"HTTP {status}"):
        client.get(action="query")


@responses.activate
def test_html_instead_of_json(client):
    responses.get(API, status=200, body="<!doctype html><title>Login</title>")
    with pytest.raises(WikiResponseError, match="not JSON"):
        client.get(action="query")


@responses.activate
def test_json_without_expected_keys(client):
    responses.get(API, json={"batchcomplete": True})
    with pytest.raises(WikiResponseError):
        client.auth_info(AUTH_ACTIONS["login"])


@responses.activate
@pytest.mark.parametrize("code,cls", [("badtoken", BadToken), ("assertuserfailed", NotLoggedIn),
                                      ("readonly", WikiAPIError), ("internal_api_error_DBQueryError", WikiAPIError)])
def test_api_errors_are_typed(client, code, cls):
    responses.get(API, json={"error": {"code": code, "info": "because"}})
    with pytest.raises(cls) as info:
        client.get(action="query")
    assert info.value.code == code and info.value.info == "because"


@responses.activate
def test_unknown_status_is_a_response_error(client):
    responses.post(API, json={"clientlogin": {"status": "MAYBE"}})
    with pytest.raises(WikiResponseError, match="unknown status"):
        client.authenticate(AUTH_ACTIONS["login"], "tok", {"username": "A"})


@responses.activate
def test_badtoken_refetches_token_and_retries_once(client):
    responses.post(API, json={"error": {"code": "badtoken", "info": "Invalid token"}})
    responses.get(API, json={"query": {"tokens": {"logintoken": "fresh+\\"}}})
    responses.post(API, json={"clientlogin": {"status": "PASS", "username": "Alice"}})
    result, token = client.authenticate(AUTH_ACTIONS["login"], "stale", {"username": "Alice", "password": "pw"})
    assert result.status == "PASS" and token == "fresh+\\"
    bodies = [c.request.body for c in responses.calls if c.request.method == "POST"]
    assert "logintoken=stale" in bodies[0] and "logintoken=fresh" in bodies[1]


@responses.activate
def test_badtoken_twice_gives_up(client):
    responses.post(API, json={"error": {"code": "badtoken", "info": "Invalid token"}})
    responses.get(API, json={"query": {"tokens": {"logintoken": "fresh"}}})
    with pytest.raises(BadToken):
        client.authenticate(AUTH_ACTIONS["login"], "stale", {"username": "A", "password": "pw"})
    assert sum(c.request.method == "POST" for c in responses.calls) == 2


@responses.activate
def test_warnings_are_logged_without_parameters(client, caplog):
    responses.post(API, json={"warnings": {"main": {"warnings": "Unrecognized parameter"}},
                              "clientlogin": {"status": "FAIL", "message": "no", "messagecode": "x"}})
    with caplog.at_level(logging.DEBUG):
        client.authenticate(AUTH_ACTIONS["login"], "t", {"username": "A", "password": "hunter2-secret"})
    assert "Unrecognized parameter" in caplog.text
    assert "hunter2-secret" not in caplog.text


@responses.activate
def test_sensitive_fields_go_in_the_body_never_the_url(client):
    responses.post(API, json={"clientlogin": {"status": "PASS", "username": "A"}})
    client.authenticate(AUTH_ACTIONS["login"], "t", {"username": "A", "password": "pw-in-body"})
    req = responses.calls[0].request
    assert "pw-in-body" not in req.url and "pw-in-body" in req.body


def test_clients_share_connections_not_cookies():
    wiki = Wiki(API, user_agent="t")
    a, b = wiki.client([["c", "alice", "wiki.test", "/", None, False]]), wiki.client()
    assert a.wiki.pool is b.wiki.pool
    assert a.cookies.get("c") == "alice" and b.cookies.get("c") is None
    assert json.loads(json.dumps(a.export_cookies())) == [["c", "alice", "wiki.test", "/", None, False]]


@responses.activate
def test_a_redirecting_api_url_says_what_to_fix(client):
    responses.post(API, status=301, headers={"Location": "https://wiki.test/w/api.php"})
    with pytest.raises(WikiResponseError, match="redirect.*https://wiki.test/w/api.php.*WIKI_API_URL"):
        client.post(action="clientlogin", username="A", password="p")
    assert len(responses.calls) == 1  # not followed: a POST would arrive as a GET


@responses.activate
def test_gzipped_answers_are_read(client):
    body = gzip.compress(json.dumps({"query": {"userinfo": {"id": 1, "name": "A"}}}).encode())
    responses.get(API, body=body, headers={"Content-Encoding": "gzip"}, content_type="application/json")
    assert client.whoami().name == "A"
    assert "gzip" in responses.calls[0].request.headers["Accept-Encoding"]


@responses.activate
def test_cookies_the_wiki_sets_are_kept_and_sent_back(client):
    responses.get(API, json={"batchcomplete": True}, headers={"Set-Cookie": "wikiSession=abc; path=/; HttpOnly"})
    responses.get(API, json={"batchcomplete": True})
    client.get(action="query")
    client.get(action="query")
    assert "Cookie" not in responses.calls[0].request.headers
    assert responses.calls[1].request.headers["Cookie"] == "wikiSession=abc"
    assert [c[:2] for c in client.export_cookies()] == [["wikiSession", "abc"]]


@pytest.mark.parametrize("env,proxied", [
    ({"HTTP_PROXY": "http://proxy.test:3128"}, True),
    ({"HTTP_PROXY": "http://proxy.test:3128", "NO_PROXY": "wiki.test"}, False),
    ({}, False),
])
def test_the_pool_takes_the_proxy_from_the_environment(monkeypatch, env, proxied):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                 "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pool = make_pool(API)
    assert isinstance(pool, urllib3.ProxyManager) == proxied
    if proxied:
        assert pool.proxy.host == "proxy.test"


@responses.activate
def test_steps_name_the_chosen_requests_or_none(client):
    """begin() and continue_() send loginrequests as chosen: ids, an empty choice, or (None) no filter."""
    answer = {"clientlogin": {"status": "PASS", "username": "A"}}
    login = AUTH_ACTIONS["login"]
    for _ in range(4):
        responses.post(API, json=answer)
    client.begin(login, "t", {"username": "A"}, return_url="http://x/", requests=["R1", "R2"])
    client.begin(login, "t", {"username": "A"}, return_url="http://x/", requests=())
    client.begin(login, "t", {"username": "A"}, return_url="http://x/")
    client.continue_(login, "t", {"OATHToken": "1"}, requests=["R3"])
    sent = [parse_qs(c.request.body) for c in responses.calls]
    assert sent[0]["loginrequests"] == ["R1|R2"] and sent[0]["loginreturnurl"] == ["http://x/"]
    assert parse_qs(responses.calls[1].request.body, keep_blank_values=True)["loginrequests"] == [""]
    assert "loginrequests" not in sent[2]
    assert sent[3]["loginrequests"] == ["R3"] and sent[3]["logincontinue"] == ["1"]
