"""Forgotten and changed credentials: the forms and what the wiki answers, with the login's field machinery.

Neither is a multi-step flow (see ``wiki.credentials``), so nothing lives in
the session between requests: each page asks the wiki afresh.
- A password reset's form is one request of our own making (user name and/or
  e-mail address, as the wiki's routes allow), drawn by ``auth.fields`` like
  any of the wiki's; the wiki's answer is shown as it is, and ``success``
  says no more than the wiki does about whether the account exists.
- A credential change shows the fields of the request the user chose from
  ``amirequestsfor=change`` and sends them to ``changeauthenticationdata``.
  AuthManager's security status (``ChangeCredentials``) decides first: REAUTH
  sends the user to log in again and back, FAIL gets a page saying why.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from wiki import (AUTH_ACTIONS, CHANGE_CREDENTIALS, AuthField, AuthInfo, AuthRequest, ReauthImpossible,
                  ReauthRequired, ResetRoutes, SecurityStatus, WikiAPIError, WikiClient, WikiError)
from wiki.authn import REQUIRED
from wiki.credentials import security_status

from . import wiki_session
from .fields import BuiltForm, build_form, kind_of
from .pages import describe_wiki_error, error_status, message_page
from .wiki_html import plain_text
from .words import msg, msg_text

log = logging.getLogger("wiki_login.auth")

RESET_REQUEST_ID = "wl-password-reset"
CHANGE = AUTH_ACTIONS["change"]


# --- forgot your password -------------------------------------------------------------

def reset_request(routes: ResetRoutes) -> AuthRequest:
    """The reset form as one authentication request: its fields are the routes the wiki takes."""
    either = routes.username and routes.email  # then one of the two is enough
    fields = []
    if routes.username:
        fields.append(AuthField("username", "string", label=str(msg("userlogin-yourname")), optional=either))
    if routes.email:
        # The wiki's fields are HTML: the app's words are escaped into it.
        fields.append(AuthField("email", "string", label=str(escape(_("Email address"))), optional=either,
                                help=str(escape(_("The address saved in your account's preferences.")))
                                if either else ""))
    return AuthRequest(id=RESET_REQUEST_ID, required=REQUIRED, fields=tuple(fields))


def reset_form(routes: ResetRoutes, formdata: Any = None) -> BuiltForm:
    return build_form([reset_request(routes)], submit_label=msg_text("mailmypassword"), formdata=formdata)


def render_reset(routes: ResetRoutes, built: BuiltForm | None = None, *, error: str = "", status: int = 200):
    either = routes.username and routes.email
    if either:
        lead = _("Give your username or your account's email address (or both), and the wiki will email you a "
                 "temporary password.")
    elif routes.username:
        lead = _("Give your username, and the wiki will email you a temporary password.")
    else:
        lead = _("Give your account’s email address, and the wiki will email you a temporary password.")
    return render_template("credential_form.html", title=_("Reset your password"), lead=lead,
                           built=built or reset_form(routes), error=error,
                           action=url_for("credentials.reset_post"), kind="reset"), status


def send_reset(routes: ResetRoutes, built: BuiltForm):
    """Ask the wiki to mail a temporary password; say what it said."""
    username = _text_of(built, "username")
    email = _text_of(built, "email")
    if not username and not email:
        for field in built.form.by_name.values():
            field.errors = list(field.errors) + [_("Please fill in your username or your email address.")]
        return render_reset(routes, built, status=422)
    began = time.monotonic()
    try:
        result = wiki_session.wiki_client().reset_password(username=username, email=email)
    except WikiAPIError as exc:
        _log("resetpassword", exc.code, username, began)
        return render_reset(routes, built, error=_refused(exc), status=400)
    except WikiError as exc:
        return render_reset(routes, built, error=describe_wiki_error(exc), status=error_status(exc))
    _log("resetpassword", result.status, username, began)
    return message_page(
        _("Check your email"),
        _("The wiki has taken your request. If what you gave matches an account with an email address, "
          "the wiki has sent a temporary password to that address. Log in with it, and the wiki will ask you "
          "to choose a new password. It can take a few minutes to arrive; look in your spam folder too."),
        retry_url=url_for("login.login"), retry_label=msg_text("login"))


# --- change a credential --------------------------------------------------------------

def change_info(client: WikiClient) -> tuple[str, AuthInfo]:
    """The change requests, a csrf token and whether this session may change credentials now: one request."""
    return client.auth_info(CHANGE, security_operation=CHANGE_CREDENTIALS)


def changeable(info: AuthInfo) -> list[AuthRequest]:
    """The requests a user can fill in (one with no input would change nothing)."""
    return [r for r in info.requests if any(kind_of(f).make is not None for f in r.fields)]


def request_title(req: AuthRequest) -> str:
    """"Change password" for the wiki's passwords, else the provider's name."""
    short_id = req.id.rsplit("\\", 1)[-1]
    if short_id == "PasswordAuthenticationRequest":
        return msg_text("changepassword")
    return _("Change %(credential)s", credential=plain_text(req.provider) or short_id)


def change_form(req: AuthRequest, formdata: Any = None) -> BuiltForm:
    return build_form([req], submit_label=_("Save"), formdata=formdata, new_password=True)


def render_change(req: AuthRequest, built: BuiltForm | None = None, *, error: str = "", status: int = 200):
    user = wiki_session.current_user()
    return render_template("credential_form.html", title=request_title(req),
                           lead=Markup(_("For your account <strong>%(user)s</strong>.")) % {"user": user},
                           built=built or change_form(req), error=error, kind="change",
                           action=url_for("credentials.change_post", request=req.id)), status


def render_choice(requests: list[AuthRequest]):
    """Several credentials can be changed: which one?"""
    return render_template("credential_choice.html", choices=[(r, request_title(r)) for r in requests]), 200


def security_page(status: SecurityStatus, returnto: str, *, what: str = ""):
    """REAUTH: log in again and come back; FAIL: why not. None when the change may go ahead.

    ``what``: the sentence that says what is security-sensitive (else: changing a password).
    """
    if status == SecurityStatus.REAUTH:
        return reauth_page(returnto, what=what)
    if status == SecurityStatus.FAIL:
        return fail_page()
    return None


def status_of(info: AuthInfo) -> SecurityStatus:
    return security_status(info.security_status)


def reauth_page(returnto: str, *, what: str = ""):
    user = wiki_session.current_user() or ""
    return message_page(
        _("Please log in again"),
        Markup(_("%(why)s Log in again as <strong>%(user)s</strong> to confirm it is you; you will come straight "
                 "back here.")) % {"why": what or _("Changing a password is a security-sensitive action, and you "
                                                    "logged in a while ago."), "user": user},
        retry_url=url_for("credentials.reauth", returnto=returnto), retry_label=_("Log in again"))


def bot_password_page():
    """A bot password's session: never offered a credential change (MediaWiki 1.39 would even make it)."""
    return message_page(
        _("Log in with your own password first"),
        _("You are logged in with a bot password, which is for tools, with only the rights granted to it. "
          "To change your account's password or other credentials, log in with your own password."),
        status=403, retry_url=url_for("login.login", returnto=url_for("credentials.change")),
        retry_label=msg_text("login"))


def fail_page():
    return message_page(
        _("This session cannot change credentials"),
        _("The wiki does not let this session change passwords or other credentials, and logging in again here "
          "would not change that (the session may come from another site). Change them on the wiki itself."),
        status=403, retry_url=wiki_session.wiki().siteinfo().page_url("Special:ChangeCredentials"),
        retry_label=_("Change credentials on the wiki"))


def send_change(req: AuthRequest, token: str, built: BuiltForm):
    """Post the change; the page for what the wiki said."""
    client = wiki_session.wiki_client()
    params = built.api_params()
    began = time.monotonic()
    user = wiki_session.current_user() or ""
    try:
        result, _token = client.change_credentials(CHANGE, token, req.id, params)
    except ReauthRequired:
        _log(CHANGE.module, "reauthenticate", user, began)
        return reauth_page(url_for("credentials.change", request=req.id))
    except ReauthImpossible:
        return fail_page()
    except WikiAPIError as exc:
        _log(CHANGE.module, exc.code, user, began)
        built.forget_secrets()
        return render_change(req, built, error=_refused(exc), status=400)
    except WikiError as exc:
        built.forget_secrets()
        return render_change(req, built, error=describe_wiki_error(exc), status=error_status(exc))
    finally:
        params.clear()  # no reference to the new password outlives this request
    _log(CHANGE.module, result.status, user, began)
    if req.id.rsplit("\\", 1)[-1] == "PasswordAuthenticationRequest":
        return message_page(_("Your password was changed"), _(
            "The wiki has saved your new password. You are still logged in; use it the next time you log in."))
    what = plain_text(req.provider)
    return message_page(_("Saved"), _(
        "The wiki has saved your new %(credential)s. You are still logged in; use it the next time you log in.",
        credential=what) if what else _(
        "The wiki has saved your new credential. You are still logged in; use it the next time you log in."))


# --- helpers --------------------------------------------------------------------------

def _text_of(built: BuiltForm, name: str) -> str:
    field = built.form.by_name.get(name)
    return field.data.strip() if field is not None and isinstance(field.data, str) else ""


def _refused(exc: WikiAPIError) -> str:
    return _("The wiki refused this: %(info)s", info=exc.info or exc.code)


def _log(action: str, status: str, user: str, began: float) -> None:
    """One line per request to the wiki: what, its answer, for whom. Never a password or an address."""
    log.info("credentials action=%s status=%s user=%s client=%s duration_ms=%d", action, status, user or "-",
             request.remote_addr or "-", (time.monotonic() - began) * 1000)
