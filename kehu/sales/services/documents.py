"""Every write to quotes (报价单), sales orders (销售订单), contracts (合同) and payments (回款) (S7).

Totals are computed here from the lines and stored. Numbers (Q-2026-00001, SO-…, CT-…) come from a counter
row locked for the transaction, so two people saving at the same moment never share a number. A payment
locks its order or contract row before reading the open amount, so two receipts cannot together exceed it.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events, permissions
from kehu.core import services as core
from kehu.customers.models import Contact, Customer
from kehu.sales.models import (
    Contract,
    ContractFile,
    DocumentCounter,
    Opportunity,
    OrderLine,
    Payment,
    PriceList,
    PriceListItem,
    Quote,
    QuoteLine,
    SalesOrder,
    Stage,
)
from kehu.sales.services.catalogue import clean_currency
from kehu.sales.services.opportunities import clean_lines, move_stage

CENT = Decimal("0.01")
PREFIXES = {"quote": "Q", "order": "SO", "contract": "CT"}
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}
ALLOWED_FILES = {
    "pdf": (b"%PDF",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}
QS = Quote.Status


def money(amount: Decimal, currency: str) -> str:
    """¥12,345.60 — the amount as people write it, for messages."""
    symbol = SYMBOLS.get(currency)
    text = f"{amount:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


# --------------------------------------------------------------------------- numbering


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


# --------------------------------------------------------------------------- lines and totals


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


def clean_document_lines(lines: Iterable[dict[str, Any]], price_list: PriceList) -> list[dict[str, Any]]:
    """Lines checked by the shared validator, and every product on them priced in the chosen price list (a
    price typed by hand does not make a product the list lacks sellable in its currency)."""
    cleaned = clean_lines(list(lines), price_list)
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


# --------------------------------------------------------------------------- quotes


def _check_parties(actor: Any, customer: Customer | None, contact: Contact | None, opp: Opportunity | None) -> None:
    if customer is None or not permissions.can(actor, Customer, "view", customer):
        raise ValidationError({"customer": [_("Choose a customer you can see.")]})
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": [_("Choose a contact of this customer.")]})
    if opp is not None:
        if not permissions.can(actor, Opportunity, "view", opp):
            raise ValidationError({"opportunity": [_("Choose an opportunity you can see.")]})
        if opp.customer_id and opp.customer_id != customer.pk:
            raise ValidationError({"opportunity": [_("This opportunity belongs to another customer.")]})


def _check_price_list(price_list: PriceList | None) -> PriceList:
    if price_list is None:
        raise ValidationError({"price_list": [_("Choose a price list.")]})
    if not price_list.active:
        raise ValidationError({"price_list": [_("This price list is no longer in use.")]})
    return price_list


def opportunity_lines(opp: Opportunity, price_list: PriceList | None) -> list[dict[str, Any]]:
    """A deal's products as quote lines; prices come from the price list unless the deal is in its currency."""
    same = price_list is not None and opp.currency == price_list.currency
    return [
        {
            "product": line.product,
            "quantity": line.quantity,
            "unit_price": line.unit_price if same else None,
            "discount": line.discount,
        }
        for line in opp.lines.select_related("product")
    ]


def default_price_list(currency: str | None = None) -> PriceList | None:
    qs = PriceList.objects.filter(active=True)
    if currency:
        found = qs.filter(currency=currency).order_by("-is_default", "name", "id").first()
        if found:
            return found
    return qs.order_by("-is_default", "name", "id").first()


@transaction.atomic
def create_quote(
    *,
    actor: Any,
    data: dict[str, Any],
    lines: Iterable[dict[str, Any]] | None = None,
    custom: dict[str, Any] | None = None,
) -> Quote:
    """A draft quote for a customer (or an opportunity: its customer, and its lines when none are given)."""
    data = dict(data)
    core.require(actor, Quote, "add")
    opp: Opportunity | None = data.get("opportunity")
    if opp is not None and data.get("customer") is None:
        data["customer"] = opp.customer
    customer = data.get("customer")
    _check_parties(actor, customer, data.get("contact"), opp)
    price_list = _check_price_list(data.get("price_list") or default_price_list(opp.currency if opp else None))
    data["price_list"] = price_list
    if lines is None:
        lines = opportunity_lines(opp, price_list) if opp is not None else []
    cleaned = clean_document_lines(lines, price_list)
    tax_rate = _tax_rate(data.pop("tax_rate", None))
    if not str(data.get("title") or "").strip():
        data["title"] = opp.name if opp is not None else _("Quote for %(customer)s") % {"customer": customer}
    quote = Quote(
        **data,
        currency=price_list.currency,
        tax_rate=tax_rate,
        **compute_totals(cleaned, tax_rate),
        status=QS.DRAFT,
        owner=actor,
        team=getattr(actor, "team", None),
    )
    quote.full_clean(exclude=["number"])  # every field error before a number is taken
    quote.number = next_number("quote")
    core.create(actor=actor, obj=quote, custom=custom, parent=customer)
    _write_lines(QuoteLine, "quote", quote, cleaned)
    return quote


def _locked_quote(quote: Quote) -> Quote:
    return Quote.objects.select_for_update().select_related("price_list", "customer").get(pk=quote.pk)


EDITABLE_QUOTE_FIELDS = {
    "title",
    "customer",
    "contact",
    "opportunity",
    "price_list",
    "valid_until",
    "language",
    "terms",
    "tax_rate",
}


@transaction.atomic
def update_quote(
    *,
    actor: Any,
    quote: Quote,
    values: dict[str, Any],
    lines: Iterable[dict[str, Any]] | None = None,
    custom: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Change a draft: its fields and (when given) all its lines; totals are recomputed."""
    core.require(actor, Quote, "change", quote)
    locked = _locked_quote(quote)
    if locked.status != QS.DRAFT:
        raise ValidationError({"__all__": [_("Only draft quotes can be changed. Make a new version instead.")]})
    blocked = set(values) - EDITABLE_QUOTE_FIELDS
    if blocked:
        raise ValidationError({f: [_("This field changes through its own action.")] for f in sorted(blocked)})
    values = dict(values)
    customer = values.get("customer", locked.customer)
    _check_parties(
        actor, customer, values.get("contact", locked.contact), values.get("opportunity", locked.opportunity)
    )
    price_list = _check_price_list(values.get("price_list", locked.price_list))
    if lines is None:
        repriced = price_list.currency != locked.currency
        lines = [
            {
                "product": line.product,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": None if repriced and line.product else line.unit_price,
                "discount": line.discount,
            }
            for line in locked.lines.select_related("product")
        ]
    cleaned = clean_document_lines(lines, price_list)
    tax_rate = _tax_rate(values.pop("tax_rate", locked.tax_rate))
    values.update(currency=price_list.currency, tax_rate=tax_rate, **compute_totals(cleaned, tax_rate))
    before = _line_summary(locked.lines.select_related("product"))
    changes = core.update(
        actor=actor,
        obj=quote,
        values=values,
        custom=custom,
        expected_version=expected_version,
        parent=customer,
    )
    quote.lines.all().delete()
    _write_lines(QuoteLine, "quote", quote, cleaned)
    after = _line_summary(quote.lines.select_related("product"))
    if before != after:
        if not changes:
            core.bump(Quote, quote.pk)
        events.record(actor=actor, obj=quote, verb="updated", changes={"lines": [before, after]}, parent=customer)
        changes["lines"] = [before, after]
    return changes


def _set_status(actor: Any, quote: Quote, allowed: tuple[str, ...], status: str, **extra: Any) -> dict[str, Any]:
    locked = _locked_quote(quote)
    if locked.status not in allowed:
        raise ValidationError(
            {
                "status": [
                    _("This quote is %(status)s; it cannot be changed that way.")
                    % {"status": locked.get_status_display()}
                ]
            }
        )
    quote.refresh_from_db()
    return core.update(actor=actor, obj=quote, values={"status": status, **extra}, parent=quote.customer)


@transaction.atomic
def send_quote(*, actor: Any, quote: Quote) -> dict[str, Any]:
    """Mark a draft as sent to the customer; from now on it is frozen (changes need a new version)."""
    core.require(actor, Quote, "change", quote)
    if not quote.lines.exists():
        raise ValidationError({"lines": [_("Add at least one line before sending the quote.")]})
    return _set_status(actor, quote, (QS.DRAFT,), QS.SENT, sent_at=timezone.now())


@transaction.atomic
def decline_quote(*, actor: Any, quote: Quote) -> dict[str, Any]:
    core.require(actor, Quote, "change", quote)
    return _set_status(actor, quote, (QS.SENT,), QS.DECLINED, decided_at=timezone.now())


@dataclass
class Accepted:
    order: SalesOrder
    # None: no opportunity; True: it is (now) won; False: the actor may not move it, so it was left alone
    opportunity_won: bool | None


@transaction.atomic
def accept_quote(*, actor: Any, quote: Quote) -> Accepted:
    """The customer accepted: the quote becomes a sales order (same lines and totals) and its opportunity, when
    the actor may change it, moves to its pipeline's won stage — all in one transaction."""
    core.require(actor, Quote, "change", quote)
    core.require(actor, SalesOrder, "add")
    _set_status(actor, quote, (QS.SENT,), QS.ACCEPTED, decided_at=timezone.now())
    quote = Quote.objects.select_related("customer", "opportunity").get(pk=quote.pk)
    order = SalesOrder(
        customer=quote.customer,
        quote=quote,
        opportunity=quote.opportunity,
        status=SalesOrder.Status.CONFIRMED,
        ordered_on=timezone.localdate(),
        currency=quote.currency,
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        tax_rate=quote.tax_rate,
        tax=quote.tax,
        total=quote.total,
        owner=quote.owner,
        team=quote.team,
    )
    order.number = next_number("order")
    core.create(actor=actor, obj=order, parent=quote.customer)
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                sales_order=order,
                product_id=line.product_id,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                total=line.total,
                order=line.order,
            )
            for line in quote.lines.all()
        ]
    )
    return Accepted(order, _win(actor, quote.opportunity))


def _win(actor: Any, opp: Opportunity | None) -> bool | None:
    if opp is None:
        return None
    if opp.status == Opportunity.Status.WON:
        return True
    won = Stage.objects.filter(pipeline_id=opp.pipeline_id, kind=Stage.Kind.WON, active=True).order_by("order", "id")
    stage = won.first()
    pol = permissions.policy(actor, Opportunity)
    if stage is None or not permissions.can(actor, Opportunity, "change", opp) or not pol.can_write("stage"):
        return False
    try:
        with transaction.atomic():
            move_stage(actor=actor, opp=opp, stage=stage)
    except (ValidationError, PermissionDenied):
        return False
    return True


@transaction.atomic
def revise_quote(*, actor: Any, quote: Quote) -> Quote:
    """A new version (revision n+1, same number) with the same lines, as a draft; the old one is superseded."""
    core.require(actor, Quote, "change", quote)
    core.require(actor, Quote, "add")
    locked = _locked_quote(quote)
    if Quote.objects.filter(number=locked.number, revision__gt=locked.revision).exists():
        raise ValidationError({"status": [_("A newer version of this quote exists.")]})
    _set_status(actor, quote, (QS.DRAFT, QS.SENT, QS.DECLINED), QS.SUPERSEDED)
    new = Quote(
        number=locked.number,
        revision=locked.revision + 1,
        title=locked.title,
        customer=locked.customer,
        contact=locked.contact,
        opportunity=locked.opportunity,
        price_list=locked.price_list,
        status=QS.DRAFT,
        valid_until=locked.valid_until,
        language=locked.language,
        terms=locked.terms,
        currency=locked.currency,
        subtotal=locked.subtotal,
        discount_total=locked.discount_total,
        tax_rate=locked.tax_rate,
        tax=locked.tax,
        total=locked.total,
        custom=locked.custom,
        owner=locked.owner,
        team=locked.team,
    )
    core.create(actor=actor, obj=new, custom=locked.custom, parent=locked.customer)
    QuoteLine.objects.bulk_create(
        [
            QuoteLine(
                quote=new,
                product_id=line.product_id,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                total=line.total,
                order=line.order,
            )
            for line in locked.lines.all()
        ]
    )
    return new


# --------------------------------------------------------------------------- orders


ORDER_FLOW: dict[str, tuple[str, ...]] = {
    SalesOrder.Status.CONFIRMED: (SalesOrder.Status.DELIVERED, SalesOrder.Status.CANCELLED),
    SalesOrder.Status.DELIVERED: (),
    SalesOrder.Status.CANCELLED: (),
}


@transaction.atomic
def set_order_status(*, actor: Any, order: SalesOrder, status: str) -> dict[str, Any]:
    """Confirmed → delivered or cancelled; an order with received payments cannot be cancelled."""
    core.require(actor, SalesOrder, "change", order)
    locked = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if status == locked.status:
        return {}
    if status not in ORDER_FLOW.get(locked.status, ()):
        raise ValidationError(
            {
                "status": [
                    _("This order is %(status)s; it cannot be changed that way.")
                    % {"status": locked.get_status_display()}
                ]
            }
        )
    if status == SalesOrder.Status.CANCELLED and locked.paid_amount > 0:
        raise ValidationError({"status": [_("Payments were received for this order; it cannot be cancelled.")]})
    order.refresh_from_db()
    return core.update(actor=actor, obj=order, values={"status": status}, parent=order.customer)


# --------------------------------------------------------------------------- contracts

CONTRACT_WRITABLE = {
    "title",
    "kind",
    "customer",
    "sales_order",
    "status",
    "start_date",
    "end_date",
    "renewal_date",
    "value",
    "currency",
    "signed_on",
    "terms",
}


def _contract_value(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"value": [_("Enter a number.")]}) from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationError({"value": [_("The value cannot be negative.")]})
    return amount.quantize(CENT, ROUND_HALF_UP)


def _check_contract(actor: Any, c: Contract) -> None:
    errors: dict[str, list[str]] = {}
    c.value = _contract_value(c.value)
    customer = c.customer if c.customer_id else None
    if customer is None or not permissions.can(actor, Customer, "view", customer):
        raise ValidationError({"customer": [_("Choose a customer you can see.")]})
    order = c.sales_order if c.sales_order_id else None
    if order is not None:
        if not permissions.can(actor, SalesOrder, "view", order):
            errors["sales_order"] = [_("Choose an order you can see.")]
        elif order.customer_id != customer.pk:
            errors["sales_order"] = [_("This order belongs to another customer.")]
    relationship = customer.relationship
    if c.kind == Contract.Kind.SUPPLIER and relationship != Customer.Relationship.SUPPLIER:
        errors["kind"] = [_("“%(name)s” is not marked as a supplier.") % {"name": customer.name}]
    elif c.kind == Contract.Kind.PARTNER and relationship != Customer.Relationship.PARTNER:
        errors["kind"] = [_("“%(name)s” is not marked as a partner.") % {"name": customer.name}]
    if c.start_date and c.end_date and c.end_date < c.start_date:
        errors["end_date"] = [_("The contract cannot end before it starts.")]
    if c.start_date and c.renewal_date and c.renewal_date < c.start_date:
        errors["renewal_date"] = [_("The renewal date cannot be before the start.")]
    if c.value is not None and c.value < c.paid_amount:
        errors["value"] = [
            _("The value cannot be less than what was already received (%(amount)s).")
            % {"amount": money(c.paid_amount, c.currency)}
        ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_contract(
    *, actor: Any, data: dict[str, Any], custom: dict[str, Any] | None = None, owner: Any | None = None
) -> Contract:
    """A contract for a customer, or for one of its orders (customer, value and currency come from the order)."""
    core.require(actor, Contract, "add")
    data = {k: v for k, v in data.items() if k in CONTRACT_WRITABLE}
    order: SalesOrder | None = data.get("sales_order")
    if order is not None:
        data.setdefault("customer", order.customer)
        if data.get("customer") is None:
            data["customer"] = order.customer
        if data.get("value") in (None, ""):
            data["value"] = order.total
        if not data.get("currency"):
            data["currency"] = order.currency
        if not str(data.get("title") or "").strip():
            data["title"] = _("Contract for order %(number)s") % {"number": order.number}
        owner = owner or order.owner
    data["currency"] = clean_currency(data.get("currency") or settings.KEHU_DEFAULT_CURRENCY)
    if data.get("value") in (None, ""):
        data["value"] = Decimal("0")
    owner = owner or actor
    contract = Contract(**data, owner=owner, team=getattr(owner, "team", None))
    _check_contract(actor, contract)
    contract.full_clean(exclude=["number"])
    contract.number = next_number("contract")
    core.create(actor=actor, obj=contract, custom=custom, parent=contract.customer)
    return contract


@transaction.atomic
def update_contract(
    *,
    actor: Any,
    contract: Contract,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    core.require(actor, Contract, "change", contract)
    blocked = set(values) - CONTRACT_WRITABLE
    if blocked:
        raise ValidationError({f: [_("This field changes through its own action.")] for f in sorted(blocked)})
    values = dict(values)
    if "currency" in values:
        values["currency"] = clean_currency(values["currency"])
        if values["currency"] != contract.currency and contract.payments.exists():
            raise ValidationError({"currency": [_("This contract has payments; its currency cannot change.")]})
    probe = Contract.objects.get(pk=contract.pk)
    for name, value in values.items():
        setattr(probe, name, value)
    _check_contract(actor, probe)
    if "value" in values:
        values["value"] = probe.value
    return core.update(
        actor=actor,
        obj=contract,
        values=values,
        custom=custom,
        expected_version=expected_version,
        parent=probe.customer,
    )


def _check_upload(upload: Any) -> str:
    name = os.path.basename(str(upload.name or ""))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_FILES:
        raise ValidationError({"file": [_("Upload a PDF, Word (.docx), Excel (.xlsx), PNG or JPEG file.")]})
    limit = settings.KEHU_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise ValidationError({"file": [_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}]})
    if upload.size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(magic) for magic in ALLOWED_FILES[ext]):
        raise ValidationError({"file": [_("The file’s content does not match its type (.%(ext)s).") % {"ext": ext}]})
    return ext


@transaction.atomic
def add_contract_file(*, actor: Any, contract: Contract, upload: Any) -> ContractFile:
    """Attach a signed copy or an annex; stored under a random name, downloaded only through the gated view."""
    core.require(actor, Contract, "change", contract)
    ext = _check_upload(upload)
    name = os.path.basename(str(upload.name))[:200]
    upload.name = f"{uuid.uuid4().hex}.{ext}"
    item = ContractFile(contract=contract, file=upload, name=name, size=upload.size, uploaded_by=actor)
    item.save()
    core.bump(Contract, contract.pk)
    events.record(actor=actor, obj=contract, verb="updated", changes={"files": [None, name]}, parent=contract.customer)
    return item


@transaction.atomic
def delete_contract_file(*, actor: Any, item: ContractFile) -> None:
    contract = item.contract
    core.require(actor, Contract, "change", contract)
    name, path = item.name, cast(str, item.file.name)  # the file field is required: a stored file has a name
    item.delete()
    core.bump(Contract, contract.pk)
    events.record(actor=actor, obj=contract, verb="updated", changes={"files": [name, None]}, parent=contract.customer)

    def remove() -> None:
        from django.core.files.storage import default_storage

        default_storage.delete(path)

    events.after_commit(remove)


# --------------------------------------------------------------------------- payments


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
