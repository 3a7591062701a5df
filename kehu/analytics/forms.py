"""The report filters: one form parses the page's, the export's and the API's query string."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from kehu.analytics import scope as scope_module
from kehu.analytics.scope import Scope
from kehu.core import permissions
from kehu.core.models import PicklistOption
from kehu.sales.models import Opportunity, Pipeline, Target
from kehu.users.models import Team, User

if TYPE_CHECKING:
    from kehu.analytics.performance import TargetGridData

PERIODS = [
    ("this_month", _("This month")),
    ("this_quarter", _("This quarter")),
    ("this_year", _("This year")),
    ("last_year", _("Last year")),
    ("custom", _("Custom")),
]
DEFAULT_PERIOD = "this_year"
MAX_DAYS = 366 * 20


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if period == "this_month":
        start = today.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    elif period == "this_quarter":
        start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        end = (start + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
    elif period == "last_year":
        start, end = dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    else:
        start, end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    return start, end


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class TeamChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return "— " * max(obj.depth, 0) + obj.name


class PeriodForm(forms.Form):
    """A period (a preset or custom dates), a team (with its sub-teams) and a rep: the filters every report over
    a period shares (the funnel, partners and suppliers)."""

    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = TeamChoice(label=_("Team"), queryset=Team.objects.all(), required=False, empty_label=_("All teams"))
    owner = UserChoice(
        label=_("Sales rep"),
        queryset=User.objects.only("id", "username", "display_name", "first_name", "last_name"),
        required=False,
        empty_label=_("Everyone"),
    )

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and not data.get("period"):
            # show the period actually used: custom when dates are given, else the default preset
            data = data.copy()
            data["period"] = "custom" if data.get("start") or data.get("end") else DEFAULT_PERIOD
        super().__init__(data, *args, **kwargs)

    def style(self) -> None:
        for f in self.fields.values():
            css = "form-select form-select-sm" if isinstance(f.widget, forms.Select) else "form-control form-control-sm"
            f.widget.attrs.setdefault("class", css)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        period = data.get("period") or ("custom" if start or end else DEFAULT_PERIOD)
        if period == "custom":
            if start is None and "start" not in self.errors:
                self.add_error("start", _("Enter the first day of the period."))
            if end is None and "end" not in self.errors:
                self.add_error("end", _("Enter the last day of the period."))
            if start and end and end < start:
                self.add_error("end", _("The period cannot end before it starts."))
            elif start and end and (end - start).days > MAX_DAYS:
                self.add_error("end", _("Choose a period of at most twenty years."))
        else:
            data["start"], data["end"] = period_bounds(period, timezone.localdate())
        data["period"] = period
        return data

    def query(self) -> dict[str, Any]:
        """The cleaned filters as keyword arguments of the report's query function."""
        d = self.cleaned_data
        return {"start": d["start"], "end": d["end"], "team": d.get("team"), "owner": d.get("owner")}


class FunnelForm(PeriodForm):
    source = forms.ChoiceField(label=_("Source channel"), required=False)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.all(), required=False, empty_label=_("All pipelines")
    )

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        options = PicklistOption.objects.filter(list="source").order_by("order", "id")
        source = self.fields["source"]
        assert isinstance(source, forms.ChoiceField)
        source.choices = [("", _("All sources")), *[(o.value, o.label) for o in options]]
        self.style()

    def query(self) -> dict[str, Any]:
        """The cleaned filters as keyword arguments of `queries.funnel`."""
        d = self.cleaned_data
        return {**super().query(), "source": d.get("source") or None, "pipeline": d.get("pipeline")}


class PartnersForm(PeriodForm):
    """The filters of the partners and suppliers report (`partners.report`)."""

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        self.style()


# --------------------------------------------------------------------------- forecast, performance, targets


def _style(form: forms.Form) -> None:
    for f in form.fields.values():
        css = "form-select form-select-sm" if isinstance(f.widget, forms.Select) else "form-control form-control-sm"
        f.widget.attrs.setdefault("class", css)


class ScopeForm(forms.Form):
    """Team, rep, pipeline and currency: the slice of deals a forecast or performance report covers. The team
    and rep choices are those within the user's data scope on deals (a filter narrows, never widens)."""

    team = TeamChoice(label=_("Team"), queryset=Team.objects.all(), required=False, empty_label=_("All teams"))
    owner = UserChoice(
        label=_("Sales rep"),
        queryset=User.objects.filter(is_active=True).only("id", "username", "display_name", "first_name", "last_name"),
        required=False,
        empty_label=_("Everyone"),
    )
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.all(), required=False, empty_label=_("All pipelines")
    )
    currency = forms.ChoiceField(label=_("Currency"), required=False)

    def __init__(self, data: Any = None, *args: Any, user: Any, **kwargs: Any) -> None:
        # the currencies of the deals the user may see, the default one first; without a choice the report is in
        # the first of them, and the select shows that one (a page and its Apply button never switch silently)
        self.currencies = scope_module.currencies(user) or [settings.KEHU_DEFAULT_CURRENCY]
        if data is not None and not data.get("currency"):
            data = data.copy()
            data["currency"] = self.currencies[0]
        super().__init__(data, *args, **kwargs)
        self.user = user
        pol = permissions.policy(user, Opportunity)
        self.data_scope = pol.scope
        team, owner = self.fields["team"], self.fields["owner"]
        assert isinstance(team, forms.ModelChoiceField) and isinstance(owner, forms.ModelChoiceField)
        if pol.scope == "team":
            team.queryset = Team.objects.filter(pk__in=pol.team_ids)
            owner.queryset = owner.queryset.filter(Q(team_id__in=pol.team_ids) | Q(pk=user.pk))  # type: ignore[union-attr]
        # a user who sees only their own deals has no team or rep to choose: such filters are accepted and ignored
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = [(c, c) for c in self.currencies]
        _style(self)

    @property
    def own_only(self) -> bool:
        """The user sees only their own deals: the team and rep filters mean nothing to them."""
        return self.data_scope not in ("team", "all")

    def clean_currency(self) -> str:
        """One of the user's currencies (any other code is refused as an invalid choice)."""
        return self.cleaned_data.get("currency") or self.currencies[0]

    def scope(self) -> Scope:
        d = self.cleaned_data
        owner = self.user if self.own_only else d.get("owner")
        team = None if self.own_only else d.get("team")
        return Scope(team=team, owner=owner, pipeline=d.get("pipeline"), currency=d["currency"])


class ForecastForm(ScopeForm):
    pass


def _quarters(today: dt.date) -> list[tuple[str, str]]:
    out = []
    for year in range(today.year + 1, today.year - 4, -1):
        for q in range(4, 0, -1):
            out.append((f"{year}-Q{q}", f"{year} Q{q}"))
    return out


class PerformanceForm(ScopeForm):
    """The period (a month or a quarter) and the scope. A manager's default team is their own; a rep always
    sees only themselves."""

    kind = forms.ChoiceField(label=_("Period"), choices=Target.Period.choices, required=False)
    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
    )
    quarter = forms.ChoiceField(label=_("Quarter"), required=False)

    field_order = ["kind", "month", "quarter", "team", "owner", "pipeline", "currency"]

    def __init__(self, data: Any = None, *args: Any, user: Any, **kwargs: Any) -> None:
        today = timezone.localdate()
        if data is not None:
            data = data.copy()
            if not data.get("kind"):
                data["kind"] = Target.Period.MONTH
            if "month" not in data:
                data["month"] = today.strftime("%Y-%m")
            if "quarter" not in data:
                data["quarter"] = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
            fresh = "team" not in data and "owner" not in data
            if fresh and user.team_id and permissions.policy(user, Opportunity).scope == "team":
                data["team"] = str(user.team_id)  # a manager starts on their own team
        super().__init__(data, *args, user=user, **kwargs)
        self.today = today
        quarter = self.fields["quarter"]
        assert isinstance(quarter, forms.ChoiceField)
        quarter.choices = _quarters(today)

    def clean_quarter(self) -> dt.date | None:
        value = self.cleaned_data.get("quarter") or ""
        if not value:
            return None
        year, q = value.split("-Q")
        return dt.date(int(year), (int(q) - 1) * 3 + 1, 1)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        kind = data.get("kind") or Target.Period.MONTH
        data["kind"] = kind
        picked = data.get("quarter") if kind == Target.Period.QUARTER else data.get("month")
        data["day"] = picked or self.today
        return data

    def query(self) -> dict[str, Any]:
        """The cleaned filters as arguments of `performance.performance`."""
        d = self.cleaned_data
        return {"scope": self.scope(), "kind": d["kind"], "day": d["day"]}


def target_teams(user: Any) -> Any:
    """The teams whose targets the user may set: every team with the data scope "all" on `sales.target`, their own
    team and its sub-teams with "team" (a seed sales manager), none with "own"."""
    pol = permissions.policy(user, Target)
    if pol.scope == "all":
        return Team.objects.all()
    if pol.scope == "team":
        return Team.objects.filter(pk__in=pol.team_ids)
    return Team.objects.none()


class TargetsForm(forms.Form):
    """Which targets the editor shows: a year, months or quarters, and a team (its members and sub-teams) among
    those whose targets the user may set."""

    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    kind = forms.ChoiceField(label=_("Period"), choices=Target.Period.choices, required=False)
    team = TeamChoice(label=_("Team"), queryset=Team.objects.all(), required=False, empty_label=None)

    def __init__(self, data: Any = None, *args: Any, user: Any, **kwargs: Any) -> None:
        teams = target_teams(user)
        if data is not None:
            data = data.copy()
            data.setdefault("year", str(timezone.localdate().year))
            data.setdefault("kind", Target.Period.MONTH)
            if not data.get("team"):
                first = teams.filter(pk=user.team_id).first() or teams.order_by("path").first()
                if first is not None:
                    data["team"] = str(first.pk)
        super().__init__(data, *args, **kwargs)
        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)
        team.queryset = teams
        self.fields["year"].widget.attrs["inputmode"] = "numeric"
        _style(self)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        data["year"] = data.get("year") or timezone.localdate().year
        data["kind"] = data.get("kind") or Target.Period.MONTH
        return data


@dataclass
class Cell:
    start: dt.date
    amount: str  # as typed (or as stored)
    deals: str
    current: tuple[Decimal, int]
    name: str  # the inputs are "a-<name>" (amount) and "d-<name>" (deal count)
    errors: list[str] = field(default_factory=list)


@dataclass
class Row:
    label: str
    user: Any = None
    team: Any = None
    cells: list[Cell] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"u{self.user.pk}" if self.user is not None else f"t{self.team.pk}"


class TargetGrid:
    """The targets of a team's reps (sub-teams included) and of the team itself for each month or quarter of
    a year, as a grid of inputs; `clean()` parses a posted grid cell by cell."""

    def __init__(self, grid: TargetGridData, data: Any = None) -> None:
        self.kind, self.year, self.team = grid.kind, grid.year, grid.team
        self.starts = grid.starts
        self.rows: list[Row] = []
        for row_user, row_team, label in [(None, grid.team, str(grid.team)), *[(u, None, str(u)) for u in grid.users]]:
            row = Row(label, row_user, row_team)
            for start in self.starts:
                amount, deals = grid.current.get((row.key, start), (Decimal(0), 0))
                name = f"{row.key}-{start.isoformat()}"
                if data is not None:
                    typed_amount = (data.get(f"a-{name}") or "").strip()
                    typed_deals = (data.get(f"d-{name}") or "").strip()
                else:
                    typed_amount = _plain(amount) if amount else ""
                    typed_deals = str(deals) if deals else ""
                row.cells.append(Cell(start, typed_amount, typed_deals, (amount, deals), name))
            self.rows.append(row)
        self.has_errors = False

    def changes(self) -> dict[str, dict[str, Any]]:
        """The cells whose value differs from the stored target, as `set_targets` arguments; cells that cannot
        be read get their messages (and the grid `has_errors`)."""
        out: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            for cell in row.cells:
                amount = _parse_amount(cell)
                deals = _parse_deals(cell)
                if cell.errors:
                    self.has_errors = True
                    continue
                if (amount, deals) == cell.current:
                    continue
                out[cell.name] = {
                    "period": self.kind,
                    "start": cell.start,
                    "amount": amount,
                    "deals": deals,
                    "user": row.user,
                    "team": row.team,
                }
        return out

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        for row in self.rows:
            for cell in row.cells:
                if cell.name in errors:
                    cell.errors += errors[cell.name]
                    self.has_errors = True

    def column_label(self, start: dt.date) -> str:
        if self.kind == Target.Period.QUARTER:
            return f"Q{(start.month - 1) // 3 + 1}"
        return date_format(start, "M")

    @property
    def columns(self) -> list[tuple[dt.date, str]]:
        return [(s, self.column_label(s)) for s in self.starts]


def _plain(amount: Decimal) -> str:
    """An amount as an input shows it: no trailing zero cents."""
    return f"{amount:f}".rstrip("0").rstrip(".") if "." in f"{amount:f}" else f"{amount:f}"


def _parse_amount(cell: Cell) -> Decimal:
    text = cell.amount.replace(",", "").replace(" ", "")
    if not text:
        return Decimal(0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        cell.errors.append(str(_("Amount: enter a number.")))
        return Decimal(0)
    if not value.is_finite():
        cell.errors.append(str(_("Amount: enter a number.")))
    elif value < 0:
        cell.errors.append(str(_("Amount: a target cannot be negative.")))
    elif value >= Decimal("1e12"):
        cell.errors.append(str(_("Amount: enter a smaller number.")))
    else:
        return value.quantize(Decimal("0.01"))
    return Decimal(0)


def _parse_deals(cell: Cell) -> int:
    text = cell.deals.strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        cell.errors.append(str(_("Deals: enter a whole number.")))
        return 0
    if value < 0:
        cell.errors.append(str(_("Deals: a target cannot be negative.")))
        return 0
    if value > 1_000_000:
        cell.errors.append(str(_("Deals: enter a smaller number.")))
        return 0
    return value
