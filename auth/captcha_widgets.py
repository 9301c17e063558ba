"""Third parties' captcha widgets (hCaptcha, Turnstile, reCAPTCHA), drawn here when the operator says they work here.

A widget captcha is the wiki's site key at a third party's service: the widget
runs that party's script in the page and hands back a token, which the wiki
checks with the service (``captchaWord``).  Whether the key also serves this
app's host is set at the service, where the app cannot look; so by default the
page says the captcha works only on the wiki's own login page and links it, and
with ``CAPTCHA_WIDGETS=true`` (the operator has added this app's host to the
key) the widget is drawn here.  Its script, frames and calls are then allowed in
that page's Content-Security-Policy, for the widget's own hosts alone.

Each widget is one entry in ``WIDGETS``; all three render themselves into an
element of their class with ``data-sitekey``, and call ``data-callback`` (ours,
in static/js/captcha.js) with the token.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from flask import current_app

from wiki import AuthRequest

from .responses import CONTENT_SECURITY_POLICY


@dataclass(frozen=True)
class Widget:
    """One service's widget: its script, the element it renders into, the hosts it needs."""

    script: str
    css_class: str
    sources: tuple[str, ...]  # script, frame, style and connect sources for its page


WIDGETS: dict[str, Widget] = {
    "hcaptcha": Widget("https://js.hcaptcha.com/1/api.js", "h-captcha",
                       ("https://hcaptcha.com", "https://*.hcaptcha.com")),
    "turnstile": Widget("https://challenges.cloudflare.com/turnstile/v0/api.js", "cf-turnstile",
                        ("https://challenges.cloudflare.com",)),
    "recaptchanocaptcha": Widget("https://www.google.com/recaptcha/api.js", "g-recaptcha",
                                 ("https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/",
                                  "https://recaptcha.google.com/recaptcha/")),
}
CALLBACK = "wlCaptchaSolved"  # static/js/captcha.js


def drawn_here(req: AuthRequest) -> bool:
    """Whether this request is a widget captcha this app draws (the operator enabled it, the widget is known)."""
    return (req.only_on_wiki == "captcha-widget" and bool(current_app.config.get("CAPTCHA_WIDGETS"))
            and req.metadata.get("type") in WIDGETS and bool(req.metadata.get("key")))


def content_security_policy(requests: Iterable[AuthRequest]) -> str | None:
    """The page's policy with the drawn widgets' hosts allowed, or None when it draws none."""
    sources = sorted({s for r in requests if drawn_here(r) for s in WIDGETS[r.metadata["type"]].sources})
    if not sources:
        return None
    extra = " ".join(sources)
    policy = CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src 'self' {extra}")
    policy = policy.replace("style-src 'self'", f"style-src 'self' {extra}")
    return policy + f"; frame-src {extra}; connect-src 'self' {extra}"
