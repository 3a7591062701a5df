"""Building blocks shared by every domain app: feature mixins, the event log, search entries, custom
field definitions, pick lists, saved views and idempotency records."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Self

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.collation import key_field
from kehu.core.querysets import GatedQuerySet

# --------------------------------------------------------------------------- feature mixins


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True, db_index=False)

    class Meta:
        abstract = True


class OwnedModel(models.Model):
    """A record with an owner and the owner's team: the two columns the gate's data scope reads."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    team = models.ForeignKey(
        "users.Team", verbose_name=_("team"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True


class CustomFieldsModel(models.Model):
    """Values of administrator-defined fields, validated by kehu.core.customfields."""

    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True


class VersionedModel(models.Model):
    """A counter bumped on every save through a service: the API's ETag and the forms' stale-edit check."""

    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


class NameSortedModel(models.Model):
    """A record listed by name in the order a reader of Chinese expects (kehu.core.collation): the key is
    written with every save and by `bulk_create`; lists and the API sort "name" on it."""

    SORT_SOURCES: tuple[str, ...] = ("name",)  # the key is made of the first of these that is not empty
    LINKED_SORTS: dict[str, str] = {}  # link → column keeping a copy of the linked record's key

    name_sort = key_field(_("sort key"))
    _stored_name_sort: str | None = None  # the key as read from the database, to tell a rename on save
    _stored_links: dict[str, Any] | None = None  # the links' ids as read, to copy keys only when a link changed

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        from kehu.core import collation

        update_fields = kwargs.get("update_fields")
        written = set(self.SORT_SOURCES) | set(self.LINKED_SORTS) if update_fields is None else set(update_fields)
        stored = self._stored_links
        # a link as it was read keeps its copy (renames rewrite copies themselves): no lookup on every edit
        relink = {
            fk
            for fk in written & set(self.LINKED_SORTS)
            if stored is None or stored.get(fk) != getattr(self, f"{fk}_id")
        }
        collation.fill([self], links=relink)
        if update_fields is not None:
            extra = {"name_sort"} if written & set(self.SORT_SOURCES) else set()
            extra |= {column for fk, column in self.LINKED_SORTS.items() if fk in relink}
            kwargs["update_fields"] = {*update_fields, *extra}
        super().save(*args, **kwargs)
        if self._stored_name_sort is not None and self._stored_name_sort != self.name_sort:
            collation.propagate(self)
        self._stored_name_sort = self.name_sort
        self._stored_links = {fk: getattr(self, f"{fk}_id") for fk in self.LINKED_SORTS}

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any], **kwargs: Any) -> Self:
        obj = super().from_db(db, field_names, values, **kwargs)
        obj._stored_name_sort = obj.__dict__.get("name_sort")
        obj._stored_links = {fk: obj.__dict__.get(f"{fk}_id") for fk in cls.LINKED_SORTS}
        return obj


class BilingualName(models.Model):
    """A name in English and Chinese; `name` is the one of the active language (English when no Chinese)."""

    name_en = models.CharField(_("name (English)"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") and self.name_zh else self.name_en


class GatedModel(TimestampedModel, OwnedModel, CustomFieldsModel, VersionedModel):
    objects = GatedQuerySet.as_manager()

    class Meta:
        abstract = True


# --------------------------------------------------------------------------- event log


class CurrentTxid(models.Func):
    """The database default of `Event.txid`: the id of the transaction writing the row on PostgreSQL, NULL on
    SQLite (whose writes are serialised, so ids alone are in commit order)."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        return "NULL", ()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        return "(pg_current_xact_id()::text::bigint)", ()


class Event(models.Model):
    """One row per change, written in the same transaction as the change (kehu.core.events)."""

    class Verb(models.TextChoices):
        CREATED = "created", pgettext_lazy("event", "created")
        UPDATED = "updated", pgettext_lazy("event", "updated")
        DELETED = "deleted", pgettext_lazy("event", "deleted")
        STAGE_CHANGED = "stage_changed", pgettext_lazy("event", "stage changed")
        ASSIGNED = "assigned", pgettext_lazy("event", "assigned")
        TAGGED = "tagged", pgettext_lazy("event", "tagged")
        QUALIFIED = "qualified", pgettext_lazy("event", "qualified")
        DISQUALIFIED = "disqualified", pgettext_lazy("event", "disqualified")
        CONVERTED = "converted", pgettext_lazy("event", "converted")
        LOGGED_IN = "logged_in", pgettext_lazy("event", "logged in")
        DEACTIVATED = "deactivated", pgettext_lazy("event", "deactivated")
        TOKEN_CREATED = "token_created", pgettext_lazy("event", "created an API token")
        TOKEN_REVOKED = "token_revoked", pgettext_lazy("event", "revoked an API token")

    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, blank=True)
    # The record whose timeline also shows this event (a contact's events appear on its customer).
    parent_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    parent_id = models.BigIntegerField(null=True, blank=True)
    verb = models.CharField(_("verb"), max_length=32, choices=Verb.choices)
    changes = models.JSONField(default=dict, blank=True)  # {field: [old, new]}
    data = models.JSONField(default=dict, blank=True)  # verb-specific parameters (reason, merged ids …)
    # PostgreSQL: the writing transaction's id, filled in by the database (Django sends DEFAULT), so the feed can
    # hold back events while an older transaction is still open (kehu.core.events.feed). NULL on SQLite and on
    # events written before the column existed. The feed's index on (COALESCE(txid, 0), id) is PostgreSQL-only
    # and lives in migration 0009.
    txid = models.BigIntegerField(null=True, blank=True, editable=False, db_default=CurrentTxid())

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["content_type", "object_id", "id"], name="event_object_idx"),
            models.Index(fields=["parent_type", "parent_id", "id"], name="event_parent_idx"),
            models.Index(fields=["actor", "id"], name="event_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.object_repr}"


# --------------------------------------------------------------------------- search


class SearchEntry(models.Model):
    """The normalised search document of one record (kehu.core.search). The gate columns are copies of
    the record's owner and team so results are filtered without joining every domain table."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    owner_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=300, blank=True)
    document = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_type", "object_id"], name="searchentry_object_uniq")]

    def __str__(self) -> str:
        return self.title


# --------------------------------------------------------------------------- custom fields and pick lists


class CustomFieldDefinition(models.Model):
    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        LONGTEXT = "longtext", _("Long text")
        INTEGER = "integer", _("Number")
        DECIMAL = "decimal", _("Decimal")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes / no")
        CHOICE = "choice", _("Single choice")
        MULTICHOICE = "multichoice", _("Multiple choice")
        USER = "user", _("User")

    object_type = models.CharField(_("object type"), max_length=40)
    name = models.SlugField(_("key"), max_length=40, help_text=_("Letters, digits and underscores; used by the API."))
    label_en = models.CharField(_("label (English)"), max_length=80)
    label_zh = models.CharField(_("label (Chinese)"), max_length=80)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)  # [{"value", "label_en", "label_zh"}]
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["object_type", "order", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [models.UniqueConstraint(fields=["object_type", "name"], name="customfield_name_uniq")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.label_zh if (get_language() or "").startswith("zh") and self.label_zh else self.label_en

    @property
    def field_key(self) -> str:
        """The name the gate, filters and the API use: custom fields live beside real ones as cf_<name>."""
        return f"cf_{self.name}"

    def choice_label(self, value: str) -> str:
        from django.utils.translation import get_language

        zh = (get_language() or "").startswith("zh")
        for c in self.choices:
            if c.get("value") == value:
                return (c.get("label_zh") if zh else c.get("label_en")) or value
        return value


class PicklistOption(models.Model):
    """Administrator-managed values for industry, source channel, disqualification reason …"""

    class List(models.TextChoices):
        INDUSTRY = "industry", _("Industry")
        SOURCE = "source", _("Source channel")
        DISQUALIFY_REASON = "disqualify_reason", _("Disqualification reason")
        LOSS_REASON = "loss_reason", _("Loss reason")

    list = models.CharField(_("pick list"), max_length=32, choices=List.choices)
    value = models.SlugField(_("value"), max_length=40)
    label_en = models.CharField(_("label (English)"), max_length=80)
    label_zh = models.CharField(_("label (Chinese)"), max_length=80)
    order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["list", "order", "id"]
        verbose_name = _("pick list option")
        verbose_name_plural = _("pick list options")
        constraints = [models.UniqueConstraint(fields=["list", "value"], name="picklist_value_uniq")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.label_zh if (get_language() or "").startswith("zh") and self.label_zh else self.label_en


# --------------------------------------------------------------------------- saved views, idempotency


class SavedView(models.Model):
    """A user's named list configuration: filters, sort and columns, stored as the list's query string."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    object_type = models.CharField(max_length=40)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "object_type", "name"], name="savedview_name_uniq")]

    def __str__(self) -> str:
        return self.name


class IdempotencyRecord(models.Model):
    """The stored answer to a POST carrying an Idempotency-Key, replayed when the same key comes again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_uniq")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"


# --------------------------------------------------------------------------- background jobs


class Job(models.Model):
    """One piece of long work (an export, a recomputation after stages are reordered) run by a worker, with
    its progress for the page that started it. The task itself goes through `django_tasks`; whichever backend
    runs it, the job row is where the page and the API read how far it got and what came out."""

    class Kind(models.TextChoices):
        EXPORT = "export", _("Export")
        BULK = "bulk", _("Bulk change")
        STAGE_REACH = "stage_reach", _("Recount furthest stages")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs", verbose_name=_("started by")
    )
    title = models.CharField(_("title"), max_length=200)
    params = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)
    file = models.FileField(upload_to="jobs/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "-created_at"], name="job_actor_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.status == self.Status.DONE else None
        return min(100, int(self.done * 100 / self.total))
