"""The benchmark scripts stay runnable (``make bench`` is not part of the test run: it times things)."""
from __future__ import annotations

import importlib

import pytest

from bench.harness import compare, rotate


@pytest.mark.parametrize("module", ["bench", "bench.__main__", "bench.login", "bench.concurrency", "bench.proxy",
                                    "bench.store", "bench.languages", "bench.profile_login", "bench.flask_demo", "bench.floor_proxy"])
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
