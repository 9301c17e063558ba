"""The session store: per-request cost with 100 and with 10,000 stored sessions, and bytes per user.

For each store (files in SESSION_DIR; Redis, a real redis-server on a free
loopback port) two apps are made in this process, one over a store holding 100
logged-in sessions and one holding 10,000.  The sessions are copies of a real
one (a password login through the app and one page view), written through the
app's own session interface.  Then a page that opens a logged-in session
without asking the wiki is timed with the Flask test client: GET /logout (the
"Log out?" page, "You are logged in as NAME").  GET / would do, but it asks the
wiki for the user's groups and rights on every view, and the wiki's time would
drown the store's.  Each request uses another stored session; the two apps
alternate.  The stored bytes are those of the real logged-in session.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

from tests.servers import RedisServer
from devwiki.wikiserver import WikiServer

from .harness import (
    SESSION_COOKIE, USERS, AppServer, Row, check, compare, csrf_token, in_process_app, interleave,
    median, new_session_id, timed,
)

NAME = "store"
SIZES = (100, 10_000)
ROUNDS, SECONDS = 400, 12.0
GOAL_RATIO = 1.2
GOAL_BYTES = 4096


def run(wiki: WikiServer, app: AppServer, workdir: Path) -> list[Row]:
    workdir.mkdir(parents=True, exist_ok=True)
    redis_server = RedisServer(workdir)
    try:
        rows: list[Row] = []
        for kind, configs in (
            ("files", [{"SESSION_DIR": str(workdir / f"files-{n}")} for n in SIZES]),
            ("Redis", [{"REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/{db}"}
                       for db in range(len(SIZES))]),
        ):
            rows += _measure(wiki, workdir, kind, configs)
        return rows
    finally:
        redis_server.stop()


def _measure(wiki: WikiServer, workdir: Path, kind: str, configs: list[dict[str, str]]) -> list[Row]:
    small, large = (in_process_app(wiki, workdir, **config) for config in configs)
    template, stored_bytes = _logged_in_session(small)
    sids = {app: [_store_copy(app, template) for _ in range(n)] for app, n in zip((small, large), SIZES)}

    logged_in = f"You are logged in as <strong>{template['user']}</strong>"

    def timed_page(app):
        client = app.test_client(use_cookies=False)

        def one(_: int) -> float:
            sid = random.choice(sids[app])
            began = time.perf_counter()
            page = client.get("/logout", headers={"Cookie": f"{SESSION_COOKIE}={sid}"})
            seconds = time.perf_counter() - began
            if logged_in not in page.get_data(as_text=True):
                raise AssertionError(f"{kind}: GET /logout with a stored session is not logged in")
            return seconds
        return one

    page_large, page_small = timed_page(large), timed_page(small)
    for _ in range(20):  # warm-up: templates compiled, siteinfo fetched
        page_large(0), page_small(0)
    large_times, small_times = interleave(page_large, page_small, rounds=ROUNDS, seconds=SECONDS)
    rows = [
        compare(NAME, f"{kind}: GET /logout with {SIZES[1]:,} vs {SIZES[0]} sessions stored",
                median(large_times), median(small_times), fmt=lambda s: f"{s * 1000:.2f} ms",
                at_most=GOAL_RATIO),
        check(NAME, f"{kind}: stored bytes per logged-in user", f"{stored_bytes} B", "-",
              goal=f"<= {GOAL_BYTES} B", ok=stored_bytes <= GOAL_BYTES),
    ]
    if kind == "files":
        rows.append(_sweep_row(small, large))
    return rows


def _logged_in_session(app) -> tuple[dict, int]:
    """A real logged-in session and its stored size in bytes.

    A password login through ``app`` (which stores the new session's CSRF
    secret too), then one page view, as for any user.
    """
    client = app.test_client()
    user = USERS[1]
    page = client.get("/login")
    client.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                "username": user.name, "password": user.password, "wl_submit": "Log in"})
    client.get("/logout")
    sid = client.get_cookie(SESSION_COOKIE).value
    iface = app.session_interface
    store_id = iface._get_store_id(sid)
    data = iface._retrieve_session_data(store_id)
    if not data or data.get("user") != user.name:
        raise AssertionError(f"the login through the in-process app did not store {user.name}'s session")
    if app.config["REDIS_URL"]:
        size = app.config["SESSION_REDIS"].strlen(store_id)
    else:
        size = Path(iface.cache._get_filename(store_id)).stat().st_size
    return data, size


def _store_copy(app, template: dict) -> str:
    """Store a copy of ``template`` under a new session id, as the app itself writes sessions."""
    iface = app.session_interface
    sid = new_session_id()
    session = iface.session_class(dict(template), sid=sid)
    iface._upsert_session(app.permanent_session_lifetime, session, iface._get_store_id(sid))
    return sid


def _sweep_row(small, large) -> Row:
    """How long the file store's sweep for expired sessions takes (it reads every file).

    It runs every 10 minutes in each process, started by a session write.
    """
    sweeps = [timed(lambda: app.session_interface.cache._remove_expired(time.time()))
              for app in (large, small)]
    return compare(NAME, f"files: one sweep for expired sessions, {SIZES[1]:,} vs {SIZES[0]} stored",
                   sweeps[0], sweeps[1])
