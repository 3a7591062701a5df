from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.collation import key_field
from kehu.core.countries import country_choices
from kehu.core.models import GatedModel, NameSortedModel


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    color = models.CharField(_("colour"), max_length=16, default="secondary")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    NEW = "new", pgettext_lazy("lifecycle stage", "New customer")
    RETAINED = "retained", _("Retained")
    AT_RISK = "at_risk", _("At risk")
    LOST = "lost", _("Lost")
    WON_BACK = "won_back", _("Won back")


class SizeTier(models.TextChoices):
    LARGE = "large", _("Large")
    MEDIUM = "medium", _("Medium")
    SMALL = "small", _("Small")
    MICRO = "micro", _("Micro")


class Customer(NameSortedModel, GatedModel):
    LINKED_SORTS = {"owner": "owner_sort"}

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    class Relationship(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        PARTNER = "partner", _("Partner")
        SUPPLIER = "supplier", _("Supplier")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    owner_sort = key_field(_("owner sort key"))
    relationship = models.CharField(
        _("relationship"), max_length=10, choices=Relationship.choices, default=Relationship.CUSTOMER
    )
    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        help_text=_("统一社会信用代码, 18 characters, for companies registered in mainland China."),
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.PROSPECT
    )
    stage_changed_at = models.DateTimeField(_("stage since"), null=True, blank=True)
    source = models.CharField(_("source channel"), max_length=40, blank=True)
    industry = models.CharField(_("industry"), max_length=40, blank=True)
    size_tier = models.CharField(_("size"), max_length=16, choices=SizeTier.choices, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, choices=country_choices)
    province = models.CharField(_("province / state"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    # Finance fields: hidden from roles whose field rules say so (G1).
    credit_limit = models.DecimalField(_("credit limit"), max_digits=14, decimal_places=2, null=True, blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["team", "lifecycle_stage", "updated_at", "id"], name="customer_team_stage_idx"),
            models.Index(fields=["owner", "lifecycle_stage", "updated_at", "id"], name="customer_owner_stage_idx"),
            models.Index(fields=["lifecycle_stage", "updated_at", "id"], name="customer_stage_upd_idx"),
            models.Index(fields=["updated_at", "id"], name="customer_updated_idx"),
            models.Index(fields=["name_sort", "id"], name="customer_name_sort_idx"),
            models.Index(fields=["owner_sort", "id"], name="customer_owner_sort_idx"),
            models.Index(fields=["owner", "owner_sort", "id"], name="customer_own_owner_sort_idx"),
            models.Index(fields=["created_at", "id"], name="customer_created_idx"),
            # the list's other common sorts, so their first page is read in order, not sorted from all rows
            models.Index(fields=["city", "id"], name="customer_city_idx"),
            models.Index(fields=["industry", "id"], name="customer_industry_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc"],
                condition=~models.Q(uscc=""),
                name="customer_uscc_uniq",
                violation_error_code="unique",
                violation_error_message=_("Another customer already has this unified social credit code."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class LifecycleChange(models.Model):
    """A customer's lifecycle history: when it entered which stage, and who moved it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="lifecycle_changes")
    from_stage = models.CharField(max_length=16, choices=LifecycleStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=LifecycleStage.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["to_stage", "changed_at"], name="lifecycle_to_idx")]

    def __str__(self) -> str:
        return f"{self.from_stage or '-'} → {self.to_stage}"


class Contact(NameSortedModel, GatedModel):
    LINKED_SORTS = {"owner": "owner_sort", "customer": "customer_sort"}

    class Gender(models.TextChoices):
        FEMALE = "f", _("Female")
        MALE = "m", _("Male")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    owner_sort = key_field(_("owner sort key"))
    customer_sort = key_field(_("customer sort key"))

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["customer", "id"], name="contact_customer_idx"),
            models.Index(fields=["team", "updated_at", "id"], name="contact_team_upd_idx"),
            models.Index(fields=["owner", "updated_at", "id"], name="contact_owner_upd_idx"),
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
            models.Index(fields=["name_sort", "id"], name="contact_name_sort_idx"),
            models.Index(fields=["owner_sort", "id"], name="contact_owner_sort_idx"),
            models.Index(fields=["owner", "owner_sort", "id"], name="contact_own_owner_sort_idx"),
            models.Index(fields=["customer_sort", "id"], name="contact_customer_sort_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    WECHAT = "wechat", _("WeChat")
    WHATSAPP = "whatsapp", _("WhatsApp")
    LINKEDIN = "linkedin", _("LinkedIn")
    WECOM = "wecom", _("WeCom")
    QQ = "qq", _("QQ")
    DINGTALK = "dingtalk", _("DingTalk")


class ContactChannel(models.Model):
    """One e-mail, phone or social identity of a contact, kept as entered and normalised."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    value = models.CharField(_("value"), max_length=200)
    normalized = models.CharField(max_length=200, editable=False)
    label = models.CharField(_("label"), max_length=40, blank=True)  # work, home, mobile …
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["kind", "-is_primary", "id"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        indexes = [models.Index(fields=["kind", "normalized"], name="channel_lookup_idx")]
        constraints = [models.UniqueConstraint(fields=["contact", "kind", "normalized"], name="channel_contact_uniq")]

    def __str__(self) -> str:
        return self.value
