"""Template helpers shared by every page: cell rendering by field type, labels, event change lines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join

from kehu.core import customfields, normalize

register = template.Library()


PICKLIST_FIELDS = {
    "industry": "industry",
    "source": "source",
    "disqualify_reason": "disqualify_reason",
    "loss_reason": "loss_reason",
}


PHONE_FIELDS = {"phone", "mobile", "whatsapp"}  # stored in E.164, shown as people write them


@register.filter
def phone(e164: str) -> str:
    """+8613812345678 → 138 1234 5678 at home, +44 7911 123456 abroad (KEHU_PHONE_REGION)."""
    return normalize.phone_display(e164) if e164 else ""


def picklist_labels(context: Any) -> dict[tuple[str, str], str]:
    """Labels of every pick list value, read once per page render (not cached across requests)."""
    if context is not None and context.get("kehu_picklist_labels") is not None:
        return context["kehu_picklist_labels"]  # read by the view with the page's other pick list options
    cache = context.render_context if context is not None else {}
    if "kehu_picklists" not in cache:
        from kehu.core.models import PicklistOption

        cache["kehu_picklists"] = {(o.list, o.value): o.label for o in PicklistOption.objects.all()}
    return cache["kehu_picklists"]


def display_value(obj: models.Model, name: str, definition: Any = None, context: Any = None) -> Any:
    """The human form of one field of a record: choice labels, related names, formatted dates."""
    if name in PICKLIST_FIELDS and context is not None:
        value = getattr(obj, name)
        return picklist_labels(context).get((PICKLIST_FIELDS[name], value), value) if value else ""
    if name.startswith("cf_"):
        value = (getattr(obj, "custom", None) or {}).get(name[3:])
        return customfields.display(definition, value) if definition else (value or "")
    f: Any = obj._meta.get_field(name)
    if f.many_to_many:
        return ", ".join(str(x) for x in getattr(obj, name).all())
    if f.choices:
        return getattr(obj, f"get_{name}_display")()
    value = getattr(obj, name)
    if value is None:
        return ""
    if name in PHONE_FIELDS and isinstance(value, str) and value.startswith("+"):
        return phone(value)
    if isinstance(f, models.DecimalField):  # amounts as the pages show them: 229,955.00
        return number_format(value, f.decimal_places, force_grouping=True)
    if isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, bool):
        from django.utils.translation import gettext

        return gettext("Yes") if value else gettext("No")
    return value


@register.simple_tag(takes_context=True)
def cell(context: Any, obj: models.Model, column: Any) -> str:
    name = column.name
    if name == "tags":
        return format_html_join("", '<span class="tag">{}</span>', ((t.name,) for t in obj.tags.all()))  # type: ignore[attr-defined]
    if name in ("lifecycle_stage", "status"):
        value = getattr(obj, name)
        badge = format_html(
            '<span class="badge-stage {}-{}">{}</span>',
            "stage" if name == "lifecycle_stage" else "status",
            value,
            getattr(obj, f"get_{name}_display")(),
        )
        if name == "status" and getattr(obj, "is_overdue", False) is True:  # e.g. a planned payment past due
            from django.utils.translation import gettext

            badge += format_html(' <span class="badge-stage status-overdue">{}</span>', gettext("Overdue"))
        return badge
    if name == "updated_at" or name == "created_at":
        value = getattr(obj, name)
        return format_html(
            '<span title="{}">{}</span>', date_format(timezone.localtime(value), "DATETIME_FORMAT"), naturaltime(value)
        )
    return format_html("{}", display_value(obj, name, column.definition, context))


@register.simple_tag(takes_context=True)
def field_value(context: Any, obj: models.Model, name: str) -> Any:
    return display_value(obj, name, context=context)


@register.simple_tag
def verbose(obj_or_model: Any, name: str) -> str:
    return str(obj_or_model._meta.get_field(name).verbose_name).capitalize()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if mapping else None
