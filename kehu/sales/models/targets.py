"""Sales targets (quotas) per rep or team and period (S4)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Target(models.Model):
    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")

    period = models.CharField(_("period"), max_length=8, choices=Period.choices, default=Period.MONTH)
    start = models.DateField(_("period start"), help_text=_("The first day of the month or quarter."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales rep"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
    )
    team = models.ForeignKey(
        "users.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    amount = models.DecimalField(
        _("target amount"), max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    deals = models.PositiveIntegerField(_("target deals won"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        ordering = ["-start", "id"]
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, team__isnull=True)
                | models.Q(user__isnull=True, team__isnull=False),
                name="target_user_xor_team",
            ),
            models.UniqueConstraint(fields=["period", "start", "user"], name="target_user_uniq"),
            models.UniqueConstraint(fields=["period", "start", "team"], name="target_team_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.team} {self.start:%Y-%m}"
