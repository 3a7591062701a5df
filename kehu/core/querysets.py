from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models


class GatedQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: str = "view") -> models.QuerySet:
        from kehu.core.permissions import visible

        return visible(self, user, action)

    # Bulk writes skip save(): the name key of a name-sorted record (kehu.core.collation) is set here instead.

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        if hasattr(self.model, "SORT_SOURCES"):
            from kehu.core import collation

            collation.fill(objs)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[Any], fields: Iterable[str], *args: Any, **kwargs: Any) -> int:
        fields = list(fields)
        sources = set(getattr(self.model, "SORT_SOURCES", ()))
        linked: dict[str, str] = getattr(self.model, "LINKED_SORTS", {})
        if sources & set(fields) or linked.keys() & set(fields):
            from kehu.core import collation

            objs = list(objs)
            collation.fill(objs, links=fields)
            fields += ["name_sort"] if sources & set(fields) else []
            fields += [column for fk, column in linked.items() if fk in fields]
            count = super().bulk_update(objs, fields, *args, **kwargs)
            if sources & set(fields):
                for obj in objs:  # renamed in bulk: the records linking to them follow
                    collation.propagate(obj)
            return count
        return super().bulk_update(objs, fields, *args, **kwargs)
