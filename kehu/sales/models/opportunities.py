"""Opportunities (商机), their contacts, line items and stage history (S2)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.collation import key_field
from kehu.core.models import GatedModel, NameSortedModel
from kehu.sales.models.leads import Lead
from kehu.sales.models.pipelines import Pipeline, Stage
from kehu.sales.models.products import Product


class Opportunity(NameSortedModel, GatedModel):
    LINKED_SORTS = {"owner": "owner_sort", "customer": "customer_sort"}

    """A deal in a pipeline. `status`, `max_stage_order` and `stage_entered_at` are kept by the stage service
    from the stage history, so funnel and board queries read one table."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("opportunity status", "Open")
        WON = "won", _("Won")
        LOST = "lost", pgettext_lazy("deal", "Lost")

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    probability = models.PositiveSmallIntegerField(_("probability (%)"), validators=[MaxValueValidator(100)])
    probability_overridden = models.BooleanField(_("probability set by hand"), default=False)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    started_on = models.DateField(_("started"), help_text=_("The day the deal entered the pipeline."))
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in stage since"))
    max_stage_order = models.PositiveSmallIntegerField(default=0, editable=False)
    source = models.CharField(_("source channel"), max_length=40, blank=True)
    # the marketing campaign behind the deal (copied from its lead), by name until campaigns are records
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    partner = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_opportunities",
        help_text=_("The partner who brought or co-sells this deal."),
    )
    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    competitors = models.JSONField(_("competitors"), default=list, blank=True)
    loss_reason = models.CharField(_("loss reason"), max_length=40, blank=True)
    loss_note = models.CharField(_("loss note"), max_length=300, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    owner_sort = key_field(_("owner sort key"))
    customer_sort = key_field(_("customer sort key"))
    description = models.TextField(_("description"), blank=True)
    external_ref = models.CharField(_("external reference"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # board columns: open cards of one stage, largest first
            models.Index(fields=["stage", "status", "amount", "id"], name="opp_board_idx"),
            # board column totals: open deals per stage and currency without reading the table (PostgreSQL covers them)
            models.Index(
                fields=["pipeline", "stage"],
                include=["currency", "amount", "probability"],
                condition=models.Q(status="open"),
                name="opp_open_totals_idx",
            ),
            models.Index(fields=["owner", "status", "updated_at", "id"], name="opp_owner_status_idx"),
            models.Index(fields=["team", "status", "updated_at", "id"], name="opp_team_status_idx"),
            models.Index(fields=["status", "updated_at", "id"], name="opp_status_upd_idx"),
            models.Index(fields=["updated_at", "id"], name="opp_updated_idx"),
            models.Index(fields=["name_sort", "id"], name="opp_name_sort_idx"),
            models.Index(fields=["owner_sort", "id"], name="opp_owner_sort_idx"),
            models.Index(fields=["owner", "owner_sort", "id"], name="opp_own_owner_sort_idx"),
            models.Index(fields=["customer_sort", "id"], name="opp_customer_sort_idx"),
            # funnel, forecast and the board's Won / Lost totals: deals started / closed in a period, per pipeline
            # or team; on PostgreSQL the included columns answer the grouped reports from the index alone
            models.Index(fields=["pipeline", "started_on"], name="opp_pipeline_started_idx"),
            models.Index(
                fields=["pipeline", "closed_on"],
                include=["stage", "status", "currency", "amount", "probability"],
                name="opp_pipeline_closed_idx",
            ),
            models.Index(
                fields=["team", "started_on"],
                include=["pipeline", "status", "max_stage_order", "currency"],
                name="opp_team_started_idx",
            ),
            models.Index(
                fields=["team", "closed_on"],
                include=["status", "currency", "pipeline", "max_stage_order", "amount", "started_on", "owner"],
                name="opp_team_closed_idx",
            ),
            models.Index(fields=["status", "expected_close"], name="opp_status_close_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_ref"], condition=~models.Q(external_ref=""), name="opp_external_ref_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))


class OpportunityContact(models.Model):
    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
        INFLUENCER = "influencer", _("Influencer")
        TECHNICAL = "technical", _("Technical evaluator")
        USER = "user", _("User")
        CHAMPION = "champion", _("Champion")

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="contact_roles")
    contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="opportunity_roles"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)

    class Meta:
        verbose_name = _("contact role")
        verbose_name_plural = _("contact roles")
        constraints = [models.UniqueConstraint(fields=["opportunity", "contact"], name="oppcontact_uniq")]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_role_display()})"


class OpportunityLine(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(0)]
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    discount = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("line item")
        verbose_name_plural = _("line items")

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price * (100 - self.discount) / 100).quantize(Decimal("0.01"))


class StageHistory(models.Model):
    """One stay of an opportunity in a stage: entered, left, by whom. Written only by the stage service."""

    # indexed by stagehist_opp_idx below, which also covers what the reports read of a stay
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_history", db_index=False)
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["entered_at", "id"]
        verbose_name = _("stage history")
        verbose_name_plural = _("stage history")
        indexes = [
            # a deal's stays in order; on PostgreSQL the forecast reads them from the index alone
            models.Index(
                fields=["opportunity", "entered_at"], include=["stage", "left_at", "amount"], name="stagehist_opp_idx"
            ),
            models.Index(fields=["stage", "entered_at"], name="stagehist_stage_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} → {self.stage_id}"
