"""The event log: one typed row per change, written in the same transaction as the change.

Services call `record()`; it refuses to run outside a transaction so an event can never be lost to a
rollback or written for a change that did not happen. Side effects go through `after_commit()`.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from kehu.core.models import Event


def serialise(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [serialise(v) for v in value]
    if isinstance(value, dict):
        return {k: serialise(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Serialisable values of the named fields; custom fields are read from `custom` as cf_<name>."""
    out: dict[str, Any] = {}
    custom = getattr(obj, "custom", None) or {}
    for name in fields:
        if name.startswith("cf_"):
            out[name] = serialise(custom.get(name[3:]))
            continue
        f: Any = obj._meta.get_field(name)
        if f.auto_created and not f.concrete:
            continue  # a reverse relation (a contact's channels): its service records it separately
        if f.many_to_many:
            out[name] = sorted(obj.pk and getattr(obj, name).values_list("pk", flat=True) or [])
        elif f.is_relation:
            out[name] = getattr(obj, f.attname)
        else:
            out[name] = serialise(getattr(obj, name))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def record(
    *,
    actor: Any,
    obj: models.Model,
    verb: str,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    parent: models.Model | None = None,
) -> Event:
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("events.record() must run inside the transaction that makes the change")
    return Event.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        content_type=ContentType.objects.get_for_model(obj._meta.model),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        parent_type=ContentType.objects.get_for_model(parent._meta.model) if parent is not None else None,
        parent_id=parent.pk if parent is not None else None,
        verb=verb,
        changes=changes or {},
        data=serialise(data or {}),
    )


def after_commit(fn: Callable[[], Any]) -> None:
    """Run a side effect (mail, webhook, cache purge) only once the change is committed."""
    transaction.on_commit(fn)
