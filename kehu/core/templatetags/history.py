"""{% history_url obj %}: the address of a record's history page (empty for a type the gate does not know)."""

from __future__ import annotations

from typing import Any

from django import template

from kehu.core import queries

register = template.Library()


@register.simple_tag
def history_url(obj: Any) -> str:
    return queries.history_url(obj) if obj is not None and hasattr(obj, "_meta") else ""
