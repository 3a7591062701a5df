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
        sources = getattr(self.model, "SORT_SOURCES", ())
        if set(fields) & set(sources):
            from kehu.core import collation

            objs = list(objs)
            collation.fill(objs)
            fields = [*fields, "name_sort"]
        return super().bulk_update(objs, fields, *args, **kwargs)
