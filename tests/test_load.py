"""Load: 50 distinct users log in at once through gunicorn (some with a second factor), then
call the wiki through the same-origin API. Every call must be made as its own user."""
from __future__ import annotations

import base64
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
import requests

from tests.servers import Gunicorn
from devwiki.wikiserver import start_wiki

pytestmark = pytest.mark.slow

USERS = 50
TWO_FACTOR_EVERY = 5  # every fifth user has TOTP
PASSWORD = "Load-Test-Pass-4271!"
DEADLINE = 120  # seconds for the whole crowd; the test fails rather than hang


def user_name(i: int) -> str:
    return f"Loaduser{i:02d}"


def secret_of(i: int) -> str:
    """A distinct, valid base32 TOTP secret per user."""
    return base64.b32encode(f"load-user-{i:02d}-secret".encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def crowd_wiki(mw_version):
    server = start_wiki("load", mw_version=mw_version, oath=True, workers=16)
    for i in range(USERS):
        server.create_user(user_name(i), PASSWORD)
        if i % TWO_FACTOR_EVERY == 0:
            server.enable_totp(user_name(i), secret_of(i))
    yield server
    server.close()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*? value="([^"]+)"', html).group(1)


def one_user(app_url: str, i: int, barrier: threading.Barrier) -> dict:
    """Log in as user i like a browser would, then five API calls; returns what was seen."""
    http = requests.Session()
    name = user_name(i)
    page = http.get(app_url + "/login", timeout=30)
    csrf = csrf_of(page.text)
    barrier.wait(timeout=60)  # everyone sends their password at the same moment
    step = http.post(app_url + "/login", timeout=30, allow_redirects=False, data={
        "csrf_token": csrf, "username": name, "password": PASSWORD, "wl_submit": "Log in"})
    if i % TWO_FACTOR_EVERY == 0:
        assert 'name="OATHToken"' in step.text, step.text[:500]
        code = pyotp.TOTP(secret_of(i)).now()
        step = http.post(app_url + "/login", timeout=30, allow_redirects=False, data={
            "csrf_token": csrf, "OATHToken": code, "wl_submit": "Continue"})
    assert step.status_code == 303, (name, step.status_code, re.findall(r"cdx-message__content\">(.*?)</div>", step.text, re.S))
    home = http.get(app_url + "/", timeout=30).text
    token = csrf_of(home) if 'name="csrf_token"' in home else ""
    seen = []
    for _ in range(4):
        answer = http.get(app_url + "/api", params={"action": "query", "meta": "userinfo", "format": "json"},
                          timeout=30)
        assert answer.status_code == 200, answer.text[:300]
        seen.append(answer.json()["query"]["userinfo"]["name"])
    parsed = http.post(app_url + "/api", timeout=30, headers={"X-CSRFToken": token}, data={
        "action": "parse", "text": "Hello ~~~", "contentmodel": "wikitext", "pst": "1", "format": "json",
        "formatversion": "2"})
    assert parsed.status_code == 200, parsed.text[:300]
    # The pre-save transform signs with the calling user's name.
    seen.append(name if name in parsed.json()["parse"]["text"] else "someone else")
    return {"name": name, "seen": seen}


def test_fifty_users_at_once_each_acts_as_themselves(crowd_wiki, tmp_path):
    crowd_wiki.reset_login_throttles()
    # The test wiki (PHP's built-in server on SQLite, 2 cores) takes seconds to hash
    # 50 passwords at once; this test is about correctness, so the app waits for it.
    app = Gunicorn(crowd_wiki, tmp_path, "load", GUNICORN_WORKERS="2", GUNICORN_THREADS="16",
                   WIKI_TIMEOUT="60", LOGIN_RATE_LIMIT_PER_IP="1000 per minute",
                   NEW_SESSION_RATE_LIMIT_PER_IP="1000 per minute").start()
    try:
        barrier = threading.Barrier(USERS)
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=USERS) as pool:
            futures = [pool.submit(one_user, app.url, i, barrier) for i in range(USERS)]
            results = [f.result(timeout=DEADLINE) for f in futures]
        elapsed = time.monotonic() - began
    finally:
        app.stop()
    errors = [r for r in results if r["seen"] != [r["name"]] * 5]
    assert errors == [], errors[:3]
    assert len(results) == USERS
    print(f"\n{USERS} users ({USERS // TWO_FACTOR_EVERY} with TOTP), {USERS * 5} API calls "
          f"in {elapsed:.1f} s: 0 errors, 0 cross-user results")
