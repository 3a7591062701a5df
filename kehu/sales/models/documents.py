"""Quotes (报价单) → sales orders (销售订单) → contracts (合同) → payments (回款) (S7).

Totals are computed by the services from the lines and stored, so lists and reports read one row.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, TypedDict

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.models import GatedModel
from kehu.sales.models.opportunities import Opportunity
from kehu.sales.models.products import PriceList, Product


class MoneyPrecision(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: Final[MoneyPrecision] = {"max_digits": 14, "decimal_places": 2}


class LineBase(models.Model):
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    unit_price = models.DecimalField(_("unit price"), **MONEY, validators=[MinValueValidator(0)])
    discount = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    total = models.DecimalField(_("line total"), **MONEY, default=Decimal("0"))
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.product or self.description} × {self.quantity}"


class Totals(models.Model):
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=Decimal("0"))
    discount_total = models.DecimalField(_("discount"), **MONEY, default=Decimal("0"))
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("13"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    tax = models.DecimalField(_("tax"), **MONEY, default=Decimal("0"))
    total = models.DecimalField(_("total"), **MONEY, default=Decimal("0"))

    class Meta:
        abstract = True


class DocumentCounter(models.Model):
    """The last number given out per document kind and year (Q-2026-00001 …). The numbering service locks the
    row, so two people saving at the same moment never get the same number."""

    kind = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="documentcounter_kind_year_uniq")]

    def __str__(self) -> str:
        return f"{self.kind}-{self.year}: {self.last}"


class Quote(GatedModel, Totals):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        SUPERSEDED = "superseded", _("Superseded")

    number = models.CharField(_("number"), max_length=30)
    revision = models.PositiveSmallIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    price_list = models.ForeignKey(PriceList, verbose_name=_("price list"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    language = models.CharField(
        _("document language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    terms = models.TextField(_("terms"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or declined"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [models.UniqueConstraint(fields=["number", "revision"], name="quote_number_rev_uniq")]
        indexes = [
            models.Index(fields=["owner", "status", "updated_at", "id"], name="quote_owner_status_idx"),
            models.Index(fields=["team", "status", "updated_at", "id"], name="quote_team_status_idx"),
            models.Index(fields=["updated_at", "id"], name="quote_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} v{self.revision}"


class QuoteLine(LineBase):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")


class SalesOrder(GatedModel, Totals):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=30, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    quote = models.OneToOneField(
        Quote, verbose_name=_("quote"), null=True, blank=True, on_delete=models.SET_NULL, related_name="order"
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    ordered_on = models.DateField(_("order date"))
    paid_amount = models.DecimalField(_("received"), **MONEY, default=Decimal("0"))

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        indexes = [
            models.Index(fields=["customer", "ordered_on"], name="order_customer_idx"),
            models.Index(fields=["owner", "status", "updated_at", "id"], name="order_owner_status_idx"),
            models.Index(fields=["team", "status", "updated_at", "id"], name="order_team_status_idx"),
            models.Index(fields=["updated_at", "id"], name="order_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def open_amount(self) -> Decimal:
        return self.total - self.paid_amount


class OrderLine(LineBase):
    sales_order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")


class Contract(GatedModel):
    class Kind(models.TextChoices):
        SALES = "sales", _("Sales contract")
        PARTNER = "partner", _("Partner agreement")
        SUPPLIER = "supplier", _("Supplier contract")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", pgettext_lazy("contract status", "Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SALES)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    sales_order = models.ForeignKey(
        SalesOrder,
        verbose_name=_("sales order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    value = models.DecimalField(
        pgettext_lazy("contract", "value"), **MONEY, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    paid_amount = models.DecimalField(_("received"), **MONEY, default=Decimal("0"))
    signed_on = models.DateField(_("signed"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["customer", "start_date"], name="contract_customer_idx"),
            models.Index(fields=["status", "renewal_date"], name="contract_renewal_idx"),
            models.Index(fields=["owner", "status", "updated_at", "id"], name="contract_owner_status_idx"),
            models.Index(fields=["team", "status", "updated_at", "id"], name="contract_team_status_idx"),
            models.Index(fields=["updated_at", "id"], name="contract_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gte=models.F("start_date")),
                name="contract_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.title}"

    @property
    def open_amount(self) -> Decimal:
        """Still to be received. A contract made for an order in its currency collects that order's money, so
        what its order has received through other payments counts too (the pages show the same)."""
        own = self.value - self.paid_amount
        order = self.sales_order if self.sales_order_id else None
        if order is not None and order.currency == self.currency:
            return max(min(own, order.total - order.paid_amount), Decimal(0))
        return own


class ContractFile(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("file"), upload_to="contracts/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("contract file")
        verbose_name_plural = _("contract files")

    def __str__(self) -> str:
        return self.name


class Payment(GatedModel):
    """A planned instalment or a received payment against an order or a contract."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    class Method(models.TextChoices):
        BANK = "bank", _("Bank transfer")
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat", _("WeChat Pay")
        CARD = "card", _("Card")
        CASH = "cash", _("Cash")
        OTHER = "other", _("Other")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payments"
    )
    sales_order = models.ForeignKey(
        SalesOrder,
        verbose_name=_("sales order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    due_date = models.DateField(_("due date"), null=True, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, blank=True)
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["customer", "due_date"], name="payment_customer_idx"),
            models.Index(fields=["status", "due_date"], name="payment_status_due_idx"),
            models.Index(fields=["updated_at", "id"], name="payment_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sales_order__isnull=False, contract__isnull=True)
                | models.Q(sales_order__isnull=True, contract__isnull=False),
                name="payment_order_xor_contract",
            )
        ]

    def __str__(self) -> str:
        # grouped like the amounts on the pages (69,890.50 CNY): this is the name timelines show for a payment
        return f"{number_format(self.amount, 2, force_grouping=True)} {self.currency}"

    @property
    def is_overdue(self) -> bool:
        """Planned and past its due date (in the server's time zone)."""
        from django.utils import timezone

        return self.status == self.Status.PLANNED and self.due_date is not None and self.due_date < timezone.localdate()
