"""The permission gate: the one place that answers what a user may see and do.

A role grants, per object type, a set of actions, a data scope and field rules. A user's roles are
combined by union: the widest scope, every action any role grants, and a field is hidden (or read-only)
only if every granting role hides it (or makes it read-only). Every read path calls `visible()` or
`get_or_404()`, and asks `Policy.can_read()` before showing, filtering, sorting, searching or exporting
a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import F, Q, Subquery
from django.http import Http404
from django.utils.text import capfirst

from kehu.core import registry

ACTIONS = ("view", "add", "change", "delete", "export", "assign")
SCOPES = ("own", "team", "all")  # in order of width
HIDDEN, READONLY = "hidden", "readonly"


@dataclass
class Policy:
    object_type: str
    actions: frozenset[str] = frozenset()
    scope: str | None = None  # None: no access at all
    hidden: frozenset[str] = frozenset()
    readonly: frozenset[str] = frozenset()
    team_ids: tuple[int, ...] = field(default_factory=tuple)  # the user's team and its sub-teams
    user_id: int | None = None

    def can(self, action: str) -> bool:
        return self.scope is not None and action in self.actions

    def can_read(self, name: str) -> bool:
        return name not in self.hidden

    def can_write(self, name: str) -> bool:
        return name not in self.hidden and name not in self.readonly

    def scope_q(self, owner_field: str = "owner", team_field: str = "team") -> Q:
        if self.scope == "all":
            return Q()
        own = Q(**{f"{owner_field}_id": self.user_id})
        if self.scope == "team" and self.team_ids:
            return own | Q(**{f"{team_field}_id__in": self.team_ids})
        return own

    def allows_record(self, owner_id: int | None, team_id: int | None) -> bool:
        if self.scope == "all":
            return True
        if self.scope is None:
            return False
        return owner_id == self.user_id or (self.scope == "team" and team_id in self.team_ids)


def subtree(team_id: int) -> tuple[int, ...]:
    """The team and all its sub-teams, in one query (every team whose path starts with this one's)."""
    Team = apps.get_model("users", "Team")
    path = Team.objects.filter(pk=team_id).values("path")[:1]
    return tuple(
        Team.objects.annotate(root=Subquery(path)).filter(path__startswith=F("root")).values_list("pk", flat=True)
    )


def _team_ids(user: Any) -> tuple[int, ...]:
    return subtree(user.team_id) if user.team_id else ()


def _cache(user: Any) -> dict[str, Policy]:
    cache = getattr(user, "_kehu_policies", None)
    if cache is None:
        cache = {}
        user._kehu_policies = cache
    return cache


def forget(user: Any) -> None:
    """Drop the policies cached on this user object (after their roles or team change)."""
    for attr in ("_kehu_policies", "_kehu_team_ids", "_kehu_grants"):
        if hasattr(user, attr):
            delattr(user, attr)


def policy(user: Any, obj_type: str | type[models.Model] | models.Model) -> Policy:
    key = obj_type if isinstance(obj_type, str) else registry.get(obj_type).key
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Policy(key)
    cache = _cache(user)
    if key in cache:
        return cache[key]
    team_ids = getattr(user, "_kehu_team_ids", None)
    if team_ids is None:
        team_ids = user._kehu_team_ids = _team_ids(user)
    if user.is_superuser:
        pol = Policy(key, frozenset(ACTIONS), "all", team_ids=team_ids, user_id=user.pk)
    else:
        grants = getattr(user, "_kehu_grants", None)
        if grants is None:  # every grant of every role of the user, read once per request
            RolePermission = apps.get_model("users", "RolePermission")
            grants = {}
            rows = RolePermission.objects.filter(role__users=user).values(
                "object_type", "actions", "scope", "field_rules"
            )
            for row in rows:
                grants.setdefault(row["object_type"], []).append(row)
            user._kehu_grants = grants
        pol = _combine(key, grants.get(key, []), team_ids, user.pk)
    cache[key] = pol
    return pol


def _combine(key: str, rows: list[Any], team_ids: tuple[int, ...], user_id: int) -> Policy:
    if not rows:
        return Policy(key, team_ids=team_ids, user_id=user_id)
    actions: set[str] = set()
    scope_rank = -1
    hidden: set[str] | None = None
    readonly: set[str] | None = None
    for row in rows:
        actions |= set(row["actions"])
        scope_rank = max(scope_rank, SCOPES.index(row["scope"]))
        rules = row["field_rules"] or {}
        h = {f for f, r in rules.items() if r == HIDDEN}
        ro = {f for f, r in rules.items() if r in (HIDDEN, READONLY)}
        hidden = h if hidden is None else hidden & h
        readonly = ro if readonly is None else readonly & ro
    if "view" not in actions:
        return Policy(key, team_ids=team_ids, user_id=user_id)
    hidden = hidden or set()
    return Policy(
        key,
        frozenset(actions),
        SCOPES[scope_rank],
        frozenset(hidden),
        frozenset((readonly or set()) - hidden),
        team_ids,
        user_id,
    )


def _scope_q(pol: Policy, ot: registry.ObjectType) -> Q:
    """The data scope as a filter on the record's owner and team fields (see `ObjectType.owner_fields`)."""
    if (ot.owner_fields, ot.team_fields) == (("owner",), ("team",)):
        return pol.scope_q()
    if pol.scope == "all":
        return Q()
    q = Q(pk__in=[])
    for name in ot.owner_fields:
        q |= Q(**{f"{name}_id": pol.user_id})
    if pol.scope == "team" and pol.team_ids:
        for name in ot.team_fields:
            q |= Q(**{f"{name}_id__in": pol.team_ids})
    return q


def _related_id(obj: models.Model, path: str) -> Any:
    """The id a relation path names on a record: "owner" → obj.owner_id, "user__team" → obj.user.team_id."""
    *hops, last = path.split("__")
    for hop in hops:
        if getattr(obj, f"{hop}_id", None) is None:
            return None
        obj = getattr(obj, hop)
    return getattr(obj, f"{last}_id", None)


def visible(model_or_qs: type[models.Model] | models.QuerySet, user: Any, action: str = "view") -> models.QuerySet:
    """The records of this type the user may act on: the one queryset every read path starts from."""
    qs = model_or_qs._default_manager.all() if isinstance(model_or_qs, type) else model_or_qs
    pol = policy(user, qs.model)
    if not pol.can(action) or (action != "view" and not pol.can("view")):
        return qs.none()
    ot = registry.get(qs.model)
    if not ot.owned:
        return qs
    return qs.filter(_scope_q(pol, ot))


def get_or_404(model_or_qs: type[models.Model] | models.QuerySet, user: Any, pk: Any, action: str = "view") -> Any:
    """One record, or Http404 whether it is missing, outside the user's scope or the action is denied."""
    try:
        return visible(model_or_qs, user, action).get(pk=pk)
    except (ValueError, TypeError, models.ObjectDoesNotExist) as exc:
        raise Http404 from exc


def can(
    user: Any, obj_type: str | type[models.Model] | models.Model, action: str, obj: models.Model | None = None
) -> bool:
    pol = policy(user, obj_type)
    if not pol.can(action):
        return False
    ot = registry.get(obj) if obj is not None else None
    if obj is not None and ot is not None and ot.owned:
        owners = [_related_id(obj, name) for name in ot.owner_fields]
        teams = [_related_id(obj, name) for name in ot.team_fields]
        return any(pol.allows_record(o, t) for o in owners for t in teams)
    return True


def readable(user: Any, obj_type: str | type[models.Model], names: list[str] | tuple[str, ...]) -> list[str]:
    pol = policy(user, obj_type)
    return [n for n in names if pol.can_read(n)]


def mask_changes(user: Any, obj_type: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Changed fields of an event without the ones this user may not read."""
    pol = policy(user, obj_type)
    return {f: v for f, v in changes.items() if pol.can_read(f)}


def mask_data(user: Any, obj_type: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event's extra `data` without the keys that carry a field this user may not read (the object type's
    `data_fields` says which key carries which field: a disqualification's reason, a stage move's stages)."""
    pol = policy(user, obj_type)
    ot = registry.get(obj_type)
    out = {}
    for key, value in data.items():
        name = ot.data_field(key)
        if name is None or pol.can_read(name):
            out[key] = value
    return out


def hidden_verbs(user: Any, obj_type: str) -> tuple[str, ...]:
    """Event verbs of this type kept from the user even on records they see: sign-ins, with the address they
    came from, and API tokens made or revoked, with the token's first characters, are for those who may change
    users."""
    if obj_type == "users.user" and not policy(user, obj_type).can("change"):
        return ("logged_in", "token_created", "token_revoked")
    return ()


def record_name(user: Any, obj_type: str, object_id: Any, name: str) -> str:
    """A record's name as this user may read it: "Payment #12" instead of a name made of a hidden field."""
    ot = registry.get(obj_type)
    pol = policy(user, obj_type)
    if any(not pol.can_read(f) for f in ot.name_fields):
        return f"{capfirst(ot.label)} #{object_id}"
    return name


def mask_event(user: Any, event: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(changes, data) of an event as this user may read them: the one masking every reader of the event log
    uses (timelines, the history page, the API feed). An event of a type the gate does not know shows nothing."""
    from django.contrib.contenttypes.models import ContentType

    model = ContentType.objects.get_for_id(event.content_type_id).model_class()
    if model is None or not registry.is_registered(model):
        return {}, {}
    key = registry.get(model).key
    return mask_changes(user, key, event.changes or {}), mask_data(user, key, event.data or {})
