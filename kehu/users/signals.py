from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver

from kehu.core import events


@receiver(user_logged_in)
def log_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """G2: sign-ins are part of the audit log."""
    with transaction.atomic():
        events.record(actor=user, obj=user, verb="logged_in", data={"ip": request.META.get("REMOTE_ADDR", "")})
