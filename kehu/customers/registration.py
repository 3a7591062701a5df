"""How customers and contacts plug into the gate, search and the event log."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core import registry, search
from kehu.customers.models import ChannelKind, Contact, Customer, Tag

CUSTOMER_FIELDS = (
    "kind",
    "relationship",
    "name",
    "uscc",
    "lifecycle_stage",
    "source",
    "industry",
    "size_tier",
    "country",
    "province",
    "city",
    "address",
    "website",
    "description",
    "tags",
    "owner",
    "team",
    "credit_limit",
    "payment_terms",
    "bank_account",
)
CONTACT_FIELDS = (
    "customer",
    "name",
    "title",
    "department",
    "gender",
    "birthday",
    "is_primary",
    "notes",
    "channels",
    "owner",
    "team",
)

registry.register(
    registry.ObjectType(
        "customers.customer",
        Customer,
        CUSTOMER_FIELDS,
        url_name="customers:detail",
        search_fields=("name",),
    )
)
registry.register(
    registry.ObjectType(
        "customers.contact",
        Contact,
        CONTACT_FIELDS,
        url_name="customers:contact_detail",
        parent_attr="customer",
        search_fields=("name", "customer", "channels"),
    )
)
registry.register(
    registry.ObjectType(
        "customers.tag",
        Tag,
        ("name", "color"),
        custom_fields=False,
        owned=False,
    )
)


def customer_document(c: Customer) -> search.Document:
    return search.Document(
        title=c.name,
        parts=[("city", c.city), ("province", c.province)],
        # the name key lets a lead's company find this customer however its name is spelt
        fields={"name": set(search.text_tokens(c.name)) | search.name_key_tokens(c.name)},
    )


def contact_document(c: Contact, channels: list[Any] | None = None) -> search.Document:
    chans = channels if channels is not None else list(c.channels.all())
    tokens: set[str] = set()
    for ch in chans:
        if ch.kind == ChannelKind.EMAIL:
            tokens |= search.email_tokens(ch.normalized)
        elif ch.kind in (ChannelKind.PHONE, ChannelKind.WHATSAPP):
            tokens |= search.phone_tokens(ch.normalized)
        else:
            tokens |= search.text_tokens(ch.normalized)
    company = c.customer.name if c.customer is not None else ""
    return search.Document(
        title=c.name,
        parts=[("customer", company)],
        fields={"name": search.text_tokens(c.name), "customer": search.text_tokens(company), "channels": tokens},
    )


search.register("customers.customer", customer_document, label=_("Customer"), icon="bi-building")
search.register(
    "customers.contact", contact_document, label=_("Contact"), icon="bi-person-lines-fill", prefetch=("channels",)
)
