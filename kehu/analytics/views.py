"""The report pages: parse the filters, call the query, render (or export)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kehu.analytics import expansion, performance, queries
from kehu.analytics import forecast as forecasting
from kehu.analytics.forms import ForecastForm, FunnelForm, PerformanceForm, TargetGrid, TargetsForm
from kehu.analytics.scope import Scope, add_months
from kehu.core import permissions
from kehu.core.models import PicklistOption
from kehu.customers.models import Customer
from kehu.dataio import exports
from kehu.sales.models import Target
from kehu.sales.services.targets import set_targets
from kehu.users.models import Team

OPPORTUNITY = "sales.opportunity"


def _require_reports(user: Any) -> None:
    if not permissions.can(user, OPPORTUNITY, "view"):
        raise PermissionDenied(_("You do not have permission to do this."))


class Links:
    """Where each number of the funnel leads: the opportunity or lead list, filtered to the same records
    (the lists apply the gate again, so a link never shows more than the number counted)."""

    def __init__(self, f: queries.Funnel) -> None:
        self.f = f
        common: dict[str, Any] = {}
        if f.team:
            common["team"] = f.team.pk
        if f.owner:
            common["owner"] = f.owner.pk
        if f.source:
            common["source"] = f.source
        self.common = common
        self.deals = reverse("sales:opportunity_list")
        self.lead_list = reverse("sales:lead_list")

    def _url(self, base: str, **params: Any) -> str:
        return base + "?" + urlencode({**self.common, **{k: v for k, v in params.items() if v is not None}})

    def _pipeline(self, pipeline_id: int | None = None) -> dict[str, Any]:
        pid = pipeline_id or (self.f.pipeline.pk if self.f.pipeline else None)
        return {"pipeline": pid} if pid else {}

    def started(self, pipeline_id: int | None = None, **extra: Any) -> str:
        f = self.f
        return self._url(
            self.deals,
            started_on__from=f.start.isoformat(),
            started_on__to=f.end.isoformat(),
            **self._pipeline(pipeline_id),
            **extra,
        )

    def reached(self, pipeline_id: int, stage_id: int) -> str:
        return self.started(pipeline_id, reached_stage=stage_id)

    def closed(self, status: str | None = None, **extra: Any) -> str:
        f = self.f
        return self._url(
            self.deals,
            closed_on__from=f.start.isoformat(),
            closed_on__to=f.end.isoformat(),
            status=status,
            **self._pipeline(),
            **extra,
        )

    def leads(self, followed_up: bool = False) -> str:
        f = self.f
        return self._url(
            self.lead_list,
            created_at__from=f.start.isoformat(),
            created_at__to=f.end.isoformat(),
            followed_up="1" if followed_up else None,
        )

    @property
    def leads_followed(self) -> str:
        return self.leads(followed_up=True)

    @property
    def started_all(self) -> str:
        return self.started()

    @property
    def won(self) -> str:
        return self.closed("won")

    @property
    def lost(self) -> str:
        return self.closed("lost")

    @property
    def closed_all(self) -> str:
        return self.closed()

    def owner(self, owner_id: int | None, status: str | None = None) -> str:
        return self.closed(status, owner=owner_id) if owner_id else ""

    def team(self, team_id: int | None, status: str | None = None) -> str:
        return self.closed(status, team=team_id) if team_id else ""


def _chart(f: queries.Funnel) -> list[dict[str, Any]]:
    """The data of one funnel chart per pipeline, for the page's script."""
    links = Links(f)
    return [
        {
            "id": p.pipeline_id,
            "name": p.name,
            "stages": [
                {"name": s.name, "value": s.reached, "url": links.reached(p.pipeline_id, s.stage_id)} for s in p.stages
            ],
        }
        for p in f.pipelines
    ]


@login_required
def funnel(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    form = FunnelForm(request.GET)
    context: dict[str, Any] = {"form": form, "can_export": permissions.can(request.user, OPPORTUNITY, "export")}
    if form.is_valid():
        f = queries.funnel(request.user, **form.query())
        links = Links(f)
        context.update(
            f=f,
            links=links,
            chart=_chart(f),
            breakdowns=[
                (
                    _("By sales rep"),
                    [
                        (row, links.owner(row.key, "won"), links.owner(row.key, "lost"), links.owner(row.key))
                        for row in f.by_owner
                    ],
                    _("Sales rep"),
                ),
                (
                    _("By team"),
                    [
                        (row, links.team(row.key, "won"), links.team(row.key, "lost"), links.team(row.key))
                        for row in f.by_team
                    ],
                    _("Team"),
                ),
            ],
            stage_rows=[(p, [(s, links.reached(p.pipeline_id, s.stage_id)) for s in p.stages]) for p in f.pipelines],
            query=request.GET.urlencode(),
        )
    return render(request, "analytics/funnel.html", context)


def _pct(value: float | None) -> Any:
    return None if value is None else round(value * 100, 1)


def funnel_tables(f: queries.Funnel) -> list[exports.Table]:
    """The funnel as tables for CSV / XLSX: summary, stages, by rep, by team."""
    summary: list[list[Any]] = [
        [_("Period"), f"{f.start.isoformat()} – {f.end.isoformat()}"],
        [_("Team"), str(f.team) if f.team else _("All teams")],
        [_("Sales rep"), str(f.owner) if f.owner else _("Everyone")],
        [_("Source channel"), f.source or _("All sources")],
        [_("Pipeline"), f.pipeline.name if f.pipeline else _("All pipelines")],
        [_("Leads created"), f.leads_created],
        [_("Leads followed up"), f.leads_followed_up],
        [_("Follow-up rate (%)"), _pct(f.follow_up_rate)],
        [_("Deals started"), f.started],
        [_("Won of the deals started"), f.won_started],
        [_("Overall conversion (%)"), _pct(f.conversion)],
        [_("Deals won"), f.won],
        [_("Deals lost"), f.lost],
        [_("Win rate (%)"), _pct(f.win_rate)],
        *[[_("Won amount (%(currency)s)") % {"currency": m.currency}, m.amount] for m in f.won_amounts],
        *[[_("Average deal size (%(currency)s)") % {"currency": m.currency}, m.average] for m in f.won_amounts],
        [_("Average sales cycle (days)"), f.avg_cycle_days],
        [_("Median sales cycle (days)"), f.median_cycle_days],
    ]
    stages = [[p.name, s.name, s.reached, _pct(s.conversion), _pct(s.overall)] for p in f.pipelines for s in p.stages]
    currencies = sorted({m.currency for rows in (f.by_owner, f.by_team) for r in rows for m in r.amounts})

    def breakdown(rows: list[queries.Breakdown]) -> list[list[Any]]:
        return [[r.name, r.won, r.lost, _pct(r.win_rate), *[r.won_amount(c) for c in currencies]] for r in rows]

    amount_cols = [_("Won amount (%(currency)s)") % {"currency": c} for c in currencies]
    head = [_("Won"), pgettext("deal", "Lost"), _("Win rate (%)"), *amount_cols]
    return [
        exports.Table(_("Summary"), [_("Measure"), _("Value")], summary),
        exports.Table(
            _("Stages"), [_("Pipeline"), _("Stage"), _("Reached"), _("From previous (%)"), _("Overall (%)")], stages
        ),
        exports.Table(_("By sales rep"), [_("Sales rep"), *head], breakdown(f.by_owner)),
        exports.Table(_("By team"), [_("Team"), *head], breakdown(f.by_team)),
    ]


@login_required
def funnel_export(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    if not permissions.can(request.user, OPPORTUNITY, "export"):
        raise PermissionDenied(_("You do not have permission to export these figures."))
    form = FunnelForm(request.GET)
    if not form.is_valid():
        return render(request, "analytics/funnel.html", {"form": form, "can_export": True}, status=400)
    f = queries.funnel(request.user, **form.query())
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return exports.response(fmt, f"funnel-{f.start.isoformat()}-{f.end.isoformat()}", funnel_tables(f))


# --------------------------------------------------------------------------- forecast (S5)

BACKTEST_MONTHS = 6


def short_month(day: dt.date) -> str:
    """A month as a chart axis shows it: "2026年11月", "Nov 2026"."""
    if (get_language() or "").startswith("zh"):
        return date_format(day, "YEAR_MONTH_FORMAT")
    return date_format(day, "M Y")


def _cents(value: Decimal | None) -> Decimal | None:
    """An amount with two decimals, as the exports show every amount."""
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _float(value: Decimal | None) -> float:
    return float(value or 0)


class ScopeLinks:
    """The opportunity list filtered to a report's scope (team with sub-teams, rep, pipeline, currency)."""

    def __init__(self, scope: Scope) -> None:
        common: dict[str, Any] = {"currency": scope.currency}
        if scope.team is not None:
            common["team"] = scope.team.pk
        if scope.owner is not None:
            common["owner"] = scope.owner.pk
        if scope.pipeline is not None:
            common["pipeline"] = scope.pipeline.pk
        self.common = common
        self.base = reverse("sales:opportunity_list")

    def url(self, **params: Any) -> str:
        return self.base + "?" + urlencode({**self.common, **{k: v for k, v in params.items() if v is not None}})

    def open_in(self, month: dt.date) -> str:
        last = add_months(month, 1) - dt.timedelta(days=1)
        return self.url(status="open", expected_close__from=month.isoformat(), expected_close__to=last.isoformat())

    def past_due(self, first: dt.date) -> str:
        return self.url(status="open", expected_close__to=(first - dt.timedelta(days=1)).isoformat())

    def undated(self) -> str:
        return self.url(status="open", no_close_date="1")

    def won(self, start: dt.date, end: dt.date, **extra: Any) -> str:
        """Won deals closed in [start, end) (`end` exclusive, as the period of the performance report)."""
        last = end - dt.timedelta(days=1)
        return self.url(status="won", closed_on__from=start.isoformat(), closed_on__to=last.isoformat(), **extra)

    def open_deals(self, **extra: Any) -> str:
        return self.url(status="open", **extra)


def _stage_rows(fc: forecasting.Forecast) -> list[dict[str, Any]]:
    return [
        {
            "stage": s,
            "win_rate": fc.model.win_rate.get(s.pk),
            "days_to_win": fc.model.days_to_win.get(s.pk),
        }
        for s in fc.stages
        if s.active or s.pk in fc.model.win_rate
    ]


def _forecast_chart(fc: forecasting.Forecast) -> dict[str, Any]:
    return {
        "months": [short_month(m.month) for m in fc.months],
        "closed": [_float(m.closed) for m in fc.months],
        "weighted": [_float(m.weighted) for m in fc.months],
        "predicted": [_float(m.predicted) for m in fc.months],
        "best_case": [_float(m.best_case) for m in fc.months],
        "labels": {
            "closed": _("Closed (won)"),
            "weighted": _("Weighted pipeline"),
            "predicted": _("History-based forecast"),
            "best_case": _("Best case"),
        },
    }


def _scope_names(scope: Scope) -> list[list[Any]]:
    return [
        [_("Currency"), scope.currency],
        [_("Team"), str(scope.team) if scope.team else _("All teams")],
        [_("Sales rep"), str(scope.owner) if scope.owner else _("Everyone")],
        [_("Pipeline"), scope.pipeline.name if scope.pipeline else _("All pipelines")],
    ]


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    form = ForecastForm(request.GET, user=request.user)
    context: dict[str, Any] = {"form": form, "can_export": permissions.can(request.user, OPPORTUNITY, "export")}
    if form.is_valid():
        scope = form.scope()
        fc = forecasting.forecast(request.user, scope, past=0)  # the back-test section loads after the page
        links = ScopeLinks(scope)
        first = fc.months[0].month
        context.update(
            fc=fc,
            scope=scope,
            rows=[(m, links.open_in(m.month)) for m in fc.months],
            past_due_url=links.past_due(first),
            horizon_url=links.url(
                status="open",
                expected_close__from=first.isoformat(),
                expected_close__to=(add_months(first, len(fc.months)) - dt.timedelta(days=1)).isoformat(),
            ),
            undated_url=links.undated(),
            stage_rows=_stage_rows(fc),
            chart=_forecast_chart(fc),
            totals={
                "open_count": sum(m.open_count for m in fc.months),
                "pipeline": sum((m.pipeline for m in fc.months), Decimal(0)),
                "weighted": sum((m.weighted for m in fc.months), Decimal(0)),
                "commit_total": sum((m.commit_total for m in fc.months), Decimal(0)),
                "best_case": sum((m.best_case for m in fc.months), Decimal(0)),
                "closed": sum((m.closed for m in fc.months), Decimal(0)),
                "predicted": sum((m.predicted for m in fc.months), Decimal(0)),
            },
            query=request.GET.urlencode(),
        )
    return render(request, "analytics/forecast.html", context)


@login_required
def forecast_backtest(request: HttpRequest) -> HttpResponse:
    """The forecast page's "Forecast vs. actual" section, loaded after the page (htmx): the back-test reads the
    stage history of every deal open in the last six months, the slowest part of the report."""
    _require_reports(request.user)
    form = ForecastForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "analytics/_filter_errors.html", {"form": form}, status=400)
    scope = form.scope()
    model = forecasting.learn(request.user, scope)
    rows = forecasting.backtest(request.user, scope, model, BACKTEST_MONTHS, timezone.localdate())
    return render(
        request,
        "analytics/_forecast_backtest.html",
        {
            "backtest": rows,
            "mean_abs_error": forecasting.mean_abs_error(rows),
            "mean_abs_error_pct": forecasting.mean_abs_error_pct(rows),
        },
    )


def _pct_plain(value: float | None) -> Any:
    return None if value is None else round(value, 1)


def forecast_tables(fc: forecasting.Forecast, scope: Scope) -> list[exports.Table]:
    def month_row(label: Any, m: forecasting.Month, dated: bool = True) -> list[Any]:
        return [
            label,
            m.open_count,
            _cents(m.pipeline),
            _cents(m.weighted),
            _cents(m.commit_total if dated else m.commit),
            _cents(m.best_case if dated else m.pipeline),
            _cents(m.closed) if dated else None,
            _cents(m.predicted) if dated else None,
        ]

    summary = [
        *_scope_names(scope),
        [_("Closed deals learned from"), fc.model.closed_deals],
        [_("Won deals learned from"), fc.model.won_deals],
        [_("Mean absolute error"), _cents(fc.mean_abs_error)],
        [_("Mean absolute error (%)"), _pct_plain(fc.mean_abs_error_pct)],
    ]
    head = [
        _("Month"),
        _("Open deals"),
        _("Pipeline"),
        _("Weighted"),
        _("Commit"),
        _("Best case"),
        _("Closed"),
        _("History-based forecast"),
    ]
    months = [month_row(m.month.strftime("%Y-%m"), m) for m in fc.months]
    months.append(month_row(_("Past due"), fc.past_due, dated=False))
    months.append(month_row(_("No close date"), fc.undated, dated=False))
    back = [
        [b.month.strftime("%Y-%m"), _cents(b.forecast), _cents(b.actual), _cents(b.error), _pct_plain(b.error_pct)]
        for b in fc.backtest
    ]
    stages = [
        [
            r["stage"].pipeline.name,
            r["stage"].name,
            None if r["win_rate"] is None else round(r["win_rate"] * 100, 1),
            r["days_to_win"],
        ]
        for r in _stage_rows(fc)
    ]
    return [
        exports.Table(_("Summary"), [_("Measure"), _("Value")], summary),
        exports.Table(_("Forecast"), head, months),
        exports.Table(
            _("Forecast vs. actual"), [_("Month"), _("Forecast"), _("Actual"), _("Error"), _("Error (%)")], back
        ),
        exports.Table(
            _("Stage model"), [_("Pipeline"), _("Stage"), _("Win rate (%)"), _("Median days to win")], stages
        ),
    ]


def _require_export(user: Any) -> None:
    _require_reports(user)
    if not permissions.can(user, OPPORTUNITY, "export"):
        raise PermissionDenied(_("You do not have permission to export these figures."))


@login_required
def forecast_export(request: HttpRequest) -> HttpResponse:
    _require_export(request.user)
    form = ForecastForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "analytics/forecast.html", {"form": form, "can_export": True}, status=400)
    scope = form.scope()
    fc = forecasting.forecast(request.user, scope)
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return exports.response(fmt, f"forecast-{fc.months[0].month:%Y-%m}-{scope.currency}", forecast_tables(fc, scope))


# --------------------------------------------------------------------------- performance and targets (S4)


def period_label(kind: str, start: dt.date) -> str:
    if kind == Target.Period.QUARTER:
        return _("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}
    return date_format(start, "YEAR_MONTH_FORMAT")


def _performance_chart(perf: performance.Performance) -> dict[str, Any]:
    return {
        "months": [short_month(p.month) for p in perf.trend],
        "won": [_float(p.won) for p in perf.trend],
        "target": [_float(p.target) for p in perf.trend],
        "labels": {"won": _("Won"), "target": _("Target")},
    }


@login_required
def performance_page(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    form = PerformanceForm(request.GET, user=request.user)
    context: dict[str, Any] = {
        "form": form,
        "can_export": permissions.can(request.user, OPPORTUNITY, "export"),
        "can_edit_targets": can_edit_targets(request.user),
    }
    if form.is_valid():
        q = form.query()
        perf = performance.performance(request.user, q["scope"], q["kind"], q["day"])
        links = ScopeLinks(q["scope"])
        context.update(
            perf=perf,
            scope=q["scope"],
            kind=q["kind"],
            label=period_label(q["kind"], perf.start),
            won_url=links.won(perf.start, perf.end),
            rows=[
                (r, links.won(perf.start, perf.end, owner=r.user.pk), links.open_deals(owner=r.user.pk))
                for r in perf.reps
            ],
            chart=_performance_chart(perf),
            query=request.GET.urlencode(),
        )
    return render(request, "analytics/performance.html", context)


def performance_tables(perf: performance.Performance, scope: Scope, kind: str) -> list[exports.Table]:
    def rep_row(r: performance.RepRow, name: Any) -> list[Any]:
        return [
            r.rank or None,
            name,
            _cents(r.won),
            _cents(r.target),
            r.attainment,
            r.won_deals,
            r.target_deals,
            r.deals_attainment,
            _cents(r.open_pipeline),
            r.follow_ups,
            r.tasks_assigned,
            r.tasks_done,
            r.task_completion,
            round(r.tasks_on_time / r.tasks_done * 100) if r.tasks_done else None,
            r.tasks_overdue,
        ]

    head = [
        _("Rank"),
        _("Sales rep"),
        _("Won"),
        _("Target"),
        _("Attainment (%)"),
        _("Deals won"),
        _("Target deals"),
        _("Deals attainment (%)"),
        _("Open pipeline"),
        _("Follow-ups"),
        _("Tasks assigned"),
        _("Tasks done"),
        _("Task completion (%)"),
        _("Done on time (%)"),
        _("Overdue tasks"),
    ]
    reps = [rep_row(r, str(r.user)) for r in perf.reps]
    total = perf.total
    total.rank = 0
    reps.append(rep_row(total, _("Total")))
    summary: list[list[Any]] = [
        [_("Period"), period_label(kind, perf.start)],
        [_("From"), perf.start],
        [_("To"), perf.end - dt.timedelta(days=1)],
        *_scope_names(scope),
    ]
    trend = [[p.month.strftime("%Y-%m"), _cents(p.won), _cents(p.target), p.attainment] for p in perf.trend]
    return [
        exports.Table(_("Summary"), [_("Measure"), _("Value")], summary),
        exports.Table(_("Leaderboard"), head, reps),
        exports.Table(_("Trend"), [_("Month"), _("Won"), _("Target"), _("Attainment (%)")], trend),
    ]


@login_required
def performance_export(request: HttpRequest) -> HttpResponse:
    _require_export(request.user)
    form = PerformanceForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "analytics/performance.html", {"form": form, "can_export": True}, status=400)
    q = form.query()
    perf = performance.performance(request.user, q["scope"], q["kind"], q["day"])
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    name = f"performance-{q['kind']}-{perf.start.isoformat()}"
    return exports.response(fmt, name, performance_tables(perf, q["scope"], q["kind"]))


def can_edit_targets(user: Any) -> bool:
    return permissions.can(user, Target, "add") and permissions.can(user, Target, "change")


@login_required
@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest) -> HttpResponse:
    if not can_edit_targets(request.user):
        msg = _("Only users who may set sales targets can open the targets editor.")
        return render(request, "analytics/targets.html", {"denied": msg}, status=403)
    form = TargetsForm(request.GET, user=request.user)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid() or form.cleaned_data.get("team") is None:
        # no team to show: none exists yet, or none is within the user's scope
        context["no_team_in_scope"] = not form.errors and Team.objects.exists()
        return render(request, "analytics/targets.html", context, status=400 if form.errors else 200)
    d = form.cleaned_data
    data = performance.target_grid(request.user, d["kind"], d["year"], d["team"])
    grid = TargetGrid(data, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        changes = grid.changes()
        if not grid.has_errors:
            try:
                n = set_targets(actor=request.user, cells=changes)
            except ValidationError as exc:
                grid.add_errors(exc.message_dict)
            else:
                if n:
                    messages.success(request, _("Targets saved (%(n)s changed).") % {"n": n})
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect(request.get_full_path())
        status = 400
        messages.error(request, _("Some targets could not be saved; nothing was changed. Check the marked cells."))
    context.update(grid=grid, query=request.GET.urlencode())
    return render(request, "analytics/targets.html", context, status=status)


# --------------------------------------------------------------------------- expansion (S8)


def industry_label(value: str) -> str:
    if not value:
        return ""
    option = PicklistOption.objects.filter(list="industry", value=value).first()
    return option.label if option else value


@login_required
def expansion_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer page's "Suggested next products" panel, loaded after the page (htmx)."""
    if not permissions.can(request.user, OPPORTUNITY, "view"):
        raise Http404
    customer = permissions.get_or_404(Customer, request.user, customer_id)
    found = expansion.suggestions(customer)
    industry = industry_label(found[0].industry) if found else ""
    return render(
        request, "analytics/_expansion.html", {"customer": customer, "suggestions": found, "industry": industry}
    )
