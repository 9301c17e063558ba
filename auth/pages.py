"""The app's own message pages: what happened, in a sentence a person can act on, and a way on.

Every page that is not a form (an error, "account created", "too many attempts")
is one ``message_page(...)``: the same template, the same status in the page and
in the response, and the same "Home" link.
"""
from __future__ import annotations

from flask import render_template

from wiki import WikiAPIError, WikiError


def message_page(title: str, message: str, *, status: int = 200, retry_url: str | None = None,
                 retry_label: str | None = None, headers: dict[str, str] | None = None,
                 **context) -> tuple[str, int, dict[str, str]]:
    """A page with a title, a message (text is escaped; Markup is shown as it is) and a button on.

    ``status`` 400 and up draws the message as an error.
    """
    page = render_template("message.html", title=title, message=message, status=status, retry_url=retry_url,
                           retry_label=retry_label or "Try again", **context)
    return page, status, dict(headers or {})


def describe_wiki_error(exc: WikiError) -> str:
    """A sentence a person can act on."""
    if isinstance(exc, WikiAPIError):
        if exc.code == "readonly":
            reason = exc.details.get("readonlyreason") or "maintenance"
            return f"The wiki is read-only at the moment ({reason}). Please try again later."
        if exc.code in ("maxlag", "ratelimited"):
            return "The wiki is busy and asked us to slow down. Please try again in a minute."
        return f"The wiki could not do this: {exc.info or exc.code} ({exc.code}). Please try again."
    return f"{exc} Please try again in a moment."


def error_status(exc: WikiError) -> int:
    """503 when the wiki could not be reached, 502 when it answered with an error."""
    return 503 if not isinstance(exc, WikiAPIError) else 502


def wiki_error_page(exc: WikiError, retry_url: str):
    """The page for a wiki that could not be asked: what happened, and a way to try again."""
    return message_page("The wiki is not answering", describe_wiki_error(exc), status=error_status(exc),
                        retry_url=retry_url)


__all__ = ["describe_wiki_error", "error_status", "message_page", "wiki_error_page"]
