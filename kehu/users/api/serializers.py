"""Users, teams, roles and API tokens as the API shows and accepts them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from kehu.core import permissions, registry
from kehu.core.api import GatedSerializer, StrictSerializer
from kehu.users.models import Role, RolePermission, Team, User


class UserSerializer(GatedSerializer):
    object_type = "users.user"
    email = serializers.EmailField(read_only=True, allow_blank=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "phone", "team", "roles", "is_active", "language"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user's own account (always readable by its owner)."""

    email = serializers.EmailField(read_only=True, allow_blank=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "email",
            "phone",
            "team",
            "roles",
            "language",
            "is_superuser",
            "last_login",
        ]
        read_only_fields = fields


class TeamSerializer(GatedSerializer):
    object_type = "users.team"

    class Meta:
        model = Team
        fields = ["id", "name", "parent", "lead", "path", "created_at"]
        read_only_fields = ["path", "created_at"]
        validators: list[Any] = []


class GrantSerializer(StrictSerializer, serializers.ModelSerializer):
    """What a role grants on one object type."""

    object_type = serializers.ChoiceField(choices=[])
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=list(permissions.ACTIONS)), max_length=len(permissions.ACTIONS)
    )
    scope = serializers.ChoiceField(choices=list(permissions.SCOPES))
    field_rules = serializers.DictField(
        child=serializers.ChoiceField(choices=[permissions.HIDDEN, permissions.READONLY]), required=False, default=dict
    )

    class Meta:
        model = RolePermission
        fields = ["object_type", "actions", "scope", "field_rules"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = sorted(t.key for t in registry.all_types())

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ot = registry.get(attrs["object_type"])
        bad = [f for f in attrs.get("field_rules", {}) if f not in ot.fields and not f.startswith("cf_")]
        if bad:
            raise serializers.ValidationError(
                {"field_rules": [_("“%(name)s” is not a field of this object type.") % {"name": bad[0]}]}
            )
        return attrs


class RoleSerializer(GatedSerializer):
    object_type = "users.role"
    permissions = GrantSerializer(many=True, required=False)

    class Meta:
        model = Role
        fields = ["id", "code", "name_en", "name_zh", "description", "permissions"]
        validators: list[Any] = []
        extra_kwargs: dict[str, Any] = {"code": {"validators": []}}

    def validate_permissions(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        types = [g["object_type"] for g in value]
        if len(types) != len(set(types)):
            raise serializers.ValidationError(_("Give each object type once."))
        return value


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Bearer <token>`; it is shown only once.")
