"""Fixtures: real MediaWiki wikis, the app (in-process and over real HTTP), Chromium.

The wikis are session-scoped (a fresh one installs and starts in seconds); the
app is made fresh for each test with its own session store.

Every wiki runs in both MediaWiki LTS versions (devwiki.wikiserver.mediawiki_versions():
the host's package and the other Debian suite's root): each wiki fixture
depends on the session-scoped, parametrised ``mw_version``, so every test that
uses a wiki runs once per version, with an id like ``test_x[mw1.43]``.  Tests
without a wiki (mocked) run once.  pytest runs all tests of one version before
the other's (it groups by session-scoped parameters), and when ``mw_version``
changes it tears down every fixture that depends on it first, so only one
version's wikis run at a time.  ``MW_VERSIONS=1.43`` (comma-separated) runs
only those versions, for a quick look while developing; ``make test`` runs both.
"""
from __future__ import annotations

import logging
import os
import re
import socket
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from werkzeug.serving import make_server

import wiki.client as wiki_client_module
from app import create_app
from tests.responses_bridge import bridged
from devwiki.wikiserver import USERS, WikiServer, mediawiki_versions, start_wiki

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(autouse=True, scope="session")
def _responses_reach_the_wiki_client() -> Iterator[None]:
    """Unit tests mock the wiki with `responses`; see tests/responses_bridge.py."""
    make_pool = wiki_client_module.make_pool
    wiki_client_module.make_pool = lambda *a, **kw: bridged(make_pool(*a, **kw))
    yield
    wiki_client_module.make_pool = make_pool


# --- wikis ------------------------------------------------------------------------------

def _mw_versions() -> list[str]:
    versions = mediawiki_versions()
    wanted = os.environ.get("MW_VERSIONS")
    if wanted:
        unknown = set(wanted.split(",")) - set(versions)
        if unknown:
            raise pytest.UsageError(f"MW_VERSIONS: {', '.join(sorted(unknown))} not among {versions}")
        versions = [v for v in versions if v in wanted.split(",")]
    return versions


@pytest.fixture(scope="session", params=_mw_versions(), ids=lambda v: f"mw{v}")
def mw_version(request) -> str:
    """The MediaWiki branch of this run of the test: ``"1.39"`` or ``"1.43"``.

    Every wiki fixture, here and in test modules, takes it and passes it to
    start_wiki(mw_version=...).
    """
    return request.param


def _wiki(name: str, mw_version: str, **options: Any) -> Iterator[WikiServer]:
    server = start_wiki(name, mw_version=mw_version, **options)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def wiki(mw_version) -> Iterator[WikiServer]:
    """A plain wiki: password login only. Users: devwiki.wikiserver.USERS."""
    yield from _wiki("plain", mw_version)


@pytest.fixture(scope="session")
def captcha_wiki(mw_version) -> Iterator[WikiServer]:
    """ConfirmEdit's QuestyCaptcha on every login."""
    yield from _wiki("captcha", mw_version, captcha="always")


@pytest.fixture(scope="session")
def oath_wiki(mw_version) -> Iterator[WikiServer]:
    """OATHAuth; Carol (devwiki.wikiserver.TOTP_USERS) has TOTP."""
    yield from _wiki("oath", mw_version, oath=True)


@pytest.fixture(scope="session")
def idp_wiki(mw_version) -> Iterator[WikiServer]:
    """The TestIdP provider (REDIRECT/RESTART) beside passwords, plus OATHAuth for Carol."""
    yield from _wiki("idp", mw_version, testidp=True, oath=True)


@pytest.fixture(scope="session")
def idp_post_wiki(mw_version) -> Iterator[WikiServer]:
    """TestIdP answering with an auto-submitted form POST (response_mode=form_post)."""
    yield from _wiki("idp-post", mw_version, testidp=True,
                     extra_settings="$wgTestIdPResponseMode = 'form_post';")


# The provider's name, as a wiki's administrators could set it (MediaWiki:Testidp-provider):
# markup the wiki itself shows escaped, as text.
EVIL_PROVIDER_NAME = """
$wgHooks['MessagesPreLoad'][] = static function ( $title, &$message, $code ) {
    if ( str_starts_with( $title, 'Testidp-provider' ) ) {
        $message = <<<'EOT'
<img src="/resources/assets/wiki.png"><a class="cdx-button cdx-button--action-progressive" href="https://evil.example/">Continue</a>
EOT;
    }
};
"""


@pytest.fixture(scope="session")
def evil_idp_wiki(mw_version) -> Iterator[WikiServer]:
    """TestIdP whose name (an interface message) is markup that the wiki escapes."""
    yield from _wiki("idp-evil", mw_version, testidp=True, extra_settings=EVIL_PROVIDER_NAME)


# ConfirmEdit's hCaptcha, as Debian's 1.39 and 1.43 ship it: its request (metadata
# type hcaptcha, the site key in metadata.key) comes from the wiki itself; nothing
# reaches hCaptcha's hosts (only checking an answer would). The keys are hCaptcha's
# published test keys.
# Without QuestyCaptcha (1.39 refuses two captcha modules that each set $wgCaptchaClass;
# 1.43 needs it set here, as for QuestyCaptcha in devwiki/wikiserver.py); a captcha on
# every login, as start_wiki(captcha="always") does.
HCAPTCHA = """
wfLoadExtensions( [ 'ConfirmEdit', 'ConfirmEdit/hCaptcha' ] );
$wgCaptchaClass = 'MediaWiki\\Extension\\ConfirmEdit\\hCaptcha\\HCaptcha';
$wgCaptchaTriggers['badlogin'] = true;
$wgCaptchaBadLoginAttempts = 0;
$wgHCaptchaSiteKey = '10000000-ffff-ffff-ffff-000000000001';
$wgHCaptchaSecretKey = '0x0000000000000000000000000000000000000000';
"""


@pytest.fixture(scope="session")
def hcaptcha_wiki(mw_version) -> Iterator[WikiServer]:
    """ConfirmEdit's hCaptcha on every login (hCaptcha's published test keys)."""
    yield from _wiki("hcaptcha", mw_version, extra_settings=HCAPTCHA)


# Web requests only (php -S): the maintenance scripts still create the test users with passwords.
NO_ACCOUNT_CREATION = """
if ( PHP_SAPI === 'cli-server' ) {
    unset( $wgAuthManagerAutoConfig['primaryauth'][MediaWiki\\Auth\\TemporaryPasswordPrimaryAuthenticationProvider::class] );
    $wgAuthManagerAutoConfig['primaryauth'][MediaWiki\\Auth\\LocalPasswordPrimaryAuthenticationProvider::class]['args'][0]['loginOnly'] = true;
}
"""


@pytest.fixture(scope="session")
def login_only_wiki(mw_version) -> Iterator[WikiServer]:
    """Passwords log in but cannot create accounts: the wiki says cancreateaccounts=false."""
    yield from _wiki("login-only", mw_version, extra_settings=NO_ACCOUNT_CREATION)


# --- the app --------------------------------------------------------------------------

@pytest.fixture
def make_app(tmp_path) -> Callable[..., Any]:
    """``make_app(wiki, **config)``: the app for ``wiki`` with its own session store."""

    def factory(server: WikiServer, **config: Any):
        settings = {
            "WIKI_API_URL": server.api_url,
            "SECRET_KEY": SECRET,
            "SESSION_DIR": str(tmp_path / "sessions"),
            "TESTING": True,
        }
        settings.update(config)
        return create_app(settings)

    return factory


class LiveApp:
    """The app served over real HTTP on 127.0.0.1, in a thread."""

    def __init__(self, make: Callable[..., Any], server: WikiServer, **config: Any):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.app = make(server, PUBLIC_URL=self.url, **config)
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def stored_session(self, sid: str) -> dict[str, Any] | None:
        """What the server-side store holds for session id ``sid``."""
        iface = self.app.session_interface
        return iface._retrieve_session_data(iface._get_store_id(sid))

    def wiki_client_for(self, sid: str):
        """A wiki client with exactly the cookies stored for ``sid``."""
        data = self.stored_session(sid) or {}
        return self.app.extensions["wiki"].client(data.get("wiki_cookies"))


@pytest.fixture
def live_app(make_app) -> Iterator[Callable[..., LiveApp]]:
    """``live_app(wiki, **config)``: a LiveApp, stopped after the test."""
    started: list[LiveApp] = []

    def factory(server: WikiServer, **config: Any) -> LiveApp:
        live = LiveApp(make_app, server, **config)
        started.append(live)
        return live

    yield factory
    for live in started:
        live.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the browser ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser):
    """``new_page()``: a page in a fresh browser context (its own cookies)."""
    contexts = []

    def factory(**options: Any):
        options.setdefault("locale", "en-US")
        ctx = browser.new_context(**options)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        return page

    yield factory
    for ctx in contexts:
        ctx.close()


_screenshot_dir = SCREENSHOTS


@pytest.fixture(autouse=True)
def _screenshots_by_version(request) -> Iterator[None]:
    """A test with a wiki saves its screenshots in artifacts/screenshots/mwVERSION/."""
    global _screenshot_dir
    callspec = getattr(request.node, "callspec", None)
    version = callspec.params.get("mw_version") if callspec else None
    _screenshot_dir = SCREENSHOTS / f"mw{version}" if version else SCREENSHOTS
    yield
    _screenshot_dir = SCREENSHOTS


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/screenshots/mwVERSION/ (look at them)."""
    _screenshot_dir.mkdir(parents=True, exist_ok=True)
    path = _screenshot_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def session_id(page, name: str = "wikilogin_session") -> str | None:
    """The app's session cookie value in this page's browser context."""
    for c in page.context.cookies():
        if c["name"] == name:
            return c["value"]
    return None


def start_with_testidp(page, app_url: str) -> None:
    """From the login page, press TestIdP's button and wait for its consent page."""
    page.goto(app_url + "/login")
    page.get_by_role("button", name="Log in with TestIdP").click()
    page.wait_for_selector("#testidp-identity")


def consent(page, identity: str) -> None:
    """On TestIdP's consent page: sign in as ``identity``."""
    page.fill("#testidp-identity", identity)
    page.click("#testidp-allow")
    page.wait_for_load_state()


# --- helpers --------------------------------------------------------------------------

class AuthActions:
    """Log in and out through the app's own pages, as a browser would (test client)."""

    def __init__(self, client):
        self.client = client

    def csrf(self, html: str) -> str:
        return re.search(r'name="csrf_token"[^>]*? value="([^"]+)"', html).group(1)

    def login(self, username: str = "Alice", password: str | None = None):
        page = self.client.get("/login")
        token = self.csrf(page.get_data(as_text=True))
        return self.client.post("/login", data={
            "csrf_token": token, "username": username,
            "password": password if password is not None else USERS[username],
            "wl_submit": "Log in",
        })


def client_from(app, address: str = "127.0.0.1", **headers: str):
    """A test client whose requests come from ``address``, with these headers (X_Forwarded_For=...)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    return client


def attempt(client, username: str, password: str = "not-the-password"):
    """One login attempt through the app's form (a wrong password unless given)."""
    return AuthActions(client).login(username, password)


@pytest.fixture
def fresh_throttles(wiki):
    """Failed logins here must not bring captchas or throttles to other tests."""
    wiki.reset_login_throttles()
    yield
    wiki.reset_login_throttles()


@pytest.fixture
def auth(make_app, wiki):
    """An AuthActions over a test client of the app for the plain wiki."""
    return AuthActions(make_app(wiki).test_client())


@pytest.fixture
def all_logs():
    """Every log record of every logger (DEBUG and up), formatted, during the test."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)
