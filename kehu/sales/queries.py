"""Read-side helpers of the sales domain, always through the gate: the board, the 360° page of a deal,
contract files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.utils import timezone

from kehu.core import permissions
from kehu.core.pagination import paginate
from kehu.sales.models import Contract, ContractFile, Opportunity, Pipeline, Stage, StageHistory

CURRENCIES_KEY = "kehu:sales:deal-currencies"
CURRENCIES_SECONDS = 600
BOARD_PAGE = 50
CLOSED_DAYS = 30  # the Won and Lost columns show the deals closed in the last month
ZERO = Decimal("0")


@dataclass
class Column:
    key: str  # the stage id, or "won" / "lost"
    title: str
    kind: str
    stage: Stage  # the stage a card dropped here moves to
    stage_ids: list[int]
    probability: int
    count: int = 0
    money: dict[str, list[Decimal]] = field(default_factory=dict)  # currency → [amount, weighted]
    cards: list[Opportunity] = field(default_factory=list)
    next_cursor: str | None = None

    @property
    def totals(self) -> list[dict[str, Any]]:
        """The column's amount and weighted amount per currency (never summed across currencies), largest first."""
        rows = [
            {"currency": c, "amount": a, "weighted": w.quantize(Decimal("0.01"))} for c, (a, w) in self.money.items()
        ]
        return sorted(rows, key=lambda r: (-r["amount"], r["currency"]))


def visible_pipelines() -> list[Pipeline]:
    return list(Pipeline.objects.filter(active=True).order_by("-is_default", "order", "id"))


def board_columns(pipeline: Pipeline) -> list[Column]:
    """One column per active open stage, then Won and Lost (each gathering the pipeline's stages of that kind)."""
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id"))
    columns = [
        Column(str(s.pk), s.name, "open", s, [s.pk], s.probability)
        for s in stages
        if s.kind == Stage.Kind.OPEN and s.active
    ]
    for kind in (Stage.Kind.WON, Stage.Kind.LOST):
        of_kind = [s for s in stages if s.kind == kind]
        target = next((s for s in of_kind if s.active), None)
        if target is not None:
            columns.append(Column(kind, str(Stage.Kind(kind).label), kind, target, [s.pk for s in of_kind], 0))
    return columns


def board_queryset(user: Any, pipeline: Pipeline, params: Any) -> QuerySet:
    """The deals of the board: visible to the user, in the pipeline, narrowed by the board filters
    (owner: "me" or "team"; expected close from / to)."""
    qs = permissions.visible(Opportunity, user).filter(pipeline=pipeline)
    pol = permissions.policy(user, Opportunity)
    owner = params.get("owner", "")
    if owner == "me":
        qs = qs.filter(owner_id=user.pk)
    elif owner == "team" and pol.can_read("team"):
        qs = qs.filter(Q(owner_id=user.pk) | Q(team_id__in=pol.team_ids))
    if pol.can_read("expected_close"):
        for key, lookup in (("close_from", "gte"), ("close_to", "lte")):
            raw = params.get(key, "")
            if raw:
                try:
                    day = dt.date.fromisoformat(raw)
                except ValueError as exc:
                    raise ValidationError({key: ["invalid"]}) from exc
                qs = qs.filter(**{f"expected_close__{lookup}": day})
    return qs


def weighted_expression() -> ExpressionWrapper:
    return ExpressionWrapper(
        F("amount") * F("probability") / 100, output_field=DecimalField(max_digits=20, decimal_places=2)
    )


def fill_board(columns: list[Column], qs: QuerySet, size: int = BOARD_PAGE) -> None:
    """Totals per currency of the open columns in one grouped query (a covering index of open deals serves
    it) and of the Won and Lost columns — deals closed in the last CLOSED_DAYS days — in another, then each
    column's largest deals (one query per column: the board index serves it however many deals the stage
    holds)."""
    totals: dict[int, list[dict[str, Any]]] = {}
    for part in (
        qs.filter(status=Opportunity.Status.OPEN),
        closed_recently(qs.exclude(status=Opportunity.Status.OPEN)),
    ):
        for row in (
            part.values("stage_id", "currency")
            .order_by()
            .annotate(n=Count("*"), amount_sum=Coalesce(Sum("amount"), ZERO), weighted_sum=Sum(weighted_expression()))
        ):
            totals.setdefault(row["stage_id"], []).append(row)
    for col in columns:
        for sid in col.stage_ids:
            for row in totals.get(sid, []):
                col.count += row["n"]
                pair = col.money.setdefault(row["currency"], [ZERO, ZERO])
                pair[0] += row["amount_sum"] or ZERO
                pair[1] += Decimal(row["weighted_sum"] or 0)
        if col.count:
            page = column_page(qs, col, None, size)
            col.cards, col.next_cursor = page.items, page.next_cursor


def closed_recently(qs: QuerySet) -> QuerySet:
    return qs.filter(closed_on__gte=timezone.localdate() - dt.timedelta(days=CLOSED_DAYS))


def column_page(qs: QuerySet, col: Column, cursor: str | None, size: int = BOARD_PAGE) -> Any:
    # naming the status lets the (stage, status, amount, id) index give the largest deals first
    cards = qs.filter(stage_id__in=col.stage_ids, status=col.kind).select_related("customer", "owner")
    if col.kind != Stage.Kind.OPEN:
        cards = closed_recently(cards)
    cards = cards.only(
        "id",
        "name",
        "amount",
        "currency",
        "probability",
        "expected_close",
        "status",
        "stage_id",
        "version",
        "owner_id",
        "team_id",
        "loss_reason",
        "loss_note",
        "customer__id",
        "customer__name",
        "owner__id",
        "owner__username",
        "owner__display_name",
        "owner__first_name",
        "owner__last_name",
    )
    return paginate(cards, ["-amount"], cursor, size)


def stage_history(opp: Opportunity) -> list[dict[str, Any]]:
    rows = list(StageHistory.objects.filter(opportunity=opp).select_related("stage", "entered_by"))
    now = timezone.now()
    return [
        {
            "stage": h.stage,
            "entered_at": h.entered_at,
            "left_at": h.left_at,
            "days": ((h.left_at or now) - h.entered_at).days,
            "by": h.entered_by,
            "amount": h.amount,
        }
        for h in reversed(rows)
    ]


def customer_opportunities(user: Any, customer: Any, limit: int = 50) -> list[Opportunity]:
    """The deals of one customer the user may see: open ones first, then the most recently closed."""
    qs = permissions.visible(Opportunity, user).filter(customer=customer).select_related("stage", "owner")
    open_deals = list(qs.filter(status=Opportunity.Status.OPEN).order_by("expected_close", "-id")[:limit])
    closed = list(qs.exclude(status=Opportunity.Status.OPEN).order_by("-closed_on", "-id")[:limit])
    return open_deals + closed


def contract_file(user: Any, contract_id: int, file_id: int, action: str = "view") -> ContractFile:
    """One file of a contract the user may see (or `action` on), if the files field is readable to them;
    404 otherwise, whether the contract, the file or the right is missing."""
    contract = permissions.get_or_404(Contract, user, contract_id, action)
    if not permissions.policy(user, Contract).can_read("files"):
        raise Http404
    item = ContractFile.objects.filter(contract=contract, pk=file_id).first()
    if item is None:
        raise Http404
    return item


def file_download(item: ContractFile) -> FileResponse:
    """The stored file as an attachment under its original name, never rendered inline by the browser."""
    from kehu.core.views import attachment

    return attachment(item.file, item.name)


def deal_currencies() -> list[str]:
    """The currencies deals are recorded in, most used first: the reports' currency choices. One grouped scan of
    every deal, kept in the cache for CURRENCIES_SECONDS and dropped as soon as a deal brings a new currency
    (`note_currency`). The same list for every user: a currency code tells nothing about any one deal."""
    cached = cache.get(CURRENCIES_KEY)
    if cached is None:
        rows = Opportunity.objects.order_by().values_list("currency").annotate(n=Count("*")).order_by("-n", "currency")
        cached = [c for c, _n in rows]
        cache.set(CURRENCIES_KEY, cached, CURRENCIES_SECONDS)
    return list(cached)


def note_currency(code: str) -> None:
    """A deal was saved in `code`: if the cached list lacks it, drop the list so the next report rebuilds it."""
    cached = cache.get(CURRENCIES_KEY)
    if cached is not None and code not in cached:
        cache.delete(CURRENCIES_KEY)


def forget_currencies() -> None:
    """Drop the cached list (after bulk writes that bypass the services: imports, demo data)."""
    cache.delete(CURRENCIES_KEY)
