"""Object types known to the gate, custom fields, search and the event log.

Each domain app registers its gated models in AppConfig.ready(); core never imports an app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class ObjectType:
    key: str  # "customers.customer"
    model: type[models.Model]
    fields: tuple[str, ...]  # fields a role's field rules may name (custom fields are added as cf_<name>)
    custom_fields: bool = True
    url_name: str = ""  # detail view name, reversed with pk
    parent_attr: str = ""  # attribute naming the record whose timeline also shows this one's events
    search_fields: tuple[str, ...] = field(default_factory=tuple)  # fields whose text feeds search
    owned: bool = True  # False: settings objects with no owner or team, where only actions apply
    # Which field each key of an event's `data` carries, so readers hide it with that field: (("reason",
    # "disqualify_reason"),). "*" names the field of every other key; a key naming a field of `fields` is that
    # field; any other key carries no field value and is shown to whoever may see the event.
    data_fields: tuple[tuple[str, str], ...] = ()
    # Fields a record's name is made of (a payment is named by its amount): a reader who may not read one of them
    # sees the record named by its type and id instead, in timelines, history and the change feed.
    name_fields: tuple[str, ...] = ()

    def data_field(self, key: str) -> str | None:
        """The field whose read rule governs the event data key `key` (None: no field)."""
        declared = dict(self.data_fields)
        if key in declared:
            return declared[key]
        if key in self.fields or key.startswith("cf_"):
            return key
        return declared.get("*")

    # where an owned record's owner and team are for the data scope, when not in its own `owner` and `team`
    # fields: any of the named relations may match ("user__team": the team of the record's user). A sales target
    # belongs to its rep, and so to the rep's team, or to a team.
    owner_fields: tuple[str, ...] = ("owner",)
    team_fields: tuple[str, ...] = ("team",)

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def label_plural(self) -> str:
        return str(self.model._meta.verbose_name_plural)


_TYPES: dict[str, ObjectType] = {}


def register(obj_type: ObjectType) -> ObjectType:
    _TYPES[obj_type.key] = obj_type
    return obj_type


def get(key_or_model: str | type[models.Model] | models.Model) -> ObjectType:
    if isinstance(key_or_model, str):
        return _TYPES[key_or_model]
    model = key_or_model if isinstance(key_or_model, type) else type(key_or_model)
    return _TYPES[model._meta.label_lower]


def all_types() -> list[ObjectType]:
    return list(_TYPES.values())


def is_registered(model: type[models.Model]) -> bool:
    return model._meta.label_lower in _TYPES


# --------------------------------------------------------------------------- hooks
# Apps add to pages core owns (a record's timeline, the home page, the sidebar) without core importing them:
#   "timeline": fn(user, obj, related, limit) -> list of kehu.core.queries.TimelineEntry (cards merged by time)
#   "home":     fn(user) -> list of kehu.core.queries.HomeCard, or []
#   "nav":      fn(user) -> dict merged into the sidebar's `nav` (values may be callables, evaluated when shown)

_HOOKS: dict[str, list[Callable[..., Any]]] = {}


def add_hook(name: str, fn: Callable[..., Any]) -> None:
    fns = _HOOKS.setdefault(name, [])
    if fn not in fns:
        fns.append(fn)


def hooks(name: str) -> list[Callable[..., Any]]:
    return list(_HOOKS.get(name, ()))
