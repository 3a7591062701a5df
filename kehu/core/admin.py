"""Django admin for operators: a read-only window onto the tables.

Every change goes through Kehu's own pages, API and services, which check the permission gate and write the
event log in the same transaction; an admin form would bypass both, so these registrations only let an
operator look (and search) — they cannot add, change or delete.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kehu.core.models import CustomFieldDefinition, Event, IdempotencyRecord, PicklistOption, SavedView, SearchEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """View and search only: writes belong to the services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "actor", "verb", "content_type", "object_id", "object_repr")
    list_filter = ("verb", "content_type")
    search_fields = ("object_repr", "actor__username")
    date_hierarchy = "created_at"
    list_select_related = ("actor", "content_type")
    show_full_result_count = False


@admin.register(SearchEntry)
class SearchEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "content_type", "object_id", "title", "subtitle", "owner_id", "team_id")
    list_filter = ("content_type",)
    search_fields = ("title",)
    show_full_result_count = False


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(ReadOnlyAdmin):
    list_display = ("object_type", "name", "label_en", "label_zh", "type", "required", "order")
    list_filter = ("object_type", "type")
    search_fields = ("name", "label_en", "label_zh")


@admin.register(PicklistOption)
class PicklistOptionAdmin(ReadOnlyAdmin):
    list_display = ("list", "value", "label_en", "label_zh", "order", "active")
    list_filter = ("list", "active")
    search_fields = ("value", "label_en", "label_zh")


@admin.register(SavedView)
class SavedViewAdmin(ReadOnlyAdmin):
    list_display = ("user", "object_type", "name", "created_at")
    list_filter = ("object_type",)
    search_fields = ("name", "user__username")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "method", "path", "status_code")
    list_filter = ("method", "status_code")
    search_fields = ("key", "path")
