"""Home and logout: who this browser is on the wiki, and how to stop being them."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from wiki import NotLoggedIn, WikiError

from . import wiki_session
from .login_flow import describe_wiki_error

bp = Blueprint("account", __name__)


@bp.get("/")
def home():
    """The wiki's name, and either "Log in" or who you are."""
    user = wiki_session.current_user()
    return render_template("home.html", user=user)


@bp.post("/logout")
def logout():
    """Log out on the wiki, then forget this browser's session whatever the wiki said."""
    user = wiki_session.current_user()
    problem = ""
    if user:
        client = wiki_session.wiki_client(lang=False)
        try:
            token = client.token("csrf")
            client.post(action="logout", token=token)
        except NotLoggedIn:
            pass  # the wiki had already forgotten the session: that is logged out too
        except WikiError as exc:
            problem = describe_wiki_error(exc)
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
    return redirect(url_for("account.home"), code=303)
