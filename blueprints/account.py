"""Home and logout: who this browser is on the wiki, and how to stop being them."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, TimestampSigner
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from wiki import UserInfo, WikiError, WikiResponseError

from auth import wiki_session
from auth.csrf import csrf
from auth.pages import describe_wiki_error, message_page
from auth.words import wiki_msg

bp = Blueprint("account", __name__)

# How long the page a logout lands on says so (it is reached by a redirect at once).
LOGGED_OUT_NOTICE_SECONDS = 120

# Rights worth naming on the home page, in this order (the full list is one click away).
NOTABLE_RIGHTS = {
    "edit": _l("edit pages"),
    "createpage": _l("create pages"),
    "move": _l("move pages"),
    "upload": _l("upload files"),
    "delete": _l("delete pages"),
    "protect": _l("protect pages"),
    "block": _l("block users"),
    "editinterface": _l("edit the interface"),
    "userrights": _l("change user groups"),
}

# The wiki's own pages for what has no API, shown when the wiki has them (siteinfo's special pages).
WIKI_ACCOUNT_PAGES = {
    "OATHManage": _l("Two-factor authentication"),
    "ChangeEmail": _l("Change email address"),
    "BotPasswords": wiki_msg("botpasswords"),
    "Preferences": wiki_msg("mypreferences"),
}


def wiki_account_links() -> list[tuple[str, str]]:
    """(label, address on the wiki) of the account pages this wiki has; none if it cannot be asked."""
    try:
        site = wiki_session.wiki().siteinfo()
    except WikiError:
        return []
    return [(str(label), site.page_url(f"Special:{name}")) for name, label in WIKI_ACCOUNT_PAGES.items()
            if site.has_special_page(name)]


@bp.get("/")
def home():
    """The wiki's name, and either "Log in" or who you are on the wiki (name, groups, rights)."""
    user = wiki_session.current_user()
    info: UserInfo | None = None
    problem = ""
    session_ended = False
    if user:
        client = wiki_session.wiki_client()
        try:
            info = client.whoami(props="groups|rights|editcount")
        except WikiError as exc:
            problem = describe_wiki_error(exc)
        else:
            if not _a_wiki_user(info):
                # The wiki no longer knows this session (or it is a temporary account's,
                # which nobody logs in to): say so rather than pretend.
                wiki_session.end_user_session()
                user, info, session_ended = None, None, True
    return render_template(
        "home.html",
        user=user,
        info=info,
        notable_rights=[str(label) for right, label in NOTABLE_RIGHTS.items() if info and right in info.rights],
        problem=problem,
        session_ended=session_ended,
        account_links=wiki_account_links() if user else [],
        can_change_credentials=bool(user) and not wiki_session.via_bot_password(),
        # Asked (and cached) here too, so the login page this links to costs no extra request.
        reset_routes=None if user else wiki_session.wiki().reset_routes(),
        logged_out=not user and _really_logged_out(request.args.get("logged_out", "")),
    )


@bp.get("/logout")
def logout_confirm():
    """A "Log out?" button for whoever typed the address (logging out takes a POST)."""
    if not wiki_session.current_user():
        return redirect(url_for("account.home"), code=303)
    return render_template("logout.html", user=wiki_session.current_user()), 200


@bp.post("/logout")
@csrf.exempt  # checked below: a stale tab's "Log out" must not end on an error page
def logout():
    """Log out on the wiki, then destroy this browser's session whatever the wiki said.

    Only with this session's CSRF token: a POST from another site (which carries
    no SameSite=Lax cookie, or no token) changes nothing, sets no cookie and
    claims nothing.
    """
    if not session_cookie_sent():
        return redirect(url_for("account.home"), code=303)
    user = wiki_session.current_user()
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        if not user:
            # Nothing to log out of that this request may touch: a half-finished
            # login stays, and the page says nothing happened, because nothing did.
            return redirect(url_for("account.home"), code=303)
        # Another site, or a form from an old session: ask rather than act.
        return render_template("logout.html", user=user, refused=True), 400
    problem = _log_out_on_wiki() if user else ""
    wiki_session.end_user_session()
    if problem:
        return message_page(_("You are logged out here"),
                            _("This app has forgotten your session, but the wiki could not be told: "
                              "%(problem)s Your wiki session will expire on its own.", problem=problem),
                            retry_url=url_for("account.home"), retry_label=_("Home"))
    if not user:
        return redirect(url_for("account.home"), code=303)  # a half-finished login, if any, is gone
    return redirect(url_for("account.home", logged_out=_logged_out_mark()), code=303)


def _a_wiki_user(info: UserInfo) -> bool:
    """Whether the wiki says these cookies are someone logged in to a real account.

    A temporary account is registered (``assert=user`` passes) but is not a login:
    userinfo says ``temp`` (1.40+); older wikis' names match siteinfo's patterns.
    """
    if not info.logged_in:
        return False
    try:
        return not wiki_session.wiki().siteinfo().temp_accounts.is_temporary_name(info.name)
    except WikiError:
        return True


def session_cookie_sent() -> bool:
    """Whether the browser sent our session cookie (a cross-site POST does not: SameSite=Lax)."""
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def _logged_out_signer() -> TimestampSigner:
    return TimestampSigner(current_app.secret_key, salt="logged-out")


def _logged_out_mark() -> str:
    # Made only when a session was really ended, so "You are logged out" cannot
    # be shown by a link someone else made.
    return _logged_out_signer().sign("1").decode()


def _really_logged_out(mark: str) -> bool:
    if not mark:
        return False
    try:
        _logged_out_signer().unsign(mark, max_age=LOGGED_OUT_NOTICE_SECONDS)
    except BadSignature:
        return False
    return True


def _log_out_on_wiki() -> str:
    """``action=logout`` for this user's wiki session; what went wrong, for a person, or ""."""
    try:
        wiki_session.wiki_client(lang=False).logout()  # an already forgotten session is logged out too
    except WikiResponseError:
        return _("The wiki's answer had no token.")
    except WikiError as exc:
        return describe_wiki_error(exc)
    return ""
