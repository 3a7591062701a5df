"""Core resources of the API: custom field definitions, the event feed, and the offline API docs page."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.template import engines
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from kehu.core import customfields, events, jobs, permissions, registry
from kehu.core.api import (
    MAX_PAGE_SIZE,
    UNKNOWN_PARAMETER,
    GatedAutoSchema,
    GatedCRUDViewSet,
    GatedSerializer,
    _param,
)
from kehu.core.models import CustomFieldDefinition, Event, Job

# --------------------------------------------------------------------------- custom field definitions

WRITE_ONCE = ("object_type", "name", "type")


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=40)
    label_en = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    label_zh = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


class CustomFieldSerializer(GatedSerializer):
    object_type = "core.customfielddefinition"
    choices = ChoiceSerializer(many=True, required=False, max_length=200)  # type: ignore[call-arg]
    # explicit bounds: the model field's own range differs between SQLite and PostgreSQL, the schema must not
    order = serializers.IntegerField(min_value=0, max_value=32767, required=False)

    class Meta:
        model = CustomFieldDefinition
        fields = [
            "id",
            "object_type",
            "name",
            "label_en",
            "label_zh",
            "type",
            "required",
            "choices",
            "help_text",
            "order",
            "created_at",
        ]
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "object_type" in self.fields:
            self.fields["object_type"] = serializers.ChoiceField(choices=[t.key for t in registry.all_types()])

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            errors = {
                f: [_("This cannot be changed once the field exists.")]
                for f in WRITE_ONCE
                if f in attrs and attrs[f] != getattr(self.instance, f)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class CustomFieldViewSet(GatedCRUDViewSet):
    """Custom field definitions (administrators): values appear on records under `custom`."""

    object_type = "core.customfielddefinition"
    serializer_class = CustomFieldSerializer
    filter_fields = ("object_type", "type", "name")
    ordering_fields = ("order", "name", "created_at")
    default_ordering = "order"

    def perform_create(self, data: dict[str, Any]) -> CustomFieldDefinition:
        data["choices"] = [dict(c) for c in data.get("choices", [])]
        return customfields.save_definition(actor=self.request.user, defn=None, data=data)

    def perform_update(self, obj: CustomFieldDefinition, data: dict[str, Any], expected_version: int | None) -> Any:
        if "choices" in data:
            data["choices"] = [dict(c) for c in data["choices"]]
        return customfields.save_definition(actor=self.request.user, defn=obj, data=data)

    def perform_destroy(self, obj: CustomFieldDefinition) -> None:
        customfields.delete_definition(actor=self.request.user, defn=obj)


# --------------------------------------------------------------------------- background jobs


class JobSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField(help_text="Where to fetch the file once the job is done; null before.")
    percent = serializers.IntegerField(read_only=True, allow_null=True, help_text="done / total in per cent.")

    class Meta:
        model = Job
        fields = (
            "id",
            "kind",
            "title",
            "status",
            "done",
            "total",
            "percent",
            "message",
            "file_name",
            "file_size",
            "download",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields

    def get_download(self, job: Job) -> str | None:
        if job.status != Job.Status.DONE or not job.file:
            return None
        return self.context["request"].build_absolute_uri(reverse("api:job-download", args=[job.pk]))


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Your background jobs (exports), newest first: follow `status` and `done` / `total` until the job is done,
    then fetch `download`. Files are kept for KEHU_JOB_FILES_DAYS days (default 7)."""

    serializer_class = JobSerializer
    pagination_class = None
    query_errors = True

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Job.objects.none()
        return jobs.visible(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        unknown = list(request.query_params)
        if unknown:
            raise exceptions.ValidationError({k: [str(UNKNOWN_PARAMETER)] for k in unknown})
        rows = self.get_queryset()[:100]
        return Response(JobSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        """The job's file (CSV or XLSX), while it is kept and you may still export that list."""
        try:
            number = int(pk or "")
        except ValueError as exc:
            raise Http404 from exc
        job = jobs.downloadable(request.user, number)
        from kehu.core.views import attachment

        return attachment(job.file, job.file_name)


# --------------------------------------------------------------------------- the event feed


class EventSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    parent_type = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    data = serializers.SerializerMethodField()  # type: ignore[assignment]
    cursor = serializers.SerializerMethodField()
    object_repr = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "id",
            "created_at",
            "actor",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "parent_type",
            "parent_id",
            "changes",
            "data",
            "cursor",
        ]

    def _key(self, ct_id: int | None) -> str | None:
        if ct_id is None:
            return None
        model = ContentType.objects.get_for_id(ct_id).model_class()
        return model._meta.label_lower if model is not None else None

    def get_object_type(self, obj: Event) -> str | None:
        return self._key(obj.content_type_id)

    def get_parent_type(self, obj: Event) -> str | None:
        return self._key(obj.parent_type_id)

    def get_object_repr(self, obj: Event) -> str:
        """The record's name when the change was made (its type and id if it is made of a field you may not read)."""
        model = ContentType.objects.get_for_id(obj.content_type_id).model_class()
        if model is None or not registry.is_registered(model):
            return obj.object_repr
        return permissions.record_name(
            self.context["request"].user, registry.get(model).key, obj.object_id, obj.object_repr
        )

    def get_changes(self, obj: Event) -> dict[str, list[Any]]:
        """{field: [old, new]} without the fields you may not read."""
        return permissions.mask_event(self.context["request"].user, obj)[0]

    def get_data(self, obj: Event) -> dict[str, Any]:
        """Verb-specific parameters (a disqualification's reason, a stage move's stages), without those that
        carry a field you may not read."""
        return permissions.mask_event(self.context["request"].user, obj)[1]

    def get_cursor(self, obj: Event) -> str:
        """Send this as `after` to read the events that follow this one."""
        return events.position_of(obj).cursor()


def event_scope(user: Any) -> Q:
    """Events of records the user may view: every event of a type seen with scope "all" (deletions too),
    otherwise those of the records currently inside the user's scope."""
    cond = Q(pk__in=[])
    for ot in registry.all_types():
        pol = permissions.policy(user, ot.key)
        if not pol.can("view"):
            continue
        ct = ContentType.objects.get_for_model(ot.model)
        if not ot.owned or pol.scope == "all":
            here = Q(content_type_id=ct.pk)
        else:
            here = Q(content_type_id=ct.pk, object_id__in=permissions.visible(ot.model, user).values("pk"))
        hidden = permissions.hidden_verbs(user, ot.key)
        if hidden:
            here &= ~Q(verb__in=hidden)  # sign-in addresses are for administrators
        cond |= here
    return cond


class EventViewSet(viewsets.GenericViewSet):
    """The change feed: every change to records you may view, in commit order, read by cursor. Keep the `cursor`
    of the last event you processed and send it as `after`: no event is ever skipped, including one whose
    transaction commits after a later one's (see docs/api.md)."""

    serializer_class = EventSerializer
    schema = GatedAutoSchema()
    query_errors = True

    def get_queryset(self) -> Any:
        return Event.objects.filter(event_scope(self.request.user)).order_by("id")

    @extend_schema(
        parameters=[],
        responses=EventSerializer(many=True),
    )
    def list(self, request: Request) -> Response:
        params = request.query_params
        unknown = [k for k in params if k not in ("after", "page_size")]
        if unknown:
            raise exceptions.ValidationError({k: [str(UNKNOWN_PARAMETER)] for k in unknown})
        try:
            after = events.parse_cursor(params["after"]) if params.get("after", "") != "" else None
        except ValueError as exc:
            raise ValidationError({"after": [_("Give the cursor of the last event you read.")]}) from exc
        try:
            size = int(params.get("page_size", "100"))
        except ValueError:
            size = 0
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError({"page_size": [_("Give a number from 1 to %(n)d.") % {"n": MAX_PAGE_SIZE}]})
        rows, more = events.feed(self.get_queryset().select_related("content_type"), after, size)
        data = EventSerializer(rows, many=True, context=self.get_serializer_context()).data
        next_url = None
        if more:
            next_url = replace_query_param(request.build_absolute_uri(), "after", events.position_of(rows[-1]).cursor())
        return Response({"results": data, "next": next_url})


class EventPagination:
    """Only for the schema: the feed answers {"results": [...], "next": url or null}, paged by `after`."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {"results": schema, "next": {"type": "string", "format": "uri", "nullable": True}},
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            _param(
                "after",
                {"type": "string", "maxLength": 100},
                _(
                    "Return the events after this cursor: the `cursor` of the last event you processed (an event id"
                    " is still accepted); absent: from the start."
                ),
            ),
            _param("page_size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}, _("Events per page.")),
        ]


EventViewSet.pagination_class = EventPagination  # type: ignore[assignment]


# --------------------------------------------------------------------------- docs page (works offline)

DOCS_TEMPLATE = """{% load i18n %}<!doctype html>
<html lang="{{ LANGUAGE_CODE }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}
code{background:#f3f3f3;padding:0 .25rem;border-radius:3px}
.op{border-top:1px solid #ddd;padding:.5rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:600}
.get{color:#0a7}.post{color:#06c}.put,.patch{color:#a60}.delete{color:#c22}
</style></head><body>
<h1>{{ title }} <small>{{ version }}</small></h1>
<p>{{ description }}</p>
<p>{% translate "Machine-readable schema (OpenAPI 3):" %} <a href="{{ schema_url }}">{{ schema_url }}</a></p>
{% for tag, ops in groups %}<h2>{{ tag }}</h2>
{% for op in ops %}<div class="op"><span class="m {{ op.method }}">{{ op.method|upper }}</span>
<code>{{ op.path }}</code>{% if op.summary %} — {{ op.summary }}{% endif %}
{% if op.params %}<br><small>{% translate "Parameters:" %} {{ op.params|join:", " }}</small>{% endif %}
<br><small>{% translate "Responses:" %} {{ op.codes|join:", " }}</small></div>{% endfor %}{% endfor %}
</body></html>"""


def docs(request: HttpRequest) -> HttpResponse:
    """A readable list of the API's operations built from the schema; needs no CDN or JavaScript."""
    schema = spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            tag = (op.get("tags") or ["api"])[0]
            groups.setdefault(tag, []).append(
                {
                    "method": method,
                    "path": path,
                    "summary": (op.get("description") or "").split("\n")[0],
                    "params": [p["name"] for p in op.get("parameters", []) if p.get("in") in ("query", "header")],
                    "codes": sorted(op.get("responses", {})),
                }
            )
    from django.urls import reverse

    template = engines["django"].from_string(DOCS_TEMPLATE)
    html = template.render(
        {
            "title": schema["info"]["title"],
            "version": schema["info"]["version"],
            "description": schema["info"].get("description", ""),
            "schema_url": reverse("api-schema"),
            "groups": sorted(groups.items()),
        },
        request,
    )
    return HttpResponse(html)


class BearerScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <token>` in the schema."""

    target_class = "kehu.users.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer"}
