"""``python -m bench [NAME ...]`` (``make bench``): run the benchmarks, print one table.

Without names every benchmark runs: login, concurrency, proxy, store, languages, servers (about
ten minutes on 2 cores, servers alone seven; the first run also builds the benchmark wiki, about 40 s,
kept in /tmp/wiki-login-bench for the next runs).  Progress goes to stderr; the
machine and the table (Markdown) to stdout.  A goal not met is a "NO" in the
table, not an exit status: the status is 0 unless a benchmark could not run.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from . import concurrency, languages, login, proxy, servers, store
from .harness import PHP_WORKERS, AppServer, Row, bench_wiki, print_table

BENCHMARKS = {m.NAME: m for m in (login, concurrency, proxy, store, languages, servers)}


def machine(wiki_api_url: str) -> list[str]:
    """What the numbers were measured on."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    general = requests.get(wiki_api_url, timeout=10, params={
        "action": "query", "meta": "siteinfo", "format": "json", "formatversion": "2",
    }).json()["query"]["general"]
    php = subprocess.run(["php", "-r", "echo PHP_VERSION;"], capture_output=True, text=True).stdout
    redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}",
        f"Python {platform.python_version()} ({platform.system()} {platform.release()})",
        f"Wiki: {general['generator']} on PHP {php} (php -S, {PHP_WORKERS} workers, SQLite); "
        f"Redis {next((w[2:] for w in redis if w.startswith('v=')), '?')}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)

    began = time.monotonic()
    rows: list[Row] = []
    with bench_wiki() as wiki, tempfile.TemporaryDirectory(prefix="wiki-login-bench-") as tmp:
        about = machine(wiki.api_url)
        with AppServer(wiki, Path(tmp) / "app") as app:
            about.append(f"App: {app.setup}, sessions in files")
            for name in names:
                started = time.monotonic()
                print(f"running {name} ...", file=sys.stderr, flush=True)
                rows += BENCHMARKS[name].run(wiki, app, Path(tmp) / name)
                print(f"  {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    print()
    for line in about:
        print(line)
    print(f"Total time: {time.monotonic() - began:.0f} s\n")
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
