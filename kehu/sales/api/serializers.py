"""Leads as the API shows and accepts them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from kehu.core.api import CustomValuesField, GatedSerializer, StrictSerializer
from kehu.customers.api.serializers import DuplicateContactSerializer, DuplicateCustomerSerializer
from kehu.sales.models import Lead
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


class ConvertSerializer(StrictSerializer):
    customer = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="An existing customer to attach the lead to."
    )
    contact = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="An existing contact of that customer."
    )


class ConvertResultSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    contact = serializers.IntegerField()


class DuplicatesSerializer(serializers.Serializer):
    customers = DuplicateCustomerSerializer(many=True)
    contacts = DuplicateContactSerializer(many=True)
