"""The task list (columns, filters, sorts) for kehu.core.lists."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kehu.activities.models import Task
from kehu.core.lists import Filter, ObjectList

TASK_LIST = ObjectList(
    object_type="activities.task",
    title=_("All tasks"),
    columns=["title", "status", "priority", "due_date", "owner", "customer", "updated_at"],
    available=[
        "title",
        "status",
        "priority",
        "due_date",
        "owner",
        "team",
        "assigned_by",
        "customer",
        "contact",
        "lead",
        "opportunity",
        "completed_at",
        "created_at",
        "updated_at",
    ],
    filters=[
        Filter("status", _("Status"), choices=Task.Status.choices),
        Filter("priority", _("Priority"), choices=Task.Priority.choices),
        Filter("owner", _("Assigned to"), kind="user"),
        Filter("assigned_by", _("Assigned by"), kind="user"),
        Filter("team", _("Team"), kind="team"),
        Filter("due_date", _("Due date"), kind="date"),
        Filter("title", _("Title"), kind="text"),
        Filter("created_at", _("Created"), kind="date"),
    ],
    sorts=["updated_at", "created_at", "title", "status", "priority"],
    select_related=("owner",),
)
