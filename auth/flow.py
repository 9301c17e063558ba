"""One AuthManager flow (log in, or create an account), from the first form to PASS.

The data flows one way: the wiki describes fields -> we build a form -> the user
submits -> we post to the wiki -> the wiki answers a status -> ``HANDLERS`` renders
the next step or finishes.  Each status is handled in exactly one function.

What survives between requests is a ``Flow`` in the server-side session: the
wiki's field descriptions, its token, where to go afterwards and what the user
typed that is not secret.  Passwords and codes exist only while one request runs.
"""
from __future__ import annotations

import re
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from wiki import AUTH_ACTIONS, AuthAction, AuthRequest, AuthResult, WikiAPIError, WikiClient, WikiError
from wiki.authn import FAIL, PASS, PRIMARY_REQUIRED, REDIRECT, RESTART, UI

from . import callback as callback_state, wiki_session
from .fields import BuiltForm, build_form
from .wiki_html import plain_text

log = logging.getLogger("wiki_login.auth")

# Begin: the first form (fields from authmanagerinfo).  Continue: a UI step
# (two-factor code, ...).  Redirect: the browser is away at an identity provider.
# Restart: the provider vouched for someone the wiki does not know.
# Failed: the wiki could not be asked after a callback; shown once, then gone.
BEGIN, CONTINUE, AWAY, RESTARTED, FAILED = "begin", "continue", "redirect", "restart", "failed"

# The wiki says this when it no longer knows the flow (its session expired).
NOT_IN_PROGRESS = {"authmanager-authn-not-in-progress", "authmanager-create-not-in-progress"}

# API parameters a callback must never set, whatever an identity provider sends back.
RESERVED_PARAMS = {
    "action", "format", "formatversion", "uselang", "variant", "errorformat", "errorlang",
    "errorsuselocal", "assert", "assertuser", "maxlag", "smaxage", "maxage", "requestid",
    "servedby", "curtimestamp", "responselanginfo", "origin", "crossorigin", "centralauthtoken",
}
# Ours, never the provider's: the one-time value and the relay marker.
OUR_CALLBACK_PARAMS = {"wlstate", "wl_relayed"}
PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
MAX_CALLBACK_PARAMS = 40
MAX_CALLBACK_VALUE = 8192


@dataclass
class Flow:
    """A half-finished login or account creation, as kept in the session."""

    action: str  # "login" or "create"
    stage: str
    requests: list[dict[str, Any]]  # AuthRequest.to_api() of the step on screen
    token: str
    returnto: str = ""
    message: str = ""  # the wiki's HTML message for this step
    message_kind: str = "error"
    values: dict[str, Any] = field(default_factory=dict)  # never anything sensitive
    provider: str = ""
    preserve_state: bool = False
    can_preserve_state: bool = False
    provider_request: dict[str, Any] | None = None  # the provider button's request, to log in with later
    can_create_accounts: bool = False
    callback: str = ""  # the one-time value in this flow's return URL (see callback_state)
    updated: float = field(default_factory=time.time)  # idle flows expire (LOGIN_FLOW_TTL)

    @property
    def api(self) -> AuthAction:
        return AUTH_ACTIONS[self.action]

    @property
    def links_identity(self) -> bool:
        """After RESTART: the wiki keeps the provider's identity for the next attempt."""
        return self.stage == RESTARTED and self.can_preserve_state

    @property
    def auth_requests(self) -> list[AuthRequest]:
        return [AuthRequest.from_api(r) for r in self.requests]

    def save(self) -> None:
        self.updated = time.time()
        data = asdict(self)
        data["message"] = str(self.message)  # HTML as a plain str: the store keeps no Markup objects
        session[wiki_session.FLOW] = data

    @classmethod
    def load(cls, action: str) -> "Flow | None":
        """The flow in progress for ``action``, or None if there is none or it expired."""
        data = session.get(wiki_session.FLOW)
        if not isinstance(data, dict) or data.get("action") != action:
            return None
        return cls.from_stored(data)

    @classmethod
    def from_stored(cls, data: Any) -> "Flow | None":
        """A flow as ``save()`` stored it, or None if it is not one or has expired."""
        if not isinstance(data, dict) or data.get("action") not in AUTH_ACTIONS:
            return None
        try:
            flow = cls(**data)
        except TypeError:  # stored by an older version of the app
            return None
        if time.time() - flow.updated > current_app.config["LOGIN_FLOW_TTL"]:
            return None
        return flow

    @staticmethod
    def clear() -> None:
        session.pop(wiki_session.FLOW, None)


# --- pages for each action -----------------------------------------------------

class ActionUnavailable(Exception):
    """The wiki says this action cannot happen now (AuthManager's canAuthenticateNow,
    canCreateAccounts), before anyone types anything: Special:UserLogin's error pages."""

    def __init__(self, action: str):
        super().__init__(action)
        self.action = action


@dataclass(frozen=True)
class ActionPages:
    """What differs between logging in and creating an account: words and endpoints."""

    title: str
    preposition: str  # "Log in *to* the wiki", "Create account *on* the wiki"
    submit: str
    continue_submit: str
    form_endpoint: str
    new_password: bool


PAGES = {
    "login": ActionPages("Log in", "to", "Log in", "Continue", "login.login", False),
    "create": ActionPages("Create account", "on", "Create your account", "Continue", "login.create", True),
}


def start(action: str, client: WikiClient, *, returnto: str = "", values: dict[str, Any] | None = None,
          message: str = "", message_kind: str = "error", preserve_state: bool = False,
          can_preserve_state: bool = False, provider: str = "",
          provider_request: dict[str, Any] | None = None) -> Flow:
    """A new flow with the wiki's current fields and a token: one request to the wiki.

    Raises ``ActionUnavailable`` if the wiki says the action is not possible.
    """
    token, info = client.auth_info(AUTH_ACTIONS[action])
    wiki_session.save_cookies(client)
    if not (info.can_authenticate_now if action == "login" else info.can_create_accounts):
        raise ActionUnavailable(action)
    requests = list(info.requests)
    if preserve_state and not info.has_preserved_state:
        # The wiki forgets a provider's identity after any failed attempt.
        preserve_state = False
        lost = (f"The link to {escape(provider or 'your identity provider')} was lost with that attempt: "
                "start again with it to link it.")
        message = Markup(f"{message}<p>{lost}</p>") if message else lost
        message_kind = "warning"
    elif preserve_state and info.preserved_username:
        values = {**(values or {}), "username": info.preserved_username}
    if preserve_state and info.has_primary_preserved_state:
        # The identity the provider vouched for is the new account's credential:
        # no password or other primary provider is asked for.
        requests = [r for r in requests if r.required != PRIMARY_REQUIRED]
    flow = Flow(
        action=action,
        stage=BEGIN,
        requests=[r.to_api() for r in requests],
        token=token,
        returnto=returnto,
        values=values or {},
        message=message,
        message_kind=message_kind,
        preserve_state=preserve_state,
        can_preserve_state=can_preserve_state,
        can_create_accounts=info.can_create_accounts,
        provider=provider,
        provider_request=provider_request,
    )
    flow.save()
    return flow


def step_form(flow: Flow, formdata: Any = None) -> BuiltForm:
    """The form for the flow's current step: fresh (with kept values) or as POSTed."""
    pages = PAGES[flow.action]
    return build_form(
        flow.auth_requests,
        submit_label=pages.submit if flow.stage == BEGIN else pages.continue_submit,
        formdata=formdata,
        values=flow.values if formdata is None else None,
        new_password=pages.new_password,
    )


def render_flow(flow: Flow, built: BuiltForm | None = None, *, error: str = "", status: int = 200):
    """The page for the flow's current step."""
    pages = PAGES[flow.action]
    if built is None:
        built = step_form(flow)
    site = wiki_session.wiki().siteinfo()
    unsupported = [r for r in flow.auth_requests if _unsupported(r)]
    return render_template(
        "auth_form.html",
        flow=flow,
        pages=pages,
        built=built,
        error=error,
        unsupported=unsupported,
        wiki_login_url=site.page_url("Special:UserLogin"),
        user=wiki_session.current_user(),
    ), status


def submit(flow: Flow, built: BuiltForm) -> Response | tuple:
    """Send the user's form for this step to the wiki and handle what it says."""
    chosen = built.chosen_requests()
    params = built.api_params()
    pressed = built.pressed_button()
    req = next((r for r in chosen if r.has_button(pressed)), None) if pressed else None
    if req is not None and req.required == PRIMARY_REQUIRED:  # a provider's own button
        flow.provider = provider_name(req) or plain_text(req.button.label)
        if flow.action == "login":
            flow.provider_request = req.to_api()
    if flow.action == "create":
        # Kept for this request only, to log the new account in right after
        # the wiki creates it (the API does not, unlike Special:CreateAccount).
        password = built.form.by_name.get("password")
        g.new_account_password = password.data if password is not None else None
    if flow.stage == BEGIN:
        lasting = _lasting_field_names(built.requests)
        flow.values = {k: v for k, v in built.kept_values().items() if k in lasting}
    params[f"{flow.api.prefix}requests"] = "|".join(r.id for r in chosen)
    return send_step(flow, params)


def send_step(flow: Flow, params: dict[str, Any], *, from_callback: bool = False) -> Response | tuple:
    """Post one step (the first, or a continuation) and dispatch on the status.

    ``from_callback``: the step carries an identity provider's code, so the
    answer is always a redirect away from the callback URL; a page to show is
    shown by /login/resume from the flow's state.
    """
    prefix = flow.api.prefix
    if flow.stage == BEGIN:
        params[f"{prefix}returnurl"] = callback_url(flow)
        if flow.preserve_state:
            params[f"{prefix}preservestate"] = "1"
    else:
        params[f"{prefix}continue"] = "1"
    client = wiki_session.wiki_client()
    began = time.monotonic()
    try:
        result, flow.token = client.authenticate(flow.api, flow.token, params)
        wiki_session.save_cookies(client)
        log_outcome(flow, result, time.monotonic() - began)
        response = HANDLERS[result.status](flow, client, result)
    except WikiError as exc:
        wiki_session.save_cookies(client)
        if from_callback:
            flow.stage, flow.message = FAILED, describe_wiki_error(exc)
            flow.save()
            return redirect(url_for("login.resume"), code=303)
        flow.save()
        error = describe_wiki_error(exc) + " What you typed is kept, except passwords."
        return render_flow(flow, error=error, status=error_status(exc))
    finally:
        params.clear()  # drop this function's reference to the secrets at once
    if from_callback and not (isinstance(response, Response) and 300 <= response.status_code < 400):
        return redirect(url_for("login.resume"), code=303)
    return response


# --- one function a status ----------------------------------------------------------

def on_pass(flow: Flow, client: WikiClient, result: AuthResult):
    if flow.action == "create":
        return log_in_new_account(flow, client, result)
    username = result.username or flow.values.get("username", "")
    returnto = flow.returnto
    wiki_session.start_user_session(username, client)
    return redirect(returnto or url_for("account.home"), code=303)


def log_in_new_account(flow: Flow, client: WikiClient, result: AuthResult):
    """The wiki created the account; now log in as it, as Special:CreateAccount does.

    With a password, that is one more clientlogin now.  With a provider's
    identity, it is the provider's login button pressed for the user.  Otherwise
    the login form, with the new name filled in.
    """
    username = result.username or flow.values.get("username", "")
    password = g.pop("new_account_password", None)
    created = f"Your account {username} was created."
    creator = wiki_session.current_user()
    if creator:
        # As Special:CreateAccount does for a logged-in creator: the session stays theirs.
        Flow.clear()
        return render_template("message.html", title="Account created", status=200,
                               message=f"{created} You are still logged in as {creator}.",
                               retry_url=url_for("account.home"), retry_label="Home"), 200
    try:
        if password and username:
            login = Flow(action="login", stage=BEGIN, requests=[], token=client.token("login"),
                         returnto=flow.returnto, values={"username": username})
            first, login.token = client.authenticate(
                login.api, login.token,
                {"username": username, "password": password, "loginreturnurl": callback_url(login)})
            wiki_session.save_cookies(client)
            if first.status != FAIL:
                log_outcome(login, first, 0)
                return HANDLERS[first.status](login, client, first)
            # The wiki wants more than the new password (say a captcha on every
            # login): the login form, with the good news first.
        elif flow.provider_request:
            button_request = AuthRequest.from_api(flow.provider_request)
            login = Flow(action="login", stage=BEGIN, requests=[flow.provider_request],
                         token=client.token("login"), returnto=flow.returnto, provider=flow.provider,
                         provider_request=flow.provider_request)
            return send_step(login, {button_request.button.name: "1", "loginrequests": button_request.id})
        new = start("login", client, returnto=flow.returnto, values={"username": username},
                    message=Markup("{} Log in to start using it.").format(created), message_kind="success")
    except (WikiError, ActionUnavailable):
        Flow.clear()
        return render_template("message.html", title="Account created", status=200,
                               message=f"{created} The wiki could not be asked to log you in just now: "
                                       "log in to start using it.",
                               retry_url=url_for("login.login"), retry_label="Log in"), 200
    return render_flow(new)


def on_fail(flow: Flow, client: WikiClient, result: AuthResult):
    kept = flow.values  # the first form's non-secret inputs, e.g. the username
    if result.messagecode in NOT_IN_PROGRESS:
        message = ("The wiki no longer remembers this attempt (it took too long, "
                   "or the wiki was restarted). Please start again.")
    else:
        message = result.message or Markup("The wiki refused this ({}).").format(
            result.messagecode or "no reason given")
    # Fields are fetched again: after a failure the wiki may ask for more (a captcha).
    new = start(flow.action, client, returnto=flow.returnto, values=kept, message=message,
                can_preserve_state=result.canpreservestate, preserve_state=flow.preserve_state,
                provider=flow.provider, provider_request=flow.provider_request)
    return render_flow(new, status=200)


def on_ui(flow: Flow, client: WikiClient, result: AuthResult):
    # The same step again means the last answer was not accepted.
    same_step = flow.stage == CONTINUE and [r["id"] for r in flow.requests] == [r.id for r in result.requests]
    flow.message_kind = "error" if same_step else "notice"
    flow.stage = CONTINUE
    flow.requests = [r.to_api() for r in result.requests]
    flow.message = result.message
    flow.save()
    return render_flow(flow)


def on_redirect(flow: Flow, client: WikiClient, result: AuthResult):
    target = result.redirecttarget
    if urlsplit(target).scheme.lower() not in ("http", "https") or not urlsplit(target).netloc:
        Flow.clear()
        return render_template(
            "message.html",
            title="This sign-in cannot continue",
            message="The wiki tried to send you to an address that is not a web page. "
                    "Nothing was sent there. Please start again, or tell the wiki's administrators.",
            status=502,
        ), 502
    flow.stage = AWAY
    flow.requests = [r.to_api() for r in result.requests]
    # The request to come back with usually names the provider better than its button.
    flow.provider = next(filter(None, map(provider_name, result.requests)), flow.provider)
    flow.save()
    # Filed under its one-time value too: opening the login page again meanwhile
    # (this tab or another) starts a new flow but does not lose this one.
    callback_state.save(flow.callback, session[wiki_session.FLOW])
    return redirect(target, code=303)


def on_restart(flow: Flow, client: WikiClient, result: AuthResult):
    flow.stage = RESTARTED
    flow.message = result.message
    flow.can_preserve_state = result.canpreservestate
    flow.save()
    return render_restart(flow)


def render_restart(flow: Flow):
    """The "recognised, but no wiki account is linked" page, with its two ways on."""
    return render_template("restart.html", flow=flow, provider=flow.provider or "The identity provider"), 200


HANDLERS: dict[str, Callable[[Flow, WikiClient, AuthResult], Any]] = {
    PASS: on_pass,
    FAIL: on_fail,
    UI: on_ui,
    REDIRECT: on_redirect,
    RESTART: on_restart,
}


# --- the REDIRECT callback's one-time value -------------------------------------------

def callback_url(flow: Flow) -> str:
    """Our absolute return URL, with the flow's one-time value (made on first use)."""
    if not flow.callback:
        flow.callback = callback_state.new_value()
    return public_url(url_for("login.callback", wlstate=flow.callback))


def take_callback_flow(given: str | None) -> Flow | None:
    """The flow that went to the provider with ``given``, spent; None (and nothing spent) otherwise."""
    flow = Flow.from_stored(callback_state.take(given))
    return flow if flow is not None and flow.stage == AWAY else None


def callback_params(items: list[tuple[str, str]], action: AuthAction) -> dict[str, Any] | None:
    """The provider's parameters to pass on to the wiki, or None if they are unreasonable."""
    params: dict[str, Any] = {}
    for key, value in items:
        if not PLAIN_NAME.fullmatch(key):
            # PHP renames " action" or "action." to "action" before MediaWiki reads
            # it: only names that reach the wiki unchanged are passed on.
            continue
        if key in OUR_CALLBACK_PARAMS or key in RESERVED_PARAMS or key.startswith(action.prefix):
            continue
        if len(params) >= MAX_CALLBACK_PARAMS or len(value) > MAX_CALLBACK_VALUE or len(key) > 100:
            return None
        params[key] = value
    return params


# --- helpers ------------------------------------------------------------------------

def public_url(path: str) -> str:
    """An absolute URL on this app, from PUBLIC_URL (or the request when unset)."""
    base = current_app.config["PUBLIC_URL"] or request.host_url
    return base.rstrip("/") + path


def safe_returnto(value: str | None) -> str:
    """``value`` if it is a path on this app, else "" (never an open redirect)."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return ""
    if any(c in value for c in "\\\r\n\t\0") or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    return value


def describe_wiki_error(exc: WikiError) -> str:
    """A sentence a person can act on."""
    if isinstance(exc, WikiAPIError):
        if exc.code == "readonly":
            reason = exc.details.get("readonlyreason") or "maintenance"
            return f"The wiki is read-only at the moment ({reason}). Please try again later."
        if exc.code in ("maxlag", "ratelimited"):
            return "The wiki is busy and asked us to slow down. Please try again in a minute."
        return f"The wiki could not do this: {exc.info or exc.code} ({exc.code}). Please try again."
    return f"{exc} Please try again in a moment."


def error_status(exc: WikiError) -> int:
    return 503 if not isinstance(exc, WikiAPIError) else 502


def wiki_error_page(exc: WikiError, retry_url: str):
    """The page for a wiki that could not be asked: what happened, and a way to try again."""
    status = error_status(exc)
    return render_template("message.html", title="The wiki is not answering",
                           message=describe_wiki_error(exc), retry_url=retry_url, status=status), status


def log_outcome(flow: Flow, result: AuthResult, seconds: float) -> None:
    """One line per step: who, what, which provider, how long. Never a secret."""
    log.info(
        "auth action=%s status=%s user=%s provider=%s messagecode=%s client=%s duration_ms=%d",
        flow.action, result.status, result.username or flow.values.get("username", "-"),
        flow.provider or "-", result.messagecode or "-", request.remote_addr or "-", seconds * 1000,
    )


def _lasting_field_names(requests: list[AuthRequest]) -> set[str]:
    # A request with a hidden value is one challenge (a captcha and its id): its
    # answer means nothing for the next one.
    return {f.name for r in requests if not any(x.type == "hidden" for x in r.fields) for f in r.fields}


def provider_name(req: AuthRequest) -> str:
    """The provider's name as the wiki describes it, unless that is only a class name."""
    name = plain_text(req.provider)
    return "" if "\\" in name else name


def _unsupported(req: AuthRequest) -> bool:
    # WebAuthn needs the browser to talk to the wiki's own domain.
    return "webauthn" in req.id.lower()
