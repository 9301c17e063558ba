"""wiki-login: a login front-end for MediaWiki wikis (action=clientlogin).

``create_app()`` reads the configuration from the environment once, sets up the
extensions and registers the blueprints; ``app`` is what ``flask --app app run``
and ``gunicorn app:app`` serve.
"""
from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from limits import parse_many
from werkzeug.exceptions import HTTPException

from auth import rate_limits, wiki_session
from blueprints import account, api, editor, login, ops
from auth.csrf import csrf
from auth.flow import wiki_error_page
from auth.session_store import session_interface
from auth.wiki_html import image_url, plain_text, sanitize
from wiki import Wiki, WikiError

APP_NAME = "wiki-login"
APP_VERSION = "0.1"
ROOT = Path(__file__).resolve().parent


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
    "NEW_SESSION_RATE_LIMIT_PER_IP",
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
        "LOGIN_FLOW_TTL": _number(env, "LOGIN_FLOW_TTL", 900, integer=True),
        "SESSION_LIFETIME": _number(env, "SESSION_LIFETIME", 7 * 24 * 3600, integer=True),
        "WIKI_FORWARD_CLIENT_IP": _flag(env, "WIKI_FORWARD_CLIENT_IP"),
        "TRUSTED_PROXIES": _number(env, "TRUSTED_PROXIES", 0, integer=True, allow_minimum=True),
        "USER_AGENT": f"{APP_NAME}/{APP_VERSION} ({contact}) python-requests",
        "LOG_LEVEL": _log_level(env),
        "LOGIN_RATE_LIMIT_PER_IP": _rate_limit(env, "LOGIN_RATE_LIMIT_PER_IP", "30 per 5 minutes"),
        "LOGIN_RATE_LIMIT_PER_USER": _rate_limit(env, "LOGIN_RATE_LIMIT_PER_USER", "10 per 5 minutes"),
        "NEW_SESSION_RATE_LIMIT_PER_IP": _rate_limit(env, "NEW_SESSION_RATE_LIMIT_PER_IP", "120 per 5 minutes"),
    }


# --- the session store ------------------------------------------------------------------

def _session_config(config: dict[str, Any]) -> dict[str, Any]:
    """Session cookie and store settings: Redis when REDIS_URL is set, else files in SESSION_DIR.

    Either way each stored session expires SESSION_LIFETIME seconds after its
    last use (a Redis TTL, or the file's expiry time), so nothing piles up; the
    expiry moves at most every tenth of that (see blueprints/session_store.py).
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


# --- the app ------------------------------------------------------------------------

def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The configured app.

    ``test_config`` (tests only) overrides environment variables by name, and
    sets any other Flask config key as given.
    """
    overrides = dict(test_config or {})
    env = {**os.environ, **{k: str(v) for k, v in overrides.items() if k in ENV_VARS}}
    config = config_from_env(env)

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(config)
    app.config.update(_session_config(config))
    app.config.update(
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session instead: an open form never goes stale
        MAX_CONTENT_LENGTH=256 * 1024,
        MAX_FORM_MEMORY_SIZE=128 * 1024,
        MAX_FORM_PARTS=200,
    )
    app.config.update({k: v for k, v in overrides.items() if k not in ENV_VARS})

    _configure_logging(app)
    app.extensions["wiki"] = Wiki(
        app.config["WIKI_API_URL"],
        user_agent=app.config["USER_AGENT"],
        timeout=app.config["WIKI_TIMEOUT"],
    )
    app.session_interface = session_interface(
        app, redis_client=app.config.get("SESSION_REDIS"), session_dir=app.config["SESSION_DIR"])
    csrf.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    rate_limits.init_app(app)
    for blueprint in (account.bp, login.bp, api.bp, editor.bp, ops.bp):
        app.register_blueprint(blueprint)
    _register_error_pages(app)
    app.before_request(_check_host)
    app.after_request(_relative_redirects)
    app.after_request(_security_headers)
    app.context_processor(_template_globals)
    app.jinja_env.filters["wiki_html"] = sanitize
    app.jinja_env.filters["wiki_text"] = plain_text
    app.jinja_env.filters["wiki_image"] = image_url
    return app


class RedactCallbackQuery(logging.Filter):
    """Keep the identity provider's code out of access logs (it is in /login/return's query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            line = record.args[0]
            if "/login/return?" in line:
                path, _, rest = line.partition("?")
                tail = rest.rsplit(" ", 1)[1] if " " in rest else ""
                record.args = (f"{path}?[redacted] {tail}".strip(),) + record.args[1:]
        return True


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, app.config["LOG_LEVEL"], logging.INFO)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("wiki_login", "wiki", app.logger.name):
        logging.getLogger(name).setLevel(level)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactCallbackQuery) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactCallbackQuery())


def _template_globals() -> dict[str, Any]:
    """What every page may show; a view's own values win (Flask never overrides them)."""
    try:
        site = current_app.extensions["wiki"].siteinfo()
    except WikiError:
        site = None
    return {"site": site, "user": wiki_session.current_user(), "page_lang": g.get("page_lang", "en")}


# Hosts a request may name besides PUBLIC_URL's: local probes (Docker's
# HEALTHCHECK, monitoring on the machine) reach the app by a loopback address.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def _host_name(netloc: str) -> str:
    """The host of a Host header or URL netloc, lower case, without the port."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc.split("]", 1)[0] + "]"
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def _check_host():
    """With PUBLIC_URL set, answer only requests for that host (trusted hosts).

    A request naming another host (``Host: evil.example``) is someone else's
    address pointed at us, or a probe for links built from it: refused.
    """
    public = current_app.config["PUBLIC_URL"]
    if not public:
        return None
    host = _host_name(request.host)
    if host == _host_name(urlsplit(public).netloc) or host in LOOPBACK_HOSTS:
        return None
    current_app.logger.warning("refused a request for host %r (PUBLIC_URL is %s)", request.host[:100], public)
    return render_template("message.html", title="Unknown address",
                           message="This address is not served here.", status=400), 400


def _relative_redirects(response):
    """Redirects to this app's own pages carry a path, never an address built from the Host header.

    Werkzeug's routing redirects (``/edit//x`` to ``/edit/x``) are absolute,
    made from whatever Host the client sent.
    """
    location = response.headers.get("Location")
    if location and response.status_code in (301, 302, 303, 307, 308):
        parts = urlsplit(location)
        if parts.netloc and parts.netloc.lower() == request.host.lower():
            response.headers["Location"] = parts.path + (f"?{parts.query}" if parts.query else "")
    return response


# No inline script or style anywhere, so none is allowed.  No form-action
# directive: a login POST may be answered with a redirect to the identity
# provider's site, which browsers would block under form-action 'self'.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _security_headers(response):
    """Headers every response gets, error pages and static files included."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # Not no-referrer: Flask-WTF refuses HTTPS form posts without a same-site Referer.
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")  # for browsers without frame-ancestors
    # PUBLIC_URL rather than the request: behind a TLS-terminating proxy the
    # app itself may only ever see plain HTTP.
    if current_app.config["PUBLIC_URL"].startswith("https://") or request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Every page but the static files shows someone's session (a name, a CSRF
    # token, a login step): nothing for a shared cache to keep, unless a view says so.
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


ERROR_TEXT = {
    400: ("Bad request", "This request could not be understood. Please go back and try again."),
    404: ("Page not found", "There is no page at this address."),
    405: ("Not allowed", "This page cannot be used this way."),
    413: ("Too much data", "What was sent is larger than any login needs. Please check it and try again."),
    429: ("Too many requests", "There were too many requests in a short time. Please wait a few "
                               "minutes and try again."),
    500: ("Something went wrong", "The app hit an unexpected problem. Please try again; if it "
                                  "keeps happening, tell the site's administrators."),
}


def _page_to_retry() -> str:
    """This page again if a GET can show it (not a POST-only action), else home."""
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return request.full_path if request.method == "GET" else request.path
    return "/"


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        app.logger.warning("refused a POST without a valid CSRF token: %s", exc.description)
        return render_template(
            "message.html",
            title="This form has expired",
            message="The form was open for too long, or was sent from another site, so nothing "
                    "was done. Please go back, reload the page and try again.",
            retry_url=_page_to_retry(),
            retry_label="Reload the form",
            status=400,
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 405 and request.path == api.API_PATH:
            return api.method_not_allowed()  # the API's callers read JSON, whatever the method
        title, text = ERROR_TEXT.get(exc.code, (exc.name, exc.description or ""))
        return render_template("message.html", title=title, message=text, status=exc.code), exc.code

    @app.errorhandler(WikiError)
    def wiki_error(exc):
        return wiki_error_page(exc, _page_to_retry())

    @app.errorhandler(Exception)
    def unexpected(exc):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        title, text = ERROR_TEXT[500]
        return render_template("message.html", title=title, message=text, status=500), 500


def __getattr__(name: str) -> Flask:
    # `gunicorn app:app` and `flask --app app` look up `app`; building it on
    # first use lets tests and tools import this module without configuration.
    if name != "app":
        raise AttributeError(name)
    try:
        built = create_app()
    except ConfigError as exc:
        raise SystemExit(f"wiki-login cannot start: {exc}") from None
    globals()["app"] = built
    return built
