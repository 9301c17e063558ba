"""The same-origin Action API: ``/api`` forwards a logged-in user's calls to the wiki.

A custom editor on this app's pages talks to the wiki as its user without ever
holding the user's wiki cookies: it calls ``/api`` with the parameters of the
wiki's api.php and gets the wiki's JSON and HTTP status back unchanged.

The guards, in the order they run; each refusal is JSON in the wiki's own
error shape (``{"error": {"code": ..., "info": ...}}``) and reaches no wiki:
0. GET or POST only (HEAD, OPTIONS, PUT... never reach the wiki)  405 badmethod
1. same origin only (``Sec-Fetch-Site``, ``Origin``)            403 crosssite
2. a logged-in user                                               401 notloggedin
3. POSTs carry this page's CSRF token in ``X-CSRFToken``          400 badcsrf
4. parameters: plain names only (``PARAM_NAME``: nothing PHP would rename),
   no authentication modules (the app owns logging in and out),
   JSON only, no JSONP/CORS, bounded count and size, no uploads    400/403/413
Then ``assert=user`` is added; if the wiki answers ``assertuserfailed`` the
user's wiki session is gone, so ours ends too                     401 sessionexpired
The browser's cookies never reach the wiki (the call carries only the user's
stored wiki cookies), and the wiki's Set-Cookie never reaches the browser.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import LazyString, lazy_gettext as _l
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from wiki import WikiError, origin_of
from wiki.passthrough import forward

from auth import wiki_session
from auth.api_calls import (
    ALLOWED_METHODS, API_PATH, CSRF_HEADER, HANDED_OVER, MAX_BODY, MAX_PARAMS, SESSION_GONE, Refusal, call_params, cross_site,
    own_origins,
    log, log_call,
)
from auth.pages import unavailable_words
from auth.responses import ERROR_TEXT, http_error_page
from auth.csrf import csrf
from auth.urls import safe_returnto
from auth.words import app_words_only

bp = Blueprint("api", __name__)

# Where the calling page is, for the login link of a 401 (a path on this app).
RETURN_TO_HEADER = "X-Return-To"


# Every common method is routed here, so that Flask's automatic HEAD (a GET route
# also answers HEAD) and OPTIONS are refused by api() itself, in JSON.
@bp.route(API_PATH, methods=[*ALLOWED_METHODS, "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"],
          provide_automatic_options=False)
@csrf.exempt  # checked in _bad_csrf, after the origin check, and answered in JSON
def api():
    """Forward one Action API call as the logged-in user; the wiki's answer, unchanged."""
    if request.method not in ALLOWED_METHODS:
        return method_not_allowed()
    # Large enough for a whole page's text (the app-wide limit fits login forms).
    request.max_content_length = MAX_BODY
    request.max_form_memory_size = MAX_BODY
    request.max_form_parts = MAX_PARAMS + 1
    refusal = _cross_site() or _not_logged_in() or _bad_csrf()
    if refusal is not None:
        return refusal
    params = call_params(request.method, request.query_string, request.args,
                         request.form if request.method == "POST" else None,
                         has_files=request.method == "POST" and bool(request.files))
    if isinstance(params, Refusal):
        return _refuse(params.status, params.code, params.info, **params.extra)

    client = wiki_session.wiki_client(lang=False)
    sent, began = request.environ.pop(HANDED_OVER, (None, time.monotonic()))
    if isinstance(sent, BaseException):
        raise sent  # WikiError: see api_wiki_error
    answer = forward(client, request.method, params, sent=sent)  # WikiError: see api_wiki_error
    log_call(params, wiki_session.current_user(), answer.status, answer.error_codes, time.monotonic() - began)
    if SESSION_GONE in answer.error_codes:
        wiki_session.end_user_session()
        return _refuse(401, "sessionexpired",
                       _l("Your session on the wiki has ended, so you are logged out here too. "
                          "Log in again, then retry."), login_url=_login_url())
    if not answer.is_json:
        # Never serve the wiki's HTML (an error page) from our origin.
        return _refuse(502, "badwikiresponse",
                       _l("The wiki answered with something that is not JSON (HTTP %(status)s). "
                          "Please try again in a moment.", status=answer.status))
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    if answer.retry_after:
        response.headers["Retry-After"] = answer.retry_after
    return response


def method_not_allowed() -> Response:
    """405 badmethod, in JSON, for any method but GET and POST (the app's 405 handler calls it too)."""
    response = _refuse(405, "badmethod", _l("This API answers GET and POST only, not %(method)s.",
                                            method=request.method[:20]))
    response.headers["Allow"] = ", ".join(ALLOWED_METHODS)
    return response


@bp.app_errorhandler(405)
def any_method_not_allowed(exc: HTTPException):
    """Methods no route knows never reach api(): for /api too, the answer is JSON."""
    return method_not_allowed() if request.path == API_PATH else http_error_page(exc)


# Errors inside /api answer JSON for the caller's code, never the app's HTML pages.

@bp.errorhandler(WikiError)
def api_wiki_error(exc: WikiError):
    """The wiki could not be reached in time: 502, and what happened."""
    return _refuse(502, "wikiunavailable", _l("%(problem)s Please try again in a moment.",
                                              problem=LazyString(unavailable_words, exc)))


@bp.errorhandler(RequestEntityTooLarge)
def api_too_large(exc: RequestEntityTooLarge):
    """The body was larger than MAX_BODY, or a multipart body had more than MAX_PARAMS + 1 parts.

    Werkzeug counts parts (max_form_parts) in multipart/form-data bodies only; a
    urlencoded body's parameters are counted in _params, which answers the same 413.
    """
    return _refuse(413, "toolarge", _l("This call is larger than this app forwards "
                                       "(at most %(mib)d MiB and %(params)d parameters).",
                                       mib=MAX_BODY // (1024 * 1024), params=MAX_PARAMS))


@bp.errorhandler(HTTPException)
def api_http_error(exc: HTTPException):
    """Any other HTTP error inside /api, in the same JSON shape."""
    known = ERROR_TEXT.get(exc.code or 500)  # the app's words for it; others are Werkzeug's English
    return _refuse(exc.code or 500, "http", known[1] if known else exc.description or exc.name)


@bp.errorhandler(Exception)
def api_unexpected(exc: Exception):
    """A bug: logged with its traceback for us, a plain sentence for the caller."""
    log.exception("unexpected error in /api")
    return _refuse(500, "internal", _l("This app hit an unexpected problem. Please try again; if it keeps "
                                       "happening, tell the site's administrators."))


# --- the guards -----------------------------------------------------------------------

def _cross_site() -> Response | None:
    """403 unless the call comes from this app's own pages (or is typed in the address bar)."""
    site, origin = request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin")
    refusal = cross_site(site, origin, own_origins(request.host_url, current_app.config["PUBLIC_URL"]))
    if refusal is None:
        return None
    log.warning("api refused a cross-site call: Sec-Fetch-Site=%s Origin=%s", site, origin)
    return _refuse(refusal.status, refusal.code, refusal.info)


def _not_logged_in() -> Response | None:
    if wiki_session.current_user():
        return None
    return _refuse(401, "notloggedin", _l("You are not logged in. Log in, then retry."), login_url=_login_url())


def _bad_csrf() -> Response | None:
    # Only GET and POST get this far (api() refuses the rest, HEAD included).
    # GETs change nothing (the wiki refuses writes that are not POSTed); anything
    # else is checked.
    if request.method == "GET":
        return None
    try:
        validate_csrf(request.headers.get(CSRF_HEADER))
    except ValidationError as exc:
        log.warning("api refused a POST without a valid CSRF token: %s", exc)
        return _refuse(400, "badcsrf", _l("This call lacks the page's CSRF token (send it in the "
                                          "%(header)s header). Reload the page and try again.", header=CSRF_HEADER))
    return None


# --- answers ------------------------------------------------------------------------------

def _login_url() -> str:
    """The login page, coming back to the calling page afterwards (same origin only)."""
    back = safe_returnto(request.headers.get(RETURN_TO_HEADER)) or _referrer_path()
    return url_for("login.login", returnto=back) if back else url_for("login.login")


def _referrer_path() -> str:
    referrer = request.referrer or ""
    if not referrer or origin_of(referrer) not in own_origins(request.host_url, current_app.config["PUBLIC_URL"]):
        return ""
    parts = urlsplit(referrer)
    return safe_returnto(parts.path + (f"?{parts.query}" if parts.query else ""))


def _refuse(status: int, code: str, info: str | LazyString, **extra: str) -> Response:
    # The words are worked out here, from the app's catalogs alone: a refusal asks the wiki nothing.
    with app_words_only():
        info = str(info)
    response = jsonify({"error": {"code": code, "info": info, **extra}})
    response.status_code = status
    response.headers["MediaWiki-API-Error"] = code  # as the wiki marks its own errors
    return response
