"""Many users at once: 200 logins of distinct users, 20 at a time, the app against the script.

Each side logs in the same 200 users, in two halves run in the order app, raw,
raw, app (so a slow spell of the shared machine hits both).  A login through
the app ends on the page it lands on (the home page: one ``meta=userinfo``);
the script makes that call too, so both make the same API calls.  Throughput is
logins per second of wall time over both halves; the servers' CPU time per
login (gunicorn's tree, php -S's tree) is counted too.  The script waits for
the wiki as long as the app does (``harness.WIKI_TIMEOUT``).  Afterwards every
session is checked to be its own user's: for the app, GET / must say "Logged
in as NAME" and the wiki cookies the app stored for that browser must be NAME's
on the wiki (``meta=userinfo``); for the script, ``meta=userinfo`` with its
cookies.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import requests

from devwiki.wikiserver import WikiServer

from .harness import (
    APP_TIMEOUT, SESSION_COOKIE, USERS, AppServer, CpuMeter, Row, User, app_login, check, compare,
    cpu_row, in_process_app, logged_in_as, p95, raw_landing, raw_login, wiki_pid, wiki_user,
)

NAME = "concurrency"
PARALLEL = 20
PHASE_SECONDS = 40.0  # per half; logins not started by then are left out (and counted)
GOAL_THROUGHPUT = 0.9


class Phase:
    """Logins run ``PARALLEL`` at a time: their sessions, times and errors."""

    def __init__(self, cpu: CpuMeter) -> None:
        self.sessions: dict[str, requests.Session] = {}
        self.times: list[float] = []
        self.errors: list[str] = []
        self.not_started: list[str] = []
        self.wall = 0.0
        self.cpu = cpu
        self.cpu_used = {name: 0.0 for name in cpu.roots}

    def run(self, login: Callable[[User], requests.Session], users: list[User]) -> None:
        """Log ``users`` in with ``login``, ``PARALLEL`` at a time, adding to this phase's totals."""
        deadline = time.monotonic() + PHASE_SECONDS
        self.cpu.take()

        def one(user: User) -> None:
            if time.monotonic() > deadline:
                self.not_started.append(user.name)
                return
            began = time.perf_counter()
            try:
                self.sessions[user.name] = login(user)
            except Exception as exc:  # any failure is counted, and shown
                self.errors.append(f"{user.name}: {type(exc).__name__}: {exc}")
                return
            self.times.append(time.perf_counter() - began)

        began = time.perf_counter()
        with ThreadPoolExecutor(PARALLEL) as pool:
            list(pool.map(one, users))
        self.wall += time.perf_counter() - began
        for name, seconds in self.cpu.take().items():
            self.cpu_used[name] += seconds

    @property
    def throughput(self) -> float:
        return len(self.times) / self.wall

    def cpu_per_login(self, name: str) -> float:
        """Milliseconds of CPU that process tree ``name`` used per login."""
        return self.cpu_used[name] / max(1, len(self.times)) * 1000


def run(wiki: WikiServer, app: AppServer, workdir: Path) -> list[Row]:
    cpu = CpuMeter(app=app.pid, wiki=wiki_pid(wiki))
    app_phase, raw_phase = Phase(cpu), Phase(cpu)

    def by_app(user: User) -> requests.Session:
        return app_login(app.url, user)

    def by_script(user: User) -> requests.Session:
        http = raw_login(wiki.api_url, user)
        raw_landing(wiki.api_url, http, user)
        return http

    half = len(USERS) // 2
    app_phase.run(by_app, USERS[:half])
    raw_phase.run(by_script, USERS[:half])
    raw_phase.run(by_script, USERS[half:])
    app_phase.run(by_app, USERS[half:])

    app_own = _app_sessions_are_their_users(wiki, app, app_phase.sessions)
    raw_own = sum(wiki_user(wiki.api_url, http.cookies) == name for name, http in raw_phase.sessions.items())
    for error in (app_phase.errors + raw_phase.errors)[:5]:
        print(f"  {NAME}: error: {error}")
    for side, phase in (("app", app_phase), ("raw", raw_phase)):
        if phase.not_started:
            print(f"  {NAME}: {side}: {len(phase.not_started)} logins not started within the time bound")
    app_done, raw_done = len(app_phase.sessions), len(raw_phase.sessions)
    app_cpu, app_wiki_cpu = app_phase.cpu_per_login("app"), app_phase.cpu_per_login("wiki")
    raw_cpu = raw_phase.cpu_per_login("wiki")
    return [
        compare(NAME, f"throughput, {PARALLEL} at a time (logins: {app_done} app, {raw_done} raw)",
                app_phase.throughput, raw_phase.throughput,
                fmt=lambda v: f"{v:.1f} logins/s", at_least=GOAL_THROUGHPUT),
        compare(NAME, f"p95 per login, {PARALLEL} at a time", p95(app_phase.times), p95(raw_phase.times)),
        check(NAME, "errors", len(app_phase.errors), len(raw_phase.errors), goal="0", ok=not app_phase.errors),
        check(NAME, "logged-in sessions that are their own user", f"{app_own}/{app_done}",
              f"{raw_own}/{raw_done}", goal="all", ok=app_own == app_done and raw_own == raw_done),
        cpu_row(NAME, "server CPU per login", app_cpu, app_wiki_cpu, raw_cpu),
    ]


def _app_sessions_are_their_users(wiki: WikiServer, app: AppServer,
                                  browsers: dict[str, requests.Session]) -> int:
    """How many browsers' home page and stored wiki cookies are both their own user."""
    store = in_process_app(wiki, app.workdir)
    iface = store.session_interface
    own = 0
    for name, browser in browsers.items():
        home = browser.get(app.url + "/", timeout=APP_TIMEOUT)
        stored = iface._retrieve_session_data(iface._get_store_id(browser.cookies[SESSION_COOKIE])) or {}
        client = store.extensions["wiki"].client(stored.get("wiki_cookies"))
        own += logged_in_as(home.text, name) and wiki_user(wiki.api_url, client.cookies) == name
    return own
