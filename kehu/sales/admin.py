"""Django admin for operators (read-only; see kehu/core/admin.py for why)."""

from __future__ import annotations

from django.contrib import admin

from kehu.core.admin import ReadOnlyAdmin
from kehu.sales.models import Lead


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "company", "status", "source", "owner", "team", "updated_at")
    list_filter = ("status",)
    search_fields = ("name", "company", "email", "phone")
    list_select_related = ("owner", "team")
    show_full_result_count = False
