"""How names sort: the way a reader of Chinese expects a list, by pinyin among the Latin names — "Acme",
"杭州未来科技" (hangzhou…), "Nanjing Port", "宁波海港" (ningbo…), "苏州新材料" (suzhou…) — with case, width
and punctuation ignored.

A sorted record keeps the key beside its name (`NameSortedModel.name_sort`, indexed with the id) so a list
sorted by name reads an index, and PostgreSQL and SQLite order it alike: the key is plain text compared
character by character (Kehu's PostgreSQL databases use the C collation, SQLite compares bytes).

The big lists are also sorted by a linked record's name (a contact's customer, every record's owner). A sort
through the link would join and sort every row, since the link may be empty; so such a record keeps a copy
of the linked key (`LINKED_SORTS`: link → column, indexed with the id), written with it, and rewritten
for every linking record when the linked one is renamed (`propagate`). An empty link copies "" and sorts
first."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import Any

from django.db import connection, models
from django.db.models import F

SORT_KEY_LENGTH = 200
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@lru_cache(maxsize=65536)  # names repeat (张伟, 王芳): contacts reuse the key of the ones before them
def sort_key(text: str) -> str:
    from pypinyin import lazy_pinyin

    text = unicodedata.normalize("NFKC", text or "").casefold()
    # Whole runs, so a phrase's reading is chosen in context (重庆 chongqing, not zhongqing).
    text = CJK_RUN.sub(lambda m: "".join(lazy_pinyin(m.group(0))), text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")[:SORT_KEY_LENGTH]


def sort_source(obj: Any, sources: Sequence[str]) -> str:
    """The first non-empty of `sources` on `obj`: the text its key is made of."""
    return next((v for v in (getattr(obj, s, "") for s in sources) if v), "")


def fill(objs: Iterable[Any], links: Iterable[str] | None = None) -> None:
    """Set `name_sort` on records about to be written, and the copied keys of their `links` (all of the
    model's `LINKED_SORTS` when None): one query per link for the linked records not already loaded."""
    objs = list(objs)
    for obj in objs:
        obj.name_sort = sort_key(sort_source(obj, obj.SORT_SOURCES))
    if not objs:
        return
    model = type(objs[0])
    linked: dict[str, str] = getattr(model, "LINKED_SORTS", {})
    for fk in linked if links is None else [x for x in links if x in linked]:
        field: Any = model._meta.get_field(fk)
        loaded: dict[Any, str] = {}
        for obj in objs:
            related = field.get_cached_value(obj, None) if field.is_cached(obj) else None
            if related is not None and related.pk is not None:
                # a record built in memory (not read) may lack its key: made from its name, else read below
                key = related.name_sort or sort_key(sort_source(related, related.SORT_SOURCES))
                if key:
                    loaded[related.pk] = key
        wanted = {getattr(o, field.attname) for o in objs} - {None} - set(loaded)
        if wanted:
            loaded.update(field.related_model._base_manager.filter(pk__in=wanted).values_list("pk", "name_sort"))
        for obj in objs:
            setattr(obj, linked[fk], loaded.get(getattr(obj, field.attname), ""))


@cache
def linkers(label: str) -> tuple[tuple[type[models.Model], str, str], ...]:
    """(model, link, column) of every record that keeps a copy of the key of the model `label` names."""
    from django.apps import apps

    out = []
    for other in apps.get_models():
        for fk, column in getattr(other, "LINKED_SORTS", {}).items():
            target: Any = other._meta.get_field(fk).related_model
            if target._meta.label == label:
                out.append((other, fk, column))
    return tuple(out)


def propagate(obj: Any) -> None:
    """`obj`'s key changed (a customer or a user renamed): the records linking to it take the new copy."""
    for other, fk, column in linkers(obj._meta.label):
        other._base_manager.filter(**{fk: obj.pk}).update(**{column: obj.name_sort})


def key_field(verbose_name: Any) -> models.CharField:
    """The column a copied key lives in (`LINKED_SORTS`)."""
    return models.CharField(verbose_name, max_length=SORT_KEY_LENGTH, default="", editable=False)


def sort_expression(model: type[models.Model], name: str) -> Any:
    """What sorting `model` on `name` compares when a name key stands in for it: its own `name_sort`
    for its name, the copy it keeps of a linked record's key (`LINKED_SORTS`: a contact's customer, an
    owner), else the linked record's own key through a join. None: nothing stands in."""
    sources = getattr(model, "SORT_SOURCES", ())
    if name in sources:
        return F("name_sort")
    copied = getattr(model, "LINKED_SORTS", {}).get(name)
    if copied:
        return F(copied)
    try:
        field: Any = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a custom field or an annotation: not ours to say
        return None
    if (field.many_to_one or field.one_to_one) and getattr(field.related_model, "SORT_SOURCES", ()):
        return F(f"{name}__name_sort")
    return None


def backfill(
    model: type[models.Model],
    sources: Sequence[str],
    links: dict[str, Sequence[str]] | None = None,
    batch_size: int = 5000,
) -> int:
    """Write the keys of every existing row: `name_sort` from `sources`, and each column of `links` from the
    linked record's sources through the link (`{"owner_sort": ("owner__display_name", "owner__username")}`).
    A migration's step (historical models lack the mixin's save). Keys are made in Python and each row is
    written once, in primary-key batches with one statement per row: an UPDATE with a CASE per batch (what
    `bulk_update` sends) compares every id with every other, and took two to three times as long (20,000
    customers: 4.0–6.0 s against 1.9 s, keys included)."""
    links = links or {}
    columns = ["name_sort", *links]
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(c)} = %s" for c in columns)
    # identifiers from the model's own metadata; every value is a parameter
    sql = f"UPDATE {qn(model._meta.db_table)} SET {assignments} WHERE {qn(str(model._meta.pk.column))} = %s"  # noqa: S608
    paths = [list(p) for p in links.values()]
    fields = [*sources, *(f for p in paths for f in p)]
    done, last = 0, 0
    manager = model._base_manager
    while True:
        rows = list(manager.filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:batch_size])
        if not rows:
            return done
        params = []
        for pk, *values in rows:
            keys = [sort_key(next((v for v in values[: len(sources)] if v), ""))]
            at = len(sources)
            for p in paths:
                keys.append(sort_key(next((v for v in values[at : at + len(p)] if v), "")))
                at += len(p)
            params.append([*keys, pk])
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
        done += len(rows)
        last = rows[-1][0]
