"""Form helpers shared by every app: service errors onto form fields, custom fields on model forms."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from kehu.core import customfields, normalize, permissions

# Fields checked in the form as well as in the service, so their errors show in the same round as "required".
EARLY_CHECKS = {"email": normalize.email, "phone": normalize.phone}


def apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (unknown names go to the top)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            key = name if name in form.fields else NON_FIELD_ERRORS
            for msg in errors:
                form.add_error(
                    None if key == NON_FIELD_ERRORS else key,
                    msg if key != NON_FIELD_ERRORS or name == "__all__" else f"{name}: {msg}",
                )
    else:
        for msg in exc.messages:
            form.add_error(None, msg)


def picklist_choices(name: str) -> list[tuple[str, str]]:
    from kehu.core.models import PicklistOption

    return [("", "—"), *[(o.value, o.label) for o in PicklistOption.objects.filter(list=name, active=True)]]


class GatedModelForm(forms.ModelForm):
    """A model form that drops fields the user may not read, disables read-only ones, adds the object type's
    custom fields (cf_<key>) and carries the record's version for the stale-edit check."""

    object_type: str = ""
    picklist_fields: tuple[str, ...] = ()  # fields whose values come from an administrator's pick list
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.policy = permissions.policy(user, self.object_type)
        self.definitions = customfields.definitions(self.object_type)
        instance = self.instance
        current = (getattr(instance, "custom", None) or {}) if instance.pk else {}
        for d in self.definitions:
            field = customfields.form_field(d)
            field.initial = current.get(d.name)
            self.fields[d.field_key] = field
        for name in self.picklist_fields:
            if name in self.fields:
                self.fields[name] = forms.ChoiceField(
                    label=self.fields[name].label, required=False, choices=picklist_choices(name)
                )
        for name in list(self.fields):
            if name == "version":
                continue
            if not self.policy.can_read(name):
                del self.fields[name]
            elif not self.policy.can_write(name):
                self.fields[name].disabled = True
        if instance.pk:
            self.fields["version"].initial = getattr(instance, "version", None)
        for f in self.fields.values():
            css = (
                "form-check-input"
                if isinstance(f.widget, forms.CheckboxInput)
                else (
                    "form-select"
                    if isinstance(f.widget, forms.Select | forms.SelectMultiple)
                    and not isinstance(f.widget, forms.CheckboxSelectMultiple)
                    else "form-control"
                )
            )
            if not isinstance(f.widget, forms.CheckboxSelectMultiple | forms.HiddenInput):
                f.widget.attrs.setdefault("class", css)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        for name, check in EARLY_CHECKS.items():
            value = data.get(name)
            if name in self.fields and not self.fields[name].disabled and isinstance(value, str) and value.strip():
                try:
                    check(value)
                except ValidationError as exc:
                    self.add_error(name, exc.messages)
        return data

    @property
    def custom_field_names(self) -> list[str]:
        return [d.field_key for d in self.definitions if d.field_key in self.fields]

    def custom_values(self) -> dict[str, Any]:
        """Values of editable custom fields, keyed by definition name, ready for customfields.clean()."""
        out: dict[str, Any] = {}
        for d in self.definitions:
            f = self.fields.get(d.field_key)
            if f is None or f.disabled:
                continue
            v = self.cleaned_data.get(d.field_key)
            if isinstance(v, datetime.date):
                v = v.isoformat()
            elif isinstance(v, decimal.Decimal):
                v = str(v)
            out[d.name] = v
        return out

    def model_values(self) -> dict[str, Any]:
        """Changed, writable model fields."""
        names = [n for n in self._meta.fields or [] if n in self.fields and not self.fields[n].disabled]
        return {n: self.cleaned_data[n] for n in names if n in self.cleaned_data}


class LookupWidget(forms.Widget):
    """A search-as-you-type picker for a foreign key with too many rows for a <select>: a hidden input holds
    the id, a text box queries `lookup_url` (an htmx endpoint returning buttons) as the user types."""

    template_name = "core/widgets/lookup.html"

    def __init__(self, lookup_url: Any, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.lookup_url = lookup_url

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        ctx = super().get_context(name, value, attrs)
        label = ""
        choices = getattr(self, "choices", None)
        if value not in (None, "") and choices is not None:
            obj = choices.queryset.filter(pk=value).first() if str(value).isdigit() else None
            label = str(obj) if obj else ""
        ctx["widget"].update({"lookup_url": str(self.lookup_url), "label": label})
        return ctx
