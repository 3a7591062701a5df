"""List pages: quick search with filters and pages (no cap on hits), typed custom-field sorts and ranges,
sorting on every shown column, the added filters, and the sort menu naming the actual order."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kehu.core import search
from kehu.core.models import CustomFieldDefinition
from kehu.customers import services as customer_services
from kehu.customers.lists import CUSTOMER_LIST
from kehu.users.models import Role, RolePermission
from tests.web.helpers import make_contact, make_customer, make_lead, text

pytestmark = pytest.mark.django_db


def ids(response: Any) -> list[int]:
    assert response.status_code == 200
    return [o.pk for o in response.context["objects"]]


def all_pages(client: Client, url: str) -> list[int]:
    seen: list[int] = []
    while url:
        response = client.get(url)
        assert not response.context["errors"], response.context["errors"]
        seen += ids(response)
        match = re.search(r'href="(\?[^"]*cursor=[^"]+)"[^>]*>Next page', text(response))
        url = url.split("?")[0] + match.group(1).replace("&amp;", "&") if match else ""
    return seen


@pytest.mark.parametrize("direct_hits", [2, 500])
def test_quick_search_with_a_filter_returns_every_match_over_pages(
    direct_hits: int, users: dict, login: Callable[[str], Client], monkeypatch: Any
) -> None:
    # 2: more hits than are passed as ids, so the index is asked inside the list query (the 陈 × 508 case)
    monkeypatch.setattr(search, "DIRECT_HITS_SQLITE", direct_hits)
    monkeypatch.setattr(search, "DIRECT_HITS", direct_hits)  # PostgreSQL's bound
    monkeypatch.setattr(CUSTOMER_LIST, "page_size", 2)
    rep = users["rep"]
    retained = [make_customer(rep, f"陈记{i}号", lifecycle_stage="retained") for i in range(5)]
    [make_customer(rep, f"陈氏{i}", lifecycle_stage="prospect") for i in range(3)]
    make_customer(rep, "王记", lifecycle_stage="retained")
    client = login("rep")
    newest_first = [c.pk for c in reversed(retained)]
    assert all_pages(client, "/customers/?q=陈&lifecycle_stage=retained&sort=-updated_at") == newest_first
    assert len(all_pages(client, "/customers/?q=陈")) == 8
    if direct_hits == 500:
        seen = all_pages(client, "/customers/?q=陈&lifecycle_stage=retained&sort=name")
        assert seen == [c.pk for c in sorted(retained, key=lambda c: c.name)]
    else:
        # too many matches to sort by name in good time: said so, and every match shown by last change
        response = client.get("/customers/?q=陈&lifecycle_stage=retained&sort=name")
        assert response.context["errors"] == [
            "More than 2 records match “陈”: they can only be shown by last change. "
            "Make the search more precise to sort them another way."
        ]
        assert response.context["sort"] == "-updated_at" and ids(response) == newest_first[:2]


def _budget(users: dict) -> tuple[list[Any], Any]:
    CustomFieldDefinition.objects.create(
        object_type="sales.lead", name="budget", label_en="Budget", label_zh="预算", type="decimal"
    )
    CustomFieldDefinition.objects.create(
        object_type="sales.lead", name="visit", label_en="Visit", label_zh="拜访", type="date"
    )
    from kehu.sales import services

    rep = users["rep"]
    leads = [
        services.create_lead(actor=rep, data={"name": n}, custom={"budget": b, "visit": d})
        for n, b, d in (
            ("甲", "800000", "2026-10-02"),
            ("乙", "80000", "2026-09-30"),
            ("丙", "5000000.50", "2025-12-31"),
            ("丁", "9", "2026-01-05"),
        )
    ]
    empty = make_lead(rep, "戊")
    return leads, empty


def test_custom_number_and_date_fields_sort_by_value_and_filter_by_range(
    users: dict, login: Callable[[str], Client]
) -> None:
    (a, b, c, d), empty = _budget(users)
    client = login("rep")
    assert ids(client.get("/leads/", {"sort": "-cf_budget"})) == [c.pk, a.pk, b.pk, d.pk, empty.pk]
    assert ids(client.get("/leads/", {"sort": "cf_budget"})) == [d.pk, b.pk, a.pk, c.pk, empty.pk]
    assert ids(client.get("/leads/", {"sort": "cf_visit"})) == [c.pk, d.pk, b.pk, a.pk, empty.pk]
    got = client.get("/leads/", {"cf_budget__from": "80000", "cf_budget__to": "800000", "sort": "cf_budget"})
    assert ids(got) == [b.pk, a.pk]
    assert "Budget ≥" in text(got) and "Budget ≤" in text(got)  # the chips
    assert ids(client.get("/leads/", {"cf_visit__from": "2026-01-01", "sort": "cf_visit"})) == [d.pk, b.pk, a.pk]
    bad = client.get("/leads/", {"cf_budget__from": "lots", "cf_visit__to": "someday"})
    assert "Budget: Enter a number." in text(bad) and "Visit: Enter a date as YYYY-MM-DD." in text(bad)
    assert len(ids(bad)) == 5  # a bad bound filters nothing
    panel = text(client.get("/leads/", {"partial": "filters", "cf_budget__from": "10"}))
    assert 'name="cf_budget__from" value="10"' in panel and 'name="cf_budget__to"' in panel
    assert 'type="date"' in panel and 'name="cf_visit__to"' in panel


def test_numeric_custom_sort_pages_through_every_row(
    users: dict, login: Callable[[str], Client], monkeypatch: Any
) -> None:
    from kehu.sales.lists import LEAD_LIST

    (a, b, c, d), empty = _budget(users)
    monkeypatch.setattr(LEAD_LIST, "page_size", 2)
    client = login("rep")
    assert all_pages(client, "/leads/?sort=-cf_budget") == [c.pk, a.pk, b.pk, d.pk, empty.pk]
    assert all_pages(client, "/leads/?sort=cf_visit") == [c.pk, d.pk, b.pk, a.pk, empty.pk]


def test_hidden_custom_field_cannot_be_sorted_or_range_filtered(users: dict, login: Callable[[str], Client]) -> None:
    _budget(users)
    perm = RolePermission.objects.get(role=Role.objects.get(code="sales_rep"), object_type="sales.lead")
    RolePermission.objects.filter(pk=perm.pk).update(field_rules={**perm.field_rules, "cf_budget": "hidden"})
    client = login("rep")
    response = client.get("/leads/", {"sort": "-cf_budget", "cf_budget__from": "1"})
    assert "Cannot sort on “cf_budget”." in text(response)
    assert "Cannot filter on “cf_budget__from”." in text(response)
    assert len(ids(response)) == 5
    assert 'name="cf_budget__from"' not in text(client.get("/leads/", {"partial": "filters"}))


def test_range_suffix_on_a_choice_filter_is_refused(users: dict, login: Callable[[str], Client]) -> None:
    make_customer(users["rep"], "甲", lifecycle_stage="retained")
    response = login("rep").get("/customers/", {"lifecycle_stage__from": "retained"})
    assert "Cannot filter on “lifecycle_stage__from”." in text(response)


def test_every_shown_column_sorts_and_the_menu_names_the_sort(users: dict, login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    b = make_customer(rep, "乙", city="上海", industry="it")
    a = make_customer(rep, "甲", city="北京", industry="")
    c = make_customer(rep, "丙", city="", industry="manufacturing")
    other = make_customer(users["rep2"], "丁")
    customer_services.assign(actor=users["manager"], obj=b, owner=users["rep_hz"])
    client = login("manager")
    response = client.get("/customers/")
    sortable = {col.name for col in response.context["columns"] if col.sortable}
    assert {"name", "lifecycle_stage", "industry", "city", "owner", "updated_at"} <= sortable
    assert "tags" not in sortable  # a list of tags has no order
    cities = [o.city for o in client.get("/customers/", {"sort": "-city"}).context["objects"]]
    assert cities == sorted(cities, reverse=True) and cities[0] in ("北京", "上海")
    industries = [o.industry for o in client.get("/customers/", {"sort": "industry"}).context["objects"]]
    assert industries == sorted(industries)
    response = client.get("/customers/", {"sort": "owner"})
    assert not response.context["errors"]
    owners = [str(o.owner) for o in response.context["objects"]]
    assert owners == sorted(owners) and other.pk in ids(response) and {a.pk, b.pk, c.pk} <= set(ids(response))
    # the sort menu shows the order in use even when its column is not shown
    html = text(client.get("/customers/", {"sort": "created_at", "cols": "name,city"}))
    selected = re.findall(r'<option value="([^"]*)" selected>([^<]*)</option>', html)
    assert selected == [("created_at", "Created ↑")]
    html = text(client.get("/customers/", {"cols": "name,city"}))
    assert re.search(r'<option value="-updated_at" selected>', html)


def test_contact_filters_on_customer_gender_and_channel(users: dict, login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    acme = make_customer(rep, "宁波港湾")
    other = make_customer(rep, "苏州云帆")
    li = make_contact(rep, "李娜", customer=acme, gender="f", channels=[{"kind": "wechat", "value": "lina_wx"}])
    wang = make_contact(rep, "王强", customer=other, gender="m", channels=[{"kind": "phone", "value": "13812345678"}])
    client = login("rep")
    assert ids(client.get("/contacts/", {"customer": "港湾"})) == [li.pk]
    assert ids(client.get("/contacts/", {"customer": str(other.pk)})) == [wang.pk]
    assert ids(client.get("/contacts/", {"gender": "m"})) == [wang.pk]
    assert ids(client.get("/contacts/", {"channels": "wechat"})) == [li.pk]
    assert ids(client.get("/contacts/", {"channels": "phone"})) == [wang.pk]
    bad = client.get("/contacts/", {"channels": "pigeon"})
    assert "Reachable on: Invalid value." in text(bad) and len(ids(bad)) == 2


def test_lead_filters_on_name_and_phone_digits(users: dict, login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    hit = make_lead(rep, "张伟", phone="13812345678")
    make_lead(rep, "王芳", phone="13987654321")
    client = login("rep")
    assert ids(client.get("/leads/", {"phone": "138 1234"})) == [hit.pk]
    assert ids(client.get("/leads/", {"name": "张"})) == [hit.pk]
    bad = client.get("/leads/", {"phone": "abc"})
    assert "Enter some digits of the phone number." in text(bad)


def test_conversion_form_preselects_the_matching_contact_and_its_customer(
    users: dict, login: Callable[[str], Client]
) -> None:
    rep = users["rep"]
    same_name = make_customer(rep, "微众")  # matches the company name only
    existing = make_customer(rep, "深圳前海微众科技有限公司")
    known = make_contact(rep, "张伟", existing, channels=[{"kind": "email", "value": "zhang.wei@weizhong.example"}])
    lead = make_lead(rep, "张伟", company="微众", email="zhang.wei@weizhong.example")
    page = text(login("rep").get(f"/leads/{lead.pk}/convert/"))
    assert f'<option value="{known.pk}" selected>' in page
    assert re.search(rf'value="customer:{existing.pk}"\s+checked', page)
    assert not re.search(rf'value="customer:{same_name.pk}"\s+checked', page)
    assert not re.search(r'value="new"\s+checked', page)


def test_conversion_form_without_matches_starts_on_new(users: dict, login: Callable[[str], Client]) -> None:
    lead = make_lead(users["rep"], "周杰", company="宁波港湾")
    page = text(login("rep").get(f"/leads/{lead.pk}/convert/"))
    assert re.search(r'value="new"\s+checked', page)
