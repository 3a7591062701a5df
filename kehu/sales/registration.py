"""How leads plug into the gate, search and the event log."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kehu.core import registry, search
from kehu.sales.models import Lead

LEAD_FIELDS = (
    "name",
    "company",
    "title",
    "email",
    "phone",
    "wechat",
    "status",
    "source",
    "industry",
    "country",
    "province",
    "city",
    "description",
    "disqualify_reason",
    "disqualify_note",
    "owner",
    "team",
    "converted_customer",
    "converted_contact",
)

registry.register(
    registry.ObjectType(
        "sales.lead",
        Lead,
        LEAD_FIELDS,
        url_name="sales:lead_detail",
        search_fields=("name", "company", "email", "phone", "wechat"),
    )
)


def lead_document(lead: Lead) -> search.Document:
    return search.Document(
        title=lead.name,
        subtitle=_("Lead") + (f" · {lead.company}" if lead.company else ""),
        fields={
            "name": search.text_tokens(lead.name),
            "company": search.text_tokens(lead.company),
            "email": search.email_tokens(lead.email) if lead.email else set(),
            "phone": search.phone_tokens(lead.phone) if lead.phone else set(),
            "wechat": search.text_tokens(lead.wechat),
        },
    )


search.register("sales.lead", lead_document)
