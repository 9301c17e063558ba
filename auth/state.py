"""What a flow is: its stages, the actions it can run, and the record kept in the session.

``auth.flow`` moves a ``Flow`` from stage to stage; this module only says what
the stages, actions and records are, and where a new flow starts from (a
``Seed``).  Adding an action is one entry in ``ACTIONS``.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Callable

from flask import current_app, session
from flask_babel import LazyString
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup, escape

from wiki import AUTH_ACTIONS, AuthAction, AuthInfo, AuthRequest, ReauthImpossible, SecurityStatus

from . import wiki_session
from .words import LazyWords, wiki_msg

Words = str | LazyString | LazyWords  # words in the reader's language, worked out when shown


class Stage(StrEnum):
    """Where a flow is.  Stored as its value, so flows outlive a restart of the app."""

    BEGIN = "begin"          # the first form (fields from authmanagerinfo)
    CONTINUE = "continue"    # a UI step (two-factor code, ...)
    AWAY = "redirect"        # the browser is away at an identity provider
    RESTARTED = "restart"    # the provider vouched for someone the wiki does not know
    FAILED = "failed"        # the wiki could not be asked after a callback: shown once, then gone


@dataclass(frozen=True)
class Action:
    """One thing a flow can do: the wiki's API for it, when the wiki allows it, its words and pages.

    The words are lazy: each is in the reader's language when a page shows it
    (``wiki_msg``: the wiki's own message; ``_l``: the app's catalog).
    """

    api: AuthAction
    available: Callable[[AuthInfo], bool]  # Special:UserLogin's canAuthenticateNow / canCreateAccounts
    title: Words
    subtitle: Words  # "to %(site)s": "Log in *to* the wiki", "Create account *on* the wiki"
    subtitle_as: Words  # the same, on a later step: "to %(site)s as %(user)s"
    submit: Words
    continue_submit: Words
    form_endpoint: str
    new_password: bool  # the password field is a new one (browsers then suggest one)
    wiki_page: str = "Special:UserLogin"  # the wiki's own page for it, for what only the wiki can do
    wiki_page_words: Words = _l("login page")
    fixed: tuple[str, ...] = ()  # first-step fields shown read-only (the route fills them in)
    # What PASS means: "session" (this browser is now logged in as the user), "same
    # user" (logged in again, as the session's own user only), "new account" (log
    # in to the account just made), or "linked" (an account linked). auth.flow.AFTER_PASS.
    after_pass: str = "session"
    # A provider's button pressed here is kept, to log in with it again later.
    keeps_provider: bool = True


ACTIONS: dict[str, Action] = {
    "login": Action(AUTH_ACTIONS["login"], lambda info: info.can_authenticate_now,
                    wiki_msg("login"), _l("to %(site)s"), _l("to %(site)s as %(user)s"),
                    wiki_msg("pt-login-button"), _l("Continue"), "login.login", False),
    "create": Action(AUTH_ACTIONS["create"], lambda info: info.can_create_accounts,
                     wiki_msg("createaccount"), _l("on %(site)s"), _l("on %(site)s as %(user)s"),
                     wiki_msg("createacct-submit"), _l("Continue"), "login.create", True,
                     "Special:CreateAccount", _l("account creation page"), after_pass="new account",
                     keeps_provider=False),
    # Logging in again as the same user before a security-sensitive change (REAUTH): a login, the name fixed.
    "reauth": Action(AUTH_ACTIONS["login"], lambda info: info.can_authenticate_now,
                     _l("Log in again"), _l("to %(site)s"), _l("to %(site)s as %(user)s"),
                     wiki_msg("pt-login-button"), _l("Continue"), "credentials.reauth",
                     False, fixed=("username",), after_pass="same user"),
    # Linking a third-party account to the logged-in one (Special:LinkAccounts): the
    # provider's button, its REDIRECT and the same one-time callback as a login.
    "link": Action(AUTH_ACTIONS["link"], lambda info: info.can_link_accounts,
                   wiki_msg("linkaccounts"), _l("on %(site)s"), _l("on %(site)s as %(user)s"), _l("Link"),
                   _l("Continue"), "linking.link", False, "Special:LinkAccounts", _l("account linking page"),
                   after_pass="linked", keeps_provider=False),
}


class ActionUnavailable(Exception):
    """The wiki says this action cannot happen now, before anyone types anything."""

    def __init__(self, action: str):
        super().__init__(action)
        self.action = action


class SecurityCheck(Exception):
    """The wiki wants a fresh login (REAUTH) before this security-sensitive action, or refuses it here (FAIL)."""

    def __init__(self, action: str, status: SecurityStatus):
        super().__init__(action, status)
        self.action = action
        self.status = status

    @classmethod
    def of_error(cls, action: str, exc: Exception) -> "SecurityCheck":
        """The API's ``reauthenticate`` (REAUTH) or ``cannotreauthenticate`` (FAIL), arriving anyway."""
        return cls(action, SecurityStatus.FAIL if isinstance(exc, ReauthImpossible) else SecurityStatus.REAUTH)


@dataclass(frozen=True)
class Seed:
    """What a new flow starts from, besides the wiki's fields: kept input, a message, a provider."""

    returnto: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # never anything sensitive
    message: str = ""  # HTML
    message_kind: str = "error"
    preserve_state: bool = False  # go on from a provider's identity (after RESTART)
    can_preserve_state: bool = False
    provider: str = ""
    provider_request: dict[str, Any] | None = None


@dataclass
class Step:
    """One step on its way to the wiki.  Lives for one request: it holds what the user typed."""

    fields: dict[str, Any]
    requests: tuple[str, ...] | None = None  # the chosen requests' ids (None: not named, the wiki picks)
    new_password: str | None = None  # a new account's, to log in with at once (Action.new_password)


@dataclass
class Flow:
    """A half-finished login or account creation, as kept in the session."""

    action: str  # a key of ACTIONS
    stage: Stage
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
    callback: str = ""  # the one-time value in this flow's return URL (see auth.callback)
    updated: float = field(default_factory=time.time)  # idle flows expire (LOGIN_FLOW_TTL)

    @property
    def api(self) -> AuthAction:
        return ACTIONS[self.action].api

    @property
    def links_identity(self) -> bool:
        """After RESTART: the wiki keeps the provider's identity for the next attempt."""
        return self.stage == Stage.RESTARTED and self.can_preserve_state

    @property
    def awaits_form(self) -> bool:
        """Whether a form for this flow may be sent now (its first step, or a UI step)."""
        return self.stage in (Stage.BEGIN, Stage.CONTINUE)

    @property
    def auth_requests(self) -> list[AuthRequest]:
        return [AuthRequest.from_api(r) for r in self.requests]

    def save(self) -> None:
        self.updated = time.time()
        data = asdict(self)
        # Plain values only: the store keeps no Markup or enum objects.
        data["message"], data["stage"] = str(self.message), self.stage.value
        session[wiki_session.FLOW] = data

    @classmethod
    def load(cls, *actions: str) -> "Flow | None":
        """The flow in progress for one of ``actions``, or None if there is none or it expired."""
        data = session.get(wiki_session.FLOW)
        if not isinstance(data, dict) or data.get("action") not in actions:
            return None
        return cls.from_stored(data)

    @classmethod
    def from_stored(cls, data: Any) -> "Flow | None":
        """A flow as ``save()`` stored it, or None if it is not one or has expired."""
        if not isinstance(data, dict) or data.get("action") not in ACTIONS:
            return None
        try:
            flow = cls(**{**data, "stage": Stage(data.get("stage"))})
        except (TypeError, ValueError):  # stored by an older version of the app
            return None
        if time.time() - flow.updated > current_app.config["LOGIN_FLOW_TTL"]:
            return None
        return flow

    @staticmethod
    def clear(callback: str = "") -> None:
        """Forget the flow in progress; with ``callback``, only if it is the flow that went away with it.

        A callback's flow is kept apart from the session's current one (which
        may be another tab's): ending one must not end the other.
        """
        stored = session.get(wiki_session.FLOW)
        if callback and not (isinstance(stored, dict) and stored.get("callback") == callback):
            return
        session.pop(wiki_session.FLOW, None)


# --- where a new flow starts from (the routes ask; the flow decides) ------------------

def stays_on_screen(flow: Flow | None, *, restart: bool) -> bool:
    """A step after the first (a two-factor code) stays on screen across reloads;
    anything else gets fresh fields (a new captcha) and a fresh token."""
    return flow is not None and flow.stage == Stage.CONTINUE and not restart


def fresh_seed(flow: Flow | None, *, returnto: str, restart: bool) -> Seed:
    """The form page again: "Start over" keeps what was typed, and a flow keeps where it returns to."""
    return Seed(returnto=returnto or (flow.returnto if flow else ""),
                values=flow.values if flow and restart else {})


def expired_seed(username: str, *, returnto: str) -> Seed:
    """A form sent after its flow expired: nothing was sent; what was typed comes back, but secrets."""
    username = username[:255]
    return Seed(returnto=returnto, values={"username": username} if username else {},
                message=escape(_("This form had expired, so nothing was sent. Please check it and try again.")),
                message_kind="warning")


def linked_account_seed(flow: Flow) -> Seed:
    """After RESTART: a new account, its credential the identity the provider vouched for."""
    return Seed(returnto=flow.returnto, preserve_state=True, can_preserve_state=True, provider=flow.provider,
                provider_request=flow.provider_request, message_kind="notice",
                # The message is HTML: the provider's name is text, escaped into it.
                message=Markup(_("Choose a name for your new wiki account. You will log in to it with "
                                 "%(provider)s.")) % {"provider": flow.provider or _("your identity provider")})


def existing_account_seed(flow: Flow | None, username: str = "") -> Seed:
    """After RESTART: log in with an existing account, which the provider's identity is then linked to.

    ``username``: logging in again (REAUTH) as the session's user, whose account
    it is: ``loginpreservestate`` links the identity to it (ConfirmLink's step).
    """
    preserve = bool(flow and flow.links_identity)
    if username:
        message = Markup(_("Log in again as <strong>%(user)s</strong>; the identity you just used will then be "
                           "linked to your account.") if preserve
                         else _("Log in again as <strong>%(user)s</strong>.")) % {"user": username}
    else:
        message = escape(_("Log in with your wiki account; it will be linked to the identity you just used.")
                         ) if preserve else ""
    return Seed(returnto=flow.returnto if flow else "", provider_request=flow.provider_request if flow else None,
                values={"username": username} if username else {}, preserve_state=preserve,
                can_preserve_state=preserve, message_kind="notice", message=message)
