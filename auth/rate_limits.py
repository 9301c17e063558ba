"""Rate limits on login attempts: per client address and per username.

Every POST that sends credentials (or an identity provider's answer) to the
wiki counts once against two limits, shared by all such endpoints:
- per client address (``LOGIN_RATE_LIMIT_PER_IP``): one source cannot try
  many accounts;
- per account (``LOGIN_RATE_LIMIT_PER_USER``): many sources cannot try one
  account, under any spelling the wiki reads as that account.  A two-factor
  step counts for the account its flow began with.
A request over either limit gets the 429 page, which says when to try again,
and a ``Retry-After`` header.  GETs never count.

The limits are Flask-Limiter *application* limits, so they need no decorator
on views defined elsewhere and do not depend on when blueprints are
registered; ``exempt_when`` keeps them to the endpoints in ``LIMITED``.
Counters are in Redis when ``REDIS_URL`` is set (shared by every process),
else in this process's memory.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
import time

from flask import Flask, request, session
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded

from wiki import WikiError
from wiki.usernames import DEFAULT_USER_NAMESPACES, canonical_username

from . import wiki_session
from .pages import message_page
from .state import Stage

# (endpoint, method) of every request that is a login attempt.
LIMITED = frozenset({
    ("login.login_post", "POST"),
    ("login.create_post", "POST"),
    ("login.callback", "POST"),
    ("bot.login", "POST"),
    # Not logins, but as sensitive: a reset mails someone, a change sets a password.
    ("credentials.reset_post", "POST"),
    ("credentials.change_post", "POST"),
    ("credentials.reauth_post", "POST"),
    # Linking sends a provider's button (and its callback counts above); unlinking and
    # removing take a credential away.
    ("linking.link_post", "POST"),
    ("linking.unlink", "POST"),
    ("linking.remove_post", "POST"),
})
# (endpoint, method) of the flow's form posts: a later step of these continues a flow's account.
FORM_STEPS = frozenset({("login.login_post", "POST"), ("login.create_post", "POST")})
# (endpoint, method) of the form pages that make a new session for a browser without one.
SESSION_MAKING = frozenset({
    ("login.login", "GET"),
    ("login.create", "GET"),
    ("bot.login", "GET"),
})
# Endpoints that count for this session's user (logging in again sends no other name).
SESSION_USER_ENDPOINTS = frozenset({"credentials.change_post", "credentials.reauth_post", "linking.link_post",
                                    "linking.unlink", "linking.remove_post"})
PER_IP_SCOPE = "login-per-address"
NEW_SESSION_SCOPE = "new-session-per-address"
PER_USER_SCOPE = "login-per-username"
TITLE = _l("Too many login attempts")
# What a credential endpoint's limit counts -> (for this account, from your network): whole sentences.
CREDENTIAL_WORDS = {
    "credentials.reset_post": (
        _l("There were too many password reset requests for this account in a short time. "
           "Please try again in %(wait)s."),
        _l("There were too many password reset requests from your network in a short time. "
           "Please try again in %(wait)s.")),
    "credentials.change_post": (
        _l("There were too many password changes for this account in a short time. Please try again in %(wait)s."),
        _l("There were too many password changes from your network in a short time. "
           "Please try again in %(wait)s.")),
}


def client_key() -> str:
    """The client's address (after ProxyFix): an IPv4 address, or an IPv6 /64 network.

    One IPv6 host usually has a whole /64 to pick addresses from.  An IPv4
    client seen through a dual-stack socket (``::ffff:192.0.2.1``) is that IPv4
    address: keyed as a /64, every IPv4 client would share one budget.
    """
    address = request.remote_addr or "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_name(raw: str, user_namespaces: frozenset[str] = DEFAULT_USER_NAMESPACES) -> str:
    """The account a login form names, as the wiki reads it (``wiki.usernames``).

    "alice_smith ", "User:Alice smith" and "Alice\u200e smith" are one user; a
    bot password's "Alice@mybot" is Alice's account, so it shares her counter.
    """
    return canonical_username(raw, user_namespaces)


def username_key() -> str:
    """The account this attempt is for: the name typed at a first step, the one a later step continues,
    or the logged-in one (changing a credential, logging in again).

    A later step (a two-factor code) always counts for the account its flow
    began with, whatever name the POST adds to it.  A password reset by e-mail
    address alone counts for that address.
    """
    as_session_user = request.endpoint in SESSION_USER_ENDPOINTS
    typed = (wiki_session.current_user() or "") if as_session_user else request.form.get("username", "")
    if (request.endpoint, request.method) in FORM_STEPS:
        flow = session.get(wiki_session.FLOW)
        if isinstance(flow, dict) and flow.get("stage") == Stage.CONTINUE and isinstance(flow.get("values"), dict):
            typed = str(flow["values"].get("username") or "")
    if not typed:
        email = request.form.get("email", "").strip().lower() if request.endpoint == "credentials.reset_post" else ""
        # Hashed: the key shows in the log line of a refused request.
        return "email:" + hashlib.sha256(email.encode()).hexdigest()[:24] if email else ""
    try:
        # The wiki's own names for its User namespace ("Benutzer:Alice" on a German wiki).
        namespaces = wiki_session.wiki().siteinfo().user_namespaces
    except WikiError:  # the login will fail anyway; count under the names every wiki knows
        namespaces = DEFAULT_USER_NAMESPACES
    return account_name(typed, namespaces)


def _not_a_login_attempt() -> bool:
    return (request.endpoint, request.method) not in LIMITED


def _not_a_new_visitor() -> bool:
    # A form page for a browser without a stored session makes a session here
    # and one on the wiki: a few per address are a person, thousands are a flood.
    return (request.endpoint, request.method) not in SESSION_MAKING or getattr(session, "from_store", True)


def _not_counted() -> bool:
    return _not_a_login_attempt() and _not_a_new_visitor()


def _no_username() -> bool:
    return _not_a_login_attempt() or not username_key()


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    return ngettext("%(num)d minute", "%(num)d minutes", math.ceil(seconds / 60))


def init_app(app: Flask) -> None:
    """Count login attempts for ``app`` and answer 429 over the limits."""
    config = app.config
    if config["REDIS_URL"]:
        # The session store's pool: one set of connections, one URL to configure.
        pool = config["SESSION_REDIS"].connection_pool
        storage = {"storage_uri": "redis://", "storage_options": {"connection_pool": pool}}
    else:
        storage = {"storage_uri": "memory://"}
    limiter = Limiter(
        client_key,
        application_limits=[
            ApplicationLimit(config["LOGIN_RATE_LIMIT_PER_IP"], scope=PER_IP_SCOPE,
                             exempt_when=_not_a_login_attempt),
            ApplicationLimit(config["LOGIN_RATE_LIMIT_PER_USER"], key_function=username_key,
                             scope=PER_USER_SCOPE, exempt_when=_no_username),
            ApplicationLimit(config["NEW_SESSION_RATE_LIMIT_PER_IP"], scope=NEW_SESSION_SCOPE,
                             exempt_when=_not_a_new_visitor),
        ],
        # A moving window: no burst of twice the limit around a window boundary,
        # and refused attempts do not push the end of the pause further away.
        strategy="moving-window",
        key_prefix="wikilogin",
        **storage,
    )
    limiter.init_app(app)
    # Other requests skip the limiter at once, instead of resolving every limit to exempt them.
    limiter.request_filter(_not_counted)

    @app.errorhandler(RateLimitExceeded)
    def too_many_attempts(exc: RateLimitExceeded):
        # window[0]: when the oldest attempt counted against the breached limit expires.
        seconds = max(1, math.ceil(limiter.current_limit.window[0] - time.time()))
        scope = exc.limit.scope
        app.logger.warning("rate limit %s %s reached: client=%s user=%s", exc.limit.limit, scope,
                           client_key(), username_key() or "-")
        wait = _wait_text(seconds)
        if scope == NEW_SESSION_SCOPE:
            title = _("Too many new visits")
            message = _("There were too many new visits from your network in a short time. "
                        "Please try again in %(wait)s.", wait=wait)
        elif request.endpoint in CREDENTIAL_WORDS:
            title = _("Too many attempts")
            per_user, per_network = CREDENTIAL_WORDS[request.endpoint]
            message = str(per_user if scope == PER_USER_SCOPE else per_network) % {"wait": wait}
        elif scope == PER_USER_SCOPE:
            title = str(TITLE)
            message = _("There were too many login attempts for this username in a short time, so logging in is "
                        "paused for a while. Please try again in %(wait)s.", wait=wait)
        else:
            title = str(TITLE)
            message = _("There were too many login attempts from your network in a short time, so logging in is "
                        "paused for a while. Please try again in %(wait)s.", wait=wait)
        return message_page(title, message, status=429, headers={"Retry-After": str(seconds)})
