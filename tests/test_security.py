"""What an outside attack on the running app found (issue #13), each as a regression test.

Against the real wiki wherever a real wiki can show it; mocked only where a real
wiki cannot produce the answer.
"""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import AuthActions, attempt, client_from, session_id
from devwiki.wikiserver import TOTP_USERS, USERS
from wiki.usernames import canonical_username, user_namespace_names


# --- 1. the per-account limit and MediaWiki's name variants --------------------------------

VARIANTS_OF_BOB = ["User:Bob", "user:bob", ":User:Bob", ": user : bob", "B\u200eob", "\u202aBob",
                   "B\u200eo\u200eb", "Bob\u3000", "bob\u00a0", "_Bob_", "User_:_Bob",
                   # The title parser decodes named character references first.
                   "B&lrm;ob", "Bob&nbsp;", "&ensp;Bob", "B&lrm;&lrm;ob", "User&colon;Bob"]


@pytest.mark.parametrize("raw", VARIANTS_OF_BOB)
def test_name_variants_are_the_account_mediawiki_reads(raw):
    assert canonical_username(raw) == "Bob"


def test_name_rules_follow_the_wikis_own_namespace_names():
    german = user_namespace_names(["Benutzer", "User", "Benutzerin", "Benutzer_in"])
    assert canonical_username("benutzerin:alice", german) == "Alice"
    assert canonical_username("Benutzer in:alice", german) == "Alice"
    assert canonical_username("benutzerin:alice") == "Benutzerin:alice"  # not on an English wiki
    # Only one User: prefix comes off, and other namespaces are not the User namespace.
    assert canonical_username("User:User:Bob") == "User:Bob"
    assert canonical_username("Talk:Bob") == "Talk:Bob"
    # What the wiki normalises (NFC) is one name, too.
    assert canonical_username("E\u0301va") == canonical_username("\u00c9va") == "\u00c9va"
    # "#" is refused before anything else (so "&#111;" is no way in): no account at all.
    assert canonical_username("B&#111;b") == canonical_username("Bob#x") == ""
    assert canonical_username("B&notanentity;ob") == "B&notanentity;ob"


def test_the_wiki_really_logs_variants_in_as_the_same_account(make_app, wiki, fresh_throttles):
    """The premise: each spelling reaches Bob's account on a real MediaWiki."""
    for raw in ("User:Bob", ":user:b\u200eob", "\u202abob\u3000", "B&lrm;ob", "&ensp;Bob"):
        client = make_app(wiki).test_client()
        assert attempt(client, raw, USERS["Bob"]).status_code == 303, raw
        assert 'class="wl-username">Bob<' in client.get("/").get_data(as_text=True)


def test_name_variants_share_one_account_limit(make_app, wiki, fresh_throttles):
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_USER="3 per 5 minutes")
    for n in range(3):
        assert attempt(client_from(app, f"192.0.2.{n + 1}"), "Bob").status_code == 200
    for i, raw in enumerate(VARIANTS_OF_BOB):
        # From fresh addresses, with the right password: still Bob's pause.
        refused = attempt(client_from(app, f"198.51.100.{i + 1}"), raw, USERS["Bob"])
        assert refused.status_code == 429, raw
    assert attempt(client_from(app, "203.0.113.1"), "Alice", USERS["Alice"]).status_code == 303


# --- 2. IPv4 clients on a dual-stack listener -----------------------------------------------

def test_ipv4_mapped_clients_each_have_their_own_budget(make_app, wiki, fresh_throttles):
    app = make_app(wiki, LOGIN_RATE_LIMIT_PER_IP="1 per 5 minutes")
    assert attempt(client_from(app, "::ffff:192.0.2.10"), "Alice").status_code == 200
    # Another IPv4 client through the same [::] socket is not that client ...
    assert attempt(client_from(app, "::ffff:192.0.2.11"), "Alice", USERS["Alice"]).status_code == 303
    # ... while the first one is the same client however its address is written.
    assert attempt(client_from(app, "192.0.2.10"), "Bob").status_code == 429
    assert attempt(client_from(app, "::ffff:c000:20a"), "Bob").status_code == 429


# --- 3. cross-site logout -----------------------------------------------------------------

def test_a_logout_post_without_our_cookie_changes_nothing(make_app, wiki):
    app = make_app(wiki)
    victim = app.test_client()
    assert AuthActions(victim).login("Alice").status_code == 303
    sid = victim.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    # Another site's form: the browser withholds the SameSite=Lax cookie.
    forged = app.test_client().post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 303 and forged.headers["Location"] == "/"
    assert "Set-Cookie" not in forged.headers
    assert "You are logged out" not in app.test_client().get(forged.headers["Location"]).get_data(as_text=True)
    # Had the cookie been sent anyway, without this session's token nothing is done either.
    victim_again = app.test_client()
    victim_again.set_cookie(app.config["SESSION_COOKIE_NAME"], sid)
    refused = victim_again.post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 400 and "Set-Cookie" not in refused.headers
    assert 'class="wl-username">Alice<' in victim.get("/").get_data(as_text=True)
    assert victim.get("/api?action=query&meta=userinfo").get_json()["query"]["userinfo"]["name"] == "Alice"


def test_a_made_up_logged_out_link_claims_nothing(make_app, wiki):
    client = make_app(wiki).test_client()
    for forged in ("/?logged_out=1", "/?logged_out=1.abc.def"):
        assert "You are logged out" not in client.get(forged).get_data(as_text=True)


def test_cross_site_logout_form_in_chromium_leaves_the_user_logged_in(wiki, live_app, new_page):
    """A real browser on another site (localhost is another site than 127.0.0.1) posts to /logout."""
    app = live_app(wiki)
    page = new_page()
    page.goto(app.url + "/login")
    page.fill("input[name=username]", "Alice")
    page.fill("input[name=password]", USERS["Alice"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(app.url + "/")
    sid = session_id(page)
    attacker = app.url.replace("127.0.0.1", "localhost") + "/static/app.css"
    page.goto(attacker)  # any page of the other site; the form is written into it
    with page.expect_navigation(url=app.url + "/"):  # the 303 the POST gets lands on home
        page.evaluate("""(target) => {
            const f = document.createElement('form');
            f.method = 'POST'; f.action = target; document.body.appendChild(f); f.submit();
        }""", app.url + "/logout")
    assert "logged out" not in page.locator("main").inner_text()
    page.goto(app.url + "/")
    assert session_id(page) == sid
    assert "Logged in as Alice" in page.locator("main").inner_text()


# --- 4. a stray link does not spend a pending provider login --------------------------------

def _away_at_the_provider(app):
    client = app.test_client()
    csrf = AuthActions(client).csrf(client.get("/login").get_data(as_text=True))
    away = client.post("/login", data={"csrf_token": csrf, "testidplogin": "Log in with TestIdP"})
    assert away.status_code == 303
    return client, away.headers["Location"]


def _provider_answers(location: str, identity: str = "alice") -> str:
    """The provider approves at once (its prompt=none shortcut): where it sends the browser back."""
    back = requests.get(location + f"&prompt=none&login_hint={identity}", allow_redirects=False, timeout=10)
    parts = urlsplit(back.headers["Location"])
    return f"{parts.path}?{parts.query}"


def test_stray_callbacks_do_not_cancel_the_pending_login(idp_wiki, make_app):
    idp_wiki.reset_login_throttles()
    app = make_app(idp_wiki, PUBLIC_URL="http://127.0.0.1:5998")
    client, location = _away_at_the_provider(app)
    genuine = _provider_answers(location)
    wlstate = parse_qs(urlsplit(genuine).query)["wlstate"][0]
    mark = idp_wiki.log_mark()
    for stray in ("/login/return", "/login/return?code=abc&state=def",
                  f"/login/return?wlstate={wlstate[:-2]}xx&code=abc"):
        refused = client.get(stray)
        assert refused.status_code == 400 and "not valid any more" in refused.get_data(as_text=True)
    # A cross-site form POST of a wrong value, relayed by our own page, is a stray too.
    relay = client.post("/login/return", data={"wlstate": "forged", "code": "abc", "wl_relayed": "1"})
    assert relay.status_code == 400
    assert idp_wiki.api_requests_since(mark) == []
    done = client.get(genuine)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert 'class="wl-username">Alice<' in client.get("/").get_data(as_text=True)


def test_opening_the_login_page_again_keeps_the_pending_provider_login(idp_wiki, make_app):
    """A second tab (or a link) opens /login while the first tab is at the provider."""
    idp_wiki.reset_login_throttles()
    app = make_app(idp_wiki, PUBLIC_URL="http://127.0.0.1:5998")
    client, location = _away_at_the_provider(app)
    assert client.get("/login").status_code == 200
    assert client.get("/login?restart=1", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
    done = client.get(_provider_answers(location))
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert 'class="wl-username">Alice<' in client.get("/").get_data(as_text=True)


def test_a_cross_site_restart_link_does_not_reset_a_two_factor_step(oath_wiki, make_app):
    oath_wiki.reset_login_throttles()
    client = make_app(oath_wiki).test_client()
    password, _ = TOTP_USERS["Carol"]
    csrf = AuthActions(client).csrf(client.get("/login").get_data(as_text=True))
    two_factor = client.post("/login", data={"csrf_token": csrf, "username": "Carol", "password": password,
                                             "wl_submit": "Log in"}).get_data(as_text=True)
    assert 'name="OATHToken"' in two_factor
    linked = client.get("/login?restart=1", headers={"Sec-Fetch-Site": "cross-site"}).get_data(as_text=True)
    assert 'name="OATHToken"' in linked and 'name="password"' not in linked
    # Our own "Start over" link (same-origin) still starts over.
    own = client.get("/login?restart=1", headers={"Sec-Fetch-Site": "same-origin"}).get_data(as_text=True)
    assert 'name="password"' in own


# --- 5. text the wiki escaped stays text ----------------------------------------------------

EVIL_NAME = ('<img src="/resources/assets/wiki.png">'
             '<a class="cdx-button cdx-button--action-progressive" href="https://evil.example/">Continue</a>')


def test_a_provider_name_with_markup_stays_text_in_every_page(evil_idp_wiki, make_app):
    app = make_app(evil_idp_wiki, PUBLIC_URL="http://127.0.0.1:5998")
    client, location = _away_at_the_provider(app)
    restart = client.get(_provider_answers(location, identity="nobody"))  # not linked: RESTART
    assert restart.status_code in (200, 303)
    pages = [client.get("/login/resume").get_data(as_text=True)]
    csrf = AuthActions(client).csrf(pages[0])
    pages.append(client.post("/create/linked", data={"csrf_token": csrf}).get_data(as_text=True))
    assert "Choose a name for your new wiki account" in pages[-1]
    for html in pages:
        main = html.split("<main", 1)[1]
        assert not re.search(r"<a\b[^>]*evil\.example", main)  # no link, only its text
        assert "<img" not in main and "wiki-image" not in main
        assert "&lt;a class=" in main  # shown, as the text it is


def test_a_fail_without_a_message_shows_its_code_as_text(make_app):
    """Mocked: a real wiki always sends a message with a FAIL."""
    import responses

    from tests.mock_wiki import API, mock_read_side

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json={"clientlogin": {"status": "FAIL", "messagecode": '<a href="https://evil.example/">x</a>'}})
        client = make_app(type("W", (), {"api_url": API})()).test_client()
        csrf = AuthActions(client).csrf(client.get("/login").get_data(as_text=True))
        html = client.post("/login", data={"csrf_token": csrf, "username": "Alice", "password": "pw",
                                           "wl_submit": "Log in"}).get_data(as_text=True)
    assert "The wiki refused this" in html
    assert not re.search(r"<a\b[^>]*evil\.example", html) and "&lt;a href=" in html


# --- hardening ------------------------------------------------------------------------------

def _signed_captcha_src(app, client, path="/resources/assets/wiki.png"):
    from auth.wiki_html import image_url

    client.get("/login")
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context("/", headers={"Cookie": f"{name}={client.get_cookie(name).value}"}):
        return image_url(path, app.extensions["wiki"].origin)


def test_image_addresses_work_for_their_own_session_only_and_expire(make_app, wiki):
    app = make_app(wiki, LOGIN_FLOW_TTL=1)
    owner = app.test_client()
    src = _signed_captcha_src(app, owner)
    assert owner.get(src).status_code == 200
    other = app.test_client()
    other.get("/login")
    assert other.get(src).status_code == 404  # handed on to another browser
    assert app.test_client().get(src).status_code == 404  # no session at all
    time.sleep(2.2)
    assert owner.get(src).status_code == 404  # older than a form lives


def test_wiki_html_cannot_wear_the_apps_own_classes(make_app, wiki):
    from auth.wiki_html import sanitize

    with make_app(wiki).test_request_context("/"):
        html = str(sanitize('<div class="cdx-message cdx-message--success">Welcome</div>'
                            '<a class="cdx-button wl-primary mw-ui-link" href="/x">Go</a>'
                            '<span class="mw-parser-output">y</span>', wiki.base_url))
    assert "cdx-" not in html and "wl-" not in html
    assert 'class="mw-ui-link"' in html and 'class="mw-parser-output"' in html
    assert "Welcome" in html and ">Go</a>" in html


def test_requests_for_another_host_are_refused(make_app, wiki):
    app = make_app(wiki, PUBLIC_URL="http://login.example.org")
    client = app.test_client()
    mark = wiki.log_mark()
    for path in ("/login", "/edit//x", "/"):
        refused = client.get(path, headers={"Host": "evil.example"})
        assert refused.status_code == 400, path
        assert "evil.example" not in refused.headers.get("Location", "")
    # Nothing but the wiki's name for the page (siteinfo, cached for every page) was asked.
    assert [c for c in wiki.api_requests_since(mark) if "meta=siteinfo" not in c] == []
    assert client.get("/login", headers={"Host": "login.example.org"}).status_code == 200
    assert client.get("/livez", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_no_redirect_is_built_from_the_clients_host(make_app, wiki):
    app = make_app(wiki, PUBLIC_URL="")
    response = app.test_client().get("/edit//x", headers={"Host": "evil.example"})
    assert response.status_code in (301, 308)
    assert response.headers["Location"] == "/edit/x"


def test_cookieless_form_pages_are_limited_per_address(make_app, wiki, tmp_path):
    app = make_app(wiki, NEW_SESSION_RATE_LIMIT_PER_IP="3 per 5 minutes")
    sessions = tmp_path / "sessions"
    returning = client_from(app, "192.0.2.50")
    assert returning.get("/login").status_code == 200
    for _ in range(2):
        assert client_from(app, "192.0.2.50").get("/login").status_code == 200
    before = len(list(sessions.iterdir()))
    mark = wiki.log_mark()
    flood = client_from(app, "192.0.2.50").get("/login")
    assert flood.status_code == 429 and "Retry-After" in flood.headers
    assert "Too many new visits" in flood.get_data(as_text=True)
    assert "Set-Cookie" not in flood.headers
    assert len(list(sessions.iterdir())) == before and wiki.api_requests_since(mark) == []
    # A browser that has its session goes on, and so does another address.
    assert returning.get("/login").status_code == 200
    assert client_from(app, "192.0.2.51").get("/login").status_code == 200


def test_healthz_asks_the_wiki_at_most_every_few_seconds(make_app, wiki):
    client = make_app(wiki).test_client()
    mark = wiki.log_mark()
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert len(wiki.api_requests_since(mark)) == 1


def test_the_two_factor_step_counts_against_the_account(oath_wiki, make_app):
    oath_wiki.reset_login_throttles()
    app = make_app(oath_wiki, LOGIN_RATE_LIMIT_PER_USER="2 per 5 minutes")
    password, _ = TOTP_USERS["Carol"]
    client = client_from(app, "192.0.2.60")
    csrf = AuthActions(client).csrf(client.get("/login").get_data(as_text=True))
    step = client.post("/login", data={"csrf_token": csrf, "username": "Carol", "password": password,
                                       "wl_submit": "Log in"})
    assert 'name="OATHToken"' in step.get_data(as_text=True)
    assert client.post("/login", data={"csrf_token": csrf, "OATHToken": "000000",
                                       "wl_submit": "Continue"}).status_code == 200
    # A name added to the step's POST does not move the count to another account.
    guess = client.post("/login", data={"csrf_token": csrf, "OATHToken": "111111", "username": "Junk1",
                                        "wl_submit": "Continue"})
    assert guess.status_code == 429 and "for this username" in guess.get_data(as_text=True)
    oath_wiki.reset_login_throttles()


def test_https_public_url_gives_a_host_prefixed_session_cookie(make_app, wiki):
    app = make_app(wiki, PUBLIC_URL="https://login.example.org")
    response = app.test_client().get("/login", base_url="https://login.example.org")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "wikilogin_session" in c)
    assert cookie.startswith("__Host-wikilogin_session=")
    assert "; Secure" in cookie and "; Path=/" in cookie and "Domain=" not in cookie


@pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "BREW", "CONNECT"])
def test_api_answers_every_unsupported_method_in_json(method, make_app, wiki):
    response = make_app(wiki).test_client().open("/api", method=method)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "badmethod"
    assert response.headers["Allow"] == "GET, POST"


@pytest.mark.parametrize("title", ["Sandbox|Main_Page", "A%01B", "A{B}", "A%5BB%5D", "A%7FB"])
def test_editor_refuses_titles_mediawiki_forbids(title, make_app, wiki):
    app = make_app(wiki)
    client = app.test_client()
    assert AuthActions(client).login("Alice").status_code == 303
    mark = wiki.log_mark()
    response = client.get(f"/edit/{title}")
    html = response.get_data(as_text=True)
    # As for every title the wiki would call invalid: 404, and why, before the wiki is asked.
    assert response.status_code == 404
    assert "not a valid page title" in html
    assert wiki.api_requests_since(mark) == []


def test_an_oversized_callback_does_not_end_another_tabs_step(idp_wiki, make_app):
    """Tab A went to the provider; tab B is at Carol's two-factor step; A's callback is refused (413)."""
    idp_wiki.reset_login_throttles()
    app = make_app(idp_wiki, PUBLIC_URL="http://127.0.0.1:5998")
    client, location = _away_at_the_provider(app)
    wlstate = parse_qs(urlsplit(location).query)["redirect_uri"][0].split("wlstate=", 1)[1].split("&")[0]
    password, _ = TOTP_USERS["Carol"]
    csrf = AuthActions(client).csrf(client.get("/login").get_data(as_text=True))
    step = client.post("/login", data={"csrf_token": csrf, "username": "Carol", "password": password,
                                       "wl_submit": "Log in"}).get_data(as_text=True)
    assert 'name="OATHToken"' in step
    flood = "&".join(f"p{i}=x" for i in range(50))
    assert client.get(f"/login/return?wlstate={wlstate}&{flood}").status_code == 413
    assert 'name="OATHToken"' in client.get("/login").get_data(as_text=True)


def test_logging_in_again_as_someone_else_ends_the_session(idp_wiki, make_app):
    """The log-in-again page has the provider's button too; vouching for another account there
    must not leave this session as one user with the other's wiki session."""
    idp_wiki.reset_login_throttles()
    app = make_app(idp_wiki, PUBLIC_URL="http://127.0.0.1:5998")
    client = app.test_client()
    assert attempt(client, "Bob", USERS["Bob"]).status_code == 303
    page = client.get("/account/reauth").get_data(as_text=True)
    assert "Log in with TestIdP" in page
    away = client.post("/account/reauth", data={"csrf_token": AuthActions(client).csrf(page),
                                                "testidplogin": "Log in with TestIdP"})
    assert away.status_code == 303
    back = client.get(_provider_answers(away.headers["Location"], identity="alice"))  # Alice, not Bob
    assert back.status_code == 303
    home = client.get("/").get_data(as_text=True)
    assert 'class="wl-username">' not in home  # neither Bob nor Alice here any more
    assert client.get("/api?action=query&meta=userinfo").status_code == 401
