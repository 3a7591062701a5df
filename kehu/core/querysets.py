from __future__ import annotations

from typing import Any

from django.db import models


class GatedQuerySet(models.QuerySet):
    def visible_to(self, user: Any, action: str = "view") -> models.QuerySet:
        from kehu.core.permissions import visible

        return visible(self, user, action)
