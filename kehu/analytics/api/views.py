"""Reports under /api/v1/reports/: the same filters and query functions as the report pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.analytics import expansion, partners, performance, queries
from kehu.analytics import forecast as forecasting
from kehu.analytics.api.serializers import (
    ExpansionSerializer,
    ForecastSerializer,
    FunnelSerializer,
    PartnersSerializer,
    PerformanceSerializer,
    TargetSerializer,
)
from kehu.analytics.forms import PERIODS, ForecastForm, FunnelForm, PartnersForm, PerformanceForm
from kehu.core import permissions
from kehu.core.api import GatedCRUDViewSet, idempotent
from kehu.customers.models import Customer
from kehu.sales.models import Target
from kehu.sales.services.targets import set_target

PARAMS = ("period", "start", "end", "team", "owner", "source", "pipeline")
# the period and team parameters the funnel and the partners report share
PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        enum=[p for p, _label in PERIODS],
        description="A preset period; `custom` (or giving start and end) uses start and end. Default: this_year.",
    ),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day of the period."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day of the period (included)."),
    OpenApiParameter("team", OpenApiTypes.INT, description="A team id; its sub-teams are included."),
]


class FunnelView(APIView):
    """The sales funnel of the deals and leads you may see (definitions: docs/reports.md)."""

    query_errors = True

    @extend_schema(
        operation_id="reports_funnel",
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("owner", OpenApiTypes.INT, description="A user id: that rep's deals and leads."),
            OpenApiParameter("source", OpenApiTypes.STR, description="A source channel (pick-list value)."),
            OpenApiParameter("pipeline", OpenApiTypes.INT, description="A pipeline id."),
        ],
        responses=FunnelSerializer,
    )
    def get(self, request: Request) -> Response:
        if not permissions.can(request.user, "sales.opportunity", "view"):
            raise PermissionDenied(_("You do not have permission to do this."))
        unknown = [k for k in request.query_params if k not in PARAMS]
        if unknown:
            raise exceptions.ValidationError({k: [_("Unknown parameter.")] for k in unknown})
        form = FunnelForm(request.query_params)
        if not form.is_valid():
            raise exceptions.ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
        result = queries.funnel(request.user, **form.query())
        return Response(FunnelSerializer(result.as_dict()).data)


def _require_reports(request: Request, params: tuple[str, ...]) -> None:
    if not permissions.can(request.user, "sales.opportunity", "view"):
        raise PermissionDenied(_("You do not have permission to do this."))
    unknown = [k for k in request.query_params if k not in params]
    if unknown:
        raise exceptions.ValidationError({k: [_("Unknown parameter.")] for k in unknown})


def _form_errors(form: Any) -> exceptions.ValidationError:
    return exceptions.ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})


SCOPE_PARAMETERS = [
    OpenApiParameter(
        "team", OpenApiTypes.INT, description="A team id; its sub-teams are included. Ignored for a rep's own view."
    ),
    OpenApiParameter("owner", OpenApiTypes.INT, description="A user id: that rep's deals."),
    OpenApiParameter("pipeline", OpenApiTypes.INT, description="A pipeline id."),
    OpenApiParameter(
        "currency",
        OpenApiTypes.STR,
        description="One of the currencies of the deals you may see (amounts are never added across currencies). "
        "Default: CNY when present.",
    ),
]
SCOPE_PARAMS = ("team", "owner", "pipeline", "currency")


class ForecastView(APIView):
    """The sales forecast of the deals you may see: the next six months by expected close (pipeline, weighted,
    commit, closed, best case), the history-based forecast, past-due and undated open deals, the last six
    months' forecast against what was won, and the stage model it learned (definitions: docs/reports.md)."""

    query_errors = True

    @extend_schema(operation_id="reports_forecast", parameters=SCOPE_PARAMETERS, responses=ForecastSerializer)
    def get(self, request: Request) -> Response:
        _require_reports(request, SCOPE_PARAMS)
        form = ForecastForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise _form_errors(form)
        scope = form.scope()
        fc = forecasting.forecast(request.user, scope)
        stages = [
            {
                "stage_id": s.pk,
                "pipeline_id": s.pipeline_id,
                "name": s.name,
                "win_rate": fc.model.win_rate.get(s.pk),
                "days_to_win": fc.model.days_to_win.get(s.pk),
            }
            for s in fc.stages
        ]
        body = {
            "filters": scope,
            "months": fc.months,
            "past_due": fc.past_due,
            "undated": fc.undated,
            "backtest": fc.backtest,
            "mean_abs_error": fc.mean_abs_error,
            "mean_abs_error_pct": fc.mean_abs_error_pct,
            "model": {"closed_deals": fc.model.closed_deals, "won_deals": fc.model.won_deals, "stages": stages},
        }
        return Response(ForecastSerializer(body).data)


class PerformanceView(APIView):
    """Targets and performance of the reps you may see for a month or a quarter: the leaderboard, the total and
    the 12-month trend of won against target. A sales manager's default team is their own; a rep sees only
    themselves."""

    query_errors = True

    @extend_schema(
        operation_id="reports_performance",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=["month", "quarter"], description="Default: month."),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM, for kind=month. Default: this month."),
            OpenApiParameter(
                "quarter", OpenApiTypes.STR, description="YYYY-Qn, for kind=quarter. Default: this quarter."
            ),
            *SCOPE_PARAMETERS,
        ],
        responses=PerformanceSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_reports(request, ("kind", "month", "quarter", *SCOPE_PARAMS))
        form = PerformanceForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise _form_errors(form)
        q = form.query()
        perf = performance.performance(request.user, q["scope"], q["kind"], q["day"])
        body = {
            "period": {"kind": q["kind"], "start": perf.start, "end": perf.end - dt.timedelta(days=1)},
            "filters": q["scope"],
            "reps": perf.reps,
            "total": perf.total,
            "trend": perf.trend,
        }
        return Response(PerformanceSerializer(body).data)


PARTNER_PARAMS = ("period", "start", "end", "team", "owner")


class PartnersView(APIView):
    """Partners and suppliers: per partner, the deals you may see that name it (sourced in the period, open today,
    won and lost in the period, win rate, last deal); per supplier, the supplier contracts you may see (starting
    in the period, active today, next renewal or end). Definitions: docs/reports.md."""

    query_errors = True

    @extend_schema(
        operation_id="reports_partners",
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("owner", OpenApiTypes.INT, description="A user id: the owner of the deals and contracts."),
        ],
        responses=PartnersSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_reports(request, PARTNER_PARAMS)
        form = PartnersForm(request.query_params)
        if not form.is_valid():
            raise _form_errors(form)
        result = partners.report(request.user, **form.query())
        return Response(PartnersSerializer(result.as_dict()).data)


class ExpansionView(APIView):
    """Suggested next products for one customer you may see (cross-sell and up-sell), with their evidence:
    counts over the won deals of similar customers, never naming another customer."""

    query_errors = True
    extra_error_codes = (404,)

    @extend_schema(
        operation_id="reports_expansion",
        parameters=[OpenApiParameter("customer", OpenApiTypes.INT, required=True, description="A customer id.")],
        responses=ExpansionSerializer,
    )
    def get(self, request: Request) -> Response:
        _require_reports(request, ("customer",))
        raw = request.query_params.get("customer", "")
        if not raw.isdigit():
            raise exceptions.ValidationError({"customer": [_("Give a customer id.")]})
        try:
            customer = permissions.visible(Customer, request.user).get(pk=int(raw))
        except (Customer.DoesNotExist, OverflowError) as exc:
            raise Http404 from exc
        found = expansion.suggestions(customer)
        return Response(ExpansionSerializer({"customer": customer.pk, "suggestions": found}).data)


class TargetViewSet(GatedCRUDViewSet):
    """Sales targets (quotas) per rep or team and month or quarter. Read by everyone the gate lets view
    targets; written by those with add / change / delete on `sales.target` (seed: administrators and sales
    managers), always through the targets service. A target is identified by (period, start, user or team):
    POST creates it or changes the existing one for that key (201); PUT / PATCH change its amount, deal
    count and currency; an amount and a deal count of zero remove it (answered with 204), as DELETE does."""

    object_type = "sales.target"
    serializer_class = TargetSerializer
    filter_fields = ("period", "start", "user", "team", "currency")
    ordering_fields = ("start",)
    default_ordering = "-start"
    select_related = ("user", "team")

    def _answer(self, target: Target | None, code: int = status.HTTP_200_OK) -> Response:
        if target is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(self.reload(target)).data, status=code)

    @extend_schema(responses={201: TargetSerializer, 204: None})
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        with transaction.atomic():
            target = set_target(
                actor=request.user,
                period=data.get("period", Target.Period.MONTH),
                start=data["start"],
                amount=data.get("amount", 0),
                deals=data.get("deals", 0),
                user=data.get("user"),
                team=data.get("team"),
                currency=data.get("currency") or "CNY",
            )
        return self._answer(target, status.HTTP_201_CREATED)

    @extend_schema(responses={200: TargetSerializer, 204: None})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        obj = self.get_object()
        serializer = self.get_serializer(obj, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        for key in ("period", "start", "user", "team"):
            if key in data and data[key] != getattr(obj, key):
                raise exceptions.ValidationError(
                    {key: [_("A target's period and owner cannot change; create a new target instead.")]}
                )
        with transaction.atomic():
            target = set_target(
                actor=request.user,
                period=obj.period,
                start=obj.start,
                user=obj.user,
                team=obj.team,
                amount=data.get("amount", obj.amount),
                deals=data.get("deals", obj.deals),
                currency=data.get("currency", obj.currency),
            )
        return self._answer(target)

    @extend_schema(responses={200: TargetSerializer, 204: None})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, obj: Target) -> None:
        set_target(actor=self.request.user, period=obj.period, start=obj.start, user=obj.user, team=obj.team, amount=0)
