"""List pages of customers, contacts and leads: scope, filters, sort, quick search, keyset pages, hidden fields,
column choice and saved views."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kehu.core.models import CustomFieldDefinition, SavedView
from kehu.customers import services as customer_services
from kehu.customers.lists import CONTACT_LIST, CUSTOMER_LIST
from kehu.sales.lists import LEAD_LIST
from kehu.users.models import User
from tests.web.helpers import make_contact, make_customer, make_lead, text

pytestmark = pytest.mark.django_db

LISTS = {
    "customers": ("/customers/", lambda u, n: make_customer(u, n)),
    "contacts": ("/contacts/", lambda u, n: make_contact(u, n)),
    "leads": ("/leads/", lambda u, n: make_lead(u, n)),
}


def ids(response: Any) -> list[int]:
    assert response.status_code == 200
    return [o.pk for o in response.context["objects"]]


def row_links(response: Any) -> list[int]:
    """The record ids linked from the table rows of the page's HTML."""
    return [int(i) for i in re.findall(r'class="row-link" href="/[a-z]+/(\d+)/"', text(response))]


@pytest.fixture
def world(users: dict[str, User]) -> dict[str, dict[str, list[Any]]]:
    """Two records of each kind per user, named after their owner."""
    out: dict[str, dict[str, list[Any]]] = {}
    for kind, (_url, make) in LISTS.items():
        out[kind] = {
            u: [make(users[u], f"{u}-{kind}-{i}") for i in range(2)] for u in ("rep", "rep_hz", "rep2", "admin")
        }
    return out


@pytest.mark.parametrize("kind", LISTS)
def test_rep_sees_only_own_records(kind: str, world: dict, login: Callable[[str], Client]) -> None:
    url = LISTS[kind][0]
    got = ids(login("rep").get(url))
    assert sorted(got) == sorted(o.pk for o in world[kind]["rep"])
    assert sorted(row_links(login("rep").get(url))) == sorted(got)


@pytest.mark.parametrize("kind", LISTS)
def test_manager_sees_team_and_sub_teams(kind: str, world: dict, login: Callable[[str], Client]) -> None:
    got = set(ids(login("manager").get(LISTS[kind][0])))
    expected = {o.pk for u in ("rep", "rep_hz", "rep2") for o in world[kind][u]}
    assert got == expected  # East, its sub-team Hangzhou and North; nothing of HQ's admin


def test_team_filter_includes_sub_teams(world: dict, login: Callable[[str], Client], teams: dict) -> None:
    got = set(ids(login("manager").get("/customers/", {"team": teams["east"].pk})))
    assert got == {o.pk for u in ("rep", "rep_hz") for o in world["customers"][u]}


def test_owner_filter_and_me(world: dict, login: Callable[[str], Client], users: dict) -> None:
    client = login("manager")
    assert set(ids(client.get("/leads/", {"owner": users["rep2"].pk}))) == {o.pk for o in world["leads"]["rep2"]}
    assert ids(client.get("/leads/", {"owner": "me"})) == []


def test_stage_filter(users: dict, login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    a = make_customer(rep, "甲公司", lifecycle_stage="prospect")
    b = make_customer(rep, "乙公司", lifecycle_stage="retained")
    client = login("rep")
    assert ids(client.get("/customers/", {"lifecycle_stage": "retained"})) == [b.pk]
    assert ids(client.get("/customers/", {"lifecycle_stage": "prospect"})) == [a.pk]


def test_lead_status_filter(users: dict, login: Callable[[str], Client]) -> None:
    from kehu.sales import services

    rep = users["rep"]
    make_lead(rep, "甲")
    b = make_lead(rep, "乙")
    services.qualify(actor=rep, lead=b)
    assert ids(login("rep").get("/leads/", {"status": "qualified"})) == [b.pk]


def test_custom_field_filter_and_sort(users: dict, login: Callable[[str], Client]) -> None:
    CustomFieldDefinition.objects.create(
        object_type="customers.customer",
        name="tier",
        label_en="Tier",
        label_zh="等级",
        type="choice",
        choices=[{"value": "gold", "label_en": "Gold"}, {"value": "silver", "label_en": "Silver"}],
    )
    CustomFieldDefinition.objects.create(
        object_type="customers.customer", name="employees", label_en="Employees", label_zh="员工数", type="integer"
    )
    rep = users["rep"]
    gold = customer_services.create_customer(actor=rep, data={"name": "金"}, custom={"tier": "gold", "employees": 9})
    silver = customer_services.create_customer(actor=rep, data={"name": "银"}, custom={"tier": "silver"})
    client = login("rep")
    assert ids(client.get("/customers/", {"cf_tier": "gold"})) == [gold.pk]
    assert ids(client.get("/customers/", {"cf_employees": "9"})) == [gold.pk]
    bad = client.get("/customers/", {"cf_employees": "many"})
    assert "Employees: Enter a whole number." in text(bad)
    assert sorted(ids(bad)) == sorted([gold.pk, silver.pk])
    assert ids(client.get("/customers/", {"sort": "cf_tier"})) == [gold.pk, silver.pk]
    assert ids(client.get("/customers/", {"sort": "-cf_tier"})) == [silver.pk, gold.pk]


@pytest.mark.parametrize("kind", LISTS)
def test_sort_by_name(kind: str, users: dict, login: Callable[[str], Client]) -> None:
    make = LISTS[kind][1]
    for n in ("Charlie", "Alpha", "Bravo"):
        make(users["rep"], n)
    client = login("rep")
    names = [str(o.name) for o in client.get(LISTS[kind][0], {"sort": "name"}).context["objects"]]
    assert names == ["Alpha", "Bravo", "Charlie"]
    names = [str(o.name) for o in client.get(LISTS[kind][0], {"sort": "-name"}).context["objects"]]
    assert names == ["Charlie", "Bravo", "Alpha"]


@pytest.mark.parametrize("kind", LISTS)
def test_quick_search(kind: str, users: dict, login: Callable[[str], Client]) -> None:
    make = LISTS[kind][1]
    hit = make(users["rep"], "张伟")
    make(users["rep"], "王芳")
    other = make(users["rep2"], "张伟")
    client = login("rep")
    for q in ("张伟", "zhangwei", "zw"):
        assert ids(client.get(LISTS[kind][0], {"q": q})) == [hit.pk], q
    assert other.pk not in ids(login("rep").get(LISTS[kind][0], {"q": "zhangwei"}))


@pytest.mark.parametrize(
    ("kind", "config", "sort"),
    [
        ("customers", CUSTOMER_LIST, "name"),
        ("customers", CUSTOMER_LIST, "-updated_at"),
        ("contacts", CONTACT_LIST, "-name"),
        ("leads", LEAD_LIST, "created_at"),
    ],
)
def test_next_page_links_cover_every_row_once(
    kind: str, config: Any, sort: str, users: dict, login: Callable[[str], Client], monkeypatch: Any
) -> None:
    monkeypatch.setattr(config, "page_size", 4)
    make = LISTS[kind][1]
    made = [make(users["rep"], f"同名 {i % 3}") for i in range(11)]  # names repeat: the id breaks ties
    client = login("rep")
    seen: list[int] = []
    url = f"{LISTS[kind][0]}?sort={sort}"
    pages = 0
    while url:
        response = client.get(url)
        page = ids(response)
        assert len(page) <= 4
        seen += page
        pages += 1
        match = re.search(r'href="(\?[^"]*cursor=[^"]+)"[^>]*>Next page', text(response))
        url = LISTS[kind][0] + match.group(1).replace("&amp;", "&") if match else ""
    assert pages == 3
    assert sorted(seen) == sorted(o.pk for o in made)
    assert len(seen) == len(set(seen))


def test_forged_cursor_is_refused_with_a_message(users: dict, login: Callable[[str], Client]) -> None:
    make_customer(users["rep"], "甲")
    response = login("rep").get("/customers/", {"cursor": "forged"})
    assert "This page link is invalid or has expired." in text(response)
    assert len(ids(response)) == 1


def test_rep_cannot_filter_sort_or_show_hidden_finance_field(users: dict, login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    rich = make_customer(rep, "富")
    poor = make_customer(rep, "穷")
    customer_services.update_customer(actor=users["finance"], customer=rich, values={"credit_limit": "90000.00"})
    client = login("rep")
    response = client.get("/customers/", {"credit_limit": "90000.00"})
    assert "Cannot filter on “credit_limit”." in text(response)
    assert sorted(ids(response)) == sorted([rich.pk, poor.pk])  # not filtered
    response = client.get("/customers/", {"credit_limit__from": "2020-01-01"})
    assert "Cannot filter on" in text(response)
    response = client.get("/customers/", {"sort": "-credit_limit"})
    assert "Cannot sort on “credit_limit”." in text(response)
    assert response.context["sort"] == "-updated_at"
    response = client.get("/customers/", {"cols": "name,credit_limit,payment_terms"})
    assert [c.name for c in response.context["columns"]] == ["name"]
    html = text(response)
    assert "Credit limit" not in html and "90000" not in html and "90,000" not in html and "Payment terms" not in html
    # finance may show the column
    response = login("finance").get("/customers/", {"cols": "name,credit_limit"})
    assert "90,000.00" in text(response)
    assert [c.name for c in response.context["columns"]] == ["name", "credit_limit"]


def test_unknown_filter_is_refused(users: dict, login: Callable[[str], Client]) -> None:
    make_customer(users["rep"], "甲")
    response = login("rep").get("/customers/", {"password": "x"})
    assert "Cannot filter on “password”." in text(response)
    assert len(ids(response)) == 1


def test_saved_views_save_apply_delete_per_user(users: dict, login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    make_customer(rep, "甲", lifecycle_stage="prospect")
    b = make_customer(rep, "乙", lifecycle_stage="retained")
    client = login("rep")
    response = client.post(
        "/views/save/",
        {
            "object_type": "customers.customer",
            "name": "我的老客户",
            "query": "lifecycle_stage=retained&cursor=x",
            "next": "/customers/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/customers/"
    view = SavedView.objects.get(user=rep)
    assert view.query == "lifecycle_stage=retained"
    page = client.get("/customers/", {"partial": "views"})  # the Views menu loads its entries when opened
    link = re.search(r'href="(\?[^"]*view=' + str(view.pk) + r')"', text(page))
    assert link and "我的老客户" in text(page)
    applied = client.get("/customers/" + link.group(1).replace("&amp;", "&"))
    assert ids(applied) == [b.pk]
    assert applied.context["saved_view"] == view
    # per user: the other rep neither sees nor applies nor deletes it
    other = login("rep2")
    assert "我的老客户" not in text(other.get("/customers/", {"partial": "views"}))
    assert other.get("/customers/", {"view": view.pk}).context["saved_view"] is None
    assert other.post(f"/views/{view.pk}/delete/").status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()
    # a nameless view is refused
    client.post("/views/save/", {"object_type": "customers.customer", "name": " ", "query": "", "next": "/customers/"})
    assert SavedView.objects.count() == 1
    assert client.post(f"/views/{view.pk}/delete/", {"next": "/customers/"}).status_code == 302
    assert not SavedView.objects.exists()


def test_saved_view_redirect_stays_on_site(users: dict, login: Callable[[str], Client]) -> None:
    response = login("rep").post(
        "/views/save/", {"object_type": "customers.customer", "name": "v", "query": "", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_next_page_links_with_custom_field_sort(users: dict, login: Callable[[str], Client], monkeypatch: Any) -> None:
    monkeypatch.setattr(CUSTOMER_LIST, "page_size", 3)
    CustomFieldDefinition.objects.create(
        object_type="customers.customer", name="code", label_en="Code", label_zh="代码", type="text"
    )
    made = [
        customer_services.create_customer(actor=users["rep"], data={"name": f"c{i}"}, custom={"code": f"k{i % 3}"})
        for i in range(8)
    ] + [make_customer(users["rep"], "no code")]
    client = login("rep")
    seen: list[int] = []
    url = "/customers/?sort=-cf_code"
    while url:
        response = client.get(url)
        assert not response.context["errors"]
        seen += ids(response)
        match = re.search(r'href="(\?[^"]*cursor=[^"]+)"[^>]*>Next page', text(response))
        url = "/customers/" + match.group(1).replace("&amp;", "&") if match else ""
    assert sorted(seen) == sorted(o.pk for o in made) and len(seen) == len(set(seen))


def test_filter_panel_loads_options_and_shows_active_filters_as_chips(
    users: dict, login: Callable[[str], Client]
) -> None:
    rep = users["rep"]
    make_customer(rep, "甲", lifecycle_stage="retained")
    client = login("rep")
    panel = text(client.get("/customers/", {"partial": "filters", "lifecycle_stage": "retained"}))
    assert 'name="lifecycle_stage"' in panel and 'value="retained" selected' in panel
    assert 'name="credit_limit"' not in panel  # a hidden field offers no filter
    page = client.get("/customers/", {"lifecycle_stage": "retained", "owner": "me"})
    chips = re.findall(r'<a class="chip" href="([^"]*)"', text(page))
    assert len(chips) == 2
    assert all("lifecycle_stage" not in c or "owner" not in c for c in chips)  # each chip removes its own filter


def test_bulk_owner_choices_load_on_demand(users: dict, login: Callable[[str], Client]) -> None:
    options = text(login("manager").get("/customers/", {"partial": "owners"}))
    assert f'<option value="{users["rep"].pk}">' in options
