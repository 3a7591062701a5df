"""Contacts (with channels) and leads (qualify, disqualify, convert, duplicates) through the API."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.customers import services as customer_services
from kehu.customers.models import Contact, ContactChannel
from kehu.sales.models import Lead
from tests.api.conftest import make_customer, make_lead

pytestmark = pytest.mark.django_db
CONTACTS = "/api/v1/contacts/"
LEADS = "/api/v1/leads/"


def test_contact_crud_with_channels(users: Any, rep_api: Any) -> None:
    customer = make_customer(users["rep"])
    body = {
        "customer": customer.pk,
        "name": "李娜",
        "title": "采购经理",
        "channels": [
            {"kind": "email", "value": "Li.Na@Example.com", "is_primary": True},
            {"kind": "phone", "value": "138 0013 8000", "label": "mobile"},
        ],
    }
    r = rep_api.post(CONTACTS, body)
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    chans = {c["kind"]: c for c in r.json()["channels"]}
    assert chans["email"]["normalized"] == "li.na@example.com" and chans["phone"]["normalized"] == "+8613800138000"
    assert rep_api.get(f"{CONTACTS}?customer={customer.pk}").json()["results"][0]["id"] == pk
    assert rep_api.get(f"{CONTACTS}?q=8000").json()["results"][0]["id"] == pk

    r = rep_api.patch(f"{CONTACTS}{pk}/", {"channels": [{"kind": "wechat", "value": "lina_wx"}]})
    assert r.status_code == 200, r.json()
    assert [c["kind"] for c in r.json()["channels"]] == ["wechat"]
    assert r.json()["version"] == 2

    r = rep_api.patch(f"{CONTACTS}{pk}/", {"channels": [{"kind": "email", "value": "not-an-email"}]})
    assert r.status_code == 400 and "channels.0.value" in r.json()["errors"]
    r = rep_api.patch(f"{CONTACTS}{pk}/", {"channels": [{"kind": "email", "value": "a@b.cn", "extra": 1}]})
    assert r.status_code == 400 and "channels.0.extra" in r.json()["errors"]
    assert list(ContactChannel.objects.filter(contact_id=pk).values_list("kind", flat=True)) == ["wechat"]

    assert rep_api.delete(f"{CONTACTS}{pk}/").status_code == 403  # reps may not delete
    assert rep_api.get(f"{CONTACTS}{pk}/").status_code == 200


def test_contact_of_invisible_customer_is_refused(users: Any, rep_api: Any) -> None:
    theirs = make_customer(users["rep2"])
    r = rep_api.post(CONTACTS, {"name": "王芳", "customer": theirs.pk})
    assert r.status_code == 400 and "customer" in r.json()["errors"]
    assert not Contact.objects.exists()


def test_contact_delete_and_scope(users: Any, client_for: Any) -> None:
    customer = make_customer(users["rep"])
    contact = customer_services.create_contact(actor=users["rep"], data={"name": "赵敏", "customer": customer})
    assert client_for("rep2").get(f"{CONTACTS}{contact.pk}/").status_code == 404
    assert client_for("manager").delete(f"{CONTACTS}{contact.pk}/").status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_lead_crud(users: Any, rep_api: Any) -> None:
    r = rep_api.post(LEADS, {"name": "陈静", "company": "苏州云帆", "email": "Chen@YunFan.cn", "phone": "13912345678"})
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    assert r.json()["email"] == "chen@yunfan.cn" and r.json()["phone"] == "+8613912345678"
    assert r.json()["status"] == "new" and r.json()["owner"] == users["rep"].pk
    r = rep_api.patch(f"{LEADS}{pk}/", {"status": "converted"})
    assert r.status_code == 400 and "status" in r.json()["errors"]
    assert Lead.objects.get(pk=pk).status == "new"
    r = rep_api.patch(f"{LEADS}{pk}/", {"phone": "12"})
    assert r.status_code == 400 and "phone" in r.json()["errors"]
    assert rep_api.get(f"{LEADS}?status=new").json()["results"][0]["id"] == pk
    assert rep_api.get(f"{LEADS}?q=chenjing").json()["results"][0]["id"] == pk
    assert rep_api.delete(f"{LEADS}{pk}/").status_code == 403


def test_lead_qualify_disqualify(users: Any, rep_api: Any) -> None:
    lead = make_lead(users["rep"])
    r = rep_api.post(f"{LEADS}{lead.pk}/disqualify/", {"reason": "no-budget-x"})
    assert r.status_code == 400 and "reason" in r.json()["errors"] and "disqualify_reason" not in r.json()["errors"]
    from kehu.core.models import PicklistOption

    reason = PicklistOption.objects.filter(list="disqualify_reason", active=True).first()
    assert reason is not None
    r = rep_api.post(f"{LEADS}{lead.pk}/disqualify/", {"reason": reason.value, "note": "预算不足"})
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "disqualified" and r.json()["disqualify_note"] == "预算不足"
    r = rep_api.post(f"{LEADS}{lead.pk}/qualify/")
    assert r.status_code == 200 and r.json()["status"] == "qualified"


def test_lead_convert_and_duplicates(users: Any, rep_api: Any) -> None:
    existing = make_customer(users["rep"], name="苏州云帆")
    contact = customer_services.create_contact(
        actor=users["rep"],
        data={"name": "陈静", "customer": existing},
        channels=[{"kind": "email", "value": "chen@yunfan.cn"}],
    )
    lead = make_lead(users["rep"], name="陈静", company="苏州云帆", email="chen@yunfan.cn")
    dup = rep_api.get(f"{LEADS}{lead.pk}/duplicates/").json()
    assert [c["id"] for c in dup["contacts"]] == [contact.pk]
    assert [c["id"] for c in dup["customers"]] == [existing.pk]

    r = rep_api.post(f"{LEADS}{lead.pk}/convert/", {"customer": existing.pk, "contact": contact.pk})
    assert r.status_code == 200, r.json()
    assert r.json() == {"customer": existing.pk, "contact": contact.pk, "opportunity": None}
    assert rep_api.get(f"{LEADS}{lead.pk}/").json()["status"] == "converted"
    assert rep_api.post(f"{LEADS}{lead.pk}/convert/", {}).status_code == 400

    fresh = make_lead(users["rep"], name="周杰", company="宁波港湾")
    r = rep_api.post(f"{LEADS}{fresh.pk}/convert/", {})
    assert r.status_code == 200
    assert Contact.objects.get(pk=r.json()["contact"]).customer_id == r.json()["customer"]


def test_lead_convert_can_open_the_deal_in_the_same_step(users: Any, rep_api: Any) -> None:
    from kehu.sales.models import Opportunity, Pipeline

    renewals = Pipeline.objects.get(code="renewals")
    stage = renewals.stages.order_by("order")[1]
    lead = make_lead(users["rep"], name="周杰", company="宁波港湾")
    body = {
        "opportunity": {"pipeline": renewals.pk, "stage": stage.pk, "amount": "50000", "expected_close": "2030-06-30"}
    }

    r = rep_api.post(f"{LEADS}{lead.pk}/convert/", body)

    assert r.status_code == 200, r.json()
    opp = Opportunity.objects.get(pk=r.json()["opportunity"])
    assert (opp.customer_id, opp.lead_id, opp.stage_id, opp.owner_id) == (
        r.json()["customer"],
        lead.pk,
        stage.pk,
        users["rep"].pk,
    )
    assert str(opp.amount) == "50000.00" and opp.contact_roles.get().contact_id == r.json()["contact"]
    # a stage of another pipeline: refused, and nothing was converted
    other = make_lead(users["rep"], company="温州东方")
    wrong = {"opportunity": {"pipeline": renewals.pk, "stage": Pipeline.objects.get(code="channel").stages.first().pk}}
    r = rep_api.post(f"{LEADS}{other.pk}/convert/", wrong)
    assert r.status_code == 400 and "stage" in r.json()["errors"]
    assert Lead.objects.get(pk=other.pk).status == "new"


def test_lead_convert_onto_invisible_customer_is_400(users: Any, rep_api: Any) -> None:
    theirs = make_customer(users["rep2"])
    lead = make_lead(users["rep"])
    r = rep_api.post(f"{LEADS}{lead.pk}/convert/", {"customer": theirs.pk})
    assert r.status_code == 400 and "customer" in r.json()["errors"]
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_other_reps_lead_is_404_for_actions(users: Any, client_for: Any) -> None:
    lead = make_lead(users["rep2"])
    api = client_for("rep")
    for path in ("qualify/", "convert/", "disqualify/"):
        assert api.post(f"{LEADS}{lead.pk}/{path}", {}).status_code == 404
    assert api.get(f"{LEADS}{lead.pk}/duplicates/").status_code == 404
