"""The funnel through the gate: each role's figures, the API, exports and the lists behind the numbers.

Deals (default pipeline, CNY), started and closed in 2025:
    rep (east):        A won 1,000 · B won 500 · C open, reached Qualification
    rep_sh (shanghai): D won 300 · E lost
    rep_south (south): F won 700
Leads (created today): rep has L1 (followed up) and L2; rep_south has L3.
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

from kehu.activities.models import Activity
from kehu.analytics.queries import funnel
from kehu.analytics.views import Links
from kehu.sales import services
from kehu.sales.models import Opportunity, Pipeline, Stage
from kehu.users.models import User

START = dt.date(2025, 1, 1)


def at(day: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day + "T10:00"))


@pytest.fixture
def data(role_users: dict[str, User], lead_factory: Any) -> dict[str, Any]:
    pipeline = Pipeline.objects.get(code="new_business")
    stage = {s.name_en: s for s in Stage.objects.filter(pipeline=pipeline)}

    def deal(owner: str, name: str, started: str, amount: int, end: str = "", to: str = "") -> Opportunity:
        user = role_users[owner]
        opp = services.create_opportunity(
            actor=user, owner=user, data={"name": name, "amount": Decimal(amount)}, at=at(started)
        )
        if to:
            services.move_stage(
                actor=user, opp=opp, stage=stage[to], loss_reason="price" if to == "Lost" else "", at=at(end or started)
            )
        return opp

    opps = {
        "A": deal("rep", "Deal A", "2025-02-01", 1000, "2025-03-01", "Won"),
        "B": deal("rep", "Deal B", "2025-02-10", 500, "2025-04-10", "Won"),
        "C": deal("rep", "Deal C", "2025-03-01", 800, "2025-03-05", "Qualification"),
        "D": deal("rep_sh", "Deal D", "2025-02-01", 300, "2025-02-21", "Won"),
        "E": deal("rep_sh", "Deal E", "2025-02-01", 900, "2025-05-01", "Lost"),
        "F": deal("rep_south", "Deal F", "2025-01-15", 700, "2025-06-15", "Won"),
    }
    l1 = lead_factory(owner=role_users["rep"], name="Lead One")
    lead_factory(owner=role_users["rep"], name="Lead Two")
    lead_factory(owner=role_users["rep_south"], name="Lead Three")
    rep = role_users["rep"]
    Activity.objects.create(lead=l1, owner=rep, team=rep.team, subject="First call", occurred_at=timezone.now())
    return {"opps": opps, "stage": stage, "pipeline": pipeline}


def figures(user: User, **kw: Any) -> Any:
    return funnel(User.objects.get(pk=user.pk), start=START, end=timezone.localdate(), **kw)


def test_each_role_counts_only_what_it_may_see(role_users: dict[str, User], data: dict[str, Any]) -> None:
    f = figures(role_users["rep"])
    assert (f.won, f.lost, f.won_amount("CNY")) == (2, 0, Decimal("1500.00"))
    assert (f.started, f.leads_created, f.leads_followed_up, f.follow_up_rate) == (3, 2, 1, 0.5)
    assert [r.name for r in f.by_owner] == [str(role_users["rep"])]
    [p] = f.pipelines
    # Prospecting, Qualification (C is there, A and B passed it), Proposal, Negotiation, Won
    assert [s.reached for s in p.stages] == [3, 3, 2, 2, 2] and p.stages[-1].kind == "won"
    assert [s.conversion for s in p.stages] == [None, 1.0, 0.6667, 1.0, 1.0]
    assert f.median_cycle_days == 43.5 and f.avg_cycle_days == 43.5  # 28 and 59 days
    # a filter cannot widen the scope
    assert figures(role_users["rep"], team=role_users["rep_south"].team).won == 0

    east = figures(role_users["east_manager"])  # east and its sub-team shanghai
    assert (east.won, east.lost, east.won_amount("CNY")) == (3, 1, Decimal("1800.00"))
    assert east.win_rate == 0.75
    assert figures(role_users["manager"]).won == 4  # all sales teams
    everyone = figures(role_users["marketing"])
    assert (everyone.won, everyone.lost, everyone.won_amount("CNY")) == (4, 1, Decimal("2500.00"))
    assert {r.name: r.won for r in everyone.by_team} == {"华东区": 3, "华南区": 1}
    assert figures(role_users["agent"]).empty  # no access to deals or leads


def test_period_rules(role_users: dict[str, User], data: dict[str, Any]) -> None:
    """Stages count deals started in the period; outcomes count deals closed in it."""
    f = funnel(role_users["marketing"], start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31))
    assert f.started == 1  # C
    assert (f.won, f.lost) == (1, 0)  # A closed in March, started in February
    assert f.pipelines[0].stages[-1].reached == 0


def test_api_gives_the_same_figures(role_users: dict[str, User], data: dict[str, Any]) -> None:
    client = Client()
    client.force_login(role_users["rep"])
    url = reverse("api:report_funnel")
    r = client.get(url, {"start": "2025-01-01", "end": timezone.localdate().isoformat()})
    assert r.status_code == 200
    body = r.json()
    assert body == figures(role_users["rep"]).as_dict()
    assert body["deals"]["won"] == 2 and body["deals"]["won_amounts"][0] == {
        "currency": "CNY",
        "amount": "1500.00",
        "count": 2,
        "average": "750.00",
    }
    assert client.get(url, {"period": "last_year"}).status_code == 200


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "2025-13-01", "end": "2025-12-31"}, "start"),
        ({"start": "2025-06-01", "end": "2025-01-01"}, "end"),
        ({"period": "custom", "start": "2025-01-01"}, "end"),
        ({"period": "someday"}, "period"),
        ({"team": "999999"}, "team"),
        ({"owner": "x"}, "owner"),
        ({"pipeline": "0"}, "pipeline"),
        ({"source": "carrier_pigeon"}, "source"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_api_bad_parameters(role_users: dict[str, User], params: dict[str, str], field: str) -> None:
    client = Client()
    client.force_login(role_users["manager"])
    r = client.get(reverse("api:report_funnel"), params)
    assert r.status_code == 400
    assert field in r.json()["errors"]


def test_api_and_page_refuse_users_without_deals(role_users: dict[str, User]) -> None:
    client = Client()
    client.force_login(role_users["agent"])
    assert client.get(reverse("api:report_funnel")).status_code == 403
    assert client.get(reverse("analytics:funnel")).status_code == 403
    assert reverse("analytics:funnel") not in client.get(reverse("home")).content.decode()
    assert Client().get(reverse("api:report_funnel")).status_code in (401, 403)


def test_page_shows_figures_links_and_chart(
    role_users: dict[str, User], data: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.force_login(role_users["manager"])
    params = {"period": "custom", "start": "2025-01-01", "end": "2025-12-31"}
    with django_assert_max_num_queries(30):
        r = client.get(reverse("analytics:funnel"), params)
    html = r.content.decode()
    assert r.status_code == 200
    assert "funnel-data" in html and "echarts.min.js" in html
    assert "80.0 %" in html  # the win rate: 4 of 5 closed deals
    assert reverse("sales:opportunity_list") + "?" in html
    assert f'href="{reverse("analytics:funnel")}"' in html  # the sidebar entry
    assert "format=csv" in html  # managers may export
    # nothing in the period: the empty state
    r = client.get(reverse("analytics:funnel"), {"start": "2001-01-01", "end": "2001-12-31"})
    assert "No leads or deals in this period." in r.content.decode()
    # a bad period: the message, not a crash
    r = client.get(reverse("analytics:funnel"), {"start": "2025-06-01", "end": "2025-01-01"})
    assert r.status_code == 200 and "The period cannot end before it starts." in r.content.decode()


def test_export_needs_the_export_permission(role_users: dict[str, User], data: dict[str, Any]) -> None:
    url = reverse("analytics:funnel_export")
    params = {"start": "2025-01-01", "end": "2025-12-31", "format": "csv"}
    rep = Client()
    rep.force_login(role_users["rep"])
    assert rep.get(url, params).status_code == 403
    assert "funnel_export" not in rep.get(reverse("analytics:funnel"), params).content.decode()

    User.objects.filter(pk=role_users["rep_south"].pk).update(display_name="=HYPERLINK(1)")
    mkt = Client()
    mkt.force_login(role_users["marketing"])
    r = mkt.get(url, params)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert ["'=HYPERLINK(1)", "1", "0", "100.0", "700.00"] in rows
    assert any(row[:2] == ["Deals won", "4"] for row in rows)
    x = mkt.get(url, {**params, "format": "xlsx"})
    assert x.status_code == 200 and x["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames == ["Summary", "Stages", "By sales rep", "By team"]
    names = [c.value for c in wb["By sales rep"]["A"]]
    assert "'=HYPERLINK(1)" in names


def _ids(html: str) -> set[int]:
    return {int(m) for m in re.findall(r'href="/opportunities/(\d+)/"', html)}


def test_every_count_of_the_breakdowns_opens_its_deals(role_users: dict[str, User], data: dict[str, Any]) -> None:
    """By sales rep and by team: won, lost and the win rate each link to the deals behind them."""
    opps = data["opps"]
    client = Client()
    client.force_login(role_users["east_manager"])
    params = {"period": "custom", "start": "2025-01-01", "end": timezone.localdate().isoformat()}
    html = client.get(reverse("analytics:funnel"), params).content.decode()
    links = Links(figures(role_users["east_manager"]))  # the same period
    rep_sh = role_users["rep_sh"]
    lost_by_rep = links.owner(rep_sh.pk, "lost")
    lost_by_team = links.team(rep_sh.team.pk, "lost")  # the rows: 华东区 itself and its sub-team 上海组
    assert f'<a href="{lost_by_rep.replace("&", "&amp;")}">1</a>' in html
    assert f'<a href="{lost_by_team.replace("&", "&amp;")}">1</a>' in html
    assert _ids(client.get(lost_by_rep).content.decode()) == {opps["E"].pk}
    assert _ids(client.get(lost_by_team).content.decode()) == {opps["E"].pk}


def test_exports_give_the_apis_rates_in_per_cent(role_users: dict[str, User], data: dict[str, Any]) -> None:
    """docs/reports.md: rates are fractions (0–1) in the API and percentages in the exports and on the page."""
    client = Client()
    client.force_login(role_users["marketing"])
    params = {"start": "2025-01-01", "end": timezone.localdate().isoformat()}
    api = client.get(reverse("api:report_funnel"), params).json()
    rows = list(
        csv.reader(io.StringIO(client.get(reverse("analytics:funnel_export"), params).content.decode("utf-8-sig")))
    )
    assert api["deals"]["win_rate"] == 0.8
    assert ["Win rate (%)", "80.0"] in rows
    assert ["Follow-up rate (%)", str(round(api["leads"]["follow_up_rate"] * 100, 1))] in rows


def test_drill_down_lists_only_visible_records(role_users: dict[str, User], data: dict[str, Any]) -> None:
    opps = data["opps"]
    for username, expected_won in [("rep", {"A", "B"}), ("east_manager", {"A", "B", "D"})]:
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        links = Links(figures(user))
        won = _ids(client.get(links.won).content.decode())
        assert won == {opps[k].pk for k in expected_won}
        qualification = data["stage"]["Qualification"]
        reached = _ids(client.get(links.reached(data["pipeline"].pk, qualification.pk)).content.decode())
        assert reached == {opps[k].pk for k in ({"A", "B", "C"} if username == "rep" else {"A", "B", "C", "D"})}
    rep = Client()
    rep.force_login(role_users["rep"])
    html = rep.get(Links(figures(role_users["rep"])).leads_followed).content.decode()
    assert "Lead One" in html and "Lead Two" not in html and "Lead Three" not in html
