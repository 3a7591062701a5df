"""How names sort: the way a reader of Chinese expects a list, by pinyin among the Latin names — "Acme",
"杭州未来科技" (hangzhou…), "Nanjing Port", "宁波海港" (ningbo…), "苏州新材料" (suzhou…) — with case, width
and punctuation ignored.

A sorted record keeps the key beside its name (`NameSortedModel.name_sort`, indexed with the id) so a list
sorted by name reads an index, and PostgreSQL and SQLite order it alike: the key is plain text compared
character by character (Kehu's PostgreSQL databases use the C collation, SQLite compares bytes)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.db import models
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


def fill(objs: Iterable[Any]) -> None:
    """Set `name_sort` on records about to be written in bulk (`bulk_create` calls it)."""
    for obj in objs:
        obj.name_sort = sort_key(sort_source(obj, obj.SORT_SOURCES))


def sort_expression(model: type[models.Model], name: str) -> Any:
    """What sorting `model` on `name` compares when a name key stands in for it: its own `name_sort`
    for its name, the related record's key for a link to a name-sorted record (a contact's customer, an
    owner). None: nothing stands in."""
    sources = getattr(model, "SORT_SOURCES", ())
    if name in sources:
        return F("name_sort")
    try:
        field: Any = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a custom field or an annotation: not ours to say
        return None
    if (field.many_to_one or field.one_to_one) and getattr(field.related_model, "SORT_SOURCES", ()):
        return F(f"{name}__name_sort")
    return None


def backfill(model: type[models.Model], sources: Sequence[str], batch_size: int = 2000) -> int:
    """Fill `name_sort` of every existing row (a migration's step; historical models lack the mixin's save).
    Reads and writes in primary-key batches, so a million rows never sit in memory at once."""
    done, last = 0, 0
    manager = model._base_manager
    while True:
        rows = list(manager.filter(pk__gt=last).order_by("pk").values_list("pk", *sources)[:batch_size])
        if not rows:
            return done
        objs = []
        for pk, *values in rows:
            obj = model(pk=pk)
            obj.name_sort = sort_key(next((v for v in values if v), ""))  # type: ignore[attr-defined]
            objs.append(obj)
        manager.bulk_update(objs, ["name_sort"], batch_size=batch_size)
        done += len(rows)
        last = rows[-1][0]
