"""Per-user wiki throttles behind the front-end (WIKI_FORWARD_CLIENT_IP).

All users reach the wiki from the app's one address, so the wiki's per-address
counters (ConfirmEdit's captcha after 3 bad logins, $wgPasswordAttemptThrottle)
would treat them as one.  With WIKI_FORWARD_CLIENT_IP the app sends each
user's address as X-Forwarded-For, and a wiki that trusts the app as a proxy
counts each user apart.  The test client plays two users behind the app's own
trusted reverse proxy (TRUSTED_PROXIES=1), with distinct X-Forwarded-For.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.conftest import AuthActions
from devwiki.wikiserver import CAPTCHA_QUESTION, WikiServer, start_wiki

# What the README tells wiki administrators to add: the front-end is a proxy
# whose X-Forwarded-For the wiki believes (ProxyLookup, WebRequest::getIP).
TRUST_THE_FRONT_END = "$wgCdnServersNoPurge = [ '127.0.0.1' ];"


def _wiki(name: str, mw_version: str, settings: str) -> Iterator[WikiServer]:
    server = start_wiki(name, mw_version=mw_version, captcha="badlogin", extra_settings=settings)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def trusting_wiki(mw_version) -> Iterator[WikiServer]:
    """ConfirmEdit's captcha after 3 bad logins from one address; trusts 127.0.0.1 as a proxy."""
    yield from _wiki("trusting", mw_version, TRUST_THE_FRONT_END)


@pytest.fixture(scope="module")
def untrusting_wiki(mw_version) -> Iterator[WikiServer]:
    """The same, with MediaWiki's default: X-Forwarded-For is nobody's word."""
    yield from _wiki("untrusting", mw_version, "")


def user_behind_proxy(app, address: str) -> AuthActions:
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = address
    return AuthActions(client)


def shows_captcha(user: AuthActions) -> bool:
    return CAPTCHA_QUESTION in user.client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("wiki_name,forward,trusted_proxies,separate", [
    ("trusting_wiki", True, 1, True),     # each user's own address reaches the wiki
    ("trusting_wiki", False, 1, False),   # the wiki sees only the app: one user's failures hit all
    ("trusting_wiki", True, 0, False),    # no trusted proxy: a client's own header is not passed on
    ("untrusting_wiki", True, 1, False),  # the wiki must trust the app, or it ignores the header
])
def test_one_users_bad_logins_bring_a_captcha_to_others_only_without_forwarding(
        wiki_name, forward, trusted_proxies, separate, make_app, request, mw_version):
    # mw_version named here: a fixture got by name alone would not parametrise the test.
    wiki: WikiServer = request.getfixturevalue(wiki_name)
    wiki.reset_login_throttles()
    try:
        app = make_app(wiki, WIKI_FORWARD_CLIENT_IP=str(forward).lower(),
                       TRUSTED_PROXIES=str(trusted_proxies))
        alice = user_behind_proxy(app, "198.51.100.20")
        bob = user_behind_proxy(app, "198.51.100.21")
        assert not shows_captcha(alice) and not shows_captcha(bob)
        for _ in range(3):
            assert alice.login("Alice", "not-her-password").status_code == 200
        assert shows_captcha(alice)
        assert shows_captcha(bob) is not separate
    finally:
        wiki.reset_login_throttles()
