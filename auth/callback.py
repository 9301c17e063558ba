"""The one-time value that ties an identity provider's callback to the flow this browser started.

In Authlib's manner: ``new_value()`` makes the value that rides in our return
URL; ``save(value, flow)`` files the flow that went to the provider under it,
with an expiry; ``take(value)`` gives that flow back once, and only when the
value matches.  A callback with no value, a wrong one or an expired one changes
nothing (a stray link must not spend someone's pending login).

Entries are keyed by value, so a flow waiting at a provider is not lost when
the same browser opens the login page again, in this tab or another.  Storage
policy (the server-side session, at most ``MAX_PENDING`` entries, each for
``LOGIN_FLOW_TTL`` seconds) is kept apart from the flow's own logic.
``provider_params`` picks, from what the provider sent back, what may go on to
the wiki.
"""
from __future__ import annotations

import hmac
import re
import secrets
import time
from typing import Any

from flask import current_app, session, url_for

from wiki import AuthAction

from .state import Flow, Stage
from .urls import public_url

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

KEY = "callbacks"  # in the server-side session: {value: {"at": time, "flow": {...}}}
MAX_PENDING = 3


def new_value() -> str:
    """A fresh unguessable value for one flow's return URL."""
    return secrets.token_urlsafe(24)


def save(value: str, flow: dict[str, Any]) -> None:
    """Keep ``flow`` (as stored) for the callback that will bring ``value`` back."""
    pending = _live_entries()
    pending[value] = {"at": time.time(), "flow": flow}
    # The oldest go first: a browser has no business with many providers at once.
    newest = sorted(pending.items(), key=lambda item: item[1]["at"])[-MAX_PENDING:]
    session[KEY] = dict(newest)


def take(given: str | None) -> dict[str, Any] | None:
    """The flow filed under ``given``, removed from the store; None (and no change) otherwise."""
    if not given:
        return None
    stored = session.get(KEY)
    if not isinstance(stored, dict):
        return None
    # Compared in constant time against each pending value; spent only on a match.
    match = next((v for v in stored if isinstance(v, str) and hmac.compare_digest(v.encode(), given.encode())),
                 None)
    if match is None:
        return None
    entry = stored[match]
    discard(match)
    return entry["flow"] if _is_live(entry) else None


def discard(value: str) -> None:
    """Forget one pending value (its flow ended some other way)."""
    stored = session.get(KEY)
    if isinstance(stored, dict) and value in stored:
        pending = {k: e for k, e in stored.items() if k != value}
        if pending:
            session[KEY] = pending
        else:
            session.pop(KEY, None)


def _is_live(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("flow"), dict):
        return False
    return time.time() - float(entry.get("at", 0)) <= current_app.config["LOGIN_FLOW_TTL"]


def _live_entries() -> dict[str, Any]:
    stored = session.get(KEY)
    if not isinstance(stored, dict):
        return {}
    return {k: e for k, e in stored.items() if isinstance(k, str) and _is_live(e)}


def provider_params(items: list[tuple[str, str]], action: AuthAction) -> dict[str, Any] | None:
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


# --- the REDIRECT callback's one-time value -------------------------------------------

def callback_url(flow: Flow) -> str:
    """Our absolute return URL, with the flow's one-time value (made on first use)."""
    if not flow.callback:
        flow.callback = new_value()
    return public_url(url_for("login.callback", wlstate=flow.callback))


def take_callback_flow(given: str | None) -> Flow | None:
    """The flow that went to the provider with ``given``, spent; None (and nothing spent) otherwise."""
    flow = Flow.from_stored(take(given))
    return flow if flow is not None and flow.stage == Stage.AWAY else None
