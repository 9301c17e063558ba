"""The server-side session store (Flask-Session), with rules of our own.

1. A destroyed session stays destroyed.  Flask-Session writes a changed session
   back at the end of a request; a request still running while another one logs
   the user out would write the logged-in session back under its old id (and set
   that cookie again).  So a retired id is remembered for a while, and a session
   of that id is never written again (or deleted at once if the logout came
   while it was being written).
2. A session is written when it changed; otherwise only to move its expiry
   forward, once a tenth of its lifetime (at most an hour) has passed since its
   last write, and then only on a page that no cache keeps.  (Flask-Session
   would rewrite every session on every request.)
3. The cookie is Secure whenever the browser reached us over HTTPS, even if
   ``PUBLIC_URL`` was left out.
4. Visitors who never log in cost little.  Every form page needs a session (the
   CSRF token, the half-finished flow); anonymous ones are kept for
   ``ANONYMOUS_LIFETIME`` rather than the full ``SESSION_LIFETIME``.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from cachelib.file import FileSystemCache
from flask import Flask, has_request_context, request
from flask.sessions import SessionInterface
from flask_session.base import ServerSideSession
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface

from .wiki_session import USER

MIN_ANONYMOUS_LIFETIME = 3600
MAX_REFRESH_EVERY = 3600  # seconds between writes that only move a session's expiry
WRITTEN_AT = "written_at"  # in each stored session: when it was last written
# A destroyed session's id is remembered this long: longer than any request runs.
DESTROYED = "destroyed:"
DESTROYED_KEPT = 900


class SessionFileStore(FileSystemCache):
    """cachelib's file cache that never evicts a live session.

    The stock cache deletes the oldest entries once it holds ``threshold`` (500)
    files, which would log users out at random; here only expired ones go, in a
    sweep at most once every ``sweep_every`` seconds.
    """

    def __init__(self, cache_dir: str, *, sweep_every: float = 600.0):
        super().__init__(cache_dir, threshold=0, mode=0o600)
        self._sweep_every = sweep_every
        self._last_sweep = 0.0

    def _prune(self) -> None:
        now = time.time()
        if now - self._last_sweep >= self._sweep_every:
            self._last_sweep = now
            # It reads every file (0.15-0.5 s for 10,000 sessions): not in a request's time.
            threading.Thread(target=self._remove_expired, args=(now,), daemon=True).start()


class _Rules:
    """The rules above, over any Flask-Session server-side interface."""

    anonymous_lifetime = timedelta(seconds=MIN_ANONYMOUS_LIFETIME)

    def open_session(self, app: Flask, request: Any) -> ServerSideSession:
        session = super().open_session(app, request)
        # Data came from the store (a new session starts empty).
        session.from_store = bool(session)
        session.refresh_due = session.from_store and self._refresh_due(app, session)
        return session

    def stored_session(self, app: Flask, sid: str) -> dict[str, Any] | None:
        """The data stored under the session id ``sid``, read only (``/api``'s fast path).

        None when nothing is stored, or when the session's expiry is due to move:
        that is a write, left to a request through Flask (``open_session``/``save_session``).
        """
        data = self._retrieve_session_data(self._get_store_id(sid)) if sid else None
        if not data or self._refresh_due(app, data):
            return None
        return data

    def _refresh_due(self, app: Flask, session: Any) -> bool:
        """Whether a stored session's expiry is due to move (a tenth of its lifetime, at most an hour, since its last write)."""
        lifetime = self._lifetime(app.permanent_session_lifetime, session)
        return time.time() - session.get(WRITTEN_AT, 0) >= min(MAX_REFRESH_EVERY, lifetime.total_seconds() / 10)

    def _lifetime(self, session_lifetime: timedelta, session: Any) -> timedelta:
        return session_lifetime if session.get(USER) else min(session_lifetime, self.anonymous_lifetime)

    def get_cookie_secure(self, app: Flask) -> bool:
        # PUBLIC_URL says https (the config), or this request came over HTTPS:
        # directly, or through a proxy TRUSTED_PROXIES lets us believe.
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))

    def regenerate(self, session: ServerSideSession) -> None:
        # Requests still in flight with the old id must not write it back.
        self._mark_destroyed(self._get_store_id(session.sid))
        super().regenerate(session)
        session.from_store = False  # a new id: nothing of the old one to protect

    def save_session(self, app: Flask, session: ServerSideSession, response: Any) -> None:
        if getattr(session, "refresh_due", False) and "no-store" in response.headers.get("Cache-Control", ""):
            # Refreshed only on pages no cache keeps: a cookie on a cacheable
            # response (a static file) could be handed to someone else.
            session.modified = True
        if not (getattr(session, "from_store", False) and self.should_set_storage(app, session)):
            super().save_session(app, session, response)
            return
        store_id = self._get_store_id(session.sid)
        if self._destroyed(store_id):
            return  # logged out by another request meanwhile: do not bring it back
        super().save_session(app, session, response)
        if self._destroyed(store_id):  # ... or while this one was writing it
            self._delete_session(store_id)
            response.delete_cookie(app.config["SESSION_COOKIE_NAME"], path=self.get_cookie_path(app),
                                   domain=self.get_cookie_domain(app))

    def _upsert_session(self, session_lifetime: timedelta, session: ServerSideSession, store_id: str) -> None:
        session[WRITTEN_AT] = int(time.time())
        super()._upsert_session(self._lifetime(session_lifetime, session), session, store_id)


class FileSessions(_Rules, CacheLibSessionInterface):
    """Sessions as files in one directory (one host, any number of processes)."""

    def _mark_destroyed(self, store_id: str) -> None:
        self.cache.set(DESTROYED + store_id, 1, timeout=DESTROYED_KEPT)

    def _destroyed(self, store_id: str) -> bool:
        return self.cache.has(DESTROYED + store_id)


class RedisSessions(_Rules, RedisSessionInterface):
    """Sessions in Redis, with a TTL (several processes or hosts)."""

    def _mark_destroyed(self, store_id: str) -> None:
        self.client.set(DESTROYED + store_id, 1, ex=DESTROYED_KEPT)

    def _destroyed(self, store_id: str) -> bool:
        return bool(self.client.exists(DESTROYED + store_id))


def session_interface(app: Flask, *, redis_client: Any = None, session_dir: str = "") -> SessionInterface:
    """The app's session interface: Redis when a client is given, else files in ``session_dir``."""
    common = {
        "app": app,
        "key_prefix": app.config["SESSION_KEY_PREFIX"],
        "use_signer": False,
        "permanent": True,
        "sid_length": 32,
        "serialization_format": "msgpack",
    }
    iface: _Rules
    if redis_client is not None:
        iface = RedisSessions(client=redis_client, **common)
    else:
        iface = FileSessions(client=SessionFileStore(session_dir), **common)
    iface.anonymous_lifetime = timedelta(
        seconds=max(MIN_ANONYMOUS_LIFETIME, 2 * app.config["LOGIN_FLOW_TTL"]))
    return iface
