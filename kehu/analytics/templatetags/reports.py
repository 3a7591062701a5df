"""Number formats of the report pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal ("63.2 %"), or a dash when there is nothing to divide."""
    if value is None:
        return "—"
    return f"{number_format(round(value * 100, 1), 1)} %"


@register.filter
def days(value: float | None) -> str:
    return "—" if value is None else number_format(value, 1)


@register.filter
def num(value: Any) -> str:
    """A count with thousands separators (1,234), whatever the language's own grouping setting."""
    return "—" if value is None else f"{int(value):,}"


@register.filter
def money(value: Any) -> str:
    """Whole currency units with thousands separators (the exports keep the cents)."""
    return "—" if value is None else f"{round(value):,}"


@register.filter
def signed_money(value: Any) -> str:
    """An amount with its sign ("+1,200", "−300"), for errors and differences."""
    if value is None:
        return "—"
    n = round(value)
    return f"+{n:,}" if n > 0 else f"−{-n:,}" if n < 0 else "0"


@register.filter
def signed_pct(value: float | None) -> str:
    """A percentage (already × 100) with its sign: "+12.5 %"."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return f"{sign}{number_format(round(abs(value), 1), 1)} %"


@register.filter
def abs_pct(value: float | None) -> str:
    """A percentage (already × 100) without a sign: "12.5 %"."""
    return "—" if value is None else f"{number_format(round(abs(value), 1), 1)} %"


@register.filter
def bar_width(value: int | None) -> int:
    """An attainment percentage as the width of a bar: 0–100."""
    return 0 if value is None else max(0, min(int(value), 100))


@register.filter
def sub(value: Any, other: Any) -> Any:
    """value − other, never below zero (what is left to reach a target)."""
    try:
        return max(value - other, 0)
    except TypeError:
        return None
