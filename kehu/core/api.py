"""API conventions shared by every app's api/ package (ARCHITECTURE.md → Conventions).

Every resource is a `GatedViewSet`: its queryset comes from the permission gate, its serializer drops the
fields the user may not read, writes go through the app's services, lists are filtered, ordered and paged
by cursor here, detail responses carry an ETag from the record's version, `If-Match` guards updates and a
POST with an `Idempotency-Key` is replayed instead of repeated.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.http import Http404, QueryDict
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import exceptions, filters, pagination, serializers, status, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from kehu.core import collation, customfields, permissions, registry
from kehu.core import search as search_mod
from kehu.core.models import CustomFieldDefinition, IdempotencyRecord
from kehu.core.pagination import paginate
from kehu.core.services import StaleEdit

MAX_PAGE_SIZE = 200
MAX_INT = 2**63 - 1
UNKNOWN_FIELD = gettext_lazy("Unknown field.")
UNKNOWN_PARAMETER = gettext_lazy("Unknown query parameter.")

# --------------------------------------------------------------------------- errors


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = gettext_lazy(
        "Someone else saved this record after you read it. Fetch it again, then make your change again."
    )
    default_code = "precondition_failed"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy(
        "This Idempotency-Key was already used for a different request. Use a new key for a new request."
    )
    default_code = "idempotency_conflict"


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "__all__" if key in ("non_field_errors", "detail") else str(key)
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{name}.{sub}"] = msgs
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for i, item in enumerate(value):
                    for sub, msgs in _flatten(item).items():
                        out[f"{name}.{i}.{sub}"] = msgs
            else:
                out[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return out
    if isinstance(detail, list):
        return {"__all__": [str(d) for d in detail]}
    return {"__all__": [str(detail)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error as {"errors": {"field": ["message"]}}; Django's own errors mapped to HTTP codes."""
    if isinstance(exc, StaleEdit):
        exc = PreconditionFailed(exc.messages[0] if exc.messages else None)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(_parse_error_message(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = {"errors": _flatten(response.data)}
    return response


def _parse_error_message(exc: exceptions.ParseError) -> str:
    """A translated message for a body the parser could not read (DRF's own names Python's English error)."""
    cause = exc.__context__
    if isinstance(cause, json.JSONDecodeError):
        return _("The request body is not valid JSON (line %(line)d, column %(column)d).") % {
            "line": cause.lineno,
            "column": cause.colno,
        }
    if isinstance(cause, UnicodeError):
        return _("The request body is not valid UTF-8 text.")
    detail = str(exc.detail)
    if detail.startswith("JSON parse error"):
        return _("The request body is not valid JSON.")
    if detail.startswith("Multipart form parse error"):
        return _("The uploaded form data could not be read.")
    if detail.startswith("Unsupported charset"):
        return _("The character set in the Content-Type header is not supported; send UTF-8.")
    return detail


def not_found(request: Any, exception: Exception | None = None) -> Any:
    """The site's 404 handler: under /api/ a JSON error in the API's shape, elsewhere the usual page."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path_info.startswith("/api/"):
        return JsonResponse({"errors": {"__all__": [_("Not found.")]}}, status=404)
    return page_not_found(request, exception)


class ErrorSerializer(serializers.Serializer):
    """The shape of every error response: messages per field, `__all__` for the request as a whole."""

    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


# --------------------------------------------------------------------------- serializers


def _has_bad_chars(value: Any) -> bool:
    """NUL and lone surrogates cannot be stored by PostgreSQL (text or JSON); refuse them early."""
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, list):
        return any(_has_bad_chars(v) for v in value)
    if isinstance(value, dict):
        return any(_has_bad_chars(k) or _has_bad_chars(v) for k, v in value.items())
    return False


def request_user(context: Mapping[str, Any]) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


def custom_definitions(context: Mapping[str, Any], object_type: str) -> dict[str, CustomFieldDefinition]:
    """The type's custom field definitions by name, read once per request."""
    holder = context.get("request") or context
    cache = getattr(holder, "_kehu_cf_defs", None)
    if cache is None:
        cache = {}
        if isinstance(holder, dict):
            holder["_kehu_cf_defs"] = cache
        else:
            holder._kehu_cf_defs = cache  # type: ignore[union-attr]
    if object_type not in cache:
        cache[object_type] = {d.name: d for d in customfields.definitions(object_type)}
    return cache[object_type]


class StrictSerializerMixin:
    """A body naming a field the serializer does not have (or the user may not read) is refused."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {str(k): [str(UNKNOWN_FIELD)] for k in data if k not in self.fields}
            for name, value in data.items():
                if name in self.fields and self.fields[name].read_only and not self._unchanged(name, value):
                    errors[name] = [_("This field is read-only; it changes through its own action, if any.")]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]

    def _unchanged(self, name: str, value: Any) -> bool:
        """A read-only field sent back with the value it has (a PUT of what GET returned) is accepted."""
        instance = getattr(self, "instance", None)
        if instance is None:
            return False
        field = self.fields[name]
        try:
            current = field.to_representation(field.get_attribute(instance))
        except Exception:  # noqa: BLE001 - any value we cannot compare counts as a change
            return False
        return json.loads(JSONRenderer().render(current) or b"null") == value


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "Custom field values by key (GET /api/v1/custom-fields/ lists the keys and types).",
    }
)
class CustomValuesField(serializers.Field):
    """Custom fields as one object {name: value}; names the user may not read are absent."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def _object_type(self) -> str:
        return self.parent.object_type  # type: ignore[union-attr,attr-defined]

    def to_representation(self, value: Any) -> dict[str, Any]:
        defs = custom_definitions(self.context, self._object_type())
        pol = permissions.policy(request_user(self.context), self._object_type())
        return {k: v for k, v in (value or {}).items() if k in defs and pol.can_read(f"cf_{k}")}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Give an object of custom field values."))
        if _has_bad_chars(data):
            raise serializers.ValidationError(_("Null characters are not allowed."))
        defs = custom_definitions(self.context, self._object_type())
        pol = permissions.policy(request_user(self.context), self._object_type())
        errors: dict[str, list[str]] = {}
        for key in data:
            if key not in defs or not pol.can_read(f"cf_{key}"):
                errors[f"cf_{key}"] = [_("Unknown custom field.")]
            elif not pol.can_write(f"cf_{key}"):
                errors[f"cf_{key}"] = [_("You may not change this field.")]
        if errors:
            raise serializers.ValidationError(errors)
        return dict(data)


class GatedSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A model serializer without the fields the user's policy hides (custom fields included)."""

    object_type: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = request_user(self.context)
        if user is not None and getattr(user, "is_authenticated", False):
            pol = permissions.policy(user, self.object_type)
            for name in [str(n) for n in self.fields if not pol.can_read(str(n))]:
                self.fields.pop(name)

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail: Any = exc.detail
            if isinstance(detail, dict) and isinstance(detail.get("custom"), dict):
                detail = {**{k: v for k, v in detail.items() if k != "custom"}, **detail["custom"]}  # cf_<name>
                raise serializers.ValidationError(detail) from exc
            raise

    def build_relational_field(self, field_name: str, relation_info: Any) -> Any:
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        user = request_user(self.context)
        model = relation_info.related_model
        if "queryset" in kwargs and user is not None and registry.is_registered(model):
            kwargs["queryset"] = permissions.visible(model, user)  # a record one cannot see is "does not exist"
        return field_class, kwargs


class ReadableSerializer(serializers.Serializer):
    """A plain serializer whose fields the user may not read are dropped (for action results)."""

    object_type: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = request_user(self.context)
        if user is not None and getattr(user, "is_authenticated", False):
            pol = permissions.policy(user, self.object_type)
            for name in [str(n) for n in self.fields if not pol.can_read(str(n))]:
                self.fields.pop(name)


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    """A request body with a fixed set of fields (action parameters)."""


# --------------------------------------------------------------------------- filtering, ordering, paging

RESERVED = {"q", "ordering", "cursor", "page_size"}


def _int(raw: str) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise DjangoValidationError(_("Enter a whole number.")) from exc
    if abs(value) > MAX_INT:
        raise DjangoValidationError(_("Enter a whole number.")) from None
    return value


def _convert(field: Any, raw: str, user: Any) -> Any:
    if "\x00" in raw:
        raise DjangoValidationError(_("Null characters are not allowed."))
    if field.is_relation:
        return user.pk if raw == "me" else _int(raw)
    if isinstance(field, models.IntegerField | models.AutoField):
        return _int(raw)
    value = field.to_python(raw)
    if isinstance(field, models.DecimalField) and value is not None and not value.is_finite():
        raise DjangoValidationError(_("Enter a number."))
    if field.choices and value not in {str(k) for k, _v in field.flatchoices}:
        raise DjangoValidationError(_("“%(value)s” is not one of the choices.") % {"value": raw})
    return value


def _text(field: Any, raw: str, user: Any) -> str:
    """The value of a filter on a related record's text (a tag's name)."""
    if "\x00" in raw:
        raise DjangoValidationError(_("Null characters are not allowed."))
    return raw


class GateFilterBackend(filters.BaseFilterBackend):
    """`?field=value`, `?field__in=a,b`, `?cf_<name>=value`, `?q=` and `?ordering=`, on readable fields only."""

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        ot = registry.get(view.object_type)
        user = request.user
        pol = permissions.policy(user, ot.key)
        defs = {d.field_key: d for d in custom_definitions({"request": request}, ot.key).values()}
        errors: dict[str, list[str]] = {}
        for key in request.query_params:
            if key in RESERVED:
                continue
            raw = request.query_params.get(key, "")
            bound = next((b for b in RANGE_SUFFIXES if key.endswith(b)), "")
            if bound:
                name = key.removesuffix(bound)
                if name not in range_fields(view, defs) or not pol.can_read(name):
                    errors[key] = [str(UNKNOWN_PARAMETER)]
                    continue
                try:
                    queryset = queryset.filter(_range_q(ot.model, name, defs, raw, upper=bound == "__to"))
                except DjangoValidationError as exc:
                    errors[key] = list(exc.messages)
                continue
            name, many = (key[:-4], True) if key.endswith("__in") else (key, False)
            known = name in view.filter_fields or (name in defs and not many)
            if not known or not pol.can_read(name):
                errors[key] = [str(UNKNOWN_PARAMETER)]
                continue
            try:
                if name in defs:
                    if "\x00" in raw:
                        raise DjangoValidationError(_("Null characters are not allowed."))
                    queryset = queryset.filter(customfields.filter_q(defs[name], raw))
                    continue
                field: Any = ot.model._meta.get_field(name)
                lookup = view.filter_lookups.get(name, name)
                convert = _convert if name not in view.filter_lookups else _text
                values = [convert(field, v.strip(), user) for v in raw.split(",")] if many else None
                value = None if many else convert(field, raw, user)
                cond = Q(**{f"{lookup}__in": values}) if many else Q(**{lookup: value})
                if field.many_to_many:
                    queryset = queryset.filter(pk__in=ot.model._default_manager.filter(cond).values("pk"))
                else:
                    queryset = queryset.filter(cond)
            except DjangoValidationError as exc:
                errors[key] = list(exc.messages)
        query = request.query_params.get("q", "").strip()
        view.search_keep = None
        if "q" in request.query_params and not view.search_enabled:
            errors["q"] = [str(UNKNOWN_PARAMETER)]
        ordering = request.query_params.get("ordering", view.default_ordering)
        if query and "q" not in errors:
            # a condition on the search index inside the list's own query: every match, with the filters
            try:
                queryset, view.search_keep = search_mod.restrict(queryset, user, query, ordering)
            except search_mod.TooManyToSort as exc:
                if "ordering" in request.query_params:
                    errors["ordering"] = list(exc.messages)
                else:  # no order asked for: the many matches come by last change, every one of them
                    ordering = "-updated_at"
                    queryset, view.search_keep = search_mod.restrict(queryset, user, query, ordering)
        key = ordering.lstrip("-")
        if key in defs and pol.can_read(key):
            queryset = queryset.annotate(**{SORT_KEY: customfields.order_expression(defs[key])})
            ordering = ordering.replace(key, SORT_KEY)
        elif key not in view.allowed_ordering():
            errors["ordering"] = [_("Cannot order by “%(name)s”.") % {"name": key}]
        elif (by_name := collation.sort_expression(queryset.model, key)) is not None:
            queryset = queryset.annotate(**{SORT_KEY: by_name})  # names in pinyin order, as the lists sort them
            ordering = ordering.replace(key, SORT_KEY)
        if errors:
            raise exceptions.ValidationError(errors)
        view.ordering = ordering
        return queryset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        ot = registry.get(view.object_type)
        params: list[dict[str, Any]] = []
        if view.search_enabled:
            params.append(_param("q", {"type": "string"}, _("Quick search (name, e-mail, phone, pinyin …).")))
        orders = [o for f in view.ordering_fields for o in (f, f"-{f}")]
        params.append(
            _param(
                "ordering",
                {
                    "anyOf": [
                        {"type": "string", "enum": orders},
                        {"type": "string", "pattern": r"^-?cf_[a-z][a-z0-9_]*$"},
                    ],
                    "default": view.default_ordering,
                },
                _("Sort order; a leading minus sorts descending. `cf_<key>` sorts on a custom field you may read."),
            )
        )
        for name in view.filter_fields:
            field: Any = ot.model._meta.get_field(name)
            params.append(_param(name, _field_schema(field), _("Exact match.")))
            params.append(_param(f"{name}__in", {"type": "string"}, _("Any of these comma-separated values.")))
        for name in range_fields(view, {}):
            schema = _field_schema(ot.model._meta.get_field(name))
            if schema.get("format") == "date-time":
                schema = {"type": "string", "description": "A date (the whole day) or a date-time."}
            params.append(_param(f"{name}__from", schema, _("At least this value (inclusive).")))
            params.append(_param(f"{name}__to", schema, _("At most this value (inclusive).")))
        return params


RANGE_SUFFIXES = ("__from", "__to")
SORT_KEY = "sort_key"


def _is_range_field(field: Any) -> bool:
    if field is None or field.is_relation or field.choices:
        return False
    return isinstance(field, models.DateField | models.IntegerField | models.DecimalField | models.FloatField)


def range_fields(view: Any, defs: Mapping[str, CustomFieldDefinition]) -> list[str]:
    """Fields filtered by `<name>__from` / `<name>__to`: the dates and numbers among the list's filter and
    ordering fields, and the number and date custom fields (cf_<key>)."""
    model = registry.get(view.object_type).model
    names = [
        n
        for n in dict.fromkeys([*view.filter_fields, *view.ordering_fields])
        if _is_range_field(model_field(model, n)) and n != "id"
    ]
    return names + [k for k, d in defs.items() if d.type in customfields.RANGE_TYPES]


def _range_q(
    model: type[models.Model], name: str, defs: Mapping[str, CustomFieldDefinition], raw: str, *, upper: bool
) -> Q:
    """One inclusive bound; a bad value is a ValidationError naming what to give."""
    if "\x00" in raw:
        raise DjangoValidationError(_("Null characters are not allowed."))
    if name in defs:
        return customfields.range_q(defs[name], raw, upper=upper)
    field: Any = model._meta.get_field(name)
    op = "lte" if upper else "gte"
    if isinstance(field, models.DateTimeField):
        day = parse_date(raw.strip()) if len(raw.strip()) == 10 else None
        if day is not None:  # a whole day in the user's time zone
            start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
            return Q(**{f"{name}__lt": start + datetime.timedelta(days=1)}) if upper else Q(**{f"{name}__gte": start})
        try:
            moment = parse_datetime(raw.strip())
        except ValueError:
            moment = None
        if moment is None:
            raise DjangoValidationError(_("Enter a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM:SS)."))
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return Q(**{f"{name}__{op}": moment})
    if isinstance(field, models.DateField):
        try:
            day = parse_date(raw.strip())
        except ValueError:
            day = None
        if day is None:
            raise DjangoValidationError(_("Enter a date as YYYY-MM-DD."))
        return Q(**{f"{name}__{op}": day})
    if isinstance(field, models.IntegerField):
        return Q(**{f"{name}__{op}": _int(raw.strip())})
    try:
        number = decimal.Decimal(raw.strip())
    except (decimal.InvalidOperation, ValueError) as exc:
        raise DjangoValidationError(_("Enter a number.")) from exc
    if not number.is_finite():
        raise DjangoValidationError(_("Enter a number."))
    return Q(**{f"{name}__{op}": number})


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "required": False, "in": "query", "description": str(description), "schema": schema}


def _field_schema(field: Any) -> dict[str, Any]:
    if field.is_relation or isinstance(field, models.IntegerField | models.AutoField):
        return {"type": "integer"}
    if isinstance(field, models.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, models.DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, models.DateField):
        return {"type": "string", "format": "date"}
    if field.choices:
        return {"type": "string", "enum": [str(k) for k, _v in field.flatchoices]}
    return {"type": "string"}


class KeysetPagination(pagination.BasePagination):
    """Cursor pages: {"results": [...], "next": url or null}; no COUNT(*), no OFFSET."""

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        raw = request.query_params.get("page_size")
        size = view.page_size if view is not None else 50
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                size = 0
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise exceptions.ValidationError(
                    {"page_size": [_("Give a number from 1 to %(n)d.") % {"n": MAX_PAGE_SIZE}]}
                )
        ordering = str(getattr(view, "ordering", None) or getattr(view, "default_ordering", "-id"))
        keep = getattr(view, "search_keep", None)
        page = paginate(queryset, [ordering], request.query_params.get("cursor"), size, keep)
        self.request = request
        self.next_cursor = page.next_cursor
        return page.items

    def get_next_link(self) -> str | None:
        if not self.next_cursor:
            return None
        return replace_query_param(self.request.build_absolute_uri(), "cursor", self.next_cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True, "description": "The next page."},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            _param("cursor", {"type": "string"}, _("The page after the one whose `next` link gave this value.")),
            _param(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                _("Records per page (default 50)."),
            ),
        ]


# --------------------------------------------------------------------------- ETag, If-Match, idempotency


def etag(obj: Any) -> str | None:
    version = getattr(obj, "version", None)
    return f'"{version}"' if version is not None else None


def with_etag(response: Response, obj: Any) -> Response:
    tag = etag(obj)
    if tag:
        response["ETag"] = tag
    return response


def check_if_match(request: Any, obj: Any) -> int | None:
    """The version the client expects (from If-Match), or None; 412 if it is not the current one."""
    header = request.headers.get("If-Match")
    if not header or etag(obj) is None:
        return None
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    if "*" in tags:
        return None
    if etag(obj) not in tags:
        raise PreconditionFailed()
    return obj.version


def _file_digest(upload: UploadedFile) -> str:
    """An uploaded file by its name and content, so a retried upload matches only the same file."""
    digest = hashlib.sha256(str(upload.name).encode("utf-8", "surrogatepass"))
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"file:{digest.hexdigest()}"


def _body_hash(request: Request) -> str:
    try:
        data = request.data
    except exceptions.ParseError:
        data = None
    if isinstance(data, QueryDict):  # a form or multipart body: files by their content
        data = {k: [_file_digest(v) if isinstance(v, UploadedFile) else v for v in data.getlist(k)] for k in data}
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def idempotent(fn: Callable[..., Response]) -> Callable[..., Response]:
    """A POST carrying `Idempotency-Key`: the first success is stored and replayed for the same key and body.

    The record is written in the transaction that makes the change, so two concurrent requests with one key
    cannot both create: the second fails on the unique key, rolls back, and is answered with the replay.
    """

    @functools.wraps(fn)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return fn(self, request, *args, **kwargs)
        if len(key) > 200 or _has_bad_chars(key):
            raise exceptions.ValidationError({"Idempotency-Key": [_("Give a key of at most 200 characters.")]})
        digest = _body_hash(request)
        lookup = {"user": request.user, "key": key}
        for _attempt in range(2):
            stored = IdempotencyRecord.objects.filter(**lookup).first()
            if stored is not None:
                if (stored.method, stored.path, stored.body_hash) != (request.method, request.path, digest):
                    raise IdempotencyConflict()
                replay = Response(stored.response, status=stored.status_code)
                replay["Idempotent-Replayed"] = "true"
                return replay
            try:
                with transaction.atomic():
                    response = fn(self, request, *args, **kwargs)
                    if 200 <= response.status_code < 300:
                        IdempotencyRecord.objects.create(
                            **lookup,
                            method=request.method or "POST",
                            path=request.path[:500],
                            body_hash=digest,
                            status_code=response.status_code,
                            response=json.loads(JSONRenderer().render(response.data) or b"null"),
                        )
                    return response
            except IntegrityError:
                continue  # a concurrent request with the same key won: answer with its stored response
        raise IdempotencyConflict()

    return wrapper


# --------------------------------------------------------------------------- schema


class GatedAutoSchema(AutoSchema):
    """Adds the error responses, ETag / If-Match / Idempotency-Key headers every gated view shares."""

    def _versioned(self) -> bool:
        ot = getattr(self.view, "object_type", "")
        return bool(ot) and hasattr(registry.get(ot).model, "version")

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        action = getattr(self.view, "action", None)
        if self._versioned() and action in ("retrieve", "update", "partial_update", "create"):
            params.append(
                OpenApiParameter(
                    "ETag",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    response=[200, 201],
                    description=_("The record's version; send it back in If-Match."),
                )
            )
        if self._versioned() and action in ("update", "partial_update", "destroy"):
            params.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description=_("The ETag you read; a stale value is answered with 412."),
                )
            )
        if self.method == "POST" and getattr(self.view, "idempotent_posts", True):
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description=_("A retried POST with the same key and body returns the first response."),
                )
            )
        return params

    def _error_codes(self) -> list[int]:
        codes = [401, 403]
        action = getattr(self.view, "action", None)
        if self.method in ("POST", "PUT", "PATCH") or action == "list" or getattr(self.view, "query_errors", False):
            codes.append(400)
        if "{" in self.path:
            codes.append(404)
        if self.method in ("PUT", "PATCH", "DELETE") and self._versioned():
            codes.append(412)
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append(413)
        if self.method == "POST" and getattr(self.view, "idempotent_posts", True):
            codes.append(422)
        if self.method not in ("POST", "PUT", "PATCH"):
            codes.append(400)  # unknown query parameters
        return sorted(set(codes) | set(getattr(self.view, "extra_error_codes", ())))

    def _get_response_bodies(self, direction: Any = "response") -> Any:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(ErrorSerializer, str(code), direction=direction)
        return responses


class EnglishSchemaGenerator(SchemaGenerator):
    """The schema is always written in English, so the committed file does not change with translations."""

    def get_schema(self, request: Any = None, public: bool = False) -> Any:
        with translation.override("en"):
            return super().get_schema(request=request, public=public)


def strict_request_bodies(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: request bodies allow no properties besides the documented ones (400 otherwise)."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object" and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return result


# --------------------------------------------------------------------------- view sets


class GatedViewSet(viewsets.GenericViewSet):
    """Read side of a gated resource: list (filter, order, cursor pages) and retrieve (404 outside scope)."""

    object_type: ClassVar[str] = ""
    filter_fields: ClassVar[tuple[str, ...]] = ()
    filter_lookups: ClassVar[dict[str, str]] = {}
    ordering_fields: ClassVar[tuple[str, ...]] = ("updated_at", "created_at")
    default_ordering: ClassVar[str] = "-updated_at"
    search_enabled: ClassVar[bool] = False
    select_related: ClassVar[tuple[str, ...]] = ()
    prefetch_related: ClassVar[tuple[str, ...]] = ()
    page_size: ClassVar[int] = 50
    ordering: str | None = None
    search_keep: Callable[[list[Any]], list[Any]] | None = None
    pagination_class = KeysetPagination
    filter_backends = [GateFilterBackend]
    schema = GatedAutoSchema()
    lookup_value_regex = r"[0-9]+"

    @property
    def model(self) -> type[models.Model]:
        return registry.get(self.object_type).model

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.action != "list":
            allowed = set(getattr(self, "action_query_params", {}).get(self.action, ()))
            unknown = [k for k in request.query_params if k not in allowed]
            if unknown:
                raise exceptions.ValidationError({k: [str(UNKNOWN_PARAMETER)] for k in unknown})

    def allowed_ordering(self) -> list[str]:
        pol = permissions.policy(self.request.user, self.object_type)
        return [f for f in self.ordering_fields if pol.can_read(f)]

    def get_queryset(self) -> models.QuerySet:
        qs = permissions.visible(self.model, self.request.user, "view")
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def get_object(self) -> Any:
        try:
            return self.get_queryset().get(pk=int(self.kwargs["pk"]))
        except (ValueError, OverflowError, ObjectDoesNotExist) as exc:
            raise Http404 from exc

    def reload(self, obj: Any) -> Any:
        """The record as the list would show it (relations prefetched), after a service changed it."""
        return self.get_queryset().filter(pk=obj.pk).first() or obj

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        return with_etag(Response(self.get_serializer(obj).data), obj)


class GatedCRUDViewSet(GatedViewSet):
    """A gated resource with writes: each one calls the app's service, never serializer.save()."""

    def perform_create(self, data: dict[str, Any]) -> Any:  # type: ignore[override]
        raise NotImplementedError

    def perform_update(self, obj: Any, data: dict[str, Any], expected_version: int | None) -> Any:  # type: ignore[override]
        raise NotImplementedError

    def perform_destroy(self, obj: Any) -> None:
        raise NotImplementedError

    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            obj = self.perform_create(dict(serializer.validated_data))
        obj = self.reload(obj)
        return with_etag(Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED), obj)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        obj = self.get_object()
        expected = check_if_match(request, obj)
        serializer = self.get_serializer(obj, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            self.perform_update(obj, dict(serializer.validated_data), expected)
        obj = self.reload(obj)
        return with_etag(Response(self.get_serializer(obj).data), obj)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        check_if_match(request, obj)
        with transaction.atomic():
            self.perform_destroy(obj)
        return Response(status=status.HTTP_204_NO_CONTENT)


def split_custom(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(model values, custom values or None) from validated data."""
    custom = data.pop("custom", None)
    return data, custom


def model_field(model: type[models.Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
