"""The benchmark scripts stay runnable (``make bench`` is not part of the test run: it times things)."""
from __future__ import annotations

import importlib
import json
import threading
from types import SimpleNamespace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bench import serving
from bench.harness import compare, rotate, side_server
from bench.serving import KINDS, command


@pytest.mark.parametrize("module", ["bench", "bench.__main__", "bench.login", "bench.concurrency", "bench.proxy",
                                    "bench.store", "bench.languages", "bench.profile_login", "bench.flask_demo",
                                    "bench.floor_proxy", "bench.servers", "bench.serving"])
def test_every_benchmark_module_imports(module):
    importlib.import_module(module)


def test_rotate_runs_each_once_a_round_in_turning_order():
    order: list[str] = []
    fns = {name: (lambda name=name: order.append(name) or 0.0) for name in "abc"}
    times = rotate(fns, rounds=3, seconds=60)
    assert order == list("abc" "bca" "cab")
    assert {name: len(values) for name, values in times.items()} == {"a": 3, "b": 3, "c": 3}


def test_a_ratio_row_says_whether_its_goal_is_met():
    assert compare("x", "m", 1.04, 1.0, at_most=1.05).ok
    assert not compare("x", "m", 1.06, 1.0, at_most=1.05).ok
    assert compare("x", "m", 0.95, 1.0, at_least=0.9).ok


def test_the_languages_benchmark_runs_and_later_pages_ask_the_wiki_nothing(wiki, tmp_path, monkeypatch):
    from bench import languages

    monkeypatch.setattr(languages, "ROUNDS", 6)
    monkeypatch.setattr(languages, "SECONDS", 1.0)
    monkeypatch.setattr(languages, "LANGUAGES", ("de", "ar"))
    rows = languages.run(wiki, None, tmp_path)
    assert [r.ok for r in rows[:2]] == [True, True], rows


def test_every_server_kind_serves_the_module_on_loopback_only():
    for kind in KINDS:
        args, env = command(kind, "app", 8123)
        assert args[-1] == "app:app"
        if kind == "granian":
            assert args[args.index("--host") + 1] == "127.0.0.1" and args[args.index("--port") + 1] == "8123"
        else:
            assert env["GUNICORN_BIND"] == "127.0.0.1:8123"
    with pytest.raises(ValueError):
        command("waitress", "app", 8123)


class _Upstream(BaseHTTPRequestHandler):
    """A stand-in for api.php: echoes the query and the Cookie header, and sets a cookie."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        data = json.dumps({"query": self.path.partition("?")[2], "cookie": self.headers.get("Cookie")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", "s=1; path=/")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/api.php"
    server.shutdown()
    server.server_close()


def test_the_slow_wiki_forwards_with_cookies_and_answers_slow_calls_itself(upstream, monkeypatch):
    monkeypatch.setattr(serving, "SLOW_SECONDS", 0.01)
    with serving.SlowWiki(upstream) as slow:
        fast = requests.get(slow.api_url, params={"action": "query"}, cookies={"a": "b"}, timeout=10)
        assert fast.json() == {"query": "action=query", "cookie": "a=b"}
        assert fast.headers["Set-Cookie"] == "s=1; path=/"
        answer = requests.get(slow.api_url, params={"action": "query", serving.SLOW_PARAM: "1"}, timeout=10)
        assert answer.json() == {"batchcomplete": True} and slow.slow_calls == 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_every_server_kind_serves_the_forwarder(kind, upstream, tmp_path):
    env = {"WIKI_API_URL": upstream, "SECRET_KEY": "smoke-test-secret-key-0123456789",
           "SESSION_DIR": str(tmp_path / "sessions"), "FLOOR_WIKI_API_URL": upstream, "FLOOR_COOKIE": "c=d"}
    with serving.Served(kind, "bench.floor_proxy", env, tmp_path, "/?action=query") as served:
        answer = requests.get(served.url + "/", params={"meta": "userinfo"}, timeout=10)
        assert answer.json() == {"query": "meta=userinfo", "cookie": "c=d"}
        assert served.workers()


@pytest.mark.slow
def test_a_side_server_serves_beside_the_app_and_stops(upstream, tmp_path):
    """``side_server`` (the forwarder and the official demo of ``make bench``) is a context manager that starts and stops."""
    app = SimpleNamespace(workdir=tmp_path, env={
        "WIKI_API_URL": upstream, "SECRET_KEY": "smoke-test-secret-key-0123456789",
        "SESSION_DIR": str(tmp_path / "sessions")})
    with side_server(app, "bench.floor_proxy", "/?action=query", FLOOR_WIKI_API_URL=upstream,
                     FLOOR_COOKIE="c=d") as side:
        answer = requests.get(side.url + "/", params={"meta": "userinfo"}, timeout=10)
        assert answer.json() == {"query": "meta=userinfo", "cookie": "c=d"}
    with pytest.raises(requests.ConnectionError):
        requests.get(side.url + "/", timeout=2)
