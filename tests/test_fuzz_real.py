"""Fuzzing the login form against the real wiki (fewer cases: each one is real wiki work)."""
from __future__ import annotations

import re
import tempfile
from urllib.parse import urlencode

from hypothesis import given, settings

from app import create_app
from tests.test_fuzz import check, nasty


@settings(max_examples=100, deadline=None)
@given(username=nasty, returnto=nasty)
def test_login_form_against_the_real_wiki(wiki, username, returnto):
    app = _real_app(wiki)
    client = app.test_client()
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/login?" + urlencode({"returnto": returnto}),
                           data={"csrf_token": csrf, "username": username, "password": "wrong-pass",
                                 "wl_submit": "Log in"})
    check(response, username)


_apps: dict[str, object] = {}


def _real_app(wiki):
    if wiki.api_url not in _apps:
        _apps[wiki.api_url] = create_app({"WIKI_API_URL": wiki.api_url,
                                          "SECRET_KEY": "fuzz-secret-key-0123456789abcdef",
                                          "SESSION_DIR": tempfile.mkdtemp(prefix="wl-fuzz-real-"),
                                          "RATELIMIT_ENABLED": False})
    wiki.reset_login_throttles()
    return _apps[wiki.api_url]
