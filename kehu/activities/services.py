"""Every write to follow-ups (跟进记录) and sales tasks (S1, S6).

A follow-up names the records it touches; the service fills in the ones that follow from them (a contact's
customer, an opportunity's customer, a converted lead's customer and contact) so the entry shows on every
timeline it belongs to. Its owner is whoever logged it. Logging a next step on an opportunity also updates the
opportunity's own next step, in the same transaction, when the actor may change it.

A task belongs to its assignee (the owner). A user may assign a task to someone else only with the `assign`
permission on tasks and only within their data scope (a manager: their team and its sub-teams), and only to
someone who can see the task's records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.activities.models import Activity, Task
from kehu.core import permissions
from kehu.core import services as core

LINKS = ("lead", "customer", "contact", "opportunity")
ACTIVITY_CONTENT = (
    "kind",
    "subject",
    "body",
    "occurred_at",
    "duration_minutes",
    "outcome",
    "next_step",
    "next_follow_up",
)
TASK_CONTENT = ("title", "description", "due_date", "priority", "status")
OPEN_STATUSES = (Task.Status.OPEN, Task.Status.IN_PROGRESS)


def _link_errors(model_name: str) -> str:
    messages = {
        "lead": _("Choose a lead you can see."),
        "customer": _("Choose a customer you can see."),
        "contact": _("Choose a contact you can see."),
        "opportunity": _("Choose an opportunity you can see."),
    }
    return messages[model_name]


def resolve_links(actor: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The records a follow-up or task touches: the given ones (each must be visible to the actor) plus the ones
    that follow from them. Raises ValidationError naming the field when one is hidden or they disagree."""
    links = {name: values.get(name) for name in LINKS}
    errors: dict[str, list[str]] = {}
    for name, obj in links.items():
        if obj is not None and not permissions.can(actor, obj, "view", obj):
            errors[name] = [_link_errors(name)]
    if errors:
        raise ValidationError(errors)
    lead, customer, contact, opp = links["lead"], links["customer"], links["contact"], links["opportunity"]
    if lead is not None and lead.status == "converted":
        customer = customer or lead.converted_customer
        contact = contact or lead.converted_contact
    if opp is not None and opp.customer_id:
        if customer is not None and customer.pk != opp.customer_id:
            errors["opportunity"] = [_("This opportunity belongs to another customer.")]
        customer = customer or opp.customer
    if contact is not None and contact.customer_id:
        if customer is not None and customer.pk != contact.customer_id:
            errors["contact"] = [_("This contact belongs to another customer.")]
        customer = customer or contact.customer
    if errors:
        raise ValidationError(errors)
    return {"lead": lead, "customer": customer, "contact": contact, "opportunity": opp}


def primary_record(obj: Activity | Task) -> models.Model | None:
    """The record whose timeline keeps the trace of a deleted follow-up or task."""
    for name in ("opportunity", "customer", "lead", "contact"):
        rel = getattr(obj, name)
        if rel is not None:
            return rel
    return None


def _check_dates(occurred_at: Any, next_follow_up: Any) -> None:
    errors: dict[str, list[str]] = {}
    when = timezone.localdate(occurred_at) if isinstance(occurred_at, dt.datetime) else None
    if when is not None and when > timezone.localdate():
        errors["occurred_at"] = [_("A follow-up records what already happened; for work still to do, create a task.")]
    if when is not None and next_follow_up is not None and next_follow_up < when:
        errors["next_follow_up"] = [_("The next follow-up cannot be before the follow-up itself.")]
    if errors:
        raise ValidationError(errors)


def _check_content(values: dict[str, Any], names: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})


def _sync_opportunity(actor: Any, activity: Activity) -> None:
    """A next step logged on an opportunity becomes the opportunity's next step, if the actor may change it."""
    opp = activity.opportunity
    if opp is None or not activity.next_step or opp.next_step == activity.next_step:
        return
    if not permissions.can(actor, opp, "change", opp) or not permissions.policy(actor, opp).can_write("next_step"):
        return
    from kehu.sales import services as sales_services

    sales_services.update_opportunity(actor=actor, opp=opp, values={"next_step": activity.next_step})


@transaction.atomic
def log_activity(*, actor: Any, data: dict[str, Any]) -> Activity:
    """Record a call, visit, meeting, e-mail, chat or note on one or more records; the actor owns it."""
    data = dict(data)
    links = resolve_links(actor, {name: data.pop(name, None) for name in LINKS})
    if not any(links.values()):
        raise ValidationError({"__all__": [_("Link the follow-up to a lead, customer, contact or opportunity.")]})
    _check_content(data, ACTIVITY_CONTENT)
    data["occurred_at"] = data.get("occurred_at") or timezone.now()
    _check_dates(data["occurred_at"], data.get("next_follow_up"))
    for name in ("subject", "next_step"):
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    activity = Activity(**data, **links, owner=actor, team=getattr(actor, "team", None))
    core.create(actor=actor, obj=activity, exclude_validation=[*LINKS, "owner", "team"])  # checked above
    _sync_opportunity(actor, activity)
    return activity


@transaction.atomic
def update_activity(
    *, actor: Any, activity: Activity, values: dict[str, Any], expected_version: int | None = None
) -> dict[str, Any]:
    """Edit what a follow-up says; the records it touches stay (delete it and log it again to move it)."""
    values = {
        k: v for k, v in values.items() if not (k in LINKS and getattr(activity, f"{k}_id") == getattr(v, "pk", v))
    }
    _check_content(values, ACTIVITY_CONTENT)
    if "subject" in values and isinstance(values["subject"], str):
        values["subject"] = values["subject"].strip()
    _check_dates(values.get("occurred_at", activity.occurred_at), values.get("next_follow_up", activity.next_follow_up))
    changes = core.update(actor=actor, obj=activity, values=values, expected_version=expected_version)
    if "next_step" in changes:
        _sync_opportunity(actor, activity)
    return changes


@transaction.atomic
def delete_activity(*, actor: Any, activity: Activity) -> None:
    core.delete(actor=actor, obj=activity, parent=primary_record(activity))


# --------------------------------------------------------------------------- tasks


def assignable_users(actor: Any) -> list[Any]:
    """Who the actor may give a task to: themselves, and with the `assign` permission everyone active in their
    data scope (a manager: their team and its sub-teams)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    pol = permissions.policy(actor, Task)
    if not pol.can("assign"):
        return [actor]
    qs = User.objects.filter(is_active=True)
    if pol.scope != "all":
        qs = qs.filter(models.Q(pk=actor.pk) | models.Q(team_id__in=pol.team_ids or [-1]))
    fields = ("id", "username", "display_name", "first_name", "last_name", "team_id")
    return list(qs.only(*fields).order_by("name_sort", "id"))


def _check_assignee(actor: Any, owner: Any, links: dict[str, Any]) -> None:
    if owner.pk != actor.pk:
        pol = permissions.policy(actor, Task)
        if not owner.is_active:
            raise ValidationError({"owner": [_("This user is deactivated.")]})
        if not pol.can("assign") or not pol.allows_record(owner.pk, owner.team_id):
            raise ValidationError({"owner": [_("You may assign tasks only to people in your team.")]})
        if not permissions.can(owner, Task, "view"):
            raise ValidationError({"owner": [_("%(user)s cannot use tasks.") % {"user": owner}]})
    for obj in links.values():
        if obj is not None and not permissions.can(owner, obj, "view", obj):
            kind = obj._meta.verbose_name  # translated: "客户", "商机" …, not the field's key
            raise ValidationError(
                {"owner": [_("%(user)s cannot see the %(type)s of this task.") % {"user": owner, "type": kind}]}
            )


@transaction.atomic
def create_task(*, actor: Any, data: dict[str, Any], owner: Any | None = None) -> Task:
    """A new open task for `owner` (default: the actor), assigned by the actor, optionally about records."""
    data = dict(data)
    owner = data.pop("owner", None) or owner or actor
    links = resolve_links(actor, {name: data.pop(name, None) for name in LINKS})
    _check_content(data, TASK_CONTENT)
    if data.get("status") not in (None, "", Task.Status.OPEN):
        raise ValidationError({"status": [_("A new task starts open.")]})
    data.pop("status", None)
    if data.get("due_date") and data["due_date"] < timezone.localdate():
        raise ValidationError({"due_date": [_("The due date cannot be in the past.")]})
    if isinstance(data.get("title"), str):
        data["title"] = data["title"].strip()
    _check_assignee(actor, owner, links)
    task = Task(**data, **links, owner=owner, team=owner.team, assigned_by=actor)
    core.create(actor=actor, obj=task, exclude_validation=["owner", "team", "assigned_by"])
    return task


@transaction.atomic
def update_task(
    *, actor: Any, task: Task, values: dict[str, Any], expected_version: int | None = None
) -> dict[str, Any]:
    """Edit a task; a new status of done (or back to open) stamps (or clears) the completion time; a new owner
    is an assignment (same rules as creating)."""
    values = dict(values)
    owner = values.pop("owner", None)
    values = {k: v for k, v in values.items() if not (k in LINKS and getattr(task, f"{k}_id") == getattr(v, "pk", v))}
    _check_content(values, TASK_CONTENT)
    if isinstance(values.get("title"), str):
        values["title"] = values["title"].strip()
    status = values.get("status", task.status)
    if status == Task.Status.DONE and task.status != Task.Status.DONE:
        values["completed_at"] = timezone.now()
    elif status != Task.Status.DONE and task.completed_at is not None:
        values["completed_at"] = None
    if owner is not None and owner.pk != task.owner_id:
        links = {name: getattr(task, name) for name in LINKS}
        _check_assignee(actor, owner, links)
        values.update(owner=owner, team=owner.team, assigned_by=actor)
    return core.update(actor=actor, obj=task, values=values, expected_version=expected_version)


def complete_task(*, actor: Any, task: Task) -> dict[str, Any]:
    if task.status == Task.Status.DONE:
        return {}
    return update_task(actor=actor, task=task, values={"status": Task.Status.DONE})


def reopen_task(*, actor: Any, task: Task) -> dict[str, Any]:
    if task.status in OPEN_STATUSES:
        return {}
    return update_task(actor=actor, task=task, values={"status": Task.Status.OPEN})


@transaction.atomic
def delete_task(*, actor: Any, task: Task) -> None:
    core.delete(actor=actor, obj=task, parent=primary_record(task))
