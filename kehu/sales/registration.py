"""How leads plug into the gate, search and the event log."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kehu.core import registry, search
from kehu.sales.models import (
    Contract,
    Lead,
    Opportunity,
    Payment,
    Pipeline,
    PriceList,
    Product,
    Quote,
    SalesOrder,
    Target,
)

LEAD_FIELDS = (
    "name",
    "company",
    "title",
    "email",
    "phone",
    "wechat",
    "status",
    "source",
    "campaign",
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
        # disqualify(): the reason; convert(): the records made (the opportunity is gated as a record of its own)
        data_fields=(
            ("reason", "disqualify_reason"),
            ("customer", "converted_customer"),
            ("contact", "converted_contact"),
        ),
    )
)

OPPORTUNITY_FIELDS = (
    "name",
    "customer",
    "pipeline",
    "stage",
    "status",
    "amount",
    "currency",
    "probability",
    "expected_close",
    "started_on",
    "closed_on",
    "source",
    "campaign",
    "partner",
    "lead",
    "competitors",
    "loss_reason",
    "loss_note",
    "next_step",
    "description",
    "contact_roles",
    "lines",
    "owner",
    "team",
)
TOTALS = ("currency", "subtotal", "discount_total", "tax_rate", "tax", "total", "lines")
QUOTE_FIELDS = (
    "number",
    "revision",
    "title",
    "customer",
    "contact",
    "opportunity",
    "price_list",
    "status",
    "valid_until",
    "language",
    "terms",
    *TOTALS,
    "owner",
    "team",
)
ORDER_FIELDS = (
    "number",
    "customer",
    "quote",
    "opportunity",
    "status",
    "ordered_on",
    "paid_amount",
    *TOTALS,
    "owner",
    "team",
)
CONTRACT_FIELDS = (
    "number",
    "title",
    "kind",
    "customer",
    "sales_order",
    "status",
    "start_date",
    "end_date",
    "renewal_date",
    "value",
    "currency",
    "paid_amount",
    "signed_on",
    "terms",
    "files",
    "owner",
    "team",
)
PAYMENT_FIELDS = (
    "customer",
    "sales_order",
    "contract",
    "status",
    "amount",
    "currency",
    "due_date",
    "received_on",
    "method",
    "reference",
    "note",
    "owner",
    "team",
)

registry.register(
    registry.ObjectType(
        "sales.opportunity",
        Opportunity,
        OPPORTUNITY_FIELDS,
        url_name="sales:opportunity_detail",
        parent_attr="customer",
        search_fields=("name", "customer"),
        data_fields=(("from", "stage"), ("to", "stage")),  # move_stage(): the stages left and entered
    )
)
registry.register(
    registry.ObjectType("sales.quote", Quote, QUOTE_FIELDS, url_name="sales:quote_detail", parent_attr="customer")
)
registry.register(
    registry.ObjectType(
        "sales.salesorder", SalesOrder, ORDER_FIELDS, url_name="sales:order_detail", parent_attr="customer"
    )
)
registry.register(
    registry.ObjectType(
        "sales.contract", Contract, CONTRACT_FIELDS, url_name="sales:contract_detail", parent_attr="customer"
    )
)
registry.register(
    registry.ObjectType(
        "sales.payment",
        Payment,
        PAYMENT_FIELDS,
        custom_fields=False,
        url_name="sales:payment_detail",
        parent_attr="customer",
        name_fields=("amount", "currency"),
    )
)
# settings objects: actions only, no owner or data scope
registry.register(
    registry.ObjectType(
        "sales.pipeline",
        Pipeline,
        ("code", "name_en", "name_zh", "order", "is_default", "active", "currency", "stages"),
        custom_fields=False,
        owned=False,
    )
)
registry.register(
    registry.ObjectType(
        "sales.product",
        Product,
        ("name", "sku", "series", "unit", "description", "active"),
        custom_fields=False,
        owned=False,
    )
)
registry.register(
    registry.ObjectType(
        "sales.pricelist",
        PriceList,
        ("name", "currency", "is_default", "active", "items"),
        custom_fields=False,
        owned=False,
        data_fields=(("*", "items"),),  # set_prices(): {sku: [old price, new price]}
    )
)
registry.register(
    registry.ObjectType(
        "sales.target",
        Target,
        ("period", "start", "user", "team", "amount", "deals", "currency"),
        custom_fields=False,
        # a rep's target belongs to the rep and the rep's team, a team's target to the team: a grant's data scope
        # says whose targets a role may see and set (seed: a sales manager, their own team's)
        owner_fields=("user",),
        team_fields=("team", "user__team"),
    )
)


def opportunity_document(opp: Opportunity) -> search.Document:
    customer = opp.customer.name if opp.customer_id and opp.customer else ""
    return search.Document(
        title=opp.name,
        parts=[("customer", customer)],
        fields={"name": search.text_tokens(opp.name), "customer": search.text_tokens(customer)},
    )


search.register("sales.opportunity", opportunity_document, label=_("Opportunity"), icon="bi-briefcase")


def lead_document(lead: Lead) -> search.Document:
    return search.Document(
        title=lead.name,
        parts=[("company", lead.company)],
        fields={
            "name": search.text_tokens(lead.name),
            "company": search.text_tokens(lead.company),
            "email": search.email_tokens(lead.email) if lead.email else set(),
            "phone": search.phone_tokens(lead.phone) if lead.phone else set(),
            "wechat": search.text_tokens(lead.wechat),
        },
    )


search.register("sales.lead", lead_document, label=_("Lead"), icon="bi-funnel")
