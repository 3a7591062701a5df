"""Users (read), teams, roles, the signed-in user and API tokens under /api/v1/."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from kehu.core import services as core
from kehu.core.api import ErrorSerializer, GatedAutoSchema, GatedCRUDViewSet, GatedViewSet
from kehu.users import services
from kehu.users.api.serializers import (
    MeSerializer,
    RoleSerializer,
    TeamSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
)
from kehu.users.models import Role, Team


class UserViewSet(GatedViewSet):
    """The user directory (read-only; administrators manage users in Settings)."""

    object_type = "users.user"
    serializer_class = UserSerializer
    filter_fields = ("username", "team", "is_active", "language")
    ordering_fields = ("username", "date_joined")
    default_ordering = "username"
    search_enabled = False
    prefetch_related = ("roles",)


class TeamViewSet(GatedCRUDViewSet):
    """Teams (departments) in a tree."""

    object_type = "users.team"
    serializer_class = TeamSerializer
    filter_fields = ("parent", "lead", "name")
    ordering_fields = ("path", "name")
    default_ordering = "path"

    def perform_create(self, data: dict[str, Any]) -> Team:
        return services.create_team(
            actor=self.request.user, name=data["name"], parent=data.get("parent"), lead=data.get("lead")
        )

    def perform_update(self, obj: Team, data: dict[str, Any], expected_version: int | None) -> Any:
        return services.update_team(
            actor=self.request.user,
            team=obj,
            name=data.get("name", obj.name),
            parent=data.get("parent", obj.parent),
            lead=data.get("lead", obj.lead),
        )

    def perform_destroy(self, obj: Team) -> None:
        services.delete_team(actor=self.request.user, team=obj)


def _grants(items: list[dict[str, Any]]) -> dict[str, tuple[list[str], str, dict[str, str]]]:
    return {g["object_type"]: (list(g["actions"]), g["scope"], dict(g.get("field_rules") or {})) for g in items}


class RoleViewSet(GatedCRUDViewSet):
    """Roles: per object type, actions, data scope and field rules (administrators only)."""

    object_type = "users.role"
    serializer_class = RoleSerializer
    filter_fields = ("code",)
    ordering_fields = ("code",)
    default_ordering = "code"
    prefetch_related = ("permissions",)

    def perform_create(self, data: dict[str, Any]) -> Role:
        grants = _grants(data.pop("permissions", []))
        if Role.objects.filter(code=data.get("code")).exists():
            raise ValidationError({"code": [_("A role with this code already exists.")]})
        return services.save_role(actor=self.request.user, role=None, data=data, grants=grants)

    def perform_update(self, obj: Role, data: dict[str, Any], expected_version: int | None) -> Any:
        items = data.pop("permissions", None)
        if "code" in data and Role.objects.filter(code=data["code"]).exclude(pk=obj.pk).exists():
            raise ValidationError({"code": [_("A role with this code already exists.")]})
        if items is None:
            grants = {p.object_type: (list(p.actions), p.scope, dict(p.field_rules)) for p in obj.permissions.all()}
        else:
            grants = _grants(items)
        return services.save_role(actor=self.request.user, role=obj, data=data, grants=grants)

    def perform_destroy(self, obj: Role) -> None:
        core.delete(actor=self.request.user, obj=obj)


class MeView(APIView):
    """The signed-in user."""

    schema = GatedAutoSchema()
    idempotent_posts = False

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        if request.query_params:
            raise exceptions.ValidationError({k: [_("Unknown query parameter.")] for k in request.query_params})
        return Response(MeSerializer(request.user).data)


class TokenView(APIView):
    """Exchange a user name and password for an API token (throttled; failed attempts count toward lockout)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    schema = GatedAutoSchema()
    idempotent_posts = False
    extra_error_codes = (429,)

    @extend_schema(
        request=TokenRequestSerializer,
        responses={201: TokenSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(
            request=django_request, username=body.validated_data["username"], password=body.validated_data["password"]
        )
        if getattr(django_request, "axes_locked_out", False):
            django_request.axes_locked_out = False  # type: ignore[attr-defined] # answered here in JSON instead of the sign-in page
            return Response(
                {"errors": {"__all__": [_("Too many failed sign-in attempts. Try again later.")]}},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if user is None or not user.is_active:
            raise exceptions.ValidationError({"__all__": [_("The user name or password is not correct.")]})
        with transaction.atomic():
            token = services.create_token(user=user, name=_("API token"))
        return Response({"token": token}, status=status.HTTP_201_CREATED)
