"""Forecast, performance, expansion and targets under /api/v1/: the same figures as the query functions,
through the gate, with the API's error format."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.analytics import forecast as forecasting
from kehu.analytics import performance
from kehu.analytics.scope import Scope, month_start
from kehu.sales import services as sales_services
from kehu.sales.models import Pipeline, Target
from kehu.users.models import User
from tests.api.conftest import make_customer

TODAY = timezone.localdate()


def won(owner: User, amount: int, **data: Any) -> Any:
    opp = sales_services.create_opportunity(
        actor=owner, data={"name": f"deal {amount}", "amount": Decimal(amount), **data}
    )
    stage = Pipeline.objects.get(code="new_business").stages.get(kind="won")
    sales_services.move_stage(actor=owner, opp=opp, stage=stage)
    return opp


@pytest.fixture
def deals(users: dict[str, User]) -> dict[str, Any]:
    return {
        "rep_won": won(users["rep"], 1200),
        "rep2_won": won(users["rep2"], 3400),
        "rep_open": sales_services.create_opportunity(
            actor=users["rep"], data={"name": "open", "amount": Decimal(900), "expected_close": TODAY}
        ),
    }


def test_forecast_gives_the_query_figures(
    client_for: Callable[[str], APIClient], users: dict[str, User], deals: dict[str, Any]
) -> None:
    r = client_for("manager").get(reverse("api:report_forecast"))

    assert r.status_code == 200
    body = r.json()
    fc = forecasting.forecast(User.objects.get(username="manager"), Scope())
    assert [m["month"] for m in body["months"]] == [m.month.isoformat() for m in fc.months]
    assert body["months"][0]["closed"] == "4600.00" and body["months"][0]["pipeline"] == "900.00"
    assert body["months"][0]["best_case"] == "5500.00"
    assert body["months"][0]["predicted"] == f"{fc.months[0].predicted:.2f}"
    assert len(body["backtest"]) == 6 and body["filters"] == {
        "team": None,
        "owner": None,
        "pipeline": None,
        "currency": "CNY",
    }
    assert {"closed_deals", "won_deals", "stages"} <= set(body["model"])
    # a rep: their own deals only
    mine = client_for("rep").get(reverse("api:report_forecast")).json()
    assert mine["months"][0]["closed"] == "1200.00"


@pytest.mark.parametrize(
    "url, params, field",
    [
        ("api:report_forecast", {"currency": "XYZ"}, "currency"),
        ("api:report_forecast", {"team": "999999"}, "team"),
        ("api:report_forecast", {"owner": "x"}, "owner"),
        ("api:report_forecast", {"colour": "red"}, "colour"),
        ("api:report_performance", {"kind": "week"}, "kind"),
        ("api:report_performance", {"month": "2025-13"}, "month"),
        ("api:report_performance", {"kind": "quarter", "quarter": "2025-Q5"}, "quarter"),
        ("api:report_expansion", {}, "customer"),
        ("api:report_expansion", {"customer": "abc"}, "customer"),
    ],
)
def test_bad_parameters_are_answered_with_400(
    client_for: Callable[[str], APIClient], users: dict[str, User], url: str, params: dict[str, str], field: str
) -> None:
    r = client_for("manager").get(reverse(url), params)
    assert r.status_code == 400
    assert field in r.json()["errors"]


def test_users_without_deals_are_refused(client_for: Callable[[str], APIClient], users: dict[str, User]) -> None:
    agent = client_for("agent")
    customer = make_customer(users["rep"])
    for url in ("api:report_forecast", "api:report_performance"):
        assert agent.get(reverse(url)).status_code == 403
        assert APIClient().get(reverse(url)).status_code in (401, 403)
    assert agent.get(reverse("api:report_expansion"), {"customer": customer.pk}).status_code == 403


def test_performance_for_a_manager_and_a_rep(
    client_for: Callable[[str], APIClient], users: dict[str, User], deals: dict[str, Any]
) -> None:
    manager = users["manager"]
    from kehu.sales.services.targets import set_target

    set_target(actor=manager, period="month", start=month_start(TODAY), amount="2400", deals=2, user=users["rep"])

    body = client_for("manager").get(reverse("api:report_performance"), {"month": TODAY.strftime("%Y-%m")}).json()

    perf = performance.performance(User.objects.get(pk=manager.pk), Scope(team=manager.team), "month", TODAY)
    assert body["period"] == {
        "kind": "month",
        "start": perf.start.isoformat(),
        "end": (perf.end - dt.timedelta(days=1)).isoformat(),
    }
    assert body["filters"]["team"] == manager.team.pk  # a manager's default: their own team
    rows = {r["user"]["id"]: r for r in body["reps"]}
    assert rows[users["rep"].pk]["won"] == "1200.00" and rows[users["rep"].pk]["attainment"] == 50
    assert rows[users["rep2"].pk]["won"] == "3400.00"
    assert body["total"]["won"] == "4600.00" and len(body["trend"]) == 12

    mine = client_for("rep").get(reverse("api:report_performance"), {"team": users["rep2"].team.pk}).json()
    assert [r["user"]["id"] for r in mine["reps"]] == [users["rep"].pk]
    assert mine["total"]["won"] == "1200.00"


def test_expansion_through_the_gate(
    client_for: Callable[[str], APIClient], users: dict[str, User], deals: dict[str, Any]
) -> None:
    mine = make_customer(users["rep"], name="我的客户")
    theirs = make_customer(users["rep2"], name="别人的客户")
    rep = client_for("rep")

    r = rep.get(reverse("api:report_expansion"), {"customer": mine.pk})
    assert r.status_code == 200 and r.json() == {"customer": mine.pk, "suggestions": []}
    assert rep.get(reverse("api:report_expansion"), {"customer": theirs.pk}).status_code == 404
    assert rep.get(reverse("api:report_expansion"), {"customer": 99999999}).status_code == 404


def test_targets_are_written_through_the_service(
    client_for: Callable[[str], APIClient], users: dict[str, User]
) -> None:
    manager, rep = client_for("manager"), client_for("rep")
    start = month_start(TODAY).isoformat()
    url = reverse("api:target-list")
    body = {"period": "month", "start": start, "user": users["rep"].pk, "amount": "5000", "deals": 2}

    assert rep.post(url, body, format="json").status_code == 403
    assert manager.post(url, {**body, "amount": "-1"}, format="json").status_code == 400
    assert manager.post(url, {**body, "start": TODAY.replace(day=1) + dt.timedelta(days=1)}, format="json").json()[
        "errors"
    ]["start"]
    assert not Target.objects.exists()

    r = manager.post(url, body, format="json")
    assert r.status_code == 201 and r.json()["amount"] == "5000.00"
    pk = r.json()["id"]
    # the same key again changes it
    r = manager.post(url, {**body, "amount": "6000"}, format="json")
    assert r.status_code == 201 and r.json()["id"] == pk and Target.objects.count() == 1
    assert rep.get(url).json()["results"][0]["amount"] == "6000.00"  # reps may read targets
    detail = reverse("api:target-detail", args=[pk])
    assert rep.patch(detail, {"amount": "1"}, format="json").status_code == 403
    r = manager.patch(detail, {"amount": "7000", "deals": 3}, format="json")
    assert r.status_code == 200 and r.json()["deals"] == 3
    assert manager.patch(detail, {"user": users["rep2"].pk}, format="json").status_code == 400
    assert Target.objects.get().amount == Decimal("7000.00")
    assert manager.delete(detail).status_code == 204
    assert not Target.objects.exists()
    # a team target
    r = manager.post(
        url,
        {"period": "quarter", "start": f"{TODAY.year}-01-01", "team": users["rep"].team.pk, "amount": "9"},
        format="json",
    )
    assert r.status_code == 201 and r.json()["team"] == users["rep"].team.pk


def test_a_manager_sets_targets_only_within_their_team(
    client_for: Callable[[str], APIClient], users: dict[str, User], teams: dict[str, Any]
) -> None:
    """The seed sales manager's grant on targets has the team scope: their team (销售部), its sub-teams and their
    reps; a team outside it (总部) is refused, and its targets are not theirs to read, change or remove."""
    manager, admin = client_for("manager"), client_for("admin")
    url = reverse("api:target-list")
    start = month_start(TODAY).isoformat()

    assert (
        manager.post(url, {"start": start, "user": users["rep2"].pk, "amount": "10"}, format="json").status_code == 201
    )
    assert (
        manager.post(url, {"start": start, "team": teams["north"].pk, "amount": "10"}, format="json").status_code == 201
    )
    r = manager.post(url, {"start": start, "team": teams["hq"].pk, "amount": "10"}, format="json")
    assert r.status_code == 403 and not Target.objects.filter(team=teams["hq"]).exists()
    r = manager.post(url, {"start": start, "user": users["finance"].pk, "amount": "10"}, format="json")
    assert r.status_code == 403 and not Target.objects.filter(user=users["finance"]).exists()

    # the administrator sets any target; the manager neither lists, changes nor removes one outside their team
    hq = admin.post(url, {"start": start, "team": teams["hq"].pk, "amount": "10"}, format="json").json()["id"]
    assert hq not in [t["id"] for t in manager.get(url).json()["results"]]
    detail = reverse("api:target-detail", args=[hq])
    assert manager.patch(detail, {"amount": "99"}, format="json").status_code == 404
    assert manager.delete(detail).status_code == 404
    assert Target.objects.get(pk=hq).amount == Decimal("10.00")
    assert client_for("rep").get(detail).status_code == 200  # reps read every target, as before


def test_partners_report_gives_the_query_figures(
    client_for: Callable[[str], APIClient], users: dict[str, User]
) -> None:
    from kehu.analytics import partners

    rep, rep2 = users["rep"], users["rep2"]
    partner = make_customer(rep, name="渠道伙伴", relationship="partner")
    won(rep, 1000, partner=partner)
    sales_services.create_opportunity(actor=rep, data={"name": "lost", "amount": Decimal(5), "partner": partner})
    won(rep2, 500)  # no partner: not counted

    r = client_for("manager").get(reverse("api:report_partners"), {"period": "this_year"})
    assert r.status_code == 200
    body = r.json()
    year = (dt.date(TODAY.year, 1, 1), dt.date(TODAY.year, 12, 31))
    expected = partners.report(User.objects.get(pk=users["manager"].pk), start=year[0], end=year[1]).as_dict()
    assert body == expected
    [row] = body["partners"]
    assert (row["name"], row["sourced"], row["open"], row["won"], row["win_rate"]) == ("渠道伙伴", 2, 1, 1, 1.0)
    assert row["won_amounts"] == [{"currency": "CNY", "amount": "1000.00", "count": 1}]
    assert body["suppliers"] == [] and body["partners_total"] == 1
    # rep2 sees none of rep's deals; marketing reads no contracts; bad parameters and users without deals
    assert client_for("rep2").get(reverse("api:report_partners")).json()["partners"] == []
    assert client_for("marketer").get(reverse("api:report_partners")).json()["suppliers"] is None
    bad = client_for("manager").get(reverse("api:report_partners"), {"colour": "red", "period": "someday"})
    assert bad.status_code == 400 and {"colour"} <= set(bad.json()["errors"])
    assert client_for("manager").get(reverse("api:report_partners"), {"period": "someday"}).status_code == 400
    assert client_for("agent").get(reverse("api:report_partners")).status_code == 403


def test_report_currencies_are_the_users_own(
    client_for: Callable[[str], APIClient], users: dict[str, User], deals: dict[str, Any]
) -> None:
    sales_services.create_opportunity(actor=users["rep2"], data={"name": "yen", "amount": "5", "currency": "JPY"})

    # a currency of deals the rep may not see is refused, never answered with (empty) figures
    r = client_for("rep").get(reverse("api:report_forecast"), {"currency": "JPY"})
    assert r.status_code == 400 and "currency" in r.json()["errors"]
    assert client_for("rep2").get(reverse("api:report_forecast"), {"currency": "JPY"}).status_code == 200
    # without a currency: the default one
    assert client_for("rep2").get(reverse("api:report_forecast")).json()["filters"]["currency"] == "CNY"
