"""Leads under /api/v1/leads/: capture, qualify, disqualify, convert, duplicates."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core import permissions
from kehu.core.api import GatedCRUDViewSet, StrictSerializer, check_if_match, idempotent, split_custom, with_etag
from kehu.customers.api.serializers import AssignSerializer
from kehu.customers.api.views import assign_action
from kehu.customers.models import Contact, Customer
from kehu.sales import services
from kehu.sales.api.serializers import (
    ConvertConflictSerializer,
    ConvertResultSerializer,
    ConvertSerializer,
    DisqualifySerializer,
    DuplicatesSerializer,
    LeadSerializer,
)
from kehu.sales.models import Lead


class LeadViewSet(GatedCRUDViewSet):
    """Leads (线索)."""

    object_type = "sales.lead"
    serializer_class = LeadSerializer
    filter_fields = (
        "status",
        "source",
        "campaign",
        "industry",
        "country",
        "province",
        "city",
        "company",
        "email",
        "phone",
        "owner",
        "team",
        "disqualify_reason",
    )
    ordering_fields = ("updated_at", "created_at", "name", "status")
    search_enabled = True

    def perform_create(self, data: dict[str, Any]) -> Lead:
        data, custom = split_custom(data)
        return services.create_lead(actor=self.request.user, data=data, custom=custom)

    def perform_update(self, obj: Lead, data: dict[str, Any], expected_version: int | None) -> Any:
        data, custom = split_custom(data)
        return services.update_lead(
            actor=self.request.user, lead=obj, values=data, custom=custom, expected_version=expected_version
        )

    def perform_destroy(self, obj: Lead) -> None:
        services.delete_lead(actor=self.request.user, lead=obj)

    def _answer(self, lead: Lead) -> Response:
        lead = self.reload(lead)
        return with_etag(Response(self.get_serializer(lead).data), lead)

    @extend_schema(request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def qualify(self, request: Request, pk: str | None = None) -> Response:
        """Mark the lead qualified."""
        lead = self.get_object()
        check_if_match(request, lead)
        StrictSerializer(data=request.data or {}).is_valid(raise_exception=True)
        services.qualify(actor=request.user, lead=lead)
        return self._answer(lead)

    @extend_schema(request=DisqualifySerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def disqualify(self, request: Request, pk: str | None = None) -> Response:
        """Disqualify the lead with a reason from the pick list and an optional note."""
        lead = self.get_object()
        check_if_match(request, lead)
        body = DisqualifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.disqualify(
            actor=request.user, lead=lead, reason=body.validated_data["reason"], note=body.validated_data["note"]
        )
        return self._answer(lead)

    @extend_schema(request=ConvertSerializer, responses={200: ConvertResultSerializer, 409: ConvertConflictSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def convert(self, request: Request, pk: str | None = None) -> Response:
        """Turn the lead into a customer and a contact (or attach it to existing ones) in one step.

        When customers or contacts you can see already hold the lead's company, e-mail or phone and the body
        neither names them (`customer`, `contact`) nor sets `create_new: true`, nothing is created: the answer
        is 409 with the matching ids under `customer` and `contact`."""
        lead = self.get_object()
        check_if_match(request, lead)
        body = ConvertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = contact = None
        if body.validated_data.get("customer"):
            customer = permissions.visible(Customer, request.user).filter(pk=body.validated_data["customer"]).first()
            if customer is None:
                raise exceptions.ValidationError({"customer": [_("Choose a customer you can see.")]})
        if body.validated_data.get("contact"):
            contact = permissions.visible(Contact, request.user).filter(pk=body.validated_data["contact"]).first()
            if contact is None:
                raise exceptions.ValidationError({"contact": [_("Choose a contact of the chosen customer.")]})
        opp_data = body.validated_data.get("opportunity")
        try:
            customer, contact, opp = services.convert(
                actor=request.user,
                lead=lead,
                customer=customer,
                contact=contact,
                opportunity_data=dict(opp_data) if opp_data is not None else None,
                refuse_matches=not body.validated_data["create_new"],
            )
        except services.ConversionConflict as exc:
            return Response({"errors": _conflict_messages(exc.matches), "matches": exc.matches}, status=409)
        return Response({"customer": customer.pk, "contact": contact.pk, "opportunity": opp.pk if opp else None})

    @extend_schema(request=AssignSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Give the lead to another user."""
        return assign_action(
            self, request, lambda obj, owner: services.assign_lead(actor=request.user, lead=obj, owner=owner)
        )

    @extend_schema(responses=DuplicatesSerializer)
    @action(detail=True, methods=["get"])
    def duplicates(self, request: Request, pk: str | None = None) -> Response:
        """Customers and contacts (among those you may see) that already hold this lead's e-mail, phone or
        company name."""
        lead = self.get_object()
        dup = services.find_duplicates(request.user, lead)
        return Response(DuplicatesSerializer(dup, context=self.get_serializer_context()).data)


def _conflict_messages(matches: dict[str, list[int]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if "customer" in matches:
        out["customer"] = [
            _(
                "Customers %(ids)s already match this lead. Give one of them as “customer”, or set “create_new” "
                "to create a new customer."
            )
            % {"ids": ", ".join(str(i) for i in matches["customer"])}
        ]
    if "contact" in matches:
        out["contact"] = [
            _(
                "Contacts %(ids)s already match this lead. Give one of them as “contact”, or set “create_new” to "
                "create a new contact."
            )
            % {"ids": ", ".join(str(i) for i in matches["contact"])}
        ]
    return out
