"""Shared steps of every domain service: gate checks, validation, version check, event, search entry.

Domain services (customers/services.py, sales/services.py …) call these inside their own transaction so
one business operation stays one transaction and one set of events.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import F
from django.utils.translation import gettext as _

from kehu.core import customfields, events, permissions, registry, search


class StaleEdit(ValidationError):
    """The record changed since the editor loaded it; nothing was saved."""

    def __init__(self) -> None:
        super().__init__(
            {
                "__all__": [
                    _(
                        "Someone else saved this record after you opened it. Reload to see their change, "
                        "then make yours again."
                    )
                ]
            },
        )


def require(actor: Any, obj_type: Any, action: str, obj: models.Model | None = None) -> permissions.Policy:
    """The actor's policy if they may do `action` (on `obj`); PermissionDenied otherwise."""
    pol = permissions.policy(actor, obj_type)
    if not permissions.can(actor, obj_type, action, obj):
        raise PermissionDenied(_("You do not have permission to do this."))
    return pol


def _check_writable(pol: permissions.Policy, names: list[str]) -> None:
    denied = [n for n in names if not pol.can_write(n)]
    if denied:
        raise ValidationError({n: [_("You may not change this field.")] for n in denied})


def tracked_fields(obj: models.Model) -> list[str]:
    ot = registry.get(obj)
    names = list(ot.fields)
    if ot.custom_fields:
        names += [d.field_key for d in customfields.definitions(ot.key)]
    return names


def _has_value(obj: models.Model, name: str) -> bool:
    try:
        f = obj._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a reverse relation such as a contact's channels, written separately
        return False
    if f.many_to_many or not f.concrete:
        return False
    return getattr(obj, f.attname) not in (None, "", [], f.get_default())


def create(
    *,
    actor: Any,
    obj: models.Model,
    custom: dict[str, Any] | None = None,
    parent: models.Model | None = None,
    m2m: dict[str, list[Any]] | None = None,
    exclude_validation: list[str] | None = None,
) -> models.Model:
    ot = registry.get(obj)
    pol = require(actor, ot.key, "add")
    given = [n for n in ot.fields if _has_value(obj, n)] + [k for k, v in (m2m or {}).items() if v]
    _check_writable(pol, [n for n in given if n not in ("owner", "team")] + [f"cf_{k}" for k in (custom or {})])
    if ot.custom_fields:
        obj.custom = customfields.clean(ot.key, custom or {})  # type: ignore[attr-defined]
    obj.full_clean(exclude=exclude_validation)
    obj.save()
    for name, values in (m2m or {}).items():
        getattr(obj, name).set(values)
    snap = events.snapshot(obj, tracked_fields(obj))
    events.record(
        actor=actor,
        obj=obj,
        verb="created",
        parent=parent,
        changes={k: [None, v] for k, v in snap.items() if v not in (None, "", [], {})},
    )
    if ot.search_fields:
        search.index(obj)
    return obj


def update(
    *,
    actor: Any,
    obj: models.Model,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    expected_version: int | None = None,
    parent: models.Model | None = None,
    m2m: dict[str, list[Any]] | None = None,
    verb: str = "updated",
    action: str = "change",
    data: dict[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """Apply `values` (field → new value) and custom values; returns the changes written to the event."""
    ot = registry.get(obj)
    pol = require(actor, ot.key, action, obj)
    current = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    if expected_version is not None and getattr(current, "version", expected_version) != expected_version:
        raise StaleEdit()
    names = tracked_fields(obj)
    before = events.snapshot(current, names)
    for name, value in values.items():
        setattr(obj, name, value)
    if custom is not None and ot.custom_fields:
        obj.custom = customfields.clean(ot.key, custom, current=current.custom, partial=True)  # type: ignore[attr-defined]
    for name, vals in (m2m or {}).items():
        getattr(obj, name).set(vals)
    after = events.snapshot(obj, names)
    changes = events.diff(before, after)
    _check_writable(pol, [n for n in changes if n not in ("owner", "team") or action != "assign"])
    if not changes:
        return {}
    obj.full_clean()
    if hasattr(obj, "version"):
        obj.version = current.version + 1  # type: ignore[attr-defined]
    obj.save()
    events.record(actor=actor, obj=obj, verb=verb, changes=changes, parent=parent, data=data)
    if ot.search_fields:
        search.index(obj)
    return changes


def delete(*, actor: Any, obj: models.Model, parent: models.Model | None = None) -> None:
    ot = registry.get(obj)
    require(actor, ot.key, "delete", obj)
    events.record(
        actor=actor,
        obj=obj,
        verb="deleted",
        parent=parent,
        changes={k: [v, None] for k, v in events.snapshot(obj, tracked_fields(obj)).items() if v},
    )
    if ot.search_fields:
        search.unindex(obj)
    obj.delete()


def bump(model: type[models.Model], pk: Any) -> None:
    model._default_manager.filter(pk=pk).update(version=F("version") + 1)
