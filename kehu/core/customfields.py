"""Custom fields: definitions in a table, values in the record's `custom` JSON column.

Values are validated by type here, for forms, the API and imports alike. Filters, search and the gate
see a custom field under the name cf_<key>.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Case, DateField, Expression, FloatField, Q, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext as _

from kehu.core.models import CustomFieldDefinition

T = CustomFieldDefinition.Type
TEXT_TYPES = (T.TEXT, T.LONGTEXT)


# Definitions read once per request (a 360° page asks for them from its form helpers, timeline and panels);
# outside a request every call reads the table. Saving or deleting a definition forgets the request's copy.
_request_memo: ContextVar[dict[str, list[CustomFieldDefinition]] | None] = ContextVar("kehu_cf_memo", default=None)


@contextmanager
def remembered_per_request() -> Iterator[None]:
    token = _request_memo.set({})
    try:
        yield
    finally:
        _request_memo.reset(token)


def _forget() -> None:
    memo = _request_memo.get()
    if memo is not None:
        memo.clear()


def definitions(object_type: str) -> list[CustomFieldDefinition]:
    memo = _request_memo.get()
    if memo is None:
        return list(CustomFieldDefinition.objects.filter(object_type=object_type))
    if object_type not in memo:
        memo[object_type] = list(CustomFieldDefinition.objects.filter(object_type=object_type))
    return list(memo[object_type])


def _choice_values(defn: CustomFieldDefinition) -> set[str]:
    return {str(c.get("value")) for c in defn.choices}


def clean_value(defn: CustomFieldDefinition, value: Any) -> Any:
    """The stored form of one value, or ValidationError with a message naming the problem."""
    if value is None or value == "" or value == []:
        if defn.required:
            raise ValidationError(_("This field is required."))
        return None
    t = defn.type
    if t in TEXT_TYPES:
        if not isinstance(value, str):
            raise ValidationError(_("Enter text."))
        limit = 255 if t == T.TEXT else 10000
        if len(value) > limit:
            raise ValidationError(_("Enter at most %(n)d characters.") % {"n": limit})
        return value.strip()
    if t == T.INTEGER:
        if isinstance(value, bool):
            raise ValidationError(_("Enter a whole number."))
        try:
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)  # 3.0 from a JSON body
            return int(str(value).strip())
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("Enter a whole number.")) from exc
    if t == T.DECIMAL:
        if isinstance(value, bool):
            raise ValidationError(_("Enter a number."))
        try:
            d = decimal.Decimal(str(value).strip())
        except (decimal.InvalidOperation, ValueError) as exc:
            raise ValidationError(_("Enter a number.")) from exc
        if not d.is_finite():
            raise ValidationError(_("Enter a number."))
        return str(d)
    if t == T.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from exc
    if t == T.BOOLEAN:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes", "on"):
            return True
        if str(value).lower() in ("false", "0", "no", "off"):
            return False
        raise ValidationError(_("Enter true or false."))
    if t == T.CHOICE:
        if str(value) not in _choice_values(defn):
            raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": value})
        return str(value)
    if t == T.MULTICHOICE:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ValidationError(_("Enter a list of choices."))
        allowed = _choice_values(defn)
        bad = [str(v) for v in value if str(v) not in allowed]
        if bad:
            raise ValidationError(_("“%(value)s” is not one of the choices.") % {"value": bad[0]})
        return sorted({str(v) for v in value})
    if t == T.USER:
        try:
            pk = int(value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("Choose a user.")) from exc
        if not get_user_model().objects.filter(pk=pk, is_active=True).exists():
            raise ValidationError(_("No active user with id %(id)s.") % {"id": pk})
        return pk
    raise ValidationError(_("Unknown field type."))


def clean(
    object_type: str,
    values: dict[str, Any],
    *,
    current: dict[str, Any] | None = None,
    partial: bool = False,
    defs: list[CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Validate `values` (keyed by definition name) and merge them into `current`.

    Unknown keys are rejected; with `partial`, absent fields keep their current value.
    Raises ValidationError({"cf_<name>": [message]}).
    """
    defs = definitions(object_type) if defs is None else defs
    by_name = {d.name: d for d in defs}
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in by_name:
            errors[f"cf_{key}"] = [_("Unknown custom field.")]
    result = dict(current or {})
    for d in defs:
        if d.name not in values and partial:
            continue
        try:
            cleaned = clean_value(d, values.get(d.name))
        except ValidationError as exc:
            errors[d.field_key] = list(exc.messages)
            continue
        if cleaned is None:
            result.pop(d.name, None)
        else:
            result[d.name] = cleaned
    if errors:
        raise ValidationError(errors)
    return result


def form_field(defn: CustomFieldDefinition) -> forms.Field:
    """A Django form field for one definition (validation still happens in clean())."""
    common: dict[str, Any] = {"label": defn.label, "required": defn.required, "help_text": defn.help_text}
    t = defn.type
    if t == T.LONGTEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000, **common)
    if t == T.INTEGER:
        return forms.IntegerField(**common)
    if t == T.DECIMAL:
        return forms.DecimalField(**common)
    if t == T.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if t == T.BOOLEAN:
        common["required"] = False
        return forms.BooleanField(**common)
    if t in (T.CHOICE, T.MULTICHOICE):
        choices = [(c["value"], defn.choice_label(c["value"])) for c in defn.choices]
        if t == T.CHOICE:
            return forms.ChoiceField(choices=[("", "—"), *choices], **common)
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if t == T.USER:
        users = get_user_model().objects.filter(is_active=True).order_by("name_sort", "id")
        return forms.TypedChoiceField(
            choices=[("", "—"), *[(u.pk, str(u)) for u in users]], coerce=int, empty_value=None, **common
        )
    return forms.CharField(max_length=255, **common)


def display(defn: CustomFieldDefinition, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    if defn.type == T.BOOLEAN:
        return _("Yes") if value else _("No")
    if defn.type == T.CHOICE:
        return defn.choice_label(value)
    if defn.type == T.MULTICHOICE:
        return ", ".join(defn.choice_label(v) for v in value)
    if defn.type == T.USER:
        user = get_user_model().objects.filter(pk=value).first()
        return str(user) if user else str(value)
    return str(value)


def filter_q(defn: CustomFieldDefinition, raw: str) -> Q:
    """A filter on one custom field from a query-string value; ValidationError if it does not fit the type."""
    key = f"custom__{defn.name}"
    if defn.type in TEXT_TYPES:
        return Q(**{f"{key}__icontains": raw})
    if defn.type == T.MULTICHOICE:
        value = clean_value(defn, raw)
        q = Q()
        for v in value:
            q &= Q(**{f"{key}__icontains": f'"{v}"'})  # the JSON text of the list holds each value quoted
        return q
    value = clean_value(defn, raw)
    if defn.type == T.DECIMAL:
        return Q(**{f"{key}__in": _decimal_spellings(value)})
    return Q(**{key: value})


def _decimal_spellings(value: str) -> list[str]:
    """The stored texts that mean this number: values keep the scale they were entered with (12.5, 12.50)."""
    plain = format(decimal.Decimal(value).normalize(), "f")
    whole, _dot, frac = plain.partition(".")
    spellings = [whole] if not frac else []
    spellings += [f"{whole}.{frac}{'0' * n}" for n in range(0 if frac else 1, 13 - len(frac))]
    return spellings


NUMBER_TYPES = (T.INTEGER, T.DECIMAL)
RANGE_TYPES = (T.INTEGER, T.DECIMAL, T.DATE)  # filtered by range: cf_<key>__from, cf_<key>__to
# stored values as clean_value() writes them; anything else (a value left from a deleted field of another
# type under the same key) is treated as empty rather than breaking a cast on PostgreSQL
_NUMBER_RE = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def typed_expression(defn: CustomFieldDefinition) -> Expression:
    """The field's value as the database should compare it: numbers as numbers, dates as dates, else text
    (NULL when the record has no value)."""
    text = KeyTextTransform(defn.name, "custom")
    if defn.type in NUMBER_TYPES:
        return Case(
            When(**{f"custom__{defn.name}__regex": _NUMBER_RE}, then=Cast(text, FloatField())),
            default=None,
            output_field=FloatField(),
        )
    if defn.type == T.DATE:
        return Case(
            When(**{f"custom__{defn.name}__regex": _DATE_RE}, then=Cast(text, DateField())),
            default=None,
            output_field=DateField(),
        )
    return Cast(text, TextField())  # a plain text value: lookups on it compare text, not JSON


def order_expression(defn: CustomFieldDefinition) -> Expression:
    """The sort key: numbers sort numerically, dates chronologically, the rest as text; NULL without a value
    (kehu.core.pagination puts those last in both directions)."""
    return typed_expression(defn)


def range_q(defn: CustomFieldDefinition, raw: str, *, upper: bool) -> Q:
    """`cf_<key>__from` (upper False) or `__to` (upper True), both inclusive, on a number or date field;
    ValidationError with a message for a value of the wrong kind."""
    if defn.type not in RANGE_TYPES:
        raise ValidationError(_("This field cannot be filtered by a range."))
    bound: Any
    if defn.type == T.DATE:
        try:
            bound = dt.date.fromisoformat(raw.strip())
        except ValueError as exc:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from exc
    else:
        try:
            number = decimal.Decimal(raw.strip())
        except (decimal.InvalidOperation, ValueError) as exc:
            raise ValidationError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise ValidationError(_("Enter a number."))
        bound = float(number)
    lookup = LessThanOrEqual if upper else GreaterThanOrEqual
    return Q(lookup(typed_expression(defn), Value(bound)))


# --------------------------------------------------------------------------- administration


def object_types() -> list[tuple[str, str]]:
    from kehu.core import registry

    return [(t.key, t.label) for t in registry.all_types() if t.custom_fields]


def save_definition(*, actor: Any, defn: CustomFieldDefinition | None, data: dict[str, Any]) -> CustomFieldDefinition:
    """Create or change a custom field definition (type and key are fixed once created)."""
    from django.db import transaction

    from kehu.core import services as core

    _forget()
    with transaction.atomic():
        if data.get("object_type") and data["object_type"] not in dict(object_types()):
            raise ValidationError({"object_type": [_("Custom fields cannot be added to this object type.")]})
        if data.get("type") in (T.CHOICE, T.MULTICHOICE) and not data.get("choices"):
            raise ValidationError({"choices": [_("Give at least one choice.")]})
        values = [c.get("value") for c in data.get("choices") or []]
        if len(values) != len(set(values)) or any(not v for v in values):
            raise ValidationError({"choices": [_("Each choice needs its own value.")]})
        if defn is None:
            name = data.get("name", "")
            if CustomFieldDefinition.objects.filter(object_type=data.get("object_type"), name=name).exists():
                raise ValidationError(
                    {"name": [_("This object type already has a field with key “%(key)s”.") % {"key": name}]}
                )
            defn = CustomFieldDefinition(**data)
            core.create(actor=actor, obj=defn)
            return defn
        data = {k: v for k, v in data.items() if k not in ("object_type", "name", "type")}
        core.update(actor=actor, obj=defn, values=data)
        return defn


def delete_definition(*, actor: Any, defn: CustomFieldDefinition) -> None:
    """Remove a definition; values already stored stay in the records' JSON and in their history."""
    from django.db import transaction

    from kehu.core import services as core

    _forget()
    with transaction.atomic():
        core.delete(actor=actor, obj=defn)


def save_option(*, actor: Any, option: Any, data: dict[str, Any]) -> Any:
    from django.db import transaction

    from kehu.core import services as core
    from kehu.core.models import PicklistOption

    with transaction.atomic():
        if option is None:
            if PicklistOption.objects.filter(list=data.get("list"), value=data.get("value")).exists():
                raise ValidationError(
                    {"value": [_("This pick list already has the value “%(value)s”.") % {"value": data.get("value")}]}
                )
            option = PicklistOption(**data)
            core.create(actor=actor, obj=option)
            return option
        data = {k: v for k, v in data.items() if k not in ("list", "value")}
        core.update(actor=actor, obj=option, values=data)
        return option
