"""The demo editor: a page's wikitext in a text box, with preview and save through ``/api``.

The page arrives with the text already in it (so it reads without JavaScript);
static/js/editor.js then previews (``action=parse``) and saves (``action=edit``
with baserevid/basetimestamp/starttimestamp, so an edit conflict is caught)
through the same-origin ``/api`` only.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from wiki import NotLoggedIn
from wiki.pages import CannotEdit, load_page_source

from auth import wiki_session
from auth.pages import message_page
from .api import CSRF_HEADER, RETURN_TO_HEADER

bp = Blueprint("editor", __name__)



@bp.get("/edit")
def choose():
    """``/edit?title=Some page`` (the form on the home page) -> ``/edit/Some_page``."""
    title = request.args.get("title", "").strip()
    if not title:
        return redirect(url_for("account.home"), code=303)
    return redirect(url_for("editor.edit", title=_url_title(title)), code=303)


@bp.get("/edit/<path:title>")
def edit(title: str):
    """The editor for ``title``; the login page first (coming back here) if not logged in."""
    user = wiki_session.current_user()
    if not user:
        return _to_login()
    client = wiki_session.wiki_client()
    try:
        source = load_page_source(client, title)
    except NotLoggedIn:
        # The wiki forgot this session: ours is over too, and the login brings the user back.
        wiki_session.end_user_session()
        return _to_login()
    except CannotEdit as exc:
        return message_page(_("This page cannot be edited here"), str(exc), status=404,
                            retry_url=url_for("account.home"), retry_label=_("Choose another page"))
    canonical = _url_title(source.title)
    if canonical != title:
        return redirect(url_for("editor.edit", title=canonical), code=302)
    site = wiki_session.wiki().siteinfo()
    return render_template(
        "editor.html",
        source=source,
        user=user,
        page_url=site.page_url(source.title),
        # Percent-encoded: it travels in a header, which must be ASCII.
        editor_url=url_for("editor.edit", title=canonical),
        csrf_header=CSRF_HEADER,
        return_to_header=RETURN_TO_HEADER,
    )


def _url_title(title: str) -> str:
    # The wiki's own URL form: underscores for spaces.
    return title.replace(" ", "_")


def _to_login() -> Response:
    return redirect(url_for("login.login", returnto=request.full_path.rstrip("?")), code=302)
