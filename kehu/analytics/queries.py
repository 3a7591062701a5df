"""Read-side figures of the sales reports: the funnel (S3). Definitions: docs/reports.md.

Everything starts from the gate (`permissions.visible`): a user's figures count only the leads and deals
they may see. Aggregates run in the database, a fixed handful of queries whatever the data size:

1. deals started in the period, grouped by pipeline, status and highest stage reached → reach per stage;
2. deals closed in the period, grouped by owner, team, status and currency → won, lost, win rate, amounts,
   cycle sum, and the breakdowns by owner and by team;
3. the median cycle (PostgreSQL: percentile_cont; elsewhere: the middle rows of an ordered query);
4. leads created in the period and how many of them have a follow-up;
plus the stages of the pipelines involved and the names of owners and teams.

Periods are whole days in Kehu's time zone, `start` and `end` both included.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models import Aggregate, Count, Exists, F, FloatField, Func, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.models import Activity
from kehu.analytics.scope import team_ids
from kehu.core import permissions
from kehu.sales.models import Lead, Opportunity, Pipeline, Stage
from kehu.users.models import Team, User

S = Opportunity.Status
CLOSED = (S.WON, S.LOST)


class DaysBetween(Func):
    """Whole days from `start` to `end` (two date columns), the same integer on SQLite and PostgreSQL."""

    output_field = models.IntegerField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sql(self, compiler: Any, conn: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        if conn.vendor == "sqlite":
            sql = f"CAST(julianday({end_sql}) - julianday({start_sql}) AS INTEGER)"
        else:  # PostgreSQL: date - date is an integer number of days
            sql = f"({end_sql} - {start_sql})"
        return sql, [*end_params, *start_params]


class Median(Aggregate):
    """PostgreSQL's exact median (the mean of the two middle values when there is an even number)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Money:
    currency: str
    amount: Decimal
    count: int

    @property
    def average(self) -> Decimal | None:
        return (self.amount / self.count).quantize(Decimal("0.01")) if self.count else None


@dataclass
class StageRow:
    stage_id: int
    name: str
    kind: str
    order: int
    reached: int
    conversion: float | None  # from the previous stage of the funnel
    overall: float | None  # from the first stage


@dataclass
class PipelineFunnel:
    pipeline_id: int
    name: str
    started: int
    won: int
    lost: int
    open: int
    stages: list[StageRow]

    @property
    def conversion(self) -> float | None:
        """Started → won: the share of the period's deals that were won (so far)."""
        return _rate(self.won, self.started)


@dataclass
class Breakdown:
    """One owner's or team's closed deals in the period."""

    key: int | None
    name: str
    won: int = 0
    lost: int = 0
    amounts: list[Money] = field(default_factory=list)

    @property
    def win_rate(self) -> float | None:
        return _rate(self.won, self.won + self.lost)

    def won_amount(self, currency: str) -> Decimal:
        return next((m.amount for m in self.amounts if m.currency == currency), Decimal("0"))


@dataclass
class Funnel:
    start: dt.date
    end: dt.date
    team: Team | None
    owner: User | None
    source: str
    pipeline: Pipeline | None
    leads_created: int = 0
    leads_followed_up: int = 0
    started: int = 0
    won_started: int = 0  # of the deals started in the period, how many are won by now
    pipelines: list[PipelineFunnel] = field(default_factory=list)
    won: int = 0
    lost: int = 0
    won_amounts: list[Money] = field(default_factory=list)  # per currency, largest first
    avg_cycle_days: float | None = None
    median_cycle_days: float | None = None
    by_owner: list[Breakdown] = field(default_factory=list)
    by_team: list[Breakdown] = field(default_factory=list)

    @property
    def follow_up_rate(self) -> float | None:
        return _rate(self.leads_followed_up, self.leads_created)

    @property
    def conversion(self) -> float | None:
        return _rate(self.won_started, self.started)

    @property
    def win_rate(self) -> float | None:
        return _rate(self.won, self.won + self.lost)

    @property
    def empty(self) -> bool:
        return not (self.leads_created or self.started or self.won or self.lost)

    def won_amount(self, currency: str) -> Decimal:
        return next((m.amount for m in self.won_amounts if m.currency == currency), Decimal("0"))

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values (the API's body; amounts as strings, rates as fractions)."""

        def money(items: list[Money]) -> list[dict[str, Any]]:
            return [
                {
                    "currency": m.currency,
                    "amount": str(m.amount),
                    "count": m.count,
                    "average": None if m.average is None else str(m.average),
                }
                for m in items
            ]

        def breakdown(rows: list[Breakdown]) -> list[dict[str, Any]]:
            return [
                {
                    "id": r.key,
                    "name": r.name,
                    "won": r.won,
                    "lost": r.lost,
                    "win_rate": r.win_rate,
                    "won_amounts": money(r.amounts),
                }
                for r in rows
            ]

        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "filters": {
                "team": self.team.pk if self.team else None,
                "owner": self.owner.pk if self.owner else None,
                "source": self.source or None,
                "pipeline": self.pipeline.pk if self.pipeline else None,
            },
            "leads": {
                "created": self.leads_created,
                "followed_up": self.leads_followed_up,
                "follow_up_rate": self.follow_up_rate,
            },
            "deals": {
                "started": self.started,
                "won_of_started": self.won_started,
                "conversion": self.conversion,
                "won": self.won,
                "lost": self.lost,
                "win_rate": self.win_rate,
                "won_amounts": money(self.won_amounts),
                "avg_cycle_days": self.avg_cycle_days,
                "median_cycle_days": self.median_cycle_days,
            },
            "pipelines": [
                {
                    "id": p.pipeline_id,
                    "name": p.name,
                    "started": p.started,
                    "won": p.won,
                    "lost": p.lost,
                    "open": p.open,
                    "conversion": p.conversion,
                    "stages": [asdict(s) for s in p.stages],
                }
                for p in self.pipelines
            ],
            "by_owner": breakdown(self.by_owner),
            "by_team": breakdown(self.by_team),
        }


def _pk(value: Any) -> int | None:
    return None if value in (None, "") else int(getattr(value, "pk", value))


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in Kehu's time zone, for datetime columns."""
    lo = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    hi = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return lo, hi


def funnel(
    user: Any,
    *,
    start: dt.date,
    end: dt.date,
    team: Team | int | None = None,
    owner: User | int | None = None,
    source: str | None = None,
    pipeline: Pipeline | int | None = None,
) -> Funnel:
    """The funnel of the deals and leads `user` may see: reach and conversion of the deals started in the
    period, outcomes (won, lost, amounts, cycle) of the deals closed in it, leads created in it."""
    team_obj = team if isinstance(team, Team) or team is None else Team.objects.filter(pk=team).first()
    owner_obj = owner if isinstance(owner, User) or owner is None else User.objects.filter(pk=owner).first()
    pipe_obj = (
        pipeline if isinstance(pipeline, Pipeline) or pipeline is None else Pipeline.objects.filter(pk=pipeline).first()
    )
    result = Funnel(start, end, team_obj, owner_obj, source or "", pipe_obj)
    teams = team_ids(team) if team not in (None, "") else None
    deals = permissions.visible(Opportunity, user)
    if pipeline not in (None, ""):
        deals = deals.filter(pipeline_id=_pk(pipeline))
    if owner not in (None, ""):
        deals = deals.filter(owner_id=_pk(owner))
    if teams is not None:
        deals = deals.filter(team_id__in=teams)
    if source:
        deals = deals.filter(source=source)
    _reach(result, deals.filter(started_on__gte=start, started_on__lte=end), pipe_obj)
    closed = deals.filter(closed_on__gte=start, closed_on__lte=end, status__in=CLOSED)
    # one grouped pass over the period's closed deals gives the outcomes and both breakdowns
    rows = list(
        closed.values("owner_id", "team_id", "status", "currency")
        .annotate(n=Count("*"), amount=Sum("amount"), days=Sum(DaysBetween(F("closed_on"), F("started_on"))))
        .order_by()
    )
    _outcomes(result, rows, closed)
    result.by_owner = _by_owner(rows)
    result.by_team = _by_team(rows, team_obj)
    _leads(result, user, start, end, owner, teams, source)
    return result


def _reach(result: Funnel, started: models.QuerySet, pipeline: Pipeline | None) -> None:
    rows = list(
        started.values("pipeline_id", "status", "max_stage_order").annotate(n=Count("*")).order_by()
    )  # one row per (pipeline, status, highest stage): a few dozen at most
    ids = {r["pipeline_id"] for r in rows} | ({pipeline.pk} if pipeline else set())
    if not ids:
        return
    stages: dict[int, list[Stage]] = defaultdict(list)
    names: dict[int, str] = {}
    order: dict[int, tuple[int, int]] = {}
    for s in Stage.objects.filter(pipeline_id__in=ids).select_related("pipeline").order_by("order", "id"):
        stages[s.pipeline_id].append(s)
        names[s.pipeline_id] = s.pipeline.name
        order[s.pipeline_id] = (s.pipeline.order, s.pipeline_id)
    for pid in sorted(ids, key=lambda p: order.get(p, (0, p))):
        mine = [r for r in rows if r["pipeline_id"] == pid]
        total = sum(r["n"] for r in mine)
        won = sum(r["n"] for r in mine if r["status"] == S.WON)
        lost = sum(r["n"] for r in mine if r["status"] == S.LOST)
        steps: list[StageRow] = []
        for s in stages.get(pid, []):
            if s.kind == Stage.Kind.LOST:
                continue
            if s.kind == Stage.Kind.WON:
                reached = won
            else:
                reached = sum(r["n"] for r in mine if r["status"] == S.WON or r["max_stage_order"] >= s.order)
            if not s.active and not reached:
                continue
            prev = steps[-1].reached if steps else None
            first = steps[0].reached if steps else reached
            steps.append(
                StageRow(
                    s.pk,
                    s.name,
                    s.kind,
                    s.order,
                    reached,
                    None if prev is None else _rate(reached, prev),
                    _rate(reached, first),
                )
            )
        result.pipelines.append(
            PipelineFunnel(pid, names.get(pid, str(pid)), total, won, lost, total - won - lost, steps)
        )
        result.started += total
        result.won_started += won


def _outcomes(result: Funnel, rows: list[dict[str, Any]], closed: models.QuerySet) -> None:
    won_rows = [r for r in rows if r["status"] == S.WON]
    result.won = sum(r["n"] for r in won_rows)
    result.lost = sum(r["n"] for r in rows if r["status"] == S.LOST)
    amounts: list[Money] = []
    for r in won_rows:
        _add_money(amounts, r["currency"], _money(r["amount"]), r["n"])
    result.won_amounts = sorted(amounts, key=lambda m: (-m.amount, m.currency))
    if result.won:
        result.avg_cycle_days = round(sum(r["days"] or 0 for r in won_rows) / result.won, 1)
        result.median_cycle_days = _median_days(closed.filter(status=S.WON), result.won)


def _median_days(won: models.QuerySet, n: int) -> float:
    days = DaysBetween(F("closed_on"), F("started_on"))
    if connection.vendor == "postgresql":
        value = won.aggregate(m=Median(days))["m"]
        return round(float(value), 1)
    # elsewhere: the one or two middle values of the ordered cycles, fetched alone (no million-row load)
    lo = (n - 1) // 2
    middle = list(won.annotate(days=days).order_by("days").values_list("days", flat=True)[lo : n // 2 + 1])
    return round(sum(middle) / len(middle), 1)


def _grouped(rows: list[dict[str, Any]], by: str) -> dict[int | None, Breakdown]:
    """The closed-deal rows (owner, team, status, currency) summed per owner or per team."""
    out: dict[int | None, Breakdown] = {}
    for r in rows:
        key = r[f"{by}_id"]
        item = out.setdefault(key, Breakdown(key, ""))
        if r["status"] == S.WON:
            item.won += r["n"]
            _add_money(item.amounts, r["currency"], _money(r["amount"]), r["n"])
        else:
            item.lost += r["n"]
    return out


def _add_money(amounts: list[Money], currency: str, amount: Decimal, count: int) -> None:
    """Add to the entry of `currency` in `amounts` (one entry per currency, never summed across)."""
    mine = next((x for x in amounts if x.currency == currency), None)
    if mine is None:
        amounts.append(Money(currency, amount, count))
    else:
        mine.amount += amount
        mine.count += count


def _merge(into: Breakdown, other: Breakdown) -> None:
    into.won += other.won
    into.lost += other.lost
    for m in other.amounts:
        _add_money(into.amounts, m.currency, m.amount, m.count)


def _sorted(rows: list[Breakdown]) -> list[Breakdown]:
    for item in rows:
        item.amounts.sort(key=lambda m: (-m.amount, m.currency))
    return sorted(rows, key=lambda b: (-(b.amounts[0].amount if b.amounts else 0), -b.won, b.name))


def _by_owner(rows: list[dict[str, Any]]) -> list[Breakdown]:
    out = _grouped(rows, "owner")
    for user in User.objects.filter(pk__in=[k for k in out if k is not None]).only(
        "id", "username", "display_name", "first_name", "last_name"
    ):
        out[user.pk].name = str(user)
    return _sorted(list(out.values()))


def _by_team(rows: list[dict[str, Any]], anchor: Team | None) -> list[Breakdown]:
    """Closed deals per team, rolled up to one level of the team tree: the sub-teams of the filtered team
    (or the top-level teams), going one level deeper while everything sits in a single team. A row's
    figures include its sub-teams, as the team filter does; `direct` rows hold deals of the level's
    parent team itself, "no team" rows deals without one (their `key` is None)."""
    raw = _grouped(rows, "team")
    teams = {t.pk: t for t in Team.objects.only("id", "name", "path")}
    level = anchor.path if anchor else "/"
    while True:
        groups: dict[Any, Breakdown] = {}
        depth = level.count("/") - 1
        for team_id, item in raw.items():
            team = teams.get(team_id) if team_id is not None else None
            if team is None or not team.path.startswith(level):
                key: Any = ("none", None)
            else:
                ids = team.path.strip("/").split("/")
                key = ("team", int(ids[depth])) if len(ids) > depth else ("direct", team.pk)
            _merge(groups.setdefault(key, Breakdown(key[1] if key[0] == "team" else None, "")), item)
        only = next(iter(groups)) if len(groups) == 1 else None
        deeper = (
            only is not None
            and only[0] == "team"
            and any(teams[t].path.count("/") - 1 > depth + 1 for t in raw if t in teams)
        )
        if not deeper:
            break
        level = teams[only[1]].path  # type: ignore[index]
    for (kind, pk), item in groups.items():
        if kind == "team":
            item.name = teams[pk].name
        elif kind == "direct":
            item.name = _("%(team)s (itself)") % {"team": teams[pk].name}
        else:
            item.name = _("No team")
    return _sorted(list(groups.values()))


def _leads(
    result: Funnel,
    user: Any,
    start: dt.date,
    end: dt.date,
    owner: Any,
    teams: list[int] | None,
    source: str | None,
) -> None:
    lo, hi = day_bounds(start, end)
    leads = permissions.visible(Lead, user).filter(created_at__gte=lo, created_at__lt=hi)
    if owner not in (None, ""):
        leads = leads.filter(owner_id=_pk(owner))
    if teams is not None:
        leads = leads.filter(team_id__in=teams)
    if source:
        leads = leads.filter(source=source)
    followed = Exists(Activity.objects.filter(lead_id=OuterRef("pk")))
    agg = leads.aggregate(created=Count("id"), followed=Count("id", filter=Q(followed)))
    result.leads_created = agg["created"] or 0
    result.leads_followed_up = agg["followed"] or 0
