"""How follow-ups and tasks plug into the gate and the event log."""

from __future__ import annotations

from kehu.activities import queries
from kehu.activities.models import Activity, Task
from kehu.core import registry

ACTIVITY_FIELDS = (
    "kind",
    "subject",
    "body",
    "occurred_at",
    "duration_minutes",
    "outcome",
    "next_step",
    "next_follow_up",
    "lead",
    "customer",
    "contact",
    "opportunity",
    "owner",
    "team",
)
TASK_FIELDS = (
    "title",
    "description",
    "due_date",
    "priority",
    "status",
    "assigned_by",
    "completed_at",
    "lead",
    "customer",
    "contact",
    "opportunity",
    "owner",
    "team",
)

registry.register(registry.ObjectType("activities.activity", Activity, ACTIVITY_FIELDS, custom_fields=False))
registry.register(
    registry.ObjectType("activities.task", Task, TASK_FIELDS, custom_fields=False, url_name="activities:task_detail")
)

# follow-up cards on every timeline they touch, the "My day" card on the home page, the Tasks item in the sidebar
registry.add_hook("timeline", queries.timeline_entries)
registry.add_hook("home", queries.home_cards)
registry.add_hook("nav", queries.nav_items)
