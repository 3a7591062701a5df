"""Contracts (合同): value, dates and renewal checked together, and their files (signed copies, annexes)."""

from __future__ import annotations

import os
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core import events, permissions
from kehu.core import services as core
from kehu.customers.models import Customer
from kehu.sales.models import Contract, ContractFile, Payment, SalesOrder
from kehu.sales.services.catalogue import clean_currency
from kehu.sales.services.documents.common import CENT, money, next_number
from kehu.sales.services.documents.payments import cancel_planned, collection

ALLOWED_FILES = {
    "pdf": (b"%PDF",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}

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


def _check_contract(actor: Any, c: Contract, *, changed: set[str] | None = None) -> None:
    """`changed`: the fields being changed (None: a new contract), so an older contract is not refused for
    what it already was."""
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
        elif order.currency != c.currency and (changed is None or changed & {"sales_order", "currency"}):
            errors["currency"] = [
                _("A contract for order %(number)s is in the order’s currency (%(order)s), not %(currency)s.")
                % {"number": order.number, "order": order.currency, "currency": c.currency}
            ]
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
    elif c.pk is not None and c.value is not None and (changed is None or "value" in changed):
        own = collection(c, own=True)
        if c.value < own.received + own.planned:
            errors["value"] = [
                _("The value cannot be less than what is received and planned on this contract (%(amount)s).")
                % {"amount": money(own.received + own.planned, c.currency)}
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
    probe = Contract.objects.select_for_update().get(pk=contract.pk)
    if (
        "sales_order" in values
        and getattr(values["sales_order"], "pk", values["sales_order"]) != probe.sales_order_id
        and probe.payments.exclude(status=Payment.Status.CANCELLED).exists()
    ):
        raise ValidationError({"sales_order": [_("This contract has payments; its order cannot change.")]})
    was_terminated = probe.status == Contract.Status.TERMINATED
    for name, value in values.items():
        setattr(probe, name, value)
    _check_contract(actor, probe, changed={n for n in values if getattr(contract, n, None) != values[n]})
    if "value" in values:
        values["value"] = probe.value
    changes = core.update(
        actor=actor,
        obj=contract,
        values=values,
        custom=custom,
        expected_version=expected_version,
        parent=probe.customer,
    )
    if probe.status == Contract.Status.TERMINATED and not was_terminated:
        cancel_planned(actor=actor, target=contract)
    return changes


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


def _require_files(actor: Any, contract: Contract) -> None:
    """Change on the contract, and its files field neither hidden nor read-only for the actor."""
    pol = core.require(actor, Contract, "change", contract)
    if not pol.can_write("files"):
        raise PermissionDenied(_("You do not have permission to do this."))


def add_contract_file(*, actor: Any, contract: Contract, upload: Any) -> ContractFile:
    """Attach a signed copy or an annex; stored under a random name, downloaded only through the gated view.
    The file is written before its row; if the row cannot be saved, the written file is removed again."""
    _require_files(actor, contract)
    ext = _check_upload(upload)
    name = os.path.basename(str(upload.name))[:200]
    upload.name = f"{uuid.uuid4().hex}.{ext}"
    item = ContractFile(contract=contract, file=upload, name=name, size=upload.size, uploaded_by=actor)
    try:
        with transaction.atomic():
            item.save()
            core.bump(Contract, contract.pk)
            events.record(
                actor=actor, obj=contract, verb="updated", changes={"files": [None, name]}, parent=contract.customer
            )
    except BaseException:
        if item.file.name:
            default_storage.delete(item.file.name)
        raise
    return item


@transaction.atomic
def delete_contract_file(*, actor: Any, item: ContractFile) -> None:
    contract = item.contract
    _require_files(actor, contract)
    name, path = item.name, cast(str, item.file.name)  # the file field is required: a stored file has a name
    item.delete()
    core.bump(Contract, contract.pk)
    events.record(actor=actor, obj=contract, verb="updated", changes={"files": [name, None]}, parent=contract.customer)

    def remove() -> None:
        default_storage.delete(path)

    events.after_commit(remove)
