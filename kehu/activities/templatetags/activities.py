"""{% activity_panel record %}: the follow-up and task panel of any lead, customer, contact or opportunity page."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("activities/_panel_body.html", takes_context=True)
def activity_panel(context: Any, record: Any) -> dict[str, Any]:
    from kehu.activities.views import panel_context

    request = context["request"]
    return {"request": request, "csrf_token": context.get("csrf_token"), **panel_context(request, record)}


KIND_ICONS = {
    "call": "bi-telephone",
    "visit": "bi-geo-alt",
    "meeting": "bi-people",
    "email": "bi-envelope",
    "chat": "bi-chat-dots",
    "note": "bi-sticky",
}


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, "bi-journal-text")
