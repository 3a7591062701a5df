"""Opportunities and pipelines as the API shows and accepts them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from kehu.core.api import CustomValuesField, GatedSerializer, StrictSerializer
from kehu.sales.models import Opportunity, OpportunityContact, OpportunityLine, Pipeline, Stage, StageHistory
from kehu.sales.registration import OPPORTUNITY_FIELDS


class OpportunityContactRoleSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = OpportunityContact
        fields = ["contact", "contact_name", "role"]
        read_only_fields = ["contact", "role"]


class OpportunityLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)
    total = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = OpportunityLine
        fields = ["product", "product_name", "quantity", "unit_price", "discount", "total"]
        read_only_fields = fields


class OpportunitySerializer(GatedSerializer):
    object_type = "sales.opportunity"
    custom = CustomValuesField()
    competitors = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, max_length=20, help_text="Competitor names."
    )
    probability = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text="Win probability in %; null: the stage's default.",
    )
    contact_roles = OpportunityContactRoleSerializer(many=True, read_only=True)
    lines = OpportunityLineSerializer(many=True, read_only=True)
    weighted_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            *OPPORTUNITY_FIELDS,
            "probability_overridden",
            "weighted_amount",
            "stage_entered_at",
            "custom",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = [
            "status",
            "started_on",
            "closed_on",
            "lead",
            "loss_reason",
            "loss_note",
            "owner",
            "team",
            "probability_overridden",
            "stage_entered_at",
        ]
        extra_kwargs = {"pipeline": {"required": False}, "stage": {"required": False}}
        validators: list[Any] = []


class MoveSerializer(StrictSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())
    version = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text="The version you saw; a stale one is answered 409."
    )
    loss_reason = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    loss_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ContactRoleInputSerializer(StrictSerializer):
    contact = serializers.IntegerField(min_value=1)
    role = serializers.ChoiceField(choices=OpportunityContact.Role.choices, required=False, allow_blank=True)


class ContactsInputSerializer(StrictSerializer):
    contacts = ContactRoleInputSerializer(many=True, max_length=100)  # type: ignore[call-arg]


class LineInputSerializer(StrictSerializer):
    product = serializers.IntegerField(min_value=1)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"))
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, help_text="Empty: from the price list."
    )
    discount = serializers.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))


class LinesInputSerializer(StrictSerializer):
    lines = LineInputSerializer(many=True, max_length=200)  # type: ignore[call-arg]


class StageHistorySerializer(serializers.ModelSerializer):
    stage_name = serializers.CharField(source="stage.name", read_only=True)

    class Meta:
        model = StageHistory
        fields = ["stage", "stage_name", "entered_at", "left_at", "entered_by", "amount"]
        read_only_fields = fields


class PipelineStageSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    order = serializers.IntegerField(read_only=True)

    class Meta:
        model = Stage
        fields = ["id", "name", "name_en", "name_zh", "order", "probability", "kind", "active"]


class PipelineSerializer(GatedSerializer):
    object_type = "sales.pipeline"
    name = serializers.CharField(read_only=True)
    stages = PipelineStageSerializer(many=True, required=False)

    class Meta:
        model = Pipeline
        fields = ["id", "code", "name", "name_en", "name_zh", "order", "is_default", "active", "currency", "stages"]
        read_only_fields = ["code", "order"]
        validators: list[Any] = []

    def update(self, instance: Any, validated_data: Any) -> Any:  # pragma: no cover - writes go through services
        raise NotImplementedError
