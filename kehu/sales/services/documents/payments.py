"""Payments (回款) planned and received against an order or a contract.

One sale is collected once: a contract made for an order (in the order's currency) collects the order's
money, so a payment booked on such a contract counts against the order as well, and the order's received
amount includes it. What is planned and received together may never exceed the total — the order's total
for an order and the contracts made for it, a contract's value for a contract (an order's contract: both).
The order row (then the contract row) is locked before these sums are read, so two writers cannot together
exceed them. A cancelled order or a terminated contract takes no new payments, and its planned payments are
cancelled with it (so they are never overdue)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events, permissions
from kehu.core import services as core
from kehu.sales.models import Contract, Payment, SalesOrder
from kehu.sales.services.documents.common import CENT, money

ZERO = Decimal("0.00")
PS = Payment.Status


def overdue_q(today: dt.date | None = None) -> Q:
    return Q(status=PS.PLANNED, due_date__lt=today or timezone.localdate())


def shared_order(contract: Contract) -> SalesOrder | None:
    """The order whose money this contract collects: its order, when the contract is in the order's currency."""
    order = contract.sales_order if contract.sales_order_id else None
    return order if order is not None and order.currency == contract.currency else None


def sale_payments(order: SalesOrder) -> Q:
    """The payments of one sale: on the order, and on the contracts made for it in its currency."""
    return Q(sales_order=order) | Q(contract__sales_order=order, contract__currency=order.currency)


@dataclass(frozen=True)
class Collection:
    """What an order or contract may collect, and what is received and planned (not yet received) on it."""

    number: str
    total: Decimal
    received: Decimal
    planned: Decimal
    currency: str

    @property
    def open(self) -> Decimal:
        """Still to be received."""
        return max(self.total - self.received, ZERO)

    @property
    def left(self) -> Decimal:
        """Still to be planned or received."""
        return max(self.total - self.received - self.planned, ZERO)


def _sums(q: Q, exclude: Payment | None) -> tuple[Decimal, Decimal]:
    qs = Payment.objects.filter(q)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    sums = qs.aggregate(
        received=Sum("amount", filter=Q(status=PS.RECEIVED)), planned=Sum("amount", filter=Q(status=PS.PLANNED))
    )
    return (sums["received"] or ZERO).quantize(CENT), (sums["planned"] or ZERO).quantize(CENT)


def _own(target: SalesOrder | Contract, exclude: Payment | None = None) -> Collection:
    if isinstance(target, SalesOrder):
        received, planned = _sums(sale_payments(target), exclude)
        return Collection(target.number, target.total, received, planned, target.currency)
    received, planned = _sums(Q(contract=target), exclude)
    return Collection(target.number, target.value, received, planned, target.currency)


def collection(target: SalesOrder | Contract, *, exclude: Payment | None = None, own: bool = False) -> Collection:
    """The figures the pages show: an order's (with its contracts' payments); for a contract made for an order,
    the order's, since that is the money it collects (`own=True`: the contract's own payments against its
    value); otherwise the contract's own. `exclude` leaves one payment out (the one being changed)."""
    if isinstance(target, Contract) and not own:
        order = shared_order(target)
        if order is not None:
            return _own(order, exclude)
    return _own(target, exclude)


def _limits(target: SalesOrder | Contract, exclude: Payment | None) -> list[Collection]:
    if isinstance(target, SalesOrder):
        return [_own(target, exclude)]
    order = shared_order(target)
    return [_own(target, exclude), *([_own(order, exclude)] if order is not None else [])]


def _check_room(target: SalesOrder | Contract, amount: Decimal, *, exclude: Payment | None = None) -> None:
    """Refuse an amount larger than what is left to plan or collect (leaving out the payment being changed)."""
    for c in _limits(target, exclude):
        if amount > c.left:
            raise ValidationError(
                {
                    "amount": [
                        _(
                            "The payment (%(amount)s) is more than is left to plan or collect on %(number)s: "
                            "%(left)s of %(total)s (received %(received)s, planned %(planned)s)."
                        )
                        % {
                            "amount": money(amount, c.currency),
                            "number": c.number,
                            "left": money(c.left, c.currency),
                            "total": money(c.total, c.currency),
                            "received": money(c.received, c.currency),
                            "planned": money(c.planned, c.currency),
                        }
                    ]
                }
            )


def check_takes_payments(target: SalesOrder | Contract) -> None:
    """A cancelled order, a terminated contract, or a contract whose order was cancelled takes no payments."""
    if isinstance(target, SalesOrder):
        if target.status == SalesOrder.Status.CANCELLED:
            raise ValidationError(
                {"sales_order": [_("Order %(number)s is cancelled; it takes no payments.") % {"number": target.number}]}
            )
        return
    if target.status == Contract.Status.TERMINATED:
        raise ValidationError(
            {"contract": [_("Contract %(number)s is terminated; it takes no payments.") % {"number": target.number}]}
        )
    order = target.sales_order if target.sales_order_id else None
    if order is not None and order.status == SalesOrder.Status.CANCELLED:
        raise ValidationError(
            {
                "contract": [
                    _("The order of contract %(contract)s (%(order)s) is cancelled; it takes no payments.")
                    % {"contract": target.number, "order": order.number}
                ]
            }
        )


def _target(actor: Any, order: SalesOrder | None, contract: Contract | None) -> SalesOrder | Contract:
    """The order or contract, locked — and for an order's contract the order first (the same order of locks
    as a payment on the order itself, so the two wait for each other instead of deadlocking)."""
    if (order is None) == (contract is None):
        raise ValidationError({"sales_order": [_("Choose either an order or a contract for this payment.")]})
    if order is not None:
        if not permissions.can(actor, SalesOrder, "view", order):
            raise ValidationError({"sales_order": [_("Choose an order or contract you can see.")]})
        return SalesOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)
    assert contract is not None
    if not permissions.can(actor, Contract, "view", contract):
        raise ValidationError({"contract": [_("Choose an order or contract you can see.")]})
    if contract.sales_order_id:
        list(SalesOrder.objects.select_for_update().filter(pk=contract.sales_order_id).values_list("pk", flat=True))
    return (
        Contract.objects.select_for_update(of=("self",)).select_related("customer", "sales_order").get(pk=contract.pk)
    )


def _set_paid(actor: Any, target: SalesOrder | Contract, delta: Decimal) -> None:
    old = type(target).objects.values_list("paid_amount", flat=True).get(pk=target.pk)
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


def _add_paid(actor: Any, target: SalesOrder | Contract, delta: Decimal) -> None:
    """Received money on the order or contract — and, for an order's contract, on the order too."""
    _set_paid(actor, target, delta)
    if isinstance(target, Contract):
        order = shared_order(target)
        if order is not None:
            _set_paid(actor, order, delta)


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
    check_takes_payments(target)
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
    status = data.pop("status", None) or PS.PLANNED
    if status not in (PS.PLANNED, PS.RECEIVED):
        raise ValidationError({"status": [_("A new payment is either planned or received.")]})
    if status == PS.PLANNED:
        if not data.get("due_date"):
            raise ValidationError({"due_date": [_("Enter the due date of the planned payment.")]})
        data["received_on"] = None
    else:
        data["received_on"] = _received_on(data.get("received_on"))
    _check_room(target, amount)
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
    if status == PS.RECEIVED:
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
    """Mark a planned instalment as received (optionally with the amount actually paid, which must fit in
    what is left besides this instalment's own planned amount)."""
    core.require(actor, Payment, "change", payment)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status != PS.PLANNED:
        raise ValidationError({"status": [_("Only planned payments can be marked as received.")]})
    target = _target(actor, locked.sales_order, locked.contract)
    check_takes_payments(target)
    value = _amount(amount) if amount not in (None, "") else locked.amount
    day = _received_on(received_on)
    if method and method not in Payment.Method.values:
        raise ValidationError({"method": [_("“%(value)s” is not a payment method.") % {"value": method}]})
    _check_room(target, value, exclude=locked)
    payment.refresh_from_db()
    changes = core.update(
        actor=actor,
        obj=payment,
        values={
            "status": PS.RECEIVED,
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
    if locked.status == PS.CANCELLED:
        return {}
    target = _target(actor, locked.sales_order, locked.contract)
    payment.refresh_from_db()
    changes = core.update(actor=actor, obj=payment, values={"status": PS.CANCELLED}, parent=target.customer)
    if locked.status == PS.RECEIVED:
        _add_paid(actor, target, -locked.amount)
    return changes


def cancel_planned(*, actor: Any, target: SalesOrder | Contract) -> int:
    """Cancel the planned payments of an order that was cancelled (with those of its contracts) or of a contract
    that was terminated: they will not be paid, so they must not show as overdue or open. A consequence of
    the order's or contract's change, which the actor was allowed to make; each payment gets its event."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("cancel_planned() must run inside the transaction that cancels the order or contract")
    q = sale_payments(target) if isinstance(target, SalesOrder) else Q(contract=target)
    planned = list(
        Payment.objects.select_for_update(of=("self",))
        .filter(q, status=PS.PLANNED)
        .select_related("customer")
        .order_by("pk")
    )
    for p in planned:
        Payment.objects.filter(pk=p.pk).update(status=PS.CANCELLED, version=F("version") + 1, updated_at=timezone.now())
        events.record(
            actor=actor,
            obj=p,
            verb="updated",
            changes={"status": [PS.PLANNED.value, PS.CANCELLED.value]},
            parent=p.customer,
        )
    return len(planned)
