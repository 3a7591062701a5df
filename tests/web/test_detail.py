"""Record pages: 404 outside the user's scope, finance fields hidden from reps, the 360° customer page and its
timeline through the gate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.sales import services as sales_services
from kehu.sales.models import Lead
from kehu.users.models import User
from tests.web.helpers import make_contact, make_customer, make_lead, snapshot, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def others(users: dict[str, User]) -> dict[str, Any]:
    """Records of rep2 (another team) that rep must not reach."""
    customer = make_customer(users["rep2"], "北京别人的公司")
    return {
        "customer": customer,
        "contact": make_contact(users["rep2"], "别人", customer),
        "lead": make_lead(users["rep2"], "别人的线索"),
    }


def urls(o: dict[str, Any], owner_pk: int) -> list[tuple[str, str, dict[str, Any]]]:
    c, p, lead = o["customer"].pk, o["contact"].pk, o["lead"].pk
    return [
        ("get", f"/customers/{c}/", {}),
        ("get", f"/customers/{c}/edit/", {}),
        ("post", f"/customers/{c}/edit/", {"name": "x", "kind": "company", "lifecycle_stage": "new"}),
        ("post", f"/customers/{c}/assign/", {"owner": owner_pk}),
        ("post", f"/customers/{c}/stage/", {"stage": "lost"}),
        ("post", f"/customers/{c}/delete/", {}),
        ("get", f"/contacts/{p}/", {}),
        ("get", f"/contacts/{p}/edit/", {}),
        ("post", f"/contacts/{p}/edit/", {"name": "x"}),
        ("post", f"/contacts/{p}/assign/", {"owner": owner_pk}),
        ("post", f"/contacts/{p}/delete/", {}),
        ("get", f"/leads/{lead}/", {}),
        ("get", f"/leads/{lead}/edit/", {}),
        ("post", f"/leads/{lead}/edit/", {"name": "x"}),
        ("post", f"/leads/{lead}/qualify/", {}),
        ("post", f"/leads/{lead}/disqualify/", {"reason": "spam"}),
        ("post", f"/leads/{lead}/assign/", {"owner": owner_pk}),
        ("get", f"/leads/{lead}/convert/", {}),
        ("post", f"/leads/{lead}/convert/", {"target": "new"}),
        ("post", f"/leads/{lead}/delete/", {}),
    ]


def test_other_reps_records_are_404_everywhere(
    others: dict[str, Any], users: dict[str, User], login: Callable[[str], Client]
) -> None:
    client = login("rep")
    before = snapshot()
    versions = {m: list(m.objects.values_list("pk", "version")) for m in (Customer, Contact, Lead)}
    for method, url, data in urls(others, users["rep"].pk):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
        assert "别人" not in text(response)
    assert snapshot() == before
    assert versions == {m: list(m.objects.values_list("pk", "version")) for m in (Customer, Contact, Lead)}


def test_missing_records_are_404_like_forbidden_ones(users: dict[str, User], login: Callable[[str], Client]) -> None:
    client = login("admin")
    for url in ("/customers/999999/", "/contacts/999999/", "/leads/999999/"):
        assert client.get(url).status_code == 404


def test_manager_reaches_sub_team_records(
    others: dict[str, Any], users: dict[str, User], login: Callable[[str], Client]
) -> None:
    hz = make_customer(users["rep_hz"], "杭州子团队客户")
    client = login("manager")
    assert client.get(f"/customers/{hz.pk}/").status_code == 200
    assert client.get(f"/customers/{others['customer'].pk}/").status_code == 200
    assert login("admin").get(f"/customers/{hz.pk}/").status_code == 200
    # the East rep does not see the Hangzhou rep's record: own scope, not team
    assert login("rep").get(f"/customers/{hz.pk}/").status_code == 404


@pytest.fixture
def financed(users: dict[str, User]) -> Customer:
    customer = make_customer(users["rep"], "杭州财务样例有限公司")
    customer_services.update_customer(
        actor=users["finance"],
        customer=customer,
        values={"credit_limit": "50000.00", "payment_terms": "60天月结", "bank_account": "6222020000001111"},
    )
    return customer


FINANCE_VALUES = ("50000", "50,000", "60天月结", "6222020000001111")
FINANCE_LABELS = ("Credit limit", "Payment terms", "Bank account", "credit_limit", "payment_terms", "bank_account")


def test_finance_fields_absent_for_rep_present_for_finance(financed: Customer, login: Callable[[str], Client]) -> None:
    for url in (f"/customers/{financed.pk}/", f"/customers/{financed.pk}/edit/"):
        html = text(login("rep").get(url))
        for needle in FINANCE_VALUES + FINANCE_LABELS:
            assert needle not in html, (url, needle)
    html = text(login("finance").get(f"/customers/{financed.pk}/"))
    for needle in ("50,000.00", "60天月结", "6222020000001111", "Credit limit", "Bank account"):
        assert needle in html, needle


def test_rep_timeline_hides_finance_changes(financed: Customer, users: dict, login: Callable[[str], Client]) -> None:
    response = login("rep").get(f"/customers/{financed.pk}/")
    html = text(response)
    for needle in FINANCE_VALUES + FINANCE_LABELS:
        assert needle not in html, needle
    entries = response.context["timeline"]
    by_finance = [t for t in entries if t.event.actor_id == users["finance"].pk]
    assert by_finance and all(not t.changes for t in by_finance)  # the entry stays, its values do not
    finance_html = text(login("finance").get(f"/customers/{financed.pk}/"))
    assert "Credit limit" in finance_html and "50,000" in finance_html
    # amounts in the timeline read as on the pages: grouped by thousands
    assert "50,000.00" in finance_html and "50,000" not in html


def test_rep_cannot_write_hidden_field_by_posting_it(financed: Customer, login: Callable[[str], Client]) -> None:
    client = login("rep")
    form = client.get(f"/customers/{financed.pk}/edit/").context["form"]
    data = {"name": financed.name, "kind": "company", "lifecycle_stage": financed.lifecycle_stage}
    data.update(version=form.initial.get("version") or financed.version, credit_limit="1.00", bank_account="hacked")
    response = client.post(f"/customers/{financed.pk}/edit/", data)
    assert response.status_code in (200, 302)
    financed.refresh_from_db()
    assert str(financed.credit_limit) == "50000.00" and financed.bank_account == "6222020000001111"


def test_360_page_shows_contacts_converted_leads_and_timeline(users: dict, login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    lead = make_lead(rep, "陈静", company="苏州云帆网络有限公司", email="chenjing@yunfan.example")
    sales_services.qualify(actor=rep, lead=lead)
    customer, contact, _opp = sales_services.convert(actor=rep, lead=lead)
    make_contact(rep, "刘洋", customer, title="采购经理")
    customer_services.change_stage(actor=rep, customer=customer, stage="retained")
    response = login("rep").get(f"/customers/{customer.pk}/")
    html = text(response)
    assert "苏州云帆网络有限公司" in html
    assert "陈静" in html and "刘洋" in html and "chenjing@yunfan.example" in html
    assert "Converted leads" in html and f"/leads/{lead.pk}/" in html
    assert {c.pk for c in response.context["contacts"]} == {contact.pk, customer.contacts.get(name="刘洋").pk}
    entries = response.context["timeline"]
    verbs = {(t.object_type.key if t.object_type else None, t.event.verb) for t in entries}
    assert ("sales.lead", "created") in verbs  # the lead's own history came along
    assert ("sales.lead", "qualified") in verbs
    assert ("sales.lead", "converted") in verbs
    assert ("customers.contact", "created") in verbs
    assert ("customers.customer", "stage_changed") in verbs
    assert "Retained" in html and "Timeline" in html


def test_360_page_of_another_user_lists_only_visible_contacts(users: dict, login: Callable[[str], Client]) -> None:
    rep, manager = users["rep"], users["manager"]
    customer = make_customer(rep, "共享公司")
    make_contact(rep, "我的联系人", customer)
    # owned by the manager, outside the rep's own scope
    customer_services.create_contact(actor=manager, owner=manager, data={"name": "经理的联系人", "customer": customer})
    html = text(login("rep").get(f"/customers/{customer.pk}/"))
    assert "我的联系人" in html and "经理的联系人" not in html


def test_timeline_keeps_out_records_the_user_cannot_see(users: dict, login: Callable[[str], Client]) -> None:
    rep, manager, admin = users["rep"], users["manager"], users["admin"]
    customer = make_customer(rep, "时间线公司")
    mine = make_contact(rep, "我删掉的联系人", customer)
    hidden = customer_services.create_contact(
        actor=manager, owner=manager, data={"name": "经理删掉的", "customer": customer}
    )
    customer_services.delete_contact(actor=admin, contact=mine)
    customer_services.delete_contact(actor=admin, contact=hidden)
    lead = make_lead(rep, "线索甲", company="时间线公司")
    sales_services.convert(actor=rep, lead=lead, customer=customer)
    rep_html = text(login("rep").get(f"/customers/{customer.pk}/"))
    assert "我删掉的联系人" in rep_html and "经理删掉的" not in rep_html
    assert "线索甲" in rep_html
    # the service agent sees every customer but no leads: the lead's entries stay out of their timeline
    agent = login("agent").get(f"/customers/{customer.pk}/")
    assert all(t.object_type is None or t.object_type.key != "sales.lead" for t in agent.context["timeline"])
    assert "经理删掉的" in text(agent)  # contacts: scope all
