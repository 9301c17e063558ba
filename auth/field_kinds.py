"""What the app does with each kind of the wiki's fields: one ``FieldKind`` record a kind.

A record holds everything that differs by kind: its WTForms field, the API
parameters it sends, whether its value is shown again after a failure, whether
it can be required, and the macro in templates/_fields.html that draws it.
``FIELD_KINDS`` has one per field type the wiki sends; a module choice
(``CHOICE_KIND``) and a captcha widget's answer (``WIDGET_KIND``) are kinds of
their own, which ``kind_of`` picks from what ``wiki.authn`` marked on the field.
Adding a field type is one entry in ``FIELD_KINDS``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.widgets import CheckboxInput, ListWidget

from wiki.authn import AuthField

from .wiki_html import plain_text


def _choices(f: AuthField) -> list[SelectChoice]:
    return [SelectChoice(value, plain_text(label)) for value, label in f.options]


def _stay_or_choices(f: AuthField) -> list[SelectChoice]:
    # "" is staying with this step (no button pressed), offered by the wiki or not.
    stay = [] if any(value == "" for value, _ in f.options) else [SelectChoice("", "")]
    return stay + _choices(f)


def _kw(f: AuthField, hints: dict[str, str]) -> dict[str, Any]:
    return {"label": plain_text(f.label) or f.name, "name": f.name, "render_kw": dict(hints)}


def _value(f: AuthField, field: Field | None) -> dict[str, Any]:
    return {f.name: field.data or ""} if field is not None else {}


def _wiki_value(f: AuthField, field: Field | None) -> dict[str, Any]:
    # Hidden values are the wiki's own, not whatever came back from the browser.
    return {f.name: f.value or ""}


def _flag(f: AuthField, field: Field | None) -> dict[str, Any]:
    # A checkbox or button counts as set when its key is present at all, so an
    # unchecked one is left out.
    return {f.name: "1"} if field is not None and field.data else {}


def _list(f: AuthField, field: Field | None) -> dict[str, Any]:
    # PHP reads name[] as a list; a bare repeated name keeps only the last.
    return {f.name + "[]": list(field.data or [])} if field is not None else {}


def _nothing(f: AuthField, field: Field | None) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class FieldKind:
    """Everything about one of the wiki's field types that the app treats differently."""

    make: Callable[[AuthField, dict[str, str]], UnboundField] | None  # None: text only, no input
    params: Callable[[AuthField, Field | None], dict[str, Any]]  # what it sends to the wiki
    macro: str  # the macro in templates/_fields.html that draws it
    kept: bool = True  # shown again after a failure (a sensitive field never is)
    can_be_required: bool = True  # null, button and hidden fields never block a submit
    is_button: bool = False  # drawn with the form's buttons; pressing it chooses its request
    button_macro: str = ""  # with is_button: the macro that draws it among the form's buttons
    goes_alone: bool = False  # pressing it sends its own request only: a way on instead of this step


FIELD_KINDS: dict[str, FieldKind] = {
    "string": FieldKind(lambda f, h: StringField(**_kw(f, h), default=f.value), _value, "text_input"),
    # PasswordField never renders its value back into the page.
    "password": FieldKind(lambda f, h: PasswordField(**_kw(f, h)), _value, "text_input", kept=False),
    "hidden": FieldKind(lambda f, h: HiddenField(**_kw(f, h), default=f.value), _wiki_value, "hidden",
                        kept=False, can_be_required=False),
    "select": FieldKind(lambda f, h: SelectField(**_kw(f, h), choices=_choices(f), default=f.value),
                        _value, "select"),
    # Checkboxes: clearer than a multi-select list box, and no Ctrl-click needed.
    "multiselect": FieldKind(lambda f, h: SelectMultipleField(
        **_kw(f, h), choices=_choices(f), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()),
        _list, "multiselect"),
    "checkbox": FieldKind(lambda f, h: BooleanField(**_kw(f, h), default=bool(f.value)), _flag, "checkbox"),
    "button": FieldKind(lambda f, h: SubmitField(**_kw(f, h)), _flag, "button", kept=False,
                        can_be_required=False, is_button=True, button_macro="provider_button"),
    # Text only (a captcha's question or image): no input.
    "null": FieldKind(None, _nothing, "info", kept=False, can_be_required=False),
}
# A type this app does not know: said so in the page, never sent.
UNKNOWN_KIND = FieldKind(None, _nothing, "unknown", kept=False, can_be_required=False)
# The types that have an input (the form field each makes).
FIELD_TYPES = {name: kind.make for name, kind in FIELD_KINDS.items() if kind.make is not None}
# A choice between ways to answer a step (wiki.authn.CHOICE_FIELDS, a select on the
# wire): one button an option, as Special:UserLogin draws it, each sending
# name=option alone (its request only: no code is asked for).  A SelectField
# takes the pressed value and refuses one the wiki did not offer.
CHOICE_KIND = FieldKind(lambda f, h: SelectField(**_kw(f, h), choices=_stay_or_choices(f), default=""),
                        _value, "button", kept=False, can_be_required=False, is_button=True,
                        button_macro="choice_buttons", goes_alone=True)

# Choices this app does not offer: a way on that only the wiki's own page can go
# (an OATHAuth module's name -> why).  Its step, if the wiki starts there, says so.
CHOICES_NOT_OFFERED = {"webauthn": _l("security keys work only on the wiki itself")}
# The words of a choice's button, by option (OATHAuth's module names); others get
# "Use <the wiki's label> instead".
CHOICE_LABELS = {
    "recoverycodes": _l("Use a recovery code instead"),
    "totp": _l("Use your authenticator app instead"),
    "webauthn": _l("Use a security key instead"),
}


# A captcha widget's answer (drawn only where auth.captcha_widgets says so): a hidden
# input the widget's callback fills, beside the element the widget renders into.
WIDGET_KIND = FieldKind(lambda f, h: HiddenField(**_kw(f, h)), _value, "captcha_widget", kept=False)


def kind_of(f: AuthField) -> FieldKind:
    """The record for this field: a choice's, a captcha widget's answer's, else its type's."""
    if f.choice:
        return CHOICE_KIND
    return WIDGET_KIND if f.widget else FIELD_KINDS.get(f.type, UNKNOWN_KIND)
