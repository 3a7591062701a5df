"""Customers, contacts and tags under /api/v1/: the same services the web UI calls."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.core import services as core
from kehu.core.api import GatedCRUDViewSet, check_if_match, idempotent, split_custom, with_etag
from kehu.customers import services
from kehu.customers.api.serializers import (
    AssignSerializer,
    ContactSerializer,
    CustomerSerializer,
    TagSerializer,
    channel_inputs,
)
from kehu.customers.models import Contact, Customer, Tag


def tag_objects(actor: Any, names: list[str]) -> list[Tag]:
    return [services.get_or_create_tag(actor=actor, name=n) for n in dict.fromkeys(n.strip() for n in names)]


def assign_action(view: Any, request: Request, service: Any) -> Response:
    """POST …/{id}/assign/ {owner}: hand the record to another user (the `assign` permission)."""
    obj = view.get_object()
    check_if_match(request, obj)
    body = AssignSerializer(data=request.data, context=view.get_serializer_context())
    body.is_valid(raise_exception=True)
    service(obj, body.validated_data["owner"])
    obj = view.reload(obj)
    return with_etag(Response(view.get_serializer(obj).data), obj)


class CustomerViewSet(GatedCRUDViewSet):
    """Customers (客户): companies or individuals."""

    object_type = "customers.customer"
    serializer_class = CustomerSerializer
    filter_fields = (
        "kind",
        "lifecycle_stage",
        "source",
        "industry",
        "size_tier",
        "country",
        "province",
        "city",
        "uscc",
        "owner",
        "team",
        "tags",
        "credit_limit",
        "payment_terms",
    )
    filter_lookups = {"tags": "tags__name"}
    ordering_fields = ("updated_at", "created_at", "name", "lifecycle_stage", "payment_terms")
    search_enabled = True
    prefetch_related = ("tags",)

    def perform_create(self, data: dict[str, Any]) -> Customer:
        data, custom = split_custom(data)
        tags = tag_objects(self.request.user, data.pop("tags", []))
        return services.create_customer(actor=self.request.user, data=data, custom=custom, tags=tags)

    def perform_update(self, obj: Customer, data: dict[str, Any], expected_version: int | None) -> Any:
        data, custom = split_custom(data)
        names = data.pop("tags", None)
        tags = tag_objects(self.request.user, names) if names is not None else None
        return services.update_customer(
            actor=self.request.user,
            customer=obj,
            values=data,
            custom=custom,
            tags=tags,
            expected_version=expected_version,
        )

    def perform_destroy(self, obj: Customer) -> None:
        services.delete_customer(actor=self.request.user, customer=obj)

    @extend_schema(request=AssignSerializer, responses=CustomerSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Give the customer (and its contacts the old owner held) to another user."""
        return assign_action(
            self, request, lambda obj, owner: services.assign(actor=request.user, obj=obj, owner=owner)
        )


class ContactViewSet(GatedCRUDViewSet):
    """Contacts (联系人) with their e-mails, phones and social identities."""

    object_type = "customers.contact"
    serializer_class = ContactSerializer
    filter_fields = ("customer", "gender", "is_primary", "owner", "team", "title", "department")
    ordering_fields = ("updated_at", "created_at", "name")
    search_enabled = True
    prefetch_related = ("channels",)

    def perform_create(self, data: dict[str, Any]) -> Contact:
        data, custom = split_custom(data)
        channels = channel_inputs(data.pop("channels", []))
        return services.create_contact(actor=self.request.user, data=data, channels=channels, custom=custom)

    def perform_update(self, obj: Contact, data: dict[str, Any], expected_version: int | None) -> Any:
        data, custom = split_custom(data)
        channels = data.pop("channels", None)
        return services.update_contact(
            actor=self.request.user,
            contact=obj,
            values=data,
            channels=channel_inputs(channels) if channels is not None else None,
            custom=custom,
            expected_version=expected_version,
        )

    def perform_destroy(self, obj: Contact) -> None:
        services.delete_contact(actor=self.request.user, contact=obj)

    @extend_schema(request=AssignSerializer, responses=ContactSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Give the contact to another user."""
        return assign_action(
            self, request, lambda obj, owner: services.assign(actor=request.user, obj=obj, owner=owner)
        )


class TagViewSet(GatedCRUDViewSet):
    """Tags put on customers."""

    object_type = "customers.tag"
    serializer_class = TagSerializer
    filter_fields = ("name", "color")
    ordering_fields = ("name", "created_at")
    default_ordering = "name"

    def perform_create(self, data: dict[str, Any]) -> Tag:
        name = data["name"].strip()
        if Tag.objects.filter(name__iexact=name).exists():
            raise ValidationError({"name": [_("A tag with this name already exists.")]})
        tag = Tag(name=name, color=data.get("color") or "secondary")
        core.create(actor=self.request.user, obj=tag)
        return tag

    def perform_update(self, obj: Tag, data: dict[str, Any], expected_version: int | None) -> Any:
        return core.update(actor=self.request.user, obj=obj, values=data)

    def perform_destroy(self, obj: Tag) -> None:
        core.delete(actor=self.request.user, obj=obj)
