"""Follow-ups under /api/v1/activities/ and tasks under /api/v1/tasks/ (with …/complete/ and …/reopen/)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kehu.activities import services
from kehu.activities.api.serializers import ActivitySerializer, TaskSerializer
from kehu.activities.models import Activity, Task
from kehu.core.api import GatedCRUDViewSet, StrictSerializer, check_if_match, idempotent, with_etag

RELATED = ("lead", "customer", "contact", "opportunity")


class ActivityViewSet(GatedCRUDViewSet):
    """Follow-up records (跟进记录): calls, visits, meetings, e-mails, chats and notes on leads, customers,
    contacts and opportunities. Filter by a related record with ?customer=, ?contact=, ?lead=, ?opportunity=."""

    object_type = "activities.activity"
    serializer_class = ActivitySerializer
    filter_fields = (*RELATED, "kind", "outcome", "owner", "team", "next_follow_up")
    ordering_fields = ("occurred_at", "updated_at", "created_at")
    default_ordering = "-occurred_at"

    def perform_create(self, data: dict[str, Any]) -> Activity:
        return services.log_activity(actor=self.request.user, data=data)

    def perform_update(self, obj: Activity, data: dict[str, Any], expected_version: int | None) -> Any:
        return services.update_activity(
            actor=self.request.user, activity=obj, values=data, expected_version=expected_version
        )

    def perform_destroy(self, obj: Activity) -> None:
        services.delete_activity(actor=self.request.user, activity=obj)


class TaskViewSet(GatedCRUDViewSet):
    """Sales tasks: due date, priority, status and the records they are about; `owner` is the assignee (a manager
    may assign within their team). Filter by a related record with ?customer=, ?contact=, ?lead=, ?opportunity=."""

    object_type = "activities.task"
    serializer_class = TaskSerializer
    filter_fields = (*RELATED, "status", "priority", "owner", "team", "assigned_by", "due_date")
    ordering_fields = ("updated_at", "created_at")

    def perform_create(self, data: dict[str, Any]) -> Task:
        return services.create_task(actor=self.request.user, data=data)

    def perform_update(self, obj: Task, data: dict[str, Any], expected_version: int | None) -> Any:
        return services.update_task(actor=self.request.user, task=obj, values=data, expected_version=expected_version)

    def perform_destroy(self, obj: Task) -> None:
        services.delete_task(actor=self.request.user, task=obj)

    def _run(self, request: Request, fn: Any) -> Response:
        task = self.get_object()
        check_if_match(request, task)
        StrictSerializer(data=request.data or {}).is_valid(raise_exception=True)
        fn(actor=request.user, task=task)
        task = self.reload(task)
        return with_etag(Response(self.get_serializer(task).data), task)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Mark the task done (stamps the completion time)."""
        return self._run(request, services.complete_task)

    @extend_schema(request=None, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Open a done or cancelled task again."""
        return self._run(request, services.reopen_task)
