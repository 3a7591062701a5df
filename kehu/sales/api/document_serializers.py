"""Products, price lists, quotes, orders, contracts and payments as the API shows and accepts them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.api import CustomValuesField, GatedSerializer, StrictSerializer
from kehu.sales.models import (
    Contract,
    ContractFile,
    OrderLine,
    Payment,
    PriceList,
    Product,
    Quote,
    QuoteLine,
    SalesOrder,
)
from kehu.sales.registration import CONTRACT_FIELDS, ORDER_FIELDS, PAYMENT_FIELDS, QUOTE_FIELDS

TOTALS_READ_ONLY = ["currency", "subtotal", "discount_total", "tax", "total"]


class ProductSerializer(GatedSerializer):
    object_type = "sales.product"

    class Meta:
        model = Product
        fields = ["id", "name", "sku", "series", "unit", "description", "active", "created_at", "updated_at"]
        validators: list[Any] = []
        # the service answers a taken SKU with its own message
        extra_kwargs: dict[str, Any] = {"sku": {"validators": []}}


class PriceListItemSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    sku = serializers.CharField(source="product.sku", read_only=True)
    price = serializers.DecimalField(max_digits=14, decimal_places=2)


class PriceListSerializer(GatedSerializer):
    object_type = "sales.pricelist"
    items = PriceListItemSerializer(many=True, read_only=True)

    class Meta:
        model = PriceList
        fields = ["id", "name", "currency", "is_default", "active", "items"]
        validators: list[Any] = []


class PriceSerializer(StrictSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    price = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="null removes the product from the list."
    )


class PricesSerializer(StrictSerializer):
    prices = PriceSerializer(many=True, max_length=1000)  # type: ignore[call-arg]


class LineSerializer(serializers.ModelSerializer):
    """A line item; the service checks quantity, price and discount and computes the total."""

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False, allow_null=True)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, default=Decimal("1"))
    unit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Absent or null: the product's price in the quote's price list.",
    )
    discount = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, default=Decimal("0"))

    class Meta:
        model = QuoteLine
        fields = ["id", "product", "description", "quantity", "unit_price", "discount", "total"]
        read_only_fields = ["id", "total"]


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "product", "description", "quantity", "unit_price", "discount", "total"]
        read_only_fields = fields


class QuoteSerializer(GatedSerializer):
    object_type = "sales.quote"
    custom = CustomValuesField()
    lines = LineSerializer(many=True, required=False, max_length=500)  # type: ignore[call-arg]
    order = serializers.SerializerMethodField()

    class Meta:
        model = Quote
        fields = [
            "id",
            *QUOTE_FIELDS,
            "sent_at",
            "decided_at",
            "order",
            "custom",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "revision",
            "status",
            *TOTALS_READ_ONLY,
            "owner",
            "team",
            "sent_at",
            "decided_at",
        ]
        extra_kwargs = {
            "price_list": {"required": False},
            "customer": {"required": False},
            "title": {"required": False},
        }
        validators: list[Any] = []

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_order(self, obj: Quote) -> int | None:
        """The sales order made when this quote was accepted."""
        order = getattr(obj, "order", None) if obj.status == Quote.Status.ACCEPTED else None
        return order.pk if order is not None else None


class AcceptResultSerializer(serializers.Serializer):
    quote = QuoteSerializer()
    order = serializers.IntegerField()
    opportunity_won = serializers.BooleanField(
        allow_null=True,
        help_text="null: the quote has no opportunity; false: you may not move it, so it was left as it was.",
    )


class SalesOrderSerializer(GatedSerializer):
    object_type = "sales.salesorder"
    custom = CustomValuesField()
    lines = OrderLineSerializer(many=True, read_only=True)
    open_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = SalesOrder
        fields = ["id", *ORDER_FIELDS, "open_amount", "custom", "created_at", "updated_at", "version"]
        read_only_fields = [n for n in fields if n not in ("custom",)]
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "paid_amount" not in self.fields:
            self.fields.pop("open_amount", None)  # derived from a hidden field: hidden too


class OrderStatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=SalesOrder.Status.choices)


class ContractFileSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()
    size = serializers.IntegerField(read_only=True, help_text="Bytes.")  # bounds independent of the database

    class Meta:
        model = ContractFile
        fields = ["id", "name", "size", "uploaded_at", "download"]

    def get_download(self, obj: ContractFile) -> str:
        return reverse("api:contract-file", args=[obj.contract_id, obj.pk])


class UploadSerializer(StrictSerializer):
    file = serializers.FileField(help_text="The file to attach.")


class ContractSerializer(GatedSerializer):
    object_type = "sales.contract"
    custom = CustomValuesField()
    files = ContractFileSerializer(many=True, read_only=True)
    open_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Contract
        fields = ["id", *CONTRACT_FIELDS, "open_amount", "custom", "created_at", "updated_at", "version"]
        read_only_fields = ["number", "paid_amount", "owner", "team"]
        extra_kwargs = {"title": {"required": False}, "customer": {"required": False}, "value": {"required": False}}
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "paid_amount" not in self.fields:
            self.fields.pop("open_amount", None)


class PaymentSerializer(GatedSerializer):
    object_type = "sales.payment"
    overdue = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = Payment
        fields = ["id", *PAYMENT_FIELDS, "overdue", "created_at", "updated_at", "version"]
        read_only_fields = ["customer", "owner", "team"]
        extra_kwargs = {"currency": {"required": False}}
        validators: list[Any] = []

    def get_overdue(self, obj: Payment) -> bool:
        """Planned and past its due date."""
        return obj.is_overdue


class ReceiveSerializer(StrictSerializer):
    received_on = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")
    method = serializers.ChoiceField(choices=Payment.Method.choices, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, help_text="Default: the planned amount."
    )
