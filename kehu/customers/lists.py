"""List definitions of customers and contacts (columns, filters, sorts) for kehu.core.lists."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core import normalize
from kehu.core.countries import country_choices
from kehu.core.lists import ExportColumn, Filter, ObjectList
from kehu.customers.models import ChannelKind, Contact, ContactChannel, Customer, LifecycleStage, SizeTier


def _by_customer(qs: models.QuerySet, value: str) -> models.QuerySet:
    """Contacts of one customer: its id (a link from the customer) or a part of its name."""
    if value.isdigit() and len(value) < 19:
        return qs.filter(customer_id=int(value))
    return qs.filter(customer__name__icontains=value)


def _has_channel(qs: models.QuerySet, value: str) -> models.QuerySet:
    """Contacts reachable on a channel kind (at least one WeChat, phone, e-mail … identity)."""
    if value not in ChannelKind.values:
        raise ValueError(value)
    return qs.filter(Exists(ContactChannel.objects.filter(contact_id=OuterRef("pk"), kind=value)))


def _channels(contact: Contact, kinds: set[str] | None) -> str:
    """A contact's identities of some kinds (None: every kind but e-mail and phone), primary first, for exports:
    "li@example.com; lei@example.cn", "WeChat: lilei88"."""
    out = []
    for ch in sorted(contact.channels.all(), key=lambda c: (not c.is_primary, c.pk)):
        if kinds is None and ch.kind not in (ChannelKind.EMAIL, ChannelKind.PHONE):
            out.append(f"{ch.get_kind_display()}: {ch.value}")
        elif kinds is not None and ch.kind in kinds:
            out.append(normalize.phone_display(ch.normalized) if ch.kind == ChannelKind.PHONE else ch.value)
    return "; ".join(out)


CUSTOMER_LIST = ObjectList(
    object_type="customers.customer",
    title=_("Customers"),
    columns=["name", "lifecycle_stage", "industry", "city", "owner", "tags", "updated_at"],
    available=[
        "name",
        "kind",
        "relationship",
        "lifecycle_stage",
        "source",
        "industry",
        "size_tier",
        "country",
        "province",
        "city",
        "owner",
        "team",
        "tags",
        "website",
        "credit_limit",
        "payment_terms",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("lifecycle_stage", _("Lifecycle stage"), choices=LifecycleStage.choices),
        Filter("kind", _("Kind"), choices=Customer.Kind.choices),
        Filter("relationship", _("Relationship"), choices=Customer.Relationship.choices),
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("industry", _("Industry"), picklist="industry"),
        Filter("source", _("Source channel"), picklist="source"),
        Filter("size_tier", _("Size"), choices=SizeTier.choices),
        Filter("country", _("Country"), choices=country_choices),
        Filter("province", _("Province / state"), kind="text"),
        Filter("city", _("City"), kind="text"),
        Filter("tags", _("Tag"), kind="tag"),
        Filter("uscc", _("Unified social credit code"), kind="text"),
        Filter("credit_limit", _("Credit limit"), kind="number"),
        Filter("created_at", _("Created"), kind="date"),
        Filter("updated_at", _("Last changed"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "name", "lifecycle_stage"],
    select_related=("owner",),
    prefetch_related=("tags",),
    new_url=reverse_lazy("customers:create"),
    bulk_actions=("assign", "tag", "stage"),
)

CONTACT_LIST = ObjectList(
    object_type="customers.contact",
    title=_("Contacts"),
    columns=["name", "customer", "title", "owner", "updated_at"],
    available=[
        "name",
        "customer",
        "title",
        "department",
        "gender",
        "is_primary",
        "owner",
        "team",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("customer", _("Customer"), kind="text", apply=_by_customer),
        Filter("title", _("Job title"), kind="text"),
        Filter("department", _("Department"), kind="text"),
        Filter("gender", _("Gender"), choices=Contact.Gender.choices),
        Filter("channels", _("Reachable on"), choices=ChannelKind.choices, apply=_has_channel),
        Filter("is_primary", _("Primary contact"), kind="bool"),
        Filter("created_at", _("Created"), kind="date"),
        Filter("updated_at", _("Last changed"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "name"],
    select_related=("owner", "customer"),
    new_url=reverse_lazy("customers:contact_create"),
    bulk_actions=("assign",),
    export_columns=(
        ExportColumn("channels", _("E-mail addresses"), lambda c: _channels(c, {ChannelKind.EMAIL}), "channels"),
        ExportColumn("channels", _("Phone numbers"), lambda c: _channels(c, {ChannelKind.PHONE}), "channels"),
        ExportColumn("channels", _("Other channels"), lambda c: _channels(c, None), "channels"),
    ),
)
