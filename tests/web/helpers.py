"""Helpers of the web UI tests: records made through the services, and row counts for "nothing saved"."""

from __future__ import annotations

from typing import Any

from kehu.core.models import Event
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.sales import services as sales_services
from kehu.sales.models import Lead
from kehu.users.models import User


def make_customer(owner: User, name: str = "上海示例科技有限公司", **data: Any) -> Customer:
    return customer_services.create_customer(actor=owner, data={"name": name, **data})


def make_contact(owner: User, name: str = "张伟", customer: Customer | None = None, **kw: Any) -> Contact:
    channels = kw.pop("channels", [])
    return customer_services.create_contact(
        actor=owner, data={"name": name, "customer": customer, **kw}, channels=channels
    )


def make_lead(owner: User, name: str = "李娜", **data: Any) -> Lead:
    return sales_services.create_lead(actor=owner, data={"name": name, **data})


def snapshot() -> tuple[int, int, int, int]:
    """Row counts that a refused form must leave as they were."""
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        Lead.objects.count(),
        Event.objects.exclude(verb="logged_in").count(),
    )


def text(response: Any) -> str:
    return response.content.decode()
