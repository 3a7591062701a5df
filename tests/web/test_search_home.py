"""The global search page and its pop-up, the home page's numbers, and the language switch."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from kehu.customers import services as customer_services
from kehu.sales import services as sales_services
from kehu.users.models import User
from tests.web.helpers import make_contact, make_customer, make_lead, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhang(users: dict[str, User]) -> dict:
    rep = users["rep"]
    customer = make_customer(rep, "杭州未来科技有限公司")
    contact = make_contact(
        rep,
        "张伟",
        customer,
        channels=[{"kind": "email", "value": "zhangwei@weilai.example"}, {"kind": "phone", "value": "138 0013 5678"}],
    )
    theirs = make_customer(users["rep2"], "张伟贸易")  # another team's
    return {"customer": customer, "contact": contact, "theirs": theirs}


def hrefs(html: str) -> list[str]:
    return re.findall(r'class="search-hit" href="([^"]+)"', html)


@pytest.mark.parametrize("q", ["张伟", "zhangwei", "zw", "5678", "ZhangWei", "zhangwei@weilai"])
@pytest.mark.parametrize("partial", [False, True])
def test_search_finds_contact(q: str, partial: bool, zhang: dict, login: Callable[[str], Client]) -> None:
    params = {"q": q, **({"partial": "1"} if partial else {})}
    response = login("rep").get("/search/", params)
    assert response.status_code == 200
    html = text(response)
    assert f"/contacts/{zhang['contact'].pk}/" in hrefs(html)
    assert "张伟贸易" not in html and f"/customers/{zhang['theirs'].pk}/" not in html
    if partial:
        assert "<html" not in html  # a fragment for the pop-up
    else:
        assert "<html" in html


def test_search_by_company_finds_customer_and_its_contact(zhang: dict, login: Callable[[str], Client]) -> None:
    links = hrefs(text(login("rep").get("/search/", {"q": "未来科技"})))
    assert f"/customers/{zhang['customer'].pk}/" in links
    assert f"/contacts/{zhang['contact'].pk}/" in links


def test_other_rep_and_manager(zhang: dict, login: Callable[[str], Client]) -> None:
    links = hrefs(text(login("rep2").get("/search/", {"q": "张伟"})))
    assert links == [f"/customers/{zhang['theirs'].pk}/"]
    links = hrefs(text(login("manager").get("/search/", {"q": "zw"})))
    assert f"/contacts/{zhang['contact'].pk}/" in links and f"/customers/{zhang['theirs'].pk}/" in links


def test_nothing_found_and_empty_query(zhang: dict, login: Callable[[str], Client]) -> None:
    client = login("rep")
    html = text(client.get("/search/", {"q": "欧阳锋"}))
    assert "Nothing found for “欧阳锋”." in html and not hrefs(html)
    assert text(client.get("/search/", {"q": "", "partial": "1"})).strip() == ""
    assert client.get("/search/").status_code == 200


def test_search_needs_login(db: None) -> None:
    response = Client().get("/search/", {"q": "张伟"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --------------------------------------------------------------------------- home


def test_home_shows_my_numbers(users: dict[str, User], login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    new1 = make_lead(rep, "新线索一")
    make_lead(rep, "新线索二")
    working = make_lead(rep, "合格线索")
    sales_services.qualify(actor=rep, lead=working)
    lost = make_lead(rep, "丢弃线索")
    sales_services.disqualify(actor=rep, lead=lost, reason="spam")
    make_customer(rep, "潜在客户甲", lifecycle_stage="prospect")
    retained = make_customer(rep, "老客户乙", lifecycle_stage="retained")
    make_customer(users["rep2"], "别人的客户")
    make_lead(users["rep2"], "别人的线索")
    # a lead given to the rep by the manager counts as new and assigned to them
    given = make_lead(users["manager"], "经理给的线索")
    sales_services.assign_lead(actor=users["manager"], lead=given, owner=rep)

    response = login("rep").get("/")
    ctx = response.context
    assert {v: n for v, _l, n in ctx["leads_by_status"]} == {"new": 3, "working": 0, "qualified": 1}
    assert {v: n for v, _l, n in ctx["customers_by_stage"]}["retained"] == 1
    assert {v: n for v, _l, n in ctx["customers_by_stage"]}["prospect"] == 1
    assert ctx["customers_total"] == 2
    assert {lead.name for lead in ctx["new_leads"]} == {"新线索一", "新线索二", "经理给的线索"}
    recent = [str(obj) for obj, _ot in ctx["recent"]]
    assert "老客户乙" in recent and "别人的客户" not in recent and "别人的线索" not in recent
    html = text(response)
    assert "经理给的线索" in html and f"/leads/{new1.pk}/" in html and f"/customers/{retained.pk}/" in html
    assert "别人的" not in html
    assert "/customers/?owner=me&amp;lifecycle_stage=retained" in html


def test_home_without_lead_permission(users: dict[str, User], login: Callable[[str], Client]) -> None:
    customer_services.create_customer(actor=users["admin"], data={"name": "某公司"})
    response = login("agent").get("/")
    assert response.status_code == 200
    assert response.context.get("leads_by_status") is None
    assert "My open leads" not in text(response)


# --------------------------------------------------------------------------- language


def test_language_switch_is_remembered_on_the_user(users: dict[str, User], login: Callable[[str], Client]) -> None:
    rep = users["rep"]
    User.objects.filter(pk=rep.pk).update(language="zh-hans")
    client = login("rep")
    assert '<html lang="zh-hans"' in text(client.get("/"))
    response = client.post("/language/", {"language": "en", "next": "/customers/"})
    assert response.status_code == 302 and response["Location"] == "/customers/"
    rep.refresh_from_db()
    assert rep.language == "en"
    html = text(client.get("/"))
    assert '<html lang="en"' in html and "My customers by lifecycle stage" in html
    # remembered on the user, not just the browser: a fresh session (another device) is English too
    fresh = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    fresh.force_login(rep)
    assert '<html lang="en"' in text(fresh.get("/"))
    client.post("/language/", {"language": "zh-hans"})
    assert '<html lang="zh-hans"' in text(fresh.get("/"))


def test_language_switch_refuses_unknown_language(users: dict[str, User], login: Callable[[str], Client]) -> None:
    client = login("rep")
    client.post("/language/", {"language": "fr"})
    assert User.objects.get(username="rep").language == "en"


@pytest.mark.parametrize(("accept", "lang"), [("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9", "zh-hans"), ("", "zh-hans")])
def test_login_page_follows_browser_language(accept: str, lang: str, db: None) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=accept) if accept else Client()
    html = text(client.get("/login/"))
    assert f'<html lang="{lang}"' in html


def test_anonymous_language_choice_is_kept_in_a_cookie(db: None) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    client.post("/language/", {"language": "en", "next": "/login/"})
    assert '<html lang="en"' in text(client.get("/login/"))
