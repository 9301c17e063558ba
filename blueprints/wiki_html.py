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
from flask import current_app, url_for
from itsdangerous import BadSignature, Signer
from markupsafe import Markup

from wiki import origin_of

ALLOWED_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "br", "code", "dd", "del", "dfn", "div", "dl", "dt", "em",
    "i", "img", "ins", "kbd", "li", "ol", "p", "q", "s", "samp", "small", "span", "strong",
    "sub", "sup", "u", "ul", "var",
}
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
    return url_for("login.wiki_image", src=path, sig=_image_signer().get_signature(path).decode())


def image_signature_ok(path: str, signature: str) -> bool:
    """Whether this app put ``path`` into a page as an image (so the proxy may fetch it)."""
    try:
        return _image_signer().verify_signature(path, signature)
    except BadSignature:
        return False


def _image_signer() -> Signer:
    # Signed paths: the image proxy fetches only what the wiki's own HTML showed
    # (a captcha), not any wiki path someone types into its address.
    return Signer(current_app.secret_key, salt="wiki-image")
