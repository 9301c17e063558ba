"""The app's own message pages: what happened, in a sentence a person can act on, and a way on.

Every page that is not a form (an error, "account created", "too many attempts")
is one ``message_page(...)``: the same template, the same status in the page and
in the response, and the same "Home" link.
"""
from __future__ import annotations

import math
import re

from flask import current_app, render_template
from flask_babel import LazyString, gettext as _, ngettext

from wiki import WikiAPIError, WikiError, WikiUnavailable
from wiki.errors import WikiTimeout, WikiUnreachable

SERVER_ERROR = re.compile(r"\(HTTP (\d+)\)")


def message_page(title: str, message: str, *, status: int = 200, retry_url: str | None = None,
                 retry_label: str | None = None, headers: dict[str, str] | None = None,
                 **context) -> tuple[str, int, dict[str, str]]:
    """A page with a title, a message (text is escaped; Markup is shown as it is) and a button on.

    ``status`` 400 and up draws the message as an error.
    """
    # Lazy words become text here: Jinja would take a LazyString (it has __html__) for HTML.
    title, message, retry_label = (str(w) if isinstance(w, LazyString) else w for w in (title, message, retry_label))
    page = render_template("message.html", title=title, message=message, status=status, retry_url=retry_url,
                           retry_label=retry_label or _("Try again"), **context)
    return page, status, dict(headers or {})


def describe_wiki_error(exc: WikiError) -> str:
    """A sentence a person can act on, in the reader's language (the wiki's own words as it sent them)."""
    if isinstance(exc, WikiAPIError):
        if exc.code == "readonly":
            reason = exc.details.get("readonlyreason") or _("maintenance")
            return _("The wiki is read-only at the moment (%(reason)s). Please try again later.", reason=reason)
        if exc.code in ("maxlag", "ratelimited"):
            return _("The wiki is busy and asked us to slow down. Please try again in a minute.")
        return _("The wiki could not do this: %(info)s (%(code)s). Please try again.",
                 info=exc.info or exc.code, code=exc.code)
    return _("%(problem)s Please try again in a moment.", problem=unavailable_words(exc))


def unavailable_words(exc: WikiError) -> str:
    """What went wrong on the way to the wiki, in the reader's language (wiki's errors are English)."""
    if isinstance(exc, WikiTimeout):
        seconds = float(getattr(current_app.extensions.get("wiki"), "timeout", None)
                        or current_app.config.get("WIKI_TIMEOUT", 10.0))
        return ngettext("The wiki did not answer within %(seconds)s second.",
                        "The wiki did not answer within %(seconds)s seconds.",
                        max(1, math.ceil(seconds)), seconds=f"{seconds:g}")
    if isinstance(exc, WikiUnreachable):
        return _("The wiki could not be reached.")
    server_error = SERVER_ERROR.search(str(exc)) if type(exc) is WikiUnavailable else None
    if server_error:
        return _("The wiki answered with a server error (HTTP %(status)s).", status=server_error[1])
    return str(exc)  # WikiResponseError: the wiki answered nonsense (for its administrators)


def error_status(exc: WikiError) -> int:
    """503 when the wiki could not be reached, 502 when it answered with an error."""
    return 503 if not isinstance(exc, WikiAPIError) else 502


def wiki_error_page(exc: WikiError, retry_url: str):
    """The page for a wiki that could not be asked: what happened, and a way to try again."""
    return message_page(_("The wiki is not answering"), describe_wiki_error(exc), status=error_status(exc),
                        retry_url=retry_url)


__all__ = ["describe_wiki_error", "unavailable_words", "error_status", "message_page", "wiki_error_page"]
