"""Django admin for operators (read-only; see kehu/core/admin.py for why)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kehu.core.admin import ReadOnlyAdmin
from kehu.customers.models import Contact, ContactChannel, Customer, LifecycleChange, Tag


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "kind", "lifecycle_stage", "owner", "team", "updated_at")
    list_filter = ("kind", "lifecycle_stage")
    search_fields = ("name", "uscc")
    list_select_related = ("owner", "team")
    show_full_result_count = False


class ContactChannelInline(admin.TabularInline):
    model = ContactChannel
    fields = ("kind", "value", "normalized", "label")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "customer", "title", "owner", "team", "updated_at")
    search_fields = ("name",)
    list_select_related = ("customer", "owner", "team")
    raw_id_fields = ("customer",)
    inlines = (ContactChannelInline,)
    show_full_result_count = False


@admin.register(ContactChannel)
class ContactChannelAdmin(ReadOnlyAdmin):
    list_display = ("contact", "kind", "value", "normalized")
    list_filter = ("kind",)
    search_fields = ("normalized",)
    list_select_related = ("contact",)
    show_full_result_count = False


@admin.register(LifecycleChange)
class LifecycleChangeAdmin(ReadOnlyAdmin):
    list_display = ("customer", "from_stage", "to_stage", "changed_at", "changed_by")
    list_filter = ("to_stage",)
    list_select_related = ("customer", "changed_by")
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(ReadOnlyAdmin):
    list_display = ("name", "color")
    search_fields = ("name",)
