"""``/api``'s ordinary call, answered below Flask: as cheap as a bare proxy.

An editor makes call after call through ``/api``; Flask's request machinery
alone (contexts, hooks, the session object) costs more CPU than the whole
forwarding hop (``bench/proxy.py``, README "Performance").  So a WSGI layer in
front of Flask answers the one case that is nearly every call: a logged-in
user's same-origin GET, or POST with this page's CSRF token, whose parameters
pass ``auth.api_calls`` and whose answer from the wiki is plain JSON that sets
no cookie.  It reads the session and writes nothing.

Everything else goes to the Flask view (``blueprints/api.py``) untouched, which
stays the one place that refuses, explains (in the reader's language), ends a
session the wiki ended and keeps cookies the wiki set.  When the wiki has
already been asked, its answer (or the failure) goes along in the environ, so a
call is never sent twice.
"""
from __future__ import annotations

import hmac
import io
import time
from typing import Any, Callable, Iterable

from flask import Flask
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from wiki.passthrough import RawAnswer, send_stored

from .api_calls import (
    ALLOWED_METHODS, API_PATH, CSRF_HEADER, HANDED_OVER, MAX_BODY, SESSION_GONE, call_params, cross_site, log,
    log_call, own_origins,
)
from .responses import host_allowed, security_headers
from .wiki_session import USER, WIKI_COOKIES

CSRF_ENVIRON = "HTTP_" + CSRF_HEADER.upper().replace("-", "_")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ApiFastPath:
    """WSGI middleware: ordinary ``/api`` calls answered here, every other request passed to ``flask_wsgi``."""

    def __init__(self, app: Flask, flask_wsgi: WSGIApp):
        self.app = app
        self.flask_wsgi = flask_wsgi
        config = app.config
        self.wiki = app.extensions["wiki"]
        self.sessions = app.session_interface
        self.cookie_name = config["SESSION_COOKIE_NAME"]
        self.public_url = config["PUBLIC_URL"]
        self.forward_ip = config["WIKI_FORWARD_CLIENT_IP"]
        # Flask-WTF's own token scheme (flask_wtf.csrf.validate_csrf), read without a request context.
        self.csrf = URLSafeTimedSerializer(config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, salt="wtf-csrf-token")
        self.csrf_field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        self.csrf_max_age = config.get("WTF_CSRF_TIME_LIMIT", 3600)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != API_PATH or environ.get("REQUEST_METHOD") not in ALLOWED_METHODS:
            return self.flask_wsgi(environ, start_response)
        try:
            call = self._ordinary_call(environ)
        except Exception:  # a bug here must not cost the call: the view answers it
            log.exception("api fast path: could not read the call; Flask answers it")
            call = None
        if call is None:
            return self.flask_wsgi(environ, start_response)
        method, params, stored, forwarded_for = call
        began = time.monotonic()
        try:
            sent = send_stored(self.wiki, method, params, stored.get(WIKI_COOKIES) or (), forwarded_for=forwarded_for)
            answer = RawAnswer.of(sent)
        except Exception as exc:  # WikiError, or a bug: the view answers it (and logs a bug)
            environ[HANDED_OVER] = (exc, began)
            return self.flask_wsgi(environ, start_response)
        if answer.sets_cookies or SESSION_GONE in answer.error_codes or not answer.is_json:
            environ[HANDED_OVER] = (sent, began)  # cookies to keep, a session to end, or not JSON to refuse
            return self.flask_wsgi(environ, start_response)
        log_call(params, stored.get(USER), answer.status, answer.error_codes, time.monotonic() - began)
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body))),
                   *security_headers(self.public_url, environ.get("wsgi.url_scheme") == "https"),
                   ("Vary", "Cookie")]  # as Flask-Session marks a response that read the session
        if answer.retry_after:
            headers.append(("Retry-After", answer.retry_after))
        start_response(f"{answer.status} {HTTP_STATUS_CODES.get(answer.status, 'unknown').upper()}", headers)
        return [answer.body]

    def _ordinary_call(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], dict[str, Any],
                                                                str | None] | None:
        """(method, parameters, stored session, address to forward) if this call is ordinary; else None.

        Read with Werkzeug's own Request, as Flask reads it, and with the same
        rules (``auth.api_calls``); nothing is written or refused here.
        """
        req = Request(environ)
        if not host_allowed(req.host, self.public_url):
            return None
        origin = environ.get("HTTP_ORIGIN")
        # This app's origins matter only to a call that names one (browsers leave it out of same-origin GETs).
        own = () if origin is None else own_origins(req.host_url, self.public_url)
        if cross_site(environ.get("HTTP_SEC_FETCH_SITE"), origin, own) is not None:
            return None
        stored = self.sessions.stored_session(self.app, req.cookies.get(self.cookie_name))
        if not stored or not stored.get(USER):
            return None
        form = None
        if req.method == "POST":
            length = req.content_length
            if (length is None or length > MAX_BODY or req.mimetype == "multipart/form-data"
                    or not self._csrf_ok(environ.get(CSRF_ENVIRON), stored)):
                return None
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)  # for Flask, should it answer this call after all
            req = Request({**environ, "wsgi.input": io.BytesIO(body)})
            form = req.form
        params = call_params(req.method, req.query_string, req.args, form)
        if not isinstance(params, list):
            return None
        return req.method, params, stored, (req.remote_addr if self.forward_ip else None)

    def _csrf_ok(self, token: str | None, stored: dict[str, Any]) -> bool:
        """Whether ``token`` is this session's CSRF token, as Flask-WTF's ``validate_csrf`` decides."""
        secret = stored.get(self.csrf_field)
        if not token or not isinstance(secret, str):
            return False
        try:
            raw = self.csrf.loads(token, max_age=self.csrf_max_age)
        except BadData:
            return False
        return isinstance(raw, str) and hmac.compare_digest(secret, raw)
