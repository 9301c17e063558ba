"""Answers of MediaWiki newer than the two LTS wikis the suite runs (1.45, 1.46, master), mocked.

The JSON in tests/data/mw1.45_*, mw1.46_* and mwmaster_* was assembled by hand
from MediaWiki's and the extensions' source (OATHAuth, ConfirmEdit, EmailAuth,
core), not captured from a running wiki: tests/data/NEWER_SHAPES.md says where
each shape comes from, and marks as GUESS what the source did not settle.  The
tests that use a GUESS say so next to it.
"""
from __future__ import annotations

import copy
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers
from werkzeug.datastructures import MultiDict

from auth.field_kinds import CHOICE_KIND, FIELD_KINDS
from auth.fields import SUBMIT, build_form
from auth.responses import CONTENT_SECURITY_POLICY
from auth.wiki_answers import FAIL_ANSWERS, FailAnswer
from tests.conftest import AuthActions
from tests.mock_wiki import API, SITEINFO, captured, mock_read_side
from wiki import TempAccounts, UserInfo
from wiki.authn import AuthInfo, AuthResult

WIKI_LOGIN = 'href="http://wiki.invalid/wiki/Special:UserLogin"'
SELECT = "MediaWiki\\Extension\\OATHAuth\\Auth\\TwoFactorModuleSelectAuthenticationRequest"


def result(name: str) -> AuthResult:
    return AuthResult.from_api(captured(name)["clientlogin"])


def info(name: str) -> AuthInfo:
    return AuthInfo.from_api(captured(name)["query"]["authmanagerinfo"])


@pytest.fixture
def ctx(make_app):
    app = make_app(type("W", (), {"api_url": API})(), WTF_CSRF_ENABLED=False)
    with app.test_request_context("/login", method="POST"):
        yield


@pytest.fixture
def client(make_app):
    return make_app(type("W", (), {"api_url": API})()).test_client()


def step(requests, formdata=None):
    return build_form(list(requests), submit_label="Continue",
                      formdata=MultiDict(formdata) if formdata is not None else None)


def body(call) -> dict[str, list[str]]:
    return parse_qs(call.request.body, keep_blank_values=True)


def log_in(client, *, username: str = "Carol"):
    """The login form, then its POST (answered by whatever the test mocked): the app's answer."""
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"csrf_token": AuthActions(client).csrf(page), "username": username,
                                       "password": "pw", SUBMIT: "Log in"})


def page_csrf(html: str) -> str:
    return AuthActions(None).csrf(html)


def input_tag(html: str, name: str) -> str:
    """The ``<input ...>`` tag of the field ``name``."""
    return re.search(r'<input[^>]*\bname="%s"[^>]*>' % re.escape(name), html).group(0)


# --- OATHAuth: TOTP, recovery codes as their own module, the module choice ------------------

def test_oath_1_45_totp_step_is_one_code_with_no_choice(ctx):
    ui = result("mw1.45_clientlogin_ui_oath_totp")
    assert ui.status == "UI" and ui.messagecode == "oathauth-auth-ui"
    built = step(ui.requests)
    assert built.has_default_submit and built.buttons == []
    token = built.form.by_name["OATHToken"]()
    assert 'autocomplete="one-time-code"' in token and 'autocapitalize="off"' in token
    assert {v.auth.name for v in built.fields if v.required} == {"OATHToken"}


@pytest.mark.parametrize("name", ["mw1.46_clientlogin_ui_recovery_code", "mwmaster_clientlogin_ui_recovery_code"])
def test_recovery_code_step_has_one_time_code_hints(ctx, name):
    # mwmaster_clientlogin_ui_recovery_code: GUESS (NEWER_SHAPES.md) that master's step
    # comes without message/messagecode; the step must work either way.
    ui = result(name)
    built = step(ui.requests)
    code = built.form.by_name["RecoveryCode"]()
    assert 'autocomplete="one-time-code"' in code and 'spellcheck="false"' in code
    assert "maxlength" not in code and "pattern" not in code
    assert built.has_default_submit
    # The choice is its own kind (a select on the wire), drawn as buttons.
    choice = next(v for v in built.fields if v.auth.name == "newModule")
    assert choice.auth.choice and choice.kind is CHOICE_KIND and choice in built.buttons
    assert choice.choices == [("totp", "Use your authenticator app instead")]  # no security key here


def test_module_choice_is_marked_by_the_wiki_layer_and_survives_the_session_store():
    ui = result("mw1.46_clientlogin_ui_oath_modules")
    select = next(r for r in ui.requests if r.id == SELECT)
    assert [f.choice for f in select.fields] == [True]
    assert select.metadata["currentModule"] == "totp"
    # Stored as the wire's shape (no "choice" key) and read back a choice again.
    stored = select.to_api()
    assert "choice" not in stored["fields"]["newModule"] and stored["fields"]["newModule"]["type"] == "select"
    assert type(select).from_api(stored) == select
    totp = next(r for r in ui.requests if r.id != SELECT)
    assert not any(f.choice for f in totp.fields)


def test_a_choice_button_sends_the_choice_alone_and_needs_no_code(ctx):
    requests = result("mw1.46_clientlogin_ui_oath_modules").requests
    fresh = step(requests)
    choice = next(v for v in fresh.buttons)
    # webauthn is offered by the wiki but would lead where this app cannot go.
    assert choice.choices == [("recoverycodes", "Use a recovery code instead")]
    pressed = step(requests, {"OATHToken": "", "newModule": "recoverycodes"})
    assert pressed.form.validate()
    assert pressed.pressed_button() == "newModule"
    assert [r.id for r in pressed.chosen_requests()] == [SELECT]
    assert not pressed.missing_required()
    assert pressed.api_params() == {"newModule": "recoverycodes"}


def test_the_plain_submit_still_needs_the_code_and_stays_on_this_module(ctx):
    requests = result("mw1.46_clientlogin_ui_oath_modules").requests
    empty = step(requests, {"OATHToken": "", SUBMIT: "Continue"})
    assert empty.form.validate() and empty.pressed_button() is None
    assert empty.missing_required() and empty.form.by_name["OATHToken"].errors
    typed = step(requests, {"OATHToken": "123456", SUBMIT: "Continue"})
    assert not typed.missing_required()
    assert typed.api_params() == {"OATHToken": "123456", "newModule": ""}


def test_a_choice_the_wiki_did_not_offer_is_refused(ctx):
    requests = result("mw1.46_clientlogin_ui_oath_modules").requests
    forged = step(requests, {"newModule": "sms"})
    assert not forged.form.validate() and forged.form.by_name["newModule"].errors


def test_switching_to_recovery_codes_and_back_through_the_pages(client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        calls = [
            rsps.post(API, json=captured("mw1.46_clientlogin_ui_oath_modules")),
            rsps.post(API, json=captured("mw1.46_clientlogin_ui_recovery_code")),
            rsps.post(API, json=captured("mw1.46_clientlogin_ui_recovery_code_failed")),
            rsps.post(API, json={"clientlogin": {"status": "PASS", "username": "Carol"}}),
        ]
        totp = log_in(client)
        html = totp.get_data(as_text=True)
        assert totp.status_code == 200 and "two-factor authentication app" in html
        assert "required" in input_tag(html, "OATHToken")
        # The choice: a button that sends newModule=recoverycodes without the code's check.
        assert ('<button type="submit" name="newModule" value="recoverycodes" formnovalidate' in html
                and "Use a recovery code instead" in html)
        assert 'value="webauthn"' not in html and "<select" not in html
        assert "Set <code>newModule</code>" not in html  # the wiki's help is for API clients

        switched = client.post("/login", data={"csrf_token": page_csrf(html), "OATHToken": "",
                                               "newModule": "recoverycodes"})
        sent = body(calls[1].calls[0])
        assert sent["newModule"] == ["recoverycodes"] and sent["logincontinue"] == ["1"]
        assert "OATHToken" not in sent
        html = switched.get_data(as_text=True)
        assert switched.status_code == 200
        assert "Enter the code that was created when you set up two-factor authentication." in html
        assert 'name="RecoveryCode"' in html and 'autocomplete="one-time-code"' in html
        assert "cdx-message--notice" in html  # a new step, not an error
        assert 'value="totp"' in html and "Use your authenticator app instead" in html

        wrong = client.post("/login", data={"csrf_token": page_csrf(html), "RecoveryCode": "abcd-efgh",
                                            SUBMIT: "Continue"})
        assert body(calls[2].calls[0])["RecoveryCode"] == ["abcd-efgh"]
        html = wrong.get_data(as_text=True)
        assert "Recovery code verification failed." in html and "cdx-message--error" in html
        assert "abcd-efgh" not in html

        done = client.post("/login", data={"csrf_token": page_csrf(html), "RecoveryCode": "ijkl-mnop",
                                           SUBMIT: "Continue"})
        assert done.status_code == 303
    with client.session_transaction() as s:
        assert s["user"] == "Carol"


def test_webauthn_module_says_so_and_offers_another_module(client):
    # mwmaster_clientlogin_ui_webauthn: GUESS (NEWER_SHAPES.md) that the step has no
    # message and that webauthnLabel comes without a label; auth_info is illustrative.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json=captured("mwmaster_clientlogin_ui_webauthn"))
        switch = rsps.post(API, json=captured("mwmaster_clientlogin_ui_recovery_code"))
        page = log_in(client)
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "security key" in html and "cannot complete this login" in html and WIKI_LOGIN in html
        assert "or choose another way below" in html
        # Nothing of the ceremony is drawn or sent from here; no "Continue" that can only fail.
        assert 'name="auth_info"' not in html and 'name="credential"' not in html
        assert "Please touch your security key" not in html
        assert f'name="{SUBMIT}"' not in html
        assert '<button type="submit" name="newModule" value="recoverycodes" formnovalidate' in html
        recovery = client.post("/login", data={"csrf_token": page_csrf(html), "newModule": "recoverycodes"})
        # Only the choice is sent, for the module-choice request alone (loginrequests, as every step names
        # the requests it answers).
        assert body(switch.calls[0]) == {"newModule": ["recoverycodes"], "logincontinue": ["1"],
                                        "loginrequests": [SELECT],
                                        "logintoken": body(switch.calls[0])["logintoken"],
                                        "loginmessageformat": ["html"], "action": ["clientlogin"],
                                        # the reader's language, always named (here the wiki's own)
                                        "uselang": ["en"], "format": ["json"], "formatversion": ["2"]}
        html = recovery.get_data(as_text=True)
        assert 'name="RecoveryCode"' in html and "Recovery code" in html
        assert "cannot complete this login" not in html
        # From here, back to the security key is not offered (it leads nowhere here).
        assert 'value="webauthn"' not in html and 'value="totp"' in html


def test_webauthn_alone_is_a_notice_and_a_link_with_no_form(client):
    answer = copy.deepcopy(captured("mwmaster_clientlogin_ui_webauthn"))
    answer["clientlogin"]["requests"] = answer["clientlogin"]["requests"][:1]  # one module only
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json=answer)
        html = log_in(client).get_data(as_text=True)
    assert "cannot complete this login" in html and WIKI_LOGIN in html
    assert "choose another way" not in html and '<form method="post" action="/login' not in html
    assert "Start over" in html


# --- FAILs that no retry here can fix, and the table they come from -------------------------

@pytest.mark.parametrize("name,title,words", [
    # The FAIL status of oathauth-2fa-required-nologin is a GUESS (NEWER_SHAPES.md): the
    # message exists in OATHAuth master, the code returning it was not found; its $1 is unknown.
    ("mwmaster_clientlogin_fail_2fa_required", "This wiki requires two-factor authentication",
     "Because you do not have 2FA enabled, you cannot log in."),
    ("mwmaster_clientlogin_fail_recovery_codes_expired", "Your recovery codes have expired",
     "To regain access to your account, please contact the site administrator."),
])
def test_a_fail_no_retry_fixes_is_a_page_that_says_what_to_do(client, name, title, words):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json=captured(name))
        answer = log_in(client)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 403
        assert f"<h1>{title}</h1>" in html and words in html
        assert WIKI_LOGIN in html and "Log in on the wiki" in html
        assert 'name="password"' not in html  # not the password form again
        with client.session_transaction() as s:
            assert "flow" not in s  # the flow ended
    assert FAIL_ANSWERS[captured(name)["clientlogin"]["messagecode"]].form_again is False


def test_a_new_fail_messagecode_is_one_entry(client, monkeypatch):
    monkeypatch.setitem(FAIL_ANSWERS, "wiki-closed-for-lunch", FailAnswer(
        form_again=False, title="Closed for lunch", own_words="Come back at two."))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json={"clientlogin": {"status": "FAIL", "messagecode": "wiki-closed-for-lunch",
                                             "message": "The wiki is at lunch."}})
        html = log_in(client).get_data(as_text=True)
    assert "<h1>Closed for lunch</h1>" in html and "The wiki is at lunch." in html and "Come back at two." in html


# --- ConfirmEdit: widget captchas, and captcha-login-required ---------------------------------

@pytest.mark.parametrize("name,widget", [
    ("mwmaster_authmanagerinfo_login_hcaptcha", "hCaptcha"),
    # Turnstile's English label and help are a GUESS (NEWER_SHAPES.md); the shape is not.
    ("mwmaster_authmanagerinfo_login_turnstile", "Cloudflare Turnstile"),
])
def test_widget_captcha_says_it_works_only_on_the_wiki_and_links_it(client, name, widget):
    fields = info(name)
    captcha = next(r for r in fields.requests if r.id == "CaptchaAuthenticationRequest")
    assert captcha.only_on_wiki == "captcha-widget" and captcha.metadata["key"]
    assert [f.name for f in captcha.fields] == ["captchaWord"]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps, name)
        page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"asks for a captcha ({widget}) that works only on its own login page" in html
    assert WIKI_LOGIN in html
    # No empty captcha box, no form that can only fail; nothing of the widget's hosts.
    assert 'name="captchaWord"' not in html and 'name="password"' not in html
    assert captcha.metadata["key"] not in html
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "hcaptcha.com" not in CONTENT_SECURITY_POLICY and "cloudflare" not in CONTENT_SECURITY_POLICY


def test_recaptcha_is_a_widget_captcha_too(client):
    # No file of its own: ReCaptchaNoCaptcha's request is hCaptcha's shape with its own
    # metadata (NEWER_SHAPES.md, "reCAPTCHA (for comparison, not written as a file)").
    fields = copy.deepcopy(captured("mwmaster_authmanagerinfo_login_hcaptcha"))
    captcha = fields["query"]["authmanagerinfo"]["requests"][0]
    captcha["metadata"] = {"type": "recaptchanocaptcha", "mime": "application/javascript", "key": "6Lc-site-key"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps, fields)
        html = client.get("/login").get_data(as_text=True)
    assert "asks for a captcha (reCAPTCHA)" in html and WIKI_LOGIN in html and 'name="captchaWord"' not in html


def test_widget_captcha_on_account_creation_links_the_wikis_own_page(client):
    # The creation form with the hCaptcha request of the login capture put first, as
    # ConfirmEdit adds its request to account creation too (shape assumed the same).
    fields = copy.deepcopy(captured("authmanagerinfo_create_plain"))
    hcaptcha = captured("mwmaster_authmanagerinfo_login_hcaptcha")["query"]["authmanagerinfo"]["requests"][0]
    fields["query"]["authmanagerinfo"]["requests"].insert(0, hcaptcha)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(API, json=fields, match=[matchers.query_param_matcher(  # before mock_read_side's: first used
            {"meta": "tokens|authmanagerinfo", "type": "createaccount"}, strict_match=False)])
        mock_read_side(rsps)
        html = client.get("/create").get_data(as_text=True)
    assert "asks for a captcha (hCaptcha) that works only on its own account creation page" in html
    assert 'href="http://wiki.invalid/wiki/Special:CreateAccount">Create account on the wiki instead' in html
    assert 'name="captchaWord"' not in html and 'name="password"' not in html


def test_a_passkey_beside_the_password_is_left_out_and_the_password_form_stays(client):
    # Synthesised, not a file: OATHAuth master may put a WebAuthnAuthenticationRequest
    # among the first form's primary providers (passwordless login, NEWER_SHAPES.md
    # "Passkeys"); its exact fields were not captured.
    fields = copy.deepcopy(captured("authmanagerinfo_login_plain"))
    fields["query"]["authmanagerinfo"]["requests"].append({
        "id": "MediaWiki\\Extension\\OATHAuth\\Auth\\WebAuthnAuthenticationRequest", "required": "primary-required",
        "provider": "Passkey", "account": "", "metadata": {},
        "fields": {"auth_info": {"type": "hidden", "value": "{}", "label": "Authentication data", "help": ""},
                   "credential": {"type": "hidden", "value": "", "label": "User credential", "help": ""},
                   "passwordlessButton": {"type": "button", "label": "Log in with a passkey", "help": ""}}})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps, fields)
        html = client.get("/login").get_data(as_text=True)
    assert "passkeys work only on the wiki's own login page" in html
    assert "Your account uses a security key" not in html
    assert 'name="password"' in html and f'name="{SUBMIT}"' in html
    assert "Log in with a passkey" not in html and 'name="auth_info"' not in html


def test_question_captcha_is_still_answered_here(ctx):
    captcha = next(r for r in info("authmanagerinfo_login_captcha").requests if r.id == "CaptchaAuthenticationRequest")
    assert captcha.only_on_wiki == ""


@pytest.mark.parametrize("name,words", [
    # The English text of captcha-login-required is a GUESS (NEWER_SHAPES.md): invented.
    ("mwmaster_clientlogin_fail_captcha_login_required", "Please solve the CAPTCHA to log in."),
    # Without a message (loginmessageformat=none: faithful to the source), our own words.
    ("mwmaster_clientlogin_fail_captcha_login_required.msgformat_none", "Please answer the captcha below to log in."),
])
def test_captcha_login_required_is_a_captcha_prompt_not_a_wrong_password(client, name, words):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        page = client.get("/login").get_data(as_text=True)
        assert 'name="captchaWord"' not in page
        # Between the form and its POST the wiki began to want a captcha (three bad logins):
        # a second match is answered once the first was (responses' order).
        rsps.get(API, json=captured("authmanagerinfo_login_captcha"), match=[
            matchers.query_param_matcher({"meta": "tokens|authmanagerinfo", "type": "login"}, strict_match=False)])
        rsps.post(API, json=captured(name))
        answer = client.post("/login", data={"csrf_token": page_csrf(page), "username": "Alice",
                                             "password": "pw", SUBMIT: "Log in"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert words in html and "cdx-message--notice" in html and "cdx-message--error" not in html
    assert 'name="captchaWord"' in html and "6 times 7" in html
    assert 'value="Alice"' in html  # the username is kept, as after any failure


# --- EmailAuth --------------------------------------------------------------------------------

def test_emailauth_step_its_messages_and_its_code_hints(client):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json=captured("mwmaster_clientlogin_ui_emailauth"))
        again = rsps.post(API, json=captured("mwmaster_clientlogin_ui_emailauth_wrong_code"))
        rsps.post(API, json=captured("mwmaster_clientlogin_fail_emailauth_retry_limit"))
        html = log_in(client).get_data(as_text=True)
        assert "A verification code has been sent to your email address (c***@***.***)" in html
        assert "cdx-message--notice" in html and "Verification code" in html
        token = input_tag(html, "token")
        assert 'autocomplete="one-time-code"' in token and "required" in token
        wrong = client.post("/login", data={"csrf_token": page_csrf(html), "token": "111111", SUBMIT: "Continue"})
        assert body(again.calls[0])["token"] == ["111111"]
        html = wrong.get_data(as_text=True)
        assert "Invalid verification code!" in html and "cdx-message--error" in html
        limit = client.post("/login", data={"csrf_token": page_csrf(html), "token": "222222", SUBMIT: "Continue"})
    html = limit.get_data(as_text=True)
    # The login starts again: the password form, the wiki's message and what to do.
    assert "Too many failures!" in html and "the wiki will send you a new verification code" in html
    assert 'name="password"' in html and 'name="token"' not in html and 'value="Carol"' in html


# --- Temporary accounts -----------------------------------------------------------------------

def test_userinfo_of_a_temporary_account():
    temp = UserInfo.from_api(captured("mwmaster_userinfo_temp")["query"]["userinfo"])
    assert temp.name == "~2025-31207-12" and temp.id == 42
    assert temp.temporary and not temp.anonymous and not temp.logged_in
    named = UserInfo.from_api({"id": 7, "name": "Alice"})
    assert named.logged_in and not named.temporary


def test_siteinfo_autocreatetempuser_shapes():
    enabled = TempAccounts.from_api(captured("mwmaster_siteinfo_autocreatetempuser")["query"]["autocreatetempuser"])
    assert enabled.enabled and enabled.match_patterns == ("~$1",)
    assert enabled.is_temporary_name("~2025-31207-12") and not enabled.is_temporary_name("Alice")
    assert not enabled.is_temporary_name("~")
    disabled = TempAccounts.from_api(
        captured("mwmaster_siteinfo_autocreatetempuser_disabled")["query"]["autocreatetempuser"])
    assert not disabled.enabled and disabled.match_patterns == () and not disabled.is_temporary_name("~x")
    # The older shape (the whole configuration, one matchPattern string: NEWER_SHAPES.md).
    older = TempAccounts.from_api({"enabled": True, "actions": ["edit"], "genPattern": "*Unregistered $1",
                                   "matchPattern": "*$1", "serialProvider": {"type": "local"}})
    assert older.match_patterns == ("*$1",) and older.is_temporary_name("*Unregistered 12")
    assert TempAccounts.from_api(None) == TempAccounts()


def _newer_siteinfo(rsps, temp_answer: str) -> None:
    newer = copy.deepcopy(SITEINFO)
    newer["query"]["general"]["generator"] = "MediaWiki 1.46.0-wmf.3"
    rsps.get(API, json=captured(temp_answer), match=[matchers.query_param_matcher(
        {"meta": "siteinfo", "siprop": "autocreatetempuser"}, strict_match=False)])
    rsps.get(API, json=newer, match=[matchers.query_param_matcher(
        {"meta": "siteinfo", "siprop": "general|languages|namespaces|namespacealiases|specialpagealiases"}, strict_match=False)])


def test_siteinfo_asks_newer_wikis_about_temporary_accounts(make_app):
    app = make_app(type("W", (), {"api_url": API})())
    with responses.RequestsMock() as rsps:
        _newer_siteinfo(rsps, "mwmaster_siteinfo_autocreatetempuser")
        site = app.extensions["wiki"].siteinfo()
    assert site.temp_accounts.enabled and site.temp_accounts.match_patterns == ("~$1",)


def test_siteinfo_does_not_ask_an_lts_1_39_about_temporary_accounts(make_app):
    app = make_app(type("W", (), {"api_url": API})())
    with responses.RequestsMock() as rsps:  # any other call would fail: not registered
        rsps.get(API, json=SITEINFO, match=[matchers.query_param_matcher(
            {"meta": "siteinfo", "siprop": "general|languages|namespaces|namespacealiases|specialpagealiases"}, strict_match=False)])
        site = app.extensions["wiki"].siteinfo()
    assert site.temp_accounts == TempAccounts()


def _logged_in(client, rsps):
    mock_read_side(rsps)
    rsps.post(API, json={"clientlogin": {"status": "PASS", "username": "Alice"}})
    assert log_in(client, username="Alice").status_code == 303


@pytest.mark.parametrize("userinfo", [
    captured("mwmaster_userinfo_temp")["query"]["userinfo"],
    # A wiki whose userinfo says no "temp" (older shapes): the name matches siteinfo's pattern.
    {"id": 42, "name": "~2025-31207-12"},
])
def test_a_temporary_account_is_not_a_logged_in_user_here(make_app, userinfo):
    client = make_app(type("W", (), {"api_url": API})()).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _newer_siteinfo(rsps, "mwmaster_siteinfo_autocreatetempuser")
        _logged_in(client, rsps)
        rsps.get(API, json={"query": {"userinfo": userinfo}},
                 match=[matchers.query_param_matcher({"meta": "userinfo"}, strict_match=False)])
        html = client.get("/").get_data(as_text=True)
    assert "Your session on the wiki has ended" in html and "You are not logged in." in html
    assert "Logged in as" not in html
    with client.session_transaction() as s:
        assert not s.get("user")


def test_a_named_user_stays_logged_in_on_a_wiki_with_temporary_accounts(make_app):
    client = make_app(type("W", (), {"api_url": API})()).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _newer_siteinfo(rsps, "mwmaster_siteinfo_autocreatetempuser")
        _logged_in(client, rsps)
        rsps.get(API, json={"query": {"userinfo": {"id": 7, "name": "Alice", "groups": ["*", "user"],
                                                   "rights": ["read", "edit"]}}},
                 match=[matchers.query_param_matcher({"meta": "userinfo"}, strict_match=False)])
        html = client.get("/").get_data(as_text=True)
    assert "Logged in as" in html and "Alice" in html


def test_api_keeps_assert_user_so_no_call_runs_as_a_temporary_account(make_app):
    # A temporary account passes assert=user (NEWER_SHAPES.md: ApiMain::checkAsserts) but
    # is only ever made by an anonymous edit, which assert=user refuses: the app's wiki
    # session is a named user's or fails.
    client = make_app(type("W", (), {"api_url": API})()).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _logged_in(client, rsps)
        call = rsps.get(API, json={"batchcomplete": True}, match=[matchers.query_param_matcher(
            {"action": "edit"}, strict_match=False)])
        client.get("/api?action=edit&title=Sandbox&assert=anon", headers={"Sec-Fetch-Site": "same-origin"})
    sent = parse_qs(urlsplit(call.calls[0].request.url).query)
    assert sent["assert"] == ["user"]


# --- the kinds the new shapes brought ----------------------------------------------------------

def test_the_choice_kind_and_the_button_kinds_name_macros_that_exist(make_app):
    app = make_app(type("W", (), {"api_url": API})())
    with app.app_context():
        module = app.jinja_env.get_template("_fields.html").module
    for kind in [CHOICE_KIND, *FIELD_KINDS.values()]:
        assert callable(getattr(module, kind.macro))
        if kind.is_button:
            assert callable(getattr(module, kind.button_macro))
