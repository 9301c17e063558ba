"""wiki-login: a login front-end for MediaWiki wikis (action=clientlogin).

``create_app()`` reads the configuration from the environment once, sets up the
extensions and registers the blueprints; ``app`` is what ``flask --app app run``
and ``gunicorn app:app`` serve.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask, current_app

from auth import language, rate_limits, responses, wiki_session
from auth.api_fast_path import ApiFastPath
from auth.config import ENV_VARS, ConfigError, config_from_env, session_config
from auth.csrf import csrf
from auth.session_store import session_interface
from auth.words import WIKI_WORDS, group_name, msg, msg_text
from auth.wiki_html import image_url, plain_text, sanitize
from blueprints import account, api, bot_login, credentials, editor, linking, login, ops
from wiki import Wiki, WikiError

__all__ = ["ConfigError", "create_app"]

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
    app.config.update(session_config(config))
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
        messages_ttl=app.config["WIKI_MESSAGES_TTL"],
        message_names=WIKI_WORDS,
        shared_store=app.config.get("SESSION_REDIS"),
    )
    app.session_interface = session_interface(
        app, redis_client=app.config.get("SESSION_REDIS"), session_dir=app.config["SESSION_DIR"])
    csrf.init_app(app)
    language.init_app(app)
    rate_limits.init_app(app)
    wiki_session.init_app(app)
    for blueprint in (account.bp, login.bp, credentials.bp, linking.bp, bot_login.bp, api.bp, editor.bp, ops.bp):
        app.register_blueprint(blueprint)
    responses.init_app(app)
    app.context_processor(_template_globals)
    app.jinja_env.filters["wiki_html"] = sanitize
    app.jinja_env.filters["wiki_text"] = plain_text
    app.jinja_env.filters["wiki_image"] = image_url
    app.jinja_env.globals.update(msg=msg, msg_text=msg_text, group_name=group_name)
    # The editor's ordinary /api calls are answered before Flask (auth/api_fast_path.py).
    app.wsgi_app = ApiFastPath(app, app.wsgi_app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
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
    lang = language.reader_language()
    return {"site": site, "user": wiki_session.current_user(), "page_lang": lang.tag, "page_dir": lang.dir}


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
