"""What every response gets: security headers, the trusted host, relative redirects, error pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from wiki import WikiError

from .pages import message_page, wiki_error_page
from .words import app_words_only


# Hosts a request may name besides PUBLIC_URL's: local probes (Docker's
# HEALTHCHECK, monitoring on the machine) reach the app by a loopback address.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


def _host_name(netloc: str) -> str:
    """The host of a Host header or URL netloc, lower case, without the port."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc.split("]", 1)[0] + "]"
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def host_allowed(host: str, public_url: str) -> bool:
    """Whether a request naming ``host`` is served: any host without PUBLIC_URL, else its own or loopback."""
    if not public_url:
        return True
    name = _host_name(host)
    return name == _host_name(urlsplit(public_url).netloc) or name in LOOPBACK_HOSTS


def _check_host():
    """With PUBLIC_URL set, answer only requests for that host (trusted hosts).

    A request naming another host (``Host: evil.example``) is someone else's
    address pointed at us, or a probe for links built from it: refused.
    """
    public = current_app.config["PUBLIC_URL"]
    if host_allowed(request.host, public):
        return None
    current_app.logger.warning("refused a request for host %r (PUBLIC_URL is %s)", request.host[:100], public)
    with app_words_only():  # a request for someone else's host costs the wiki nothing
        return message_page(_("Unknown address"), _("This address is not served here."), status=400)


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


BASE_SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    # Not no-referrer: Flask-WTF refuses HTTPS form posts without a same-site Referer.
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),  # for browsers without frame-ancestors
)


def security_headers(public_url: str, secure_request: bool, *, cacheable: bool = False) -> list[tuple[str, str]]:
    """The headers every response gets (``/api``'s fast path sends them itself)."""
    headers = list(BASE_SECURITY_HEADERS)
    # PUBLIC_URL rather than the request: behind a TLS-terminating proxy the
    # app itself may only ever see plain HTTP.
    if public_url.startswith("https://") or secure_request:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    # Every page but the static files shows someone's session (a name, a CSRF
    # token, a login step): nothing for a shared cache to keep, unless a view says so.
    if not cacheable:
        headers.append(("Cache-Control", "no-store"))
    return headers


def _security_headers(response):
    """Headers every response gets, error pages and static files included."""
    for name, value in security_headers(current_app.config["PUBLIC_URL"], request.is_secure,
                                        cacheable=request.endpoint == "static"):
        response.headers.setdefault(name, value)
    return response


ERROR_TEXT = {
    400: (_l("Bad request"), _l("This request could not be understood. Please go back and try again.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way.")),
    413: (_l("Too much data"), _l("What was sent is larger than any login needs. Please check it and try again.")),
    429: (_l("Too many requests"), _l("There were too many requests in a short time. Please wait a few "
                                      "minutes and try again.")),
    401: (_l("Not logged in"), _l("This page needs you to be logged in. Please log in and try again.")),
    403: (_l("Not allowed"), _l("You may not open this page.")),
    502: (_l("The wiki is not answering"), _l("The wiki could not be asked just now. Please try again in a moment.")),
    503: (_l("Not available just now"), _l("This is not available just now. Please try again in a moment.")),
    500: (_l("Something went wrong"), _l("The app hit an unexpected problem. Please try again; if it "
                                         "keeps happening, tell the site's administrators.")),
}


def _page_to_retry() -> str:
    """This page again if a GET can show it (not a POST-only action), else home."""
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return request.full_path if request.method == "GET" else request.path
    return "/"


def init_app(app: Flask) -> None:
    """The trusted-host check, the headers and redirects every response gets, and the error pages."""
    app.before_request(_check_host)
    app.after_request(_relative_redirects)
    app.after_request(_security_headers)
    _register_error_pages(app)


def http_error_page(exc: HTTPException):
    """The app's page for an HTTP error (404, 405, 413...)."""
    # Codes without words of their own: the nearest kind's (4xx: a bad request; 5xx: our problem).
    title, text = ERROR_TEXT.get(exc.code) or ERROR_TEXT[500 if (exc.code or 500) >= 500 else 400]
    return message_page(str(title), str(text), status=exc.code or 500)


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        app.logger.warning("refused a POST without a valid CSRF token: %s", exc.description)
        return message_page(_("This form has expired"),
                            _("The form was open for too long, or was sent from another site, so nothing "
                              "was done. Please go back, reload the page and try again."),
                            status=400, retry_url=_page_to_retry(), retry_label=_("Reload the form"))

    app.register_error_handler(HTTPException, http_error_page)

    @app.errorhandler(WikiError)
    def wiki_error(exc):
        return wiki_error_page(exc, _page_to_retry())

    @app.errorhandler(Exception)
    def unexpected(exc):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        title, text = ERROR_TEXT[500]
        return message_page(str(title), str(text), status=500)
