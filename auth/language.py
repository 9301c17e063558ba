"""Which language a page is in, and which way it is written.

The reader's language is, in this order: ``?uselang=`` (kept in every link and
form of the pages that follow, as on the wiki), the language of the browser's
Accept-Language that fits best, the wiki's content language.  Only languages
the wiki knows count, so the wiki's words (its messages, its field labels, its
errors) come in the same language as the app's own.  Its writing direction and
number formats come from the CLDR data in Babel; the app's own words from the
catalog of the language or of the nearest one in MediaWiki's fallback chain
(``gsw`` falls back to ``de``), else English.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from flask import current_app, g, has_request_context, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from wiki import SiteInfo, WikiError

# The app's own catalogs: translations/<locale>/LC_MESSAGES/messages.po (compiled by make).
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
SOURCE_LOCALE = "en"


@dataclass(frozen=True)
class Language:
    """The reader's language: as MediaWiki names it, as HTML does, and for Babel."""

    code: str  # MediaWiki's code: uselang, amlang ("de", "zh-hans", "sr-ec")
    tag: str  # BCP 47, for <html lang> ("de", "zh-Hans", "sr-Cyrl")
    locale: str  # Babel's locale for the app's catalog and number formats ("de", "zh_Hans")
    dir: str  # "ltr" or "rtl"
    chosen: bool = False  # asked for with ?uselang=, so kept in links


def reader_language() -> Language:
    """This request's language (worked out once per request)."""
    if "wl_language" not in g:
        g.wl_language = _choose()
    return g.wl_language


def _choose() -> Language:
    try:
        site: SiteInfo | None = current_app.extensions["wiki"].siteinfo()
    except WikiError:  # no language list is no reason to fail a page: the app's own catalogs
        site = None
    return language_among(site)


def language_among(site: SiteInfo | None) -> Language:
    """The request's language among the wiki's languages; with ``site`` None, among the app's catalogs."""
    codes = dict(site.languages) if site else {code: code for code in available_catalogs()}
    by_code = {code: tag for tag, code in codes.items()}
    asked = request.args.get("uselang", "").strip().lower()
    if asked in by_code:
        return language_of(asked, by_code[asked], chosen=True)
    header = request.headers.get("Accept-Language", "")
    best = _best_language(header, tuple(codes)) if header else None
    if best:
        return language_of(codes[best], best)
    content = site.lang if site else SOURCE_LOCALE
    return language_of(content, next((t for t, c in codes.items() if c == content), content))


@functools.lru_cache(maxsize=1024)
def language_of(code: str, tag: str, chosen: bool = False) -> Language:
    """The Language record of a MediaWiki code and its BCP 47 tag."""
    locale = babel_locale(tag)
    return Language(code=code, tag=tag, locale=str(locale) if locale else SOURCE_LOCALE,
                    dir=text_direction(tag), chosen=chosen)


@functools.lru_cache(maxsize=256)
def _best_language(header: str, tags: tuple[str, ...]) -> str | None:
    """Werkzeug's best match for an Accept-Language header among the wiki's language tags.

    It compares each accepted value with each of the wiki's ~480 tags (0.4 ms a
    request); browsers send few distinct headers, so each is matched once.
    """
    return parse_accept_header(header, LanguageAccept).best_match(tags)


def babel_locale(tag: str) -> Locale | None:
    """Babel's locale for a tag, or for its first subtag; None for a language CLDR lacks."""
    parts = tag.replace("_", "-").split("-")
    for candidate in ("_".join(parts), parts[0]):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return None


@functools.lru_cache(maxsize=512)
def text_direction(tag: str) -> str:
    """"rtl" or "ltr" for a language tag ("ar", "he", "fa", "ckb" ... are right to left)."""
    locale = babel_locale(tag)
    return "rtl" if locale is not None and locale.text_direction == "rtl" else "ltr"


@functools.lru_cache(maxsize=1)
def available_catalogs() -> tuple[str, ...]:
    """The locales the app has its own words in (English, the source, and each catalog)."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    return (SOURCE_LOCALE, *found)


def catalog_locale(language: Language, fallbacks: tuple[str, ...] = ()) -> str:
    """The catalog for this language: its own, a MediaWiki fallback's, else English.

    Babel's gettext already falls back from ``de_CH`` to ``de``; MediaWiki's
    chains (``gsw`` → ``de``, ``ary`` → ``ar``) reach further.
    """
    have = set(available_catalogs())
    for tag in (language.tag, *fallbacks):
        locale = babel_locale(tag)
        if locale is None:
            continue
        for name in (str(locale), locale.language):
            if name in have:
                return name
    return SOURCE_LOCALE


def _locale_selector() -> str:
    """Flask-Babel's locale: the catalog's (a fallback's, when the language has none) else the language's own."""
    language = reader_language()
    catalog = catalog_locale(language)
    if catalog == SOURCE_LOCALE and not language.tag.startswith(SOURCE_LOCALE) and not g.get("wl_app_words_only"):
        try:  # no catalog of its own: the nearest in MediaWiki's fallback chain (gsw -> de)
            catalog = catalog_locale(language, current_app.extensions["wiki"].words(language.code).fallbacks)
        except Exception:  # noqa: BLE001 - without fallbacks: English
            pass
    own = babel_locale(language.tag)
    if own is not None and catalog in (str(own), own.language):
        return language.locale  # its own catalog (de_CH reads de's): formats for de_CH
    return catalog if catalog != SOURCE_LOCALE else language.locale


def init_app(app) -> None:
    """Flask-Babel for the app's own words, in the reader's language; ``uselang`` kept in links."""
    from flask_babel import Babel

    Babel(app, locale_selector=_locale_selector, default_translation_directories=str(TRANSLATIONS))

    @app.url_defaults
    def keep_uselang(endpoint: str, values: dict) -> None:
        # ?uselang= holds for the pages that follow, as on the wiki (not for static files).
        if endpoint != "static" and "uselang" not in values and has_request_context() \
                and "uselang" in request.args and reader_language().chosen:
            values["uselang"] = reader_language().code
