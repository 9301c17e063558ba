"""What ``/api`` forwards and what it refuses: the rules, with no Flask in them.

Both ways a call is answered use these: the Flask view (``blueprints/api.py``),
which answers every refusal in the reader's language, and the fast path
(``auth/api_fast_path.py``), which answers only calls these rules let through.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Iterable

from flask_babel import LazyString, lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from wiki import origin_of

log = logging.getLogger("wiki_login.api")

API_PATH = "/api"
ALLOWED_METHODS = ("GET", "POST")
# The app logs people in and out itself; these modules would let a page bypass
# that (or handle a password), so they are never forwarded.
AUTH_MODULES = frozenset({
    "login", "clientlogin", "logout", "createaccount", "linkaccount", "unlinkaccount",
    "changeauthenticationdata", "removeauthenticationdata", "resetpassword", "validatepassword",
    # Extensions': a second factor, a security key, a cross-wiki login token.
    "oathvalidate", "webauthn", "centralauthtoken",
})
# JSONP, CORS and token-based login change who the wiki thinks is calling.
REFUSED_PARAMS = frozenset({"callback", "origin", "crossorigin", "centralauthtoken"})
CSRF_HEADER = "X-CSRFToken"
# The wiki's pages go up to 2 MiB; form-encoding can triple non-ASCII text.
MAX_BODY = 8 * 1024 * 1024
MAX_QUERY_STRING = 16 * 1024
MAX_PARAMS = 100
MAX_NAME_LENGTH = 100
# The only parameter names forwarded.  PHP renames others before the wiki sees
# them ("+action" or " action" is read as "action", so is "action[]" and
# "action\0x"; "." and " " become "_"), which would slip them past the exact-name
# checks below.  Every MediaWiki 1.39 API parameter fits, templated ones
# (compare's fromtext-{slot}, e.g. fromtext-main) included.
PARAM_NAME = re.compile(r"[A-Za-z0-9_-]+")
# The wiki's own answer when its session for this user has ended.
SESSION_GONE = "assertuserfailed"
# In the WSGI environ (no client can set it): the wiki's answer to a call the fast
# path (auth/api_fast_path.py) already sent, or what went wrong sending it, and
# when it was sent (time.monotonic(), for the log line's duration).
HANDED_OVER = "wiki_login.api_sent"
# Browsers' Sec-Fetch-Site values of a call from this app's pages, or typed in the address bar.
SAME_SITE = (None, "same-origin", "none")


@dataclass(frozen=True)
class Refusal:
    """A call ``/api`` does not forward: the HTTP status, the API error code, the reader's words."""

    status: int
    code: str
    info: str | LazyString
    extra: dict[str, str] = field(default_factory=dict)


def own_origins(host_url: str, public_url: str) -> set[str]:
    """This app's origins: the one the request was made to, and PUBLIC_URL's."""
    return {origin_of(host_url), *([origin_of(public_url)] if public_url else [])}


def cross_site(site: str | None, origin: str | None, own_origins: Iterable[str]) -> Refusal | None:
    """403 unless the call comes from this app's own pages (or is typed in the address bar)."""
    if site not in SAME_SITE or (origin is not None and origin not in own_origins):
        return Refusal(403, "crosssite", _l("This API answers this app's own pages only."))
    return None


def call_params(method: str, query_string: bytes, args: MultiDict, form: MultiDict | None,
                has_files: bool = False) -> list[tuple[str, str]] | Refusal:
    """What to send the wiki: the caller's parameters, checked, with format=json and assert=user.

    ``args`` and ``form`` as Werkzeug parses them (the query string; a POST's
    body, where everything may be, as with api.php).
    """
    if len(query_string) > MAX_QUERY_STRING:
        return Refusal(413, "toolarge", _l("This call's address is too long; send the parameters in a POST body."))
    source = MultiDict(args)
    if method == "POST":
        if has_files:
            return Refusal(400, "nouploads", _l("File uploads cannot be sent through this app. "
                                                "Upload files on the wiki itself."))
        source.update(form or ())
    items = list(source.items(multi=True))
    if len(items) > MAX_PARAMS or any(len(name) > MAX_NAME_LENGTH for name, _ in items):
        return Refusal(413, "toolarge", _l("This call has more parameters than this app forwards (at most "
                                           "%(params)d).", params=MAX_PARAMS))
    odd = next((name for name, _ in items if not PARAM_NAME.fullmatch(name)), None)
    if odd is not None:
        return Refusal(400, "badparams", _l("The parameter name %(name)s is not accepted here: "
                                            "parameter names are letters, digits, \"_\" and \"-\" only.",
                                            name=json.dumps(odd)))
    names = {name for name, _ in items}
    refused = sorted(names & REFUSED_PARAMS)
    if refused:
        return Refusal(400, "badparams", _l("The parameter %(name)s= is not available here: "
                                            "this API answers this app's own pages, as the logged-in user.",
                                            name=refused[0]))
    formats = {value for name, value in items if name == "format"}
    if formats - {"json"}:
        return Refusal(400, "badformat", _l("This API answers in JSON only (format=json)."))
    actions = {value.strip().lower() for name, value in items if name == "action"}
    module = next(iter(sorted(actions & AUTH_MODULES)), None)
    if module:
        return Refusal(403, "authmodule", _l("action=%(module)s is not available here: this app handles "
                                             "logging in and out itself, on its own pages.", module=module))
    # Ours win: JSON, and a call that fails rather than runs as an anonymous visitor.
    kept = [(name, value) for name, value in items if name not in ("format", "assert")]
    return kept + [("format", "json"), ("assert", "user")]


def log_call(params: list[tuple[str, str]], user: str | None, status: int, error_codes: frozenset[str],
             seconds: float) -> None:
    """One line a call: who, which action, how it went. Never the parameters (page text, tokens)."""
    # Routine calls at DEBUG; the wiki's refusals are worth a line in the normal log.
    level = logging.INFO if error_codes else logging.DEBUG
    if not log.isEnabledFor(level):  # the line's fields are not worked out for nothing (most calls)
        return
    action = next((value for name, value in params if name == "action"), "-")
    log.log(level, "api action=%s user=%s status=%d errors=%s duration_ms=%d", action, user,
            status, ",".join(sorted(error_codes)) or "-", seconds * 1000)
