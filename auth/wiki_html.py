"""The wiki's own HTML (messages, labels, captcha questions), made safe to show.

We ask the wiki for HTML messages so links and emphasis come through as the
wiki meant them; nh3 keeps a small allow-list and drops everything else
(scripts, styles, event handlers, forms).  Images are kept only when they come
from the wiki, and are then fetched through this app with the user's own wiki
cookies (an image captcha is tied to the user's wiki session); their addresses
carry a signature, so the proxy fetches nothing else.
"""
from __future__ import annotations

from html import unescape
from urllib.parse import urljoin, urlsplit

import nh3
from flask import current_app, session, url_for
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, TimestampSigner
from markupsafe import Markup

from wiki import origin_of

ALLOWED_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "br", "code", "dd", "del", "dfn", "div", "dl", "dt", "em",
    "i", "img", "ins", "kbd", "li", "ol", "p", "q", "s", "samp", "small", "span", "strong",
    "sub", "sup", "u", "ul", "var",
}
APP_CLASS_PREFIXES = ("cdx-", "wl-")
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "*": {"dir", "lang", "class"},
}


def sanitize(html: str | None, wiki_base: str | None = None) -> Markup:
    """The wiki's HTML with only harmless markup left.

    ``wiki_base`` (the wiki's server URL) resolves relative links so they point
    at the wiki rather than at us, and lets wiki images through our image proxy.
    """
    if not html:
        return Markup("")

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if tag == "a" and attr == "href":
            href = urljoin(wiki_base + "/", value) if wiki_base else value
            # nh3 does not check what this filter returns: check the scheme again.
            scheme = urlsplit(href).scheme.lower()
            return href if scheme in ("", "http", "https", "mailto") else None
        if tag == "img" and attr == "src":
            return _proxied_image(value, wiki_base)
        if attr == "class":
            return _foreign_classes(value)
        return value

    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)


def _foreign_classes(value: str) -> str | None:
    # The app's own classes (Codex's cdx-*, ours wl-*) would let the wiki's HTML
    # dress up as our success box or primary button; the wiki's own classes stay.
    kept = [c for c in value.split() if not c.startswith(APP_CLASS_PREFIXES)]
    return " ".join(kept) or None


def plain_text(html: str | None) -> str:
    """The text of the wiki's HTML, for places where markup has no business (labels, titles, logs).

    Unescaped (``&amp;`` becomes ``&``): Jinja and WTForms escape it once when it is shown.
    """
    return unescape(nh3.clean(html or "", tags=set())).strip()


def image_url(value: str | None, wiki_base: str | None) -> str | None:
    """A null field's value that is an image's address (FancyCaptcha's), proxied; else None."""
    if not value or "<" in value or any(c.isspace() for c in value.strip()):
        return None
    value = value.strip()
    if not (value.startswith("/") or value.lower().startswith(("http://", "https://"))):
        return None
    return _proxied_image(value, wiki_base)


def _proxied_image(src: str, wiki_base: str | None) -> str | None:
    if not wiki_base:
        return None
    absolute = urljoin(wiki_base + "/", src)
    if origin_of(absolute) != origin_of(wiki_base):
        return None  # someone else's image: never fetched by us, never shown
    parts = urlsplit(absolute)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    # "timestamp.signature" of this session's key and the path.
    signed = _image_signer().sign(_signed_value(path, _session_key(create=True))).decode()
    return url_for("login.wiki_image", src=path, sig=".".join(signed.rsplit(".", 2)[1:]))


def image_signature_ok(path: str, signature: str) -> bool:
    """Whether this app put ``path`` into a page for this session, recently (so the proxy may fetch it)."""
    key = _session_key(create=False)
    if not key or not signature:
        return False
    try:
        _image_signer().unsign(f"{_signed_value(path, key)}.{signature}",
                               max_age=current_app.config["LOGIN_FLOW_TTL"])
    except BadSignature:  # forged, another session's, or expired (SignatureExpired)
        return False
    return True


def _image_signer() -> TimestampSigner:
    # Signed paths: the image proxy fetches only what the wiki's own HTML showed
    # (a captcha), to the session it was shown to, for as long as a form lives;
    # not any wiki path someone types into its address, nor a link someone hands on.
    return TimestampSigner(current_app.secret_key, salt="wiki-image")


def _signed_value(path: str, key: str) -> str:
    return f"{key}\n{path}"


def _session_key(*, create: bool) -> str:
    """This session's CSRF secret: secret, and gone with the session."""
    field = current_app.config["WTF_CSRF_FIELD_NAME"]
    if create and field not in session:
        generate_csrf()
    return str(session.get(field) or "")
