"""The campaign a lead or deal came through (a name until campaigns are records): forms, conversion, list
filters, detail pages, the event log and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from kehu.core.models import Event
from kehu.sales import services
from kehu.sales.models import Lead, Opportunity
from kehu.users.models import User

pytestmark = pytest.mark.django_db

EXPO = "2026 上海工博会"
WEBINAR = "Spring webinar series"


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_lead_and_deal_forms_save_the_campaign(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    client = _client(rep)
    r = client.post("/leads/new/", {"name": "王芳", "company": "杭州展会客户", "campaign": EXPO})
    assert r.status_code == 302, r.content.decode()[:2000]
    lead = Lead.objects.get(name="王芳")
    assert lead.campaign == EXPO
    assert EXPO in client.get(f"/leads/{lead.pk}/").content.decode()
    r = client.post(f"/leads/{lead.pk}/edit/", {"name": "王芳", "company": "杭州展会客户", "campaign": WEBINAR})
    assert r.status_code == 302
    assert Lead.objects.get(pk=lead.pk).campaign == WEBINAR
    r = client.post("/opportunities/new/", {"name": "展会商机", "amount": "1000", "currency": "CNY", "campaign": EXPO})
    assert r.status_code == 302, r.content.decode()[:2000]
    opp = Opportunity.objects.get(name="展会商机")
    assert opp.campaign == EXPO
    assert EXPO in client.get(f"/opportunities/{opp.pk}/").content.decode()
    services.update_opportunity(actor=rep, opp=opp, values={"campaign": WEBINAR})
    event = Event.objects.filter(object_id=opp.pk, verb="updated").latest("id")
    assert event.changes["campaign"] == [EXPO, WEBINAR]


def test_convert_copies_the_campaign(role_users: dict[str, User], lead_factory: Any) -> None:
    rep = role_users["rep"]
    lead = lead_factory(owner=rep, name="李雷", company="展会带来的公司", campaign=EXPO)
    _customer, _contact, opp = services.convert(actor=rep, lead=lead, opportunity_data={"amount": "5000"})
    assert opp is not None and opp.campaign == EXPO
    # a lead without a campaign gives a deal without one
    other = lead_factory(owner=rep, name="韩梅梅", company="另一家公司")
    _c, _p, opp2 = services.convert(actor=rep, lead=other, opportunity_data={})
    assert opp2 is not None and opp2.campaign == ""


def test_list_filters_and_columns(role_users: dict[str, User], lead_factory: Any) -> None:
    rep = role_users["rep"]
    for name, campaign in (("展会线索", EXPO), ("网络研讨会线索", WEBINAR), ("无活动线索", "")):
        lead_factory(owner=rep, name=name, campaign=campaign)
        services.create_opportunity(actor=rep, data={"name": f"{name}商机", "campaign": campaign})
    client = _client(rep)
    body = client.get("/leads/", {"campaign": "工博会", "cols": "name,campaign"}).content.decode()
    assert "展会线索" in body and "网络研讨会线索" not in body and "无活动线索" not in body and EXPO in body
    body = client.get("/opportunities/", {"campaign": "webinar"}).content.decode()
    assert "网络研讨会线索商机" in body and "展会线索商机" not in body and "无活动线索商机" not in body


def test_api_reads_writes_and_filters_the_campaign(role_users: dict[str, User], lead_factory: Any) -> None:
    api = APIClient()
    api.force_authenticate(role_users["rep"])
    r = api.post("/api/v1/opportunities/", {"name": "API 活动商机", "campaign": WEBINAR}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["campaign"] == WEBINAR
    r = api.patch(
        f"/api/v1/opportunities/{body['id']}/",
        {"campaign": EXPO},
        format="json",
        HTTP_IF_MATCH=f'"{body["version"]}"',
    )
    assert r.status_code == 200, r.json()
    assert r.json()["campaign"] == EXPO
    r = api.patch(f"/api/v1/opportunities/{body['id']}/", {"campaign": "x" * 201}, format="json")
    assert r.status_code == 400 and "campaign" in r.json()["errors"]
    ids = [o["id"] for o in api.get("/api/v1/opportunities/", {"campaign": EXPO}).json()["results"]]
    assert ids == [body["id"]]
    r = api.post("/api/v1/leads/", {"name": "API 线索", "campaign": EXPO}, format="json")
    assert r.status_code == 201 and r.json()["campaign"] == EXPO
    assert [x["name"] for x in api.get("/api/v1/leads/", {"campaign": EXPO}).json()["results"]] == ["API 线索"]
