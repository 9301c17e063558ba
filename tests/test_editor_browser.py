"""The demo editor end to end: Chromium -> the app -> /api -> a real MediaWiki.

Who made an edit is always checked on the wiki itself (``history``), never
from what the app shows.
"""
from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot, session_id
from tests.test_editor_api import (
    COOKIE,
    history,
    unique_title,
    userinfo_with_cookies,
    wiki_api_session,
    wiki_edit,
)
from devwiki.wikiserver import USERS

pytestmark = pytest.mark.browser


def log_in(page, app, user: str) -> None:
    """Log in through the app's login page (already open, or opened here)."""
    if "/login" not in page.url:
        page.goto(app.url + "/login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password", exact=True).fill(USERS[user])
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_load_state()


def editor_path(title: str) -> str:
    return "/edit/" + quote(title.replace(" ", "_"))


def open_editor(page, app, title: str) -> None:
    page.goto(app.url + editor_path(title))
    expect(page.get_by_role("button", name="Save changes")).to_be_enabled()


def text_box(page):
    return page.get_by_label("Page text (wikitext)")


def status(page):
    return page.locator("#wl-editor-status")


def idle(page) -> None:
    """Wait until the editor is done with its call (buttons usable again), e.g. for a screenshot."""
    expect(page.get_by_role("button", name="Save changes")).to_be_enabled()


def test_alice_and_bob_preview_and_save_at_the_same_time_each_edit_is_theirs(wiki, live_app, new_page):
    app = live_app(wiki)
    titles = {"Alice": unique_title(), "Bob": unique_title()}
    # Alice's page exists already (made by Bob on the wiki); Bob's is new.
    wiki_edit(wiki_api_session(wiki, "Bob"), wiki, titles["Alice"],
              "This is the '''sandbox'''. Try editing it!\n\n== Notes ==\n* One\n* Two", "Bob starts the page")
    pages = {name: new_page() for name in titles}
    for name, page in pages.items():
        log_in(page, app, name)
        open_editor(page, app, titles[name])
    expect(text_box(pages["Alice"])).to_have_value(re.compile(r"^This is the '''sandbox'''"))
    expect(status(pages["Bob"])).to_contain_text("does not exist yet")
    screenshot(pages["Alice"], "editor")

    for name, page in pages.items():
        text_box(page).fill(f"== Hello ==\n'''{name}''' was here, see [[Main Page]].\n\n"
                            "{| class=\"wikitable\"\n! Who !! When\n|-\n| " + name + " || today\n|}")
        page.get_by_label("Summary").fill(f"{name}'s edit")
        page.get_by_role("button", name="Show preview").click()
    for name, page in pages.items():
        preview = page.locator("#wl-preview-body")
        expect(preview.locator("h2")).to_have_text("Hello")
        expect(preview.locator("b")).to_have_text(name)
        expect(preview.locator("table.wikitable td").first).to_have_text(name)
        link = preview.get_by_role("link", name="Main Page")
        expect(link).to_have_attribute("href", re.compile("^" + re.escape(wiki.base_url) + "/"))
        expect(link).to_have_attribute("target", "_blank")
    idle(pages["Alice"])
    screenshot(pages["Alice"], "editor-preview")

    # Both saves are sent together; each lands as its own user.
    for page in pages.values():
        page.get_by_role("button", name="Save changes").click(no_wait_after=True)
    for name, page in pages.items():
        expect(status(page).locator(".cdx-message--success")).to_contain_text(f"Saved as {name}")
    expect(pages["Bob"].get_by_role("heading", level=1)).to_contain_text("Editing")
    expect(pages["Bob"].locator("#wl-preview")).to_be_hidden()
    idle(pages["Bob"])
    screenshot(pages["Bob"], "editor-saved")
    assert history(wiki, titles["Alice"]) == [("Alice", "Alice's edit"), ("Bob", "Bob starts the page")]
    assert history(wiki, titles["Bob"]) == [("Bob", "Bob's edit")]


def test_edit_conflict_is_shown_and_the_users_text_kept(wiki, live_app, new_page):
    app = live_app(wiki)
    title = unique_title()
    bob = wiki_api_session(wiki, "Bob")
    wiki_edit(bob, wiki, title, "First line.\nSecond line.", "Bob starts")
    # The wiki compares timestamps to the second: a change within the same
    # second as the base revision would count as no conflict.
    time.sleep(1.1)
    page = new_page()
    log_in(page, app, "Alice")
    open_editor(page, app, title)
    wiki_edit(bob, wiki, title, "First line, changed by Bob.\nSecond line.", "Bob again")

    mine = "First line, changed by Alice.\nSecond line."
    text_box(page).fill(mine)
    page.get_by_label("Summary").fill("Alice's version")
    page.get_by_role("button", name="Save changes").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Edit conflict: nothing was saved.")
    expect(alert).to_contain_text("Bob changed this page after you started editing")
    expect(text_box(page)).to_have_value(mine)
    expect(page.locator("#wl-theirs-text")).to_have_value("First line, changed by Bob.\nSecond line.")
    expect(page.locator("#wl-theirs-caption")).to_contain_text("Saved by Bob")
    idle(page)
    screenshot(page, "editor-conflict")
    assert history(wiki, title)[0] == ("Bob", "Bob again")

    # Saving again is deliberate: it replaces Bob's version with Alice's text.
    page.get_by_role("button", name="Save changes").click()
    expect(status(page).locator(".cdx-message--success")).to_contain_text("Saved as Alice")
    expect(page.locator("#wl-theirs")).to_be_hidden()
    assert history(wiki, title) == [("Alice", "Alice's version"), ("Bob", "Bob again"), ("Bob", "Bob starts")]


def test_wiki_session_killed_behind_our_back_login_then_back_in_the_editor_with_the_text(wiki, live_app, new_page):
    app = live_app(wiki)
    title = unique_title("Δοκιμή/Žluťoučký")  # the way back must survive any title
    page = new_page()
    log_in(page, app, "Alice")
    open_editor(page, app, title)
    text_box(page).fill("Typed before the wiki forgot me.")
    old_sid = session_id(page)
    wiki.clear_sessions()

    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(r"/login\?"))
    assert parse_qs(urlsplit(page.url).query)["returnto"] == [editor_path(title)]
    assert app.stored_session(old_sid) is None  # the app dropped its copy of the dead session
    log_in(page, app, "Alice")
    page.wait_for_url(app.url + editor_path(title))
    expect(text_box(page)).to_have_value("Typed before the wiki forgot me.")
    expect(status(page)).to_contain_text("Your unsaved changes are restored")

    page.get_by_role("button", name="Save changes").click()
    expect(status(page).locator(".cdx-message--success")).to_contain_text("Saved as Alice")
    assert [user for user, _ in history(wiki, title)] == ["Alice"]


def test_a_new_login_in_another_tab_reloads_the_editor_with_the_text_kept(wiki, live_app, new_page):
    app = live_app(wiki)
    title = unique_title()
    page = new_page()
    log_in(page, app, "Alice")
    open_editor(page, app, title)
    text_box(page).fill("Typed in the first tab.")
    # Logging in again elsewhere renews the session id: this tab's CSRF token is stale now.
    log_in(page.context.new_page(), app, "Alice")

    page.get_by_role("button", name="Save changes").click()
    expect(status(page)).to_contain_text("Your unsaved changes are restored")
    expect(text_box(page)).to_have_value("Typed in the first tab.")
    page.get_by_role("button", name="Save changes").click()
    expect(status(page).locator(".cdx-message--success")).to_contain_text("Saved as Alice")
    assert [user for user, _ in history(wiki, title)] == ["Alice"]


def test_editor_sends_strangers_to_login_and_back(wiki, live_app, new_page):
    app = live_app(wiki)
    title = unique_title("Start here")
    page = new_page()
    page.goto(app.url + editor_path(title))
    assert parse_qs(urlsplit(page.url).query)["returnto"] == [editor_path(title)]
    log_in(page, app, "Bob")
    page.wait_for_url(app.url + editor_path(title))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Creating {title}")


def test_preview_keeps_only_harmless_html(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page()
    log_in(page, app, "Alice")
    open_editor(page, app, unique_title())
    hostile = (
        '<div class="mw-parser-output wl-card cdx-button"><p onclick="window.pwned=1">Hello</p>'
        '<script>window.pwned=1</script><img src="x" onerror="window.pwned=1" alt="A cat">'
        '<a href="javascript:window.pwned=1">js link</a> <a href="/index.php/Main_Page" title="Main">wiki link</a>'
        '<iframe src="https://evil.example/"></iframe><form action="https://evil.example/"><input name="a"></form>'
        '<svg><script>window.pwned=1</script></svg><style>body{display:none}</style>'
        '<math><mi xlink:href="javascript:window.pwned=1">m</mi></math>'
        '<table class="wikitable"><tr><td colspan="2" style="background:url(https://evil.example/)">cell</td></tr></table>'
        '<span id="wl-text" data-x="1">clobber</span><custom-tag>kept text</custom-tag></div>'
    )

    def fake_parse(route):
        if "action=parse" in (route.request.post_data or ""):
            route.fulfill(status=200, content_type="application/json",
                          body=json.dumps({"parse": {"title": "X", "text": hostile}}))
        else:
            route.continue_()

    page.route("**/api", fake_parse)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Show preview").click()
    body = page.locator("#wl-preview-body")
    expect(body).to_contain_text("cell")
    html = body.inner_html()
    for bad in ("<script", "<iframe", "<form", "<input", "<img", "<svg", "<math", "<style", "onclick",
                "onerror", "style=", "javascript:", 'id="wl-text"', "data-x", "wl-card", "cdx-button"):
        assert bad not in html, bad
    assert "kept text" in html and "Image: A cat" in html
    assert body.locator("td").get_attribute("colspan") == "2"
    assert body.locator(".mw-parser-output table.wikitable").count() == 1
    expect(body.get_by_role("link", name="wiki link")).to_have_attribute("href", wiki.base_url + "/index.php/Main_Page")
    assert body.get_by_text("js link").get_attribute("href") is None
    page.wait_for_timeout(200)
    assert page.evaluate("window.pwned") is None and dialogs == []
    assert page.locator("#wl-text").count() == 1  # the real text box, not clobbered



def test_preview_links_work_when_the_wikis_server_is_protocol_relative(wiki, live_app, new_page):
    """$wgServer = "//host" (as on Wikimedia wikis): links resolve against this page's scheme."""
    app = live_app(wiki)
    page = new_page()
    log_in(page, app, "Alice")
    open_editor(page, app, unique_title())
    relative_server = "//" + wiki.base_url.split("://", 1)[1]
    page.evaluate("server => { document.getElementById('wl-editor').dataset.wikiServer = server; }", relative_server)
    html = ('<p><a href="/index.php/Main_Page">wiki link</a> <a href="//other.example/x">other wiki</a> '
            '<a href="https://example.org/">outside</a> <a href="javascript:window.pwned=1">js link</a></p>')

    def fake_parse(route):
        if "action=parse" in (route.request.post_data or ""):
            route.fulfill(status=200, content_type="application/json",
                          body=json.dumps({"parse": {"title": "X", "text": html}}))
        else:
            route.continue_()

    page.route("**/api", fake_parse)
    page.get_by_role("button", name="Show preview").click()
    body = page.locator("#wl-preview-body")
    expect(body).to_contain_text("outside")
    scheme = urlsplit(app.url).scheme
    expect(body.get_by_role("link", name="wiki link")).to_have_attribute("href", wiki.base_url + "/index.php/Main_Page")
    expect(body.get_by_role("link", name="other wiki")).to_have_attribute("href", f"{scheme}://other.example/x")
    expect(body.get_by_role("link", name="outside")).to_have_attribute("href", "https://example.org/")
    assert body.get_by_text("js link").get_attribute("href") is None

def test_editor_without_javascript_shows_the_text_and_says_what_is_missing(wiki, live_app, new_page):
    app = live_app(wiki)
    title = unique_title()
    wiki_edit(wiki_api_session(wiki, "Bob"), wiki, title, "Readable without scripts.")
    page = new_page(java_script_enabled=False)
    log_in(page, app, "Alice")
    page.goto(app.url + editor_path(title))
    assert text_box(page).input_value() == "Readable without scripts."
    assert "Previewing and saving need JavaScript" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Save changes").is_disabled()


def test_after_logout_the_api_is_401_the_old_cookie_gets_nothing_and_the_wiki_session_is_over(
        wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page()
    log_in(page, app, "Alice")
    main = page.locator("main")
    expect(main).to_contain_text("Logged in as Alice")
    expect(main.locator(".cdx-info-chip")).to_contain_text(["user", "autoconfirmed"])
    expect(main).to_contain_text("edit pages, create pages, move pages")
    main.get_by_text("rights of this session").click()
    screenshot(page, "home-logged-in-details")
    sid = session_id(page)
    wiki_cookies = app.stored_session(sid)["wiki_cookies"]

    main.get_by_role("button", name="Log out").click()
    expect(main).to_contain_text("You are logged out, here and on the wiki.")
    assert session_id(page) is None
    response = page.request.get(app.url + "/api?action=query&meta=userinfo")
    assert response.status == 401 and response.json()["error"]["code"] == "notloggedin"

    replay = new_page()
    replay.context.add_cookies([{"name": COOKIE, "value": sid, "url": app.url}])
    response = replay.request.get(app.url + "/api?action=query&meta=userinfo")
    assert response.status == 401
    replay.goto(app.url + "/")
    expect(replay.locator("main")).to_contain_text("You are not logged in")
    assert app.stored_session(sid) is None
    assert userinfo_with_cookies(wiki, wiki_cookies).get("anon") is True


def test_editor_on_a_phone(wiki, live_app, new_page):
    app = live_app(wiki)
    title = unique_title()
    wiki_edit(wiki_api_session(wiki, "Bob"), wiki, title, "Short text.\n\n== Section ==\nMore.")
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    log_in(page, app, "Alice")
    open_editor(page, app, title)
    for control in (text_box(page), page.get_by_label("Summary"), page.get_by_role("button", name="Show preview")):
        box = control.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375
    screenshot(page, "editor-phone")
