"""Leads (线索): captured, qualified and converted (S1)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.collation import key_field
from kehu.core.countries import country_choices
from kehu.core.models import GatedModel, NameSortedModel


class Lead(NameSortedModel, GatedModel):
    LINKED_SORTS = {"owner": "owner_sort"}

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("lead status", "New")
        WORKING = "working", _("Working")
        QUALIFIED = "qualified", _("Qualified")
        DISQUALIFIED = "disqualified", _("Disqualified")
        CONVERTED = "converted", _("Converted")

    name = models.CharField(_("name"), max_length=120)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, help_text=_("Stored in international form."))
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    source = models.CharField(_("source channel"), max_length=40, blank=True)
    # the marketing campaign that brought the lead, by name until campaigns are records (docs/decisions.md)
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    industry = models.CharField(_("industry"), max_length=40, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, choices=country_choices)
    province = models.CharField(_("province / state"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    description = models.TextField(_("description"), blank=True)
    disqualify_reason = models.CharField(_("disqualification reason"), max_length=40, blank=True)
    disqualify_note = models.CharField(_("note"), max_length=300, blank=True)
    owner_sort = key_field(_("owner sort key"))
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    converted_contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["owner", "status", "updated_at", "id"], name="lead_owner_status_idx"),
            models.Index(fields=["team", "status", "updated_at", "id"], name="lead_team_status_idx"),
            models.Index(fields=["status", "updated_at", "id"], name="lead_status_upd_idx"),
            models.Index(fields=["updated_at", "id"], name="lead_updated_idx"),
            models.Index(fields=["name_sort", "id"], name="lead_name_sort_idx"),
            models.Index(fields=["owner_sort", "id"], name="lead_owner_sort_idx"),
            models.Index(fields=["owner", "owner_sort", "id"], name="lead_own_owner_sort_idx"),
            models.Index(fields=["team", "created_at"], name="lead_team_created_idx"),  # funnel of a team
            models.Index(fields=["email"], name="lead_email_idx"),
            models.Index(fields=["phone"], name="lead_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.company}" if self.company else self.name
