"""The list page every object type uses: gate-filtered queryset, filters on readable fields (custom fields
included), sort, quick search, column choice, saved views, keyset "load more" and bulk actions.

An app describes its list with an `ObjectList` (columns, filters, sorts) and its view calls `render_list`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Subquery
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import collation, customfields, jobs, permissions, registry
from kehu.core import search as search_mod
from kehu.core.models import CustomFieldDefinition, PicklistOption, SavedView
from kehu.core.pagination import paginate

RESERVED = {"q", "sort", "cursor", "cols", "view", "partial", "job"}


@dataclass
class Filter:
    name: str  # a model field (or cf_<key>)
    label: Any
    kind: str = "choice"  # choice | text | user | team | tag | bool | date | number (date and number: a range)
    lookup: str = ""  # ORM lookup, defaults to the name
    choices: list[tuple[str, Any]] | Callable[[], list[tuple[Any, Any]]] | None = None  # a callable: read per use
    picklist: str = ""  # PicklistOption.list for choices
    # a filter that is not a plain field lookup ("reached stage", "followed up"): (queryset, value) → queryset;
    # raise ValueError or ValidationError on a bad value
    apply: Callable[[models.QuerySet, str], models.QuerySet] | None = None


@dataclass
class ExportColumn:
    """A column only exports have, read from a related set the list's rows do not show (a contact's e-mail
    addresses): guarded by the gate field `field`, filled by `value(record)` from the `prefetch` relation."""

    field: str
    label: Any
    value: Callable[[Any], Any]
    prefetch: str = ""


@dataclass
class ObjectList:
    object_type: str
    columns: list[str]  # default columns (field names or cf_<key>)
    available: list[str]  # every column the user may add
    filters: list[Filter]
    sorts: list[str]  # sortable field names (non-null columns)
    default_sort: str = "-updated_at"
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    title: Any = ""
    new_url: Any = ""
    detail_url: str = ""
    bulk_actions: tuple[str, ...] = ()
    page_size: int = field(default_factory=lambda: settings.KEHU_PAGE_SIZE)
    export_columns: tuple[ExportColumn, ...] = ()

    def __post_init__(self) -> None:
        _LISTS[self.object_type] = self

    @property
    def ot(self) -> registry.ObjectType:
        return registry.get(self.object_type)


_LISTS: dict[str, ObjectList] = {}


def get_list(object_type: str) -> ObjectList:
    """The list of an object type ("customers.customer"), from the `lists` module of its app; KeyError when
    the type has no list."""
    if object_type not in _LISTS:
        from importlib import import_module

        app = object_type.split(".")[0]
        if not app.isidentifier():
            raise KeyError(object_type)
        try:
            import_module(f"kehu.{app}.lists")
        except ModuleNotFoundError as exc:
            raise KeyError(object_type) from exc
    return _LISTS[object_type]


@dataclass
class Column:
    name: str
    label: str
    sortable: bool
    definition: CustomFieldDefinition | None = None


def field_label(model: type[models.Model], name: str, defs: dict[str, CustomFieldDefinition]) -> str:
    if name.startswith("cf_"):
        d = defs.get(name)
        return d.label if d else name
    field: Any = model._meta.get_field(name)
    return str(field.verbose_name).capitalize()


def _picklists() -> tuple[dict[str, list[tuple[str, str]]], dict[tuple[str, str], str]]:
    """In one query: the active options of every pick list (for filters) and the label of every value, retired
    ones included (for cells)."""
    active: dict[str, list[tuple[str, str]]] = {}
    labels: dict[tuple[str, str], str] = {}
    for o in PicklistOption.objects.all():
        labels[(o.list, o.value)] = o.label
        if o.active:
            active.setdefault(o.list, []).append((o.value, o.label))
    return active, labels


def _options(
    flt: Filter, request: Any, picklists: dict[str, list[tuple[str, str]]], users: list[Any] | None = None
) -> list[tuple[str, str]]:
    if flt.choices is not None:
        return [(str(k), str(v)) for k, v in _choices(flt)]
    if flt.picklist:
        return picklists.get(flt.picklist, [])
    if flt.kind == "user":
        from kehu.core.queries import user_choices

        return [("me", _("Me")), *[(str(u.pk), str(u)) for u in (user_choices() if users is None else users)]]
    if flt.kind == "team":
        from django.apps import apps

        teams = apps.get_model("users", "Team").objects.all()
        return [(str(t.pk), "— " * max(t.depth, 0) + t.name) for t in teams]
    if flt.kind == "tag":
        from django.apps import apps

        return [(str(t.pk), t.name) for t in apps.get_model("customers", "Tag").objects.all()[:500]]
    if flt.kind == "bool":
        return [("1", _("Yes")), ("0", _("No"))]
    return []


def _choices(flt: Filter) -> list[tuple[Any, Any]]:
    return list(flt.choices() if callable(flt.choices) else flt.choices or [])


def _team_subtree(team_id: str) -> tuple[list[int], str]:
    """The team and its sub-teams (ids) and the team's name, in one query."""
    from django.apps import apps

    Team = apps.get_model("users", "Team")
    root = Team.objects.filter(pk=int(team_id)).values("path")[:1]
    rows = list(Team.objects.annotate(root=Subquery(root)).filter(path__startswith=F("root")).values_list("pk", "name"))
    if not rows:
        raise ValidationError(_("Unknown team."))
    return [pk for pk, _name in rows], next(name for pk, name in rows if pk == int(team_id))


def apply_filters(
    qs: models.QuerySet,
    config: ObjectList,
    request: Any,
    pol: permissions.Policy,
    defs: dict[str, CustomFieldDefinition],
    labels: dict[str, str] | None = None,
) -> tuple[models.QuerySet, dict[str, str], list[str]]:
    """Filter by the query string; returns (queryset, active filters, error messages). Display names of
    active values that cost a lookup (a team's name) are put into `labels`."""
    labels = {} if labels is None else labels
    params = request.GET
    active: dict[str, str] = {}
    errors: list[str] = []
    known = {f.name: f for f in config.filters}
    for key in params:
        value = params.get(key, "").strip()
        if key in RESERVED or not value:
            continue
        name = key.removesuffix("__from").removesuffix("__to")
        ranged = name != key
        if (
            not pol.can_read(name)
            or (name not in known and name not in defs)
            or (ranged and not _is_range(known.get(name), defs.get(name)))
        ):
            errors.append(_("Cannot filter on “%(name)s”.") % {"name": key})
            continue
        try:
            if name in defs and ranged:
                qs = qs.filter(customfields.range_q(defs[name], value, upper=key.endswith("__to")))
            elif name in defs:
                qs = qs.filter(customfields.filter_q(defs[name], value))
            else:
                flt = known[name]
                lookup = flt.lookup or name
                if flt.apply is not None:
                    qs = flt.apply(qs, value)
                elif flt.kind == "text":
                    qs = qs.filter(**{f"{lookup}__icontains": value})
                elif flt.kind == "user":
                    qs = qs.filter(**{f"{lookup}_id": request.user.pk if value == "me" else int(value)})
                elif flt.kind == "team":
                    ids, team_name = _team_subtree(value)
                    qs = qs.filter(**{f"{lookup}_id__in": ids})
                    labels[key] = team_name
                elif flt.kind == "tag":
                    qs = qs.filter(**{f"{lookup}": int(value)})
                elif flt.kind == "bool":
                    qs = qs.filter(**{lookup: value == "1"})
                elif flt.kind == "number":
                    num = forms.DecimalField().clean(value)
                    qs = qs.filter(**{f"{lookup}__{'gte' if key.endswith('__from') else 'lte'}": num})
                elif flt.kind == "date":
                    # whole days in the user's time zone, as a range the column's index can serve
                    day = forms.DateField().clean(value)
                    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
                    if key.endswith("__from"):
                        qs = qs.filter(**{f"{lookup}__gte": start})
                    else:
                        qs = qs.filter(**{f"{lookup}__lt": start + datetime.timedelta(days=1)})
                else:
                    qs = qs.filter(**{lookup: value})
            active[key] = value
        except (ValueError, ValidationError) as exc:
            msg = exc.messages[0] if isinstance(exc, ValidationError) else _("Invalid value.")
            # a filter that is no model field ("reached stage") is named by its own label
            label = str(known[name].label) if name in known else field_label(qs.model, name, defs)
            errors.append(f"{label}: {msg}")
    return qs, active, errors


def _is_range(flt: Filter | None, defn: CustomFieldDefinition | None) -> bool:
    """Whether a filter takes `__from` / `__to` bounds."""
    if defn is not None:
        return defn.type in customfields.RANGE_TYPES
    return flt is not None and flt.apply is None and flt.kind in ("date", "number")


def sortable_names(config: ObjectList, pol: permissions.Policy, defs: dict[str, CustomFieldDefinition]) -> set[str]:
    """What the list may be sorted on: the declared sorts and every column that is a field of the record
    itself (not a many-to-many list), plus the custom fields — those the user may read."""
    model = config.ot.model
    names = set(config.sorts)
    for name in config.available:
        if name.startswith("cf_"):
            continue
        f = model._meta.get_field(name)
        if getattr(f, "concrete", False) and not f.many_to_many:
            names.add(name)
    return {n for n in names if pol.can_read(n)} | {k for k in defs if pol.can_read(k)}


SORT_KEY = "sort_key"


def sort_expression(model: type[models.Model], name: str, defs: dict[str, CustomFieldDefinition]) -> Any:
    """The value a sort on `name` compares, when it is not the column itself: a custom field typed by its
    definition, or a related record by what the list shows of it (a user's name, a stage's place in its
    pipeline, a customer's name). None: sort on the column."""
    if name in defs:
        return customfields.order_expression(defs[name])
    by_name = collation.sort_expression(model, name)  # names in pinyin order, a link by its record's name
    if by_name is not None:
        return by_name
    f: Any = model._meta.get_field(name)
    if not (f.many_to_one or f.one_to_one):
        return None
    related = f.related_model
    fields = {x.name for x in related._meta.get_fields()}
    if "order" in fields:
        return F(f"{name}__order")
    for label in ("name", "title", "number"):
        if label in fields:
            return F(f"{name}__{label}")
    return None


def sort_options(
    columns: list[Column], sort: str, model: type[models.Model], defs: dict[str, CustomFieldDefinition]
) -> list[tuple[str, str, bool]]:
    """(value, label, selected) for the sort menu: both directions of each sortable column shown, and the
    current sort even when its column is not shown, so the menu always names the order the rows are in."""
    names = [c.name for c in columns if c.sortable]
    key = sort.lstrip("-")
    for extra in (key, "updated_at"):
        if extra not in names:
            names.append(extra)
    out = []
    for name in names:
        label = field_label(model, name, defs)
        out.append((f"-{name}", f"{label} ↓", sort == f"-{name}"))
        out.append((name, f"{label} ↑", sort == name))
    return out


@dataclass
class ListQuery:
    """What a list request asks for, read through the gate: the filtered, searched and ordered queryset, the
    columns, and what the page shows about it (active filters, messages). The page and its export share it,
    so an export holds exactly the rows and columns the user was looking at."""

    qs: models.QuerySet
    ordering: list[str]
    keep: Callable[[list], list] | None
    names: list[str]
    sort: str
    query: str
    active: dict[str, str]
    errors: list[str]  # everything the page tells about the request, including `invalid`
    invalid: list[str]  # parameters that were ignored (an unknown filter or sort, a bad value)
    chip_labels: dict[str, str]
    sortable: set[str]
    allowed: list[str]
    pol: permissions.Policy
    defs: dict[str, CustomFieldDefinition]


def as_request(user: Any, query: str) -> Any:
    """What `build_query` reads of a request — the list's query string and the user — for work done outside
    one (an export or a bulk change run by a worker)."""
    return SimpleNamespace(GET=QueryDict(query), user=user)


def build_query(request: Any, config: ObjectList, all_columns: bool = False) -> ListQuery:
    """Read `request.GET` (filters, q, sort, cols) for `request.user`; bad parameters become messages.
    `all_columns`: every field the user may read instead of the chosen columns (an export of everything)."""
    ot = config.ot
    model = ot.model
    pol = permissions.policy(request.user, ot.key)
    defs = {d.field_key: d for d in customfields.definitions(ot.key)}
    qs = permissions.visible(model, request.user)
    chip_labels: dict[str, str] = {}
    qs, active, errors = apply_filters(qs, config, request, pol, defs, chip_labels)
    # columns: requested ones the user may read, else the defaults
    allowed = [c for c in [*config.available, *defs] if pol.can_read(c)]
    requested = [c for c in request.GET.get("cols", "").split(",") if c in allowed]
    names = allowed if all_columns else requested or [c for c in config.columns if pol.can_read(c)]
    sortable = sortable_names(config, pol, defs)
    sort = request.GET.get("sort", config.default_sort)
    if sort.lstrip("-") not in sortable:
        if "sort" in request.GET:
            errors.append(_("Cannot sort on “%(name)s”.") % {"name": sort.lstrip("-")})
        sort = config.default_sort
    invalid = list(errors)
    query = request.GET.get("q", "").strip()
    keep = None
    if query:
        try:
            qs, keep = search_mod.restrict(qs, request.user, query, sort)
        except search_mod.TooManyToSort as exc:
            errors.append(exc.messages[0])
            sort = config.default_sort  # by last change, along which the matches are spread: every one is shown
            qs, keep = search_mod.restrict(qs, request.user, query, sort)
    key = sort.lstrip("-")
    expression = sort_expression(model, key, defs)
    if expression is not None:
        qs = qs.annotate(**{SORT_KEY: expression})
        ordering = [("-" if sort.startswith("-") else "") + SORT_KEY]
    else:
        ordering = [sort]
    # every relation shown as a column is read with the page, never once per row
    fks, m2m = _relations(model, names)
    qs = qs.select_related(*config.select_related, *fks).prefetch_related(*config.prefetch_related, *m2m)
    return ListQuery(
        qs, ordering, keep, names, sort, query, active, errors, invalid, chip_labels, sortable, allowed, pol, defs
    )


def render_list(
    request: Any, config: ObjectList, template: str = "core/list.html", extra: dict[str, Any] | None = None
) -> HttpResponse:
    ot = config.ot
    model = ot.model
    params = request.GET.copy()
    saved = None
    if params.get("view", "").isdigit():
        saved = SavedView.objects.filter(user=request.user, object_type=ot.key, pk=params.get("view")).first()
    if request.GET.get("partial") in PARTIALS:
        pol = permissions.policy(request.user, ot.key)
        return _render_partial(request, config, pol, {d.field_key: d for d in customfields.definitions(ot.key)})
    lq = build_query(request, config)
    qs, names, sort, query, errors, active, defs, sortable, pol = (
        lq.qs,
        lq.names,
        lq.sort,
        lq.query,
        lq.errors,
        lq.active,
        lq.defs,
        lq.sortable,
        lq.pol,
    )
    try:
        page = paginate(qs, lq.ordering, request.GET.get("cursor"), config.page_size, lq.keep)
    except ValidationError as exc:
        errors.append(exc.messages[0])
        page = paginate(qs, lq.ordering, None, config.page_size, lq.keep)
    columns = [Column(n, field_label(model, n, defs), n in sortable, defs.get(n)) for n in names]
    _active_options, picklist_labels = _picklists()
    base = {k: v for k, v in request.GET.items() if k not in ("cursor", "partial", "view", "job")}
    next_url = "?" + urlencode({**base, "cursor": page.next_cursor}) if page.next_cursor else ""
    context = {
        "config": config,
        "ot": ot,
        "objects": page.items,
        "columns": columns,
        "next_url": next_url,
        "next_cursor": page.next_cursor or "",
        "sort": sort,
        "query": query,
        "active": active,
        "errors": errors,
        "chips": _chips(request, config, defs, active, lq.chip_labels, picklist_labels, base),
        "available_columns": [(c, field_label(model, c, defs), c in names) for c in lq.allowed],
        "saved_view": saved,
        "current_query": urlencode(base),
        "sort_links": {c.name: _sort_link(base, c.name, sort) for c in columns if c.sortable},
        "sort_options": sort_options(columns, sort, model, defs),
        "can_add": pol.can("add"),
        "can_export": pol.can("export"),
        "bulk": [a for a in config.bulk_actions if pol.can("assign" if a == "assign" else "change")],
        "policy": pol,
        "kehu_picklist_labels": picklist_labels,
        # a background job this page started (a bulk change of every matching record): its progress card
        "started_job": _started_job(request),
    }
    if extra:
        context.update(extra)
    return render(request, template, context)


def _started_job(request: Any) -> Any:
    raw = request.GET.get("job", "")
    if not raw.isdigit() or len(raw) > 18:
        return None
    return jobs.visible(request.user).filter(pk=int(raw)).first()


PARTIALS = ("filters", "views", "owners")


def _render_partial(
    request: Any, config: ObjectList, pol: permissions.Policy, defs: dict[str, CustomFieldDefinition]
) -> HttpResponse:
    """Parts of the list page loaded when first opened (filter panel, saved views, bulk owner choices), so
    the page itself costs a fixed, small number of queries."""
    from kehu.core.queries import user_choices

    part = request.GET["partial"]
    if part == "owners":
        return render(request, "core/_user_options.html", {"users": user_choices()})
    if part == "views":
        views = SavedView.objects.filter(user=request.user, object_type=config.object_type)
        return render(request, "core/_list_views.html", {"saved_views": views, "ot": config.ot})
    active = {k: v for k, v in request.GET.items() if k not in RESERVED and v}
    picklists, _labels = _picklists()
    users = user_choices()
    return render(
        request,
        "core/_list_filters.html",
        {
            "filters": [
                {
                    "f": f,
                    "options": _options(f, request, picklists, users),
                    "value": active.get(f.name, ""),
                    "date_from": active.get(f"{f.name}__from", ""),
                    "date_to": active.get(f"{f.name}__to", ""),
                }
                for f in config.filters
                if pol.can_read(f.name)
            ],
            "cf_filters": [
                {
                    "d": d,
                    "range": d.type in customfields.RANGE_TYPES,
                    "value": active.get(k, ""),
                    "date_from": active.get(f"{k}__from", ""),
                    "date_to": active.get(f"{k}__to", ""),
                }
                for k, d in defs.items()
                if pol.can_read(k)
            ],
            "active": active,
            "keep": {k: v for k, v in request.GET.items() if k in ("q", "sort", "cols")},
        },
    )


def _chips(
    request: Any,
    config: ObjectList,
    defs: dict[str, CustomFieldDefinition],
    active: dict[str, str],
    labels: dict[str, str],
    picklist_labels: dict[tuple[str, str], str],
    base: dict[str, Any],
) -> list[dict[str, str]]:
    """One removable chip per active filter, labelled without extra queries where possible."""
    known = {f.name: f for f in config.filters}
    out = []
    for key, value in active.items():
        name = key.removesuffix("__from").removesuffix("__to")
        flt = known.get(name)
        label = field_label(config.ot.model, name, defs) if flt is None else str(flt.label)
        shown = labels.get(key, value)
        if flt is not None:
            if flt.choices is not None:
                shown = str({str(k): v for k, v in _choices(flt)}.get(value, value))
            elif flt.picklist:
                shown = picklist_labels.get((flt.picklist, value), value)
            elif flt.kind == "user" and value == "me":
                shown = _("Me")
            elif flt.kind == "user":
                from django.contrib.auth import get_user_model

                shown = str(get_user_model().objects.filter(pk=value).first() or value)
            elif flt.kind == "bool":
                shown = _("Yes") if value == "1" else _("No")
            if key.endswith("__from"):
                label = f"{label} ≥"
            elif key.endswith("__to"):
                label = f"{label} ≤"
        elif name in defs:
            d = defs[name]
            shown = d.choice_label(value) if d.choices else value
            if key.endswith("__from"):
                label = f"{label} ≥"
            elif key.endswith("__to"):
                label = f"{label} ≤"
        rest = {k: v for k, v in base.items() if k != key}
        out.append({"label": label, "value": shown, "remove": "?" + urlencode(rest)})
    return out


def _relations(model: type[models.Model], names: list[str]) -> tuple[list[str], list[str]]:
    fks: list[str] = []
    m2m: list[str] = []
    for name in names:
        if name.startswith("cf_"):
            continue
        f = model._meta.get_field(name)
        if f.many_to_many:
            m2m.append(name)
        elif f.many_to_one or f.one_to_one:
            fks.append(name)
    return fks, m2m


def _sort_link(base: dict[str, Any], name: str, current: str) -> str:
    new = name if current == f"-{name}" else f"-{name}"
    return "?" + urlencode({**base, "sort": new})
