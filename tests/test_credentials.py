"""Credentials, mocked where a real wiki cannot easily answer so: the typed calls, FAIL,
``reauthenticate`` arriving anyway, several changeable credentials, no reset routes."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from responses import matchers

from tests.mock_wiki import API, SITEINFO
from wiki import (AUTH_ACTIONS, CHANGE_CREDENTIALS, BadToken, ReauthImpossible, ReauthRequired, ResetRoutes,
                  SecurityStatus, Wiki, WikiResponseError)
from wiki.credentials import security_status

PASSWORD_REQUEST = {
    "id": "MediaWiki\\Auth\\PasswordAuthenticationRequest", "metadata": {}, "required": "primary-required",
    "provider": "Password-based authentication", "account": "Alice",
    "fields": {"password": {"type": "password", "label": "New password:", "help": "", "optional": False,
                            "sensitive": True},
               "retype": {"type": "password", "label": "Retype new password:", "help": "", "optional": False,
                          "sensitive": True}}}
PIN_REQUEST = {
    "id": "Example\\PinRequest", "metadata": {}, "required": "primary-required", "provider": "Door PIN",
    "account": "Alice", "fields": {"pin": {"type": "password", "label": "New PIN", "help": "", "optional": False,
                                           "sensitive": True}}}


def change_info(status: str = "ok", requests=(PASSWORD_REQUEST,)) -> dict:
    return {"batchcomplete": True, "query": {"tokens": {"csrftoken": "csrf+\\"}, "authmanagerinfo": {
        "canauthenticatenow": True, "cancreateaccounts": True, "canlinkaccounts": False,
        "securitysensitiveoperationstatus": status, "requests": list(requests)}}}


@pytest.fixture
def client():
    return Wiki(API, user_agent="wiki-login-tests", timeout=2).client()


# --- wiki/: typed calls ---------------------------------------------------------------

@pytest.mark.parametrize("names,routes", [
    (["user", "email", "token"], ResetRoutes(True, True)),
    (["user", "token"], ResetRoutes(True, False)),
    (["email", "token"], ResetRoutes(False, True)),
    ([], ResetRoutes(False, False)),
])
def test_reset_routes_are_the_parameters_the_module_takes(client, names, routes):
    with responses.RequestsMock() as rsps:
        rsps.get(API, json={"paraminfo": {"modules": [{"name": "resetpassword",
                                                         "parameters": [{"name": n} for n in names]}]}})
        assert client.reset_routes() == routes
    assert routes.any == bool(set(names) & {"user", "email"})


def test_reset_password_sends_a_fresh_csrf_token_and_only_what_was_given(client):
    with responses.RequestsMock() as rsps:
        rsps.get(API, json={"query": {"tokens": {"csrftoken": "anon+\\"}}})
        sent = rsps.post(API, json={"resetpassword": {"status": "success"}})
        assert client.reset_password(username="Alice").ok
    body = parse_qs(sent.calls[0].request.body)
    assert body["user"] == ["Alice"] and body["token"] == ["anon+\\"] and "email" not in body


def test_change_credentials_names_the_request_and_retries_a_stale_token_once(client):
    calls = []

    def answer(request):
        calls.append(parse_qs(request.body))
        if len(calls) == 1:
            return 200, {}, '{"error": {"code": "badtoken", "info": "Invalid CSRF token."}}'
        return 200, {}, '{"changeauthenticationdata": {"status": "success"}}'

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, API, callback=answer)
        rsps.get(API, json={"query": {"tokens": {"csrftoken": "fresh+\\"}}})
        result, token = client.change_credentials(AUTH_ACTIONS["change"], "stale", PASSWORD_REQUEST["id"],
                                                  {"password": "N3w-pass!", "retype": "N3w-pass!"})
    assert result.ok and token == "fresh+\\"
    assert [c["changeauthtoken"] for c in calls] == [["stale"], ["fresh+\\"]]
    assert calls[1]["changeauthrequest"] == [PASSWORD_REQUEST["id"]] and calls[1]["retype"] == ["N3w-pass!"]


@pytest.mark.parametrize("code,cls", [("reauthenticate", ReauthRequired), ("cannotreauthenticate", ReauthImpossible),
                                      ("badtoken", BadToken)])
def test_change_errors_are_typed(client, code, cls):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.post(API, json={"error": {"code": code, "info": "because"}})
        rsps.get(API, json={"query": {"tokens": {"csrftoken": "fresh"}}})
        with pytest.raises(cls):
            client.change_credentials(AUTH_ACTIONS["change"], "tok", "R", {})


def test_change_info_asks_for_the_security_status_in_the_same_request(client):
    with responses.RequestsMock() as rsps:
        asked = rsps.get(API, json=change_info("reauth"))
        token, info = client.auth_info(AUTH_ACTIONS["change"], security_operation=CHANGE_CREDENTIALS)
    query = parse_qs(asked.calls[0].request.url.split("?", 1)[1])
    assert query["amisecuritysensitiveoperation"] == ["ChangeCredentials"] and query["type"] == ["csrf"]
    assert query["amirequestsfor"] == ["change"]
    assert token == "csrf+\\" and security_status(info.security_status) == SecurityStatus.REAUTH
    assert security_status("") == SecurityStatus.NONE
    with pytest.raises(WikiResponseError):
        security_status("maybe")


def test_special_pages_come_with_siteinfo():
    answer = {**SITEINFO, "query": {**SITEINFO["query"], "specialpagealiases": [
        {"realname": "Preferences", "aliases": ["Preferences"]}, {"realname": "OATHManage", "aliases": ["OATH"]}]}}
    with responses.RequestsMock() as rsps:
        rsps.get(API, json=answer)
        site = Wiki(API, user_agent="t").siteinfo()
    assert site.has_special_page("OATHManage") and not site.has_special_page("ChangeEmail")


# --- the pages --------------------------------------------------------------------------

def _logged_in_client(make_app, rsps, answer: dict):
    rsps.get(API, json=SITEINFO, match=[matchers.query_param_matcher({"meta": "siteinfo"}, strict_match=False)])
    rsps.get(API, json=answer, match=[matchers.query_param_matcher(
        {"meta": "tokens|authmanagerinfo", "amirequestsfor": "change"}, strict_match=False)])
    client = make_app(type("W", (), {"api_url": API})()).test_client()
    with client.session_transaction() as stored:
        stored["user"] = "Alice"
    return client


def test_fail_gets_a_clear_page_and_no_form(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        page = _logged_in_client(make_app, rsps, change_info("fail")).get("/account/credentials")
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and "This session cannot change credentials" in html
    assert "Special:ChangeCredentials" in html and 'type="password"' not in html


def test_reauthenticate_arriving_anyway_sends_the_user_to_log_in_again(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        client = _logged_in_client(make_app, rsps, change_info("ok"))
        rsps.post(API, json={"error": {"code": "reauthenticate", "info": "Please reauthenticate."}})
        form = client.get("/account/credentials").get_data(as_text=True)
        token = form.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        answer = client.post("/account/credentials", data={
            "csrf_token": token, "password": "N3w-Secret-pass!", "retype": "N3w-Secret-pass!", "wl_submit": "Save"})
    html = answer.get_data(as_text=True)
    assert "Please log in again" in html and "/account/reauth?returnto=" in html
    assert "N3w-Secret-pass!" not in html


def test_several_credentials_are_a_choice_then_the_chosen_ones_fields(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        client = _logged_in_client(make_app, rsps, change_info("ok", (PASSWORD_REQUEST, PIN_REQUEST)))
        choice = client.get("/account/credentials").get_data(as_text=True)
        assert "Change password" in choice and "Change Door PIN" in choice
        pin = client.get("/account/credentials?request=Example%5CPinRequest").get_data(as_text=True)
        gone = client.get("/account/credentials?request=Nothing")
    assert 'name="pin"' in pin and 'name="retype"' not in pin
    assert gone.status_code == 404


def test_a_wiki_that_resets_by_name_only_asks_for_the_name(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(API, json=SITEINFO, match=[matchers.query_param_matcher({"meta": "siteinfo"}, strict_match=False)])
        rsps.get(API, json={"paraminfo": {"modules": [{"name": "resetpassword", "parameters": [
            {"name": "user"}, {"name": "token"}]}]}},
            match=[matchers.query_param_matcher({"action": "paraminfo"}, strict_match=False)])
        client = make_app(type("W", (), {"api_url": API})()).test_client()
        html = client.get("/password/reset").get_data(as_text=True)
        token = html.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        # An address sent anyway is not passed on: the wiki takes none.
        empty = client.post("/password/reset", data={"csrf_token": token, "email": "a@example.org",
                                                     "wl_submit": "Reset password"})
    assert 'name="username"' in html and 'name="email"' not in html and "(optional)" not in html
    assert "Give your username" in html
    assert empty.status_code == 422 and "Please fill in “Username”." in empty.get_data(as_text=True)
