"""The event log: one typed row per change, written in the same transaction as the change.

Services call `record()`; it refuses to run outside a transaction so an event can never be lost to a
rollback or written for a change that did not happen. Side effects go through `after_commit()`. Other
systems read the log in order by cursor through `feed()`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, models, transaction
from django.db.models import Min, Q, Value
from django.db.models.functions import Coalesce

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


# --------------------------------------------------------------------------- the change feed
#
# Ids are handed out when a row is inserted, not when its transaction commits: on PostgreSQL a transaction may
# write event 10, stay open, and commit after another has committed event 11. A reader that had moved past 11
# would never see 10. So on PostgreSQL every event carries its transaction's id (`txid`, filled in by the
# database) and the feed (1) returns only events of transactions older than every transaction still running
# (the snapshot's xmin: all of those have ended, so no older event can still appear) and (2) orders them by
# (txid, id), the order in which the feed's horizon uncovers them. A reader's position is that pair. Rows written
# before the column existed have no txid and count as 0. SQLite serialises writers, so there ids are in commit
# order and the feed simply follows them.

MAX_ID = 2**63 - 1
HORIZON_SQL = (
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, pg_current_xact_id_if_assigned()::text::bigint"
)


@dataclass(frozen=True)
class Position:
    """Where a feed reader is: after the event `id` of transaction `txid` (0 on SQLite and for older events)."""

    txid: int
    id: int

    def cursor(self) -> str:
        """The opaque text a client sends back as `after`."""
        return base64.urlsafe_b64encode(f"{self.txid}.{self.id}".encode()).decode().rstrip("=")


def position_of(event: Event) -> Position:
    txid = event.txid if isinstance(event.txid, int) else 0
    return Position(txid, event.pk)


def parse_cursor(raw: str) -> Position | int:
    """A cursor from `Position.cursor()`, or a plain event id (the cursor of clients written before positions
    existed). ValueError if it is neither."""
    raw = raw.strip()
    if raw.isdigit():
        n = int(raw)
        if n > MAX_ID:
            raise ValueError(raw)
        return n
    try:
        text = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(raw) from exc
    txid, sep, pk = text.partition(".")
    if not (sep and txid.isdigit() and pk.isdigit()) or int(txid) > MAX_ID or int(pk) > MAX_ID:
        raise ValueError(raw)
    return Position(int(txid), int(pk))


def feed(qs: models.QuerySet, after: Position | int | None, size: int) -> tuple[list[Event], bool]:
    """Up to `size` events of `qs` after the position `after` (None: from the start), and whether more follow.

    On PostgreSQL only events whose transaction is older than the oldest one still running are returned (and
    those of the reader's own transaction), in (txid, id) order: an event that commits later always sorts after
    every position handed out before, so a reader following cursors never skips one. A plain id `after` gives
    the events after that id; the cursors handed out from there on are positions."""
    conn = connections[qs.db]
    if conn.vendor != "postgresql":
        start = after.id if isinstance(after, Position) else (after or 0)
        rows = list(qs.filter(id__gt=start).order_by("id")[: size + 1])
        return rows[:size], len(rows) > size
    with conn.cursor() as cursor:
        cursor.execute(HORIZON_SQL)
        xmin, own = cursor.fetchone()
    qs = qs.alias(feed_key=Coalesce("txid", Value(0)))
    settled = Q(feed_key__lt=xmin)
    if own is not None:  # the reader's own uncommitted events (its tests, a script inside one transaction)
        settled |= Q(txid=own)
    qs = qs.filter(settled)
    if isinstance(after, int) and after > 0:
        # an id from a client that predates positions: the events after that id, in feed order (the lower bound
        # on the transaction only lets the index start there); the next page goes on from a position
        first = qs.filter(id__gt=after).aggregate(t=Min(Coalesce("txid", Value(0))))["t"]
        qs = qs.filter(id__gt=after, feed_key__gte=first if first is not None else xmin)
    elif isinstance(after, Position):
        qs = qs.filter(
            Q(feed_key__gte=after.txid) & (Q(feed_key__gt=after.txid) | Q(feed_key=after.txid, id__gt=after.id))
        )
    rows = list(qs.order_by("feed_key", "id")[: size + 1])
    return rows[:size], len(rows) > size
