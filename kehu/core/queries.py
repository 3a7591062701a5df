"""Read-side helpers shared by pages: the home dashboard, record timelines and history pages (through the gate)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext

from kehu.core import customfields, normalize, pagination, permissions, registry
from kehu.core.models import Event
from kehu.core.templatetags.kehu import PICKLIST_FIELDS

_PHONE_FIELDS = ("phone", "mobile", "whatsapp")  # stored in E.164, shown as people write them


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
    old: str  # the value as shown: choice labels, names of related records, formatted numbers and dates
    new: str
    old_items: list[str] = dataclasses.field(default_factory=list)  # a list value (channels, lines) item by item
    new_items: list[str] = dataclasses.field(default_factory=list)


@dataclass
class TimelineEntry:
    event: Event | None  # None for an app's card (a follow-up), drawn by `template` from `item`
    object_type: registry.ObjectType | None
    changes: list[Change]
    is_self: bool
    at: Any = None  # when it happened: the event's time, or the card's own (a call logged later)
    template: str = ""
    item: Any = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)  # the event's data the user may read
    reason: str = ""  # a disqualification's reason, by its label
    name: str = ""  # the record's current name (its name when the event was written, once it is deleted)
    history_url: str = ""  # the history page listing this event in full


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
    out = describe(user, events, obj)
    for source in registry.hooks("timeline"):
        out += source(user, obj, related or [], limit)
    out.sort(key=lambda entry: entry.at, reverse=True)  # stable: events keep their order among equal times
    return out[:limit]


@dataclass
class History:
    obj: models.Model
    object_type: registry.ObjectType
    entries: list[TimelineEntry]
    next_cursor: str | None
    oldest_first: bool
    detail_url: str


HISTORY_PAGE = 50


def history(
    user: Any,
    type_key: str,
    pk: Any,
    *,
    cursor: str | None = None,
    start: int | None = None,
    oldest_first: bool = False,
    size: int | None = None,
) -> History:
    """A record's history page: every event of the record and of the records whose parent it is (a customer's
    contacts), each change in full, masked like the timeline. Keyset pages by event id, no count. Http404 for a
    type the gate does not know or a record outside the user's scope; ValidationError for a forged cursor.
    `start` (an event id) opens the page at that event."""
    try:
        ot = registry.get(type_key)
    except KeyError as exc:
        raise Http404 from exc
    obj = permissions.get_or_404(ot.model, user, pk)
    ct = ContentType.objects.get_for_model(ot.model)
    qs = Event.objects.filter(Q(content_type=ct, object_id=obj.pk) | Q(parent_type=ct, parent_id=obj.pk))
    hidden = permissions.hidden_verbs(user, ot.key)
    if hidden:
        qs = qs.exclude(content_type=ct, verb__in=hidden)
    if start is not None and not cursor:
        qs = qs.filter(id__gte=start) if oldest_first else qs.filter(id__lte=start)
    order = ["id" if oldest_first else "-id"]
    page = pagination.paginate(qs.select_related("actor"), order, cursor, size or HISTORY_PAGE)
    events = _readable_events(user, page.items, ct.pk, obj.pk)
    detail_url = reverse(ot.url_name, args=[obj.pk]) if ot.url_name else ""
    return History(obj, ot, describe(user, events, obj), page.next_cursor, oldest_first, detail_url)


def history_url(obj_or_type: Any, pk: Any = None, event_id: int | None = None) -> str:
    """The history page of a record (a model instance, or a type key and pk), opened at `event_id` if given."""
    if isinstance(obj_or_type, str):
        key = obj_or_type
    else:
        if not registry.is_registered(type(obj_or_type)):
            return ""
        key, pk = registry.get(obj_or_type).key, obj_or_type.pk
    url = reverse("history", args=[key, pk])
    return f"{url}?start={event_id}#event-{event_id}" if event_id else url


def describe(user: Any, events: list[Event], obj: models.Model) -> list[TimelineEntry]:
    """Timeline entries for events already filtered by `_readable_events`, shown on `obj`'s page: each event's
    changes and data as the user may read them (permissions.mask_event), values as people read them. One query
    per related model, per record type named and for the pick lists, however many events."""
    own_ct = ContentType.objects.get_for_model(type(obj)).pk
    model: Any
    models_of = {e.pk: ContentType.objects.get_for_id(e.content_type_id).model_class() for e in events}
    ots = {m: registry.get(m) for m in set(models_of.values()) if m is not None and registry.is_registered(m)}
    defs = {ot.key: {d.field_key: d for d in customfields.definitions(ot.key)} for ot in ots.values()}
    masked = {e.pk: permissions.mask_event(user, e) for e in events}
    # values of relations shown by name: one query per related model
    wanted: dict[type[models.Model], set[Any]] = {}
    records: dict[type[models.Model], set[Any]] = {}  # records named (or whose currency is read) on this page
    for e in events:
        model = models_of[e.pk]
        changes, _data = masked[e.pk]
        for name, pair in changes.items():
            f = _relation(model, name)
            if f is not None:
                for v in pair:
                    for item in v if isinstance(v, list) else [v]:
                        if isinstance(item, int):
                            wanted.setdefault(f.related_model, set()).add(item)
        is_self = e.content_type_id == own_ct and e.object_id == obj.pk
        if model is not None and (not is_self or any(_is_money(model, n) for n in changes)):
            records.setdefault(model, set()).add(e.object_id)
    names = {m: {o.pk: str(o) for o in m._default_manager.filter(pk__in=ids)} for m, ids in wanted.items()}
    live = {m: {o.pk: o for o in m._default_manager.filter(pk__in=ids)} for m, ids in records.items()}
    live[type(obj)] = {**live.get(type(obj), {}), obj.pk: obj}
    from kehu.core.models import PicklistOption

    picklists = {(o.list, o.value): o.label for o in PicklistOption.objects.all()}
    out = []
    for e in events:
        model = models_of[e.pk]
        ot = ots.get(model)
        changes, data = masked[e.pk]
        is_self = e.content_type_id == own_ct and e.object_id == obj.pk
        record = live.get(model, {}).get(e.object_id)
        fdefs = defs.get(ot.key, {}) if ot else {}
        currency = ["", ""]
        if "currency" in changes:
            currency = [changes["currency"][0] or "", changes["currency"][1] or ""]
        elif record is not None and ot is not None and permissions.policy(user, ot.key).can_read("currency"):
            currency = [getattr(record, "currency", "") or ""] * 2
        rows = []
        for name, (old, new) in changes.items():
            olds = _display(model, name, old, names, fdefs, picklists, currency[0])
            news = _display(model, name, new, names, fdefs, picklists, currency[1])
            rows.append(Change(name, _label(model, name, fdefs), ", ".join(olds), ", ".join(news), olds, news))
        reason = ""
        if data.get("reason") not in (None, "") and ot is not None:
            field_name = ot.data_field("reason") or "reason"
            reason = ", ".join(_display(model, field_name, data["reason"], names, fdefs, picklists))
        if is_self or (e.parent_type_id == own_ct and e.parent_id == obj.pk):
            url = history_url(obj, event_id=e.pk)
        elif ot is not None and record is not None:
            url = history_url(ot.key, e.object_id, e.pk)
        else:
            url = ""
        name = str(record) if record is not None and e.verb != Event.Verb.DELETED else e.object_repr
        if ot is not None:
            name = permissions.record_name(user, ot.key, e.object_id, name)
        out.append(
            TimelineEntry(e, ot, rows, is_self, e.created_at, data=data, reason=reason, name=name, history_url=url)
        )
    return out


def _readable_events(user: Any, events: list[Event], own_ct: int, own_id: Any) -> list[Event]:
    """Drop events of other records (a customer's contacts, its converted leads) that the user may not see:
    one query per record type. A deleted record is judged by the owner and team its deletion recorded. Verbs
    the gate keeps from this user (another user's sign-ins) are dropped everywhere."""
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
    hidden: dict[int, tuple[str, ...]] = {}
    for ct_id in {e.content_type_id for e in events}:
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is not None and registry.is_registered(model):
            hidden[ct_id] = permissions.hidden_verbs(user, registry.get(model).key)
        else:
            hidden[ct_id] = ()
    return [
        e
        for e in events
        if ((e.content_type_id == own_ct and e.object_id == own_id) or e.object_id in allowed[e.content_type_id])
        and e.verb not in hidden[e.content_type_id]
    ]


def _relation(model: type[models.Model] | None, name: str) -> Any:
    if model is None or name.startswith("cf_"):
        return None
    try:
        f = model._meta.get_field(name)
    except Exception:  # noqa: BLE001
        return None
    return f if f.is_relation and f.concrete else None


def _field(model: Any, name: str) -> Any:
    if model is None or name.startswith("cf_"):
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a change recorded for a field that no longer exists
        return None


def _is_money(model: Any, name: str) -> bool:
    """An amount in the record's currency: a decimal field of a model with a currency, not a percentage."""
    f = _field(model, name)
    if not isinstance(f, models.DecimalField) or _field(model, "currency") is None:
        return False
    return not any(isinstance(v, MaxValueValidator) for v in f.validators)


def _display(
    model: Any, name: str, value: Any, names: dict, defs: dict, picklists: dict, currency: str = ""
) -> list[str]:
    """A recorded value as people read it, as a list of items (one for a single value): choice and pick list
    labels, related records by name, contact channels by kind, amounts with grouping and their currency."""
    if value in (None, "", []):
        return []
    if name.startswith("cf_"):
        d = defs.get(name)
        return [str(customfields.display(d, value) if d else value)]
    if name in PICKLIST_FIELDS:
        return [str(picklists.get((PICKLIST_FIELDS[name], v), v)) for v in _items(value)]
    f = _field(model, name)
    if f is not None and f.is_relation and f.concrete:
        lookup = names.get(f.related_model, {})
        return [str(lookup.get(v, v)) for v in _items(value)]
    if f is not None and f.is_relation:  # a reverse relation summarised as "kind:value" (a contact's channels)
        return [_kind_value(f.related_model, v) for v in _items(value)]
    if isinstance(value, list):
        return [str(v) for v in value]
    if f is None:
        return [str(value)]
    if f.choices:
        return [str(dict(f.flatchoices).get(value, value))]
    if isinstance(value, bool):
        return [gettext("Yes") if value else gettext("No")]
    if isinstance(f, models.DecimalField):  # amounts as the pages show them: 16,611.00 CNY
        try:
            text = number_format(Decimal(str(value)), f.decimal_places, force_grouping=True)
        except InvalidOperation:
            return [str(value)]
        return [f"{text} {currency}" if currency and _is_money(model, name) else text]
    if isinstance(f, models.DateTimeField):
        try:
            return [date_format(timezone.localtime(dt.datetime.fromisoformat(str(value))), "SHORT_DATETIME_FORMAT")]
        except ValueError:
            return [str(value)]
    if isinstance(f, models.DateField):
        try:
            return [date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")]
        except ValueError:
            return [str(value)]
    if name in _PHONE_FIELDS and isinstance(value, str) and value.startswith("+"):
        return [normalize.phone_display(value)]
    return [str(value)]


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _kind_value(model: Any, item: Any) -> str:
    """ "phone:+8613812345678" → "Phone: 138 1234 5678", by the kind's label (ContactChannel.kind)."""
    kind_field = _field(model, "kind")
    if not isinstance(item, str) or ":" not in item or kind_field is None or not kind_field.choices:
        return str(item)
    kind, _sep, value = item.partition(":")
    labels = dict(kind_field.flatchoices)
    if kind not in labels:
        return item
    if value.startswith("+") and value[1:].isdigit():
        value = normalize.phone_display(value)
    return f"{labels[kind]}: {value}"


def user_choices() -> list[Any]:
    # __str__ falls back to the full name: load it too, or each nameless user costs two more queries
    fields = ("id", "username", "display_name", "first_name", "last_name")
    return list(get_user_model().objects.filter(is_active=True).only(*fields))
