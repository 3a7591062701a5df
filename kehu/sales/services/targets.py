"""Sales targets (quotas) per rep or team and month or quarter (S4): set, change and remove, each with
its event. Whose targets an actor may set is the data scope of their grant on `sales.target`: a rep's target
belongs to the rep and the rep's team, a team's target to the team (see the registration in sales)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core import services as core
from kehu.sales.models import Target


def _period_start(period: str, start: dt.date) -> dt.date:
    if period not in Target.Period.values:
        raise ValidationError({"period": [_("Choose a month or a quarter.")]})
    if start.day != 1 or (period == Target.Period.QUARTER and (start.month - 1) % 3):
        raise ValidationError({"start": [_("A target starts on the first day of its month or quarter.")]})
    return start


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else 0))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"amount": [_("Enter a number.")]}) from exc
    if amount < 0 or not amount.is_finite():
        raise ValidationError({"amount": [_("A target cannot be negative.")]})
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def set_target(
    *,
    actor: Any,
    period: str,
    start: dt.date,
    amount: Any,
    deals: Any = 0,
    user: Any | None = None,
    team: Any | None = None,
    currency: str = "CNY",
) -> Target | None:
    """Create or change the target of a rep or a team for one period; an amount and deal count of zero
    removes it. Returns the target (None when removed)."""
    if (user is None) == (team is None):
        raise ValidationError({"user": [_("Choose a sales rep or a team.")]})
    _period_start(period, start)
    value = _amount(amount)
    try:
        n = int(deals or 0)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"deals": [_("Enter a whole number.")]}) from exc
    if n < 0:
        raise ValidationError({"deals": [_("A target cannot be negative.")]})
    current = Target.objects.select_for_update().filter(period=period, start=start, user=user, team=team).first()
    if current is None:
        target = Target(period=period, start=start, user=user, team=team, amount=value, deals=n, currency=currency)
        # the data scope of the actor's grant: a sales manager sets the targets of their own team, its sub-teams
        # and their reps (changing and removing are checked the same way by the shared update and delete steps)
        core.require(actor, Target, "add", target)
        if not value and not n:
            return None
        core.create(actor=actor, obj=target)
        return target
    if not value and not n:
        core.delete(actor=actor, obj=current)
        return None
    core.update(actor=actor, obj=current, values={"amount": value, "deals": n, "currency": currency})
    return current


@transaction.atomic
def set_targets(*, actor: Any, cells: dict[str, dict[str, Any]]) -> int:
    """Apply many `set_target` calls as one change: `cells` maps a caller's key (a grid cell) to the keyword
    arguments of `set_target`. If any cell is refused, nothing is saved and the ValidationError maps each
    refused cell's key to its messages. Returns the number of cells applied."""
    errors: dict[str, list[str]] = {}
    for key, kwargs in cells.items():
        try:
            with transaction.atomic():
                set_target(actor=actor, **kwargs)
        except ValidationError as exc:
            errors[key] = exc.messages
    if errors:
        raise ValidationError(errors)
    return len(cells)
