"""Rate limits on login attempts: per client address and per username.

Every POST that sends credentials (or an identity provider's answer) to the
wiki counts once against two limits, shared by all such endpoints:
- per client address (``LOGIN_RATE_LIMIT_PER_IP``): one source cannot try
  many accounts;
- per username (``LOGIN_RATE_LIMIT_PER_USER``): many sources cannot try one
  account.  Only when the form names a user; a two-factor step does not.
A request over either limit gets the 429 page, which says when to try again,
and a ``Retry-After`` header.  GETs never count.

The limits are Flask-Limiter *application* limits, so they need no decorator
on views defined elsewhere and do not depend on when blueprints are
registered; ``exempt_when`` keeps them to the endpoints in ``LIMITED``.
Counters are in Redis when ``REDIS_URL`` is set (shared by every process),
else in this process's memory.
"""
from __future__ import annotations

import ipaddress
import math
import time

from flask import Flask, render_template, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded

# (endpoint, method) of every request that is a login attempt.
LIMITED = frozenset({
    ("login.login_post", "POST"),
    ("login.create_post", "POST"),
    ("login.callback", "POST"),
    ("account.bot_login", "POST"),
})
PER_IP_SCOPE = "login-per-address"
PER_USER_SCOPE = "login-per-username"
TITLE = "Too many login attempts"
MAX_USERNAME = 255  # MediaWiki's limit; longer is not a name, and not a key worth storing


def client_key() -> str:
    """The client's address (after ProxyFix), or its /64 network for IPv6.

    One IPv6 host usually has a whole /64 to pick addresses from.
    """
    address = request.remote_addr or "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def account_name(raw: str) -> str:
    """The account a login form names, as MediaWiki reads it.

    "alice_smith " and "Alice smith" are one user.  A bot password logs in as
    "Alice@mybot": that is Alice's account ("@" is not allowed in user names),
    so it shares her counter.
    """
    name = " ".join(raw.split("@", 1)[0].replace("_", " ").split())[:MAX_USERNAME]
    return name[:1].upper() + name[1:]


def username_key() -> str:
    return account_name(request.form.get("username", ""))


def _not_a_login_attempt() -> bool:
    return (request.endpoint, request.method) not in LIMITED


def _no_username() -> bool:
    return _not_a_login_attempt() or not username_key()


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


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
        ],
        # A moving window: no burst of twice the limit around a window boundary,
        # and refused attempts do not push the end of the pause further away.
        strategy="moving-window",
        key_prefix="wikilogin",
        **storage,
    )
    limiter.init_app(app)
    # Other requests skip the limiter at once, instead of resolving both limits to exempt them.
    limiter.request_filter(_not_a_login_attempt)

    @app.errorhandler(RateLimitExceeded)
    def too_many_attempts(exc: RateLimitExceeded):
        # window[0]: when the oldest attempt counted against the breached limit expires.
        seconds = max(1, math.ceil(limiter.current_limit.window[0] - time.time()))
        per_user = exc.limit.scope == PER_USER_SCOPE
        app.logger.warning("login rate limit %s %s reached: client=%s user=%s", exc.limit.limit,
                           "per username" if per_user else "per address", client_key(),
                           username_key() or "-")
        message = (f"There were too many login attempts "
                   f"{'for this username' if per_user else 'from your network'} in a short "
                   f"time, so logging in is paused for a while. Please try again in "
                   f"{_wait_text(seconds)}.")
        page = render_template("message.html", title=TITLE, message=message, status=429)
        return page, 429, {"Retry-After": str(seconds)}
