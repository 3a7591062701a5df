"""Sales forecast (S5): the weighted pipeline by close month, a forecast learned from closed deals, best
case / commit / closed per month, and forecast against actual for past months.

The history-based forecast learns two things per stage from closed deals: how often a deal that reached
the stage was won (won deals count as having reached every open stage; a lost deal reached the furthest
open stage it was in), and the median number of days from entering the stage to winning. Each open deal
is then expected to close `median days` after it entered its current stage (or this month, if that day
has passed) with its stage's win rate. Past months are back-tested the same way: the deals open on the
first day of the month, at the stage they were in that day (from the stage history), against the amount
actually won in that month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from kehu.analytics.queries import DaysBetween
from kehu.analytics.scope import Scope, add_months, as_date, month_start
from kehu.sales.models import Stage, StageHistory

COMMIT_PROBABILITY = 70  # open deals at or above this probability are "commit"
LEARN_DAYS = 730  # closed deals of the last two years teach the stage model
SAMPLE = 5_000  # the cycle times come from this many of the most recent won deals
ZERO = Decimal("0")


@dataclass
class Month:
    month: dt.date
    open_count: int = 0
    pipeline: Decimal = ZERO  # unweighted amount of open deals expected to close in the month
    weighted: Decimal = ZERO  # amount × probability
    commit: Decimal = ZERO  # open deals with probability ≥ COMMIT_PROBABILITY
    closed: Decimal = ZERO  # won in the month
    predicted: Decimal = ZERO  # history-based forecast

    @property
    def best_case(self) -> Decimal:
        return self.closed + self.pipeline

    @property
    def commit_total(self) -> Decimal:
        return self.closed + self.commit


@dataclass
class Backtest:
    month: dt.date
    forecast: Decimal
    actual: Decimal

    @property
    def error(self) -> Decimal:
        return self.forecast - self.actual

    @property
    def error_pct(self) -> float | None:
        return float(self.error / self.actual * 100) if self.actual else None


@dataclass
class StageModel:
    win_rate: dict[int, float] = field(default_factory=dict)  # stage id → P(won | reached stage)
    days_to_win: dict[int, float] = field(default_factory=dict)  # stage id → median days from entry to won
    closed_deals: int = 0
    won_deals: int = 0


@dataclass
class Forecast:
    months: list[Month]
    past_due: Month  # open deals whose expected close date has passed
    undated: Month  # open deals without an expected close date
    backtest: list[Backtest]
    model: StageModel
    stages: list[Stage]

    @property
    def mean_abs_error(self) -> Decimal | None:
        return mean_abs_error(self.backtest)

    @property
    def mean_abs_error_pct(self) -> float | None:
        return mean_abs_error_pct(self.backtest)


def mean_abs_error(rows: list[Backtest]) -> Decimal | None:
    """The mean of |forecast − actual| over the back-tested months, in the currency's units."""
    if not rows:
        return None
    return (sum((abs(b.error) for b in rows), ZERO) / len(rows)).quantize(Decimal("1"))


def mean_abs_error_pct(rows: list[Backtest]) -> float | None:
    errs = [abs(b.error_pct) for b in rows if b.error_pct is not None]
    return sum(errs) / len(errs) if errs else None


def _weighted_expr() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount") * F("probability"), output_field=DecimalField(max_digits=20, decimal_places=2))


def _median(histogram: dict[int, int]) -> float:
    """The median of values given as value → how many times it occurs (the mean of the two middle ones
    when there is an even number, as `statistics.median`)."""
    n = sum(histogram.values())
    lo, hi = (n - 1) // 2, n // 2  # positions of the middle value(s) in the sorted list
    seen, low_value = 0, None
    for value in sorted(histogram):
        seen += histogram[value]
        if low_value is None and seen > lo:
            low_value = value
        if seen > hi:
            return (low_value + value) / 2  # type: ignore[operator]
    raise ValueError("empty histogram")


def learn(user: Any, scope: Scope, *, before: dt.date | None = None) -> StageModel:
    """Stage win rates and days-to-win from the deals in scope that closed in the learning window. Both are
    grouped in the database: deals by (pipeline, highest stage, outcome), and the stays of the latest won
    deals by (stage, days from entering it to winning) — a few hundred rows whatever the data size."""
    today = before or timezone.localdate()
    closed = scope.deals(user).filter(
        status__in=["won", "lost"], closed_on__gte=today - dt.timedelta(days=LEARN_DAYS), closed_on__lt=today
    )
    rows = list(closed.order_by().values("pipeline_id", "max_stage_order", "status").annotate(n=Count("*")))
    stages = list(Stage.objects.filter(kind=Stage.Kind.OPEN))
    model = StageModel()
    for s in stages:
        reached = won = 0
        for r in rows:
            if r["pipeline_id"] != s.pipeline_id:
                continue
            if r["status"] == "won":
                won += r["n"]
                reached += r["n"]
            elif r["max_stage_order"] >= s.order:
                reached += r["n"]
        if reached:
            model.win_rate[s.pk] = won / reached
    model.closed_deals = sum(r["n"] for r in rows)
    model.won_deals = sum(r["n"] for r in rows if r["status"] == "won")
    winners = closed.filter(status="won")
    if model.won_deals > SAMPLE:  # the most recent SAMPLE won deals (with the others won on the cut-off day)
        cutoff = winners.order_by("-closed_on").values_list("closed_on", flat=True)[SAMPLE - 1]
        winners = winners.filter(closed_on__gte=cutoff)
    days: dict[int, dict[int, int]] = defaultdict(dict)
    # from the deals' side, so the index that found the deals also gives their close date
    for stage_id, d, n in (
        winners.filter(stage_history__stage__kind=Stage.Kind.OPEN)
        .annotate(d=DaysBetween(F("closed_on"), TruncDate("stage_history__entered_at")))
        .values("stage_history__stage_id", "d")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("stage_history__stage_id", "d", "n")
    ):
        key = max(0, int(d))
        days[stage_id][key] = days[stage_id].get(key, 0) + n
    model.days_to_win = {sid: _median(h) for sid, h in days.items() if h}
    return model


def _expected(model: StageModel, stage_id: int, entered: dt.date, today: dt.date) -> tuple[float, dt.date]:
    rate = model.win_rate.get(stage_id, 0.0)
    close = entered + dt.timedelta(days=round(model.days_to_win.get(stage_id, 30.0)))
    return rate, max(close, today)


def forecast(user: Any, scope: Scope, *, months: int = 6, past: int = 6, today: dt.date | None = None) -> Forecast:
    today = today or timezone.localdate()
    first = month_start(today)
    horizon = add_months(first, months)
    deals = scope.deals(user)
    rows = {m: Month(m) for m in (add_months(first, i) for i in range(months))}
    past_due, undated = Month(first), Month(first)
    open_deals = deals.filter(status="open").order_by()
    by_month = (
        open_deals.annotate(m=TruncMonth("expected_close"))
        .values("m")
        .annotate(
            n=Count("*"),
            total=Sum("amount"),
            wsum=Sum(_weighted_expr()),
            csum=Sum("amount", filter=Q(probability__gte=COMMIT_PROBABILITY)),
        )
    )
    for r in by_month:
        m = None if r["m"] is None else as_date(r["m"])
        target = undated if m is None else past_due if m < first else rows.get(m)
        if target is None:
            continue  # beyond the horizon
        target.open_count += r["n"]
        target.pipeline += r["total"] or ZERO
        target.weighted += (r["wsum"] or ZERO) / 100
        target.commit += r["csum"] or ZERO
    won = (
        deals.filter(status="won", closed_on__gte=first, closed_on__lt=horizon)
        .order_by()
        .annotate(m=TruncMonth("closed_on"))
        .values("m")
        .annotate(total=Sum("amount"))
    )
    for w in won:
        m = as_date(w["m"])
        if m in rows:
            rows[m].closed += w["total"] or ZERO
    model = learn(user, scope, before=today)
    # the open deals grouped by stage and the day they entered it: the model gives each group one close month
    for stage_id, entered, amount in (
        open_deals.annotate(day=TruncDate("stage_entered_at"))
        .values("stage_id", "day")
        .annotate(total=Sum("amount"))
        .values_list("stage_id", "day", "total")
    ):
        rate, close = _expected(model, stage_id, as_date(entered), today)
        m = month_start(close)
        if m in rows:
            rows[m].predicted += Decimal(str(rate)) * (amount or ZERO)
    for month in [*rows.values(), past_due, undated]:
        month.weighted = month.weighted.quantize(Decimal("1"))
        month.predicted = month.predicted.quantize(Decimal("1"))
    stages = Stage.objects.filter(kind=Stage.Kind.OPEN).select_related("pipeline").order_by("pipeline", "order", "id")
    if scope.pipeline is not None:
        stages = stages.filter(pipeline=scope.pipeline)
    return Forecast(
        list(rows.values()), past_due, undated, backtest(user, scope, model, past, today), model, list(stages)
    )


def backtest(user: Any, scope: Scope, model: StageModel, past: int, today: dt.date) -> list[Backtest]:
    """For each of the last `past` months: what the stage model would have forecast on its first day,
    against what was won in it. Two grouped queries for all the months: the stays in an open stage that span
    a month's first instant, summed per (stage, day entered) with one column per month; and the won amount
    per month."""
    first = month_start(today)
    if past <= 0:
        return []
    starts = [add_months(first, -i) for i in range(past, 0, -1)]
    instants = [timezone.make_aware(dt.datetime.combine(m, dt.time.min)) for m in starts]
    deals = scope.deals(user)
    # a deal open at one of the instants started before the last one and closed (if at all) after the first
    candidates = deals.filter(started_on__lt=starts[-1]).filter(
        Q(closed_on__isnull=True) | Q(closed_on__gte=starts[0] - dt.timedelta(days=1))
    )
    spans = {
        f"m{i}": Sum(
            "amount", filter=Q(entered_at__lt=at) & (Q(left_at__isnull=True) | Q(left_at__gte=at)), default=ZERO
        )
        for i, at in enumerate(instants)
    }
    open_stages = list(Stage.objects.filter(kind=Stage.Kind.OPEN).values_list("pk", flat=True))
    predicted = [ZERO] * past
    for row in (
        StageHistory.objects.filter(
            opportunity__in=candidates.values("pk"), stage_id__in=open_stages, entered_at__lt=instants[-1]
        )
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=instants[0]))
        .annotate(day=TruncDate("entered_at"))
        .values("stage_id", "day")
        .annotate(**spans)
        .order_by()
    ):
        sums: dict[str, Any] = dict(row)
        entered = as_date(sums["day"])
        for i, m in enumerate(starts):
            amount = sums[f"m{i}"]
            if not amount:
                continue
            rate, close = _expected(model, sums["stage_id"], entered, m)
            if m <= close < add_months(m, 1):
                predicted[i] += Decimal(str(rate)) * amount
    actual: dict[dt.date, Decimal] = {}
    for w in (
        deals.filter(status="won", closed_on__gte=starts[0], closed_on__lt=first)
        .order_by()
        .annotate(m=TruncMonth("closed_on"))
        .values("m")
        .annotate(total=Sum("amount"))
    ):
        actual[as_date(w["m"])] = w["total"] or ZERO
    return [Backtest(m, predicted[i].quantize(Decimal("1")), actual.get(m, ZERO)) for i, m in enumerate(starts)]
