"""Read-side helpers shared by pages: the home dashboard and record timelines (through the gate)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Q
from django.utils.formats import number_format

from kehu.core import customfields, permissions, registry
from kehu.core.models import Event


def counts_by(qs: models.QuerySet, field: str) -> list[tuple[str, str, int]]:
    """[(value, label, count)] in the field's choice order, zeros included."""
    choices = qs.model._meta.get_field(field).choices or []
    found = dict(qs.order_by().values_list(field).annotate(n=Count("id")))
    return [(value, str(label), found.get(value, 0)) for value, label in choices]


def home(user: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lead_t = registry.get("sales.lead")
    cust_t = registry.get("customers.customer")
    if permissions.can(user, lead_t.key, "view"):
        mine = permissions.visible(lead_t.model, user).filter(owner=user)
        open_leads = mine.exclude(status__in=["converted", "disqualified"])
        out["leads_by_status"] = [
            row for row in counts_by(open_leads, "status") if row[0] not in ("converted", "disqualified")
        ]
        out["new_leads"] = list(mine.filter(status="new").order_by("-assigned_at", "-id")[:8])
    if permissions.can(user, cust_t.key, "view"):
        mine_c = permissions.visible(cust_t.model, user).filter(owner=user)
        out["customers_by_stage"] = counts_by(mine_c, "lifecycle_stage")
        out["customers_total"] = sum(n for _v, _l, n in out["customers_by_stage"])
    recent: list[tuple[Any, registry.ObjectType]] = []
    for key in ("customers.customer", "customers.contact", "sales.lead"):
        ot = registry.get(key)
        if permissions.can(user, key, "view"):
            qs = permissions.visible(ot.model, user).filter(owner=user).order_by("-updated_at", "-id")[:8]
            recent += [(o, ot) for o in qs]
    recent.sort(key=lambda pair: pair[0].updated_at, reverse=True)
    out["recent"] = recent[:10]
    out["cards"] = sorted((card for fn in registry.hooks("home") for card in fn(user)), key=lambda c: c.order)
    return out


@dataclass
class Change:
    field: str
    label: str
    old: Any
    new: Any


@dataclass
class TimelineEntry:
    event: Event | None  # None for an app's card (a follow-up), drawn by `template` from `item`
    object_type: registry.ObjectType | None
    changes: list[Change]
    is_self: bool
    at: Any = None  # when it happened: the event's time, or the card's own (a call logged later)
    template: str = ""
    item: Any = None


@dataclass
class HomeCard:
    """A card an app adds to the home page (registry hook "home"): its template and that template's context."""

    template: str
    context: dict[str, Any]
    order: int = 50


def _label(model: type[models.Model], name: str, defs: dict[str, Any]) -> str:
    if name.startswith("cf_"):
        d = defs.get(name)
        return d.label if d else name
    try:
        field: Any = model._meta.get_field(name)
        if field.auto_created and not field.concrete:  # a reverse relation, e.g. a contact's channels
            return str(field.related_model._meta.verbose_name_plural).capitalize()
        return str(field.verbose_name).capitalize()
    except Exception:  # noqa: BLE001 - a change recorded for a field that no longer exists keeps its key
        return name


def timeline(
    user: Any, obj: models.Model, *, related: list[tuple[type[models.Model], list[int]]] | None = None, limit: int = 200
) -> list[TimelineEntry]:
    """Events of `obj`, of records whose parent is `obj`, and of the `related` records (e.g. the lead a customer
    was converted from), newest first, with fields the user may not read removed; merged with the cards apps add
    through the "timeline" hook (follow-ups touching these records). A fixed number of queries."""
    ct = ContentType.objects.get_for_model(type(obj))
    cond = Q(content_type=ct, object_id=obj.pk) | Q(parent_type=ct, parent_id=obj.pk)
    for rel_model, ids in related or []:
        if ids:
            cond |= Q(content_type=ContentType.objects.get_for_model(rel_model), object_id__in=ids)
    events = list(Event.objects.filter(cond).select_related("actor").order_by("-id")[:limit])
    events = _readable_events(user, events, ct.pk, obj.pk)
    types = {ContentType.objects.get_for_id(e.content_type_id).model_class(): None for e in events}
    ots = {m: registry.get(m) for m in types if m is not None and registry.is_registered(m)}
    defs = {ot.key: {d.field_key: d for d in customfields.definitions(ot.key)} for ot in ots.values()}
    # values of relations shown by name: one query per related model
    model: Any
    wanted: dict[type[models.Model], set[Any]] = {}
    for e in events:
        model = ContentType.objects.get_for_id(e.content_type_id).model_class()
        for name, pair in e.changes.items():
            f = _relation(model, name)
            if f is not None:
                for v in pair:
                    for item in v if isinstance(v, list) else [v]:
                        if isinstance(item, int):
                            wanted.setdefault(f.related_model, set()).add(item)
    names = {m: {o.pk: str(o) for o in m._default_manager.filter(pk__in=ids)} for m, ids in wanted.items()}
    from kehu.core.models import PicklistOption

    names[PicklistOption] = {(o.list, o.value): o.label for o in PicklistOption.objects.all()}
    out = []
    for e in events:
        model = ContentType.objects.get_for_id(e.content_type_id).model_class()
        ot = ots.get(model)
        visible_changes = permissions.mask_changes(user, ot.key, e.changes) if ot else {}
        changes = []
        for name, (old, new) in visible_changes.items():
            changes.append(
                Change(
                    name,
                    _label(model, name, defs.get(ot.key, {}) if ot else {}),
                    _display(model, name, old, names, defs.get(ot.key, {}) if ot else {}),
                    _display(model, name, new, names, defs.get(ot.key, {}) if ot else {}),
                )
            )
        out.append(TimelineEntry(e, ot, changes, e.content_type_id == ct.pk and e.object_id == obj.pk, e.created_at))
    for source in registry.hooks("timeline"):
        out += source(user, obj, related or [], limit)
    out.sort(key=lambda entry: entry.at, reverse=True)  # stable: events keep their order among equal times
    return out[:limit]


def _readable_events(user: Any, events: list[Event], own_ct: int, own_id: Any) -> list[Event]:
    """Drop events of other records (a customer's contacts, its converted leads) that the user may not see:
    one query per record type. A deleted record is judged by the owner and team its deletion recorded."""
    others: dict[int, set[int]] = {}
    for e in events:
        if not (e.content_type_id == own_ct and e.object_id == own_id):
            others.setdefault(e.content_type_id, set()).add(e.object_id)
    allowed: dict[int, set[int]] = {}
    for ct_id, ids in others.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None or not registry.is_registered(model):
            allowed[ct_id] = set()
            continue
        ot = registry.get(model)
        pol = permissions.policy(user, ot.key)
        if not pol.can("view"):
            allowed[ct_id] = set()
        elif not ot.owned:
            allowed[ct_id] = set(ids)
        else:
            rows = list(model._default_manager.filter(pk__in=ids).values_list("pk", "owner_id", "team_id"))
            allowed[ct_id] = {pk for pk, owner_id, team_id in rows if pol.allows_record(owner_id, team_id)}
            gone = ids - {pk for pk, _o, _t in rows}
            for e in events:
                if e.content_type_id == ct_id and e.object_id in gone and e.verb == Event.Verb.DELETED:
                    owner_id = (e.changes.get("owner") or [None])[0]
                    team_id = (e.changes.get("team") or [None])[0]
                    if pol.allows_record(owner_id, team_id):
                        allowed[ct_id].add(e.object_id)
    return [
        e
        for e in events
        if (e.content_type_id == own_ct and e.object_id == own_id) or e.object_id in allowed[e.content_type_id]
    ]


def _relation(model: type[models.Model] | None, name: str) -> Any:
    if model is None or name.startswith("cf_"):
        return None
    try:
        f = model._meta.get_field(name)
    except Exception:  # noqa: BLE001
        return None
    return f if f.is_relation and f.concrete else None


def _display(model: Any, name: str, value: Any, names: dict, defs: dict) -> Any:
    if value in (None, "", []):
        return ""
    if name.startswith("cf_"):
        d = defs.get(name)
        return customfields.display(d, value) if d else value
    if name in ("industry", "source", "disqualify_reason"):
        from kehu.core.models import PicklistOption

        return names[PicklistOption].get((name, value), value)
    f = _relation(model, name)
    if f is not None:
        lookup = names.get(f.related_model, {})
        if isinstance(value, list):
            return ", ".join(str(lookup.get(v, v)) for v in value)
        return lookup.get(value, value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001
        return value
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        from django.utils.translation import gettext

        return gettext("Yes") if value else gettext("No")
    if isinstance(field, models.DecimalField):  # amounts as the pages show them: 16,611.00
        try:
            return number_format(Decimal(str(value)), field.decimal_places, force_grouping=True)
        except InvalidOperation:
            return value
    return value


def user_choices() -> list[Any]:
    # __str__ falls back to the full name: load it too, or each nameless user costs two more queries
    fields = ("id", "username", "display_name", "first_name", "last_name")
    return list(get_user_model().objects.filter(is_active=True).only(*fields))
