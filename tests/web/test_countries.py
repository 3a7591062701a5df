"""The country of a customer or lead: chosen by its name in the user's language, stored as the ISO code,
shown and filtered by name; a code that is not a country is refused with a message and nothing is saved."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from kehu.customers.models import Customer
from kehu.users import services as user_services
from kehu.users.models import User
from tests.web.helpers import make_customer, make_lead, snapshot, text

pytestmark = pytest.mark.django_db


def options(html: str, name: str) -> list[tuple[str, str]]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, html
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))


@pytest.mark.parametrize(
    ("language", "china", "hong_kong", "usa"),
    [("zh-hans", "中国", "中国香港", "美国"), ("en", "China", "Hong Kong SAR, China", "United States of America")],
)
def test_the_form_offers_countries_by_name_china_first(
    users: dict[str, User], login: Callable[[str], Client], language: str, china: str, hong_kong: str, usa: str
) -> None:
    User.objects.filter(username="rep").update(language=language)
    html = text(login("rep").get("/customers/new/"))
    choices = dict(options(html, "country"))
    assert options(html, "country")[1] == ("CN", china)  # right after the empty choice
    assert choices["HK"] == hong_kong and choices["US"] == usa and len(choices) > 240


def test_list_and_detail_show_the_name_and_the_filter_narrows_by_country(
    users: dict[str, User], login: Callable[[str], Client]
) -> None:
    rep = users["rep"]
    make_customer(rep, "杭州本地公司", country="CN")
    us = make_customer(rep, "Acme Inc.", country="US")
    client = login("rep")
    page = text(client.get("/customers/", {"country": "US", "cols": "name,country"}))
    assert "Acme Inc." in page and "杭州本地公司" not in page
    # the country column shows the name (the filter chip says it too, so count: chip + cell)
    assert page.count("United States of America") >= 2 and ">US<" not in page
    assert "<td" in page and re.search(r"<td[^>]*>\s*United States of America\s*</td>", page), page
    assert "United States of America" in text(client.get(f"/customers/{us.pk}/"))
    leads = text(login("rep").get("/leads/", {"country": "JP"}))
    make_lead(rep, "田中", country="JP")
    assert "田中" not in leads  # made after: the filter ran on what existed
    assert "田中" in text(client.get("/leads/", {"country": "JP"}))
    assert "田中" not in text(client.get("/leads/", {"country": "KR"}))


def test_a_code_that_is_no_country_is_refused(users: dict[str, User], login: Callable[[str], Client]) -> None:
    before = snapshot()
    response = login("rep").post("/customers/new/", {"name": "某公司", "kind": "company", "country": "XX"})
    assert response.status_code == 200 and "Select a valid choice" in text(response)
    assert snapshot() == before

    customer = make_customer(users["rep"], "接口公司")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {user_services.create_token(user=users['rep'])}")
    bad = api.patch(f"/api/v1/customers/{customer.pk}/", {"country": "ZZ"}, format="json")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["country"]
    assert Customer.objects.get(pk=customer.pk).country == ""
    assert api.patch(f"/api/v1/customers/{customer.pk}/", {"country": "DE"}, format="json").json()["country"] == "DE"
