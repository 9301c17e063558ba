"""A field type, a status and an action are each one table entry: each test adds a fake one.

Mocked where the wiki would have to speak a field type or status no MediaWiki has;
the fake action runs against the real wiki.
"""
from __future__ import annotations

import copy
from urllib.parse import parse_qs

import pytest
import responses
from werkzeug.datastructures import MultiDict
from wtforms import StringField

import wiki.authn
from auth import flow as login_flow, wiki_session
from auth.field_kinds import FIELD_KINDS, FieldKind, _kw, _value
from auth.flow import AFTER_PASS, HANDLERS
from auth.pages import message_page
from auth.state import ACTIONS, Action
from tests.conftest import AuthActions
from tests.mock_wiki import API, captured, mock_read_side
from devwiki.wikiserver import USERS
from wiki import AUTH_ACTIONS


def _login_page_with(field: dict) -> dict:
    answer = copy.deepcopy(captured("authmanagerinfo_login_plain"))
    requests = answer["query"]["authmanagerinfo"]["requests"]
    password_request = next(r for r in requests if "password" in r["fields"])
    password_request["fields"]["birthday"] = field
    return answer


def _mock_app(make_app):
    return make_app(type("W", (), {"api_url": API})())


def test_a_new_field_type_is_one_entry(make_app, monkeypatch):
    monkeypatch.setitem(FIELD_KINDS, "date", FieldKind(
        lambda f, h: StringField(**_kw(f, {**h, "type": "date"}), default=f.value), _value, "text_input"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps, _login_page_with({"type": "date", "label": "Birthday", "help": "When you were born",
                                               "optional": False}))
        sent = rsps.post(API, json={"clientlogin": {"status": "PASS", "username": "Alice"}})
        client = _mock_app(make_app).test_client()
        page = client.get("/login").get_data(as_text=True)
        assert 'type="date"' in page and "Birthday" in page and "When you were born" in page
        done = client.post("/login", data={"csrf_token": AuthActions(client).csrf(page), "username": "Alice",
                                           "password": "pw", "birthday": "2000-01-02", "wl_submit": "Log in"})
    assert done.status_code == 303
    assert parse_qs(sent.calls[0].request.body)["birthday"] == ["2000-01-02"]


def test_a_new_status_is_one_handler(make_app, monkeypatch):
    # The wire's vocabulary (MediaWiki's statuses) lets it through; the flow's table handles it.
    monkeypatch.setattr(wiki.authn, "STATUSES", wiki.authn.STATUSES | {"WAIT"})
    monkeypatch.setitem(HANDLERS, "WAIT", lambda flow, client, result, step: message_page(
        "Please wait", "The wiki asks you to wait.", status=202))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json={"clientlogin": {"status": "WAIT"}})
        client = _mock_app(make_app).test_client()
        page = client.get("/login").get_data(as_text=True)
        answer = client.post("/login", data={"csrf_token": AuthActions(client).csrf(page), "username": "Alice",
                                             "password": "pw", "wl_submit": "Log in"})
    assert answer.status_code == 202 and "The wiki asks you to wait." in answer.get_data(as_text=True)


def test_a_new_action_is_one_entry(make_app, wiki, monkeypatch):
    monkeypatch.setitem(ACTIONS, "relogin", Action(
        AUTH_ACTIONS["login"], lambda info: info.can_authenticate_now,
        "Log in again", "to %(site)s", "to %(site)s as %(user)s", "Confirm it is you", "Continue",
        "login.login", False))
    app = make_app(wiki)
    with app.test_request_context("/login", method="POST"):
        flow = login_flow.start("relogin", wiki_session.wiki_client())
        page, status, _ = login_flow.render_flow(flow)
        assert status == 200 and "Log in again" in page and "Confirm it is you" in page
        built = login_flow.step_form(flow, MultiDict({"username": "Alice", "password": USERS["Alice"],
                                                      "wl_submit": "Confirm it is you"}))
        done = login_flow.submit(flow, built)
        assert done.status_code == 303
        assert wiki_session.current_user() == "Alice"


@pytest.mark.parametrize("kind", sorted(FIELD_KINDS))
def test_every_kind_names_a_macro_that_exists(kind, make_app, wiki):
    app = make_app(wiki)
    with app.app_context():
        module = app.jinja_env.get_template("_fields.html").module
    assert callable(getattr(module, FIELD_KINDS[kind].macro))


def test_what_pass_means_is_the_actions_own(make_app, wiki, monkeypatch):
    """An action whose PASS is not a new session here (as linking or changing a credential would be)."""
    seen = []
    monkeypatch.setitem(AFTER_PASS, "noted", lambda flow, client, result, step: seen.append(result.username)
                        or message_page("Done", "The wiki said yes."))
    monkeypatch.setitem(ACTIONS, "check", Action(
        AUTH_ACTIONS["login"], lambda info: info.can_authenticate_now,
        "Check your password", "on %(site)s", "on %(site)s as %(user)s", "Check", "Continue",
        "login.login", False, after_pass="noted"))
    app = make_app(wiki)
    with app.test_request_context("/login", method="POST"):
        flow = login_flow.start("check", wiki_session.wiki_client())
        built = login_flow.step_form(flow, MultiDict({"username": "Alice", "password": USERS["Alice"],
                                                      "wl_submit": "Check"}))
        page, status, _ = login_flow.submit(flow, built)
        assert status == 200 and "The wiki said yes." in page
        assert seen == ["Alice"] and wiki_session.current_user() is None
