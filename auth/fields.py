"""The wiki's field descriptions as WTForms forms, and the form's data back as API parameters.

Everything that differs by the wiki's field type is one ``FieldKind`` record in
``auth.field_kinds.FIELD_KINDS``; this module builds a step's form from them.  Which fields are required
depends on which provider the user chose (the plain submit button or a
provider's own button), so that check lives in ``missing_required`` rather than
in per-field validators.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Iterable

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SubmitField

from wiki.authn import OPTIONAL, PRIMARY_REQUIRED, REQUIRED, AuthField, AuthRequest, merge_fields

from .captcha_widgets import WIDGETS, Widget
from .field_kinds import CHOICE_LABELS, CHOICES_NOT_OFFERED, FieldKind, kind_of
from .wiki_html import plain_text

# Our own submit button; wiki field names never start with "wl_".
SUBMIT = "wl_submit"
REQUEST_ORDER = {PRIMARY_REQUIRED: 0, REQUIRED: 1, OPTIONAL: 2}
# Longest value we accept in any field: long enough for any real credential,
# short enough that nobody fills the store or the wiki with junk.
MAX_FIELD_LENGTH = 2048

# Browser hints by the wiki's well-known field names: password managers and
# phones then do the right thing. Two-factor codes may be 6 digits or a
# 16-character recovery code, so nothing here limits them to digits.
FIELD_HINTS: dict[str, dict[str, str]] = {
    "username": {"autocomplete": "username", "autocapitalize": "off", "spellcheck": "false"},
    "password": {"autocomplete": "current-password"},
    "retype": {"autocomplete": "new-password"},
    "email": {"autocomplete": "email", "type": "email"},
    "realname": {"autocomplete": "name"},
    "OATHToken": {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    # OATHAuth 1.46+: recovery codes are a module (a step) of their own.
    "RecoveryCode": {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    # EmailAuth: the code the wiki e-mailed.
    "token": {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    "captchaWord": {"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
}
NEW_PASSWORD_HINTS = {"password": {"autocomplete": "new-password"}}


def required_field_names(requests: list[AuthRequest]) -> set[str]:
    """Fields that must be filled in for these requests to be sent, as MediaWiki merges them.

    The wiki silently drops a request whose required field is missing (an
    unchecked required checkbox included), so the form checks these first and
    says which field is empty.
    """
    return {f.name for f in merge_fields(requests) if not f.optional and kind_of(f).can_be_required}


class AuthForm(FlaskForm):
    """Base of every form built from the wiki's fields (CSRF from Flask-WTF)."""

    by_name: dict[str, Field]


@dataclass(frozen=True)
class FieldView:
    """What a template needs to draw one of the wiki's fields."""

    auth: AuthField
    field: Field | None  # None for text-only ("null") fields and unknown types
    required: bool
    fixed: bool = False  # shown, not to be changed (the name when logging in again)

    @property
    def kind(self) -> FieldKind:
        return kind_of(self.auth)

    @property
    def widget(self) -> Widget | None:
        """The captcha widget whose answer this field is, if any."""
        return WIDGETS.get(self.auth.widget)

    @property
    def choices(self) -> list[tuple[str, str]]:
        """A choice's buttons: (value, words), but "" (stay) and the ones not offered here."""
        return [(value, str(CHOICE_LABELS.get(value) or _("Use %(way)s instead", way=plain_text(label))))
                for value, label in self.auth.options if value and value not in CHOICES_NOT_OFFERED]

    def input_attrs(self, *, with_help: bool = True) -> dict[str, Any]:
        """The input's id, what describes it (its help, its error), and whether it is required."""
        field_id = f"wl-field-{self.auth.name}"
        errors = bool(self.field is not None and self.field.errors)
        described = [field_id + "-help"] if with_help and self.auth.help else []
        described += [field_id + "-error"] if errors else []
        attrs: dict[str, Any] = {"id": field_id}
        if described:
            attrs["aria-describedby"] = " ".join(described)
        if errors:
            attrs["aria-invalid"] = "true"
        if self.required:
            attrs.update({"required": True, "aria-required": "true"})
        if self.fixed:
            attrs["readonly"] = True
        return attrs


@dataclass
class BuiltForm:
    """A form built from the wiki's requests, with the views to draw it."""

    form: AuthForm
    requests: list[AuthRequest]
    fields: list[FieldView]
    has_default_submit: bool

    @property
    def buttons(self) -> list[FieldView]:
        # A choice with nothing this app offers draws no button.
        return [v for v in self.fields if v.kind.is_button and not (v.kind.goes_alone and not v.choices)]

    def pressed_button(self) -> str | None:
        """The name of the button the user pressed (a provider's, a choice), if any."""
        view = self._pressed()
        return view.auth.name if view else None

    def _pressed(self) -> FieldView | None:
        return next((v for v in self.buttons if v.field is not None and v.field.data), None)

    def chosen_requests(self) -> list[AuthRequest]:
        """The requests this submission is for.

        A provider's button chooses that provider's request; the plain submit
        chooses every primary request that has no button of its own.  Secondary
        and optional requests (captcha, remember me, ...) always come along.
        A choice's button (another way on) sends its own request alone.
        """
        view = self._pressed()
        if view is not None and view.kind.goes_alone:  # another way on: its request only
            return [r for r in self.requests if r.has_field(view.auth.name)]
        pressed = view.auth.name if view else None
        chosen = []
        for req in self.requests:
            if req.required != PRIMARY_REQUIRED:
                chosen.append(req)
            elif pressed:
                if req.has_button(pressed):
                    chosen.append(req)
            elif req.button is None:
                chosen.append(req)
        return chosen

    def missing_required(self) -> bool:
        """Mark empty required fields of the chosen requests; True if any was empty.

        The wiki silently drops a request whose required field is missing, which
        would end in a puzzling failure: a field error is clearer.
        """
        missing = False
        for name in sorted(required_field_names(self.chosen_requests())):
            field = self.form.by_name.get(name)
            if field is None or _filled(field.data):
                continue
            label = str(field.label.text)
            field.errors = list(field.errors) + [_("Please tick “%(field)s”.", field=label)
                                                 if isinstance(field, BooleanField) else
                                                 _("Please fill in “%(field)s”.", field=label)]
            missing = True
        return missing

    def too_long(self) -> bool:
        """Mark fields whose value is longer than any real credential."""
        found = False
        for field in self.form.by_name.values():
            if isinstance(field.data, str) and len(field.data) > MAX_FIELD_LENGTH:
                field.errors = list(field.errors) + [
                    _("This is too long (at most %(max)d characters).", max=MAX_FIELD_LENGTH)]
                found = True
        return found

    def api_params(self) -> dict[str, Any]:
        """The chosen requests' fields as the wiki's API wants them (each kind says how)."""
        params: dict[str, Any] = {}
        for req in self.chosen_requests():
            for f in req.fields:
                params.update(kind_of(f).params(f, self.form.by_name.get(f.name)))
        return params

    def refused(self) -> bool:
        """Check the submitted form; True if it cannot be sent (each problem is marked on its field).

        Every check runs, so every problem shows at once; the secrets typed are
        then not drawn into the page again.
        """
        valid = self.form.validate()
        too_long = self.too_long()
        missing = self.missing_required()
        if valid and not too_long and not missing:
            return False
        self.forget_secrets()
        return True

    def forget_secrets(self) -> None:
        """Before the form is shown again: no sensitive value goes back into the page."""
        for view in self.fields:
            if view.field is not None and view.auth.sensitive:
                view.field.data = None
                view.field.raw_data = []

    def kept_values(self) -> dict[str, Any]:
        """What the user typed that may be shown again: never a sensitive field."""
        kept: dict[str, Any] = {}
        for view in self.fields:
            f = view.auth
            if view.field is None or f.sensitive or not view.kind.kept:
                continue
            if view.field.data not in (None, "", [], False):
                kept[f.name] = view.field.data
        return kept


def build_form(
    requests: Iterable[AuthRequest],
    *,
    submit_label: str,
    formdata: Any = None,
    values: dict[str, Any] | None = None,
    new_password: bool = False,
    default_submit: bool = True,
    fixed: Iterable[str] = (),
) -> BuiltForm:
    """A form for these requests: one input per merged field, one button per provider.

    ``formdata`` is the POSTed data (None to show a fresh form); ``values`` are
    earlier, non-secret inputs to show again.  ``default_submit=False``: no plain
    submit (what it would send cannot succeed here); buttons only.  ``fixed`` names
    fields shown read-only (the route sends the value it knows, whatever comes back).
    """
    # Drawn as Special:UserLogin does: the primary provider's fields first, then
    # what every attempt needs (a captcha), then options (remember me).
    requests = sorted(requests, key=lambda r: REQUEST_ORDER.get(r.required, 1))
    merged = merge_fields(requests)
    # Marked required in the page: what the plain submit needs (a provider's
    # own button carries formnovalidate, so it is never blocked by these).
    required = required_field_names(
        [r for r in requests if not (r.required == PRIMARY_REQUIRED and r.button is not None)]
    )
    # The plain submit is hidden when every primary provider brings its own
    # button (as Special:UserLogin does).
    primaries = [r for r in requests if r.required == PRIMARY_REQUIRED]
    has_default_submit = default_submit and (not primaries or any(r.button is None for r in primaries))
    # The label as this reader's words (a lazy one would key the cache in another language's).
    form_cls, attr_of = _form_class(tuple(merged), has_default_submit, str(submit_label), new_password)
    form = form_cls(formdata=formdata, data=_form_data(values or {}, attr_of))
    form.by_name = {name: form[attr] for name, attr in attr_of.items()}
    views = [
        FieldView(auth=f, field=form.by_name.get(f.name), required=f.name in required, fixed=f.name in fixed)
        for f in merged
    ]
    return BuiltForm(form=form, requests=requests, fields=views, has_default_submit=has_default_submit)


@functools.lru_cache(maxsize=128)
def _form_class(
    merged: tuple[AuthField, ...], has_default_submit: bool, submit_label: str, new_password: bool
) -> tuple[type[AuthForm], dict[str, str]]:
    """The form class for these fields, and each field's attribute name in it.

    Made once per distinct set of fields (a wiki offers few: the login form,
    its two-factor step...) rather than on every request; a class holds no
    user's data, only the fields' descriptions.
    """
    hints = {**FIELD_HINTS, **(NEW_PASSWORD_HINTS if new_password else {})}
    attrs: dict[str, Any] = {}
    attr_of: dict[str, str] = {}
    for i, f in enumerate(merged):
        make = kind_of(f).make
        if make is None:
            continue
        attr = f"wiki_{i}"
        attrs[attr] = make(f, hints.get(f.name, {}))
        attr_of[f.name] = attr
    if has_default_submit:
        attrs["wl_submit"] = SubmitField(submit_label, name=SUBMIT)
    return type("WikiAuthForm", (AuthForm,), attrs), attr_of


def _form_data(values: dict[str, Any], attr_of: dict[str, str]) -> dict[str, Any]:
    return {attr_of[name]: value for name, value in values.items() if name in attr_of}


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() != ""
    return bool(value)
