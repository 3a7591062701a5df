"""The lead list (columns, filters, sorts) for kehu.core.lists."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.lists import Filter, ObjectList
from kehu.sales.models import Lead

LEAD_LIST = ObjectList(
    object_type="sales.lead",
    title=_("Leads"),
    columns=["name", "company", "status", "source", "owner", "updated_at"],
    available=[
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
        "disqualify_reason",
        "owner",
        "team",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("status", _("Status"), choices=Lead.Status.choices),
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("source", _("Source channel"), picklist="source"),
        Filter("industry", _("Industry"), picklist="industry"),
        Filter("disqualify_reason", _("Disqualification reason"), picklist="disqualify_reason"),
        Filter("company", _("Company"), kind="text"),
        Filter("province", _("Province / state"), kind="text"),
        Filter("city", _("City"), kind="text"),
        Filter("email", _("E-mail"), kind="text"),
        Filter("created_at", _("Created"), kind="date"),
        Filter("updated_at", _("Last changed"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "name", "status"],
    select_related=("owner",),
    new_url=reverse_lazy("sales:lead_create"),
    bulk_actions=("assign",),
)
