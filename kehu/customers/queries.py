"""Read-side helpers for customers and contacts, always through the gate."""

from __future__ import annotations

from typing import Any

from django.apps import apps

from kehu.core import customfields, permissions, queries
from kehu.customers.models import Contact, Customer


def profile_fields(user: Any, obj: Any, names: list[str]) -> list[str]:
    pol = permissions.policy(user, obj)
    return [n for n in names if pol.can_read(n)]


def custom_values(user: Any, object_type: str, obj: Any) -> list[tuple[str, str]]:
    pol = permissions.policy(user, object_type)
    values = obj.custom or {}
    return [
        (d.label, customfields.display(d, values.get(d.name)))
        for d in customfields.definitions(object_type)
        if pol.can_read(d.field_key)
    ]


def customer_360(user: Any, customer: Customer) -> dict[str, Any]:
    """Everything the 360° page shows, each part through the gate; a fixed number of queries."""
    Lead = apps.get_model("sales", "Lead")
    contacts = list(
        permissions.visible(Contact, user)
        .filter(customer=customer)
        .prefetch_related("channels")
        .order_by("-is_primary", "name")[:100]
    )
    lead_ids = list(Lead.objects.filter(converted_customer=customer).values_list("pk", flat=True))
    leads = list(permissions.visible(Lead, user).filter(pk__in=lead_ids).select_related("owner"))
    return {
        "contacts": contacts,
        "leads": leads,
        "can_see_leads": permissions.can(user, "sales.lead", "view"),
        "lifecycle": list(customer.lifecycle_changes.select_related("changed_by").order_by("-changed_at")[:20]),
        "timeline": queries.timeline(user, customer, related=[(Lead, [lead.pk for lead in leads])]),
        "custom": custom_values(user, "customers.customer", customer),
    }
