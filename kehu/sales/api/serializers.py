"""Leads as the API shows and accepts them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from kehu.core.api import CustomValuesField, GatedSerializer, StrictSerializer
from kehu.customers.api.serializers import DuplicateContactSerializer, DuplicateCustomerSerializer
from kehu.sales.models import Lead, Pipeline, Stage
from kehu.sales.registration import LEAD_FIELDS


class LeadSerializer(GatedSerializer):
    object_type = "sales.lead"
    custom = CustomValuesField()

    class Meta:
        model = Lead
        # the gate's field list (registration.py) plus what the server sets, so the two never drift apart
        fields = ["id", *LEAD_FIELDS, "assigned_at", "converted_at", "custom", "created_at", "updated_at", "version"]
        read_only_fields = [
            "status",
            "disqualify_reason",
            "disqualify_note",
            "owner",
            "team",
            "assigned_at",
            "converted_at",
            "converted_customer",
            "converted_contact",
        ]
        validators: list[Any] = []


class DisqualifySerializer(StrictSerializer):
    reason = serializers.CharField(max_length=40, help_text="A value of the disqualification reason pick list.")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ConvertOpportunitySerializer(StrictSerializer):
    name = serializers.CharField(required=False, max_length=200, help_text="Defaults to the lead's company.")
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.filter(active=True), required=False)
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.filter(active=True), required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False)
    currency = serializers.CharField(required=False, max_length=3)
    expected_close = serializers.DateField(required=False, allow_null=True)


class ConvertSerializer(StrictSerializer):
    opportunity = ConvertOpportunitySerializer(
        required=False, help_text="Also open a deal: pipeline, stage, amount, expected close (all optional)."
    )
    customer = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="An existing customer to attach the lead to (GET .../duplicates/ lists the candidates).",
    )
    contact = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="An existing contact to attach the lead to; without `customer`, its customer is used.",
    )
    create_new = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Create a new customer and contact for what `customer` and `contact` do not name, even though "
            "customers or contacts you can see already hold the lead's company, e-mail or phone. Without it such "
            "a conversion is refused with 409, the matching ids listed under `customer` and `contact`."
        ),
    )


class ConvertConflictSerializer(serializers.Serializer):
    """409 on convert: messages per field, and the ids of the matching records per field."""

    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]
    matches = serializers.DictField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Ids of the customers (`customer`) and contacts (`contact`) that already match the lead.",
    )


class ConvertResultSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    contact = serializers.IntegerField()
    opportunity = serializers.IntegerField(allow_null=True)


class DuplicatesSerializer(serializers.Serializer):
    customers = DuplicateCustomerSerializer(many=True)
    contacts = DuplicateContactSerializer(many=True)
