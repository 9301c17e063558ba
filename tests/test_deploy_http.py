"""Deployment behaviour over HTTP, in-process against a real wiki: login rate limits,
proxy headers, security headers, health checks."""
from __future__ import annotations

import re
import socket
import time
from types import SimpleNamespace

import pytest

from auth.responses import CONTENT_SECURITY_POLICY
from auth.rate_limits import account_name
from tests.conftest import AuthActions, attempt, client_from
from devwiki.wikiserver import USERS, free_port


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


# --- login rate limits --------------------------------------------------------------

@pytest.mark.parametrize("raw,name", [
    ("alice", "Alice"), ("  Alice_Smith ", "Alice Smith"), ("alice__smith", "Alice smith"),
    ("éva", "Éva"), ("alice@mybot", "Alice"), ("", ""), ("x" * 300, "X" + "x" * 254),
])
def test_usernames_are_read_like_mediawiki(raw, name):
    assert account_name(raw) == name


def test_one_username_is_paused_after_its_limit_other_users_are_not(make_app, wiki, fresh_throttles):
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_USER="3 per 5 minutes")
    client = client_from(app)
    # Spellings of one user name count together, as the wiki reads them as one.
    for spelling in ("Alice", "alice", "Alice_"):
        assert attempt(client, spelling).status_code == 200
    refused = attempt(client, " alice")
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 290 <= retry_after <= 300
    text = page_text(refused)
    assert "Too many login attempts" in text
    assert "too many login attempts for this username" in text
    assert "Please try again in 5 minutes." in text
    # Another user, from the same address, logs in as usual.
    assert attempt(client, "Bob", USERS["Bob"]).status_code == 303


def test_bot_password_logins_count_against_the_account(make_app, wiki, fresh_throttles):
    """Guessing through /bot-login, as Alice@anything, uses up Alice's attempts too."""
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_USER="2 per 5 minutes")
    client = client_from(app)
    assert attempt(client, "Alice").status_code == 200
    form = client.get("/bot-login").get_data(as_text=True)
    token = AuthActions(client).csrf(form)
    bot_attempt = {"csrf_token": token, "password": "not-a-bot-password", "submit": "Log in"}
    assert client.post("/bot-login", data={**bot_attempt, "username": "Alice@mybot"}).status_code == 200
    refused = client.post("/bot-login", data={**bot_attempt, "username": "alice@otherbot"})
    assert refused.status_code == 429
    assert attempt(client, "Alice").status_code == 429
    assert attempt(client, "Bob", USERS["Bob"]).status_code == 303


def test_one_address_is_paused_after_its_limit_other_addresses_are_not(make_app, wiki, fresh_throttles):
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_IP="2 per 5 minutes")
    guesser = client_from(app, "192.0.2.10")
    for user in ("Alice", "Bob"):
        assert attempt(guesser, user).status_code == 200
    refused = attempt(guesser, "Carol")
    assert refused.status_code == 429
    assert "too many login attempts from your network" in page_text(refused)
    assert attempt(client_from(app, "192.0.2.11"), "Alice", USERS["Alice"]).status_code == 303


def test_only_login_posts_count(make_app, wiki, fresh_throttles):
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_IP="1 per 5 minutes")
    client = client_from(app)
    for path in ("/", "/login", "/login", "/healthz", "/static/app.css"):
        assert client.get(path).status_code == 200
    assert attempt(client, "Alice").status_code == 200
    assert attempt(client, "Alice").status_code == 429
    assert client.get("/login").status_code == 200


def test_an_ipv6_client_is_limited_by_its_64_network(make_app, wiki, fresh_throttles):
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_IP="1 per 5 minutes")
    assert attempt(client_from(app, "2001:db8:1:2::1"), "Alice").status_code == 200
    assert attempt(client_from(app, "2001:db8:1:2::beef"), "Bob").status_code == 429
    assert attempt(client_from(app, "2001:db8:1:3::1"), "Bob").status_code == 200


@pytest.mark.parametrize("trusted", [True, False])
def test_x_forwarded_for_is_the_client_only_behind_trusted_proxies(trusted, make_app, wiki, fresh_throttles):
    """With TRUSTED_PROXIES, users behind one proxy have their own budgets; without it,
    a client cannot pick a fresh address for each attempt."""
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_IP="1 per 5 minutes",
                   TRUSTED_PROXIES="1" if trusted else "0")
    assert attempt(client_from(app, X_Forwarded_For="198.51.100.1"), "Alice").status_code == 200
    second = attempt(client_from(app, X_Forwarded_For="198.51.100.2"), "Bob")
    assert second.status_code == (200 if trusted else 429)


@pytest.mark.parametrize("trusted,forwarded_proto,base_url,secure", [
    (False, None, "https://login.example.org", True),  # TLS straight to the app
    (True, "https", "http://login.example.org", True),  # a trusted proxy ended TLS
    (False, "https", "http://login.example.org", False),  # anyone can send that header
    (False, None, "http://login.example.org", False),
])
def test_the_session_cookie_is_secure_whenever_the_browser_used_https(
        trusted, forwarded_proto, base_url, secure, make_app, wiki):
    """Even without PUBLIC_URL (which would make it Secure always)."""
    app = make_app(wiki, PUBLIC_URL="", TRUSTED_PROXIES="1" if trusted else "0")
    headers = {"X-Forwarded-Proto": forwarded_proto} if forwarded_proto else {}
    response = app.test_client().get("/login", base_url=base_url, headers=headers)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("wikilogin_session="))
    assert ("; Secure" in cookie) is secure


# --- security headers -----------------------------------------------------------------

def _rate_limited_page(app):
    client = client_from(app, "192.0.2.99")
    attempt(client, "Alice")
    return attempt(client, "Alice")


PAGES = {
    "home": lambda app: app.test_client().get("/"),
    "login": lambda app: app.test_client().get("/login"),
    "not found": lambda app: app.test_client().get("/no-such-page"),
    "static": lambda app: app.test_client().get("/static/app.css"),
    "health": lambda app: app.test_client().get("/healthz"),
    "too many": _rate_limited_page,
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("public_url", ["http://login.example.org", "https://login.example.org"])
def test_every_page_has_the_security_headers(page, public_url, make_app, wiki, fresh_throttles):
    app = make_app(wiki, PUBLIC_URL=public_url, LOGIN_RATE_LIMIT_PER_IP="1 per 5 minutes")
    response = PAGES[page](app)
    assert response.status_code == {"not found": 404, "too many": 429}.get(page, 200)
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    https = public_url.startswith("https://")
    assert (headers.get("Strict-Transport-Security") == "max-age=31536000") is https
    assert ("no-store" in headers.get("Cache-Control", "")) is (page != "static")
    for cookie in headers.getlist("Set-Cookie"):
        assert ("; Secure" in cookie) is https and "HttpOnly" in cookie


# --- health checks ----------------------------------------------------------------------

def test_healthz_reports_ok_and_sets_no_cookie(make_app, wiki):
    response = make_app(wiki).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "wiki": "ok", "sessions": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_is_503_when_the_wiki_is_down_but_livez_stays_200(make_app):
    down = SimpleNamespace(api_url=f"http://127.0.0.1:{free_port()}/api.php")
    client = make_app(down).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "wiki": "unavailable", "sessions": "ok"}
    assert "127.0.0.1" not in response.get_data(as_text=True)  # no addresses or error details
    assert client.get("/livez").get_json() == {"status": "ok"}


def test_healthz_is_503_when_redis_is_down(make_app, wiki):
    app = make_app(wiki, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "wiki": "ok", "sessions": "unavailable"}


def test_healthz_gives_up_on_a_silent_wiki_after_two_seconds(make_app):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        server = SimpleNamespace(api_url=f"http://127.0.0.1:{silent.getsockname()[1]}/api.php")
        client = make_app(server, WIKI_TIMEOUT="10").test_client()
        began = time.monotonic()
        response = client.get("/healthz")
        assert response.status_code == 503
        assert time.monotonic() - began < 4
