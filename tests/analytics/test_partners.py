"""The partners and suppliers report (C5) through the gate: figures per role, the lists behind every number,
exports, the customer page's partner panel.

Deals (default pipeline), made through the services; "closed" deals closed today:
    partner 渠道伙伴甲 (owned by rep, east):
        rep (east):        won 1,000 CNY · won 3,000 CNY · lost 800 · open 500 CNY
        rep_south (south): open 7,000 USD (made by the administrator: the rep may not see the partner)
    partner 华南伙伴乙 (owned by rep_south): rep_south won 2,000 CNY
    rep: one deal without a partner (never counted)
Supplier contracts (all CNY):
    供应商丙 (owned by rep): active, starts today, 10,000, renewal in 30 days · draft, starts today, 5,000
    供应商丁 (owned by rep_south): active, started two years ago, 8,000, ends in 60 days
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.analytics import partners
from kehu.analytics.partner_views import PartnerLinks
from kehu.sales import services
from kehu.sales.models import Contract, Opportunity, Pipeline, Stage
from kehu.sales.services.documents import create_contract
from kehu.users.models import User

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
YEAR = (dt.date(TODAY.year, 1, 1), dt.date(TODAY.year, 12, 31))


def stage(name: str) -> Stage:
    return Pipeline.objects.get(code="new_business").stages.get(name_en=name)


def deal(actor: User, owner: User, name: str, amount: int, to: str = "", **data: Any) -> Opportunity:
    opp = services.create_opportunity(actor=actor, owner=owner, data={"name": name, "amount": Decimal(amount), **data})
    if to:
        services.move_stage(actor=actor, opp=opp, stage=stage(to), loss_reason="price" if to == "Lost" else "")
    return opp


@pytest.fixture
def book(role_users: dict[str, User], customer_factory: Any) -> dict[str, Any]:
    admin, rep, south = role_users["admin"], role_users["rep"], role_users["rep_south"]
    p1 = customer_factory(owner=rep, name="渠道伙伴甲", relationship="partner")
    p2 = customer_factory(owner=south, name="华南伙伴乙", relationship="partner")
    s1 = customer_factory(owner=rep, name="供应商丙", relationship="supplier")
    s2 = customer_factory(owner=south, name="供应商丁", relationship="supplier")
    deals = {
        "won1": deal(rep, rep, "甲 won 1", 1000, "Won", partner=p1),
        "won2": deal(rep, rep, "甲 won 2", 3000, "Won", partner=p1),
        "lost": deal(rep, rep, "甲 lost", 800, "Lost", partner=p1),
        "open": deal(rep, rep, "甲 open", 500, partner=p1),
        "south_open": deal(admin, south, "甲 south open", 7000, partner=p1, currency="USD"),
        "south_won": deal(south, south, "乙 won", 2000, "Won", partner=p2),
        "direct": deal(rep, rep, "Direct deal", 9999, "Won"),
    }

    def contract(owner: User, customer: Any, title: str, value: int, start: dt.date, **data: Any) -> Contract:
        return create_contract(
            actor=owner,
            data={
                "title": title,
                "kind": "supplier",
                "customer": customer,
                "value": value,
                "start_date": start,
                **data,
            },
        )

    contracts = {
        "c1": contract(rep, s1, "丙 active", 10000, TODAY, status="active", renewal_date=TODAY + dt.timedelta(days=30)),
        "c2": contract(rep, s1, "丙 draft", 5000, TODAY),
        "c3": contract(
            south,
            s2,
            "丁 active",
            8000,
            TODAY - dt.timedelta(days=730),
            status="active",
            end_date=TODAY + dt.timedelta(days=60),
        ),
    }
    return {"p1": p1, "p2": p2, "s1": s1, "s2": s2, **deals, **contracts}


def report(user: User, **kw: Any) -> partners.PartnerReport:
    return partners.report(User.objects.get(pk=user.pk), start=YEAR[0], end=YEAR[1], **kw)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ids(html: str, kind: str = "opportunities") -> set[int]:
    return {int(m) for m in re.findall(rf'href="/{kind}/(\d+)/"', html)}


def test_partner_and_supplier_figures(role_users: dict[str, User], book: dict[str, Any]) -> None:
    r = report(role_users["admin"])

    assert [p.name for p in r.partners or []] == ["渠道伙伴甲", "华南伙伴乙"]  # most deals won first
    p1, p2 = r.partners or []
    assert (p1.sourced, p1.open_count, p1.won, p1.lost) == (5, 2, 2, 1)
    assert p1.win_rate == pytest.approx(0.6667)
    assert p1.won_amount("CNY") == Decimal("4000.00")
    assert {m.currency: m.amount for m in p1.open_amounts} == {"CNY": Decimal("500.00"), "USD": Decimal("7000.00")}
    assert p1.last_deal == TODAY and p1.visible
    assert (p2.sourced, p2.won, p2.won_amount("CNY"), p2.win_rate) == (1, 1, Decimal("2000.00"), 1.0)
    assert r.partners_total == 2

    s1, s2 = r.suppliers or []
    assert (s1.name, s1.contracts, s1.value("CNY"), s1.active) == ("供应商丙", 2, Decimal("15000.00"), 1)
    assert s1.next_date == TODAY + dt.timedelta(days=30)
    # started two years ago: no contract of the period, but active, ending in 60 days
    assert (s2.name, s2.contracts, s2.active, s2.next_date) == ("供应商丁", 0, 1, TODAY + dt.timedelta(days=60))

    # a team narrows: the southern team's deals and contracts only
    south = report(role_users["admin"], team=role_users["rep_south"].team)
    assert [(p.name, p.sourced) for p in south.partners or []] == [("华南伙伴乙", 1), ("渠道伙伴甲", 1)]
    assert [s.name for s in south.suppliers or []] == ["供应商丁"]


def test_each_role_counts_only_what_it_may_see(role_users: dict[str, User], book: dict[str, Any]) -> None:
    rep = report(role_users["rep"])
    [p1] = rep.partners or []
    assert (p1.name, p1.sourced, p1.open_count, p1.won) == ("渠道伙伴甲", 4, 1, 2)
    assert [s.name for s in rep.suppliers or []] == ["供应商丙"]
    # a filter cannot widen the scope
    assert report(role_users["rep"], team=role_users["rep_south"].team).partners == []

    south = report(role_users["rep_south"])
    names = {p.name: p for p in south.partners or []}
    # their deal names the partner (as their deal list shows it) but they may not open the partner's page
    assert names["渠道伙伴甲"].open_count == 1 and not names["渠道伙伴甲"].visible
    assert names["渠道伙伴甲"].won_amounts == [] and names["华南伙伴乙"].visible

    east = report(role_users["east_manager"])
    assert [(p.name, p.sourced) for p in east.partners or []] == [("渠道伙伴甲", 4)]
    # marketing reads every deal but no contract: no supplier section at all
    marketing = report(role_users["marketing"])
    assert marketing.suppliers is None and len(marketing.partners or []) == 2
    agent = report(role_users["agent"])
    assert agent.partners is None and agent.suppliers is None and agent.empty


def test_every_number_opens_the_records_behind_it(role_users: dict[str, User], book: dict[str, Any]) -> None:
    for username, sourced, won in [
        ("rep", {"won1", "won2", "lost", "open"}, {"won1", "won2"}),
        ("admin", {"won1", "won2", "lost", "open", "south_open"}, {"won1", "won2"}),
    ]:
        user = role_users[username]
        client = login(user)
        links = PartnerLinks(report(user))
        pk = book["p1"].pk
        assert _ids(client.get(links.sourced(pk)).content.decode()) == {book[k].pk for k in sourced}
        assert _ids(client.get(links.closed(pk, "won")).content.decode()) == {book[k].pk for k in won}
        assert _ids(client.get(links.closed(pk, "lost")).content.decode()) == {book["lost"].pk}
        assert _ids(client.get(links.closed(pk)).content.decode()) == {book[k].pk for k in ("won1", "won2", "lost")}
        expected_open = {"open", "south_open"} if username == "admin" else {"open"}
        assert _ids(client.get(links.open(pk)).content.decode()) == {book[k].pk for k in expected_open}

    client = login(role_users["admin"])
    links = PartnerLinks(report(role_users["admin"]))
    contracts = _ids(client.get(links.supplier_contracts(book["s1"].pk)).content.decode(), "contracts")
    assert contracts == {book["c1"].pk, book["c2"].pk}
    active = _ids(client.get(links.supplier_active(book["s2"].pk)).content.decode(), "contracts")
    assert active == {book["c3"].pk}
    # the list filters also take part of a name, as typed into the filter panel
    html = client.get(reverse("sales:opportunity_list"), {"partner": "华南伙伴"}).content.decode()
    assert _ids(html) == {book["south_won"].pk}


def test_report_page(role_users: dict[str, User], book: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    client = login(role_users["admin"])
    client.get(reverse("analytics:partners"))  # warm the session
    with django_assert_max_num_queries(25):
        r = client.get(reverse("analytics:partners"))
    html = r.content.decode()
    assert r.status_code == 200
    assert "渠道伙伴甲" in html and "供应商丙" in html and "66.7 %" in html
    assert f'href="{reverse("customers:detail", args=[book["p1"].pk])}"' in html
    assert f"partner={book['p1'].pk}&amp;started_on__from={YEAR[0].isoformat()}" in html
    assert f"customer={book['s1'].pk}&amp;kind=supplier&amp;start_date__from={YEAR[0].isoformat()}" in html
    assert f'href="{reverse("analytics:partners")}"' in html  # the sidebar entry, next to the other reports
    assert "format=csv" in html  # the export menu
    # the rep: no export, no other rep's partner, their own supplier only
    rep_html = login(role_users["rep"]).get(reverse("analytics:partners")).content.decode()
    assert "华南伙伴乙" not in rep_html and "供应商丁" not in rep_html and "format=csv" not in rep_html
    # nothing in the period: the empty state; a bad period: the message
    empty = client.get(reverse("analytics:partners"), {"start": "2001-01-01", "end": "2001-12-31"})
    assert "No partner deals or supplier contracts in this period." in empty.content.decode()
    bad = client.get(reverse("analytics:partners"), {"start": "2025-06-01", "end": "2025-01-01"})
    assert "The period cannot end before it starts." in bad.content.decode()
    # no deals at all: no report and no menu entry
    agent = login(role_users["agent"])
    assert agent.get(reverse("analytics:partners")).status_code == 403
    assert agent.get(reverse("analytics:partners_export")).status_code == 403
    assert reverse("analytics:partners") not in agent.get(reverse("home")).content.decode()


def test_exports_are_gated_formula_safe_and_give_rates_in_per_cent(
    role_users: dict[str, User], book: dict[str, Any]
) -> None:
    from kehu.customers.models import Customer

    Customer.objects.filter(pk=book["p2"].pk).update(name="=HYPERLINK(1)")
    url = reverse("analytics:partners_export")
    assert login(role_users["rep"]).get(url, {"format": "csv"}).status_code == 403

    r = login(role_users["admin"]).get(url, {"format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert not any(cell.startswith("=") for row in rows for cell in row)
    header = next(row for row in rows if row and row[0] == "Partner")
    assert header == [
        "Partner",
        "Deals sourced",
        "Open deals",
        "Open pipeline (CNY)",
        "Open pipeline (USD)",
        "Won",
        "Lost",
        "Win rate (%)",
        "Won amount (CNY)",
        "Won amount (USD)",
        "Last deal",
    ]
    assert ["渠道伙伴甲", "5", "2", "500.00", "7000.00", "2", "1", "66.7", "4000.00", "0", TODAY.isoformat()] in rows
    assert any(row[:1] == ["'=HYPERLINK(1)"] for row in rows)
    assert ["供应商丙", "2", "15000.00", "1", (TODAY + dt.timedelta(days=30)).isoformat()] in rows

    from openpyxl import load_workbook

    x = login(role_users["admin"]).get(url, {"format": "xlsx"})
    assert load_workbook(io.BytesIO(x.content)).sheetnames == ["Summary", "Partners", "Suppliers"]
    # marketing may export deals but not contracts: no supplier sheet
    m = login(role_users["marketing"]).get(url, {"format": "xlsx"})
    assert load_workbook(io.BytesIO(m.content)).sheetnames == ["Summary", "Partners"]


def test_partner_panel_on_the_customer_page(role_users: dict[str, User], book: dict[str, Any]) -> None:
    rep, south = role_users["rep"], role_users["rep_south"]
    p1 = book["p1"]
    client = login(rep)
    page = client.get(reverse("customers:detail", args=[p1.pk])).content.decode()
    panel_url = reverse("analytics:partner_deals", args=[p1.pk])
    assert panel_url in page
    # a customer who is no partner has no such panel
    assert "partner_deals" not in client.get(reverse("customers:detail", args=[book["s1"].pk])).content.decode()
    assert (
        reverse("analytics:partner_deals", args=[book["s1"].pk])
        not in client.get(reverse("customers:detail", args=[book["s1"].pk])).content.decode()
    )

    html = client.get(panel_url).content.decode()
    assert _ids(html) == {book[k].pk for k in ("won1", "won2", "lost", "open")}  # not the southern rep's deal
    assert "Deals this partner brought" in html and f"partner={p1.pk}" in html
    admin_html = login(role_users["admin"]).get(panel_url).content.decode()
    assert book["south_open"].pk in _ids(admin_html)
    # a partner the user may not see: 404, as its page
    assert login(south).get(panel_url).status_code == 404
    assert login(role_users["agent"]).get(panel_url).status_code == 404
    # a partner that brought nothing the user may see: the empty state
    lonely = login(south).get(reverse("analytics:partner_deals", args=[book["p2"].pk]))
    assert lonely.status_code == 200 and _ids(lonely.content.decode()) == {book["south_won"].pk}
    book["south_won"].partner = None
    Opportunity.objects.filter(pk=book["south_won"].pk).update(partner=None)
    lonely = login(south).get(reverse("analytics:partner_deals", args=[book["p2"].pk]))
    assert "No deal you may see names this partner yet." in lonely.content.decode()
