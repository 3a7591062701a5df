"""The lead and opportunity lists (columns, filters, sorts) for kehu.core.lists."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.countries import country_choices
from kehu.core.lists import Filter, ObjectList
from kehu.sales.models import Lead, Opportunity, Pipeline, Stage


def _followed_up(qs: models.QuerySet, value: str) -> models.QuerySet:
    """Leads with (1) or without (0) at least one follow-up record."""
    from kehu.activities.models import Activity

    has = Exists(Activity.objects.filter(lead_id=OuterRef("pk")))
    return qs.filter(has if value == "1" else ~has)


def _phone_contains(qs: models.QuerySet, value: str) -> models.QuerySet:
    """Leads whose phone holds these digits, however they are written ("138 1234", "+86-138…")."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if not digits:
        raise ValidationError(_("Enter some digits of the phone number."))
    return qs.filter(phone__contains=digits)


def reached_stage_q(stage: Stage) -> Q:
    """Deals that reached `stage`: for an open stage, every deal of its pipeline whose highest stage so far is
    at least that far (won deals count as having passed every open stage); for won or lost, the deals that
    ended so."""
    if stage.kind == Stage.Kind.OPEN:
        reached = Q(max_stage_order__gte=stage.order) | Q(status=Opportunity.Status.WON)
    else:
        reached = Q(status=stage.kind)
    return Q(pipeline_id=stage.pipeline_id) & reached


def _reached_stage(qs: models.QuerySet, value: str) -> models.QuerySet:
    stage = Stage.objects.filter(pk=int(value)).first() if value.isdigit() and len(value) < 10 else None
    if stage is None:
        raise ValidationError(_("Choose a stage from the list."))
    return qs.filter(reached_stage_q(stage))


LEAD_LIST = ObjectList(
    object_type="sales.lead",
    title=_("Leads"),
    columns=["name", "company", "status", "source", "owner", "updated_at"],
    available=[
        "name",
        "company",
        "title",
        "email",
        "phone",
        "wechat",
        "status",
        "source",
        "campaign",
        "industry",
        "country",
        "province",
        "city",
        "disqualify_reason",
        "owner",
        "team",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("status", _("Status"), choices=Lead.Status.choices),
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("source", _("Source channel"), picklist="source"),
        Filter("campaign", _("Campaign"), kind="text"),
        Filter("industry", _("Industry"), picklist="industry"),
        Filter("disqualify_reason", _("Disqualification reason"), picklist="disqualify_reason"),
        Filter("name", _("Name"), kind="text"),
        Filter("company", _("Company"), kind="text"),
        Filter("country", _("Country"), choices=country_choices),
        Filter("province", _("Province / state"), kind="text"),
        Filter("city", _("City"), kind="text"),
        Filter("email", _("E-mail"), kind="text"),
        Filter("phone", _("Phone"), kind="text", apply=_phone_contains),
        Filter("followed_up", _("Followed up"), kind="bool", apply=_followed_up),
        Filter("created_at", _("Created"), kind="date"),
        Filter("updated_at", _("Last changed"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "name", "status"],
    select_related=("owner",),
    new_url=reverse_lazy("sales:lead_create"),
    bulk_actions=("assign",),
)


def _pipelines() -> list[tuple[int, str]]:
    return [(p.pk, p.name) for p in Pipeline.objects.all()]


def _currencies() -> list[tuple[str, str]]:
    codes = set(Pipeline.objects.values_list("currency", flat=True)) | {"CNY"}
    return [(c, c) for c in sorted(codes)]


def _no_close_date(qs: models.QuerySet, value: str) -> models.QuerySet:
    return qs.filter(expected_close__isnull=value == "1")


def by_customer(qs: models.QuerySet, name: str, value: str) -> models.QuerySet:
    """Records whose customer relation `name` is one customer: its id (the reports' links) or part of its name."""
    if value.isdigit() and len(value) < 19:
        return qs.filter(**{f"{name}_id": int(value)})
    return qs.filter(**{f"{name}__name__icontains": value})


def _stages() -> list[tuple[int, str]]:
    return [(s.pk, f"{s.pipeline.name} · {s.name}") for s in Stage.objects.select_related("pipeline")]


OPPORTUNITY_LIST = ObjectList(
    object_type="sales.opportunity",
    title=_("Opportunities"),
    columns=["name", "customer", "stage", "amount", "expected_close", "owner", "updated_at"],
    available=[
        "name",
        "customer",
        "pipeline",
        "stage",
        "status",
        "amount",
        "currency",
        "probability",
        "expected_close",
        "started_on",
        "closed_on",
        "source",
        "campaign",
        "partner",
        "loss_reason",
        "next_step",
        "owner",
        "team",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("pipeline", _("Pipeline"), choices=_pipelines),
        Filter("stage", _("Stage"), choices=_stages),
        Filter("status", _("Status"), choices=Opportunity.Status.choices),
        Filter("owner", _("Owner"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("expected_close", _("Expected close"), kind="date"),
        Filter("no_close_date", _("No expected close"), kind="bool", apply=_no_close_date),
        Filter("amount", _("Amount"), kind="number"),
        Filter("currency", _("Currency"), choices=_currencies),
        Filter("source", _("Source channel"), picklist="source"),
        Filter("campaign", _("Campaign"), kind="text"),
        Filter("partner", _("Partner"), kind="text", apply=lambda qs, v: by_customer(qs, "partner", v)),
        Filter("loss_reason", _("Loss reason"), picklist="loss_reason"),
        Filter("closed_on", _("Closed"), kind="date"),
        Filter("started_on", _("Started"), kind="date"),
        Filter("reached_stage", _("Reached stage"), choices=_stages, apply=_reached_stage),
        Filter("next_step", _("Next step"), kind="text"),
    ],
    sorts=["updated_at", "created_at", "name", "amount", "probability", "started_on"],
    select_related=("owner", "stage"),
    new_url=reverse_lazy("sales:opportunity_create"),
    bulk_actions=("assign",),
)


from kehu.sales import lists_documents  # noqa: E402, F401  (the document lists register with the rest)
