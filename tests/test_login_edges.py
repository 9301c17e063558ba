"""The login's edges against the real wiki: expired tokens and flows, lost wiki sessions, images."""
from __future__ import annotations

import re
import time

import pytest

from auth.wiki_html import image_url, sanitize
from tests.conftest import AuthActions
from devwiki.wikiserver import TOTP_USERS, USERS

# A raster image every MediaWiki version ships (1.43 has no poweredby_*.png left).
RASTER = "/resources/assets/wiki.png"


def form_page(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    return html, AuthActions(client).csrf(html)


def test_wiki_session_lost_between_form_and_submit_retries_token_silently(wiki, make_app):
    client = make_app(wiki).test_client()
    _, csrf = form_page(client)
    wiki.clear_sessions()  # the login token we hold is now worthless (badtoken)
    mark = wiki.log_mark()
    response = client.post("/login", data={"csrf_token": csrf, "username": "Alice",
                                           "password": USERS["Alice"], "wl_submit": "Log in"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    calls = wiki.api_requests_since(mark)
    # clientlogin refused (badtoken), one fresh token, clientlogin again.
    assert [c.split("?")[0] for c in calls] == ["POST /api.php", "GET /api.php", "POST /api.php"]
    assert "Logged in as" in client.get("/").get_data(as_text=True)


def test_wiki_forgets_the_flow_before_the_second_factor(oath_wiki, make_app):
    client = make_app(oath_wiki).test_client()
    password, _ = TOTP_USERS["Carol"]
    _, csrf = form_page(client)
    step2 = client.post("/login", data={"csrf_token": csrf, "username": "Carol", "password": password,
                                        "wl_submit": "Log in"}).get_data(as_text=True)
    assert 'name="OATHToken"' in step2
    oath_wiki.clear_sessions()
    page = client.post("/login", data={"csrf_token": csrf, "OATHToken": "123456",
                                       "wl_submit": "Continue"}).get_data(as_text=True)
    assert "Please start again" in page
    assert 'value="Carol"' in page  # the user name is kept
    assert 'name="password"' in page


def test_idle_half_finished_flow_expires_with_username_kept(oath_wiki, make_app):
    client = make_app(oath_wiki, LOGIN_FLOW_TTL=1).test_client()
    password, _ = TOTP_USERS["Carol"]
    _, csrf = form_page(client)
    client.post("/login", data={"csrf_token": csrf, "username": "Carol", "password": password,
                                "wl_submit": "Log in"})
    time.sleep(1.2)
    mark = oath_wiki.log_mark()
    page = client.post("/login", data={"csrf_token": csrf, "username": "Carol", "OATHToken": "123456",
                                       "wl_submit": "Continue"}).get_data(as_text=True)
    assert "This form had expired, so nothing was sent" in page
    assert 'value="Carol"' in page
    # Only the fresh form's fields were fetched: no clientlogin was sent.
    assert all(c.startswith("GET ") for c in oath_wiki.api_requests_since(mark))


def test_empty_required_field_is_a_field_error_and_no_wiki_call(wiki, make_app):
    client = make_app(wiki).test_client()
    _, csrf = form_page(client)
    mark = wiki.log_mark()
    response = client.post("/login", data={"csrf_token": csrf, "username": "Alice", "password": "",
                                           "wl_submit": "Log in"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="wl-field-password"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="wl-field-password"', html)
    assert 'aria-describedby="wl-field-password-help wl-field-password-error"' in html
    assert wiki.api_requests_since(mark) == []


def test_oversized_input_is_refused_clearly(wiki, make_app):
    client = make_app(wiki).test_client()
    _, csrf = form_page(client)
    response = client.post("/login", data={"csrf_token": csrf, "username": "A" * 5000, "password": "x",
                                           "wl_submit": "Log in"})
    assert response.status_code == 422 and "too long" in response.get_data(as_text=True)
    huge = client.post("/login", data={"csrf_token": csrf, "username": "A" * 400_000})
    assert huge.status_code == 413 and "Too much data" in huge.get_data(as_text=True)


def in_session_of(app, client):
    """A request context that has ``client``'s session (image addresses are signed for one session)."""
    client.get("/login")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    return app.test_request_context("/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"})


def test_wiki_images_are_proxied_with_the_users_cookies_rasters_only(wiki, make_app):
    app = make_app(wiki)
    base = wiki.base_url
    client = app.test_client()
    with in_session_of(app, client):
        html = str(sanitize(f'<img src="{RASTER}" alt="x">'
                            '<img src="https://elsewhere.example/track.png"><script>alert(1)</script>'
                            '<a href="/index.php/Help" onclick="x()">help</a>', base))
    assert "/login/wiki-image?src=" in html and "elsewhere.example" not in html
    assert "<script" not in html and "onclick" not in html
    assert f'href="{base}/index.php/Help"' in html
    src = re.search(r'src="([^"]+)"', html).group(1).replace("&amp;", "&")
    image = client.get(src)
    assert image.status_code == 200 and image.content_type == "image/png"
    assert "sandbox" in image.headers["Content-Security-Policy"]
    with in_session_of(app, client):
        svg_src = image_url("/resources/assets/change-your-logo.svg", base)
    svg = client.get(svg_src)  # signed, but not a raster image
    assert svg.status_code == 404
    offsite = client.get("/login/wiki-image?src=//elsewhere.example/x.png")
    assert offsite.status_code == 404


def test_the_image_proxy_fetches_only_addresses_the_app_signed(wiki, make_app):
    app = make_app(wiki)
    client = app.test_client()
    with in_session_of(app, client):
        src = image_url(RASTER, wiki.base_url)
    assert client.get(src).status_code == 200
    mark = wiki.log_mark()
    for forged in (f"/login/wiki-image?src={RASTER}",  # typed in, no signature
                   src.replace("wiki.png", "mediawiki.png"),  # another path under this signature
                   src[:-4] + ("AAAA" if not src.endswith("AAAA") else "BBBB")):  # a wrong signature
        assert client.get(forged).status_code == 404, forged
    other = make_app(wiki, SECRET_KEY="another-secret-key-0123456789abcdef").test_client()
    assert other.get(src).status_code == 404  # signed by another app's key
    with open(wiki.log_path, "rb") as log:
        log.seek(mark)
        assert b"/resources/assets/" not in log.read()  # none of them reached the wiki


@pytest.mark.parametrize("returnto", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
    "/\r\nSet-Cookie:x=1", "\\\\evil", " /x", "/ok\x7f",
])
def test_returnto_leaving_our_origin_is_ignored(returnto):
    from auth.urls import safe_returnto

    assert safe_returnto(returnto) == ""


@pytest.mark.parametrize("returnto", ["/", "/edit/Sandbox", "/edit/A%2FB?x=1#top", "/%0d%0a"])
def test_returnto_on_our_origin_is_kept(returnto):
    from auth.urls import safe_returnto

    assert safe_returnto(returnto) == returnto


def test_webauthn_step_says_so_and_links_to_the_wiki(make_app):
    """WebAuthn needs the wiki's own domain: say so, link there, never fail silently (mocked:
    the WebAuthn extension is not in Debian's MediaWiki)."""
    import responses

    from tests.mock_wiki import API, mock_read_side

    webauthn_ui = {"clientlogin": {"status": "UI", "message": "Use your security key.", "messagecode": "webauthn-ui",
                                   "requests": [{"id": "MediaWiki\\Extension\\WebAuthn\\Authenticator\\WebAuthnAuthenticationRequest",
                                                 "required": "required", "provider": "WebAuthn", "account": "Alice",
                                                 "metadata": {}, "fields": {"auth": {"type": "hidden", "value": "{}",
                                                                                     "label": "", "help": ""}}}]}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps)
        rsps.post(API, json=webauthn_ui)
        client = make_app(type("W", (), {"api_url": API})()).test_client()
        _, csrf = form_page(client)
        html = client.post("/login", data={"csrf_token": csrf, "username": "Alice", "password": "pw",
                                           "wl_submit": "Log in"}).get_data(as_text=True)
    assert "security key" in html and "cannot complete this login" in html
    assert 'href="http://wiki.invalid/wiki/Special:UserLogin"' in html


def test_image_captcha_url_is_shown_as_an_image_through_the_proxy(make_app, wiki):
    """FancyCaptcha gives its image as a bare wiki-relative URL in a null field's value."""
    from auth.wiki_html import image_url, plain_text

    app = make_app(wiki)
    with app.test_request_context("/"):
        src = image_url("/index.php?title=Special:Captcha/image&wpCaptchaId=123", wiki.base_url)
        assert src.startswith("/login/wiki-image?src=")
        assert image_url("What is 6 times 7?", wiki.base_url) is None
        assert image_url("<b>x</b>", wiki.base_url) is None
        assert image_url("https://elsewhere.example/x.png", wiki.base_url) is None
    # Labels are text: shown escaped once, not twice.
    assert plain_text("Name &amp; e-mail <b>now</b>") == "Name & e-mail now"


def test_a_wiki_without_account_creation_says_so_and_still_logs_in(login_only_wiki, make_app):
    app = make_app(login_only_wiki)
    client = app.test_client()
    page = client.get("/create")
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "Accounts cannot be created here" in html and "does not offer account creation" in html
    assert 'name="password"' not in html and 'href="/login"' in html
    login_page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' in login_page and 'href="/create"' not in login_page
    assert AuthActions(client).login("Alice").status_code == 303
    assert "Logged in as" in client.get("/").get_data(as_text=True)


def test_a_wiki_that_cannot_log_anyone_in_now_says_so_before_asking_for_a_password(make_app):
    """canauthenticatenow=false (a session provider that cannot log in: mocked, as no
    configuration of Debian's MediaWiki makes one for a fresh visitor)."""
    import responses

    from tests.mock_wiki import API, captured, mock_read_side

    fields = captured("authmanagerinfo_login_plain")
    fields["query"]["authmanagerinfo"]["canauthenticatenow"] = False
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mock_read_side(rsps, fields)
        page = make_app(type("W", (), {"api_url": API})()).test_client().get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and "Logging in is not possible right now" in html
    assert 'name="password"' not in html
    assert 'href="http://wiki.invalid/wiki/Special:UserLogin"' in html


def test_a_real_hcaptcha_is_said_to_work_only_on_the_wikis_own_login_page(hcaptcha_wiki, make_app):
    client = make_app(hcaptcha_wiki).test_client()
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "asks for a captcha (hCaptcha) that works only on its own login page" in html
    link = re.search(r'<a href="([^"]+)">Log in on the wiki instead</a>', html)
    assert link and link.group(1).endswith("Special:UserLogin")
    assert link.group(1).startswith(hcaptcha_wiki.base_url)
    assert 'name="captchaWord"' not in html and 'name="password"' not in html
    assert "10000000-ffff-ffff-ffff-000000000001" not in html
