"""The benchmark scripts stay runnable (``make bench`` is not part of the test run: it times things)."""
from __future__ import annotations

import importlib

import pytest

from bench.harness import compare, rotate
from bench.serving import KINDS, command


@pytest.mark.parametrize("module", ["bench", "bench.__main__", "bench.login", "bench.concurrency", "bench.proxy",
                                    "bench.store", "bench.profile_login", "bench.flask_demo", "bench.floor_proxy",
                                    "bench.servers", "bench.serving"])
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
