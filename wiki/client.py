"""The MediaWiki Action API, one user at a time, over one connection pool for all users.

``Wiki`` is the app-wide handle (where the wiki is, how to reach it, its cached
siteinfo); ``Wiki.client(cookies)`` gives a ``WikiClient`` that acts with one
user's cookies only.  Each client has its own cookie jar but sends through the
wiki's one connection pool (``transport``), so TCP connections are kept alive
and reused across users while cookies never are.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Iterable
from urllib.parse import quote, urlsplit

import urllib3

from .auth_messages import AuthMessages
from .messages import (LanguageWords, SharedStore, WikiMessages, group_query_params, query_params,
                       words_from_answer)
from .authmanager import AUTH_ACTIONS, AuthAction, AuthManagerCalls, UserInfo
from .credentials import CredentialCalls, ResetRoutes
from .errors import (
    WikiAPIError,
    WikiError,
    WikiResponseError,
    WikiUnavailable,
    WikiUnreachable,
    api_error,
)
from .usernames import DEFAULT_USER_NAMESPACES, user_namespace_names
from .transport import CookieHeaders, Pool, cookie_header, encode, exchange, keep_cookies, make_pool, stored_jar

log = logging.getLogger(__name__)

# A serialisable cookie: name, value, domain, path, expires (or None), secure.
StoredCookie = list[Any]


@dataclass(frozen=True)
class TempAccounts:
    """``siteinfo`` ``autocreatetempuser``: whether the wiki makes temporary accounts, and their names."""

    enabled: bool = False
    # The names' patterns, "$1" the variable part (e.g. "~$1").  MediaWiki 1.39-1.42
    # dumped the whole configuration, with one "matchPattern" string.
    match_patterns: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> "TempAccounts":
        if not isinstance(data, dict):
            return cls()
        patterns = data.get("matchPatterns", data.get("matchPattern")) or ()
        if isinstance(patterns, str):
            patterns = (patterns,)
        return cls(enabled=bool(data.get("enabled")),
                   match_patterns=tuple(str(p) for p in patterns if isinstance(p, str) and "$1" in p))

    def is_temporary_name(self, name: str) -> bool:
        """Whether ``name`` is one of the wiki's temporary account names (for wikis whose
        userinfo does not say ``temp``)."""
        for pattern in self.match_patterns:
            prefix, _, suffix = pattern.partition("$1")
            if len(name) > len(prefix) + len(suffix) and name.startswith(prefix) and name.endswith(suffix):
                return True
        return False


@dataclass(frozen=True)
class SiteInfo:
    """The few facts about the wiki that pages need."""

    name: str
    server: str
    article_path: str
    lang: str
    rtl: bool
    generator: str
    # BCP 47 tag (lower case) -> MediaWiki language code, for uselang.
    languages: dict[str, str] = field(default_factory=dict)
    # Every name of the User namespace, as the title codec compares them ("user", "benutzer", ...).
    user_namespaces: frozenset[str] = DEFAULT_USER_NAMESPACES
    temp_accounts: TempAccounts = TempAccounts()
    # Canonical names of the wiki's special pages ("OATHManage" only with OATHAuth).
    special_pages: frozenset[str] = frozenset()

    def has_special_page(self, name: str) -> bool:
        return name in self.special_pages

    def page_url(self, title: str) -> str:
        """The wiki's own address of a page (encoded as MediaWiki's wfUrlencode does)."""
        return self.server + self.article_path.replace("$1", quote(title.replace(" ", "_"), safe=";:@$!*(),/~"))


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased: what "same origin" compares."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


NS_USER = 2
# siteinfo's siprop=autocreatetempuser (temporary accounts): not in 1.39, in 1.43; from 1.40
# on is assumed, not checked (1.39 would warn of an unknown siprop value).
TEMP_ACCOUNTS_SINCE = (1, 40)
SITEINFO_RETRY = 60.0  # seconds between tries while the wiki is down


class Wiki:
    """The wiki as the whole app sees it."""

    def __init__(
        self,
        api_url: str,
        *,
        user_agent: str,
        timeout: float = 10.0,
        pool: Pool | None = None,
        siteinfo_ttl: float = 3600.0,
        messages_ttl: float = 600.0,
        message_names: Iterable[str] = (),
        shared_store: SharedStore | None = None,
    ):
        self.api_url = api_url
        self.user_agent = user_agent
        self.timeout = timeout
        self.pool = pool or make_pool(api_url)
        self.cookie_headers = CookieHeaders()  # for calls straight from stored cookies (wiki/passthrough.py)
        self._siteinfo_ttl = siteinfo_ttl
        # The login form's words, fetched as HTML once per action and language.
        self.auth_messages = AuthMessages(messages_ttl)
        # The wiki's words for the app's pages (``meta=allmessages``), once per language.
        self.message_names = tuple(sorted(set(message_names)))
        self.messages = WikiMessages(self._fetch_words, ttl=messages_ttl, shared=shared_store,
                                     namespace=f"{api_url} {' '.join(self.message_names)}")
        self.group_names = WikiMessages(lambda lang: words_from_answer(lang, self.client().get(
            **group_query_params(lang))), ttl=messages_ttl, shared=shared_store, namespace=f"{api_url} groups")
        self._siteinfo: SiteInfo | None = None
        self._siteinfo_until = 0.0
        self._reset_routes: ResetRoutes | None = None
        self._reset_routes_until = 0.0
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        """Scheme and host of the API URL: how *we* reach the wiki (its siteinfo
        ``server`` is how browsers do, which may differ behind proxies or in containers)."""
        return origin_of(self.api_url)

    def request_headers(self, forwarded_for: str | None = None) -> dict[str, str]:
        """The headers every call to the wiki carries (a fresh dict), with the browser's address if given."""
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        return headers

    def client(
        self,
        cookies: Iterable[StoredCookie] | None = None,
        *,
        lang: str | None = None,
        forwarded_for: str | None = None,
    ) -> "WikiClient":
        """A client acting with these cookies only (none: an anonymous visitor)."""
        return WikiClient(self, cookies or (), lang=lang, forwarded_for=forwarded_for)

    def siteinfo(self) -> SiteInfo:
        """The wiki's name and languages, fetched once and kept for ``siteinfo_ttl``.

        When a refresh fails the last good answer is kept (for another minute
        before the next try): a wiki that is down must not also cost every page
        its name, or make each one wait for the timeout again.
        """
        with self._lock:
            if self._siteinfo and time.monotonic() < self._siteinfo_until:
                return self._siteinfo
        try:
            data = self.client().get(action="query", meta="siteinfo",
                                     siprop="general|languages|namespaces|namespacealiases|specialpagealiases")
            info = _parse_siteinfo(data)
            if _version(info.generator) >= TEMP_ACCOUNTS_SINCE:  # older wikis would warn of the siprop
                temp = self.client().get(action="query", meta="siteinfo", siprop="autocreatetempuser")
                info = replace(info, temp_accounts=TempAccounts.from_api(
                    (temp.get("query") or {}).get("autocreatetempuser")))
        except WikiError:
            with self._lock:
                if self._siteinfo is None:
                    raise
                self._siteinfo_until = time.monotonic() + SITEINFO_RETRY
                return self._siteinfo
        with self._lock:
            self._siteinfo, self._siteinfo_until = info, time.monotonic() + self._siteinfo_ttl
        return info


    def words(self, lang: str) -> LanguageWords:
        """The wiki's messages ``message_names`` in a language, with its fallbacks (kept; see wiki.messages)."""
        return self.messages.words(lang)

    def group_words(self, lang: str) -> LanguageWords:
        """The names of the wiki's user groups in a language ("group-sysop-member"), kept like ``words``."""
        return self.group_names.words(lang)

    def _fetch_words(self, lang: str) -> LanguageWords:
        if not self.message_names:
            return LanguageWords(lang=lang)
        return words_from_answer(lang, self.client().get(**query_params(lang, self.message_names)))

    def reset_routes(self) -> ResetRoutes:
        """How the wiki's password reset names an account, kept like siteinfo.

        A wiki that cannot be asked offers no reset for a minute (then it is asked again).
        """
        with self._lock:
            if self._reset_routes is not None and time.monotonic() < self._reset_routes_until:
                return self._reset_routes
        try:
            routes, ttl = self.client().reset_routes(), self._siteinfo_ttl
        except WikiError:
            routes, ttl = ResetRoutes(), SITEINFO_RETRY
        with self._lock:
            self._reset_routes, self._reset_routes_until = routes, time.monotonic() + ttl
        return routes


def _parse_siteinfo(data: dict[str, Any]) -> SiteInfo:
    try:
        general = data["query"]["general"]
        languages = {
            str(lang.get("bcp47") or lang["code"]).lower(): lang["code"]
            for lang in data["query"].get("languages", [])
        }
        return SiteInfo(
            name=general["sitename"],
            server=general["server"],
            article_path=general["articlepath"],
            lang=general.get("lang", "en"),
            rtl=bool(general.get("rtl", False)),
            generator=general.get("generator", ""),
            languages=languages,
            user_namespaces=_user_namespaces(data["query"]),
            special_pages=frozenset(str(p.get("realname", "")) for p in data["query"].get("specialpagealiases") or ()
                                    if isinstance(p, dict)),
        )
    except (KeyError, TypeError) as exc:
        raise WikiResponseError(f"siteinfo lacks {exc}") from exc


def _version(generator: str) -> tuple[int, ...]:
    """``"MediaWiki 1.43.9"`` -> ``(1, 43)``; ``()`` when it says no version."""
    match = re.search(r"(\d+)\.(\d+)", generator)
    return (int(match.group(1)), int(match.group(2))) if match else ()


def _user_namespaces(query: dict[str, Any]) -> frozenset[str]:
    user = (query.get("namespaces") or {}).get(str(NS_USER)) or {}
    aliases = [a.get("alias", "") for a in query.get("namespacealiases") or () if a.get("id") == NS_USER]
    return user_namespace_names([user.get("name", ""), user.get("canonical", ""), *aliases])


class WikiClient(AuthManagerCalls, CredentialCalls):
    """The API as one user: their cookies, their language, nobody else's.

    The AuthManager calls (begin a login, continue it, who am I, log out) come
    from ``AuthManagerCalls`` (``wiki/authmanager.py``); resetting and changing
    credentials from ``CredentialCalls`` (``wiki/credentials.py``).
    """

    def __init__(
        self,
        wiki: Wiki,
        cookies: Iterable[StoredCookie],
        *,
        lang: str | None = None,
        forwarded_for: str | None = None,
    ):
        self.wiki = wiki
        self.lang = lang
        self.headers = wiki.request_headers(forwarded_for)
        self.cookies = stored_jar(cookies)

    # --- transport -------------------------------------------------------

    def get(self, **params: Any) -> dict[str, Any]:
        """A read. Retried once if the connection fails or the wiki is briefly unavailable."""
        return self._call("GET", params)

    def post(self, **params: Any) -> dict[str, Any]:
        """A write. Never replayed: the wiki may have acted on it."""
        return self._call("POST", params)

    def send(self, method: str, params: Any = None, *, url: str | None = None,
             stream: bool = False) -> urllib3.BaseHTTPResponse:
        """One HTTP exchange with the wiki (its API unless ``url``), with this user's cookies.

        GET puts ``params`` (a dict or a list of pairs; a list value repeats its
        name) in the query string; POST in the body, where sensitive fields must
        be and where nothing secret shows in a URL or a log line.  Redirects are
        not followed.  The cookies the wiki sets are kept in ``self.cookies``.
        With ``stream`` the body is left to read (and the response to close).
        Transport failures become ``WikiTimeout`` or ``WikiUnreachable``.
        """
        headers = dict(self.headers)
        url = url or self.wiki.api_url
        cookies = cookie_header(self.cookies, url)
        if cookies:
            headers["Cookie"] = cookies
        url, body = encode(method, url, params, headers)
        resp = exchange(self.wiki.pool, method, url, body=body, headers=headers, timeout=self.wiki.timeout,
                        stream=stream)
        keep_cookies(self.cookies, url, resp)
        return resp

    def _call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        params = {k: v for k, v in params.items() if v is not None}
        params.setdefault("format", "json")
        params.setdefault("formatversion", "2")
        if self.lang:
            params.setdefault("uselang", self.lang)
        action = params.get("action", "?")
        attempts = 2 if method == "GET" else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                resp = self.send(method, params)
            except WikiUnreachable:
                if last:
                    raise
                continue
            if resp.status in (502, 503, 504) and not last:
                time.sleep(0.2)
                continue
            break
        if resp.status >= 500:
            raise WikiUnavailable(f"The wiki answered with a server error (HTTP {resp.status}).")
        if 300 <= resp.status < 400:
            # Followed, a POST would arrive as a GET (and its fields be lost): the
            # address is wrong, which only the site's administrators can fix.
            raise WikiResponseError(
                f"The wiki's API answered {action} with a redirect (HTTP {resp.status}) to "
                f"{resp.headers.get('Location', '?')}: WIKI_API_URL should be the address of api.php itself.")
        try:
            data = json.loads(resp.data)
        except ValueError as exc:
            raise WikiResponseError(
                f"The wiki's answer to {action} was not JSON (HTTP {resp.status})."
            ) from exc
        if not isinstance(data, dict):
            raise WikiResponseError(f"The wiki's answer to {action} was not a JSON object.")
        error = data.get("error")
        if error is not None:
            if not isinstance(error, dict):
                raise WikiResponseError(f"The wiki's answer to {action} has a malformed error.")
            details = {k: v for k, v in error.items() if k not in ("code", "info", "*", "docref")}
            raise api_error(str(error.get("code", "unknown")), str(error.get("info", "")), details)
        if data.get("warnings"):
            # The action and the wiki's words only: never the parameters, which
            # may hold a password.
            log.warning("wiki warnings for action=%s: %s", action, data["warnings"])
        return data

    # --- cookies -----------------------------------------------------------

    def export_cookies(self) -> list[StoredCookie]:
        """The user's wiki cookies, compact and JSON/msgpack-serialisable."""
        return [
            [c.name, c.value, c.domain, c.path, c.expires, bool(c.secure)]
            for c in self.cookies
            if not c.is_expired()
        ]



__all__ = ["AUTH_ACTIONS", "AuthAction", "SiteInfo", "TempAccounts", "UserInfo", "Wiki", "WikiClient", "WikiAPIError", "make_pool", "origin_of"]
