"""Read side of follow-ups and tasks, always through the gate: timeline cards, a record's open tasks, "my day",
"my follow-ups" (records with no next step) and task completion per rep. Each a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from kehu.activities.models import Activity, Task
from kehu.core import permissions, registry
from kehu.core.queries import HomeCard, TimelineEntry

LINKS = ("lead", "customer", "contact", "opportunity")
# object type → the link field of a follow-up or task that points at it
LINK_FIELDS = {
    "sales.lead": "lead",
    "customers.customer": "customer",
    "customers.contact": "contact",
    "sales.opportunity": "opportunity",
}
OPEN = (Task.Status.OPEN, Task.Status.IN_PROGRESS)
UPCOMING_DAYS = 7
BUCKET_LIMIT = 100
PRIORITY_RANK = Case(
    When(priority=Task.Priority.URGENT, then=Value(0)),
    When(priority=Task.Priority.HIGH, then=Value(1)),
    When(priority=Task.Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def link_field(obj: models.Model | type[models.Model]) -> str | None:
    model = obj if isinstance(obj, type) else type(obj)
    return LINK_FIELDS.get(model._meta.label_lower)


@dataclass
class Link:
    """A record a follow-up or task touches, shown only when the user may see it."""

    name: str  # link field: lead, customer, contact, opportunity
    label: str  # its type, translated
    obj: models.Model
    url_name: str


def visible_links(user: Any, obj: Activity | Task, skip: models.Model | None = None) -> list[Link]:
    """The touched records the user may see (no queries: the links are select_related)."""
    out = []
    for name in LINKS:
        rel = getattr(obj, name)
        if rel is None or (skip is not None and type(rel) is type(skip) and rel.pk == skip.pk):
            continue
        if permissions.can(user, rel, "view", rel):
            ot = registry.get(rel)
            out.append(Link(name, ot.label, rel, ot.url_name))
    return out


@dataclass
class ActivityCard:
    activity: Activity
    links: list[Link]
    hidden: frozenset[str]
    can_delete: bool


def timeline_entries(
    user: Any, obj: models.Model, related: list[tuple[type[models.Model], list[int]]], limit: int
) -> list[TimelineEntry]:
    """The "timeline" hook: follow-ups touching `obj` (and the `related` records) the user may see, as cards.
    One query."""
    name = link_field(obj)
    pol = permissions.policy(user, Activity)
    if name is None or not pol.can("view"):
        return []
    cond = Q(**{name: obj})
    for model, ids in related:
        rel_name = link_field(model)
        if rel_name and ids:
            cond |= Q(**{f"{rel_name}__in": ids})
    rows = (
        permissions.visible(Activity, user)
        .filter(cond)
        .select_related("owner", *LINKS)
        .order_by("-occurred_at", "-id")[:limit]
    )
    ot = registry.get(Activity)
    return [
        TimelineEntry(
            event=None,
            object_type=ot,
            changes=[],
            is_self=False,
            at=a.occurred_at,
            template="activities/_timeline_card.html",
            item=ActivityCard(a, visible_links(user, a, skip=obj), pol.hidden, permissions.can(user, a, "delete", a)),
        )
        for a in rows
    ]


def open_tasks_for(user: Any, record: models.Model, limit: int = 20) -> list[Task]:
    name = link_field(record)
    if name is None or not permissions.can(user, Task, "view"):
        return []
    return list(
        permissions.visible(Task, user)
        .filter(**{name: record}, status__in=OPEN)
        .select_related("owner", *LINKS)
        .order_by(F("due_date").asc(nulls_last=True), PRIORITY_RANK, "id")[:limit]
    )


# --------------------------------------------------------------------------- my day


@dataclass
class TaskRow:
    task: Task
    links: list[Link]
    overdue: bool
    can_change: bool


def _rows(user: Any, tasks: Any, today: dt.date) -> list[TaskRow]:
    return [
        TaskRow(
            t,
            visible_links(user, t),
            bool(t.due_date and t.due_date < today and t.status in OPEN),
            permissions.can(user, t, "change", t),
        )
        for t in tasks
    ]


def task_row(user: Any, task: Task) -> TaskRow:
    return _rows(user, [task], timezone.localdate())[0]


def open_tasks(user: Any, *, team: bool = False, owner_id: int | None = None) -> models.QuerySet:
    """Open tasks the user may see: their own, or (team) everyone's in their scope, optionally one owner's."""
    qs = permissions.visible(Task, user).filter(status__in=OPEN)
    if not team:
        qs = qs.filter(owner=user)
    elif owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs


@dataclass
class Bucket:
    key: str
    rows: list[TaskRow]
    more: bool = False


@dataclass
class MyDay:
    today: dt.date
    buckets: list[Bucket] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(b.rows) for b in self.buckets)


def my_day(user: Any, *, team: bool = False, owner_id: int | None = None, today: dt.date | None = None) -> MyDay:
    """Open tasks in four buckets: overdue, due today, upcoming (next 7 days), no due date. Four queries."""
    today = today or timezone.localdate()
    qs = open_tasks(user, team=team, owner_id=owner_id).select_related("owner", *LINKS)
    specs = [
        ("overdue", qs.filter(due_date__lt=today).order_by("due_date", PRIORITY_RANK, "id")),
        ("today", qs.filter(due_date=today).order_by(PRIORITY_RANK, "id")),
        (
            "upcoming",
            qs.filter(due_date__gt=today, due_date__lte=today + dt.timedelta(days=UPCOMING_DAYS)).order_by(
                "due_date", PRIORITY_RANK, "id"
            ),
        ),
        ("no_date", qs.filter(due_date__isnull=True).order_by(PRIORITY_RANK, "-created_at", "-id")),
    ]
    out = MyDay(today)
    for key, bucket_qs in specs:
        tasks = list(bucket_qs[: BUCKET_LIMIT + 1])
        out.buckets.append(Bucket(key, _rows(user, tasks[:BUCKET_LIMIT], today), len(tasks) > BUCKET_LIMIT))
    return out


def due_count(user: Any) -> int:
    """Open tasks of the user that are overdue or due today (the sidebar badge). One indexed query."""
    if not permissions.can(user, Task, "view"):
        return 0
    return Task.objects.filter(owner=user, status__in=OPEN, due_date__lte=timezone.localdate()).count()


def home_cards(user: Any) -> list[HomeCard]:
    """The "home" hook: a "My day" card with counts and the first tasks due. Two queries."""
    if not permissions.can(user, Task, "view"):
        return []
    today = timezone.localdate()
    mine = Task.objects.filter(owner=user, status__in=OPEN)
    counts = mine.aggregate(
        overdue=Count("id", filter=Q(due_date__lt=today)),
        today=Count("id", filter=Q(due_date=today)),
        upcoming=Count("id", filter=Q(due_date__gt=today, due_date__lte=today + dt.timedelta(days=UPCOMING_DAYS))),
    )
    first = list(
        mine.filter(due_date__lte=today + dt.timedelta(days=UPCOMING_DAYS)).order_by("due_date", PRIORITY_RANK, "id")[
            :5
        ]
    )
    return [HomeCard("activities/_home_card.html", {"counts": counts, "tasks": first, "today": today}, order=10)]


def nav_items(user: Any) -> dict[str, Any]:
    """The "nav" hook: the Tasks item and its badge, counted only when the sidebar is drawn."""
    can_view = permissions.can(user, Task, "view")
    return {"tasks": can_view, "tasks_due": _Lazy(lambda: due_count(user)) if can_view else 0}


class _Lazy:
    """A value computed on first use by a template (once), so partial pages never pay for it."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.done = False
        self.value: Any = None

    def __call__(self) -> Any:
        if not self.done:
            self.value, self.done = self.fn(), True
        return self.value


# --------------------------------------------------------------------------- my follow-ups


@dataclass
class FollowUpRow:
    obj: Any
    kind: str  # lead or opportunity
    url_name: str
    overdue_since: dt.date | None
    last_touch: dt.datetime | None


def _needing(qs: models.QuerySet, name: str, today: dt.date, extra_no_step: Q = Q()) -> models.QuerySet:  # noqa: B008
    acts = Activity.objects.filter(**{name: OuterRef("pk")})
    qs = qs.annotate(
        has_task=Exists(Task.objects.filter(**{name: OuterRef("pk")}, status__in=OPEN)),
        has_future=Exists(acts.filter(next_follow_up__gte=today)),
        overdue_since=Subquery(
            acts.filter(next_follow_up__lt=today).order_by("-next_follow_up").values("next_follow_up")[:1]
        ),
        last_touch=Subquery(acts.order_by("-occurred_at").values("occurred_at")[:1]),
    )
    no_next_step = Q(has_task=False, has_future=False) & extra_no_step
    overdue = Q(has_future=False, overdue_since__isnull=False)
    return qs.filter(no_next_step | overdue).order_by(
        F("overdue_since").asc(nulls_last=True), F("last_touch").asc(nulls_first=True), "id"
    )


def follow_ups(
    user: Any, *, team: bool = False, today: dt.date | None = None, limit: int = BUCKET_LIMIT
) -> dict[str, list[FollowUpRow]]:
    """Open leads (new, working, qualified) and open opportunities with no next step — no open task, no future
    follow-up date and (deals) an empty next step — or whose next follow-up date has passed. Two queries."""
    from kehu.sales.models import Lead, Opportunity

    today = today or timezone.localdate()
    out: dict[str, list[FollowUpRow]] = {"leads": [], "opportunities": []}
    specs: list[tuple[str, type[models.Model], Q, Q]] = [
        ("leads", Lead, Q(status__in=["new", "working", "qualified"]), Q()),
        ("opportunities", Opportunity, Q(status="open"), Q(next_step="")),
    ]
    for key, model, open_q, extra in specs:
        if not permissions.can(user, model, "view"):
            continue
        qs = permissions.visible(model, user).filter(open_q)
        if not team:
            qs = qs.filter(owner=user)
        name = link_field(model) or ""
        rows = _needing(qs.select_related("owner"), name, today, extra)[:limit]
        ot = registry.get(model)
        out[key] = [FollowUpRow(o, name, ot.url_name, o.overdue_since, o.last_touch) for o in rows]
    return out


# --------------------------------------------------------------------------- performance


@dataclass
class Completion:
    owner: Any
    assigned: int
    done: int
    done_on_time: int
    overdue_open: int

    @property
    def done_rate(self) -> int | None:
        return round(100 * self.done / self.assigned) if self.assigned else None

    @property
    def on_time_rate(self) -> int | None:
        return round(100 * self.done_on_time / self.done) if self.done else None


def completion_by_owner(user: Any, start: dt.date, end: dt.date, *, today: dt.date | None = None) -> list[Completion]:
    """Per owner, of the tasks the user may see that fall in [start, end] (by due date; tasks without one by the
    day they were created; cancelled ones left out): how many were assigned, done, done on or before their due
    date, and are still open past it. Two queries."""
    today = today or timezone.localdate()
    qs = (
        permissions.visible(Task, user)
        .exclude(status=Task.Status.CANCELLED)
        .filter(Q(due_date__range=(start, end)) | Q(due_date__isnull=True, created_at__date__range=(start, end)))
    )
    done = Q(status=Task.Status.DONE)
    rows = list(
        qs.order_by()
        .values("owner")
        .annotate(
            assigned=Count("id"),
            done=Count("id", filter=done),
            on_time=Count("id", filter=done & (Q(due_date__isnull=True) | Q(completed_at__date__lte=F("due_date")))),
            overdue=Count("id", filter=Q(status__in=OPEN, due_date__lt=today)),
        )
    )
    users = get_user_model().objects.in_bulk([r["owner"] for r in rows if r["owner"]])
    out = [
        Completion(users.get(r["owner"]), r["assigned"], r["done"], r["on_time"], r["overdue"])
        for r in rows
        if r["owner"] in users
    ]
    out.sort(key=lambda c: (-c.assigned, str(c.owner)))
    return out
