"""Forecast (S5), targets and performance (S4) and expansion suggestions (S8), on deals made through the
services and back-dated with `at=` so their stage history is real."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.analytics import expansion, forecast, performance
from kehu.analytics.scope import Scope, add_months, currencies, month_start
from kehu.sales import services
from kehu.sales.models import Opportunity, Pipeline, Product, Stage, StageHistory, Target
from kehu.sales.services.targets import set_target

pytestmark = pytest.mark.django_db
NOW = timezone.now()
TODAY = timezone.localdate(NOW)


def stages() -> dict[str, Stage]:
    p = Pipeline.objects.get(code="new_business")
    return {s.name_en: s for s in p.stages.all()}


def deal(owner: Any, customer: Any, amount: int, path: list[tuple[str, int]], **data: Any) -> Opportunity:
    """A deal that entered each named stage `days` ago, in order."""
    st = stages()
    first, days = path[0]
    opp = services.create_opportunity(
        actor=owner,
        data={"name": f"deal {amount}", "customer": customer, "amount": Decimal(amount), "stage": st[first], **data},
        at=NOW - dt.timedelta(days=days),
    )
    for name, days in path[1:]:
        services.move_stage(
            actor=owner,
            opp=opp,
            stage=st[name],
            loss_reason="price" if name == "Lost" else "",
            at=NOW - dt.timedelta(days=days),
        )
    opp.refresh_from_db()
    return opp


@pytest.fixture
def book(role_users: dict[str, Any], customer_factory: Any) -> dict[str, Any]:
    """Rep: 4 won deals (each entered Proposal 20 days before winning), 4 lost in Prospecting, 2 lost in
    Proposal, one open deal in Proposal since 5 days. Rep in the south: one open deal."""
    rep, other = role_users["rep"], role_users["rep_south"]
    c = customer_factory(owner=rep, name="客户甲")
    c2 = customer_factory(owner=other, name="客户乙")
    won = [
        deal(
            rep,
            c,
            1000 * (i + 1),
            [
                ("Prospecting", 90),
                ("Qualification", 80),
                ("Proposal", 60 - i),
                ("Negotiation", 50 - i),
                ("Won", 40 - i),
            ],
        )
        for i in range(4)
    ]
    for i in range(4):
        deal(rep, c, 500, [("Prospecting", 100 - i), ("Lost", 70 - i)])
    for i in range(2):
        deal(rep, c, 700, [("Prospecting", 100), ("Qualification", 90), ("Proposal", 80), ("Lost", 45 - i)])
    open_deal = deal(rep, c, 3000, [("Prospecting", 30), ("Qualification", 20), ("Proposal", 5)])
    theirs = deal(other, c2, 9000, [("Prospecting", 3)], expected_close=TODAY + dt.timedelta(days=3))
    return {"rep": rep, "other": other, "won": won, "open": open_deal, "theirs": theirs, "customer": c}


def test_the_stage_model_learns_win_rates_and_days_to_win_from_closed_deals(book: dict[str, Any]) -> None:
    model = forecast.learn(book["rep"], Scope())
    st = stages()

    # 10 closed deals reached Prospecting, 4 were won; 6 reached Proposal (4 won, 2 lost there)
    assert model.win_rate[st["Prospecting"].pk] == pytest.approx(4 / 10)
    assert model.win_rate[st["Proposal"].pk] == pytest.approx(4 / 6)
    # every won deal entered Proposal 20 days before it was won
    assert model.days_to_win[st["Proposal"].pk] == 20
    assert (model.closed_deals, model.won_deals) == (10, 4)
    # from Prospecting (entered 90 days ago) the four wins took 50, 51, 52 and 53 days: the median is 51.5
    assert model.days_to_win[st["Prospecting"].pk] == 51.5


def test_days_to_win_come_from_the_most_recent_won_deals(book: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setattr(forecast, "SAMPLE", 1)
    model = forecast.learn(book["rep"], Scope())

    # only the latest win (37 days ago, 53 days after entering Prospecting) teaches the cycle times
    assert model.days_to_win[stages()["Prospecting"].pk] == 53
    assert model.won_deals == 4  # the win rates still count every closed deal


def test_open_deals_are_forecast_by_stage_and_by_expected_close(book: dict[str, Any]) -> None:
    rep = book["rep"]
    f = forecast.forecast(rep, Scope(), today=TODAY)
    open_deal = book["open"]

    # history-based: Proposal since 5 days, won after 20 days there with probability 4/6
    expected_close = max(timezone.localdate(open_deal.stage_entered_at) + dt.timedelta(days=20), TODAY)
    month = next(m for m in f.months if m.month == month_start(expected_close))
    assert month.predicted == (Decimal(3000) * Decimal(str(4 / 6))).quantize(Decimal("1"))
    # the other rep's deal is outside this rep's scope: nothing of it anywhere
    assert sum(m.open_count for m in f.months) + f.past_due.open_count + f.undated.open_count == 1
    # closed this month: the won deals whose close date falls in it
    won_now = sum(o.amount for o in book["won"] if month_start(o.closed_on) == month_start(TODAY))
    assert f.months[0].closed == won_now


def test_weighted_best_case_and_commit_columns(book: dict[str, Any]) -> None:
    other = book["other"]
    theirs = book["theirs"]
    services.update_opportunity(actor=other, opp=theirs, values={"probability": 80})

    f = forecast.forecast(other, Scope(), today=TODAY)

    row = next(m for m in f.months if m.month == month_start(theirs.expected_close))
    assert row.pipeline == Decimal(9000)
    assert row.weighted == Decimal(7200)
    assert row.commit == Decimal(9000)  # 80 % is at or above the commit line
    assert row.best_case == row.closed + Decimal(9000)


def test_past_months_compare_forecast_with_what_was_won(book: dict[str, Any]) -> None:
    f = forecast.forecast(book["rep"], Scope(), today=TODAY, past=3)

    assert [b.month for b in f.backtest] == [add_months(month_start(TODAY), -i) for i in (3, 2, 1)]
    for b in f.backtest:
        nxt = add_months(b.month, 1)
        assert b.actual == sum((o.amount for o in book["won"] if b.month <= o.closed_on < nxt), Decimal(0))
        assert b.error == b.forecast - b.actual


def test_each_past_months_forecast_is_the_model_applied_to_the_deals_open_on_its_first_day(
    book: dict[str, Any],
) -> None:
    rep = book["rep"]
    f = forecast.forecast(rep, Scope(), today=TODAY, past=4)
    model = f.model

    # row by row: every stay in an open stage that spans the month's first instant, its stage's win rate
    # times the amount, when the deal was expected to be won within that month
    for b in f.backtest:
        instant = timezone.make_aware(dt.datetime.combine(b.month, dt.time.min))
        expected = Decimal(0)
        for stay in StageHistory.objects.filter(opportunity__owner=rep, stage__kind="open", entered_at__lt=instant):
            if stay.left_at is not None and stay.left_at < instant:
                continue
            close = timezone.localdate(stay.entered_at) + dt.timedelta(
                days=round(model.days_to_win.get(stay.stage_id, 30.0))
            )
            if b.month <= max(close, b.month) < add_months(b.month, 1):
                expected += Decimal(str(model.win_rate.get(stay.stage_id, 0.0))) * stay.amount
        assert b.forecast == expected.quantize(Decimal("1")), b.month
    # the book's deals were open 2–3 months ago: at least one of those months has a forecast
    assert any(b.forecast for b in f.backtest)


def test_targets_attainment_and_leaderboard(book: dict[str, Any], role_users: dict[str, Any]) -> None:
    manager, rep, other = role_users["manager"], book["rep"], book["other"]
    start = month_start(TODAY)
    set_target(actor=manager, period="month", start=start, amount="4000", deals=2, user=rep)
    set_target(actor=manager, period="month", start=start, amount="10000", deals=1, user=other)
    services.move_stage(actor=other, opp=book["theirs"], stage=stages()["Won"])
    won_rep = sum((o.amount for o in book["won"] if o.closed_on >= start), Decimal(0))

    perf = performance.performance(manager, Scope(team=rep.team.parent), "month", TODAY)

    rows = {r.user.pk: r for r in perf.reps}
    assert rows[other.pk].won == Decimal(9000) and rows[other.pk].attainment == 90
    assert rows[rep.pk].won == won_rep
    assert rows[rep.pk].attainment == (round(won_rep / 4000 * 100) if won_rep else 0)
    ranked = [r.user.pk for r in perf.reps if r.won]
    assert ranked == sorted(ranked, key=lambda pk: -rows[pk].won)
    assert perf.total.target == Decimal(14000)
    assert perf.trend[-1].month == start and perf.trend[-1].target == Decimal(14000)
    # the targets are in CNY: the same report in US dollars compares with no target, never with yuan
    usd = performance.performance(manager, Scope(team=rep.team.parent, currency="USD"), "month", TODAY)
    assert usd.total.target == 0 and usd.trend[-1].target == 0
    assert all(r.target == 0 for r in usd.reps)


def test_a_rep_sees_only_their_own_figures(book: dict[str, Any]) -> None:
    services.move_stage(actor=book["other"], opp=book["theirs"], stage=stages()["Won"])

    perf = performance.performance(book["rep"], Scope(), "month", TODAY)

    assert book["other"].pk not in {r.user.pk for r in perf.reps if r.won}
    assert perf.total.won == sum((o.amount for o in book["won"] if o.closed_on >= month_start(TODAY)), Decimal(0))


def test_bad_targets_are_refused_and_change_nothing(role_users: dict[str, Any]) -> None:
    manager, rep = role_users["manager"], role_users["rep"]
    start = month_start(TODAY)
    with pytest.raises(ValidationError) as err:
        set_target(actor=manager, period="month", start=start, amount="-5", user=rep)
    assert "amount" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        set_target(actor=manager, period="quarter", start=start.replace(month=2), amount="5", user=rep)
    assert "start" in err.value.message_dict
    with pytest.raises(ValidationError):
        set_target(actor=manager, period="month", start=start, amount="abc", user=rep)
    with pytest.raises(PermissionDenied):
        set_target(actor=rep, period="month", start=start, amount="5000", user=rep)
    assert not Target.objects.exists()
    # zero removes a target
    set_target(actor=manager, period="month", start=start, amount="5000", user=rep)
    set_target(actor=manager, period="month", start=start, amount="0", deals=0, user=rep)
    assert not Target.objects.exists()


def test_expansion_suggests_what_similar_customers_bought_together(
    role_users: dict[str, Any], customer_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = role_users["rep"]
    a, b, c = (Product.objects.create(name=n, sku=n, series="S") for n in ("A", "B", "C"))

    def bought(*products: Product) -> Any:
        cust = customer_factory(owner=rep, industry="retail")
        opp = services.create_opportunity(actor=rep, data={"name": "x", "customer": cust})
        services.set_lines(
            actor=rep, opp=opp, lines=[{"product": p, "quantity": 1, "unit_price": 10} for p in products]
        )
        services.move_stage(actor=rep, opp=opp, stage=stages()["Won"])
        return cust

    for _i in range(5):
        bought(a, b)
    for _i in range(2):
        bought(a)
    for _i in range(3):
        bought(c)
    me = bought(a)
    monkeypatch.setattr(expansion, "MIN_PEERS", 1)  # a small test book: every retail customer is a peer

    found = expansion.suggestions(me)

    assert [s.product for s in found] == [b]
    s = found[0]
    # 11 buyers; A: 8 (me included), B: 5, A and B: 5
    assert s.because == a and s.both == 5
    assert s.support == pytest.approx(5 / 11)
    assert s.confidence == pytest.approx(5 / 8)
    assert s.lift == pytest.approx((5 / 8) / (5 / 11))
    # C was never bought with A: no suggestion without evidence
    assert c not in [x.product for x in found]


def test_report_currencies_follow_new_deals_at_once(
    book: dict[str, Any], django_assert_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rep = book["rep"]
    assert currencies(rep) == ["CNY"]
    # the list of every currency is kept: the reports do not scan every deal on each page view; a rep who sees
    # only their own deals costs one query of one EXISTS per currency
    with django_assert_num_queries(1):
        assert currencies(rep) == ["CNY"]
    with django_capture_on_commit_callbacks(execute=True):
        services.create_opportunity(
            actor=rep, data={"name": "美元单", "customer": book["customer"], "amount": "10", "currency": "USD"}
        )
    assert currencies(rep) == ["CNY", "USD"]


def test_report_currencies_are_those_of_the_deals_the_user_may_see(
    book: dict[str, Any], role_users: dict[str, Any], django_assert_num_queries: Any
) -> None:
    rep, other, admin = book["rep"], book["other"], role_users["admin"]
    for code in ("USD", "USD", "EUR"):  # most used first: USD before EUR
        services.create_opportunity(
            actor=rep, data={"name": code, "customer": book["customer"], "amount": "10", "currency": code}
        )
    services.create_opportunity(actor=other, data={"name": "JPY", "amount": "10", "currency": "JPY"})

    # the default currency first, then by use; never a currency of deals the user may not see
    assert currencies(rep) == ["CNY", "USD", "EUR"]
    assert currencies(other) == ["CNY", "JPY"]
    assert currencies(role_users["east_manager"]) == ["CNY", "USD", "EUR"]  # the east team's deals only
    assert currencies(admin) == ["CNY", "USD", "EUR", "JPY"]
    with django_assert_num_queries(0):  # the administrator sees every deal: the kept list as it is
        assert currencies(admin) == ["CNY", "USD", "EUR", "JPY"]
    assert currencies(role_users["agent"]) == []  # no deals at all
