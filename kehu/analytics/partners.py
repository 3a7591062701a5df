"""Partners and suppliers (C5): what each partner brought in, and what is contracted with each supplier.
Definitions: docs/reports.md → Partners and suppliers.

A customer record is typed as a partner or a supplier (`Customer.relationship`). Partner figures count the deals
the user may see whose `partner` is that customer; supplier figures count the supplier contracts (`Contract.kind`)
the user may see. Both start from the gate and narrow by team (with its sub-teams) and owner, never widen.

A fixed handful of grouped queries whatever the data size, each answered from the deals (or contracts) of
partners (or suppliers) only:

1. deals started in the period per partner (sourced);
2. deals closed in the period per partner, status and currency (won, lost, won amount);
3. for the partners listed: open deals per currency (today's open pipeline) and the latest start of a deal;
4. supplier contracts starting in the period per supplier and currency (count, value);
5. the suppliers with an active contract running during the period;
6. active supplier contracts per supplier (count, next renewal or end date);
plus the names of the partners and suppliers shown and which of them the user may open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from kehu.analytics.queries import CLOSED, Money, _add_money, _money, _rate
from kehu.analytics.scope import team_ids
from kehu.core import permissions
from kehu.customers.models import Customer
from kehu.sales.models import Contract, Opportunity
from kehu.users.models import Team, User

ROWS = 200  # most partners (and suppliers) listed, the most productive first; the totals say how many there are
S = Opportunity.Status


@dataclass
class PartnerRow:
    partner_id: int
    name: str = ""
    visible: bool = False  # the user may open the partner's customer page
    sourced: int = 0  # deals started in the period
    open_count: int = 0  # open deals today, whenever they started
    open_amounts: list[Money] = field(default_factory=list)
    won: int = 0  # closed in the period
    lost: int = 0
    won_amounts: list[Money] = field(default_factory=list)
    last_deal: dt.date | None = None  # the latest start of any of its deals the user may see

    @property
    def win_rate(self) -> float | None:
        return _rate(self.won, self.won + self.lost)

    def won_amount(self, currency: str) -> Decimal:
        return next((m.amount for m in self.won_amounts if m.currency == currency), Decimal("0"))

    def open_amount(self, currency: str) -> Decimal:
        return next((m.amount for m in self.open_amounts if m.currency == currency), Decimal("0"))


@dataclass
class SupplierRow:
    supplier_id: int
    name: str = ""
    visible: bool = False
    contracts: int = 0  # supplier contracts starting in the period
    values: list[Money] = field(default_factory=list)  # their value per currency
    active: int = 0  # active supplier contracts today
    next_date: dt.date | None = None  # the earliest renewal or end date, from today, of the active ones

    def value(self, currency: str) -> Decimal:
        return next((m.amount for m in self.values if m.currency == currency), Decimal("0"))


@dataclass
class PartnerReport:
    start: dt.date
    end: dt.date
    team: Team | None
    owner: User | None
    partners: list[PartnerRow] | None  # None: the user may not see deals' partners
    partners_total: int = 0
    suppliers: list[SupplierRow] | None = None  # None: the user may not see supplier contracts
    suppliers_total: int = 0
    show_amounts: bool = True  # deal amounts are readable
    show_values: bool = True  # contract values are readable

    @property
    def empty(self) -> bool:
        return not (self.partners or self.suppliers)

    @property
    def partner_currencies(self) -> list[str]:
        rows = self.partners or []
        return sorted({m.currency for r in rows for m in [*r.won_amounts, *r.open_amounts]})

    @property
    def supplier_currencies(self) -> list[str]:
        return sorted({m.currency for r in self.suppliers or [] for m in r.values})

    def totals(self) -> dict[str, Any]:
        """The partners' sums: deals sourced, open, won, lost and the amounts per currency."""
        out: dict[str, Any] = {
            "sourced": 0,
            "open_count": 0,
            "won": 0,
            "lost": 0,
            "won_amounts": [],
            "open_amounts": [],
        }
        for r in self.partners or []:
            for key in ("sourced", "open_count", "won", "lost"):
                out[key] += getattr(r, key)
            for m in r.won_amounts:
                _add_money(out["won_amounts"], m.currency, m.amount, m.count)
            for m in r.open_amounts:
                _add_money(out["open_amounts"], m.currency, m.amount, m.count)
        out["win_rate"] = _rate(out["won"], out["won"] + out["lost"])
        return out

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values (the API's body; amounts as strings, rates as fractions 0–1)."""

        def money(items: list[Money]) -> list[dict[str, Any]]:
            return [{"currency": m.currency, "amount": str(m.amount), "count": m.count} for m in items]

        partners = None
        if self.partners is not None:
            partners = [
                {
                    "id": r.partner_id,
                    "name": r.name,
                    "sourced": r.sourced,
                    "open": r.open_count,
                    "open_amounts": money(r.open_amounts),
                    "won": r.won,
                    "lost": r.lost,
                    "win_rate": r.win_rate,
                    "won_amounts": money(r.won_amounts),
                    "last_deal": r.last_deal.isoformat() if r.last_deal else None,
                }
                for r in self.partners
            ]
        suppliers = None
        if self.suppliers is not None:
            suppliers = [
                {
                    "id": r.supplier_id,
                    "name": r.name,
                    "contracts": r.contracts,
                    "values": money(r.values),
                    "active": r.active,
                    "next_date": r.next_date.isoformat() if r.next_date else None,
                }
                for r in self.suppliers
            ]
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "filters": {
                "team": self.team.pk if self.team else None,
                "owner": self.owner.pk if self.owner else None,
            },
            "partners": partners,
            "partners_total": self.partners_total,
            "suppliers": suppliers,
            "suppliers_total": self.suppliers_total,
        }


def _narrow(qs: QuerySet, team: Team | None, owner: User | None) -> QuerySet:
    if team is not None:
        qs = qs.filter(team_id__in=team_ids(team))
    if owner is not None:
        qs = qs.filter(owner_id=owner.pk)
    return qs


def _names(user: Any, ids: list[int]) -> tuple[dict[int, str], set[int]]:
    """The names of these partners or suppliers (each named on a deal or contract the user may see, as the lists
    show them) and which of them the user may open."""
    names = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))
    visible = set(permissions.visible(Customer, user).filter(pk__in=ids).values_list("pk", flat=True))
    return names, visible


def report(
    user: Any,
    *,
    start: dt.date,
    end: dt.date,
    team: Team | None = None,
    owner: User | None = None,
    today: dt.date | None = None,
) -> PartnerReport:
    """The partners and suppliers report of what `user` may see, for a period (both ends included)."""
    today = today or timezone.localdate()
    result = PartnerReport(start, end, team, owner, None)
    deal_policy = permissions.policy(user, Opportunity)
    if deal_policy.can("view") and deal_policy.can_read("partner"):
        result.show_amounts = deal_policy.can_read("amount")
        deals = _narrow(permissions.visible(Opportunity, user), team, owner).filter(partner__isnull=False)
        result.partners, result.partners_total = _partners(user, deals, start, end, result.show_amounts)
    contract_policy = permissions.policy(user, Contract)
    if contract_policy.can("view") and all(contract_policy.can_read(n) for n in ("customer", "kind", "start_date")):
        result.show_values = contract_policy.can_read("value")
        contracts = _narrow(permissions.visible(Contract, user), team, owner).filter(kind=Contract.Kind.SUPPLIER)
        result.suppliers, result.suppliers_total = _suppliers(user, contracts, start, end, today, result.show_values)
    return result


def _partners(user: Any, deals: QuerySet, start: dt.date, end: dt.date, amounts: bool) -> tuple[list[PartnerRow], int]:
    """A partner is listed when a deal naming it started or closed in the period."""
    rows: dict[int, PartnerRow] = {}

    def row(pk: int) -> PartnerRow:
        return rows.setdefault(pk, PartnerRow(pk))

    started = deals.filter(started_on__gte=start, started_on__lte=end)
    for pk, n in started.order_by().values_list("partner_id").annotate(n=Count("*")):
        row(pk).sourced = n
    closed = deals.filter(closed_on__gte=start, closed_on__lte=end, status__in=CLOSED)
    for r in closed.order_by().values("partner_id", "status", "currency").annotate(n=Count("*"), s=Sum("amount")):
        p = row(r["partner_id"])
        if r["status"] == S.WON:
            p.won += r["n"]
            if amounts:
                _add_money(p.won_amounts, r["currency"], _money(r["s"]), r["n"])
        else:
            p.lost += r["n"]
    ranked = sorted(rows.values(), key=lambda p: (-p.won, -p.sourced, -p.lost, p.partner_id))[:ROWS]
    ids = [p.partner_id for p in ranked]
    if not ids:
        return [], 0
    shown = deals.filter(partner_id__in=ids).order_by()
    for r in shown.filter(status=S.OPEN).values("partner_id", "currency").annotate(n=Count("*"), s=Sum("amount")):
        p = rows[r["partner_id"]]
        p.open_count += r["n"]
        if amounts:
            _add_money(p.open_amounts, r["currency"], _money(r["s"]), r["n"])
    for pk, day in shown.values_list("partner_id").annotate(d=Max("started_on")):
        rows[pk].last_deal = day
    names, visible = _names(user, ids)
    for p in ranked:
        p.name, p.visible = names.get(p.partner_id, ""), p.partner_id in visible
        p.won_amounts.sort(key=lambda m: (-m.amount, m.currency))
        p.open_amounts.sort(key=lambda m: (-m.amount, m.currency))
    return ranked, len(rows)


def _suppliers(
    user: Any, contracts: QuerySet, start: dt.date, end: dt.date, today: dt.date, values: bool
) -> tuple[list[SupplierRow], int]:
    """A supplier is listed when one of its supplier contracts starts in the period, or an active one runs during
    it (started by the period's end, not ended before its start)."""
    rows: dict[int, SupplierRow] = {}

    def row(pk: int) -> SupplierRow:
        return rows.setdefault(pk, SupplierRow(pk))

    started = contracts.filter(start_date__gte=start, start_date__lte=end)
    for r in started.order_by().values("customer_id", "currency").annotate(n=Count("*"), s=Sum("value")):
        s = row(r["customer_id"])
        s.contracts += r["n"]
        if values:
            _add_money(s.values, r["currency"], _money(r["s"]), r["n"])
    active = contracts.filter(status=Contract.Status.ACTIVE).order_by()
    running = active.filter(Q(end_date__isnull=True) | Q(end_date__gte=start), start_date__lte=end)
    for pk in running.values_list("customer_id", flat=True).distinct():
        row(pk)
    figures = active.values("customer_id").annotate(
        n=Count("*"),
        renewal=Min("renewal_date", filter=Q(renewal_date__gte=today)),
        ends=Min("end_date", filter=Q(end_date__gte=today)),
    )
    for r in figures:
        listed = rows.get(r["customer_id"])
        if listed is None:
            continue
        listed.active = r["n"]
        dates = [d for d in (r["renewal"], r["ends"]) if d is not None]
        listed.next_date = min(dates) if dates else None
    ranked = sorted(rows.values(), key=lambda s: (-s.active, -s.contracts, s.supplier_id))[:ROWS]
    if ranked:
        names, visible = _names(user, [s.supplier_id for s in ranked])
        for s in ranked:
            s.name, s.visible = names.get(s.supplier_id, ""), s.supplier_id in visible
            s.values.sort(key=lambda m: (-m.amount, m.currency))
    return ranked, len(rows)


def sourced_deals(user: Any, partner: Customer, limit: int = 10) -> tuple[list[Opportunity], int]:
    """The deals this partner brought that the user may see, the most recently started first, and how many there
    are (for the partner's customer page)."""
    pol = permissions.policy(user, Opportunity)
    if not pol.can("view") or not pol.can_read("partner"):
        return [], 0
    qs = permissions.visible(Opportunity, user).filter(partner=partner)
    total = qs.count()
    deals = (
        list(qs.select_related("customer", "stage", "owner").order_by("-started_on", "-id")[:limit]) if total else []
    )
    return deals, total
