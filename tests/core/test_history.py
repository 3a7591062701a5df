"""Reading the event log on pages: the record timeline and the record's history page.

Fields a role hides stay hidden in an event's extra data too (a disqualification's reason); values read as
people write them (pick list labels, contact channels by kind, amounts with their currency); the history page
lists every change in full, a keyset page at a time, only for records the user may see.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.core import events, queries
from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.sales import services as sales_services
from kehu.sales.models import Opportunity, Stage
from kehu.users.models import Role, RolePermission, User

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def text(response: Any) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def hide(role_code: str, object_type: str, *fields: str) -> None:
    grant = RolePermission.objects.get(role=Role.objects.get(code=role_code), object_type=object_type)
    grant.field_rules = {**grant.field_rules, **dict.fromkeys(fields, "hidden")}
    grant.save()


def timeline_of(page: str) -> str:
    return page[page.index('id="timeline"') :]


def history_url(key: str, pk: int, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/history/{key}/{pk}/" + (f"?{query}" if query else "")


def test_hidden_reason_is_not_shown_on_the_timeline_nor_the_history(
    role_users: dict[str, User], lead_factory: Any
) -> None:
    rep, manager = role_users["rep"], role_users["east_manager"]
    lead = lead_factory(owner=rep, name="预算线索")
    sales_services.disqualify(actor=manager, lead=lead, reason="no_budget")
    # the manager reads the reason by its label, not its code
    page = timeline_of(text(client_for(manager).get(f"/leads/{lead.pk}/")))
    assert "Reason: No budget" in page and "no_budget" not in page
    hide("sales_rep", "sales.lead", "disqualify_reason")
    lead_page = timeline_of(text(client_for(rep).get(f"/leads/{lead.pk}/")))
    history = text(client_for(rep).get(history_url("sales.lead", lead.pk)))
    for page in (lead_page, history):
        assert "disqualified" in page  # the event itself is there
        assert "No budget" not in page and "no_budget" not in page
        assert "Reason" not in page and "Disqualification reason" not in page


def test_timeline_shows_labels_channels_and_amounts_with_currency(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any
) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="标签客户")
    contact_factory(
        owner=rep,
        customer=customer,
        name="王芳",
        channels=[{"kind": "email", "value": "wf@example.com"}, {"kind": "phone", "value": "13812345678"}],
    )
    opp = sales_services.create_opportunity(
        actor=rep, data={"name": "大单", "customer": customer, "amount": "69890.50"}
    )
    lost = Stage.objects.get(pipeline=opp.pipeline, kind=Stage.Kind.LOST)
    sales_services.move_stage(actor=rep, opp=opp, stage=lost, loss_reason="product_fit")
    client = client_for(rep)
    for url in (f"/customers/{customer.pk}/", history_url("customers.customer", customer.pk)):
        page = text(client.get(url))
        assert "Product does not fit" in page and "product_fit" not in page
        assert "E-mail: wf@example.com" in page and "Phone: 138 1234 5678" in page
        assert "email:" not in page and "phone:+86" not in page
        assert "69,890.50 CNY" in page and "69890.50" not in page
    page = text(client.get(f"/opportunities/{opp.pk}/"))
    assert "Product does not fit" in page and "69,890.50 CNY" in page
    assert "Probability (%):</span> <del>10</del> → 0" in page  # a zero is a value, not an empty "—"


def test_history_lists_every_change_in_full_and_is_linked_from_the_timeline(
    role_users: dict[str, User], customer_factory: Any
) -> None:
    rep = role_users["rep"]
    long_text = "这是一段很长的客户描述，" * 12  # well over the timeline's 80 characters
    customer = customer_services.create_customer(
        actor=rep,
        data={
            "name": "全字段客户",
            "kind": "company",
            "industry": "technology",
            "source": "website",
            "country": "CN",
            "province": "浙江省",
            "city": "杭州",
            "address": "文三路 1 号",
            "website": "https://example.com",
            "description": long_text,
            "size_tier": "large",
        },
    )
    client = client_for(rep)
    detail = text(client.get(f"/customers/{customer.pk}/"))
    full = history_url("customers.customer", customer.pk)
    assert f'href="{full}"' in detail and "Full history" in detail
    more = re.search(r'<a href="([^"]+)">and (\d+) more fields</a>', detail)
    assert more, "the 'and N more fields' line links to the history"
    page = text(client.get(more.group(1).replace("&amp;", "&")))
    assert long_text in page  # in full, not cut
    for label, value in (("Industry", "Technology"), ("Size", "Large"), ("Address", "文三路 1 号"), ("City", "杭州")):
        assert re.search(rf">{label}</th> <td[^>]*><div>{re.escape(value)}</div>", page), label
    assert f'id="event-{customer_events(customer)[0].pk}"' in page


def customer_events(customer: Customer) -> list[Any]:
    from kehu.core.models import Event

    return list(Event.objects.filter(content_type__model="customer", object_id=customer.pk).order_by("id"))


def test_history_is_keyset_paged_without_counting(
    role_users: dict[str, User], customer_factory: Any, monkeypatch: Any
) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="翻页客户")
    for i in range(6):
        customer_services.update_customer(actor=rep, customer=customer, values={"city": f"城市{i}"})
    monkeypatch.setattr(queries, "HISTORY_PAGE", 3)
    client = client_for(rep)
    seen: list[str] = []
    url: str | None = history_url("customers.customer", customer.pk)
    pages = 0
    while url:
        with CaptureQueriesContext(connection) as ctx:
            page = text(client.get(url))
        events_sql = [q["sql"].upper() for q in ctx.captured_queries if "CORE_EVENT" in q["sql"].upper()]
        assert events_sql and not any("COUNT(" in sql for sql in events_sql)
        seen += re.findall(r'id="event-(\d+)"', page)
        nxt = re.search(r'href="\?(cursor=[^"]+)"', page)
        url = history_url("customers.customer", customer.pk) + "?" + nxt.group(1) if nxt else None
        pages += 1
    ids = [e.pk for e in customer_events(customer)]
    assert [int(i) for i in seen] == sorted(ids, reverse=True)  # newest first, each once
    assert pages == 3
    oldest = text(client.get(history_url("customers.customer", customer.pk, order="oldest")))
    assert [int(i) for i in re.findall(r'id="event-(\d+)"', oldest)] == ids[:3]
    assert client.get(history_url("customers.customer", customer.pk, cursor="forged")).status_code == 400


def test_history_is_404_outside_scope_and_for_unknown_types(role_users: dict[str, User], customer_factory: Any) -> None:
    theirs = customer_factory(owner=role_users["rep_south"], name="别人的客户")
    client = client_for(role_users["rep"])
    assert client.get(history_url("customers.customer", theirs.pk)).status_code == 404
    assert client.get(history_url("customers.customer", 10**9)).status_code == 404
    assert client.get(history_url("no.such", theirs.pk)).status_code == 404
    assert client.get(history_url("sales.salesorder", 1)).status_code == 404
    # their sales manager sees it (the south team is under sales)
    assert client_for(role_users["manager"]).get(history_url("customers.customer", theirs.pk)).status_code == 200
    anonymous = Client().get(history_url("customers.customer", theirs.pk))
    assert anonymous.status_code == 302


def test_history_empty_state(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    customer = Customer.objects.create(name="没有历史的客户", owner=rep, team=rep.team)  # made outside a service
    page = text(client_for(rep).get(history_url("customers.customer", customer.pk)))
    assert "No history yet." in page


def test_history_shows_child_records_events_the_user_may_see(
    role_users: dict[str, User], customer_factory: Any, contact_factory: Any
) -> None:
    rep = role_users["rep"]
    customer = customer_factory(owner=rep, name="父客户")
    contact_factory(owner=rep, customer=customer, name="子联系人")
    page = text(client_for(rep).get(history_url("customers.customer", customer.pk)))
    assert "子联系人" in page and "contact" in page


def test_sign_ins_stay_off_a_users_history_for_non_administrators(role_users: dict[str, User]) -> None:
    rep, admin = role_users["rep"], role_users["admin"]
    with transaction.atomic():
        events.record(actor=rep_sh(role_users), obj=rep_sh(role_users), verb="logged_in", data={"ip": "10.9.8.7"})
    url = history_url("users.user", rep_sh(role_users).pk)
    assert "10.9.8.7" not in text(client_for(rep).get(url))
    assert "logged in" not in text(client_for(rep).get(url))
    assert "logged in" in text(client_for(admin).get(url))


def rep_sh(role_users: dict[str, User]) -> User:
    return role_users["rep_sh"]


def test_opportunity_timeline_hides_stage_moves_data_with_the_stage(
    role_users: dict[str, User], customer_factory: Any
) -> None:
    rep = role_users["rep"]
    opp = sales_services.create_opportunity(
        actor=rep, data={"name": "阶段隐藏", "customer": customer_factory(owner=rep), "amount": "100"}
    )
    target = Stage.objects.filter(pipeline=opp.pipeline, kind=Stage.Kind.OPEN).exclude(pk=opp.stage_id).first()
    assert target is not None
    sales_services.move_stage(actor=rep, opp=Opportunity.objects.get(pk=opp.pk), stage=target)
    hide("sales_rep", "sales.opportunity", "stage")
    entries = queries.timeline(User.objects.get(pk=rep.pk), Opportunity.objects.get(pk=opp.pk))
    moved = [t for t in entries if t.event is not None and t.event.verb == "stage_changed"]
    assert moved and all(t.data == {} for t in moved)
    assert all(c.field != "stage" for t in moved for c in t.changes)


def test_api_tokens_made_and_revoked_stay_off_a_users_history_for_non_administrators(
    role_users: dict[str, User],
) -> None:
    from kehu.users import services as user_services
    from kehu.users.models import ApiToken

    owner = rep_sh(role_users)
    raw = user_services.create_token(user=owner, name="laptop")
    prefix = raw[5:11]
    user_services.revoke_token(actor=owner, token=ApiToken.objects.get(prefix=prefix))
    url = history_url("users.user", owner.pk)
    seen_by_rep = text(client_for(role_users["rep"]).get(url))
    assert prefix not in seen_by_rep and "API token" not in seen_by_rep
    seen_by_admin = text(client_for(role_users["admin"]).get(url))
    assert "created an API token" in seen_by_admin and "revoked an API token" in seen_by_admin
    feed = client_for(role_users["rep"]).get("/api/v1/events/").json()["results"]
    assert not [e for e in feed if e["verb"] in ("token_created", "token_revoked")]
    admin_feed = client_for(role_users["admin"]).get("/api/v1/events/").json()["results"]
    assert {e["verb"] for e in admin_feed if e["object_id"] == owner.pk} >= {"token_created", "token_revoked"}
