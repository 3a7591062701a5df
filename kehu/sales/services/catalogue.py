"""Every write to the product catalogue: products and price lists with a price per product (S7).

Both are settings types without an owner: the gate's actions decide who may change them (administrators
by default), everyone selling may read them.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core import events
from kehu.core import services as core
from kehu.sales.models import PriceList, PriceListItem, Product

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def clean_currency(value: Any, field: str = "currency") -> str:
    code = str(value or "").strip().upper()
    if not CURRENCY_RE.match(code):
        raise ValidationError({field: [_("Enter a three-letter currency code such as CNY or USD.")]})
    return code


def _clean_product(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    for name in ("name", "sku", "series", "unit"):
        if name in values and isinstance(values[name], str):
            values[name] = values[name].strip()
    if "sku" in values and not values["sku"]:
        raise ValidationError({"sku": [_("Enter the SKU.")]})
    return values


def _check_sku(sku: str, exclude: int | None = None) -> None:
    qs = Product.objects.filter(sku__iexact=sku)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if sku and qs.exists():
        raise ValidationError({"sku": [_("Another product already has the SKU “%(sku)s”.") % {"sku": sku}]})


@transaction.atomic
def create_product(*, actor: Any, data: dict[str, Any]) -> Product:
    data = _clean_product(data)
    _check_sku(data.get("sku", ""))
    product = Product(**data)
    core.create(actor=actor, obj=product)
    return product


@transaction.atomic
def update_product(*, actor: Any, product: Product, values: dict[str, Any]) -> dict[str, Any]:
    values = _clean_product(values)
    if "sku" in values:
        _check_sku(values["sku"], exclude=product.pk)
    verb = "deactivated" if values.get("active") is False and product.active else "updated"
    return core.update(actor=actor, obj=product, values=values, verb=verb)


def set_product_active(*, actor: Any, product: Product, active: bool) -> dict[str, Any]:
    """Deactivate (or reactivate) a product: kept on old documents, no longer offered on new ones."""
    return update_product(actor=actor, product=product, values={"active": active})


def _unset_other_defaults(price_list: PriceList) -> None:
    if price_list.is_default:
        PriceList.objects.filter(is_default=True).exclude(pk=price_list.pk).update(is_default=False)


@transaction.atomic
def create_price_list(*, actor: Any, data: dict[str, Any], prices: dict[Product, Any] | None = None) -> PriceList:
    data = dict(data)
    data["currency"] = clean_currency(data.get("currency", "CNY"))
    data["name"] = str(data.get("name", "")).strip()
    price_list = PriceList(**data)
    core.create(actor=actor, obj=price_list)
    _unset_other_defaults(price_list)
    if prices:
        set_prices(actor=actor, price_list=price_list, prices=prices, record=False)
    return price_list


@transaction.atomic
def update_price_list(*, actor: Any, price_list: PriceList, values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    if "currency" in values:
        values["currency"] = clean_currency(values["currency"])
    if "name" in values:
        values["name"] = str(values["name"]).strip()
    verb = "deactivated" if values.get("active") is False and price_list.active else "updated"
    changes = core.update(actor=actor, obj=price_list, values=values, verb=verb)
    _unset_other_defaults(price_list)
    return changes


def _price(value: Any, product: Product) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({f"price_{product.pk}": [_("Enter a number.")]}) from exc
    if not price.is_finite() or price < 0:
        raise ValidationError({f"price_{product.pk}": [_("The price cannot be negative.")]})
    if price >= Decimal("1e12"):
        raise ValidationError({f"price_{product.pk}": [_("Enter a smaller number.")]})
    return price.quantize(Decimal("0.01"))


@transaction.atomic
def set_prices(*, actor: Any, price_list: PriceList, prices: dict[Product, Any], record: bool = True) -> dict[str, Any]:
    """Set the price of each given product (None or "" removes it from the list); one event for the change."""
    core.require(actor, PriceList, "change")
    cleaned = {product: _price(value, product) for product, value in prices.items()}
    current = {i.product_id: i for i in price_list.items.all()}
    changed: dict[str, list[Any]] = {}
    for product, price in cleaned.items():
        item = current.get(product.pk)
        if price is None:
            if item is not None:
                changed[product.sku] = [str(item.price), None]
                item.delete()
        elif item is None:
            PriceListItem.objects.create(price_list=price_list, product=product, price=price)
            changed[product.sku] = [None, str(price)]
        elif item.price != price:
            changed[product.sku] = [str(item.price), str(price)]
            item.price = price
            item.save(update_fields=["price"])
    if changed and record:
        old = [f"{sku}: {pair[0]}" for sku, pair in changed.items() if pair[0] is not None]
        new = [f"{sku}: {pair[1]}" for sku, pair in changed.items() if pair[1] is not None]
        events.record(actor=actor, obj=price_list, verb="updated", changes={"items": [old, new]}, data=changed)
    return changed
