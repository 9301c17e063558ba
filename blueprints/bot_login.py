"""The "Log in with a bot password" page: a Flask-WTF form around ``wiki.bot_login``.

Each way the login can end has exactly one message (``MESSAGES``), written so
the person knows what to do next.  Its own blueprint: ``/bot-login``,
endpoint ``bot.login``.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from wiki import WikiError
from wiki.bot_login import BotLoginCode, BotLoginResult, bot_login

from auth import wiki_session
from auth.pages import describe_wiki_error, error_status
from auth.urls import safe_returnto
from auth.words import msg_text

log = logging.getLogger("wiki_login.auth")
bp = Blueprint("bot", __name__)


NAME_MISSING = _l("Please fill in the bot user name, like Alice@mybot.")
BOTH_MISSING = _l("Please fill in the bot user name (like Alice@mybot) and the bot password.")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class BotLoginForm(FlaskForm):
    """User name (``Alice@mybot``) and bot password; CSRF from Flask-WTF."""

    # Stripped, then required: a name of only spaces is no name (bot_login refuses it).
    username = StringField(
        _l("Bot user name"),
        filters=[_strip],
        validators=[DataRequired(NAME_MISSING), Length(max=255)],
        render_kw={"autocomplete": "username", "autocapitalize": "off", "spellcheck": "false",
                   "placeholder": "Alice@mybot"},
    )
    password = PasswordField(
        _l("Bot password"),
        validators=[InputRequired(_l("Please fill in the bot password.")), Length(max=2048)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The wiki's own word for its login button, as text (escaped where it is drawn).
        self.submit.label.text = msg_text("pt-login-button")


# --- one message for each way it can end ---------------------------------------------------

def _link(url: str, label: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, label) if url else escape(label)


def _failed(result: BotLoginResult, links: dict[str, Markup]) -> Markup:
    if result.reason_code == "sessionlost":
        return Markup(_("The wiki lost track of this login attempt (its session cookie did not come "
                        "back), so nothing was checked. Please try again; if it keeps happening, tell "
                        "the site's administrators."))
    if result.reason:
        return Markup(_(
            "The wiki did not accept this bot user name and password. The wiki said: “%(reason)s” Check both on "
            "%(page)s. The password is the one shown once when the bot password was made, not your account's "
            "own password.")) % {"reason": result.reason, "page": links["botpasswords"]}
    return Markup(_(
        "The wiki did not accept this bot user name and password. Check both on %(page)s. The password is "
        "the one shown once when the bot password was made, not your account's own password."
    )) % {"page": links["botpasswords"]}


def _throttled(result: BotLoginResult, links: dict[str, Markup]) -> Markup:
    if result.wait_seconds:
        minutes = max(1, round(result.wait_seconds / 60))
        wait = ngettext("about %(num)d minute", "about %(num)d minutes", minutes)
    else:
        wait = _("a few minutes")
    if result.reason:
        return Markup(_("There were too many failed logins for this account, so the wiki is not checking "
                        "passwords for it just now. Please wait %(wait)s and try again. (The wiki said: "
                        "“%(reason)s”)")) % {"wait": wait, "reason": result.reason}
    return Markup(_("There were too many failed logins for this account, so the wiki is not checking "
                    "passwords for it just now. Please wait %(wait)s and try again.")) % {"wait": wait}


def _aborted(result: BotLoginResult, links: dict[str, Markup]) -> Markup:
    if result.reason_code and not result.reason_code.startswith("api-login-fail-aborted"):
        return Markup(_("The wiki would not log in this way: “%(reason)s”")) % {
            "reason": result.reason or result.reason_code}
    return Markup(_(
        "That looks like your account's own password, not a bot password. Your account needs more "
        "than a password to log in (such as a two-factor code), which a bot-password login cannot ask "
        "for. Use the %(login)s, or make a bot password on %(page)s and use that here."
    )) % {"login": links["login"], "page": links["botpasswords"]}


def _main_account(result: BotLoginResult, links: dict[str, Markup]) -> Markup:
    return Markup(_(
        "That was your account's own password. This page logs in with bot passwords only, which "
        "carry just the rights you granted the bot, so you were not logged in. To use your own "
        "password, use the %(login)s."
    )) % {"login": links["login"]}


def _token_trouble(result: BotLoginResult, links: dict[str, Markup]) -> Markup:
    return Markup(_("The wiki refused its own login token twice in a row, so the login could not be "
                    "completed. Please try again in a moment; if it keeps happening, tell the wiki's "
                    "administrators (its session storage may not be working)."))


MESSAGES: dict[BotLoginCode, Callable[[BotLoginResult, dict[str, Markup]], Markup]] = {
    BotLoginCode.FAILED: _failed,
    BotLoginCode.THROTTLED: _throttled,
    BotLoginCode.ABORTED: _aborted,
    BotLoginCode.MAIN_ACCOUNT: _main_account,
    BotLoginCode.WRONG_TOKEN: _token_trouble,
    BotLoginCode.NEED_TOKEN: _token_trouble,
}


# --- the page ---------------------------------------------------------------------------------

@bp.route("/bot-login", methods=["GET", "POST"])
def login():
    """GET: the form. POST: log in with the bot password; on success, home (or ``returnto``)."""
    form = BotLoginForm()
    returnto = safe_returnto(request.args.get("returnto"))
    error: Markup | str = ""
    status = 200
    if form.validate_on_submit():
        client = wiki_session.wiki().client(forwarded_for=wiki_session.client_address())
        began = time.monotonic()
        try:
            result = bot_login(client, form.username.data, form.password.data)
        except WikiError as exc:
            error, status = describe_wiki_error(exc), error_status(exc)
        except ValueError:  # an empty name or password, which the form should have caught
            error, status = str(BOTH_MISSING), 422
        else:
            log.info("auth action=botlogin result=%s user=%s reason=%s client=%s duration_ms=%d",
                     result.code.value, form.username.data, result.reason_code or "-",
                     request.remote_addr or "-", (time.monotonic() - began) * 1000)
            if result.ok:
                wiki_session.start_user_session(result.username, client, bot_password=True)
                return redirect(returnto or url_for("account.home"), code=303)
            error = MESSAGES[result.code](result, _links(returnto))
    elif form.is_submitted():
        status = 422
    return render_template("bot_login.html", form=form, error=error, returnto=returnto,
                           botpasswords_url=_botpasswords_url(), user=wiki_session.current_user()), status


def _links(returnto: str) -> dict[str, Markup]:
    login_url = url_for("login.login", returnto=returnto) if returnto else url_for("login.login")
    return {
        "login": _link(login_url, _("normal login")),
        "botpasswords": _link(_botpasswords_url(), "Special:BotPasswords"),
    }


def _botpasswords_url() -> str:
    try:
        return wiki_session.wiki().siteinfo().page_url("Special:BotPasswords")
    except WikiError:
        return ""
