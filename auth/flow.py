"""One AuthManager flow (log in, or create an account), from the first form to PASS: a state machine.

The data flows one way: the wiki describes fields -> we build a form -> the user
submits -> we post to the wiki -> the wiki answers a status -> ``HANDLERS`` renders
the next step or finishes.  Each status is handled in exactly one function; each
action is one entry in ``ACTIONS``; every change of ``Flow.stage`` happens here.

What survives between requests is a ``Flow`` in the server-side session: the
wiki's field descriptions, its token, where to go afterwards and what the user
typed that is not secret.  Passwords and codes exist only while one request runs:
they travel in a ``Step``, as an argument, and are dropped when it is sent.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from wiki import AuthRequest, AuthResult, ReauthImpossible, ReauthRequired, SecurityStatus, WikiClient, WikiError
from wiki.authn import FAIL, PASS, PRIMARY_REQUIRED, REDIRECT, REQUIRED, RESTART, UI
from wiki.credentials import security_status

from . import callback as callback_state, wiki_session
from .callback import callback_url, take_callback_flow  # noqa: F401 - blueprints/login.py uses the latter
from .linking import account_linked
from .state import ACTIONS, ActionUnavailable, Flow, SecurityCheck, Seed, Stage, Step
from .fields import BuiltForm, build_form
from .pages import describe_wiki_error, error_status, message_page
from .captcha_widgets import content_security_policy as widget_policy, drawn_here
from .wiki_answers import fail_answer, only_on_wiki_notice
from .wiki_html import plain_text, sanitize
from .words import msg_text

log = logging.getLogger("wiki_login.auth")


# --- starting, showing and sending a step -------------------------------------------

def start(action: str, client: WikiClient, seed: Seed = Seed()) -> Flow:
    """A new flow with the wiki's current fields and a token: one request to the wiki.

    Raises ``ActionUnavailable`` if the wiki says the action is not possible, and
    ``SecurityCheck`` if it wants a fresh login first (a security-sensitive action).
    """
    # A provider's identity kept after RESTART may word the requests for this visitor alone.
    token, info = client.auth_info(ACTIONS[action].api, keep_words=not seed.preserve_state)
    if not ACTIONS[action].available(info):
        raise ActionUnavailable(action)
    if (status := security_status(info.security_status)) in (SecurityStatus.REAUTH, SecurityStatus.FAIL):
        raise SecurityCheck(action, status)
    requests, values, message, kind = list(info.requests), dict(seed.values), seed.message, seed.message_kind
    preserve_state = seed.preserve_state
    if preserve_state and not info.has_preserved_state:
        # The wiki forgets a provider's identity after any failed attempt.
        preserve_state, kind = False, "warning"
        lost = Markup(_("The link to %(provider)s was lost with that attempt: start again with it to link it.")) \
            % {"provider": seed.provider or _("your identity provider")}
        message = Markup("{}<p>{}</p>").format(Markup(message), lost) if message else lost
    elif preserve_state and info.preserved_username:
        values["username"] = info.preserved_username
    if preserve_state and info.has_primary_preserved_state:
        # The identity the provider vouched for is the new account's credential:
        # no password or other primary provider is asked for.
        requests = [r for r in requests if r.required != PRIMARY_REQUIRED]
    flow = Flow(action=action, stage=Stage.BEGIN, requests=[r.to_api() for r in requests], token=token,
                returnto=seed.returnto, values=values, message=message, message_kind=kind,
                preserve_state=preserve_state, can_preserve_state=seed.can_preserve_state,
                can_create_accounts=info.can_create_accounts, provider=seed.provider,
                provider_request=seed.provider_request)
    flow.save()
    return flow


def step_form(flow: Flow, formdata: Any = None) -> BuiltForm:
    """The form for the flow's current step: fresh (with kept values) or as POSTed.

    Requests only the wiki's own page can answer (a security key, a captcha
    widget) are left out: the page says so instead (``render_flow``).  If one of
    them was required (a captcha, a second factor; not a primary provider beside
    the password), the plain submit could only fail, so there is none; a choice
    of another way on (another second factor) stays.
    """
    action = ACTIONS[flow.action]
    requests = flow.auth_requests
    # Each request only the wiki can answer, unless this app draws it (a captcha widget the operator enabled).
    elsewhere = [r for r in requests if r.only_on_wiki and not drawn_here(r)]
    answerable = [r for r in requests if r not in elsewhere]
    return build_form(
        answerable,
        submit_label=action.submit if flow.stage == Stage.BEGIN else action.continue_submit,
        formdata=formdata,
        values=flow.values if formdata is None else None,
        # A step that asks to retype a password sets a new one (after a temporary password).
        new_password=action.new_password or any(f.name == "retype" for r in flow.auth_requests for f in r.fields),
        default_submit=not any(r.required == REQUIRED for r in elsewhere),
        fixed=action.fixed if flow.stage == Stage.BEGIN else (),
    )


def render_flow(flow: Flow, built: BuiltForm | None = None, *, error: str = "", status: int = 200):
    """The page for the flow's current step."""
    site = wiki_session.wiki().siteinfo()
    action = ACTIONS[flow.action]
    requests = flow.auth_requests
    page = render_template(
        "auth_form.html",
        flow=flow,
        pages=action,
        built=built or step_form(flow),
        error=error,
        only_on_wiki=[only_on_wiki_notice(r, action.wiki_page_words) for r in requests
                      if r.only_on_wiki and not drawn_here(r)],
        wiki_login_url=site.page_url(action.wiki_page),
        reset_routes=wiki_session.wiki().reset_routes() if flow.action == "login" else None,
        user=wiki_session.current_user(),
    )
    policy = widget_policy(requests)  # a captcha widget's own hosts, for this page alone
    return page, status, {"Content-Security-Policy": policy} if policy else {}


def submit(flow: Flow, built: BuiltForm):
    """Send the user's form for this step to the wiki and handle what it says."""
    chosen = built.chosen_requests()
    pressed = built.pressed_button()
    req = next((r for r in chosen if r.has_button(pressed)), None) if pressed else None
    if req is not None and req.required == PRIMARY_REQUIRED:  # a provider's own button
        flow.provider = provider_name(req) or plain_text(req.button.label)
        if ACTIONS[flow.action].keeps_provider:
            flow.provider_request = req.to_api()
    if flow.stage == Stage.BEGIN:
        lasting = _lasting_field_names(built.requests)
        flow.values = {k: v for k, v in built.kept_values().items() if k in lasting}
    password = built.form.by_name.get("password")
    new_password = password.data if ACTIONS[flow.action].new_password and password is not None else None
    return send_step(flow, Step(built.api_params(), tuple(r.id for r in chosen), new_password))


def _exchange(flow: Flow, step: Step) -> tuple[WikiClient, AuthResult]:
    """Post one step (a first one, or a continuation) and log its outcome; WikiError as it comes."""
    client = wiki_session.wiki_client()
    began = time.monotonic()
    try:
        if flow.stage == Stage.BEGIN:
            result, flow.token = client.begin(flow.api, flow.token, step.fields, requests=step.requests,
                                              return_url=callback_url(flow), preserve_state=flow.preserve_state)
        else:
            result, flow.token = client.continue_(flow.api, flow.token, step.fields, requests=step.requests)
    finally:
        step.fields.clear()  # drop this request's reference to the secrets at once
    log_outcome(flow, result, time.monotonic() - began)
    return client, result


def send_step(flow: Flow, step: Step):
    """Post a step the user sent from a form, and answer with the page for what the wiki said."""
    try:
        client, result = _exchange(flow, step)
        return HANDLERS[result.status](flow, client, result, step)
    except (ReauthRequired, ReauthImpossible) as exc:  # the wiki checked again, and wants a fresh login
        raise SecurityCheck.of_error(flow.action, exc) from exc
    except WikiError as exc:
        flow.save()
        error = _("%(problem)s What you typed is kept, except passwords.", problem=describe_wiki_error(exc))
        return render_flow(flow, error=error, status=error_status(exc))


def continue_from_callback(flow: Flow, provider_fields: dict[str, Any]):
    """Go on with a provider's answer.  Always a redirect away from the callback URL.

    The answer holds the provider's code, which must linger in no address bar,
    history or Referer: a page to show is shown by ``resume_page`` from the
    flow's state, one redirect later.
    """
    flow.stage = Stage.CONTINUE
    try:
        client, result = _exchange(flow, Step(provider_fields))
        response = HANDLERS[result.status](flow, client, result, Step({}))
    except WikiError as exc:
        flow.stage, flow.message = Stage.FAILED, describe_wiki_error(exc)
        flow.save()
        return redirect(url_for("login.resume"), code=303)
    if getattr(response, "status_code", 200) in (301, 302, 303, 307, 308):
        return response
    return redirect(url_for("login.resume"), code=303)


def resume_page(flow: Flow | None):
    """The page for the step a flow is at after a provider's callback (no call to the wiki)."""
    if flow is None or flow.stage == Stage.AWAY:
        return redirect(url_for("login.login"), code=303)
    if flow.stage == Stage.RESTARTED:
        return render_restart(flow)
    if flow.stage == Stage.FAILED:
        Flow.clear()
        return message_page(_("This sign-in could not be finished"), flow.message, status=503,
                            retry_url=url_for(ACTIONS[flow.action].form_endpoint), retry_label=_("Start again"))
    return render_flow(flow)


# --- one function a status ----------------------------------------------------------

def on_pass(flow: Flow, client: WikiClient, result: AuthResult, step: Step):
    return AFTER_PASS[ACTIONS[flow.action].after_pass](flow, client, result, step)


def start_session(flow: Flow, client: WikiClient, result: AuthResult, step: Step):
    """Logged in: this browser's session is now the user's, under a new id."""
    wiki_session.start_user_session(result.username or flow.values.get("username", ""), client)
    return redirect(flow.returnto or url_for("account.home"), code=303)


def same_user_again(flow: Flow, client: WikiClient, result: AuthResult, step: Step):
    """Logged in again (before a security-sensitive change): only as the session's own user.

    A provider's button on that page could vouch for someone else; this wiki
    session is then that other account's, so it is logged out on the wiki and
    this browser's session ends: nothing of either account goes on under the other.
    """
    if not result.username or result.username == wiki_session.current_user():
        return start_session(flow, client, result, step)
    log.warning("logging in again as %s ended the session of %s", result.username, wiki_session.current_user())
    try:
        client.logout()
    except WikiError:
        pass  # the wiki's session then expires on its own
    wiki_session.end_user_session()
    return message_page(_("Logged out"), Markup(_(
        "You logged in as %(name)s, not as the account you were using, so you are now logged out of both here. "
        "Log in again with the account you want.")) % {"name": result.username}, status=403,
        retry_url=url_for("login.login"), retry_label=msg_text("login"))


def new_account(flow: Flow, client: WikiClient, result: AuthResult, step: Step):
    """An account was made: log in to it."""
    return log_in_new_account(flow, client, result, step.new_password)


def log_in_new_account(flow: Flow, client: WikiClient, result: AuthResult, password: str | None):
    """The wiki created the account; now log in as it, as Special:CreateAccount does.

    With a password, that is one more clientlogin now.  With a provider's
    identity, it is the provider's login button pressed for the user.  Otherwise
    the login form, with the new name filled in.
    """
    username = result.username or flow.values.get("username", "")
    creator = wiki_session.current_user()
    if creator:
        # As Special:CreateAccount does for a logged-in creator: the session stays theirs.
        Flow.clear()
        return message_page(msg_text("accountcreated"), Markup(_(
            "Your account %(name)s was created. You are still logged in as %(user)s.")) % {
            "name": username, "user": creator}, retry_url=url_for("account.home"), retry_label=_("Home"))
    try:
        login = Flow(action="login", stage=Stage.BEGIN, requests=[], token="", returnto=flow.returnto,
                     values={"username": username})
        if password and username:
            login.token = client.token("login")
            first, login.token = client.begin(login.api, login.token, {"username": username, "password": password},
                                              return_url=callback_url(login))
            if first.status != FAIL:
                log_outcome(login, first, 0)
                return HANDLERS[first.status](login, client, first, Step({}))
            # The wiki wants more than the new password (say a captcha on every
            # login): the login form, with the good news first.
        elif flow.provider_request:
            button = AuthRequest.from_api(flow.provider_request)
            login.token, login.values, login.requests = client.token("login"), {}, [flow.provider_request]
            login.provider, login.provider_request = flow.provider, flow.provider_request
            return send_step(login, Step({button.button.name: "1"}, (button.id,)))
        new = start("login", client, Seed(returnto=flow.returnto, values={"username": username},
                                          message=Markup(_("Your account %(name)s was created. Log in to start "
                                                           "using it.")) % {"name": username},
                                          message_kind="success"))
    except (WikiError, ActionUnavailable):
        Flow.clear()
        return message_page(msg_text("accountcreated"), Markup(_(
            "Your account %(name)s was created. The wiki could not be asked to log you in just now: log in to "
            "start using it.")) % {"name": username}, retry_url=url_for("login.login"), retry_label=msg_text("login"))
    return render_flow(new)


def on_fail(flow: Flow, client: WikiClient, result: AuthResult, step: Step):
    answer = fail_answer(result.messagecode)  # auth.wiki_answers.FAIL_ANSWERS
    message = answer.message(result)
    if not answer.form_again:
        # No retry here can fix it: what to do, and the wiki's own login page.
        Flow.clear()
        site = wiki_session.wiki().siteinfo()
        return message_page(answer.title, sanitize(message, site.server), status=403,
                            retry_url=site.page_url("Special:UserLogin"), retry_label=_("Log in on the wiki"))
    # Fields are fetched again: after a failure the wiki may ask for more (a captcha).
    # The first form's non-secret inputs (the username) are kept.
    new = start(flow.action, client, Seed(
        returnto=flow.returnto, values=flow.values, message=message, message_kind=answer.message_kind,
        preserve_state=flow.preserve_state, can_preserve_state=result.canpreservestate, provider=flow.provider,
        provider_request=flow.provider_request))
    return render_flow(new)


def on_ui(flow: Flow, client: WikiClient, result: AuthResult, step: Step):
    # The same step again means the last answer was not accepted.
    same_step = flow.stage == Stage.CONTINUE and [r["id"] for r in flow.requests] == [r.id for r in result.requests]
    flow.message_kind = "error" if same_step else "notice"
    flow.stage = Stage.CONTINUE
    flow.requests = [r.to_api() for r in result.requests]
    flow.message = result.message
    flow.save()
    return render_flow(flow)


def on_redirect(flow: Flow, client: WikiClient, result: AuthResult, step: Step):
    target = urlsplit(result.redirecttarget)
    if target.scheme.lower() not in ("http", "https") or not target.netloc:
        Flow.clear(flow.callback)
        return message_page(_("This sign-in cannot continue"),
                            _("The wiki tried to send you to an address that is not a web page. Nothing was "
                              "sent there. Please start again, or tell the wiki's administrators."), status=502)
    flow.stage = Stage.AWAY
    flow.requests = [r.to_api() for r in result.requests]
    # The request to come back with usually names the provider better than its button.
    flow.provider = next(filter(None, map(provider_name, result.requests)), flow.provider)
    flow.save()
    # Filed under its one-time value too: opening the login page again meanwhile
    # (this tab or another) starts a new flow but does not lose this one.
    callback_state.save(flow.callback, session[wiki_session.FLOW])
    return redirect(result.redirecttarget, code=303)


def on_restart(flow: Flow, client: WikiClient, result: AuthResult, step: Step):
    flow.stage = Stage.RESTARTED
    flow.message = result.message
    flow.can_preserve_state = result.canpreservestate
    flow.save()
    return render_restart(flow)


def render_restart(flow: Flow):
    """The "recognised, but no wiki account is linked" page, with its two ways on."""
    # Without a name from the wiki: "The identity provider" as a sentence's subject, "your ..." after "with".
    return render_template("restart.html", flow=flow, provider=flow.provider or _("The identity provider"),
                           provider_after_with=flow.provider or _("your identity provider")), 200


# What PASS leads to, by Action.after_pass.
AFTER_PASS: dict[str, Callable[[Flow, WikiClient, AuthResult, Step], Any]] = {
    "session": start_session,
    "same user": same_user_again,
    "new account": new_account,
    "linked": account_linked,
}

HANDLERS: dict[str, Callable[[Flow, WikiClient, AuthResult, Step], Any]] = {
    PASS: on_pass,
    FAIL: on_fail,
    UI: on_ui,
    REDIRECT: on_redirect,
    RESTART: on_restart,
}


# --- helpers ------------------------------------------------------------------------

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


__all__ = ["HANDLERS", "continue_from_callback", "render_flow", "resume_page", "send_step", "start", "submit"]
