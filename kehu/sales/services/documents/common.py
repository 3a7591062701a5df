"""What quotes, orders, contracts and payments share: amounts in words and symbols, document numbers from a
locked counter, line items and totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.sales.models import Contract, DocumentCounter, PriceList, PriceListItem, Quote, SalesOrder
from kehu.sales.services.opportunities import clean_lines

CENT = Decimal("0.01")
PREFIXES = {"quote": "Q", "order": "SO", "contract": "CT"}
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}
QS = Quote.Status


def money(amount: Decimal, currency: str) -> str:
    """¥12,345.60 — the amount as people write it, for messages."""
    symbol = SYMBOLS.get(currency)
    text = f"{amount:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def next_number(kind: str, on: dt.date | None = None) -> str:
    """The next document number of this kind and year, e.g. Q-2026-00001. Call inside the transaction that
    saves the document: the counter row stays locked until it commits (a rollback gives the number back)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside the transaction that saves the document")
    year = (on or timezone.localdate()).year
    DocumentCounter.objects.get_or_create(kind=kind, year=year)
    counter = DocumentCounter.objects.select_for_update().get(kind=kind, year=year)
    model: type[models.Model] = {"quote": Quote, "order": SalesOrder, "contract": Contract}[kind]
    n = counter.last
    while True:  # skips numbers taken by records made without the counter (imports)
        n += 1
        number = f"{PREFIXES[kind]}-{year}-{n:05d}"
        if not model._default_manager.filter(number=number).exists():
            break
    DocumentCounter.objects.filter(pk=counter.pk).update(last=n)
    return number


def compute_totals(lines: Iterable[dict[str, Any]], tax_rate: Decimal) -> dict[str, Decimal]:
    """Subtotal (before discounts), discount total, tax on the discounted amount, and the grand total."""
    gross = Decimal("0")
    net = Decimal("0")
    for line in lines:
        gross += (line["quantity"] * line["unit_price"]).quantize(CENT, ROUND_HALF_UP)
        net += line["total"]
    tax = (net * tax_rate / 100).quantize(CENT, ROUND_HALF_UP)
    return {"subtotal": gross, "discount_total": gross - net, "tax": tax, "total": net + tax}


def _tax_rate(value: Any) -> Decimal:
    try:
        rate = Decimal(str(value if value not in (None, "") else "13"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"tax_rate": [_("Enter a number.")]}) from exc
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(100):
        raise ValidationError({"tax_rate": [_("The tax rate must be between 0 and 100 %.")]})
    return rate.quantize(CENT)


def clean_document_lines(
    lines: Iterable[dict[str, Any]], price_list: PriceList, *, keep: Collection[int] = ()
) -> list[dict[str, Any]]:
    """Lines checked by the shared validator, and every product on them priced in the chosen price list (a
    price typed by hand does not make a product the list lacks sellable in its currency). `keep`: products
    already on the document, which may stay on it once inactive; a new line may not add an inactive one."""
    cleaned = clean_lines(list(lines), price_list, keep=keep)
    priced = set(
        PriceListItem.objects.filter(
            price_list=price_list, product__in=[c["product"] for c in cleaned if c["product"] is not None]
        ).values_list("product_id", flat=True)
    )
    errors = {
        f"lines.{i}.product": [
            _("“%(product)s” has no price in the price list “%(list)s”.")
            % {"product": line["product"], "list": price_list}
        ]
        for i, line in enumerate(cleaned)
        if line["product"] is not None and line["product"].pk not in priced
    }
    if errors:
        raise ValidationError(errors)
    return cleaned


def _line_summary(lines: Iterable[Any]) -> list[str]:
    return [str(line) for line in lines]


def _write_lines(model: type[models.Model], parent_field: str, parent: Any, cleaned: list[dict[str, Any]]) -> None:
    model._default_manager.bulk_create(
        [
            model(
                **{parent_field: parent},
                product=line["product"],
                description=line["description"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                discount=line["discount"],
                total=line["total"],
                order=i,
            )
            for i, line in enumerate(cleaned)
        ]
    )
