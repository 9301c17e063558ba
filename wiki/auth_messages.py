"""The words of the login form, kept: what the wiki would otherwise render as HTML for every visitor.

``meta=authmanagerinfo`` with ``amimessageformat=html`` makes the wiki parse every
field's label and help, and each request's provider and account description,
on every visit (about a third of that request's time on the wiki).  Those words
change only when the wiki's messages do, and they are the same for every visitor
of one language.  So they are fetched as HTML once per (action, language), kept
for ``ttl`` seconds, and later visits ask with ``amimessageformat=none`` and get
the words from here.  What is each visitor's own (a captcha's id and question,
in the fields' ``value``; the token) always comes fresh, since it is never a
message.  A request or field not seen before (a captcha that appears after bad
logins) is a miss: the caller asks once more with HTML, and the words are kept.
"""
from __future__ import annotations

import copy
import threading
import time
from typing import Any

# What ApiAuthManagerHelper::formatMessage renders: per request, and per field.
REQUEST_MESSAGES = ("provider", "account")
FIELD_MESSAGES = ("label", "help")


class AuthMessages:
    """Per (action, language): each request's and field's rendered words, with an expiry."""

    def __init__(self, ttl: float = 600.0):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._words: dict[tuple[str, str], tuple[float, dict[tuple[str, str], dict[str, str]]]] = {}

    def known(self, action: str, lang: str) -> bool:
        """Whether words for this action and language are kept and fresh."""
        if self.ttl <= 0:
            return False
        with self._lock:
            entry = self._words.get((action, lang))
        return entry is not None and time.monotonic() < entry[0]

    def keep(self, action: str, lang: str, info: dict[str, Any]) -> None:
        """Keep the words of an ``authmanagerinfo`` answered with HTML messages."""
        words = _words_of(info)
        with self._lock:
            expires, old = self._words.get((action, lang), (0.0, {}))
            # New requests (a captcha) join the words kept; the expiry stays that of the first.
            fresh = time.monotonic() >= expires
            self._words[(action, lang)] = (time.monotonic() + self.ttl if fresh else expires,
                                           words if fresh else {**old, **words})

    def fill(self, action: str, lang: str, info: dict[str, Any]) -> dict[str, Any] | None:
        """``info`` (asked with ``amimessageformat=none``) with the kept words put back; None on a miss."""
        with self._lock:
            expires, words = self._words.get((action, lang), (0.0, {}))
        if time.monotonic() >= expires or not isinstance(info, dict):
            return None
        filled = copy.deepcopy(info)
        for req in filled.get("requests") or ():
            found = words.get((str(req.get("id")), ""))
            if found is None:
                return None
            req.update(found)
            for name, field in (req.get("fields") or {}).items():
                found = words.get((str(req.get("id")), str(name)))
                if found is None:
                    return None
                field.update(found)
        return filled


def _words_of(info: Any) -> dict[tuple[str, str], dict[str, str]]:
    words: dict[tuple[str, str], dict[str, str]] = {}
    for req in (info.get("requests") if isinstance(info, dict) else None) or ():
        if not isinstance(req, dict):
            continue
        rid = str(req.get("id"))
        words[(rid, "")] = {k: req[k] for k in REQUEST_MESSAGES if k in req}
        for name, field in (req.get("fields") or {}).items():
            if isinstance(field, dict):
                words[(rid, str(name))] = {k: field[k] for k in FIELD_MESSAGES if k in field}
    return words
