"""Customers, contacts and tags as the API shows and accepts them (fields the user may not read are absent)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from kehu.core.api import CustomValuesField, GatedSerializer, ReadableSerializer, StrictSerializer
from kehu.customers.models import ChannelKind, Contact, ContactChannel, Customer, Tag
from kehu.customers.registration import CUSTOMER_FIELDS


class TagNamesField(serializers.ListField):
    """Tags as a list of names; unknown names become new tags."""

    child = serializers.CharField(max_length=40, allow_blank=False)  # type: ignore[assignment]

    def to_representation(self, data: Any) -> list[str]:
        return [t.name for t in data.all()]


class CustomerSerializer(GatedSerializer):
    object_type = "customers.customer"
    tags = TagNamesField(required=False, max_length=50)
    custom = CustomValuesField()

    class Meta:
        model = Customer
        # the gate's field list (registration.py) plus what the server sets, so the two never drift apart
        fields = ["id", *CUSTOMER_FIELDS, "stage_changed_at", "custom", "created_at", "updated_at", "version"]
        read_only_fields = ["stage_changed_at", "owner", "team"]
        validators: list[Any] = []  # uniqueness is checked by the service (full_clean), one message per field


class ChannelSerializer(StrictSerializer, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    label = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")  # type: ignore[assignment]
    is_primary = serializers.BooleanField(required=False, default=False)

    def _unchanged(self, name: str, value: Any) -> bool:
        return name == "normalized"  # sent back from a GET: recomputed from `value` anyway

    class Meta:
        model = ContactChannel
        fields = ["kind", "value", "normalized", "label", "is_primary"]
        read_only_fields = ["normalized"]


class ContactSerializer(GatedSerializer):
    object_type = "customers.contact"
    channels = ChannelSerializer(many=True, required=False, max_length=50)  # type: ignore[call-arg]
    custom = CustomValuesField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "name",
            "title",
            "department",
            "gender",
            "birthday",
            "is_primary",
            "notes",
            "channels",
            "owner",
            "team",
            "custom",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["owner", "team"]
        validators: list[Any] = []


class TagSerializer(GatedSerializer):
    object_type = "customers.tag"

    class Meta:
        model = Tag
        fields = ["id", "name", "color", "created_at"]
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"name": {"validators": []}}


class AssignSerializer(StrictSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True))


class DuplicateCustomerSerializer(ReadableSerializer):
    object_type = "customers.customer"
    id = serializers.IntegerField()
    name = serializers.CharField()


class DuplicateContactSerializer(ReadableSerializer):
    object_type = "customers.contact"
    id = serializers.IntegerField()
    name = serializers.CharField()
    customer = serializers.IntegerField(source="customer_id", allow_null=True)


def channel_inputs(channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"kind": c["kind"], "value": c["value"], "label": c.get("label", ""), "is_primary": c.get("is_primary", False)}
        for c in channels
    ]
