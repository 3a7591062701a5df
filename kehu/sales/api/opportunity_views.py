"""Opportunities under /api/v1/opportunities/ (CRUD, move, contacts, lines, stage history) and pipelines."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core import permissions
from kehu.core.api import GatedCRUDViewSet, check_if_match, idempotent, split_custom, with_etag
from kehu.customers.api.serializers import AssignSerializer
from kehu.customers.api.views import assign_action
from kehu.customers.models import Contact
from kehu.sales import services
from kehu.sales.api.opportunity_serializers import (
    ContactsInputSerializer,
    LinesInputSerializer,
    MoveSerializer,
    OpportunitySerializer,
    PipelineSerializer,
    StageHistorySerializer,
)
from kehu.sales.models import Opportunity, Pipeline, StageHistory
from kehu.sales.services import pipelines as pipeline_services


class OpportunityViewSet(GatedCRUDViewSet):
    """Opportunities (商机)."""

    object_type = "sales.opportunity"
    serializer_class = OpportunitySerializer
    filter_fields = (
        "pipeline",
        "stage",
        "status",
        "owner",
        "team",
        "customer",
        "partner",
        "source",
        "campaign",
        "currency",
        "loss_reason",
        "expected_close",
    )
    ordering_fields = ("updated_at", "created_at", "name", "amount", "expected_close")
    search_enabled = True
    extra_error_codes = (409,)
    prefetch_related = ("contact_roles__contact", "lines__product")

    def perform_create(self, data: dict[str, Any]) -> Opportunity:
        data, custom = split_custom(data)
        return services.create_opportunity(actor=self.request.user, data=data, custom=custom)

    def perform_update(self, obj: Opportunity, data: dict[str, Any], expected_version: int | None) -> Any:
        data, custom = split_custom(data)
        for name in ("pipeline", "stage"):
            if name in data and data[name] == getattr(obj, name):
                data.pop(name)  # unchanged (a full PUT repeats them): not a move
        return services.update_opportunity(
            actor=self.request.user, opp=obj, values=data, custom=custom, expected_version=expected_version
        )

    def perform_destroy(self, obj: Opportunity) -> None:
        services.delete_opportunity(actor=self.request.user, opp=obj)

    def _answer(self, opp: Opportunity) -> Response:
        opp = self.reload(opp)
        return with_etag(Response(self.get_serializer(opp).data), opp)

    @extend_schema(request=MoveSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move the deal to another stage. Give the `version` you saw: if someone moved or changed the deal
        since, the answer is 409 and nothing changes. Moving to a lost stage needs a `loss_reason`."""
        opp = self.get_object()
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        expected = data.get("version")
        if expected is None:
            expected = check_if_match(request, opp)
        try:
            services.move_stage(
                actor=request.user,
                opp=opp,
                stage=data["stage"],
                expected_version=expected,
                loss_reason=data["loss_reason"],
                loss_note=data["loss_note"],
            )
        except services.StageConflict as exc:
            return Response({"errors": exc.message_dict}, status=status.HTTP_409_CONFLICT)
        return self._answer(opp)

    @extend_schema(request=ContactsInputSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def contacts(self, request: Request, pk: str | None = None) -> Response:
        """Replace the deal's contacts and their roles."""
        opp = self.get_object()
        check_if_match(request, opp)
        body = ContactsInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = body.validated_data["contacts"]
        found = {
            c.pk: c for c in permissions.visible(Contact, request.user).filter(pk__in=[r["contact"] for r in rows])
        }
        missing = [i for i, r in enumerate(rows) if r["contact"] not in found]
        if missing:
            raise exceptions.ValidationError(
                {f"contacts.{i}.contact": [_("Choose a contact you can see.")] for i in missing}
            )
        services.set_contacts(
            actor=request.user, opp=opp, contacts=[(found[r["contact"]], r.get("role", "")) for r in rows]
        )
        return self._answer(opp)

    @extend_schema(request=LinesInputSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def lines(self, request: Request, pk: str | None = None) -> Response:
        """Replace the deal's products; the amount becomes their total. An empty unit price is taken from the
        default price list in the deal's currency."""
        opp = self.get_object()
        check_if_match(request, opp)
        body = LinesInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.set_lines(actor=request.user, opp=opp, lines=[dict(r) for r in body.validated_data["lines"]])
        return self._answer(opp)

    @extend_schema(request=AssignSerializer, responses=OpportunitySerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Give the deal to another user."""
        return assign_action(
            self, request, lambda obj, owner: services.assign_opportunity(actor=request.user, opp=obj, owner=owner)
        )

    @extend_schema(responses=StageHistorySerializer(many=True))
    @action(detail=True, methods=["get"], url_path="stage-history", pagination_class=None)
    def stage_history(self, request: Request, pk: str | None = None) -> Response:
        """Every stay of the deal in a stage: entered, left, by whom, oldest first."""
        opp = self.get_object()
        if not permissions.policy(request.user, Opportunity).can_read("stage"):
            return Response([])
        rows = StageHistory.objects.filter(opportunity=opp).select_related("stage").order_by("entered_at", "id")
        return Response(StageHistorySerializer(rows, many=True).data)


class PipelineViewSet(GatedCRUDViewSet):
    """Pipelines with their stages in order: read by everyone who works with opportunities, written by
    administrators. Stages are created with the pipeline and edited in Settings → Pipelines."""

    object_type = "sales.pipeline"
    serializer_class = PipelineSerializer
    filter_fields = ("active", "is_default", "currency")
    ordering_fields = ("order",)
    default_ordering = "order"
    prefetch_related = ("stages",)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, data: dict[str, Any]) -> Pipeline:
        stages = data.pop("stages", None)
        return pipeline_services.create_pipeline(
            actor=self.request.user, data=data, stages=[dict(s) for s in stages] if stages else None
        )

    def perform_update(self, obj: Pipeline, data: dict[str, Any], expected_version: int | None) -> Any:
        if "stages" in data:
            raise exceptions.ValidationError({"stages": [_("Edit stages in Settings → Pipelines.")]})
        return pipeline_services.update_pipeline(actor=self.request.user, pipeline=obj, values=data)
