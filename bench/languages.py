"""What a reader's language costs (issue #17): the first visitor in a language, and the ones after.

In this process, one app (``create_app``) over the benchmark wiki: for each of
several languages the wiki knows, a first login page in that language (the
app asks the wiki for the language's words once: ``meta=allmessages``), then
later pages in it, alternating with pages in the wiki's own language.  The wiki
requests are counted from the wiki's access log; a later page must add none.
"""
from __future__ import annotations

from pathlib import Path

from devwiki.wikiserver import WikiServer

from .harness import AppServer, Row, check, compare, in_process_app, interleave, median, timed

NAME = "languages"
LANGUAGES = ("de", "fr", "ar", "ja", "pt-br", "uk")
ROUNDS, SECONDS = 300, 30.0


def run(wiki: WikiServer, app: AppServer, workdir: Path) -> list[Row]:
    workdir.mkdir(parents=True, exist_ok=True)
    flask_app = in_process_app(wiki, workdir)

    def page(lang: str) -> float:
        client = flask_app.test_client()
        return timed(lambda: client.get("/login", headers={"Accept-Language": lang}))

    page("en")  # the wiki's own language, and siteinfo: warm
    firsts, seconds_ = [], []
    mark = wiki.log_mark()
    for lang in LANGUAGES:
        firsts.append(page(lang))
        seconds_.append(page(lang))
    asks = [c for c in wiki.api_requests_since(mark) if "allmessages" in c]
    later_mark = wiki.log_mark()
    later, own = interleave(lambda i: page(LANGUAGES[i % len(LANGUAGES)]), lambda i: page("en"),
                            rounds=ROUNDS, seconds=SECONDS)
    later_asks = [c for c in wiki.api_requests_since(later_mark) if "allmessages" in c]
    return [
        check(NAME, f"wiki requests for a language's words: first visitors in {len(LANGUAGES)} languages",
              len(asks), len(LANGUAGES), goal=f"{len(LANGUAGES)}", ok=len(asks) == len(LANGUAGES)),
        check(NAME, f"wiki requests for words: {len(later)} later pages in those languages",
              len(later_asks), 0, goal="0", ok=not later_asks),
        compare(NAME, "login page: first visitor in a language vs the second (median)",
                median(firsts), median(seconds_)),
        compare(NAME, "login page: in another language vs the wiki's own (median, later visitors)",
                median(later), median(own), at_most=1.05),
    ]
