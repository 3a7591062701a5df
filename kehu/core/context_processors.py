from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the sidebar may show: object types the user can view (through the gate)."""
    from kehu.core import permissions

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "customers": permissions.can(user, "customers.customer", "view"),
            "contacts": permissions.can(user, "customers.contact", "view"),
            "leads": permissions.can(user, "sales.lead", "view"),
            "settings": permissions.can(user, "users.user", "change"),
        }
    }
