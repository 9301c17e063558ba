"""Routes for credentials outside a login: forgot your password, change it, log in again first."""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from auth import credentials, flow as login_flow, wiki_session
from auth.pages import message_page, wiki_error_page
from auth.state import Flow, Seed, stays_on_screen
from blueprints import login as login_routes
from auth.urls import safe_returnto
from auth.words import msg_text
from wiki import AuthRequest, WikiError

bp = Blueprint("credentials", __name__)


def _no_resets():
    return message_page(_("Password reset is not available"),
                        _("This wiki does not reset passwords by email. Please ask the wiki's administrators."),
                        status=404, retry_url=url_for("login.login"), retry_label=msg_text("login"))


@bp.get("/password/reset")
def reset():
    """"Forgot your password?": a form for what the wiki's password reset takes."""
    routes = wiki_session.wiki().reset_routes()
    if not routes.any:
        return _no_resets()
    return credentials.render_reset(routes)


@bp.post("/password/reset")
def reset_post():
    routes = wiki_session.wiki().reset_routes()
    if not routes.any:
        return _no_resets()
    built = credentials.reset_form(routes, request.form)
    if built.refused():  # missing: the one field, when the wiki takes only one
        return credentials.render_reset(routes, built, status=422)
    return credentials.send_reset(routes, built)


def _login_first():
    return redirect(url_for("login.login", returnto=request.full_path.rstrip("?")), code=303)


def _chosen(requests: list[AuthRequest]) -> AuthRequest | None:
    wanted = request.args.get("request")
    if wanted:
        return next((r for r in requests if r.id == wanted), None)
    return requests[0] if len(requests) == 1 else None


def _change_page(post: bool):
    """The change form (GET) or its submission (POST): the wiki is asked first, each time."""
    if not wiki_session.current_user():
        return _login_first()
    if wiki_session.via_bot_password():
        return credentials.bot_password_page()
    client = wiki_session.wiki_client()
    try:
        token, info = credentials.change_info(client)
    except WikiError as exc:
        return wiki_error_page(exc, url_for("credentials.change", request=request.args.get("request")))
    blocked = credentials.security_page(credentials.status_of(info), request.full_path.rstrip("?"))
    if blocked is not None:
        return blocked
    requests = credentials.changeable(info)
    if not requests:
        site = wiki_session.wiki().siteinfo()
        return message_page(_("Nothing to change here"),
                            _("The wiki offers no password or other credential this account can change here."),
                            retry_url=site.page_url("Special:ChangeCredentials"), retry_label=_("Look on the wiki"))
    req = _chosen(requests)
    if req is None:
        if request.args.get("request"):
            return message_page(_("No such credential"), _("The wiki does not offer this change (any more)."),
                                status=404, retry_url=url_for("credentials.change"), retry_label=_("Choose again"))
        return credentials.render_choice(requests)
    if not post:
        return credentials.render_change(req)
    built = credentials.change_form(req, request.form)
    if built.refused():
        return credentials.render_change(req, built, status=422)
    return credentials.send_change(req, token, built)


@bp.get("/account/credentials")
def change():
    """Change password (or another credential the wiki lets this user change)."""
    return _change_page(post=False)


@bp.post("/account/credentials")
def change_post():
    return _change_page(post=True)


@bp.get("/account/reauth")
def reauth():
    """Log in again as the same user (the name fixed), then back to where they were (``returnto``)."""
    user = wiki_session.current_user()
    returnto = safe_returnto(request.args.get("returnto")) or url_for("credentials.change")
    if not user:
        return redirect(url_for("login.login", returnto=returnto), code=303)
    flow = Flow.load("reauth")
    if stays_on_screen(flow, restart="restart" in request.args):  # a two-factor step, reloaded
        return login_flow.render_flow(flow)
    return login_routes.start_or_error("reauth", Seed(
        returnto=returnto, values={"username": user}, message_kind="notice",
        message=Markup(_("To confirm it is you, log in again as <strong>%(user)s</strong>.")) % {"user": user}))


@bp.post("/account/reauth")
def reauth_post():
    """A step of logging in again: the name sent is always this session's user, whatever came back."""
    user = wiki_session.current_user()
    if not user:
        return redirect(url_for("login.login"), code=303)
    formdata = request.form.copy()
    if "username" in formdata:  # the first step (a two-factor step names nobody)
        formdata["username"] = user
    return login_routes.form_post("reauth", formdata)
