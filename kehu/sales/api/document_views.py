"""Products, price lists, quotes (+ send / accept / decline / revise / PDF), orders, contracts and payments
(+ receive / cancel) under /api/v1/ — thin: the gate reads, the sales services write."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core.api import (
    GatedCRUDViewSet,
    GatedViewSet,
    GateFilterBackend,
    StrictSerializer,
    _param,
    check_if_match,
    idempotent,
    split_custom,
    with_etag,
)
from kehu.sales import queries as sales_queries
from kehu.sales.api.document_serializers import (
    AcceptResultSerializer,
    ContractFileSerializer,
    ContractSerializer,
    OrderStatusSerializer,
    PaymentSerializer,
    PriceListSerializer,
    PricesSerializer,
    ProductSerializer,
    QuoteSerializer,
    ReceiveSerializer,
    SalesOrderSerializer,
    UploadSerializer,
)
from kehu.sales.models import Contract, Payment, PriceList, Product, Quote
from kehu.sales.pdf import quote_pdf
from kehu.sales.services import catalogue, documents

NO_DELETE = ["get", "post", "put", "patch", "head", "options"]


class ProductViewSet(GatedCRUDViewSet):
    """Products (产品): sold through price lists; deactivate instead of deleting (PATCH active=false)."""

    object_type = "sales.product"
    serializer_class = ProductSerializer
    filter_fields = ("active", "series", "sku")
    ordering_fields = ("name", "sku", "updated_at", "created_at")
    default_ordering = "name"
    http_method_names = NO_DELETE

    def perform_create(self, data: dict[str, Any]) -> Product:
        return catalogue.create_product(actor=self.request.user, data=data)

    def perform_update(self, obj: Product, data: dict[str, Any], expected_version: int | None) -> Any:
        return catalogue.update_product(actor=self.request.user, product=obj, values=data)


class PriceListViewSet(GatedCRUDViewSet):
    """Price lists (价目表): a currency and a price per product; POST …/prices/ sets prices."""

    object_type = "sales.pricelist"
    serializer_class = PriceListSerializer
    filter_fields = ("currency", "active", "is_default")
    ordering_fields = ("name", "currency")
    default_ordering = "name"
    prefetch_related = ("items__product",)
    http_method_names = NO_DELETE

    def perform_create(self, data: dict[str, Any]) -> PriceList:
        return catalogue.create_price_list(actor=self.request.user, data=data)

    def perform_update(self, obj: PriceList, data: dict[str, Any], expected_version: int | None) -> Any:
        return catalogue.update_price_list(actor=self.request.user, price_list=obj, values=data)

    @extend_schema(request=PricesSerializer, responses=PriceListSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def prices(self, request: Request, pk: str | None = None) -> Response:
        """Set the price of each product given (null removes it from this list)."""
        price_list = self.get_object()
        body = PricesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        catalogue.set_prices(
            actor=request.user,
            price_list=price_list,
            prices={row["product"]: row["price"] for row in body.validated_data["prices"]},
        )
        return Response(self.get_serializer(self.reload(price_list)).data)


class QuoteViewSet(GatedCRUDViewSet):
    """Quotes (报价单) with their lines; only drafts change. Send, accept (→ sales order), decline, revise
    (a new version), and the printable PDF."""

    object_type = "sales.quote"
    serializer_class = QuoteSerializer
    filter_fields = ("status", "customer", "opportunity", "owner", "team", "number", "currency", "price_list")
    ordering_fields = ("updated_at", "created_at", "number", "total", "valid_until")
    select_related = ("order",)
    prefetch_related = ("lines",)
    http_method_names = NO_DELETE

    def perform_create(self, data: dict[str, Any]) -> Quote:
        data, custom = split_custom(data)
        lines = data.pop("lines", None)
        return documents.create_quote(actor=self.request.user, data=data, lines=lines, custom=custom)

    def perform_update(self, obj: Quote, data: dict[str, Any], expected_version: int | None) -> Any:
        data, custom = split_custom(data)
        lines = data.pop("lines", None)
        return documents.update_quote(
            actor=self.request.user,
            quote=obj,
            values=data,
            lines=lines,
            custom=custom,
            expected_version=expected_version,
        )

    def _step(self, request: Request, fn: Any) -> Any:
        quote = self.get_object()
        check_if_match(request, quote)
        StrictSerializer(data=request.data or {}).is_valid(raise_exception=True)
        return quote, fn(actor=request.user, quote=quote)

    def _answer(self, quote: Quote, status: int = 200) -> Response:
        quote = self.reload(quote)
        return with_etag(Response(self.get_serializer(quote).data, status=status), quote)

    @extend_schema(request=None, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def send(self, request: Request, pk: str | None = None) -> Response:
        """Mark the draft as sent to the customer."""
        quote, _changes = self._step(request, documents.send_quote)
        return self._answer(quote)

    @extend_schema(request=None, responses=AcceptResultSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """The customer accepted: creates the sales order and, if you may, moves the opportunity to won."""
        quote, result = self._step(request, documents.accept_quote)
        quote = self.reload(quote)
        return Response(
            {
                "quote": self.get_serializer(quote).data,
                "order": result.order.pk,
                "opportunity_won": result.opportunity_won,
            }
        )

    @extend_schema(request=None, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """The customer declined."""
        quote, _changes = self._step(request, documents.decline_quote)
        return self._answer(quote)

    @extend_schema(request=None, responses={201: QuoteSerializer})
    @action(detail=True, methods=["post"])
    @idempotent
    def revise(self, request: Request, pk: str | None = None) -> Response:
        """A new version (a draft with the same lines); this one becomes superseded."""
        _quote, new = self._step(request, documents.revise_quote)
        return self._answer(new, status=201)

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF.")})
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The printable quote in its own language (Chinese or English)."""
        quote = self.get_object()
        response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{quote.number}-v{quote.revision}.pdf"'
        return response


class SalesOrderViewSet(GatedViewSet):
    """Sales orders (销售订单), made by accepting a quote; POST …/status/ marks one delivered or cancelled."""

    object_type = "sales.salesorder"
    serializer_class = SalesOrderSerializer
    filter_fields = ("status", "customer", "opportunity", "owner", "team", "number", "currency", "ordered_on")
    ordering_fields = ("updated_at", "created_at", "ordered_on", "number", "total")
    prefetch_related = ("lines",)

    @extend_schema(request=OrderStatusSerializer, responses=SalesOrderSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def status(self, request: Request, pk: str | None = None) -> Response:
        """Confirmed → delivered or cancelled (not once payments were received)."""
        order = self.get_object()
        check_if_match(request, order)
        body = OrderStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        documents.set_order_status(actor=request.user, order=order, status=body.validated_data["status"])
        order = self.reload(order)
        return with_etag(Response(self.get_serializer(order).data), order)


class ContractViewSet(GatedCRUDViewSet):
    """Contracts (合同): sales contracts, partner agreements and supplier contracts, with their files."""

    object_type = "sales.contract"
    serializer_class = ContractSerializer
    filter_fields = ("status", "kind", "customer", "sales_order", "owner", "team", "number", "currency")
    ordering_fields = ("updated_at", "created_at", "start_date", "number", "value")
    select_related = ("sales_order",)  # an order-backed contract's open amount is its order's
    prefetch_related = ("files",)
    http_method_names = NO_DELETE

    def perform_create(self, data: dict[str, Any]) -> Contract:
        data, custom = split_custom(data)
        return documents.create_contract(actor=self.request.user, data=data, custom=custom)

    def perform_update(self, obj: Contract, data: dict[str, Any], expected_version: int | None) -> Any:
        data, custom = split_custom(data)
        return documents.update_contract(
            actor=self.request.user, contract=obj, values=data, custom=custom, expected_version=expected_version
        )

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={201: ContractFileSerializer},
        description="Attach a file (PDF, .docx, .xlsx, PNG or JPEG; the size limit is the upload limit) as "
        "multipart/form-data with the field `file`.",
    )
    @action(detail=True, methods=["post"], url_path="files", parser_classes=[MultiPartParser])
    @idempotent
    def files(self, request: Request, pk: str | None = None) -> Response:
        """Attach a signed copy or an annex."""
        contract = self.get_object()
        body = UploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        item = documents.add_contract_file(actor=request.user, contract=contract, upload=body.validated_data["file"])
        return Response(ContractFileSerializer(item).data, status=201)

    @extend_schema(
        methods=["GET"],
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")},
    )
    @extend_schema(methods=["DELETE"], responses={204: None})
    @action(
        detail=True,
        methods=["get", "delete"],
        url_path=r"files/(?P<file_id>[0-9]+)",
        http_method_names=["get", "delete", "head", "options"],  # a file may be removed, the contract may not
    )
    def file(self, request: Request, pk: str | None = None, file_id: str | None = None) -> Any:
        """Download one file of the contract (GET), or remove it (DELETE)."""
        if request.method == "DELETE":
            item = sales_queries.contract_file(request.user, int(pk or 0), int(file_id or 0), "change")
            documents.delete_contract_file(actor=request.user, item=item)
            return Response(status=204)
        return sales_queries.file_download(sales_queries.contract_file(request.user, int(pk or 0), int(file_id or 0)))


class PaymentFilterBackend(GateFilterBackend):
    """The gate's filters plus `overdue=true|false` (planned and past the due date)."""

    class _Params:
        def __init__(self, request: Any, params: Any) -> None:
            self.user = request.user
            self.query_params = params

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        params = request.query_params.copy()
        flag = params.pop("overdue", None)
        if flag is not None:
            value = flag[-1].lower()
            if value not in ("true", "false", "1", "0"):
                raise exceptions.ValidationError({"overdue": [_("Give true or false.")]})
            q = documents.overdue_q(timezone.localdate())
            queryset = queryset.filter(q) if value in ("true", "1") else queryset.exclude(q)
        return super().filter_queryset(self._Params(request, params), queryset, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            _param("overdue", {"type": "boolean"}, "Planned payments past their due date (true) or the others."),
        ]


class PaymentViewSet(GatedCRUDViewSet):
    """Payments (回款): planned instalments and received payments against an order or a contract."""

    object_type = "sales.payment"
    serializer_class = PaymentSerializer
    filter_backends = [PaymentFilterBackend]
    filter_fields = ("status", "customer", "sales_order", "contract", "method", "currency", "owner", "team")
    ordering_fields = ("updated_at", "created_at", "due_date", "received_on", "amount")
    http_method_names = ["get", "post", "head", "options"]

    def perform_create(self, data: dict[str, Any]) -> Payment:
        return documents.create_payment(actor=self.request.user, data=data)

    def _answer(self, payment: Payment) -> Response:
        payment = self.reload(payment)
        return with_etag(Response(self.get_serializer(payment).data), payment)

    @extend_schema(request=ReceiveSerializer, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def receive(self, request: Request, pk: str | None = None) -> Response:
        """Mark a planned payment as received (date, method, reference; optionally the amount paid)."""
        payment = self.get_object()
        check_if_match(request, payment)
        body = ReceiveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        documents.receive_payment(actor=request.user, payment=payment, **body.validated_data)
        return self._answer(payment)

    @extend_schema(request=None, responses=PaymentSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a planned payment, or reverse a received one."""
        payment = self.get_object()
        check_if_match(request, payment)
        StrictSerializer(data=request.data or {}).is_valid(raise_exception=True)
        documents.cancel_payment(actor=request.user, payment=payment)
        return self._answer(payment)
