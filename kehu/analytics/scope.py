"""The slice of deals a report covers: the user's visible opportunities, narrowed by team (with its
sub-teams), rep, pipeline and currency. Amounts are summed per currency, never across currencies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Exists

from kehu.core import permissions
from kehu.sales import queries as sales_queries
from kehu.sales.models import Opportunity, Pipeline
from kehu.users.models import Team


@dataclass
class Scope:
    team: Team | None = None
    owner: Any | None = None
    pipeline: Pipeline | None = None
    currency: str = "CNY"

    def deals(self, user: Any) -> models.QuerySet[Opportunity]:
        qs = permissions.visible(Opportunity, user).filter(currency=self.currency)
        if self.team is not None:
            qs = qs.filter(team_id__in=team_ids(self.team))
        if self.owner is not None:
            qs = qs.filter(owner=self.owner)
        if self.pipeline is not None:
            qs = qs.filter(pipeline=self.pipeline)
        return qs


def team_ids(team: Team | int) -> list[int]:
    """The team and all its sub-teams."""
    return list(permissions.subtree(team.pk if isinstance(team, Team) else int(team)))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def as_date(value: Any) -> dt.date:
    """A truncated date from a grouped query as a date (SQLite may hand back a datetime or a string)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]


def add_months(day: dt.date, n: int) -> dt.date:
    m = day.month - 1 + n
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def currencies(user: Any) -> list[str]:
    """The currencies of the deals the user may see: the default currency first (when they have deals in it), then
    the others, most used first. The list of every currency in use is cached (`sales.queries.deal_currencies`); a
    user who does not see every deal keeps the codes for which at least one deal they may see exists, asked in one
    query of one EXISTS per code, each answered by the first matching row of the user's own or team deals (an
    index serves it) — never a scan of all their deals. A code outside this list is refused by the report filters,
    so no report tells a user which currencies other people's deals are in."""
    pol = permissions.policy(user, Opportunity)
    if not pol.can("view"):
        return []
    codes = sales_queries.deal_currencies()
    if pol.scope != "all" and codes:
        deals = permissions.visible(Opportunity, user)
        flags = {f"c{i}": Exists(deals.filter(currency=code)) for i, code in enumerate(codes)}
        row = get_user_model().objects.filter(pk=user.pk).values(**flags).first() or {}
        codes = [code for i, code in enumerate(codes) if row.get(f"c{i}")]
    default = settings.KEHU_DEFAULT_CURRENCY
    if default in codes:
        codes = [default, *(c for c in codes if c != default)]
    return codes
