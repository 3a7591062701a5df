"""Payments (回款) planned and received against an order or a contract; the order or contract row is locked
before the open amount is read, so two receipts cannot together exceed it."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events, permissions
from kehu.core import services as core
from kehu.sales.models import Contract, Payment, SalesOrder
from kehu.sales.services.documents.common import CENT, money


def overdue_q(today: dt.date | None = None) -> Q:
    return Q(status=Payment.Status.PLANNED, due_date__lt=today or timezone.localdate())


def _target(actor: Any, order: SalesOrder | None, contract: Contract | None) -> SalesOrder | Contract:
    if (order is None) == (contract is None):
        raise ValidationError({"sales_order": [_("Choose either an order or a contract for this payment.")]})
    model: type[SalesOrder] | type[Contract] = SalesOrder if order is not None else Contract
    target = order if order is not None else contract
    assert target is not None
    if not permissions.can(actor, model, "view", target):
        field = "sales_order" if order is not None else "contract"
        raise ValidationError({field: [_("Choose an order or contract you can see.")]})
    return model.objects.select_for_update().select_related("customer").get(pk=target.pk)


def _target_total(target: SalesOrder | Contract) -> Decimal:
    return target.total if isinstance(target, SalesOrder) else target.value


def _check_open(target: SalesOrder | Contract, amount: Decimal) -> None:
    open_amount = _target_total(target) - target.paid_amount
    if amount > open_amount:
        raise ValidationError(
            {
                "amount": [
                    _("The payment is larger than the open amount (%(amount)s).")
                    % {"amount": money(max(open_amount, Decimal("0")), target.currency)}
                ]
            }
        )


def _add_paid(actor: Any, target: SalesOrder | Contract, delta: Decimal) -> None:
    old = target.paid_amount
    new = old + delta
    type(target).objects.filter(pk=target.pk).update(paid_amount=new, version=F("version") + 1)
    target.paid_amount = new
    events.record(
        actor=actor,
        obj=target,
        verb="updated",
        changes={"paid_amount": [str(old), str(new)]},
        parent=target.customer,
    )


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValidationError({"amount": [_("Enter a number.")]}) from exc
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": [_("The amount must be greater than zero.")]})
    return amount.quantize(CENT, ROUND_HALF_UP)


def _received_on(value: dt.date | None) -> dt.date:
    day = value or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"received_on": [_("A payment cannot be received in the future.")]})
    return day


@transaction.atomic
def create_payment(*, actor: Any, data: dict[str, Any]) -> Payment:
    """A planned instalment (with a due date) or a received payment against an order or a contract."""
    core.require(actor, Payment, "add")
    data = dict(data)
    target = _target(actor, data.pop("sales_order", None), data.pop("contract", None))
    amount = _amount(data.pop("amount", None))
    currency = str(data.pop("currency", "") or target.currency).upper()
    if currency != target.currency:
        raise ValidationError(
            {
                "currency": [
                    _("The payment must be in the currency of its order or contract (%(c)s).") % {"c": target.currency}
                ]
            }
        )
    status = data.pop("status", None) or Payment.Status.PLANNED
    if status not in (Payment.Status.PLANNED, Payment.Status.RECEIVED):
        raise ValidationError({"status": [_("A new payment is either planned or received.")]})
    if status == Payment.Status.PLANNED:
        if not data.get("due_date"):
            raise ValidationError({"due_date": [_("Enter the due date of the planned payment.")]})
        data["received_on"] = None
    else:
        data["received_on"] = _received_on(data.get("received_on"))
        _check_open(target, amount)
    payment = Payment(
        **{k: v for k, v in data.items() if k in ("due_date", "received_on", "method", "reference", "note")},
        customer=target.customer,
        sales_order=target if isinstance(target, SalesOrder) else None,
        contract=target if isinstance(target, Contract) else None,
        status=status,
        amount=amount,
        currency=currency,
        owner=target.owner,
        team=target.team,
    )
    core.create(actor=actor, obj=payment, parent=target.customer)
    if status == Payment.Status.RECEIVED:
        _add_paid(actor, target, amount)
    return payment


@transaction.atomic
def receive_payment(
    *,
    actor: Any,
    payment: Payment,
    received_on: dt.date | None = None,
    method: str = "",
    reference: str = "",
    amount: Any = None,
) -> dict[str, Any]:
    """Mark a planned instalment as received (optionally with the amount actually paid)."""
    core.require(actor, Payment, "change", payment)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status != Payment.Status.PLANNED:
        raise ValidationError({"status": [_("Only planned payments can be marked as received.")]})
    target = _target(actor, locked.sales_order, locked.contract)
    value = _amount(amount) if amount not in (None, "") else locked.amount
    day = _received_on(received_on)
    if method and method not in Payment.Method.values:
        raise ValidationError({"method": [_("“%(value)s” is not a payment method.") % {"value": method}]})
    _check_open(target, value)
    payment.refresh_from_db()
    changes = core.update(
        actor=actor,
        obj=payment,
        values={
            "status": Payment.Status.RECEIVED,
            "received_on": day,
            "method": method,
            "reference": reference[:80],
            "amount": value,
        },
        parent=target.customer,
    )
    _add_paid(actor, target, value)
    return changes


@transaction.atomic
def cancel_payment(*, actor: Any, payment: Payment) -> dict[str, Any]:
    """Cancel a planned instalment, or reverse a received payment (the open amount grows again)."""
    core.require(actor, Payment, "change", payment)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status == Payment.Status.CANCELLED:
        return {}
    target = _target(actor, locked.sales_order, locked.contract)
    payment.refresh_from_db()
    changes = core.update(actor=actor, obj=payment, values={"status": Payment.Status.CANCELLED}, parent=target.customer)
    if locked.status == Payment.Status.RECEIVED:
        _add_paid(actor, target, -locked.amount)
    return changes
