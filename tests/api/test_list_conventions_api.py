"""API lists and conventions: quick search without a cap, ordering and ranges on custom fields, lead conversion
refusing duplicates, the token user's language, translated parse errors and JSON 404s."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.core import search
from kehu.core.models import CustomFieldDefinition
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.sales.models import Lead
from kehu.users import services as user_services
from kehu.users.models import Role, RolePermission, User
from tests.api.conftest import make_customer, make_lead

CUSTOMERS = "/api/v1/customers/"
LEADS = "/api/v1/leads/"


def every_id(client: APIClient, url: str) -> list[int]:
    out: list[int] = []
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.json()
        out += [row["id"] for row in r.json()["results"]]
        url = r.json()["next"]
    return out


@pytest.mark.parametrize("direct_hits", [2, 500])
def test_q_with_filters_and_pages_returns_every_match(
    direct_hits: int, users: Any, rep_api: APIClient, monkeypatch: Any
) -> None:
    monkeypatch.setattr(search, "DIRECT_HITS_SQLITE", direct_hits)
    monkeypatch.setattr(search, "DIRECT_HITS", direct_hits)  # PostgreSQL's bound
    rep = users["rep"]
    retained = [make_customer(rep, f"陈记{i}号", lifecycle_stage="retained") for i in range(5)]
    for i in range(3):
        make_customer(rep, f"陈氏{i}", lifecycle_stage="prospect")
    q = quote("陈")  # as a client sends it: percent-encoded UTF-8
    newest_first = [c.pk for c in reversed(retained)]
    got = every_id(rep_api, f"{CUSTOMERS}?q={q}&lifecycle_stage=retained&ordering=-updated_at&page_size=2")
    assert got == newest_first
    assert len(every_id(rep_api, f"{CUSTOMERS}?q={q}&page_size=3")) == 8  # the default order gives way
    by_name = f"{CUSTOMERS}?q={q}&lifecycle_stage=retained&ordering=name&page_size=2"
    if direct_hits == 500:
        assert every_id(rep_api, by_name) == [c.pk for c in sorted(retained, key=lambda c: c.name)]
    else:  # an order asked for that so many matches cannot be sorted by in good time: a clear 400
        r = rep_api.get(by_name)
        assert r.status_code == 400 and "can only be shown by last change" in r.json()["errors"]["ordering"][0]


def _budget_leads(users: Any) -> tuple[list[Lead], Lead]:
    CustomFieldDefinition.objects.create(
        object_type="sales.lead", name="budget", label_en="Budget", label_zh="预算", type="decimal"
    )
    CustomFieldDefinition.objects.create(
        object_type="sales.lead", name="visit", label_en="Visit", label_zh="拜访", type="date"
    )
    rep = users["rep"]
    from kehu.sales import services

    leads = [
        services.create_lead(actor=rep, data={"name": n}, custom={"budget": b, "visit": d})
        for n, b, d in (("甲", "800000", "2026-10-02"), ("乙", "80000", "2026-09-30"), ("丙", "5000000", "2025-12-31"))
    ]
    return leads, make_lead(rep, "丁")


def test_ordering_and_ranges_on_custom_fields(users: Any, rep_api: APIClient) -> None:
    (a, b, c), empty = _budget_leads(users)
    assert every_id(rep_api, f"{LEADS}?ordering=-cf_budget&page_size=2") == [c.pk, a.pk, b.pk, empty.pk]
    assert every_id(rep_api, f"{LEADS}?ordering=cf_visit") == [c.pk, b.pk, a.pk, empty.pk]
    assert every_id(rep_api, f"{LEADS}?cf_budget__from=80000&cf_budget__to=800000&ordering=cf_budget") == [
        b.pk,
        a.pk,
    ]
    assert every_id(rep_api, f"{LEADS}?cf_visit__to=2026-09-30&ordering=cf_visit") == [c.pk, b.pk]
    r = rep_api.get(f"{LEADS}?cf_budget__from=lots&cf_visit__from=soon")
    assert r.status_code == 400
    assert r.json()["errors"] == {
        "cf_budget__from": ["Enter a number."],
        "cf_visit__from": ["Enter a date as YYYY-MM-DD."],
    }


def test_ranges_on_built_in_dates(users: Any, rep_api: APIClient) -> None:
    lead = make_lead(users["rep"], "甲")
    day = timezone.localtime(lead.created_at).date().isoformat()  # a day in Kehu's time zone, as the filter reads it
    assert every_id(rep_api, f"{LEADS}?created_at__from={day}&created_at__to={day}") == [lead.pk]
    assert every_id(rep_api, f"{LEADS}?created_at__from=2999-01-01") == []
    r = rep_api.get(f"{LEADS}?created_at__to=yesterday")
    assert r.status_code == 400 and "created_at__to" in r.json()["errors"]
    r = rep_api.get(f"{LEADS}?status__from=new")
    assert r.status_code == 400 and r.json()["errors"]["status__from"] == ["Unknown query parameter."]


def test_hidden_custom_field_cannot_order_or_range(users: Any, rep_api: APIClient) -> None:
    _budget_leads(users)
    perm = RolePermission.objects.get(role=Role.objects.get(code="sales_rep"), object_type="sales.lead")
    RolePermission.objects.filter(pk=perm.pk).update(field_rules={**perm.field_rules, "cf_budget": "hidden"})
    r = rep_api.get(f"{LEADS}?ordering=cf_budget")
    assert r.status_code == 400 and "ordering" in r.json()["errors"]
    r = rep_api.get(f"{LEADS}?cf_budget__from=1")
    assert r.status_code == 400 and "cf_budget__from" in r.json()["errors"]


def _duplicate_world(users: Any) -> tuple[Customer, Contact, Lead]:
    rep = users["rep"]
    customer = make_customer(rep, name="苏州云帆")
    contact = customer_services.create_contact(
        actor=rep,
        data={"name": "陈静", "customer": customer},
        channels=[{"kind": "email", "value": "chen@yunfan.cn"}, {"kind": "phone", "value": "13912345678"}],
    )
    lead = make_lead(rep, name="陈静", company="苏州云帆", email="chen@yunfan.cn", phone="13912345678")
    return customer, contact, lead


def test_convert_refuses_to_duplicate_with_the_matching_ids(users: Any, rep_api: APIClient) -> None:
    customer, contact, lead = _duplicate_world(users)
    before = (Customer.objects.count(), Contact.objects.count())
    r = rep_api.post(f"{LEADS}{lead.pk}/convert/", {})
    assert r.status_code == 409
    assert r.json()["matches"] == {"customer": [customer.pk], "contact": [contact.pk]}
    assert set(r.json()["errors"]) == {"customer", "contact"}
    assert str(customer.pk) in r.json()["errors"]["customer"][0]
    assert (Customer.objects.count(), Contact.objects.count()) == before
    assert Lead.objects.get(pk=lead.pk).status == "new"
    # naming the customer alone still refuses: its contact matches too
    r = rep_api.post(f"{LEADS}{lead.pk}/convert/", {"customer": customer.pk})
    assert r.status_code == 409 and r.json()["matches"] == {"contact": [contact.pk]}
    # naming the contact attaches to it and its customer
    r = rep_api.post(f"{LEADS}{lead.pk}/convert/", {"contact": contact.pk})
    assert r.status_code == 200, r.json()
    assert r.json() == {"customer": customer.pk, "contact": contact.pk, "opportunity": None}
    assert (Customer.objects.count(), Contact.objects.count()) == before


def test_convert_with_create_new_makes_new_records(users: Any, rep_api: APIClient) -> None:
    customer, contact, lead = _duplicate_world(users)
    r = rep_api.post(f"{LEADS}{lead.pk}/convert/", {"create_new": True})
    assert r.status_code == 200, r.json()
    assert r.json()["customer"] != customer.pk and r.json()["contact"] != contact.pk


def test_convert_of_a_converted_lead_is_still_400(users: Any, rep_api: APIClient) -> None:
    customer, contact, lead = _duplicate_world(users)
    assert rep_api.post(f"{LEADS}{lead.pk}/convert/", {"contact": contact.pk}).status_code == 200
    r = rep_api.post(f"{LEADS}{lead.pk}/convert/", {})
    assert r.status_code == 400 and "status" in r.json()["errors"]


def test_token_requests_speak_the_users_language(users: Any, settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    rep2 = User.objects.get(username="rep2")  # language "en"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_services.create_token(user=rep2)}")
    r = client.post(LEADS, {})
    assert r.status_code == 400 and r.json()["errors"]["name"] == ["This field is required."]
    assert r["Content-Language"] == "en"
    # a Chinese-speaking user without a header gets Chinese; an explicit header wins
    user_services.set_language(user=rep2, language="zh-hans")
    r = client.post(LEADS, {})
    [message] = r.json()["errors"]["name"]
    assert message.endswith("必填项。")
    r = client.post(LEADS, {}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.json()["errors"]["name"] == ["This field is required."]


def test_parse_errors_are_translated_messages(rep_api: APIClient) -> None:
    r = rep_api.post(LEADS, data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert r.json() == {"errors": {"__all__": ["The request body is not valid JSON (line 1, column 2)."]}}


def test_unknown_api_address_is_a_json_404(rep_api: APIClient, client: Any) -> None:
    for url in ("/api/v1/no-such-thing/", "/api/nothing-here/", "/api/v1/leads/1/no-action/"):
        r = rep_api.get(url)
        assert r.status_code == 404, url
        assert r["Content-Type"].startswith("application/json")
        assert r.json() == {"errors": {"__all__": ["Not found."]}}
    assert client.get("/no-such-page/").status_code == 404
    assert not client.get("/no-such-page/")["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_disqualify_errors_use_the_request_field_name(users: Any, rep_api: APIClient) -> None:
    lead = make_lead(users["rep"])
    r = rep_api.post(f"{LEADS}{lead.pk}/disqualify/", {"reason": "nope"})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["reason"]
    r = rep_api.post(f"{LEADS}{lead.pk}/disqualify/", {})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["reason"]
