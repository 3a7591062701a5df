"""Targets and performance (S4): per rep and team, what was won in a month or quarter against the
target; a leaderboard; the monthly trend; follow-ups logged and task completion per rep.

Won deals count in the period they closed in. A quarter's target is the quarter target when one is set,
otherwise the sum of the monthly targets in it. Team targets are the team's own targets when set,
otherwise the sum of its reps' targets.

Whose rows: the reps of the scope's team with its sub-teams, or the scope's rep; without either, the owners of
the deals won in the period that the user may see and the reps with a target in it whose deals the user may
see (a rep: only themselves; a manager: their team and its sub-teams).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from kehu.activities.models import Activity
from kehu.activities.queries import completion_by_owner
from kehu.analytics.scope import Scope, add_months, as_date, team_ids
from kehu.core import permissions
from kehu.sales.models import Opportunity, Target

ZERO = Decimal("0")


@dataclass
class RepRow:
    user: Any
    target: Decimal = ZERO
    target_deals: int = 0
    won: Decimal = ZERO
    won_deals: int = 0
    open_pipeline: Decimal = ZERO
    follow_ups: int = 0
    tasks_assigned: int = 0
    tasks_done: int = 0
    tasks_on_time: int = 0
    tasks_overdue: int = 0
    rank: int = 0

    @property
    def attainment(self) -> int | None:
        return round(self.won / self.target * 100) if self.target else None

    @property
    def deals_attainment(self) -> int | None:
        return round(self.won_deals / self.target_deals * 100) if self.target_deals else None

    @property
    def task_completion(self) -> int | None:
        return round(self.tasks_done / self.tasks_assigned * 100) if self.tasks_assigned else None


@dataclass
class TrendPoint:
    month: dt.date
    won: Decimal
    target: Decimal

    @property
    def attainment(self) -> int | None:
        return round(self.won / self.target * 100) if self.target else None


@dataclass
class Performance:
    start: dt.date
    end: dt.date  # exclusive
    reps: list[RepRow]
    total: RepRow
    trend: list[TrendPoint] = field(default_factory=list)


def period(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    if kind == Target.Period.QUARTER:
        start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return start, add_months(start, 3)
    start = day.replace(day=1)
    return start, add_months(start, 1)


def _targets(
    kind: str, start: dt.date, end: dt.date, user_ids: list[int], currency: str
) -> dict[int, tuple[Decimal, int]]:
    rows = Target.objects.filter(user_id__in=user_ids, start__gte=start, start__lt=end, currency=currency)
    quarter: dict[int, tuple[Decimal, int]] = {}
    months: dict[int, tuple[Decimal, int]] = {}
    for t in rows:
        bucket = quarter if t.period == Target.Period.QUARTER else months
        amount, deals = bucket.get(t.user_id, (ZERO, 0))  # type: ignore[arg-type]
        bucket[t.user_id] = (amount + t.amount, deals + t.deals)  # type: ignore[index]
    if kind == Target.Period.QUARTER:
        return {**months, **quarter}
    return months


def team_target(kind: str, start: dt.date, end: dt.date, team: Any, currency: str) -> tuple[Decimal, int] | None:
    """The team's own target for the period (quarter: its quarter target, else its monthly ones), or None."""
    rows = list(Target.objects.filter(team=team, start__gte=start, start__lt=end, currency=currency))
    quarter = [t for t in rows if t.period == Target.Period.QUARTER]
    chosen = quarter if kind == Target.Period.QUARTER and quarter else [t for t in rows if t.period == "month"]
    if not chosen:
        return None
    return sum((t.amount for t in chosen), ZERO), sum(t.deals for t in chosen)


def _target_owners(user: Any, start: dt.date, end: dt.date) -> set[int]:
    """The reps with a target in the period whose deals the user may see (by the deals' data scope)."""
    pol = permissions.policy(user, Opportunity)
    if not pol.can("view"):
        return set()
    qs = Target.objects.filter(start__gte=start, start__lt=end, user__isnull=False)
    if pol.scope == "own":
        qs = qs.filter(user_id=user.pk)
    elif pol.scope == "team":
        qs = qs.filter(Q(user_id=user.pk) | Q(user__team_id__in=pol.team_ids))
    return set(qs.values_list("user_id", flat=True))


def performance(user: Any, scope: Scope, kind: str, day: dt.date, *, trend_months: int = 12) -> Performance:
    """The reps of the scope's team (or the scope's rep, or everyone the user's deals involve)."""
    start, end = period(kind, day)
    deals = scope.deals(user)
    User = get_user_model()
    if scope.owner is not None:
        people = [scope.owner]
    elif scope.team is not None:
        people = list(User.objects.filter(team_id__in=team_ids(scope.team), is_active=True))
    else:
        owner_ids = set(deals.filter(closed_on__gte=start, closed_on__lt=end).values_list("owner_id", flat=True))
        owner_ids |= _target_owners(user, start, end)
        people = list(User.objects.filter(pk__in=owner_ids))
    rows = {u.pk: RepRow(u) for u in people}
    ids = list(rows)
    won = (
        deals.filter(owner_id__in=ids, status="won", closed_on__gte=start, closed_on__lt=end)
        .order_by()
        .values("owner_id")
        .annotate(total=Sum("amount"), n=Count("*"))
    )
    for r in won:
        rows[r["owner_id"]].won, rows[r["owner_id"]].won_deals = r["total"] or ZERO, r["n"]
    for owner_id, amount in (
        deals.filter(owner_id__in=ids, status="open").order_by().values_list("owner_id").annotate(s=Sum("amount"))
    ):
        rows[owner_id].open_pipeline = amount or ZERO
    if permissions.can(user, Target, "view"):
        for uid, (amount, n) in _targets(kind, start, end, ids, scope.currency).items():
            rows[uid].target, rows[uid].target_deals = amount, n
    for owner_id, n in (
        permissions.visible(Activity, user)
        .filter(owner_id__in=ids, occurred_at__date__gte=start, occurred_at__date__lt=end)
        .order_by()
        .values_list("owner_id")
        .annotate(n=Count("id"))
    ):
        rows[owner_id].follow_ups = n
    for c in completion_by_owner(user, start, end - dt.timedelta(days=1)):
        if c.owner is not None and c.owner.pk in rows:
            rep = rows[c.owner.pk]
            rep.tasks_assigned, rep.tasks_done, rep.tasks_on_time, rep.tasks_overdue = (
                c.assigned,
                c.done,
                c.done_on_time,
                c.overdue_open,
            )
    ranked = sorted(rows.values(), key=lambda r: (-r.won, -r.won_deals, str(r.user)))
    for i, rep in enumerate(ranked, 1):
        rep.rank = i
    total = RepRow(None)
    for rep in ranked:
        total.target += rep.target
        total.target_deals += rep.target_deals
        total.won += rep.won
        total.won_deals += rep.won_deals
        total.open_pipeline += rep.open_pipeline
        total.follow_ups += rep.follow_ups
        total.tasks_assigned += rep.tasks_assigned
        total.tasks_done += rep.tasks_done
        total.tasks_on_time += rep.tasks_on_time
        total.tasks_overdue += rep.tasks_overdue
    if scope.team is not None and scope.owner is None and permissions.can(user, Target, "view"):
        own = team_target(kind, start, end, scope.team, scope.currency)
        if own is not None:
            total.target, total.target_deals = own
    return Performance(start, end, ranked, total, trend(user, scope, ids, end, trend_months))


def trend(user: Any, scope: Scope, ids: list[int], end: dt.date, months: int) -> list[TrendPoint]:
    first = add_months(end.replace(day=1), -months)
    deals = scope.deals(user).filter(status="won", closed_on__gte=first, closed_on__lt=end)
    if scope.owner is not None or scope.team is not None:
        deals = deals.filter(owner_id__in=ids)
    won = {
        as_date(r["m"]): r["s"] or ZERO
        for r in deals.order_by().annotate(m=TruncMonth("closed_on")).values("m").annotate(s=Sum("amount"))
    }
    targets: dict[dt.date, Decimal] = {}
    if permissions.can(user, Target, "view"):
        for start, amount in (
            Target.objects.filter(
                user_id__in=ids, period=Target.Period.MONTH, start__gte=first, start__lt=end, currency=scope.currency
            )
            .order_by()
            .values_list("start")
            .annotate(s=Sum("amount"))
        ):
            targets[start] = amount or ZERO
        if scope.team is not None and scope.owner is None:  # the team's own monthly targets where set
            for start, amount in Target.objects.filter(
                team=scope.team, period=Target.Period.MONTH, start__gte=first, start__lt=end, currency=scope.currency
            ).values_list("start", "amount"):
                targets[start] = amount
    points = []
    m = first
    while m < end:
        points.append(TrendPoint(m, won.get(m, ZERO), targets.get(m, ZERO)))
        m = add_months(m, 1)
    return points


@dataclass
class TargetGridData:
    """What the targets editor shows: the periods of a year, the team's active reps (sub-teams included) and
    the stored targets by (row key, period start): "u<user id>" for a rep, "t<team id>" for the team."""

    kind: str
    year: int
    team: Any
    starts: list[dt.date]
    users: list[Any]
    current: dict[tuple[str, dt.date], tuple[Decimal, int]]


def target_grid(user: Any, kind: str, year: int, team: Any) -> TargetGridData:
    months = range(1, 13) if kind == Target.Period.MONTH else (1, 4, 7, 10)
    starts = [dt.date(year, m, 1) for m in months]
    User = get_user_model()
    users = list(
        User.objects.filter(team_id__in=team_ids(team), is_active=True)
        .select_related("team")
        .order_by("team__path", "name_sort", "id")
    )
    current: dict[tuple[str, dt.date], tuple[Decimal, int]] = {}
    if permissions.can(user, Target, "view"):
        rows = Target.objects.filter(period=kind, start__gte=starts[0], start__lt=dt.date(year + 1, 1, 1)).filter(
            Q(user__in=[u.pk for u in users]) | Q(team=team)
        )
        for t in rows:
            key = f"u{t.user_id}" if t.user_id else f"t{t.team_id}"
            current[(key, t.start)] = (t.amount, t.deals)
    return TargetGridData(kind, year, team, starts, users, current)
