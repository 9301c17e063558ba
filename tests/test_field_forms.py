"""The field-to-form mapping, driven by real JSON captured from MediaWiki 1.39 (tests/data)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField

from app import create_app
from auth.field_kinds import FIELD_TYPES
from auth.fields import SUBMIT, build_form
from wiki.authn import AuthInfo, AuthRequest, AuthResult, merge_fields

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


def info(name: str) -> AuthInfo:
    return AuthInfo.from_api(load(name)["query"]["authmanagerinfo"])


def result(name: str) -> AuthResult:
    return AuthResult.from_api(load(name)["clientlogin"])


@pytest.fixture
def ctx(tmp_path):
    app = create_app({
        "WIKI_API_URL": "http://127.0.0.1:9/api.php",
        "SECRET_KEY": "unit-test-secret-key-0123456789",
        "SESSION_DIR": str(tmp_path),
        "WTF_CSRF_ENABLED": False,
    })
    with app.test_request_context("/login", method="POST"):
        yield


def form_for(requests, formdata=None, **kw):
    return build_form(list(requests), submit_label="Log in",
                      formdata=MultiDict(formdata) if formdata is not None else None, **kw)


@pytest.mark.parametrize("name", [
    "authmanagerinfo_login_plain", "authmanagerinfo_login_captcha", "authmanagerinfo_create_plain",
    "authmanagerinfo_login_idp",
])
def test_our_merge_is_mediawikis_merge(name):
    ours = {f.name: (f.type, f.optional, f.sensitive) for f in merge_fields(list(info(name).requests))}
    merged_path = DATA / f"{name}_merged.json"
    theirs = {n: (f["type"], f["optional"], f["sensitive"])
              for n, f in json.loads(merged_path.read_text())["query"]["authmanagerinfo"]["fields"].items()}
    assert ours == theirs


def test_string_password_checkbox_from_plain_login(ctx):
    built = form_for(info("authmanagerinfo_login_plain").requests)
    by = built.form.by_name
    assert isinstance(by["username"], StringField) and not isinstance(by["username"], PasswordField)
    assert isinstance(by["password"], PasswordField)
    assert isinstance(by["rememberMe"], BooleanField)
    assert by["username"].label.text == "Username"
    assert [v.auth.name for v in built.fields] == ["username", "password", "rememberMe"]
    assert {v.auth.name for v in built.fields if v.required} == {"username", "password"}
    assert built.has_default_submit and SUBMIT in built.form._fields.get("wl_submit").name


def test_hidden_and_null_fields_from_captcha(ctx):
    data = info("authmanagerinfo_login_captcha")
    built = form_for(data.requests)
    captcha = next(r for r in data.requests if r.id == "CaptchaAuthenticationRequest")
    hidden = next(f for f in captcha.fields if f.type == "hidden")
    assert isinstance(built.form.by_name["captchaId"], HiddenField)
    assert built.form.by_name["captchaId"].data == hidden.value
    null = next(v for v in built.fields if v.auth.type == "null")
    assert null.field is None and "6 times 7" in null.auth.value
    assert isinstance(built.form.by_name["captchaWord"], StringField)
    # Drawn like Special:UserLogin: credentials, then the captcha, then options.
    order = [v.auth.name for v in built.fields if v.auth.type != "hidden"]
    assert order.index("password") < order.index("captchaWord") < order.index("rememberMe")


def test_password_is_never_rendered_back(ctx):
    built = form_for(info("authmanagerinfo_login_plain").requests,
                     {"username": "Alice", "password": "s3cret-value", SUBMIT: "Log in"})
    assert "s3cret-value" not in built.form.by_name["password"]()
    assert built.kept_values() == {"username": "Alice"}


def test_checkbox_key_left_out_when_unchecked_and_present_when_checked(ctx):
    reqs = info("authmanagerinfo_login_plain").requests
    unchecked = form_for(reqs, {"username": "A", "password": "p", SUBMIT: "Log in"}).api_params()
    assert "rememberMe" not in unchecked
    checked = form_for(reqs, {"username": "A", "password": "p", "rememberMe": "y", SUBMIT: "x"}).api_params()
    assert checked["rememberMe"] == "1"


def test_hidden_value_is_the_wikis_not_the_browsers(ctx):
    data = info("authmanagerinfo_login_captcha")
    wiki_value = form_for(data.requests).form.by_name["captchaId"].data
    params = form_for(data.requests, {"captchaId": "forged", "captchaWord": "42", "username": "A",
                                      "password": "p", SUBMIT: "x"}).api_params()
    assert params["captchaId"] == wiki_value


def test_missing_required_field_is_a_field_error_not_a_wiki_call(ctx):
    built = form_for(info("authmanagerinfo_login_plain").requests, {"username": "Alice", SUBMIT: "x"})
    assert built.form.validate()
    assert built.missing_required()
    assert built.form.by_name["password"].errors


def test_two_factor_step_from_real_ui_response(ctx):
    ui = result("clientlogin_ui_oath")
    assert ui.status == "UI" and ui.messagecode
    built = build_form(list(ui.requests), submit_label="Continue", formdata=None)
    token = built.form.by_name["OATHToken"]
    assert isinstance(token, StringField) and not isinstance(token, PasswordField)
    rendered = token()
    assert "maxlength" not in rendered and "pattern" not in rendered
    assert 'autocomplete="one-time-code"' in rendered


def test_fail_and_wrong_code_messages_are_html():
    fail = result("clientlogin_fail_wrongpassword")
    assert fail.status == "FAIL" and fail.messagecode == "wrongpassword" and fail.message
    wrong = result("clientlogin_ui_oath_wrong_code")
    assert wrong.status == "UI" and wrong.messagecode == "oathauth-login-failed"


def test_create_account_fields_mark_new_passwords(ctx):
    built = form_for(info("authmanagerinfo_create_plain").requests, new_password=True)
    assert 'autocomplete="new-password"' in built.form.by_name["password"]()
    assert 'autocomplete="new-password"' in built.form.by_name["retype"]()
    assert built.form.by_name["email"].flags is not None


def test_button_from_real_provider_beside_passwords(ctx):
    data = info("authmanagerinfo_login_idp")
    built = form_for(data.requests)
    button = built.form.by_name["testidplogin"]
    assert isinstance(button, SubmitField) and button.label.text == "Log in with TestIdP"
    assert built.has_default_submit
    # The wiki's merged view calls username optional (the button is an alternative);
    # the plain submit still needs it, so it is marked required in the page.
    assert {v.auth.name for v in built.fields if v.required} == {"username", "password"}
    pressed = form_for(data.requests, {"testidplogin": "Log in with TestIdP", "username": "half-typed"})
    assert [r.id for r in pressed.chosen_requests() if r.required == "primary-required"] == [
        "MediaWiki\\Auth\\ButtonAuthenticationRequest:testidplogin"]
    assert not pressed.missing_required()
    params = pressed.api_params()
    assert params["testidplogin"] == "1" and "username" not in params and "password" not in params


def test_redirect_and_restart_from_real_provider():
    redirect = result("clientlogin_redirect_idp")
    assert redirect.status == "REDIRECT" and redirect.redirecttarget.startswith("http://127.0.0.1:")
    assert redirect.requests[0].provider == "TestIdP"
    restart = result("clientlogin_restart_idp")
    assert restart.status == "RESTART" and restart.canpreservestate
    assert restart.messagecode == "authmanager-authn-no-local-user-link"


def test_multiselect_from_real_confirm_link_step(ctx):
    ui = result("clientlogin_ui_confirm_link")
    built = build_form(list(ui.requests), submit_label="Continue",
                       formdata=MultiDict([("confirmedLinkIDs", ui.requests[0].fields[0].options[0][0]),
                                           (SUBMIT, "Continue")]))
    field = built.form.by_name["confirmedLinkIDs"]
    assert isinstance(field, SelectMultipleField)
    assert [o.label.text for o in field] == ["TestIdP (nobody)"]
    assert 'type="checkbox"' in str(list(field)[0]())
    assert built.form.validate()
    assert built.api_params()["confirmedLinkIDs[]"] == [
        "MediaWiki\\Extension\\TestIdP\\TestIdPIdentityRequest:nobody"]


# --- select: no provider of MediaWiki 1.39 or its bundled extensions uses it ---

def synthetic_requests() -> list[AuthRequest]:
    return [
        AuthRequest.from_api({
            "id": "MediaWiki\\Auth\\PasswordAuthenticationRequest", "required": "primary-required",
            "fields": {"username": {"type": "string", "label": "Username"},
                       "password": {"type": "password", "label": "Password", "sensitive": True}},
        }),
        AuthRequest.from_api({
            "id": "ButtonAuthenticationRequest:idplogin", "required": "primary-required",
            "provider": "IdP", "fields": {"idplogin": {"type": "button", "label": "Log in with IdP"}},
        }),
        AuthRequest.from_api({
            "id": "Profile", "required": "optional",
            "fields": {"team": {"type": "select", "label": "Team", "options": {"a": "Alpha", "b": "Beta"}},
                       "topics": {"type": "multiselect", "label": "Topics",
                                  "options": {"x": "X-ray", "y": "Yankee"}, "optional": True}},
        }),
    ]


def test_every_field_type_has_a_mapping():
    assert set(FIELD_TYPES) == {"string", "password", "hidden", "select", "multiselect", "checkbox", "button"}


def test_select_multiselect_button(ctx):
    built = form_for(synthetic_requests())
    by = built.form.by_name
    assert isinstance(by["team"], SelectField)
    assert [(c.value, c.label) for c in by["team"].choices] == [("a", "Alpha"), ("b", "Beta")]
    assert isinstance(by["topics"], SelectMultipleField)
    assert isinstance(by["idplogin"], SubmitField)
    assert built.has_default_submit  # the password provider has no button of its own


def test_pressed_button_chooses_its_request_only(ctx):
    built = form_for(synthetic_requests(), {"idplogin": "Log in with IdP", "team": "a"})
    assert built.form.validate()
    assert [r.id for r in built.chosen_requests()] == ["ButtonAuthenticationRequest:idplogin", "Profile"]
    assert not built.missing_required()  # the password is not needed for the IdP
    params = built.api_params()
    assert params["idplogin"] == "1" and "password" not in params


def test_default_submit_chooses_password_and_needs_its_fields(ctx):
    built = form_for(synthetic_requests(), {SUBMIT: "Log in", "team": "b", "topics": ["x", "y"]})
    built.form.validate()
    assert [r.id for r in built.chosen_requests()] == ["MediaWiki\\Auth\\PasswordAuthenticationRequest", "Profile"]
    assert built.missing_required()
    assert built.api_params()["topics[]"] == ["x", "y"]


def test_select_rejects_a_value_the_wiki_did_not_offer(ctx):
    built = form_for(synthetic_requests(), {SUBMIT: "x", "username": "A", "password": "p", "team": "zzz"})
    assert not built.form.validate()
    assert built.form.by_name["team"].errors


def test_only_buttons_hide_the_default_submit(ctx):
    only_button = [r for r in synthetic_requests() if "Button" in r.id]
    assert not form_for(only_button).has_default_submit


def test_one_form_class_per_set_of_fields_and_nothing_shared_between_users(ctx):
    reqs = info("authmanagerinfo_login_plain").requests
    alice = form_for(reqs, {"username": "Alice", "password": "a-secret", SUBMIT: "Log in"})
    missing = form_for(reqs, {"username": "Bob", SUBMIT: "Log in"})
    missing.missing_required()
    fresh = form_for(reqs)
    assert type(alice.form) is type(missing.form) is type(fresh.form)
    # Each form its own values and errors: nothing of Alice's or Bob's in a fresh form.
    assert fresh.form.by_name["username"].data in (None, "") and not fresh.form.by_name["password"].errors
    assert "Alice" not in fresh.form.by_name["username"]() and "Bob" not in fresh.form.by_name["username"]()
    assert alice.api_params()["username"] == "Alice" and missing.form.by_name["password"].errors
    # A captcha step (new fields: its question and id) gets a class of its own.
    captcha = form_for(info("authmanagerinfo_login_captcha").requests)
    assert type(captcha.form) is not type(fresh.form)
