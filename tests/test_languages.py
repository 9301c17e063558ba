"""The reader's language (issue #17): which one, the wiki's words, the app's catalogs, no English left."""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from auth.language import TRANSLATIONS
from tests.conftest import AuthActions, screenshot
from wiki.messages import LanguageWords, WikiMessages

CATALOGS = ("de", "fr", "ar")


def _asks_for_words(wiki, mark, lang: str) -> list[str]:
    return [c for c in wiki.api_requests_since(mark) if "allmessages" in c and f"amlang={lang}" in c]


# --- which language ----------------------------------------------------------------------

def test_the_wikis_own_words_in_the_readers_language(make_app, wiki):
    client = make_app(wiki).test_client()
    german = client.get("/login", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in german
    # MediaWiki's messages login, userlogin-noaccount, userlogin-joinproject, in German.
    assert "<title>Anmelden" in german and "Du hast noch kein Benutzerkonto?" in german
    assert "Bei Test Wiki registrieren" in german and "Passwort vergessen?" in german
    french = client.get("/login", headers={"Accept-Language": "fr-CA,fr;q=0.8"}).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in french and "<title>Se connecter" in french


def test_uselang_wins_and_is_kept_across_the_flows_pages(make_app, wiki):
    client = make_app(wiki).test_client()
    page = client.get("/login?uselang=fr", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="fr"' in page
    action = re.search(r'<form method="post" action="([^"]+)" class="wl-form"', page)[1]
    assert "uselang=fr" in action
    token = AuthActions(client).csrf(page)
    wrong = client.post(action.replace("&amp;", "&"), data={"csrf_token": token, "username": "Alice",
                                                           "password": "not her password", "wl_submit": "x"},
                        headers={"Accept-Language": "de"})
    html = wrong.get_data(as_text=True)
    # The wiki's own refusal, and the app's page, both in French.
    assert '<html lang="fr"' in html and "incorrect" in html.lower()
    # Links onward keep it too.
    assert 'href="/create?uselang=fr"' in html or "uselang=fr" in html.split("wl-links", 1)[1]


def test_only_languages_the_wiki_knows(make_app, wiki):
    client = make_app(wiki).test_client()
    html = client.get("/login?uselang=xx-nonsense", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="de"' in html and "xx-nonsense" not in html
    html = client.get("/login", headers={"Accept-Language": "tlh, x-klingon"}).get_data(as_text=True)
    assert '<html lang="en"' in html  # the wiki's content language


def test_an_arabic_reader_gets_arabic_words_right_to_left(make_app, wiki):
    html = make_app(wiki).test_client().get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html and "codex.style-rtl.css" in html
    assert "دخول" in html  # the wiki's own "login" in Arabic


def test_a_language_without_a_catalog_reads_its_mediawiki_fallbacks(make_app, wiki):
    # Swiss German (gsw) has no catalog of the app's; MediaWiki falls back from it to German.
    html = make_app(wiki).test_client().get("/?uselang=gsw").get_data(as_text=True)
    assert '<html lang="gsw"' in html
    assert "Sie sind nicht angemeldet." in html or "Du bist nicht angemeldet." in html


# --- the wiki's words: once per language, kept, shared -------------------------------------

def test_the_wiki_is_asked_for_a_languages_words_once(make_app, wiki):
    app = make_app(wiki)
    mark = wiki.log_mark()
    for _ in range(3):
        app.test_client().get("/login", headers={"Accept-Language": "de"})
        app.test_client().get("/", headers={"Accept-Language": "de"})
    assert len(_asks_for_words(wiki, mark, "de")) == 1


def test_the_words_are_shared_through_redis(make_app, wiki, tmp_path):
    from tests.servers import RedisServer

    redis_server = RedisServer(tmp_path)
    try:
        first = make_app(wiki, REDIS_URL=redis_server.url)
        mark = wiki.log_mark()
        first.test_client().get("/login", headers={"Accept-Language": "fr"})
        second = make_app(wiki, REDIS_URL=redis_server.url)  # another process, as gunicorn would start
        html = second.test_client().get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert "<title>Se connecter" in html
        assert len(_asks_for_words(wiki, mark, "fr")) == 1
    finally:
        redis_server.stop()


def _fetcher(calls: list[str], fail: threading.Event | None = None, delay: float = 0.0):
    def fetch(lang: str) -> LanguageWords:
        calls.append(lang)
        time.sleep(delay)
        if fail is not None and fail.is_set():
            raise OSError("wiki down")
        return LanguageWords(lang=lang, messages={"login": f"login-{lang}-{len(calls)}"})
    return fetch


def test_old_words_are_served_while_one_refresh_runs():
    calls: list[str] = []
    messages = WikiMessages(_fetcher(calls, delay=0.2), ttl=0.05)
    assert messages.words("de").messages["login"] == "login-de-1"
    time.sleep(0.06)
    began = time.monotonic()
    for _ in range(20):  # stale: answered at once with the old words, one refresh behind them
        assert messages.words("de").messages["login"] == "login-de-1"
    assert time.monotonic() - began < 0.15
    time.sleep(0.3)
    assert calls == ["de", "de"]
    assert messages.words("de").messages["login"] == "login-de-2"


def test_a_wiki_that_cannot_be_asked_leaves_the_apps_own_words():
    calls: list[str] = []
    down = threading.Event()
    down.set()
    messages = WikiMessages(_fetcher(calls, fail=down), ttl=600)
    assert messages.words("de").messages == {}
    assert messages.words("de").messages == {}
    assert calls == ["de"]  # not asked again at once: after a minute


def test_words_page_falls_back_to_the_apps_catalog_when_the_wiki_has_no_words(make_app, wiki, monkeypatch):
    app = make_app(wiki)
    monkeypatch.setattr(app.extensions["wiki"], "words", lambda lang: LanguageWords(lang=lang))
    html = app.test_client().get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="de"' in html
    german = _catalog("de")
    assert german.get("Log in") is not None and german["Log in"].string in html


# --- the catalogs ------------------------------------------------------------------------

def _catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def _template_ids() -> set[str]:
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def test_the_template_has_every_word_of_the_code(tmp_path):
    """messages.pot is up to date: `make translations-update` after changing words."""
    import subprocess
    import sys

    root = TRANSLATIONS.parent
    out = tmp_path / "fresh.pot"
    subprocess.run([Path(sys.executable).parent / "pybabel", "extract", "-F", str(TRANSLATIONS / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(out), "."], cwd=root, check=True,
                   capture_output=True)
    with open(out, "rb") as f:
        fresh = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    assert fresh == _template_ids(), "run `make translations-update` and translate the new words"


@pytest.mark.parametrize("locale", CATALOGS)
def test_each_catalog_is_complete(locale):
    catalog = _catalog(locale)
    missing = sorted(i for i in _template_ids() if (m := catalog.get(i)) is None or not m.string
                     or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    assert not missing, f"{locale}: {len(missing)} words untranslated, e.g. {missing[:5]}"
    # Every placeholder of the English is in the translation (Babel's checkers: python-format and more).
    problems = [(m.id, errors) for m, errors in catalog.check() if errors]
    assert not problems, problems[:5]


# --- no English left, in Chromium --------------------------------------------------------

def english_words() -> list[re.Pattern]:
    """The app's own English words, from the template (every msgid), as patterns for page text.

    A msgid is cut at its placeholders; each piece of two or more letters is looked
    for as a whole word.  A word a catalog keeps as it is in English (a name) is not.
    """
    german = _catalog("de")
    patterns = []
    for msgid in _template_ids():
        translated = german.get(msgid)
        if translated is not None and translated.string == msgid:
            continue
        for piece in re.split(r"%\(\w+\)s|\{\w+\}|\$\d", msgid):
            piece = piece.strip(" .,:;!?()“”\"'…·")
            if len(re.findall(r"[A-Za-z]", piece)) >= 2:
                patterns.append(re.compile(r"(?<![A-Za-z])" + re.escape(piece) + r"(?![A-Za-z])"))
    return patterns


def assert_no_english(page, where: str, allowed: tuple[str, ...] = ()) -> None:
    text = page.locator("body").inner_text()
    for value in allowed:  # user names, page titles: the reader's own words
        text = text.replace(value, "")
    found = sorted({p.pattern for p in ENGLISH if p.search(text)})
    assert not found, f"English on {where}: {found}\n---\n{text}"


ENGLISH = english_words() if (TRANSLATIONS / "messages.pot").is_file() else []


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["de", "ar"])
def test_the_pages_in_german_and_arabic(locale, oath_wiki, live_app, new_page):
    from devwiki.wikiserver import TOTP_USERS

    app = live_app(oath_wiki)
    page = new_page(locale=locale)
    password, _secret = TOTP_USERS["Carol"]
    shots = []

    def look(name: str, allowed: tuple[str, ...] = ()) -> None:
        assert page.locator("html").get_attribute("lang") == locale
        assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
        if locale == "de":
            assert_no_english(page, name, allowed)
        shots.append(screenshot(page, f"{name}-{locale}"))

    page.goto(app.url + "/login")
    look("login")
    page.locator("input[name=username]").fill("Carol")
    page.locator("input[name=password]").fill("not the password")
    page.locator("[name=wl_submit]").click()
    expect_alert(page)
    look("login-wrong-password", ("Carol",))
    page.locator("input[name=password]").fill(password)
    page.locator("[name=wl_submit]").click()
    page.locator("input[name=OATHToken]").wait_for()
    look("login-2fa", ("Carol",))
    page.locator("input[name=OATHToken]").fill(oath_wiki.totp_code("Carol"))
    page.locator("[name=wl_submit]").click()
    page.locator(".wl-username").wait_for()
    look("home", ("Carol",))
    page.goto(app.url + "/edit?title=Sandbox")
    page.locator("#wl-text").wait_for()
    look("editor", ("Carol", "Sandbox"))
    page.locator("#wl-preview-button").click()
    page.locator("#wl-preview").wait_for()
    look("editor-preview", ("Carol", "Sandbox"))
    page.goto(app.url + "/no-such-page")
    look("error-404")
    page.goto(app.url + "/login/return?wlstate=nonsense")
    look("error-callback")


def expect_alert(page) -> None:
    page.get_by_role("alert").first.wait_for()


def test_the_wikis_messages_are_text_never_html(make_app, wiki, monkeypatch):
    app = make_app(wiki)
    evil = '<img src=x onerror="alert(1)">'
    monkeypatch.setattr(app.extensions["wiki"], "words",
                        lambda lang: LanguageWords(lang=lang, messages={"login": evil, "pt-login-button": evil,
                                                                       "userlogin-joinproject": evil}))
    html = app.test_client().get("/login").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=" in html


def test_error_and_rate_limit_pages_in_the_readers_language(make_app, wiki, fresh_throttles):
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_IP="1 per 5 minutes")
    client = app.test_client()
    de = {"Accept-Language": "de"}
    german = _catalog("de")
    missing = client.get("/no-such-page", headers=de)
    assert missing.status_code == 404 and german["Page not found"].string in missing.get_data(as_text=True)
    token = AuthActions(client).csrf(client.get("/login", headers=de).get_data(as_text=True))
    for _ in range(2):
        answer = client.post("/login", data={"csrf_token": token, "username": "Alice", "password": "x",
                                             "wl_submit": "x"}, headers=de)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 429 and '<html lang="de"' in html
    assert german["Too many login attempts"].string in html


def test_groups_are_named_as_the_wiki_names_them_in_the_readers_language(make_app, wiki):
    client = make_app(wiki).test_client()
    assert AuthActions(client).login("Alice").status_code == 303
    home = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert 'title="user">Benutzer<' in home  # MediaWiki's group-user-member
    home = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'title="user">utilisateur<' in home


def test_api_refusals_speak_the_readers_language_and_ask_the_wiki_nothing(make_app, wiki):
    client = make_app(wiki).test_client()
    german = _catalog("de")["You are not logged in. Log in, then retry."].string
    mark = wiki.log_mark()
    for headers, query in (({"Accept-Language": "de-DE,de;q=0.9"}, ""), ({}, "&uselang=de")):
        answer = client.get("/api?action=query&meta=userinfo&format=json" + query, headers=headers)
        assert answer.status_code == 401 and answer.get_json()["error"]["info"] == german
    # Nothing but siteinfo (cached for every page), which keeping ?uselang= in the login link checks it against.
    assert [c for c in wiki.api_requests_since(mark) if "meta=siteinfo" not in c] == []
