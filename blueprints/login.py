"""Routes of the login flow: the form, its steps, the identity provider's callback."""
from __future__ import annotations

from urllib.parse import urlsplit

import urllib3

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask import Response as FlaskResponse
from flask_babel import gettext as _

from auth import flow as login_flow, wiki_session
from auth.callback import provider_params
from auth.csrf import csrf
from auth.state import (ACTIONS, ActionUnavailable, Flow, Seed, existing_account_seed, expired_seed,
                        fresh_seed, linked_account_seed, stays_on_screen)
from auth.pages import message_page, wiki_error_page
from auth.urls import safe_returnto
from auth.wiki_html import image_signature_ok
from auth.words import msg_text
from wiki import SiteInfo, WikiError

bp = Blueprint("login", __name__)

MAX_IMAGE_BYTES = 1024 * 1024
RASTER_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def start_or_error(action: str, seed: Seed = Seed()):
    """A fresh flow rendered, or a clear page if the wiki cannot be asked."""
    try:
        flow = login_flow.start(action, wiki_session.wiki_client(), seed)
    except WikiError as exc:
        retry = request.full_path if request.method == "GET" else url_for(ACTIONS[action].form_endpoint)
        return wiki_error_page(exc, retry)
    return login_flow.render_flow(flow)


def form_page(action: str):
    flow = Flow.load(action)
    # "Start over" is our own link: another site's link to it must not throw
    # away the step someone is at.
    restart = "restart" in request.args and request.headers.get("Sec-Fetch-Site") != "cross-site"
    if stays_on_screen(flow, restart=restart):
        return login_flow.render_flow(flow)
    returnto = safe_returnto(request.args.get("returnto"))
    return start_or_error(action, fresh_seed(flow, returnto=returnto, restart=restart))


def form_post(action: str, formdata=None):
    """A step of ``action``'s flow as POSTed (``formdata``: what to read instead of the request's form)."""
    flow = Flow.load(action)
    if flow is None or not flow.awaits_form:
        # Expired or never started here: nothing is sent to the wiki; the form
        # comes back with what was typed, except secrets.
        return start_or_error(action, expired_seed(
            request.form.get("username", ""), returnto=safe_returnto(request.args.get("returnto"))))
    built = login_flow.step_form(flow, request.form if formdata is None else formdata)
    if built.refused():
        return login_flow.render_flow(flow, built, status=422)
    return login_flow.submit(flow, built)


@bp.app_errorhandler(ActionUnavailable)
def action_unavailable(exc: ActionUnavailable):
    """The wiki says nobody can log in (or create an account) here now: say so, ask for nothing."""
    Flow.clear()
    try:
        site: SiteInfo | None = wiki_session.wiki().siteinfo()
    except WikiError:
        site = None
    name = site.name if site else _("This wiki")
    if exc.action in ("login", "reauth"):
        title = _("Logging in is not possible right now")
        message = _("%(wiki)s does not accept logins through this app at the moment. Try logging in on the wiki "
                    "itself; if that does not work either, please tell the site's administrators.", wiki=name)
        retry = dict(retry_url=site.page_url("Special:UserLogin"), retry_label=_("Log in on the wiki")) if site else {}
    else:
        title = _("Accounts cannot be created here")
        message = _("%(wiki)s does not offer account creation. If you already have an account, log in; if you "
                    "need one, please ask the wiki's administrators.", wiki=name)
        retry = dict(retry_url=url_for("login.login"), retry_label=msg_text("login"))
    return message_page(title, message, status=403, **retry)


@bp.get("/login")
def login():
    """The login form, built from what the wiki asks for."""
    return form_page("login")


@bp.post("/login")
def login_post():
    """One step of the login: the first form or a continuation (captcha, two-factor code)."""
    return form_post("login")


@bp.get("/create")
def create():
    """The account creation form, built from what the wiki asks for."""
    return form_page("create")


@bp.post("/create")
def create_post():
    """One step of account creation (the same flow as login, another action)."""
    return form_post("create")


@bp.post("/create/linked")
def create_linked():
    """After RESTART: create a new account linked to the identity the provider vouched for."""
    flow = Flow.load("login")
    if flow is None or not flow.links_identity:
        return redirect(url_for("login.create"), code=303)
    return start_or_error("create", linked_account_seed(flow))


@bp.post("/login/existing-account")
def login_existing_account():
    """After RESTART: log in with an existing account, keeping the provider's identity.

    A RESTART while logging in again (REAUTH) logs in again as the session's user,
    with the identity kept: the wiki then offers to link it to that account.
    """
    flow = Flow.load("login", "create", "reauth")
    user = wiki_session.current_user()
    if flow is not None and flow.action == "reauth" and user:
        return start_or_error("reauth", existing_account_seed(flow, user))
    return start_or_error("login", existing_account_seed(flow if flow and flow.action != "reauth" else None))


@bp.route("/login/return", methods=["GET", "POST"])
@csrf.exempt  # the identity provider posts here; the one-time value protects it
def callback():
    """Where the identity provider sends the browser back (our ``loginreturnurl``)."""
    items = list(request.args.items(multi=True))
    if request.method == "POST":
        items += list(request.form.items(multi=True))
    given = next((v for k, v in items if k == "wlstate"), None)
    cookie_name = current_app.config["SESSION_COOKIE_NAME"]
    relayed = any(k == "wl_relayed" for k, _ in items)
    if request.method == "POST" and cookie_name not in request.cookies and not relayed:
        # A cross-site form POST carries no SameSite=Lax cookie: post the same
        # fields again from our own page, which does carry it (once: a browser
        # with no session at all would otherwise go round for ever).
        return render_template("relay.html", items=items, action=url_for("login.callback")), 200
    flow = login_flow.take_callback_flow(given)
    if flow is None:
        current_app.logger.warning("refused a login callback without a valid one-time value")
        return message_page(_("This login link is not valid any more"),
                            _("It was already used, has expired, or was started in another browser. "
                              "Nothing was sent to the wiki. Please start again."),
                            status=400, retry_url=url_for("login.login"), retry_label=_("Start again"))
    fields = provider_params(items, flow.api)
    if fields is None:
        Flow.clear(flow.callback)
        abort(413)
    # The provider's code is used at once and never stored.
    return login_flow.continue_from_callback(flow, fields)


@bp.get("/login/resume")
def resume():
    """The step a flow is at after the identity provider's callback (no call to the wiki)."""
    return login_flow.resume_page(Flow.load(*ACTIONS))


@bp.get("/login/wiki-image")
def wiki_image():
    """An image from the wiki (an image captcha), fetched with this user's own wiki cookies.

    Only addresses this app signed when it drew the wiki's HTML (see wiki_html).
    """
    src = request.args.get("src", "")
    parts = urlsplit(src)
    if not src.startswith("/") or src.startswith("//") or parts.scheme or parts.netloc:
        abort(404)
    if not image_signature_ok(src, request.args.get("sig", "")):
        abort(404)
    client = wiki_session.wiki_client(lang=False)
    try:
        # The wiki's own answer only (no redirects elsewhere), and no more than an image needs.
        with client.send("GET", url=client.wiki.origin + src, stream=True) as resp:
            content_type = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            # Raster images only: an SVG served from our origin could carry script.
            if resp.status != 200 or content_type not in RASTER_IMAGES:
                abort(404)
            body = resp.read(MAX_IMAGE_BYTES + 1, decode_content=True)
    except (WikiError, urllib3.exceptions.HTTPError):  # the latter: the body broke off
        abort(502)
    if len(body) > MAX_IMAGE_BYTES:
        abort(404)
    return FlaskResponse(body, content_type=content_type, headers={
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })
