"""The wiki's own words for the app's pages, one language at a time, kept.

MediaWiki translates almost every word a login page needs ("login",
"createaccount", "savechanges", ...) into hundreds of languages, and its
translators know the wiki's terms better than any catalog of ours.  One
request per language (``meta=allmessages|languageinfo``: the messages with
magic words such as ``{{SITENAME}}`` expanded, and the language's fallback chain
and direction) brings them all; they are kept per process for ``ttl`` seconds
and, where a shared store is given (Redis), for every process.  Only the first
visitor in a language waits for that request: when the words are older than
``ttl`` they are still served while one background thread asks again.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

log = logging.getLogger("wiki")

RETRY_AFTER_FAILURE = 60.0


@dataclass(frozen=True)
class LanguageWords:
    """One language's messages (name → text; missing ones absent), fallbacks and direction."""

    lang: str
    messages: dict[str, str] = field(default_factory=dict)
    fallbacks: tuple[str, ...] = ()
    dir: str = ""

    def to_json(self) -> str:
        return json.dumps({"lang": self.lang, "messages": self.messages,
                           "fallbacks": list(self.fallbacks), "dir": self.dir})

    @classmethod
    def from_json(cls, text: str | bytes) -> "LanguageWords":
        data = json.loads(text)
        return cls(lang=data["lang"], messages=dict(data["messages"]),
                   fallbacks=tuple(data["fallbacks"]), dir=data["dir"])


class SharedStore(Protocol):
    """What of a Redis client is used: get, and set with an expiry."""

    def get(self, name: str) -> Any: ...
    def set(self, name: str, value: str, ex: int | None = None) -> Any: ...


def words_from_answer(lang: str, data: dict[str, Any]) -> LanguageWords:
    """The LanguageWords in an ``allmessages|languageinfo`` answer (formatversion 2)."""
    query = data.get("query") if isinstance(data, dict) else None
    query = query if isinstance(query, dict) else {}
    messages = {
        str(m["name"]): str(m["content"])
        for m in query.get("allmessages") or ()
        if isinstance(m, dict) and "name" in m and isinstance(m.get("content"), str) and not m.get("missing")
    }
    info = (query.get("languageinfo") or {}).get(lang) or {}
    fallbacks = tuple(str(f) for f in info.get("fallbacks") or () if isinstance(f, str))
    direction = info.get("dir") if info.get("dir") in ("ltr", "rtl") else ""
    return LanguageWords(lang=lang, messages=messages, fallbacks=fallbacks, dir=direction)


def query_params(lang: str, names: tuple[str, ...]) -> dict[str, str]:
    """The one request that brings a language's words."""
    return {
        "action": "query", "meta": "allmessages|languageinfo",
        "ammessages": "|".join(names), "amlang": lang, "amenableparser": "1",
        "licode": lang, "liprop": "fallbacks|dir", "uselang": lang,
    }


def group_query_params(lang: str) -> dict[str, str]:
    """The request for the names of every user group ("group-sysop-member": "Administrator")."""
    return {
        "action": "query", "meta": "allmessages", "ammessages": "*", "amprefix": "group-",
        "amfilter": "-member", "amlang": lang, "amenableparser": "1", "uselang": lang,
    }


class WikiMessages:
    """Per language: the words, when they were fetched, and at most one refresh at a time."""

    def __init__(self, fetch: Callable[[str], LanguageWords], *, ttl: float = 600.0,
                 shared: SharedStore | None = None, namespace: str = ""):
        self.fetch = fetch
        self.ttl = ttl
        self.shared = shared
        self.namespace = hashlib.sha1(namespace.encode()).hexdigest()[:12]
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[float, LanguageWords]] = {}  # lang -> (fetched at, words)
        self._refreshing: set[str] = set()

    def words(self, lang: str) -> LanguageWords:
        """The language's words now: kept ones (a refresh started if they are old), else fetched."""
        with self._lock:
            kept = self._kept.get(lang)
        now = time.time()
        if kept and now - kept[0] < self.ttl:
            return kept[1]
        shared = self._from_shared(lang)
        if shared and now - shared[0] < self.ttl:
            with self._lock:
                self._kept[lang] = shared
            return shared[1]
        kept = kept or shared
        if kept:
            self._refresh_in_background(lang)
            return kept[1]
        return self._fetch_and_keep(lang)

    def _fetch_and_keep(self, lang: str) -> LanguageWords:
        try:
            words = self.fetch(lang)
        except Exception as exc:  # noqa: BLE001 - any failure: the app's own words, and a retry later
            log.warning("wiki messages for %s could not be fetched: %s", lang, exc)
            words = LanguageWords(lang=lang)
            fetched = time.time() - self.ttl + RETRY_AFTER_FAILURE
        else:
            fetched = time.time()
            self._to_shared(lang, fetched, words)
        with self._lock:
            self._kept[lang] = (fetched, words)
        return words

    def _refresh_in_background(self, lang: str) -> None:
        with self._lock:
            if lang in self._refreshing:
                return
            self._refreshing.add(lang)

        def refresh() -> None:
            try:
                self._fetch_and_keep(lang)
            finally:
                with self._lock:
                    self._refreshing.discard(lang)

        threading.Thread(target=refresh, name=f"wiki-messages-{lang}", daemon=True).start()

    def _key(self, lang: str) -> str:
        return f"wiki-login:messages:{self.namespace}:{lang}"

    def _from_shared(self, lang: str) -> tuple[float, LanguageWords] | None:
        if self.shared is None:
            return None
        try:
            raw = self.shared.get(self._key(lang))
            if not raw:
                return None
            stamp, _, body = (raw.decode() if isinstance(raw, bytes) else raw).partition("\n")
            return float(stamp), LanguageWords.from_json(body)
        except Exception as exc:  # noqa: BLE001 - a store that fails is as good as an empty one
            log.warning("shared wiki messages for %s unreadable: %s", lang, exc)
            return None

    def _to_shared(self, lang: str, fetched: float, words: LanguageWords) -> None:
        if self.shared is None:
            return
        try:
            self.shared.set(self._key(lang), f"{fetched}\n{words.to_json()}", ex=int(self.ttl * 4) + 60)
        except Exception as exc:  # noqa: BLE001
            log.warning("shared wiki messages for %s not stored: %s", lang, exc)
