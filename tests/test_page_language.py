"""Every page says its language and writing direction (a first part of issue #17)."""
from __future__ import annotations

import pytest

from auth.language import text_direction
from tests.conftest import screenshot


@pytest.mark.parametrize("tag,direction", [
    ("ar", "rtl"), ("he", "rtl"), ("fa", "rtl"), ("ckb", "rtl"), ("ur", "rtl"), ("yi", "rtl"),
    ("de", "ltr"), ("en", "ltr"), ("fr", "ltr"), ("zh-hans", "ltr"), ("sr-ec", "ltr"), ("xx-unknown", "ltr"),
    ("ar-eg", "rtl"),
])
def test_writing_direction_of_a_language(tag, direction):
    assert text_direction(tag) == direction


@pytest.mark.parametrize("path", ["/login", "/", "/no-such-page"])
def test_pages_follow_the_readers_language_else_the_wikis(path, make_app, wiki):
    client = make_app(wiki).test_client()
    arabic = client.get(path, headers={"Accept-Language": "ar,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic and "codex.style-rtl.css" in arabic
    german = client.get(path, headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in german and "codex.style.css" in german
    # No language of the browser's fits: the wiki's own (the test wiki's is English).
    none = client.get(path, headers={"Accept-Language": "tlh"}).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in none


def test_an_arabic_reader_gets_a_right_to_left_login_page(wiki, live_app, new_page):
    app = live_app(wiki)
    page = new_page(locale="ar")
    page.goto(app.url + "/login")
    assert page.locator("html").get_attribute("dir") == "rtl"
    label = page.locator("label[for=wl-field-username]").bounding_box()
    box = page.locator("#wl-field-username").bounding_box()
    # Right to left: the label starts at the field's right edge.
    assert abs((label["x"] + label["width"]) - (box["x"] + box["width"])) < 20
    screenshot(page, "login-ar")
