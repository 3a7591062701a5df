"""The lists of quotes, orders, contracts and payments (columns, filters, sorts) for kehu.core.lists."""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.lists import Filter, ObjectList
from kehu.sales.lists import by_customer
from kehu.sales.models import Contract, Payment, Quote, SalesOrder

QUOTE_LIST = ObjectList(
    object_type="sales.quote",
    title=_("Quotes"),
    columns=["number", "title", "customer", "status", "total", "valid_until", "owner", "updated_at"],
    available=[
        "number",
        "revision",
        "title",
        "customer",
        "opportunity",
        "status",
        "currency",
        "subtotal",
        "total",
        "valid_until",
        "language",
        "owner",
        "team",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("status", _("Status"), choices=Quote.Status.choices),
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("number", pgettext_lazy("document", "Number"), kind="text"),
        Filter("currency", _("Currency"), kind="text"),
        Filter("valid_until", _("Valid until"), kind="date"),
        Filter("created_at", _("Created"), kind="date"),
        Filter("updated_at", _("Last changed"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "number", "total", "status"],
    select_related=("customer", "owner"),
    new_url=reverse_lazy("sales:quote_create"),
)

ORDER_LIST = ObjectList(
    object_type="sales.salesorder",
    title=_("Sales orders"),
    columns=["number", "customer", "status", "ordered_on", "total", "paid_amount", "owner"],
    available=[
        "number",
        "customer",
        "quote",
        "opportunity",
        "status",
        "ordered_on",
        "currency",
        "subtotal",
        "total",
        "paid_amount",
        "owner",
        "team",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("status", _("Status"), choices=SalesOrder.Status.choices),
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("number", pgettext_lazy("document", "Number"), kind="text"),
        Filter("ordered_on", _("Order date"), kind="date"),
        Filter("updated_at", _("Last changed"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "ordered_on", "number", "total"],
    select_related=("customer", "owner"),
)

CONTRACT_LIST = ObjectList(
    object_type="sales.contract",
    title=_("Contracts"),
    columns=["number", "title", "customer", "kind", "status", "start_date", "end_date", "value", "owner"],
    available=[
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
        "owner",
        "team",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("status", _("Status"), choices=Contract.Status.choices),
        Filter("kind", _("Kind"), choices=Contract.Kind.choices),
        Filter("customer", _("Customer"), kind="text", apply=lambda qs, v: by_customer(qs, "customer", v)),
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("start_date", _("Start"), kind="date"),
        Filter("renewal_date", _("Renewal date"), kind="date"),
        Filter("end_date", _("End"), kind="date"),
        Filter("updated_at", _("Last changed"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "start_date", "number", "value"],
    select_related=("customer", "owner"),
    new_url=reverse_lazy("sales:contract_create"),
)

PAYMENT_LIST = ObjectList(
    object_type="sales.payment",
    title=_("Payments"),
    columns=["customer", "sales_order", "contract", "status", "amount", "currency", "due_date", "received_on"],
    available=[
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
        "owner",
        "team",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("status", _("Status"), choices=Payment.Status.choices),
        Filter("method", _("Method"), choices=Payment.Method.choices),
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("due_date", _("Due date"), kind="date"),
        Filter("received_on", _("Received on"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "amount"],
    default_sort="-updated_at",
    select_related=("customer", "sales_order", "contract"),
)
