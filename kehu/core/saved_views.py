"""Writes to a user's saved list views (their own preference, so no event and no gate beyond ownership)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core.models import SavedView


@transaction.atomic
def save(*, user: Any, object_type: str, name: str, query: str) -> SavedView:
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the view a name.")]})
    if len(name) > 80:
        raise ValidationError({"name": [_("Enter at most %(n)d characters.") % {"n": 80}]})
    clean = urlencode([(k, v) for k, v in parse_qsl(query)[:50] if k not in ("cursor", "view", "partial")])[:2000]
    view, _created = SavedView.objects.update_or_create(
        user=user, object_type=object_type, name=name, defaults={"query": clean}
    )
    return view


@transaction.atomic
def delete(*, user: Any, view: SavedView) -> None:
    if view.user_id != user.pk:
        raise ValidationError({"__all__": [_("This view belongs to someone else.")]})
    view.delete()
