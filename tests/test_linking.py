"""Linking, unlinking, removing, mocked where a real wiki cannot easily answer so: the security
status REAUTH and FAIL, ``reauthenticate`` arriving anyway, a wiki that links no accounts."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from responses import matchers

from tests.mock_wiki import API, SITEINFO
from wiki import AUTH_ACTIONS, Wiki

IDENTITY = {"id": "Example\\IdentityRequest:bob", "metadata": {}, "required": "primary-required",
            "provider": "Example ID", "account": "bob", "fields": {}}
LINK_BUTTON = {"id": "MediaWiki\\Auth\\ButtonAuthenticationRequest:examplelink", "metadata": {},
               "required": "primary-required", "provider": "MediaWiki\\Auth\\ButtonAuthenticationRequest",
               "account": "", "fields": {"examplelink": {"type": "button", "label": "Link Example ID", "help": "",
                                                         "optional": False, "sensitive": False}}}


def info(status: str = "ok", requests=(), can_link: bool = True) -> dict:
    return {"batchcomplete": True, "query": {"tokens": {"csrftoken": "csrf+\\"}, "authmanagerinfo": {
        "canauthenticatenow": True, "cancreateaccounts": True, "canlinkaccounts": can_link,
        "securitysensitiveoperationstatus": status, "requests": list(requests)}}}


def _client(make_app, rsps, requests_for: str, answer: dict):
    rsps.get(API, json=SITEINFO, match=[matchers.query_param_matcher({"meta": "siteinfo"}, strict_match=False)])
    rsps.get(API, json=answer, match=[matchers.query_param_matcher(
        {"meta": "tokens|authmanagerinfo", "amirequestsfor": requests_for}, strict_match=False)])
    client = make_app(type("W", (), {"api_url": API})()).test_client()
    with client.session_transaction() as stored:
        stored["user"] = "Bob"
    return client


def _token(html: str) -> str:
    return html.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]


def test_each_action_asks_its_own_security_operation_and_removal_sends_only_request_and_token():
    client = Wiki(API, user_agent="wiki-login-tests", timeout=2).client()
    for action, operation in (("link", "LinkAccounts"), ("unlink", "UnlinkAccount"), ("remove", "RemoveCredentials")):
        with responses.RequestsMock() as rsps:
            asked = rsps.get(API, json=info())
            client.auth_info(AUTH_ACTIONS[action])
        query = parse_qs(asked.calls[0].request.url.split("?", 1)[1])
        assert query["amisecuritysensitiveoperation"] == [operation] and query["amirequestsfor"] == [action]
    with responses.RequestsMock() as rsps:
        sent = rsps.post(API, json={"unlinkaccount": {"status": "success"}})
        result, _token = client.remove_credential(AUTH_ACTIONS["unlink"], "tok+\\", IDENTITY["id"])
    body = parse_qs(sent.calls[0].request.body)
    assert result.ok and body["action"] == ["unlinkaccount"] and body["request"] == [IDENTITY["id"]]
    assert body["token"] == ["tok+\\"] and not {k for k in body if "request" in k} - {"request"}


def test_linking_after_a_while_asks_to_log_in_again_and_comes_back(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        page = _client(make_app, rsps, "link", info("reauth", [LINK_BUTTON])).get("/account/link")
    html = page.get_data(as_text=True)
    assert "Please log in again" in html and "/account/reauth?returnto=/account/link" in html
    assert "Linking and unlinking accounts are security-sensitive" in html and "Link Example ID" not in html


@pytest.mark.parametrize("path,requests_for", [("/account/link", "link"), ("/account/linked", "unlink"),
                                               ("/account/remove", "remove")])
def test_a_session_that_cannot_log_in_again_gets_a_clear_page(make_app, path, requests_for):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        client = _client(make_app, rsps, requests_for, info("fail", [IDENTITY, LINK_BUTTON]))
        page = client.get(path)
        if path != "/account/link":  # the lists show; the button is what is refused
            assert page.status_code == 200 and "Example ID" in page.get_data(as_text=True)
            page = client.post(path, data={"csrf_token": _token(page.get_data(as_text=True)),
                                           "request": IDENTITY["id"]})
    assert page.status_code == 403 and "This session cannot change credentials" in page.get_data(as_text=True)


def test_reauthenticate_arriving_anyway_on_unlink_sends_the_user_to_log_in_again(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        client = _client(make_app, rsps, "unlink", info("ok", [IDENTITY]))
        rsps.post(API, json={"error": {"code": "reauthenticate", "info": "Please reauthenticate."}})
        page = client.get("/account/linked").get_data(as_text=True)
        answer = client.post("/account/linked", data={"csrf_token": _token(page), "request": IDENTITY["id"]})
    html = answer.get_data(as_text=True)
    assert "Please log in again" in html and "/account/reauth?returnto=/account/linked" in html


def test_a_wiki_that_links_no_accounts_says_so(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        client = _client(make_app, rsps, "unlink", info("ok", [], can_link=False))
        rsps.get(API, json=info("ok", [], can_link=False), match=[matchers.query_param_matcher(
            {"meta": "tokens|authmanagerinfo", "amirequestsfor": "link"}, strict_match=False)])
        listed = client.get("/account/linked").get_data(as_text=True)
        link = client.get("/account/link")
    assert "This wiki offers no accounts elsewhere to link" in listed and "Link another account" not in listed
    assert link.status_code == 404 and "No accounts can be linked here" in link.get_data(as_text=True)


def test_a_bot_password_session_is_not_offered_linking(make_app):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        client = _client(make_app, rsps, "unlink", info("ok", [IDENTITY]))
        with client.session_transaction() as stored:
            stored["bot_password"] = True
        for path in ("/account/linked", "/account/link", "/account/remove"):
            page = client.get(path)
            assert page.status_code == 403 and "bot password" in page.get_data(as_text=True)
        assert not [c for c in rsps.calls if "authmanagerinfo" in c.request.url]
