"""Follow-ups and tasks as the API shows and accepts them."""

from __future__ import annotations

from typing import Any

from kehu.activities.models import Activity, Task
from kehu.activities.registration import ACTIVITY_FIELDS, TASK_FIELDS
from kehu.core.api import GatedSerializer


class ActivitySerializer(GatedSerializer):
    object_type = "activities.activity"

    class Meta:
        model = Activity
        # the gate's field list (registration.py) plus what the server sets
        fields = ["id", *ACTIVITY_FIELDS, "created_at", "updated_at", "version"]
        read_only_fields = ["owner", "team"]
        # bounds written out: a PositiveIntegerField's range differs by database, the schema must not
        extra_kwargs = {"occurred_at": {"required": False}, "duration_minutes": {"max_value": 2147483647}}
        validators: list[Any] = []


class TaskSerializer(GatedSerializer):
    object_type = "activities.task"

    class Meta:
        model = Task
        fields = ["id", *TASK_FIELDS, "created_at", "updated_at", "version"]
        read_only_fields = ["assigned_by", "completed_at", "team"]
        extra_kwargs = {
            "owner": {"required": False, "allow_null": False, "help_text": "The assignee; default: you."},
        }
        validators: list[Any] = []
