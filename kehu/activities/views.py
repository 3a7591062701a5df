"""Web UI of follow-ups and tasks: the record panel (htmx), "My day", the task list and page, "My follow-ups".

The panel's forms post here and get their own part of the page back; a page without JavaScript gets a redirect
to where the form was.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kehu.activities import queries, services
from kehu.activities.forms import ActivityForm, TaskEditForm, TaskForm
from kehu.activities.lists import TASK_LIST
from kehu.activities.models import Activity, Task
from kehu.core import permissions, registry
from kehu.core.forms import apply_errors
from kehu.core.lists import render_list
from kehu.core.views import HtmxHttpRequest, safe_next


def record_key(obj: models.Model) -> str:
    return f"{registry.get(obj).key}:{obj.pk}"


def _record(request: HttpRequest, raw: str | None) -> models.Model:
    """The record named by "type:id" (lead, customer, contact or opportunity), or 404 if the user may not see it."""
    key, _sep, pk = (raw or "").partition(":")
    if key not in queries.LINK_FIELDS or not pk.isdigit():
        raise Http404
    return permissions.get_or_404(registry.get(key).model, request.user, int(pk))


def _optional_record(request: HttpRequest, raw: str | None) -> models.Model | None:
    return _record(request, raw) if raw else None


def _link_field(record: models.Model) -> str:
    # _record() only returns lead/customer/contact/opportunity records, which all have a link field
    return cast(str, queries.link_field(record))


def _partial(request: HttpRequest, template: str, ctx: dict[str, Any], *events: str) -> HttpResponse:
    response = render(request, template, ctx)
    if events:
        response["HX-Trigger"] = json.dumps(dict.fromkeys(events, True))
    return response


def _back(request: HttpRequest, fallback: str = "/") -> HttpResponse:
    return redirect(safe_next(request, fallback))


def _next_url(request: HttpRequest) -> str:
    """Where a form without JavaScript returns to: the page the form was drawn on."""
    return request.POST.get("next") or request.GET.get("next") or request.get_full_path()


def _log_context(request: HttpRequest, record: models.Model, form: ActivityForm | None = None, **extra: Any) -> dict:
    return {
        "record": record,
        "record_key": record_key(record),
        "form": form or ActivityForm(user=request.user),
        "can_log": permissions.can(request.user, Activity, "add"),
        "next_url": _next_url(request),
        **extra,
    }


def _task_context(
    request: HttpRequest, record: models.Model | None, form: TaskForm | None = None, **extra: Any
) -> dict:
    assignees = services.assignable_users(request.user) if form is None else list(form.assignees.values())
    return {
        "record": record,
        "record_key": record_key(record) if record is not None else "",
        "task_form": form or TaskForm(user=request.user, assignees=assignees),
        "can_task": permissions.can(request.user, Task, "add"),
        "next_url": _next_url(request),
        **extra,
    }


def panel_context(request: HttpRequest, record: models.Model) -> dict[str, Any]:
    """Everything activities/_panel.html shows for one record: a fixed number of queries."""
    return {
        **_log_context(request, record),
        **_task_context(request, record),
        "tasks": [queries.task_row(request.user, t) for t in queries.open_tasks_for(request.user, record)],
        "can_see_tasks": permissions.can(request.user, Task, "view"),
    }


# --------------------------------------------------------------------------- follow-ups


@login_required
@require_GET
def log_form(request: HttpRequest) -> HttpResponse:
    """The "Log follow-up" form for one record (loaded inline, e.g. on "My follow-ups")."""
    record = _record(request, request.GET.get("record"))
    if not permissions.can(request.user, Activity, "add"):
        raise Http404
    return render(request, "activities/_log_form.html", _log_context(request, record, compact=True))


@login_required
@require_POST
def log(request: HtmxHttpRequest) -> HttpResponse:
    record = _record(request, request.POST.get("record"))
    form = ActivityForm(request.POST, user=request.user)
    compact = request.POST.get("compact") == "1"
    if form.is_valid():
        try:
            services.log_activity(actor=request.user, data={**form.model_values(), _link_field(record): record})
            if not request.htmx:
                messages.success(request, _("Follow-up logged."))
                return _back(request)
            ctx = _log_context(request, record, saved=True, compact=compact)
            return _partial(request, "activities/_log_form.html", ctx, "kehu:timeline", "kehu:followup")
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    if not request.htmx:
        messages.error(request, "; ".join(f"{e}" for errs in form.errors.values() for e in errs))
        return _back(request)
    return render(request, "activities/_log_form.html", _log_context(request, record, form, compact=compact))


@login_required
@require_POST
def activity_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    activity = permissions.get_or_404(Activity, request.user, pk)
    try:
        services.delete_activity(actor=request.user, activity=activity)
    except PermissionDenied:
        if not request.htmx:
            messages.error(request, _("You do not have permission to do this."))
            return _back(request)
        return HttpResponse(status=403)
    if not request.htmx:
        messages.success(request, _("Follow-up deleted."))
        return _back(request)
    return _partial(request, "activities/_empty.html", {}, "kehu:timeline")


@login_required
def follow_ups(request: HttpRequest) -> HttpResponse:
    team = request.GET.get("scope") == "team" and permissions.policy(request.user, "sales.lead").scope in (
        "team",
        "all",
    )
    rows = queries.follow_ups(request.user, team=team)
    return render(
        request,
        "activities/follow_ups.html",
        {
            "rows": rows,
            "team": team,
            "can_team": permissions.policy(request.user, "sales.lead").scope in ("team", "all"),
            "can_log": permissions.can(request.user, Activity, "add"),
            "total": sum(len(v) for v in rows.values()),
        },
    )


# --------------------------------------------------------------------------- tasks


@login_required
@require_GET
def record_tasks(request: HttpRequest) -> HttpResponse:
    record = _record(request, request.GET.get("record"))
    tasks = [queries.task_row(request.user, t) for t in queries.open_tasks_for(request.user, record)]
    return render(
        request, "activities/_record_tasks.html", {"tasks": tasks, "record": record, "record_key": record_key(record)}
    )


@login_required
@require_POST
def task_new(request: HtmxHttpRequest) -> HttpResponse:
    record = _optional_record(request, request.POST.get("record"))
    form = TaskForm(request.POST, user=request.user, assignees=services.assignable_users(request.user))
    if form.is_valid():
        data = form.model_values()
        if record is not None:
            data[_link_field(record)] = record
        try:
            task = services.create_task(actor=request.user, data=data, owner=form.chosen_owner())
            if not request.htmx:
                messages.success(request, _("Task created."))
                return _back(request, reverse("activities:my_day"))
            ctx = _task_context(request, record, saved=task)
            return _partial(request, "activities/_task_form.html", ctx, "kehu:tasks")
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    if not request.htmx:
        messages.error(request, "; ".join(f"{e}" for errs in form.errors.values() for e in errs))
        return _back(request, reverse("activities:my_day"))
    return render(request, "activities/_task_form.html", _task_context(request, record, form))


def _task_action(request: HtmxHttpRequest, pk: int, fn: Any) -> HttpResponse:
    task = permissions.get_or_404(Task.objects.select_related("owner", *queries.LINKS), request.user, pk)
    try:
        fn(actor=request.user, task=task)
    except (ValidationError, PermissionDenied) as exc:
        msg = exc.messages[0] if isinstance(exc, ValidationError) else _("You do not have permission to do this.")
        if not request.htmx:
            messages.error(request, msg)
            return _back(request, reverse("activities:my_day"))
        return render(request, "activities/_task_row.html", {"row": queries.task_row(request.user, task), "error": msg})
    if not request.htmx:
        return _back(request, reverse("activities:my_day"))
    task.refresh_from_db()
    ctx = {"row": queries.task_row(request.user, task), "compact": request.POST.get("compact") == "1"}
    return _partial(request, "activities/_task_row.html", ctx, "kehu:taskdone")


@login_required
@require_POST
def task_complete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, services.complete_task)


@login_required
@require_POST
def task_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, services.reopen_task)


def _team_choice(request: HttpRequest) -> tuple[bool, int | None]:
    can_team = permissions.policy(request.user, Task).scope in ("team", "all")
    team = can_team and request.GET.get("scope") == "team"
    owner = request.GET.get("owner", "")
    return team, int(owner) if team and owner.isdigit() else None


@login_required
def my_day(request: HttpRequest) -> HttpResponse:
    if not permissions.can(request.user, Task, "view"):
        raise Http404
    team, owner_id = _team_choice(request)
    assignees = services.assignable_users(request.user)
    return render(
        request,
        "activities/my_day.html",
        {
            "day": queries.my_day(request.user, team=team, owner_id=owner_id),
            "team": team,
            "owner_id": owner_id,
            "can_team": permissions.policy(request.user, Task).scope in ("team", "all"),
            "people": assignees if team else [],
            **_task_context(request, None, TaskForm(user=request.user, assignees=assignees)),
        },
    )


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    return render_list(request, TASK_LIST)


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = permissions.get_or_404(Task.objects.select_related("owner", "assigned_by", *queries.LINKS), request.user, pk)
    can_change = permissions.can(request.user, task, "change", task)
    assignees = services.assignable_users(request.user) if can_change else []
    form = TaskEditForm(request.POST or None, instance=task, user=request.user, assignees=assignees)
    if request.method == "POST":
        if not can_change:
            raise Http404
        if form.is_valid():
            values = form.model_values()
            owner = form.chosen_owner()
            if owner is not None:
                values["owner"] = owner
            try:
                services.update_task(
                    actor=request.user, task=task, values=values, expected_version=form.cleaned_data.get("version")
                )
                messages.success(request, _("Task saved."))
                return redirect("activities:task_detail", task.pk)
            except ValidationError as exc:
                apply_errors(form, exc)
            except PermissionDenied:
                form.add_error(None, _("You do not have permission to do this."))
    return render(
        request,
        "activities/task_detail.html",
        {
            "obj": task,
            "form": form,
            "row": queries.task_row(request.user, task),
            "can_change": can_change,
            "can_delete": permissions.can(request.user, task, "delete", task),
        },
    )


@login_required
@require_POST
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = permissions.get_or_404(Task, request.user, pk)
    try:
        services.delete_task(actor=request.user, task=task)
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
        return redirect("activities:task_detail", pk)
    messages.success(request, _("Task deleted."))
    return redirect("activities:my_day")
