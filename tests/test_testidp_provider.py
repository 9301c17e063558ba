"""The TestIdP MediaWiki extension (tests/mediawiki/TestIdP) and its fake IdP page.

Talks to real wikis with raw ``requests`` only, the way an API client such as
wiki-login does: action=clientlogin / createaccount / linkaccount with the
REDIRECT round trip through tests/mediawiki/www/idp.php.

Identities: ``alice`` and ``carol`` are linked to Alice and Carol by
settings.php; every other identity starts unlinked.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devwiki.wikiserver import USERS, start_wiki

RETURN_URL = "http://127.0.0.1:5999/cb?x=1"
LOGIN_BUTTON = "testidplogin"
LOGIN_REQUEST = r"MediaWiki\Auth\ButtonAuthenticationRequest:testidplogin"
CREATE_REQUEST = r"MediaWiki\Auth\ButtonAuthenticationRequest:testidpcreate"
USERNAME_REQUEST = r"MediaWiki\Auth\UsernameAuthenticationRequest"
LINK_REQUEST = r"MediaWiki\Auth\ButtonAuthenticationRequest:testidplink"
RETURN_REQUEST = r"MediaWiki\Extension\TestIdP\TestIdPReturnRequest"
IDENTITY_REQUEST = r"MediaWiki\Extension\TestIdP\TestIdPIdentityRequest"
TIMEOUT = 30

# Installs two real wikis
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wiki(mw_version):
    server = start_wiki("idp", mw_version=mw_version, testidp=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wiki2fa(mw_version):
    server = start_wiki("idp2fa", mw_version=mw_version, testidp=True, oath=True)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_login_throttle(request):
    """Start every test with MediaWiki's login throttle cleared.

    Every clientlogin begin without a user name (as with the TestIdP button)
    counts against one per-IP counter (5 per 5 minutes), which only a PASS
    without a user name clears; RESTART, FAIL and abandoned redirects all
    count, and all tests come from 127.0.0.1.
    """
    for name in ("wiki", "wiki2fa"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset_login_throttles()


# -- helpers ---------------------------------------------------------------


def api_get(session: requests.Session, wiki, **params) -> dict:
    params.update(format="json", formatversion="2")
    resp = session.get(wiki.api_url, params=params, timeout=TIMEOUT)
    resp.raise_for_status()
    data = resp.json()
    assert "error" not in data, data
    return data


def api_post(session: requests.Session, wiki, **params) -> dict:
    params.update(format="json", formatversion="2")
    resp = session.post(wiki.api_url, data=params, timeout=TIMEOUT)
    resp.raise_for_status()
    data = resp.json()
    assert "error" not in data, data
    return data


def token(session: requests.Session, wiki, kind: str = "login") -> str:
    data = api_get(session, wiki, action="query", meta="tokens", type=kind)
    return data["query"]["tokens"][f"{kind}token"]


def whoami(session: requests.Session, wiki) -> str:
    return api_get(session, wiki, action="query", meta="userinfo")["query"]["userinfo"]["name"]


def begin_login(session: requests.Session, wiki, return_url: str = RETURN_URL) -> dict:
    return api_post(
        session, wiki, action="clientlogin", loginrequests=LOGIN_REQUEST,
        **{LOGIN_BUTTON: "1"}, loginreturnurl=return_url, logintoken=token(session, wiki),
    )["clientlogin"]


def continue_login(session: requests.Session, wiki, **fields: str) -> dict:
    return api_post(
        session, wiki, action="clientlogin", logincontinue="1",
        logintoken=token(session, wiki), **fields,
    )["clientlogin"]


def continue_create(session: requests.Session, wiki, **fields: str) -> dict:
    return api_post(
        session, wiki, action="createaccount", createcontinue="1",
        createtoken=token(session, wiki, "createaccount"), **fields,
    )["createaccount"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def idp(target: str, identity: str = "", *, allow: bool = True) -> dict[str, str]:
    """Play the browser at the IdP: load the consent page, press Allow or Cancel.

    Returns the parameters the IdP appended to the return URL.
    """
    browser = requests.Session()
    page = browser.get(target, timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    assert 'id="testidp-allow"' in page.text
    params = query_of(target)
    form = {"redirect_uri": params["redirect_uri"], "state": params["state"],
            "identity": identity, ("allow" if allow else "cancel"): "1"}
    if "response_mode" in params:
        form["response_mode"] = params["response_mode"]
    resp = browser.post(target.split("?", 1)[0], data=form, allow_redirects=False,
                        timeout=TIMEOUT)
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    assert location.startswith(RETURN_URL.split("?")[0]), location
    return {k: v for k, v in query_of(location).items() if k in ("code", "state", "error")}


def begin_create_with_button(session: requests.Session, wiki, username: str) -> dict:
    """Start creating ``username`` with the "Create account with TestIdP" button."""
    return api_post(
        session, wiki, action="createaccount",
        # The user name comes from a request of its own
        createrequests=f"{CREATE_REQUEST}|{USERNAME_REQUEST}", testidpcreate="1",
        username=username, createreturnurl=RETURN_URL,
        createtoken=token(session, wiki, "createaccount"),
    )["createaccount"]


def login_via_idp(wiki, identity: str, session: requests.Session | None = None) -> dict:
    """Full TestIdP login; returns the clientlogin result after the redirect."""
    session = session or requests.Session()
    res = begin_login(session, wiki)
    assert res["status"] == "REDIRECT", res
    return continue_login(session, wiki, **idp(res["redirecttarget"], identity))


# -- discovery and redirect ------------------------------------------------


def test_authmanagerinfo_lists_testidp_button(wiki):
    info = api_get(requests.Session(), wiki, action="query", meta="authmanagerinfo",
                   amirequestsfor="login", amimergerequestfields="1")["query"]["authmanagerinfo"]
    field = info["fields"][LOGIN_BUTTON]
    assert field["type"] == "button"
    assert field["label"] == "Log in with TestIdP"
    ids = [r["id"] for r in info["requests"]]
    assert LOGIN_REQUEST in ids
    req = next(r for r in info["requests"] if r["id"].endswith(":" + LOGIN_BUTTON))
    # An alternative to the password request, like any primary provider's request
    assert req["required"] == "primary-required"
    assert info["canlinkaccounts"] is True


def test_clientlogin_redirects_to_idp(wiki):
    res = begin_login(requests.Session(), wiki)
    assert res["status"] == "REDIRECT", res
    target = res["redirecttarget"]
    assert target.startswith(f"{wiki.base_url}/_test/idp.php?")
    params = query_of(target)
    assert params["redirect_uri"] == RETURN_URL
    assert re.fullmatch(r"[0-9a-f]{32}", params["state"])
    # What the client has to send back when continuing
    (req,) = res["requests"]
    assert req["id"] == RETURN_REQUEST
    assert set(req["fields"]) == {"code", "state", "error"}


def test_idp_consent_page(wiki):
    target = (f"{wiki.base_url}/_test/idp.php?redirect_uri=http%3A%2F%2Fexample.test%2Fcb"
              "&state=%3Cscript%3E&login_hint=%22alice%3E")
    page = requests.get(target, timeout=TIMEOUT)
    assert page.status_code == 200
    assert ("Allow <strong>TestIdP</strong> to sign you in to <strong>Test Wiki</strong> as"
            in page.text)
    for element_id in ("testidp-identity", "testidp-allow", "testidp-cancel"):
        assert f'id="{element_id}"' in page.text
    # Everything the caller controls comes back escaped
    assert "<script>" not in page.text
    assert 'value="&lt;script&gt;"' in page.text
    assert 'value="&quot;alice&gt;"' in page.text


def test_idp_rejects_unsafe_redirect_uri(wiki):
    for uri in ("javascript:alert(1)", "/relative", "ftp://example.test/", ""):
        resp = requests.get(f"{wiki.base_url}/_test/idp.php",
                            params={"redirect_uri": uri, "state": "s", "login_hint": "alice",
                                    "prompt": "none"},
                            allow_redirects=False, timeout=TIMEOUT)
        assert resp.status_code == 400, uri
        assert "Location" not in resp.headers


# -- login -------------------------------------------------------------------


def test_linked_identity_logs_in(wiki):
    session = requests.Session()
    res = begin_login(session, wiki)
    returned = idp(res["redirecttarget"], "alice")
    assert set(returned) == {"code", "state"}
    assert returned["state"] == query_of(res["redirecttarget"])["state"]
    res = continue_login(session, wiki, **returned)
    assert res == {"status": "PASS", "username": "Alice"}
    assert whoami(session, wiki) == "Alice"


def test_idp_normalises_identity(wiki):
    assert login_via_idp(wiki, "  ALICE ") == {"status": "PASS", "username": "Alice"}


def test_form_post_response_mode(wiki):
    session = requests.Session()
    res = begin_login(session, wiki)
    target = res["redirecttarget"] + "&response_mode=form_post"
    params = query_of(target)
    resp = requests.post(target.split("?", 1)[0], timeout=TIMEOUT, allow_redirects=False, data={
        "redirect_uri": params["redirect_uri"], "state": params["state"],
        "response_mode": "form_post", "identity": "alice", "allow": "1"})
    assert resp.status_code == 200
    form = re.search(r'<form id="testidp-return" method="post" action="([^"]*)"', resp.text)
    assert form and html.unescape(form.group(1)) == RETURN_URL
    assert 'id="testidp-continue"' in resp.text  # usable without JavaScript
    fields = {name: html.unescape(value) for name, value in
              re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', resp.text)}
    assert set(fields) == {"code", "state"}
    assert continue_login(session, wiki, **fields) == {"status": "PASS", "username": "Alice"}


def test_unlinked_identity_restarts(wiki):
    session = requests.Session()
    res = login_via_idp(wiki, "nobody", session)
    assert res["status"] == "RESTART", res
    assert res["messagecode"] == "authmanager-authn-no-local-user-link"
    assert res["canpreservestate"] is True
    # The login form is offered again; nobody is logged in
    assert LOGIN_REQUEST in [r["id"] for r in res["requests"]]
    assert whoami(session, wiki) == "127.0.0.1"


def test_wrong_state_fails(wiki):
    session = requests.Session()
    res = begin_login(session, wiki)
    returned = idp(res["redirecttarget"], "alice")
    res = continue_login(session, wiki, code=returned["code"], state="0" * 32)
    assert res["status"] == "FAIL", res
    assert res["messagecode"] == "testidp-error-state"
    assert "state mismatch" in res["message"]
    # The attempt is over: the right state does not help any more
    res = continue_login(session, wiki, **returned)
    assert res["status"] == "FAIL"
    assert whoami(session, wiki) == "127.0.0.1"


def test_code_from_another_attempt_fails(wiki):
    victim = requests.Session()
    stolen = idp(begin_login(victim, wiki)["redirecttarget"], "alice")
    attacker = requests.Session()
    res = begin_login(attacker, wiki)
    own_state = query_of(res["redirecttarget"])["state"]
    # Correct state for this session, but the code was issued for another state
    res = continue_login(attacker, wiki, code=stolen["code"], state=own_state)
    assert res["status"] == "FAIL"
    assert res["messagecode"] == "testidp-error-code"


def test_tampered_code_fails(wiki):
    session = requests.Session()
    returned = idp(begin_login(session, wiki)["redirecttarget"], "alice")
    payload, mac = returned["code"].split(".")
    res = continue_login(session, wiki, code=payload + "." + mac[::-1], state=returned["state"])
    assert res["status"] == "FAIL"
    assert res["messagecode"] == "testidp-error-code"


def test_cancel_at_idp_fails(wiki):
    session = requests.Session()
    res = begin_login(session, wiki)
    returned = idp(res["redirecttarget"], allow=False)
    assert returned == {"error": "access_denied", "state": query_of(res["redirecttarget"])["state"]}
    res = continue_login(session, wiki, **returned)
    assert res["status"] == "FAIL"
    assert res["message"] == "You cancelled the TestIdP sign-in."


# -- account creation and linking ---------------------------------------------


def test_create_account_from_restart_links_identity(wiki):
    session = requests.Session()
    assert login_via_idp(wiki, "newbie", session)["status"] == "RESTART"

    info = api_get(session, wiki, action="query", meta="authmanagerinfo",
                   amirequestsfor="create")["query"]["authmanagerinfo"]
    assert info["haspreservedstate"] is True
    # No password needed: the preserved TestIdP identity replaces the primary-required requests
    assert info["hasprimarypreservedstate"] is True

    res = api_post(session, wiki, action="createaccount", createpreservestate="1",
                   username="Newbie", createreturnurl=RETURN_URL,
                   createtoken=token(session, wiki, "createaccount"))["createaccount"]
    assert res == {"status": "PASS", "username": "Newbie"}

    # Same identity, fresh browser: straight in as the new user
    assert login_via_idp(wiki, "newbie") == {"status": "PASS", "username": "Newbie"}


def test_create_account_with_testidp_button(wiki):
    session = requests.Session()
    res = begin_create_with_button(session, wiki, "Erin")
    assert res["status"] == "REDIRECT", res
    returned = idp(res["redirecttarget"], "erin")
    res = continue_create(session, wiki, **returned)
    assert res == {"status": "PASS", "username": "Erin"}
    assert login_via_idp(wiki, "erin") == {"status": "PASS", "username": "Erin"}


def test_create_account_with_linked_identity_fails(wiki):
    session = requests.Session()
    res = begin_create_with_button(session, wiki, "Alice2")
    returned = idp(res["redirecttarget"], "alice")
    res = continue_create(session, wiki, **returned)
    assert res["status"] == "FAIL"
    assert res["messagecode"] == "testidp-error-linked-other"


def test_link_after_password_login(wiki):
    session = requests.Session()
    assert login_via_idp(wiki, "dave", session)["status"] == "RESTART"

    # Log in with a password, preserving the TestIdP identity for linking
    res = api_post(session, wiki, action="clientlogin", loginpreservestate="1",
                   username="Bob", password=USERS["Bob"], loginreturnurl=RETURN_URL,
                   logintoken=token(session, wiki))["clientlogin"]
    assert res["status"] == "UI", res
    assert res["messagecode"] == "authprovider-confirmlink-message"
    (req,) = res["requests"]
    options = req["fields"]["confirmedLinkIDs"]["options"]
    link_id = f"{IDENTITY_REQUEST}:dave"
    assert options == {link_id: "TestIdP (dave)"}

    res = continue_login(session, wiki, confirmedLinkIDs=link_id)
    assert res == {"status": "PASS", "username": "Bob"}
    assert login_via_idp(wiki, "dave") == {"status": "PASS", "username": "Bob"}


def test_linkaccount_and_unlink(wiki):
    session = requests.Session()
    res = api_post(session, wiki, action="clientlogin", username="Bob", password=USERS["Bob"],
                   loginreturnurl=RETURN_URL, logintoken=token(session, wiki))["clientlogin"]
    assert res["status"] == "PASS", res

    res = api_post(session, wiki, action="linkaccount", linkrequests=LINK_REQUEST,
                   testidplink="1", linkreturnurl=RETURN_URL,
                   linktoken=token(session, wiki, "csrf"))["linkaccount"]
    assert res["status"] == "REDIRECT", res
    returned = idp(res["redirecttarget"], "frank")
    res = api_post(session, wiki, action="linkaccount", linkcontinue="1",
                   linktoken=token(session, wiki, "csrf"), **returned)["linkaccount"]
    assert res == {"status": "PASS", "username": "Bob"}
    assert login_via_idp(wiki, "frank") == {"status": "PASS", "username": "Bob"}

    res = api_post(session, wiki, action="unlinkaccount", request=f"{IDENTITY_REQUEST}:frank",
                   token=token(session, wiki, "csrf"))
    assert res["unlinkaccount"] == {"status": "success"}
    assert login_via_idp(wiki, "frank")["status"] == "RESTART"


# -- second factor -----------------------------------------------------------


def test_testidp_login_then_totp(wiki2fa):
    session = requests.Session()
    res = begin_login(session, wiki2fa)
    assert res["status"] == "REDIRECT"
    res = continue_login(session, wiki2fa, **idp(res["redirecttarget"], "carol"))
    # The IdP vouched for carol, but Carol also has TOTP: OATHAuth asks for it
    assert res["status"] == "UI", res
    assert "OATHToken" in res["requests"][0]["fields"]
    assert whoami(session, wiki2fa) == "127.0.0.1"

    res = continue_login(session, wiki2fa, OATHToken=wiki2fa.totp_code("Carol"))
    assert res == {"status": "PASS", "username": "Carol"}
    assert whoami(session, wiki2fa) == "Carol"
