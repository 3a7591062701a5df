"""Django admin for operators (read-only; see kehu/core/admin.py for why)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kehu.core.admin import ReadOnlyAdmin
from kehu.users.models import ApiToken, Role, RolePermission, Team, User


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("username", "display_name", "email", "team", "is_active", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser", "roles", "team")
    search_fields = ("username", "display_name", "email", "phone")
    list_select_related = ("team",)
    exclude = ("password",)


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "parent", "lead", "path")
    search_fields = ("name",)
    list_select_related = ("parent", "lead")


class RolePermissionInline(admin.TabularInline):
    model = RolePermission
    fields = ("object_type", "actions", "scope", "field_rules")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    list_display = ("code", "name_en", "name_zh", "description")
    search_fields = ("code", "name_en", "name_zh")
    inlines = (RolePermissionInline,)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at")
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    exclude = ("digest",)
