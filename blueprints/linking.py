"""Routes for linked accounts and removable credentials: the lists, linking another, unlinking, removing."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for

from auth import credentials, linking, wiki_session
from auth.linking import REMOVALS
from auth.state import ACTIONS, ActionUnavailable, SecurityCheck
from blueprints import login as login_routes

bp = Blueprint("linking", __name__)


def _not_here():
    """Logged out: log in first and come back; a bot password's session: never (as for a credential change)."""
    if not wiki_session.current_user():
        return redirect(url_for("login.login", returnto=request.path), code=303)
    if wiki_session.via_bot_password():
        return credentials.bot_password_page()
    return None


@bp.app_errorhandler(SecurityCheck)
def security_check(exc: SecurityCheck):
    """The wiki wants a fresh login before this action (REAUTH), or never here (FAIL)."""
    form = url_for(ACTIONS[exc.action].form_endpoint)
    if request.endpoint == "login.callback":  # the provider's code must not stay in the address bar
        return redirect(form, code=303)
    returnto = request.full_path.rstrip("?") if request.method == "GET" else form
    return credentials.security_page(exc.status, returnto, what=str(REMOVALS["unlink"].sensitive))


@bp.get("/account/linked")
def linked():
    """The accounts elsewhere linked to this one, each with "Unlink"; "Link another account"."""
    return _not_here() or linking.list_page("unlink")


@bp.post("/account/linked")
def unlink():
    return _not_here() or linking.send_removal("unlink", request.form.get("request", ""))


@bp.get("/account/remove")
def remove():
    """The credentials the wiki lets this user remove (amirequestsfor=remove), each with "Remove"."""
    return _not_here() or linking.list_page("remove")


@bp.post("/account/remove")
def remove_post():
    return _not_here() or linking.send_removal("remove", request.form.get("request", ""))


@bp.get("/account/link")
def link():
    """Link another account: the wiki's linking providers' buttons (the link flow's first form)."""
    try:
        return _not_here() or login_routes.form_page("link")
    except ActionUnavailable:
        return linking.cannot_link_page()


@bp.post("/account/link")
def link_post():
    """A step of linking: a provider's button (then its REDIRECT and the callback), or a UI step."""
    return _not_here() or login_routes.form_post("link")
