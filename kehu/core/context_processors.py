from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the sidebar may show: object types the user can view (through the gate)."""
    from kehu.core import permissions

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    nav = {
        "customers": permissions.can(user, "customers.customer", "view"),
        "contacts": permissions.can(user, "customers.contact", "view"),
        "leads": permissions.can(user, "sales.lead", "view"),
        "opportunities": permissions.can(user, "sales.opportunity", "view"),
        "quotes": permissions.can(user, "sales.quote", "view"),
        "quote_add": permissions.can(user, "sales.quote", "add"),
        "orders": permissions.can(user, "sales.salesorder", "view"),
        "contracts": permissions.can(user, "sales.contract", "view"),
        "payments": permissions.can(user, "sales.payment", "view"),
        "settings": permissions.can(user, "users.user", "change"),
    }
    from kehu.core import registry

    for fn in registry.hooks("nav"):  # items apps add (tasks and their due count)
        nav.update(fn(user))
    return {"nav": nav}
