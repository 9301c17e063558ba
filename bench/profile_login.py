"""Where the app's own time goes during a login: ``python -m bench.profile_login [--logins N] [--html FILE]``.

The app runs in this process (``create_app``, sessions on the filesystem) in
front of the benchmark wiki; the Flask test client plays the browser: GET
/login, POST /login, GET / (the page the login lands on), like a browser
sending ``Accept-Language``.  After a warm-up, ``N`` logins are profiled with
pyinstrument.

Printed: per login, the wall time, how much of it was spent waiting for the wiki
(time inside the app's shared connection pool's ``urlopen``, and how many requests), and
the CPU time of this thread (the app, the requests library and the test client);
then pyinstrument's call tree with the waits for the wiki's answers (socket
reads and connects) taken out, so what remains is the app's own time.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame
from pyinstrument.renderers import ConsoleRenderer

from .harness import BROWSER_HEADERS, SESSION_COOKIE, USERS, bench_wiki, csrf_token, in_process_app, logged_in_as

WARMUP = 5
# Leaf frames that are the wiki's time, not the app's: waiting for its answer.
WAITS = {"recv_into", "connect", "poll", "select"}


def strip_waits(frame: Frame | None, options: dict) -> Frame | None:
    """A pyinstrument processor: remove waits for the network, and their time from every ancestor."""
    if frame is None:
        return None
    for child in list(frame.children):
        is_leaf = all(grandchild.is_synthetic for grandchild in child.children)
        if is_leaf and child.function.rsplit(".", 1)[-1] in WAITS:
            ancestor: Frame | None = frame
            while ancestor is not None:
                ancestor.time -= child.time
                ancestor = ancestor.parent
            child.remove_from_parent()
        else:
            strip_waits(child, options)
    return frame


class AppTimeRenderer(ConsoleRenderer):
    """pyinstrument's console tree, without the waits for the wiki."""

    def default_processors(self):
        return [strip_waits, *super().default_processors()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_login", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=60, help="logins to profile (default 60)")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    args = parser.parse_args(argv)

    with bench_wiki() as wiki, tempfile.TemporaryDirectory(prefix="wiki-login-profile-") as tmp:
        app = in_process_app(wiki, Path(tmp))
        pool = app.extensions["wiki"].pool
        waits: list[float] = []
        send = pool.urlopen

        def timed_send(*a, **kw):
            began = time.perf_counter()
            try:
                return send(*a, **kw)
            finally:
                waits.append(time.perf_counter() - began)

        pool.urlopen = timed_send
        users = iter(USERS)

        def login() -> None:
            user = next(users)
            client = app.test_client()
            page = client.get("/login", headers=BROWSER_HEADERS)
            client.post("/login", headers=BROWSER_HEADERS, data={
                "csrf_token": csrf_token(page.get_data(as_text=True)), "username": user.name,
                "password": user.password, "wl_submit": "Log in"})
            home = client.get("/", headers=BROWSER_HEADERS)
            if not logged_in_as(home.get_data(as_text=True), user.name) or not client.get_cookie(SESSION_COOKIE):
                raise AssertionError(f"{user.name} is not logged in")

        for _ in range(WARMUP):
            login()
        waits.clear()
        walls, cpus = [], []
        profiler = Profiler(interval=0.0005)
        for _ in range(args.logins):
            profiler.start()
            wall, cpu = time.perf_counter(), time.thread_time()
            login()
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
            profiler.stop()

    per = args.logins
    print(f"{per} plain logins (GET /login, POST /login, GET /) through the app in this process:")
    print(f"  wall time per login, median:          {statistics.median(walls) * 1000:7.1f} ms")
    print(f"  waiting for the wiki, per login:      {sum(waits) / per * 1000:7.1f} ms "
          f"({len(waits) / per:.1f} requests)")
    print(f"  CPU time of this thread, per login:   {statistics.median(cpus) * 1000:7.1f} ms "
          "(app, requests, test client)")
    session = profiler.last_session
    print(AppTimeRenderer(unicode=True, color=False, short_mode=False).render(session))
    if args.html:
        args.html.write_text(profiler.output_html())
        print(f"HTML report (with the waits): {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
