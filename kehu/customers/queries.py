"""Read-side helpers for customers and contacts, always through the gate."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import F

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
    Opportunity = apps.get_model("sales", "Opportunity")
    opportunities = list(
        permissions.visible(Opportunity, user)
        .filter(customer=customer)
        .select_related("stage")
        .order_by(F("closed_on").desc(nulls_first=True), "expected_close", "-id")[:50]
    )
    lead_ids = list(Lead.objects.filter(converted_customer=customer).values_list("pk", flat=True))
    leads = list(permissions.visible(Lead, user).filter(pk__in=lead_ids).select_related("owner"))
    return {
        "contacts": contacts,
        "leads": leads,
        "can_see_leads": permissions.can(user, "sales.lead", "view"),
        "opportunities": opportunities,
        "can_see_opportunities": permissions.can(user, "sales.opportunity", "view"),
        "can_add_opportunity": permissions.can(user, "sales.opportunity", "add"),
        "tx": _transactions(user, customer),
        "lifecycle": list(customer.lifecycle_changes.select_related("changed_by").order_by("-changed_at")[:20]),
        "timeline": queries.timeline(user, customer, related=[(Lead, [lead.pk for lead in leads])]),
        "custom": custom_values(user, "customers.customer", customer),
    }


def _transactions(user: Any, customer: Customer) -> dict[str, Any] | None:
    """The customer's quotes, orders, contracts and payments, each type only if the gate lets the user see it;
    None when they may see none of them (no panel at all, e.g. for a service agent)."""
    out: dict[str, Any] = {"read": {}}
    for key, model, order in (
        ("quotes", "Quote", ("-updated_at", "-id")),
        ("orders", "SalesOrder", ("-ordered_on", "-id")),
        ("contracts", "Contract", ("-start_date", "-id")),
        ("payments", "Payment", ("-id",)),
    ):
        Model = apps.get_model("sales", model)
        if permissions.can(user, Model, "view"):
            qs = permissions.visible(Model, user).filter(customer=customer)
            if model == "Quote":
                qs = qs.exclude(status="superseded")
            out[key] = list(qs.order_by(*order)[:20])
            pol = permissions.policy(user, Model)
            # the panel shows each document's title and money only where the field rules let the user read them
            out["read"][key] = {f: pol.can_read(f) for f in ("title", "total", "value", "amount", "currency")}
    if len(out) == 1:
        return None
    out["can_quote"] = permissions.can(user, "sales.quote", "add")
    return out
