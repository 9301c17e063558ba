"""The app's settings: every environment variable it reads, checked once at start-up.

``config_from_env`` answers a dict of typed values, or raises ``ConfigError``
with a message that names the variable and says what is wrong with it.
Hand-written rather than a settings library: each message names the variable
and gives an example of a good value, which is what an operator needs at 3 am.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from limits import parse_many

APP_NAME = "wiki-login"
APP_VERSION = "0.1"
ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A configuration value is missing or malformed; the message says which and why."""


# --- configuration ------------------------------------------------------------------

def _url(env: Mapping[str, str], name: str, *, required: bool) -> str:
    value = env.get(name, "").strip()
    if not value:
        if required:
            raise ConfigError(f"{name} is not set: it must be the wiki's api.php URL, "
                              "e.g. https://wiki.example.org/w/api.php")
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name}={value!r} is not an http(s) URL with a host.")
    return value.rstrip("/") if name == "PUBLIC_URL" else value


def _number(env: Mapping[str, str], name: str, default: float, *, integer: bool = False,
            minimum: float = 0, allow_minimum: bool = False) -> Any:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a {'whole ' if integer else ''}number.") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} is not a finite number.")
    if value < minimum or (value == minimum and not allow_minimum):
        raise ConfigError(f"{name}={raw!r} must be {'at least' if allow_minimum else 'greater than'} {minimum}.")
    return value


def _log_level(env: Mapping[str, str]) -> str:
    value = env.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL={value!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL.")
    return value


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a rate limit: write it like {default!r} "
                          "(Flask-Limiter syntax; several limits separated by ';').") from None
    return value


def _redis_url(env: Mapping[str, str]) -> str:
    value = env.get("REDIS_URL", "").strip()
    if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL={value!r} is not a redis://, rediss:// or unix:// URL, "
                          "e.g. redis://redis:6379/0")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r} must be true or false.")


# Every environment variable the app reads (the README lists them).
ENV_VARS = (
    "WIKI_API_URL", "SECRET_KEY", "PUBLIC_URL", "SESSION_DIR", "REDIS_URL", "WIKI_TIMEOUT",
    "LOGIN_FLOW_TTL", "SESSION_LIFETIME", "WIKI_FORWARD_CLIENT_IP", "TRUSTED_PROXIES",
    "WIKI_USER_AGENT_CONTACT", "LOG_LEVEL", "LOGIN_RATE_LIMIT_PER_IP", "LOGIN_RATE_LIMIT_PER_USER",
    "NEW_SESSION_RATE_LIMIT_PER_IP", "WIKI_MESSAGES_TTL", "CAPTCHA_WIDGETS",
)


def config_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Every setting the app reads, checked; raises ConfigError naming the bad variable."""
    secret = env.get("SECRET_KEY", "")
    if len(secret) < 16:
        raise ConfigError("SECRET_KEY is not set or shorter than 16 characters: set it to a long "
                          "random string, e.g. the output of: python -c 'import secrets; "
                          "print(secrets.token_hex(32))'")
    public_url = _url(env, "PUBLIC_URL", required=False)
    contact = env.get("WIKI_USER_AGENT_CONTACT", "").strip() or public_url or "no contact configured"
    return {
        "WIKI_API_URL": _url(env, "WIKI_API_URL", required=True),
        "SECRET_KEY": secret,
        "PUBLIC_URL": public_url,
        "SESSION_DIR": env.get("SESSION_DIR", "").strip() or str(ROOT / "instance" / "sessions"),
        "REDIS_URL": _redis_url(env),
        "WIKI_TIMEOUT": _number(env, "WIKI_TIMEOUT", 10.0),
        "WIKI_MESSAGES_TTL": _number(env, "WIKI_MESSAGES_TTL", 600, integer=True, allow_minimum=True),
        "LOGIN_FLOW_TTL": _number(env, "LOGIN_FLOW_TTL", 900, integer=True),
        "SESSION_LIFETIME": _number(env, "SESSION_LIFETIME", 7 * 24 * 3600, integer=True),
        "WIKI_FORWARD_CLIENT_IP": _flag(env, "WIKI_FORWARD_CLIENT_IP"),
        "CAPTCHA_WIDGETS": _flag(env, "CAPTCHA_WIDGETS"),
        "TRUSTED_PROXIES": _number(env, "TRUSTED_PROXIES", 0, integer=True, allow_minimum=True),
        "USER_AGENT": f"{APP_NAME}/{APP_VERSION} ({contact}) python-requests",
        "LOG_LEVEL": _log_level(env),
        "LOGIN_RATE_LIMIT_PER_IP": _rate_limit(env, "LOGIN_RATE_LIMIT_PER_IP", "30 per 5 minutes"),
        "LOGIN_RATE_LIMIT_PER_USER": _rate_limit(env, "LOGIN_RATE_LIMIT_PER_USER", "10 per 5 minutes"),
        "NEW_SESSION_RATE_LIMIT_PER_IP": _rate_limit(env, "NEW_SESSION_RATE_LIMIT_PER_IP", "120 per 5 minutes"),
    }


# --- the session store ------------------------------------------------------------------

def session_config(config: dict[str, Any]) -> dict[str, Any]:
    """Session cookie and store settings: Redis when REDIS_URL is set, else files in SESSION_DIR.

    Either way each stored session expires SESSION_LIFETIME seconds after its
    last use (a Redis TTL, or the file's expiry time), so nothing piles up; the
    expiry moves at most every tenth of that (see auth/session_store.py).
    """
    secure = config["PUBLIC_URL"].startswith("https://")
    settings: dict[str, Any] = {
        "SESSION_PERMANENT": True,
        "SESSION_REFRESH_EACH_REQUEST": False,  # session_store refreshes, less often
        "PERMANENT_SESSION_LIFETIME": config["SESSION_LIFETIME"],
        # __Host-: the browser accepts it only Secure, for this host, on every path,
        # so no sibling subdomain (or plain-HTTP page) can plant or overwrite it.
        "SESSION_COOKIE_NAME": "__Host-wikilogin_session" if secure else "wikilogin_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_KEY_PREFIX": "wikilogin:",
    }
    if config["REDIS_URL"]:
        import redis

        # Timeouts: a stalled Redis fails a request instead of holding a server
        # thread forever.  The periodic PING replaces connections that a Redis
        # restart left dead.  The login rate limits share this connection pool.
        settings["SESSION_REDIS"] = redis.Redis.from_url(
            config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=5, health_check_interval=30,
        )
    else:
        os.makedirs(config["SESSION_DIR"], mode=0o700, exist_ok=True)
    return settings


