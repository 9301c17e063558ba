"""Home and logout: who this browser is on the wiki, and how to stop being them.

The bot-password login (``bot_login.py``) hangs its page on this blueprint too.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from wiki import NotLoggedIn, WikiError
from wiki.client import UserInfo

from . import bot_login, wiki_session
from .csrf import csrf
from .login_flow import describe_wiki_error

bp = Blueprint("account", __name__)
bp.add_url_rule("/bot-login", "bot_login", bot_login.page, methods=["GET", "POST"])

# Rights worth naming on the home page, in this order (the full list is one click away).
NOTABLE_RIGHTS = {
    "edit": "edit pages",
    "createpage": "create pages",
    "move": "move pages",
    "upload": "upload files",
    "delete": "delete pages",
    "protect": "protect pages",
    "block": "block users",
    "editinterface": "edit the interface",
    "userrights": "change user groups",
}



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
            info = UserInfo.from_api(client.userinfo(props="groups|rights|editcount"))
        except WikiError as exc:
            problem = describe_wiki_error(exc)
        else:
            wiki_session.save_cookies(client)
            if info.anonymous:
                # The wiki no longer knows this session: say so rather than pretend.
                wiki_session.end_user_session()
                user, info, session_ended = None, None, True
    return render_template(
        "home.html",
        user=user,
        info=info,
        notable_rights=[label for right, label in NOTABLE_RIGHTS.items() if info and right in info.rights],
        problem=problem,
        session_ended=session_ended,
        logged_out="logged_out" in request.args and not user,
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
    """Log out on the wiki, then destroy this browser's session whatever the wiki said."""
    user = wiki_session.current_user()
    if not user:
        wiki_session.end_user_session()  # a half-finished login, if any, goes too
        return redirect(url_for("account.home", logged_out=1), code=303)
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        # Another site, or a form from an old session: ask rather than act.
        return render_template("logout.html", user=user, refused=True), 400
    problem = _log_out_on_wiki()
    wiki_session.end_user_session()
    if problem:
        return render_template(
            "message.html",
            title="You are logged out here",
            message="This app has forgotten your session, but the wiki could not be told: "
                    f"{problem} Your wiki session will expire on its own.",
            retry_url=url_for("account.home"),
            retry_label="Home",
            status=200,
        ), 200
    return redirect(url_for("account.home", logged_out=1), code=303)


def _log_out_on_wiki() -> str:
    """``action=logout`` with the user's csrf token; what went wrong, for a person, or ""."""
    client = wiki_session.wiki_client(lang=False)
    try:
        # assert=user: an expired wiki session would otherwise hand out an
        # anonymous token and "log out" an anonymous visitor.
        data = client.get(action="query", meta="tokens", type="csrf", **{"assert": "user"})
        client.post(action="logout", token=data["query"]["tokens"]["csrftoken"])
    except NotLoggedIn:
        return ""  # the wiki had already forgotten the session: that is logged out too
    except WikiError as exc:
        return describe_wiki_error(exc)
    except (KeyError, TypeError):
        return "The wiki's answer had no token."
    return ""
