"""A page's current text, as an editor needs it: the text and what the save must be based on."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .client import WikiClient
from .errors import WikiError, WikiResponseError

EDITABLE_MODEL = "wikitext"
# Characters no MediaWiki title may hold (outside $wgLegalTitleChars by default).
# "|" also separates titles in titles=, so "A|B" would open A: refused before asking.
ILLEGAL_TITLE_CHARS = re.compile(r"[#<>\[\]|{}\x00-\x1f\x7f\ufffd]")


class CannotEdit(WikiError):
    """This title cannot be edited as wikitext here; the message says why, for a person."""


class BadTitle(CannotEdit):
    """Not a title any MediaWiki accepts; found before the wiki is asked."""


@dataclass(frozen=True)
class PageSource:
    """The page's text and the facts ``action=edit`` needs to catch an edit conflict.

    ``revid``/``timestamp`` (baserevid/basetimestamp) name the revision the
    text comes from; ``start_timestamp`` is when it was loaded (starttimestamp),
    so a page deleted meanwhile is caught too.  A page that does not exist yet
    has no revision and an empty text.
    """

    title: str  # as the wiki normalised it ("sandbox" -> "Sandbox")
    exists: bool
    text: str
    start_timestamp: str
    revid: int | None = None
    timestamp: str | None = None
    can_edit: bool = True  # False: protected, blocked, or the session lacks the right
    language: str = "en"  # of the page's content, for the textarea's lang/dir
    direction: str = "ltr"


def load_page_source(client: WikiClient, title: str) -> PageSource:
    """The current wikitext of ``title`` for ``client``'s user, in one request.

    ``assert=user`` is sent, so an expired wiki session raises ``NotLoggedIn``
    rather than quietly reading as an anonymous visitor.  Raises ``CannotEdit``
    for titles that are invalid, special, on another wiki, not wikitext, or
    whose current text is hidden.
    """
    bad = ILLEGAL_TITLE_CHARS.search(title)
    if bad:
        shown = repr(bad.group()) if bad.group().isprintable() else f"U+{ord(bad.group()):04X}"
        raise BadTitle(f"This is not a valid page title: titles cannot contain {shown} "
                         "(nor # < > [ ] | { } or control characters).")
    data = client.get(
        action="query",
        prop="revisions|info",
        titles=title,
        rvslots="main",
        rvprop="content|timestamp|ids",
        intestactions="edit",
        curtimestamp=1,
        **{"assert": "user"},
    )
    try:
        query = data["query"]
        start = str(data["curtimestamp"])
    except (KeyError, TypeError) as exc:
        raise WikiResponseError(f"the page query's answer lacks {exc}") from exc
    if query.get("interwiki"):
        raise CannotEdit("This title points to another wiki; only pages of this wiki can be edited here.")
    pages = query.get("pages") or []
    if not pages or not isinstance(pages[0], dict):
        raise WikiResponseError("the page query's answer has no page")
    return _source(pages[0], start)


def _source(page: dict[str, Any], start: str) -> PageSource:
    if page.get("invalid"):
        reason = page.get("invalidreason") or "The wiki does not accept it."
        raise CannotEdit(f"This is not a valid page title. {reason}")
    if page.get("special"):
        raise CannotEdit("Special pages are made by the wiki's software and cannot be edited.")
    model = page.get("contentmodel", EDITABLE_MODEL)
    if model != EDITABLE_MODEL:
        raise CannotEdit(f"This page holds {model}, not wikitext; this editor edits wikitext only.")
    common = {
        "title": str(page.get("title", "")),
        "start_timestamp": start,
        "can_edit": bool((page.get("actions") or {}).get("edit", True)),
        "language": str(page.get("pagelanguagehtmlcode") or "en"),
        "direction": "rtl" if page.get("pagelanguagedir") == "rtl" else "ltr",
    }
    if page.get("missing"):
        return PageSource(exists=False, text="", **common)
    try:
        revision = page["revisions"][0]
        main = revision["slots"]["main"]
    except (KeyError, IndexError, TypeError) as exc:
        raise WikiResponseError(f"the page's revision lacks {exc}") from exc
    if main.get("texthidden") or "content" not in main:
        raise CannotEdit("The current text of this page is hidden by the wiki's administrators.")
    return PageSource(
        exists=True,
        text=str(main["content"]),
        revid=int(revision["revid"]),
        timestamp=str(revision["timestamp"]),
        **common,
    )
