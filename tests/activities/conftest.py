"""Fixtures of the follow-up and task tests: records of the east rep, signed-in clients, an opportunity maker.

Teams (tests/conftest.py): 销售部 sales → 华东区 east → 上海组 shanghai, and sales → 华南区 south. The `manager`
leads sales (sees everything below it), `east_manager` sees east and shanghai, `rep` is in east, `rep_south` in
south.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kehu.customers import services as customer_services
from kehu.sales import services as sales_services
from kehu.users.models import User


@pytest.fixture
def users(role_users: dict[str, User]) -> dict[str, User]:
    return role_users


@pytest.fixture
def login(users: dict[str, User]) -> Callable[[str], Client]:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    return make


@pytest.fixture
def records(users: dict[str, User]) -> dict[str, Any]:
    """The rep's customer with a contact, an opportunity on it, and an open lead."""
    rep = users["rep"]
    customer = customer_services.create_customer(actor=rep, data={"name": "杭州云帆科技有限公司"})
    contact = customer_services.create_contact(actor=rep, data={"name": "张伟", "customer": customer}, channels=[])
    opp = sales_services.create_opportunity(actor=rep, data={"name": "云帆 CRM 续约", "customer": customer})
    lead = sales_services.create_lead(actor=rep, data={"name": "李娜", "company": "宁波海港"})
    return {"customer": customer, "contact": contact, "opportunity": opp, "lead": lead}
