"""Query counts of the busiest pages do not grow with the number of rows (no N+1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.sales import services as sales_services
from kehu.users.models import User
from tests.web.helpers import make_contact, make_customer, make_lead

pytestmark = pytest.mark.django_db

LIST_MAX_QUERIES = 12


def count(client: Client, url: str, **params: Any) -> int:
    client.get(url, params)  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def fill_customers(owner: User, n: int, tags: list[Any]) -> None:
    for i in range(n):
        customer_services.create_customer(
            actor=owner, data={"name": f"客户{i:03d}", "industry": "technology", "city": "杭州"}, tags=tags
        )


@pytest.mark.parametrize("username", ["rep", "manager", "admin"])
def test_customer_list_query_count_is_fixed(
    username: str, users: dict[str, User], login: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    owner = users["rep"]
    tags = [customer_services.get_or_create_tag(actor=owner, name=n) for n in ("重点", "华东")]
    fill_customers(owner, 5, tags)
    client = login(username)
    cols = "name,lifecycle_stage,industry,city,owner,team,tags,updated_at"
    small = count(client, "/customers/", cols=cols)
    fill_customers(owner, 55, tags)
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        response = client.get("/customers/", {"cols": cols})
    assert len(response.context["objects"]) == 50
    assert count(client, "/customers/", cols=cols) == small
    # filtered, sorted and on its second page too
    first = client.get("/customers/", {"lifecycle_stage": "prospect", "sort": "name"})
    cursor = first.context["next_cursor"]
    assert cursor
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        client.get("/customers/", {"lifecycle_stage": "prospect", "sort": "name", "cursor": cursor})


@pytest.mark.parametrize("url", ["/contacts/", "/leads/"])
def test_contact_and_lead_lists_query_count_is_fixed(
    url: str, users: dict[str, User], login: Callable[[str], Client]
) -> None:
    rep = users["rep"]
    customer = make_customer(rep, "联系人的公司")

    def fill(n: int) -> None:
        for i in range(n):
            if url == "/contacts/":
                make_contact(rep, f"联系人{i}", customer)
            else:
                make_lead(rep, f"线索{i}", company="某公司")

    fill(5)
    client = login("rep")
    cols = "name,customer,owner,team,updated_at" if url == "/contacts/" else "name,company,status,owner,team"
    small = count(client, url, cols=cols)
    fill(50)
    assert count(client, url, cols=cols) == small <= LIST_MAX_QUERIES


def make_history(customer: Customer, users: dict[str, User], n: int) -> None:
    """About `n` timeline events of several kinds: field edits, stage moves, owner changes, contacts, tags."""
    rep, manager = users["rep"], users["manager"]
    stages = ["new", "retained", "at_risk", "retained"]
    for i in range(n):
        step = i % 5
        if step == 0:
            customer_services.update_customer(actor=manager, customer=customer, values={"city": f"城市{i}"})
        elif step == 1:
            customer_services.change_stage(actor=manager, customer=customer, stage=stages[i % 4])
        elif step == 2:
            new_owner = users["rep_hz"] if customer.owner == rep else rep
            customer_services.assign(actor=manager, obj=customer, owner=new_owner)
        elif step == 3:
            make_contact(manager, f"联系人{i}", customer)
        else:
            tag = customer_services.get_or_create_tag(actor=manager, name=f"标签{i}")
            customer_services.add_tags(actor=manager, obj=customer, tags=[tag])


def timeline_len(client: Client, customer: Customer) -> int:
    return len(client.get(f"/customers/{customer.pk}/").context["timeline"])


def customer_with_history(users: dict[str, User], n: int) -> Customer:
    customer = make_customer(users["rep"], f"三六零公司{n}")
    make_history(customer, users, n)
    lead = make_lead(users["manager"], f"来源线索{n}", company="三六零公司")
    sales_services.qualify(actor=users["manager"], lead=lead)
    sales_services.convert(actor=users["manager"], lead=lead, customer=customer)  # lead events are the newest
    return customer


def test_customer_360_query_count_is_fixed(users: dict[str, User], login: Callable[[str], Client]) -> None:
    few_events = customer_with_history(users, 20)
    many_events = customer_with_history(users, 230)
    client = login("manager")
    assert 20 <= timeline_len(client, few_events) < 60
    assert timeline_len(client, many_events) == 200
    few = count(client, f"/customers/{few_events.pk}/")
    many = count(client, f"/customers/{many_events.pk}/")
    assert many == few, (few, many)


def test_contact_and_lead_pages_query_count_is_fixed(users: dict[str, User], login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    contact = make_contact(rep, "历史联系人")
    lead = make_lead(rep, "历史线索")
    client = login("rep")

    def edits(n: int) -> None:
        for i in range(n):
            customer_services.update_contact(actor=rep, contact=contact, values={"title": f"职位{i}"})
            sales_services.update_lead(actor=rep, lead=lead, values={"city": f"城市{i}"})

    edits(3)
    few = (count(client, f"/contacts/{contact.pk}/"), count(client, f"/leads/{lead.pk}/"))
    edits(40)
    assert (count(client, f"/contacts/{contact.pk}/"), count(client, f"/leads/{lead.pk}/")) == few


def test_follow_up_cards_on_the_timeline_keep_the_query_count(
    users: dict[str, User], login: Callable[[str], Client]
) -> None:
    from kehu.activities import services as activity_services

    rep = users["rep"]
    customer = make_customer(rep, "跟进记录公司")
    contact = make_contact(rep, "跟进联系人", customer)

    def follow_ups(n: int) -> None:
        for i in range(n):
            activity_services.log_activity(
                actor=rep, data={"kind": "call", "subject": f"电话{i}", "contact": contact, "next_step": "回访"}
            )
            activity_services.create_task(actor=rep, data={"title": f"任务{i}", "customer": customer})

    follow_ups(2)
    client = login("manager")
    few = (count(client, f"/customers/{customer.pk}/"), count(client, f"/contacts/{contact.pk}/"))
    follow_ups(30)
    assert (count(client, f"/customers/{customer.pk}/"), count(client, f"/contacts/{contact.pk}/")) == few
    timeline = client.get(f"/customers/{customer.pk}/").context["timeline"]
    assert sum(1 for entry in timeline if entry.template) == 32
