"""Which language a page is in, and which way it is written.

The reader's language is the wiki language that best fits the browser's
Accept-Language (``wiki_session.user_language``, which also asks the wiki in
it); without one, the wiki's own content language.  Its writing direction comes
from the CLDR data in Babel, so ``<html dir>`` and the Codex stylesheet (left to
right, or its right-to-left twin) follow the words the wiki sends.
"""
from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError
from flask import g

from wiki import SiteInfo

from . import wiki_session


def page_language(site: SiteInfo | None) -> str:
    """The BCP 47 tag of this page's language."""
    if "page_lang" not in g:
        wiki_session.user_language()  # sets g.page_lang when the browser's language fits the wiki's
    return g.get("page_lang") or (site.lang if site else "") or "en"


@functools.lru_cache(maxsize=512)
def text_direction(tag: str) -> str:
    """"rtl" or "ltr" for a language tag ("ar", "he", "fa", "ckb" ... are right to left)."""
    parts = tag.replace("_", "-").split("-")
    for candidate in ("_".join(parts), parts[0]):
        try:
            return "rtl" if Locale.parse(candidate).text_direction == "rtl" else "ltr"
        except (UnknownLocaleError, ValueError):
            continue
    return "ltr"
