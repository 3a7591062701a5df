"""Keyset (cursor) pagination shared by the web lists and the API: no OFFSET, no COUNT(*).

A page is read with `WHERE (sort, id) beyond the last row's (sort, id) ORDER BY sort, id LIMIT n+1`; the
cursor is the last row's sort values, signed so a client cannot forge one that breaks the query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
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


def paginate(qs: models.QuerySet, ordering: list[str], cursor: str | None, size: int) -> Page:
    spec = order_spec(ordering)
    names = [n for n, _desc in spec]
    if cursor:
        values = _decode(cursor, qs, names)
        # (a < x) OR (a = x AND id < y), plus the redundant bound a <= x that lets the index range scan start
        # at the cursor instead of reading and discarding every earlier row
        first, first_desc = spec[0]
        bound = Q(**{f"{first}__{'lte' if first_desc else 'gte'}": values[0]})
        cond = Q()
        for i, (name, desc) in enumerate(spec):
            step = Q(**{f"{name}__{'lt' if desc else 'gt'}": values[i]})
            for prev_name, _d in spec[:i]:
                step &= Q(**{prev_name: values[spec.index((prev_name, _d))]})
            cond |= step
        qs = qs.filter(bound & cond)
    qs = qs.order_by(*[("-" if desc else "") + name for name, desc in spec])
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _encode([_value(rows[-1], n) for n in names]) if more and rows else None
    return Page(rows, next_cursor)
