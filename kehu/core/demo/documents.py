"""Demo quotes, orders, contracts and payments for recently won deals, made through the services (so
numbers, totals and events are exactly what users get) and then dated back: quotes, orders, contracts and planned
payments to when the deal was won, received payments to the day the money came in.

For each chosen won deal the owner quotes it, sends and accepts the quote (which makes the order); a
finance user plans two instalments, half on ordering and half a month later, and records what was due
before today as received — except a few, which stay overdue. Every third order gets a one-year contract.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Q
from django.utils import timezone

from kehu.core.demo.org import Org
from kehu.core.models import Event
from kehu.sales.models import Contract, Opportunity, Payment, Quote, SalesOrder
from kehu.sales.services import documents


def load_documents(org: Org, *, deals: int = 150, seed: int = 2026, now: dt.datetime | None = None) -> dict[str, int]:
    if SalesOrder.objects.exists():
        return {}
    rng = random.Random(f"{seed}:documents")
    now = now or timezone.now()
    today = timezone.localdate(now)
    finance = next((u for u in org.users if u.roles.filter(code="finance").exists()), org.admin)
    won = list(
        Opportunity.objects.filter(status="won", closed_on__gte=today - dt.timedelta(days=150), lines__isnull=False)
        .exclude(customer=None)
        .select_related("customer", "owner")
        .distinct()
        .order_by("closed_on", "id")
    )
    chosen = sorted(rng.sample(won, k=min(deals, len(won))), key=lambda o: (o.closed_on, o.pk))
    counts = {"quotes": 0, "orders": 0, "contracts": 0, "payments": 0}
    for i, opp in enumerate(chosen):
        actor = opp.owner or org.admin
        quote = documents.create_quote(actor=actor, data={"opportunity": opp, "valid_until": opp.closed_on})
        documents.send_quote(actor=actor, quote=quote)
        order = documents.accept_quote(actor=actor, quote=quote).order
        day = opp.closed_on
        assert day is not None  # a won deal has its close date
        _backdate(quote, order, day)
        counts["quotes"] += 1
        counts["orders"] += 1
        half = (order.total / 2).quantize(Decimal("0.01"))
        for due, amount in ((day, half), (day + dt.timedelta(days=30), order.total - half)):
            with _dated(day):  # planned when the order came in
                payment = documents.create_payment(
                    actor=finance,
                    data={"sales_order": order, "amount": amount, "due_date": due, "note": ""},
                )
            Payment.objects.filter(pk=payment.pk).update(created_at=_at(day), updated_at=_at(day))
            counts["payments"] += 1
            if due < today - dt.timedelta(days=3) and rng.random() < 0.85:
                received = min(today, due + dt.timedelta(days=rng.randint(0, 12)))
                with _dated(received):
                    documents.receive_payment(
                        actor=finance,
                        payment=payment,
                        received_on=received,
                        method=rng.choice(["bank", "bank", "alipay", "wechat"]),
                        reference=f"{rng.randrange(10**9, 10**10)}",
                    )
                Payment.objects.filter(pk=payment.pk).update(updated_at=_at(received))
        if i % 3 == 0:
            with _dated(day):
                contract = documents.create_contract(
                    actor=actor,
                    data={
                        "sales_order": order,
                        "kind": Contract.Kind.SALES,
                        "status": Contract.Status.ACTIVE,
                        "start_date": day,
                        "end_date": day + dt.timedelta(days=364),
                        "renewal_date": day + dt.timedelta(days=334),
                        "signed_on": day,
                    },
                )
            Contract.objects.filter(pk=contract.pk).update(created_at=_at(day), updated_at=_at(day))
            counts["contracts"] += 1
    return counts


@contextmanager
def _dated(day: dt.date) -> Iterator[None]:
    """Every event written inside the block is dated `day` (10:00), as if the change had been made then."""
    before = Event.objects.aggregate(m=Max("id"))["m"] or 0
    yield
    Event.objects.filter(id__gt=before).update(created_at=_at(day))


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)))


def _backdate(quote: Quote, order: SalesOrder, day: dt.date) -> None:
    """The quote went out a few days before the deal was won and was accepted that day."""
    sent = _at(day - dt.timedelta(days=5))
    Quote.objects.filter(pk=quote.pk).update(created_at=sent, sent_at=sent, decided_at=_at(day), updated_at=_at(day))
    SalesOrder.objects.filter(pk=order.pk).update(ordered_on=day, created_at=_at(day), updated_at=_at(day))
    q_ct = ContentType.objects.get_for_model(Quote)
    o_ct = ContentType.objects.get_for_model(SalesOrder)
    Event.objects.filter(Q(content_type=q_ct, object_id=quote.pk) | Q(content_type=o_ct, object_id=order.pk)).update(
        created_at=_at(day)
    )
