"""Keyset (cursor) pagination shared by the web lists and the API: no OFFSET, no COUNT(*).

A page is read with `WHERE (sort, id) beyond the last row's (sort, id) ORDER BY sort, id LIMIT n+1`; the
cursor is the last row's sort values, signed so a client cannot forge one that breaks the query.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import Col
from django.utils.translation import gettext as _

SALT = "kehu.keyset"


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def _value(obj: Any, name: str) -> Any:
    v = getattr(obj, name)
    if isinstance(v, models.Model):
        v = v.pk
    return v


def _encode(values: list[Any]) -> str:
    plain = [
        v.isoformat() if hasattr(v, "isoformat") else (str(v) if not isinstance(v, int | str | None) else v)
        for v in values
    ]
    return signing.dumps(plain, salt=SALT, compress=True)


def _decode(cursor: str, qs: models.QuerySet, names: list[str]) -> list[Any]:
    try:
        raw = signing.loads(cursor, salt=SALT)
    except (signing.BadSignature, json.JSONDecodeError, ValueError) as exc:
        raise ValidationError({"cursor": [_("This page link is invalid or has expired.")]}) from exc
    if not isinstance(raw, list) or len(raw) != len(names):
        raise ValidationError({"cursor": [_("This page link is invalid or has expired.")]})
    out = []
    for name, v in zip(names, raw, strict=True):
        try:
            field = qs.model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - an annotation (custom field sort key) keeps its text value
            out.append(v)
            continue
        out.append(None if v is None else field.to_python(v))
    return out


def order_spec(ordering: list[str]) -> list[tuple[str, bool]]:
    """["-updated_at"] → [("updated_at", True), ("id", True)]: the id breaks ties in the first direction."""
    spec = [(o.lstrip("-"), o.startswith("-")) for o in ordering if o.lstrip("-") != "id"]
    by_id = [o for o in ordering if o.lstrip("-") == "id"]
    spec.append(("id", spec[0][1] if spec else (by_id[0].startswith("-") if by_id else True)))
    return spec


MAX_READS = 20  # reads of one page when rows are dropped after reading (search hits found through a hidden field)


def _beyond(name: str, desc: bool, value: Any, nullable: bool) -> Q:
    """Rows strictly after `value` in one key. A nullable key puts its NULLs (records without a value) last in
    both directions, on SQLite and PostgreSQL alike: nothing comes after them but other NULLs."""
    after = Q(**{f"{name}__{'lt' if desc else 'gt'}": value}) if value is not None else Q(pk__in=[])
    return after | Q(**{f"{name}__isnull": True}) if nullable and value is not None else after


def _after(qs: models.QuerySet, spec: list[tuple[str, bool]], values: list[Any], nullable: set[str]) -> models.QuerySet:
    """The rows beyond the position `values` in the order `spec`."""
    # (a < x) OR (a = x AND id < y), plus the redundant bound a <= x that lets the index range scan start
    # at the cursor instead of reading and discarding every earlier row
    first, first_desc = spec[0]
    bound = Q()
    if first not in nullable:
        bound = Q(**{f"{first}__{'lte' if first_desc else 'gte'}": values[0]})
    cond = Q()
    for i, (name, desc) in enumerate(spec):
        step = _beyond(name, desc, values[i], name in nullable)
        for j, (prev_name, _d) in enumerate(spec[:i]):
            step &= Q(**{f"{prev_name}__isnull": True}) if values[j] is None else Q(**{prev_name: values[j]})
        cond |= step
    return qs.filter(bound & cond)


def _nullable(qs: models.QuerySet, name: str) -> bool:
    if name in qs.query.annotations:
        # a column of the record itself standing in for a sort (a name key) is as nullable as that column,
        # so "DESC NULLS LAST" is not asked of a NOT NULL column and the index serves both directions
        ann = qs.query.annotations[name]
        if isinstance(ann, Col) and ann.alias == qs.query.base_table:
            return bool(ann.target.null)
        return True
    try:
        return bool(qs.model._meta.get_field(name).null)
    except Exception:  # noqa: BLE001 - not a field: treat as nullable, which is always correct
        return True


def paginate(
    qs: models.QuerySet,
    ordering: list[str],
    cursor: str | None,
    size: int,
    keep: Callable[[list[Any]], list[Any]] | None = None,
) -> Page:
    """One page of `qs` in `ordering` after `cursor`. `keep`, if given, drops rows after they are read (a check
    the database cannot make); the page is then read on until it is full, for at most MAX_READS reads, and a
    short page still links to the rest."""
    spec = order_spec(ordering)
    names = [n for n, _desc in spec]
    values = _decode(cursor, qs, names) if cursor else None
    nullable = {n for n in names if n != "id" and _nullable(qs, n)}
    qs = qs.order_by(
        *[
            (F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True))
            if name in nullable
            else ("-" if desc else "") + name
            for name, desc in spec
        ]
    )
    items: list[Any] = []
    for _read in range(MAX_READS if keep is not None else 1):
        rows = list((qs if values is None else _after(qs, spec, values, nullable))[: size + 1])
        more = len(rows) > size
        if keep is None:
            items = rows
            break
        rows = rows[:size]
        items += keep(rows)
        if len(items) > size or not more:
            break
        values = [_value(rows[-1], n) for n in names]
    else:  # still short after MAX_READS reads: link on from the last row read
        return Page(items, _encode(values) if values is not None else None)
    more = len(items) > size
    items = items[:size]
    next_cursor = _encode([_value(items[-1], n) for n in names]) if more and items else None
    return Page(items, next_cursor)
