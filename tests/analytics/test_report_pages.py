"""The forecast, performance and targets pages and the customer page's expansion panel, through the gate.

Deals (default pipeline, CNY), made through the services:
    rep (east):        a won deal this month (1,111), an open deal closing this month (2,222, Proposal),
                       an open deal without a close date (3,000)
    rep_south (south): an open deal closing next month (7,777), a won deal this month (5,555)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.analytics import forecast as forecasting
from kehu.analytics import performance
from kehu.analytics.scope import Scope, add_months, month_start
from kehu.analytics.templatetags.reports import money
from kehu.sales import services
from kehu.sales.models import Opportunity, Pipeline, Product, Stage, Target
from kehu.sales.services.targets import set_target
from kehu.users.models import User

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def stages() -> dict[str, Stage]:
    return {s.name_en: s for s in Pipeline.objects.get(code="new_business").stages.all()}


def deal(owner: User, name: str, amount: int, stage: str = "", **data: Any) -> Opportunity:
    opp = services.create_opportunity(actor=owner, data={"name": name, "amount": Decimal(amount), **data})
    if stage:
        services.move_stage(actor=owner, opp=opp, stage=stages()[stage])
    return opp


@pytest.fixture
def book(role_users: dict[str, User]) -> dict[str, Any]:
    rep, south = role_users["rep"], role_users["rep_south"]
    next_month = add_months(month_start(TODAY), 1)
    return {
        "won": deal(rep, "Rep won", 1111, "Won"),
        "open": deal(rep, "Rep open", 2222, "Proposal", expected_close=TODAY),
        "undated": deal(rep, "Rep undated", 3000),
        "south_open": deal(south, "South open", 7777, expected_close=next_month),
        "south_won": deal(south, "South won", 5555, "Won"),
    }


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


# --------------------------------------------------------------------------- forecast


def test_forecast_page_shows_the_query_figures_with_links(role_users: dict[str, User], book: dict[str, Any]) -> None:
    manager = role_users["manager"]
    fc = forecasting.forecast(fresh(manager), Scope())
    html = login(manager).get(reverse("analytics:forecast")).content.decode()

    this, nxt = fc.months[0], fc.months[1]
    assert (this.open_count, this.pipeline, this.closed) == (1, Decimal("2222.00"), Decimal("6666.00"))
    assert (nxt.open_count, nxt.pipeline) == (1, Decimal("7777.00"))
    for value in (this.weighted, this.best_case, this.predicted, nxt.weighted, fc.undated.pipeline):
        assert f">{money(value)}<" in html
    assert "forecast-data" in html and "echarts.min.js" in html
    # the count of a month links to the open deals expected to close in it
    first = month_start(TODAY)
    last = add_months(first, 1) - dt.timedelta(days=1)
    assert f"expected_close__from={first.isoformat()}&amp;expected_close__to={last.isoformat()}" in html
    assert "no_close_date=1" in html
    assert f'href="{reverse("analytics:forecast")}"' in html  # the sidebar entry
    assert len(fc.backtest) == 6 and "How the forecast learns" in html
    assert "format=csv" in html  # the export menu


def test_forecast_vs_actual_loads_after_the_page(role_users: dict[str, User], book: dict[str, Any]) -> None:
    manager = role_users["manager"]
    client = login(manager)
    html = client.get(reverse("analytics:forecast"), {"currency": "CNY"}).content.decode()
    # the page asks for the section with its own filters and shows a loading state until it arrives
    assert f'hx-get="{reverse("analytics:forecast_backtest")}?currency=CNY"' in html and "Loading…" in html

    part = client.get(reverse("analytics:forecast_backtest"), {"currency": "CNY"}, HTTP_HX_REQUEST="true")
    fc = forecasting.forecast(fresh(manager), Scope())
    body = part.content.decode()
    assert part.status_code == 200 and "Forecast vs. actual" in body and "<html" not in body
    for b in fc.backtest:
        assert f">{money(b.actual)}<" in body and f">{money(b.forecast)}<" in body
    assert "Mean absolute error" in body

    # the section goes through the gate like the page: last month the southern rep won 4,321, which their
    # manager sees and the eastern rep does not
    south = role_users["rep_south"]
    won_then = timezone.now() - dt.timedelta(days=TODAY.day + 3)  # a few days before this month began
    opp = services.create_opportunity(
        actor=south, data={"name": "South last month", "amount": Decimal(4321)}, at=won_then - dt.timedelta(days=9)
    )
    services.move_stage(actor=south, opp=opp, stage=stages()["Won"], at=won_then)
    assert "4,321" in client.get(reverse("analytics:forecast_backtest")).content.decode()
    rep_body = login(role_users["rep"]).get(reverse("analytics:forecast_backtest")).content.decode()
    assert "Forecast vs. actual" in rep_body and "4,321" not in rep_body
    # bad filters: the message, no figures
    bad = client.get(reverse("analytics:forecast_backtest"), {"currency": "XXX"})
    assert bad.status_code == 400 and "Check the filters" in bad.content.decode()


def test_forecast_links_list_the_same_deals(role_users: dict[str, User], book: dict[str, Any]) -> None:
    rep = role_users["rep"]
    client = login(rep)
    first = month_start(TODAY)
    last = add_months(first, 1) - dt.timedelta(days=1)
    params = {"status": "open", "expected_close__from": first, "expected_close__to": last, "currency": "CNY"}
    html = client.get(reverse("sales:opportunity_list"), params).content.decode()
    assert "Rep open" in html and "Rep undated" not in html and "South open" not in html
    html = client.get(reverse("sales:opportunity_list"), {"status": "open", "no_close_date": "1"}).content.decode()
    assert "Rep undated" in html and "Rep open" not in html


def test_a_rep_sees_only_their_own_forecast(role_users: dict[str, User], book: dict[str, Any]) -> None:
    html = login(role_users["rep"]).get(reverse("analytics:forecast")).content.decode()
    assert "7,777" not in html and "5,555" not in html
    assert "2,222" in html
    assert 'name="team"' not in html  # nothing to choose: only their own deals
    # a filter cannot widen the scope
    r = login(role_users["rep"]).get(reverse("analytics:forecast"), {"owner": role_users["rep_south"].pk})
    assert r.status_code == 200 and "7,777" not in r.content.decode()


def test_bad_filters_show_a_message(role_users: dict[str, User], book: dict[str, Any]) -> None:
    r = login(role_users["manager"]).get(reverse("analytics:forecast"), {"currency": "XXX", "team": "999999"})
    html = r.content.decode()
    assert r.status_code == 200 and "Check the filters" in html and "Currency" in html and "Team" in html


def test_the_currency_select_shows_the_currency_used(role_users: dict[str, User], book: dict[str, Any]) -> None:
    """The page shows CNY figures, so the select says CNY (the default currency, listed first), and Apply keeps it;
    the list holds the currencies of the deals the user may see, and any other is refused."""
    south = role_users["rep_south"]
    deal(south, "South dollars", 100, currency="USD")  # more deals in CNY: CNY would be listed first anyway
    deal(south, "South dollars 2", 100, currency="USD")
    deal(south, "South dollars 3", 100, currency="USD")
    deal(south, "South dollars 4", 100, currency="USD")
    deal(role_users["rep"], "Rep euros", 100, currency="EUR")
    client = login(role_users["manager"])

    for params in ({}, {"team": south.team.pk}, {"team": south.team.pk, "currency": ""}):
        html = client.get(reverse("analytics:forecast"), params).content.decode()
        select = html.split('name="currency"', 1)[1].split("</select>", 1)[0]
        assert select.index('value="CNY"') < select.index('value="USD"') < select.index('value="EUR"')
        assert '<option value="CNY" selected>' in select
        assert "CNY · " in html  # the figures' currency, in the page head
    html = client.get(reverse("analytics:performance"), {"currency": "USD"}).content.decode()
    assert '<option value="USD" selected>' in html

    # the southern rep sees no euro deals: no EUR to choose, and asking for it changes nothing
    rep = login(south)
    html = rep.get(reverse("analytics:forecast")).content.decode()
    assert 'value="EUR"' not in html and '<option value="CNY" selected>' in html
    r = rep.get(reverse("analytics:forecast"), {"currency": "EUR"})
    assert "Check the filters" in r.content.decode() and "Currency" in r.content.decode()
    assert rep.get(reverse("analytics:forecast_export"), {"currency": "EUR"}).status_code in (400, 403)


# --------------------------------------------------------------------------- performance


def test_performance_page_for_a_manager(role_users: dict[str, User], book: dict[str, Any]) -> None:
    manager, rep, south = role_users["manager"], role_users["rep"], role_users["rep_south"]
    start = month_start(TODAY)
    set_target(actor=manager, period="month", start=start, amount="2000", deals=2, user=rep)
    set_target(actor=manager, period="month", start=start, amount="10000", deals=1, user=south)

    html = login(manager).get(reverse("analytics:performance")).content.decode()

    perf = performance.performance(fresh(manager), Scope(team=manager.team), "month", TODAY)
    rows = {r.user.pk: r for r in perf.reps}
    assert rows[rep.pk].attainment == 56 and rows[south.pk].attainment == 56  # 1,111 / 2,000; 5,555 / 10,000
    assert perf.total.won == Decimal("6666.00") and perf.total.target == Decimal("12000.00")
    assert "6,666" in html and "12,000" in html and "56 %" in html
    assert str(rep) in html and str(south) in html
    assert "performance-data" in html
    # the manager starts on their own team
    assert f'<option value="{manager.team.pk}" selected>' in html
    assert reverse("analytics:targets") in html


def test_performance_for_a_quarter_and_a_rep(role_users: dict[str, User], book: dict[str, Any]) -> None:
    manager, rep = role_users["manager"], role_users["rep"]
    quarter = f"{TODAY.year}-Q{(TODAY.month - 1) // 3 + 1}"
    r = login(manager).get(reverse("analytics:performance"), {"kind": "quarter", "quarter": quarter, "owner": rep.pk})
    html = r.content.decode()
    assert r.status_code == 200 and "1,111" in html and "5,555" not in html


def test_a_rep_sees_only_themselves_on_the_leaderboard(role_users: dict[str, User], book: dict[str, Any]) -> None:
    manager, rep, south = role_users["manager"], role_users["rep"], role_users["rep_south"]
    set_target(actor=manager, period="month", start=month_start(TODAY), amount="10000", user=south)
    client = login(rep)

    html = client.get(reverse("analytics:performance")).content.decode()

    assert str(rep) in html and str(south) not in html and "5,555" not in html
    assert reverse("analytics:targets") not in html  # no link to the editor
    html = client.get(reverse("analytics:performance"), {"team": south.team.pk}).content.decode()
    assert str(south) not in html


# --------------------------------------------------------------------------- access and exports


@pytest.mark.parametrize("name", ["agent", "nobody"])
def test_users_without_deals_cannot_open_the_reports(role_users: dict[str, User], name: str) -> None:
    client = login(role_users[name])
    for url in ("forecast", "forecast_export", "forecast_backtest", "performance", "performance_export"):
        assert client.get(reverse(f"analytics:{url}")).status_code == 403
    assert client.get(reverse("analytics:targets")).status_code == 403
    home = client.get(reverse("home")).content.decode()
    for url in ("forecast", "performance", "targets"):
        assert reverse(f"analytics:{url}") not in home


def test_export_needs_the_export_permission(role_users: dict[str, User], book: dict[str, Any]) -> None:
    rep = login(role_users["rep"])
    for url in ("forecast", "performance"):
        assert rep.get(reverse(f"analytics:{url}_export"), {"format": "csv"}).status_code == 403
        assert f"{url}_export" not in rep.get(reverse(f"analytics:{url}")).content.decode()
        assert 'href="/reports/' + url + "/export/" not in rep.get(reverse(f"analytics:{url}")).content.decode()


def test_exports_are_formula_safe(role_users: dict[str, User], book: dict[str, Any]) -> None:
    manager, rep = role_users["manager"], role_users["rep"]
    User.objects.filter(pk=rep.pk).update(display_name="=HYPERLINK(1)")
    client = login(manager)

    r = client.get(reverse("analytics:performance_export"), {"format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    [row] = [row for row in rows if len(row) > 2 and row[1].endswith("HYPERLINK(1)")]
    assert row[1] == "'=HYPERLINK(1)" and row[2] == "1111.00"
    assert not any(cell.startswith("=") for row in rows for cell in row)

    x = client.get(reverse("analytics:performance_export"), {"format": "xlsx"})
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames == ["Summary", "Leaderboard", "Trend"]
    assert "'=HYPERLINK(1)" in [c.value for c in wb["Leaderboard"]["B"]]

    r = client.get(reverse("analytics:forecast_export"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert any(row[:3] == [TODAY.strftime("%Y-%m"), "1", "2222.00"] for row in rows)
    assert any(row[:3] == ["No close date", "1", "3000.00"] for row in rows)
    x = client.get(reverse("analytics:forecast_export"), {"format": "xlsx"})
    sheets = load_workbook(io.BytesIO(x.content)).sheetnames
    assert sheets == ["Summary", "Forecast", "Forecast vs. actual", "Stage model"]


# --------------------------------------------------------------------------- targets editor


def _grid_params(team: Any) -> dict[str, Any]:
    return {"year": TODAY.year, "kind": "month", "team": team.pk}


def test_targets_editor_saves_changed_cells(role_users: dict[str, User]) -> None:
    manager, rep = role_users["manager"], role_users["rep"]
    east = rep.team
    client = login(manager)
    url = reverse("analytics:targets") + f"?year={TODAY.year}&kind=month&team={east.pk}"
    html = client.get(url).content.decode()
    jan = dt.date(TODAY.year, 1, 1).isoformat()
    feb = dt.date(TODAY.year, 2, 1).isoformat()
    assert f'name="a-u{rep.pk}-{jan}"' in html and f'name="a-t{east.pk}-{jan}"' in html
    assert f'name="a-u{role_users["rep_sh"].pk}-{jan}"' in html  # sub-team members too

    r = client.post(url, {f"a-u{rep.pk}-{jan}": "12,000", f"d-u{rep.pk}-{jan}": "3", f"a-t{east.pk}-{feb}": "50000"})

    assert r.status_code == 302
    t = Target.objects.get(user=rep)
    assert (t.period, t.start, t.amount, t.deals) == ("month", dt.date(TODAY.year, 1, 1), Decimal("12000.00"), 3)
    assert Target.objects.get(team=east).amount == Decimal("50000.00")
    html = client.get(url).content.decode()
    assert 'value="12000"' in html and "Targets saved" in html
    # clearing a cell removes the target; untouched cells stay
    client.post(url, {f"a-u{rep.pk}-{jan}": "", f"d-u{rep.pk}-{jan}": "", f"a-t{east.pk}-{feb}": "50000"})
    assert not Target.objects.filter(user=rep).exists() and Target.objects.filter(team=east).exists()


def test_a_bad_cell_saves_nothing(role_users: dict[str, User]) -> None:
    manager, rep = role_users["manager"], role_users["rep"]
    client = login(manager)
    url = reverse("analytics:targets") + f"?year={TODAY.year}&kind=quarter&team={rep.team.pk}"
    q1, q2 = dt.date(TODAY.year, 1, 1).isoformat(), dt.date(TODAY.year, 4, 1).isoformat()

    r = client.post(
        url,
        {f"a-u{rep.pk}-{q1}": "5000", f"a-u{rep.pk}-{q2}": "-5", f"d-t{rep.team.pk}-{q1}": "two"},
    )

    html = r.content.decode()
    assert r.status_code == 400
    assert "Amount: a target cannot be negative." in html and "Deals: enter a whole number." in html
    assert html.count("is-invalid") == 4  # both inputs of both bad cells
    assert 'value="5000"' in html and 'value="-5"' in html  # what was typed stays
    assert "nothing was changed" in html
    assert not Target.objects.exists()


def test_a_rep_cannot_open_the_targets_editor(role_users: dict[str, User]) -> None:
    rep = role_users["rep"]
    client = login(rep)
    r = client.get(reverse("analytics:targets"))
    assert r.status_code == 403 and "Only users who may set sales targets" in r.content.decode()
    jan = dt.date(TODAY.year, 1, 1).isoformat()
    r = client.post(reverse("analytics:targets") + f"?team={rep.team.pk}", {f"a-u{rep.pk}-{jan}": "99999"})
    assert r.status_code == 403 and not Target.objects.exists()
    assert reverse("analytics:targets") not in client.get(reverse("home")).content.decode()


# --------------------------------------------------------------------------- expansion panel


def test_expansion_panel_through_the_gate(
    role_users: dict[str, User], customer_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kehu.analytics import expansion

    monkeypatch.setattr(expansion, "MIN_PEERS", 1)
    rep, south = role_users["rep"], role_users["rep_south"]
    a, b, c = (Product.objects.create(name=n, sku=n) for n in ("Alpha", "Beta", "Gamma"))

    def bought(owner: User, *products: Product) -> Any:
        cust = customer_factory(owner=owner, industry="retail")
        opp = services.create_opportunity(actor=owner, data={"name": "x", "customer": cust})
        services.set_lines(
            actor=owner, opp=opp, lines=[{"product": p, "quantity": 1, "unit_price": 10} for p in products]
        )
        services.move_stage(actor=owner, opp=opp, stage=stages()["Won"])
        return cust

    for _i in range(4):
        bought(south, a, b)
    bought(south, b)
    for _i in range(3):
        bought(south, c)
    mine = bought(rep, a)
    theirs = bought(south, a)
    client = login(rep)

    html = client.get(reverse("analytics:expansion", args=[mine.pk])).content.decode()

    assert "Beta" in html and "Cross-sell" in html
    assert "4 of 6 customers in Retail who bought Alpha also bought Beta." in html
    # support: the 4 who bought both of the 10 retail customers; lift: (4 / 6) ÷ (5 / 10)
    assert "support 40.0 %" in html and "lift 1.3" in html
    assert client.get(reverse("analytics:expansion", args=[theirs.pk])).status_code == 404
    assert login(role_users["agent"]).get(reverse("analytics:expansion", args=[mine.pk])).status_code == 404
    # the customer page loads the panel lazily; a user who may not see deals gets no panel
    page = client.get(reverse("customers:detail", args=[mine.pk])).content.decode()
    assert reverse("analytics:expansion", args=[mine.pk]) in page
    agent_page = login(role_users["agent"]).get(reverse("customers:detail", args=[mine.pk])).content.decode()
    assert reverse("analytics:expansion", args=[mine.pk]) not in agent_page
    # nothing bought yet: the empty state
    empty = customer_factory(owner=rep)
    assert "not enough evidence" in client.get(reverse("analytics:expansion", args=[empty.pk])).content.decode()


# --------------------------------------------------------------------------- query counts


def _more_deals(role_users: dict[str, User], n: int) -> None:
    for i in range(n):
        owner = role_users["rep"] if i % 2 else role_users["rep_south"]
        deal(owner, f"Bulk {i}", 100 + i, "Proposal" if i % 3 else "", expected_close=TODAY + dt.timedelta(days=20 * i))


def test_report_pages_use_a_bounded_number_of_queries(
    role_users: dict[str, User], book: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    manager = role_users["manager"]
    set_target(actor=manager, period="month", start=month_start(TODAY), amount="1000", user=role_users["rep"])
    client = login(manager)
    pages = [
        (reverse("analytics:forecast"), 40),
        (reverse("analytics:forecast_backtest"), 25),
        (reverse("analytics:performance"), 40),
        (reverse("analytics:targets"), 25),
    ]
    counts = {}
    for url, limit in pages:
        client.get(url)  # warm the session and caches
        with django_assert_max_num_queries(limit) as ctx:
            assert client.get(url).status_code == 200
        counts[url] = len(ctx.captured_queries)
    _more_deals(role_users, 12)
    for url, _limit in pages:
        with django_assert_max_num_queries(counts[url]):
            assert client.get(url).status_code == 200
