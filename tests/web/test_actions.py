"""Bulk actions that respect the gate, and the lead workflow: qualify, disqualify, duplicates, convert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kehu.core.models import Event
from kehu.customers.models import Contact, Customer, Tag
from kehu.sales.models import Lead
from kehu.users.models import User
from tests.web.helpers import make_contact, make_customer, make_lead, snapshot, text

pytestmark = pytest.mark.django_db


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_bulk_stage_changes_only_own_records(users: dict[str, User], login: Callable[[str], Client]) -> None:
    mine = [make_customer(users["rep"], f"我的{i}") for i in range(2)]
    theirs = make_customer(users["rep2"], "别人的")
    ids = [c.pk for c in mine] + [theirs.pk, 999999]
    response = login("rep").post(
        "/customers/bulk/", {"ids": ids, "action": "stage", "stage": "retained", "next": "/customers/"}, follow=True
    )
    assert messages_of(response) == ["2 records changed.", "2 records were skipped: you may not change them."]
    assert set(Customer.objects.filter(lifecycle_stage="retained").values_list("pk", flat=True)) == {c.pk for c in mine}
    theirs.refresh_from_db()
    assert theirs.lifecycle_stage == "prospect" and theirs.version == 1


def test_bulk_tag_changes_only_own_records(users: dict[str, User], login: Callable[[str], Client]) -> None:
    mine = make_customer(users["rep"], "我的")
    theirs = make_customer(users["rep2"], "别人的")
    response = login("rep").post(
        "/customers/bulk/", {"ids": [mine.pk, theirs.pk], "action": "tag", "tag": "重点客户"}, follow=True
    )
    assert messages_of(response) == ["1 records changed.", "1 records were skipped: you may not change them."]
    assert list(mine.tags.values_list("name", flat=True)) == ["重点客户"]
    assert not theirs.tags.exists()
    assert Tag.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "kind"), [("/customers/bulk/", "customer"), ("/contacts/bulk/", "contact"), ("/leads/bulk/", "lead")]
)
def test_bulk_assign_respects_scope(
    url: str, kind: str, users: dict[str, User], login: Callable[[str], Client]
) -> None:
    make: Any = {"customer": make_customer, "contact": make_contact, "lead": make_lead}[kind]
    team_record = make(users["rep"], "团队的")
    sub_team_record = make(users["rep_hz"], "子团队的")
    hq_record = make(users["admin"], "总部的")
    response = login("manager").post(
        url,
        {"ids": [team_record.pk, sub_team_record.pk, hq_record.pk], "action": "assign", "owner": users["rep2"].pk},
        follow=True,
    )
    assert messages_of(response) == ["2 records changed.", "1 records were skipped: you may not change them."]
    model = type(team_record)
    assert set(model.objects.filter(owner=users["rep2"]).values_list("pk", flat=True)) == {
        team_record.pk,
        sub_team_record.pk,
    }
    hq_record.refresh_from_db()
    assert hq_record.owner == users["admin"]


def test_rep_without_assign_permission_skips_everything(users: dict[str, User], login: Callable[[str], Client]) -> None:
    mine = make_customer(users["rep"], "我的")
    before = snapshot()
    response = login("rep").post(
        "/customers/bulk/", {"ids": [mine.pk], "action": "assign", "owner": users["rep2"].pk}, follow=True
    )
    assert "1 records were skipped: you may not change them." in messages_of(response)
    assert snapshot() == before
    mine.refresh_from_db()
    assert mine.owner == users["rep"]


def test_bulk_without_selection_or_action(users: dict[str, User], login: Callable[[str], Client]) -> None:
    mine = make_customer(users["rep"], "我的")
    client = login("rep")
    assert messages_of(client.post("/customers/bulk/", {"action": "stage", "stage": "lost"}, follow=True)) == [
        "Select at least one record."
    ]
    assert messages_of(client.post("/customers/bulk/", {"ids": [mine.pk], "action": "drop"}, follow=True)) == [
        "Choose an action."
    ]
    assert messages_of(
        client.post("/leads/bulk/", {"ids": [mine.pk], "action": "stage", "stage": "lost"}, follow=True)
    ) == ["Choose an action."]


# --------------------------------------------------------------------------- leads


def test_qualify_and_disqualify(users: dict[str, User], login: Callable[[str], Client]) -> None:
    lead = make_lead(users["rep"], "赵敏", company="明教")
    client = login("rep")
    response = client.post(f"/leads/{lead.pk}/qualify/", follow=True)
    assert "Lead qualified." in messages_of(response)
    lead.refresh_from_db()
    assert lead.status == "qualified"
    before = snapshot()
    response = client.post(f"/leads/{lead.pk}/disqualify/", {"reason": "", "note": "没理由"}, follow=True)
    assert "Give a reason for disqualifying this lead." in messages_of(response)
    response = client.post(f"/leads/{lead.pk}/disqualify/", {"reason": "made_up"}, follow=True)
    assert "is not a disqualification reason" in messages_of(response)[0]
    lead.refresh_from_db()
    assert lead.status == "qualified" and snapshot() == before
    response = client.post(f"/leads/{lead.pk}/disqualify/", {"reason": "no_budget", "note": "明年再说"}, follow=True)
    assert "Lead disqualified." in messages_of(response)
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason, lead.disqualify_note) == ("disqualified", "no_budget", "明年再说")
    html = text(client.get(f"/leads/{lead.pk}/"))
    assert "No budget" in html and "明年再说" in html
    # a disqualified lead cannot be converted until qualified again
    response = client.post(f"/leads/{lead.pk}/convert/", {"target": "new"})
    assert "Qualify this lead again before converting it." in text(response)
    assert not Customer.objects.exists()


def test_convert_to_new_customer(users: dict[str, User], login: Callable[[str], Client]) -> None:
    lead = make_lead(
        users["rep"], "周杰", company="宁波海通贸易有限公司", email="zhoujie@haitong.example", phone="13911112222"
    )
    client = login("rep")
    assert "Create a new customer" in text(client.get(f"/leads/{lead.pk}/convert/"))
    response = client.post(f"/leads/{lead.pk}/convert/", {"target": "new"})
    customer = Customer.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    contact = Contact.objects.get()
    lead.refresh_from_db()
    assert customer.name == "宁波海通贸易有限公司" and customer.owner == users["rep"]
    assert contact.customer == customer and contact.name == "周杰"
    assert {(c.kind, c.normalized) for c in contact.channels.all()} == {
        ("email", "zhoujie@haitong.example"),
        ("phone", "+8613911112222"),
    }
    assert (lead.status, lead.converted_customer, lead.converted_contact) == ("converted", customer, contact)
    page = client.get(f"/customers/{customer.pk}/")
    lead_events = [t for t in page.context["timeline"] if t.object_type and t.object_type.key == "sales.lead"]
    assert {t.event.verb for t in lead_events} == {"created", "converted"}
    assert f"/leads/{lead.pk}/" in text(page)
    # converting twice is refused
    response = client.post(f"/leads/{lead.pk}/convert/", {"target": "new"})
    assert "This lead is already converted." in text(response)
    assert Customer.objects.count() == 1


def test_duplicate_warning_and_convert_onto_existing_customer(
    users: dict[str, User], login: Callable[[str], Client]
) -> None:
    rep = users["rep"]
    existing = make_customer(rep, "深圳前海微众科技有限公司")
    known = make_contact(rep, "张伟", existing, channels=[{"kind": "email", "value": "Zhang.Wei@WeiZhong.example"}])
    lead = make_lead(rep, "张伟", company="微众", email="zhang.wei@weizhong.example")
    client = login("rep")
    html = text(client.get(f"/leads/{lead.pk}/"))
    assert "This lead may already be a customer:" in html
    assert f"/customers/{existing.pk}/" in html and f"/contacts/{known.pk}/" in html
    page = text(client.get(f"/leads/{lead.pk}/convert/"))
    assert f'value="customer:{existing.pk}"' in page and f'value="{known.pk}"' in page
    response = client.post(f"/leads/{lead.pk}/convert/", {"target": f"customer:{existing.pk}", "contact": known.pk})
    assert response["Location"] == f"/customers/{existing.pk}/"
    assert Customer.objects.count() == 1 and Contact.objects.count() == 1
    lead.refresh_from_db()
    assert (lead.converted_customer, lead.converted_contact) == (existing, known)
    timeline = client.get(f"/customers/{existing.pk}/").context["timeline"]
    assert any(t.object_type and t.object_type.key == "sales.lead" and t.event.verb == "converted" for t in timeline)


def test_duplicate_check_does_not_reveal_other_reps_customers(
    users: dict[str, User], login: Callable[[str], Client]
) -> None:
    theirs = make_customer(users["rep2"], "别人的客户")
    make_contact(users["rep2"], "张伟", theirs, channels=[{"kind": "email", "value": "zw@secret.example"}])
    lead = make_lead(users["rep"], "张伟", email="zw@secret.example")
    html = text(login("rep").get(f"/leads/{lead.pk}/"))
    assert "This lead may already be a customer" not in html and "别人的客户" not in html
    before = snapshot()
    response = login("rep").post(f"/leads/{lead.pk}/convert/", {"target": f"customer:{theirs.pk}"})
    assert "You do not have permission to do this." in text(response)
    assert snapshot() == before and Lead.objects.get().status == "new"
    assert not Event.objects.filter(verb="converted").exists()
