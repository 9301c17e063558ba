"""The app as deployed: gunicorn processes, a real Redis, real MediaWiki wikis.

Each app is exactly ``gunicorn -c gunicorn.conf.py app:app``, configured by its
environment alone, in its own process group: "killing" it (and teardown)
reaches the master and its workers at once, so nothing survives that is not in
the session store.  Redis is Debian's ``redis-server`` on 127.0.0.1, without
persistence, one per module.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from typing import Callable, Iterator

import pytest
import requests

from app import create_app
from tests.conftest import SECRET
from tests.servers import GUNICORN, ROOT, Gunicorn, RedisServer
from devwiki.wikiserver import TOTP_USERS, USERS, WikiServer, free_port

pytestmark = pytest.mark.slow

# --- Redis ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The module's Redis, emptied for this test."""
    redis_server.client.flushall()
    return redis_server.url


# --- gunicorn -------------------------------------------------------------------------

@pytest.fixture
def gunicorn(tmp_path) -> Iterator[Callable[..., Gunicorn]]:
    """``gunicorn(wiki, name, **env)``: a started Gunicorn, stopped after the test."""
    started: list[Gunicorn] = []

    def start(server: WikiServer, name: str = "app", **env: str) -> Gunicorn:
        app = Gunicorn(server, tmp_path, name, **env)
        started.append(app)
        return app.start()

    yield start
    for app in started:
        app.stop()


# --- a browser made of requests ----------------------------------------------------------

class _PostForms(HTMLParser):
    """Each POST form of a page: its action, its fields' values, its submit buttons."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self._open = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = a.get("method", "").lower() == "post"
            if self._open:
                self.forms.append({"action": a.get("action", ""), "fields": {}, "submits": []})
        elif tag in ("input", "button") and self._open and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit")
            if kind == "submit":
                self.forms[-1]["submits"].append((a["name"], a.get("value", "")))
            elif kind != "checkbox" or "checked" in a:
                self.forms[-1]["fields"].setdefault(a["name"], a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = False


def submit(http: requests.Session, base_url: str, page: requests.Response, path: str = "/login",
           **values: str) -> requests.Response:
    """Fill ``page``'s form for ``path`` as a browser would and send it to ``base_url``."""
    form = next(f for f in _PostForms(page.text).forms if f["action"] == path)
    name, value = form["submits"][0]
    return http.post(base_url + path, data={**form["fields"], **values, name: value})


def browser() -> requests.Session:
    """One browser's cookie jar.  No keep-alive: a graceful stop of gunicorn then
    has no idle connection to wait for."""
    http = requests.Session()
    http.headers["Connection"] = "close"
    return http


def log_in(http: requests.Session, app: Gunicorn, user: str, password: str | None = None):
    page = http.get(app.url + "/login")
    return submit(http, app.url, page, username=user,
                  password=USERS[user] if password is None else password)


def text(page: requests.Response) -> str:
    """The page's text without tags, roughly what a person reads."""
    return " ".join(re.sub(r"<[^>]+>", " ", page.text).split())


def stored_wiki_user(server: WikiServer, sid: str, **store: str) -> str:
    """Who ``server`` says the wiki cookies stored for session ``sid`` belong to."""
    app = create_app({"WIKI_API_URL": server.api_url, "SECRET_KEY": SECRET, **store})
    iface = app.session_interface
    data = iface._retrieve_session_data(iface._get_store_id(sid)) or {}
    return app.extensions["wiki"].client(data.get("wiki_cookies")).whoami().name


# --- the tests ---------------------------------------------------------------------------

def test_login_started_on_one_process_is_finished_on_another(oath_wiki, redis_url, gunicorn):
    """The password goes to process A, the two-factor code to process B: one Redis."""
    a = gunicorn(oath_wiki, "a", REDIS_URL=redis_url)
    b = gunicorn(oath_wiki, "b", REDIS_URL=redis_url)
    password, _ = TOTP_USERS["Carol"]
    http = browser()  # one cookie jar: cookies belong to the host, not the port
    step = log_in(http, a, "Carol", password)
    assert 'name="OATHToken"' in step.text
    code = oath_wiki.totp_code("Carol")
    # The form that A rendered is sent to B, as a load balancer might.
    done = submit(http, b.url, step, OATHToken=code)
    assert done.url == b.url + "/"
    assert "Logged in as Carol" in text(done)
    assert "Logged in as Carol" in text(http.get(a.url + "/"))
    assert "status=UI" in a.logs() and "status=PASS" in b.logs()
    assert stored_wiki_user(oath_wiki, http.cookies["wikilogin_session"], REDIS_URL=redis_url) == "Carol"
    for secret in (password, code):
        assert secret not in a.logs() + b.logs()


@pytest.mark.parametrize("store", ["redis", "files"])
def test_killing_and_restarting_every_process_keeps_everyone_logged_in(
        store, wiki, redis_url, gunicorn, tmp_path):
    config = {"REDIS_URL": redis_url} if store == "redis" else {"SESSION_DIR": str(tmp_path / "shared")}
    apps = [gunicorn(wiki, name, **config) for name in ("a", "b")]
    browsers = {user: browser() for user in ("Alice", "Bob")}
    for (user, http), app in zip(browsers.items(), apps):
        assert f"Logged in as {user}" in text(log_in(http, app, user))
    for app in apps:
        app.kill()
    for app in apps:
        app.start()
    for user, http in browsers.items():
        for app in apps:
            assert f"Logged in as {user}" in text(http.get(app.url + "/"))
        sid = http.cookies["wikilogin_session"]
        assert stored_wiki_user(wiki, sid, **config) == user


def test_sessions_and_rate_limit_counters_expire_in_redis(wiki, redis_server, redis_url, gunicorn):
    app = gunicorn(wiki, REDIS_URL=redis_url, SESSION_LIFETIME="3600")
    assert "Logged in as Alice" in text(log_in(browser(), app, "Alice"))
    sessions = redis_server.client.keys("wikilogin:*")
    counters = [k for k in redis_server.client.keys("*") if b"LIMITER/wikilogin/" in k]
    assert sessions and counters
    for key in sessions:
        assert 3500 < redis_server.client.ttl(key) <= 3600, key
    for key in counters:  # the default limits' window: 5 minutes
        assert 0 < redis_server.client.ttl(key) <= 300, key


def test_login_rate_limit_counts_across_processes(wiki, redis_url, gunicorn):
    """Per-username counters live in Redis: moving to another process does not reset them."""
    config = {"REDIS_URL": redis_url, "LOGIN_RATE_LIMIT_PER_USER": "2 per 5 minutes"}
    a, b = gunicorn(wiki, "a", **config), gunicorn(wiki, "b", **config)
    wiki.reset_login_throttles()
    try:
        guesser = browser()
        for app in (a, b):
            assert log_in(guesser, app, "Bob", "not-bobs-password").status_code == 200
        refused = log_in(guesser, a, "Bob", "not-bobs-password")
        assert refused.status_code == 429
        assert "too many login attempts for this username" in text(refused)
        assert 0 < int(refused.headers["Retry-After"]) <= 300
        assert "Logged in as Alice" in text(log_in(browser(), b, "Alice"))
    finally:
        wiki.reset_login_throttles()


@pytest.mark.parametrize("trusted", [True, False])
def test_forwarded_headers_count_only_when_proxies_are_trusted(trusted, wiki, gunicorn):
    """X-Forwarded-For sets the logged client address, and X-Forwarded-Proto HSTS, only
    with TRUSTED_PROXIES; gunicorn itself trusts no forwarded header."""
    app = gunicorn(wiki, TRUSTED_PROXIES="1" if trusted else "0")
    resp = requests.get(app.url + "/healthz", headers={"X-Forwarded-For": "203.0.113.9",
                                                       "X-Forwarded-Proto": "https"})
    [line] = app.access_lines("/healthz")
    assert line.startswith("203.0.113.9 " if trusted else "127.0.0.1 ")
    assert ("Strict-Transport-Security" in resp.headers) is trusted
    if not trusted:
        assert "203.0.113.9" not in app.logs()


def test_access_log_has_paths_but_never_query_strings_or_referers(wiki, gunicorn):
    app = gunicorn(wiki)
    requests.get(app.url + "/login/return?code=IDP-CODE-4711&wlstate=STATE-0815",
                 headers={"Referer": "https://idp.example.org/done?token=REFERER-SECRET"})
    [line] = app.access_lines("/login/return")
    assert '"GET /login/return HTTP/1.1" 400' in line
    for secret in ("IDP-CODE-4711", "STATE-0815", "REFERER-SECRET"):
        assert secret not in app.logs()


@pytest.mark.parametrize("env,variable", [
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"LOGIN_RATE_LIMIT_PER_IP": "lots"}, "LOGIN_RATE_LIMIT_PER_IP"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
    ({"GUNICORN_THREADS": "many"}, "GUNICORN_THREADS"),
])
def test_bad_configuration_stops_gunicorn_with_one_line_naming_the_variable(env, variable, tmp_path):
    proc = subprocess.run(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "app:app"], cwd=ROOT, capture_output=True,
        text=True, timeout=30,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
             "WIKI_API_URL": "http://127.0.0.1:9/api.php", "SECRET_KEY": SECRET, **env},
    )
    assert proc.returncode != 0
    assert re.search(rf"^wiki-login cannot start: {variable}\b", proc.stderr, re.M), proc.stderr
    assert "Booting worker" not in proc.stderr and "Traceback" not in proc.stderr


def _dockerfile_healthcheck() -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.M)
    return json.loads(match.group(1))


def test_the_image_files_serve_the_app_and_pass_its_healthcheck(wiki, tmp_path):
    """Only what the Dockerfile COPYs, started by its CMD, answers its HEALTHCHECK."""
    image = tmp_path / "image"
    image.mkdir()
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            *sources, dest = line.split()[1:]
            for source in map(ROOT.joinpath, sources):
                if source.is_dir():  # Docker copies a directory's contents
                    shutil.copytree(source, image / dest, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(source, image / dest / source.name if dest.endswith("/") else image / dest)
    app = Gunicorn(wiki, tmp_path, "image", cwd=image)
    try:
        app.start()
        assert requests.get(app.url + "/healthz").json()["status"] == "ok"
        assert 'name="password"' in requests.get(app.url + "/login").text
        probe = _dockerfile_healthcheck()
        assert probe[0] == "python"
        env = {"PATH": os.environ["PATH"], "PORT": str(app.port)}
        assert subprocess.run([sys.executable, *probe[1:]], env=env, timeout=10).returncode == 0
        app.stop()
        dead = subprocess.run([sys.executable, *probe[1:]], env=env, timeout=10, capture_output=True)
        assert dead.returncode != 0
    finally:
        app.stop()
