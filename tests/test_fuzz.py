"""Property-based fuzzing of everything a browser can send: no server error, no open redirect,
no reflected markup. The wiki is mocked from real captured answers so thousands of cases run fast;
one smaller run goes against the real wiki.
"""
from __future__ import annotations

import re
import tempfile
from urllib.parse import urlencode, urlsplit

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from tests.mock_wiki import API, captured, mock_read_side

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A whole tag with an attribute (or a script): what an injection needs, and what no
# random input matches by chance in our own markup (a bare "<l" is in "<link").
TAG = re.compile(r"<[A-Za-z][^<>]*[\s/=][^<>]*>|<script", re.I)
OK_STATUSES = {200, 303, 400, 404, 405, 413, 422}
MARKUP = "<b id=fz>x</b>"

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
# Inputs that look like attacks more often than random text does.
nasty = st.one_of(
    text,
    st.sampled_from([MARKUP, "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "//evil.example",
                     "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "\r\nSet-Cookie: x=1",
                     "%0d%0aX: y", "../../etc/passwd", "\x00", "A" * 3000, "{{7*7}}", "' OR 1=1 --"]),
)
params = st.dictionaries(st.text(min_size=1, max_size=20), nasty, max_size=8)


class MockedApp:
    """One app and one mocked wiki for a whole hypothesis run (fixtures are per test, not per case)."""

    def __init__(self):
        self.rsps = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.rsps.start()
        mock_read_side(self.rsps)
        self.rsps.post(API, json=captured("clientlogin_fail_wrongpassword"))
        self.app = create_app({"WIKI_API_URL": API, "SECRET_KEY": "fuzz-secret-key-0123456789abcdef",
                               "SESSION_DIR": tempfile.mkdtemp(prefix="wl-fuzz-"),
                               "RATELIMIT_ENABLED": False})
        self.client = self.app.test_client()
        html = self.client.get("/login").get_data(as_text=True)
        self.csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    def close(self):
        self.rsps.stop()
        self.rsps.reset()


@pytest.fixture(scope="module")
def mocked():
    m = MockedApp()
    yield m
    m.close()


def check(response, *inputs: str) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code in OK_STATUSES, (response.status_code, body[:300])
    assert "Traceback" not in body
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers["Location"]
        parts = urlsplit(location)
        assert not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//"), location
    for value in inputs:
        # Markup-like input (a tag, a comment) must never come back as markup.
        if TAG.search(value):
            assert value not in body, "input reflected unescaped"


@FUZZ
@given(username=nasty, password=nasty, extra=params, returnto=nasty)
def test_login_form(mocked, username, password, extra, returnto):
    data = {**extra, "csrf_token": mocked.csrf, "username": username, "password": password, "wl_submit": "Log in"}
    response = mocked.client.post("/login?" + urlencode({"returnto": returnto}), data=data)
    check(response, username, *extra.values())
    # The password box always comes back empty.
    for box in re.findall(r'<input[^>]*name="password"[^>]*>', response.get_data(as_text=True)):
        assert 'value=""' in box or "value=" not in box


@FUZZ
@given(query=params, form=params, method=st.sampled_from(["GET", "POST"]))
def test_callback(mocked, query, form, method):
    posts_before = sum(c.request.method == "POST" for c in mocked.rsps.calls)
    url = "/login/return?" + urlencode(query)
    response = mocked.client.get(url) if method == "GET" else mocked.client.post(url, data=form)
    check(response, *query.values(), *form.values())
    # Without this browser's one-time value nothing reaches the wiki's clientlogin.
    assert sum(c.request.method == "POST" for c in mocked.rsps.calls) == posts_before


@FUZZ
@given(returnto=nasty, path=st.sampled_from(["/login", "/create", "/", "/login/resume"]), extra=params)
def test_pages_and_returnto(mocked, returnto, path, extra):
    response = mocked.client.get(path + "?" + urlencode({"returnto": returnto, **extra}))
    check(response, returnto, *extra.values())


@FUZZ
@given(fields=params)
def test_continuation_form(mocked, fields):
    """A second-factor step with anything posted to it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json=captured("clientlogin_ui_oath"))
        app = mocked.app
        client = app.test_client()
        html = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        step = client.post("/login", data={"csrf_token": csrf, "username": "Carol", "password": "pw",
                                           "wl_submit": "Log in"})
        assert 'name="OATHToken"' in step.get_data(as_text=True)
        rsps.post(API, json=captured("clientlogin_ui_oath_wrong_code"))
        response = client.post("/login", data={**fields, "csrf_token": csrf, "wl_submit": "Continue"})
        check(response, *fields.values())


# --- the same-origin API ---------------------------------------------------------------

API_STATUSES = {200, 400, 401, 403, 413, 502}
api_values = st.one_of(nasty, st.sampled_from(["query", "parse", "edit", "login", "clientlogin", "logout",
                                               "createaccount", "json", "jsonfm", "php", "xml", "user", "1"]))
api_params = st.dictionaries(st.one_of(st.sampled_from(["action", "format", "assert", "callback", "origin",
                                                        "meta", "title", "text", "token", "formatversion"]),
                                       st.text(min_size=1, max_size=20)),
                             api_values, max_size=10)


class LoggedInMockedApp:
    """A browser logged in (mocked PASS) whose every other wiki call is echoed as JSON."""

    def __init__(self):
        self.rsps = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.rsps.start()
        mock_read_side(self.rsps)
        self.forwarded: list[str] = []

        def wiki(request):
            body = request.body or ""
            if "action=clientlogin" in body:
                return 200, {}, '{"clientlogin": {"status": "PASS", "username": "Alice"}}'
            self.forwarded.append(request.url + " " + body)
            return 200, {"Content-Type": "application/json"}, '{"batchcomplete": true}'

        self.rsps.add_callback(responses.POST, API, callback=wiki)
        self.rsps.add_callback(responses.GET, API, callback=wiki)
        self.app = create_app({"WIKI_API_URL": API, "SECRET_KEY": "fuzz-secret-key-0123456789abcdef",
                               "SESSION_DIR": tempfile.mkdtemp(prefix="wl-fuzz-api-"), "RATELIMIT_ENABLED": False})
        self.client = self.app.test_client()
        html = self.client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        done = self.client.post("/login", data={"csrf_token": csrf, "username": "Alice", "password": "pw",
                                                "wl_submit": "Log in"})
        assert done.status_code == 303
        home = self.client.get("/").get_data(as_text=True)
        self.csrf = re.search(r'name="csrf_token"[^>]*? value="([^"]+)"', home).group(1)

    def close(self):
        self.rsps.stop()
        self.rsps.reset()


@pytest.fixture(scope="module")
def logged_in():
    m = LoggedInMockedApp()
    yield m
    m.close()


@FUZZ
@given(query=api_params, form=api_params, method=st.sampled_from(["GET", "POST"]),
       with_csrf=st.booleans(), site=st.sampled_from([None, "same-origin", "cross-site", "none"]))
def test_api(logged_in, query, form, method, with_csrf, site):
    headers = {"X-CSRFToken": logged_in.csrf} if with_csrf else {}
    if site:
        headers["Sec-Fetch-Site"] = site
    before = len(logged_in.forwarded)
    url = "/api?" + urlencode(query)
    if method == "GET":
        response = logged_in.client.get(url, headers=headers)
    else:
        response = logged_in.client.post(url, data=form, headers=headers)
    assert response.status_code in API_STATUSES, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.is_json, response.get_data(as_text=True)[:300]
    sent = query if method == "GET" else {**query, **form}
    if sent.get("action") in ("login", "clientlogin", "logout", "createaccount") or site == "cross-site":
        assert response.status_code in (400, 403, 413)
        assert len(logged_in.forwarded) == before, "a refused call reached the wiki"
    if len(logged_in.forwarded) > before:
        assert "assert=user" in logged_in.forwarded[-1]
        # The browser's session cookie is never passed on.
        assert "wikilogin_session" not in logged_in.forwarded[-1]
