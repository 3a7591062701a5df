"""Quotes (报价单) with their versions and status, and the sales orders (销售订单) an accepted quote becomes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events, permissions
from kehu.core import services as core
from kehu.customers.models import Contact, Customer
from kehu.sales.models import Opportunity, OrderLine, PriceList, Quote, QuoteLine, SalesOrder, Stage
from kehu.sales.services.documents.common import (
    QS,
    _line_summary,
    _tax_rate,
    _write_lines,
    clean_document_lines,
    compute_totals,
    next_number,
)
from kehu.sales.services.documents.payments import cancel_planned, collection
from kehu.sales.services.opportunities import move_stage


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


def no_price_list_message(opp: Opportunity) -> str:
    return _(
        "There is no active price list in %(currency)s, the currency of the deal “%(deal)s”. Add one in "
        "Settings → Price lists, or change the deal’s currency."
    ) % {"currency": opp.currency, "deal": opp.name}


def _check_price_list(price_list: PriceList | None, opp: Opportunity | None = None) -> PriceList:
    """An active price list — in the deal's currency when the quote is for a deal (a quote for a deal in EUR is
    in EUR, never silently in another currency at that currency's prices)."""
    if price_list is None:
        raise ValidationError({"price_list": [no_price_list_message(opp) if opp else _("Choose a price list.")]})
    if not price_list.active:
        raise ValidationError({"price_list": [_("This price list is no longer in use.")]})
    if opp is not None and price_list.currency != opp.currency:
        raise ValidationError(
            {
                "price_list": [
                    _(
                        "The deal “%(deal)s” is in %(currency)s; the price list “%(list)s” is in %(other)s. "
                        "Choose a price list in %(currency)s."
                    )
                    % {
                        "deal": opp.name,
                        "currency": opp.currency,
                        "list": price_list.name,
                        "other": price_list.currency,
                    }
                    if PriceList.objects.filter(active=True, currency=opp.currency).exists()
                    else no_price_list_message(opp)
                ]
            }
        )
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
    """The price list to preselect: the default one — or, for a currency (a deal's), the default one in that
    currency, and none when no active list has it (never one in another currency)."""
    qs = PriceList.objects.filter(active=True)
    if currency:
        qs = qs.filter(currency=currency)
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
    price_list = _check_price_list(data.get("price_list") or default_price_list(opp.currency if opp else None), opp)
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
    price_list = _check_price_list(
        values.get("price_list", locked.price_list), values.get("opportunity", locked.opportunity)
    )
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
    on_quote = set(locked.lines.exclude(product=None).values_list("product_id", flat=True))
    cleaned = clean_document_lines(lines, price_list, keep=on_quote)
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
    _copy_lines(OrderLine, "sales_order", order, quote.lines.all())
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
    _copy_lines(QuoteLine, "quote", new, locked.lines.all())
    return new


ORDER_FLOW: dict[str, tuple[str, ...]] = {
    SalesOrder.Status.CONFIRMED: (SalesOrder.Status.DELIVERED, SalesOrder.Status.CANCELLED),
    SalesOrder.Status.DELIVERED: (),
    SalesOrder.Status.CANCELLED: (),
}


@transaction.atomic
def set_order_status(*, actor: Any, order: SalesOrder, status: str) -> dict[str, Any]:
    """Confirmed → delivered or cancelled; an order with received payments (on it or on its contracts) cannot be
    cancelled, and cancelling it cancels its planned payments (they will not be paid, so never overdue)."""
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
    if status == SalesOrder.Status.CANCELLED and (locked.paid_amount > 0 or collection(locked).received > 0):
        raise ValidationError({"status": [_("Payments were received for this order; it cannot be cancelled.")]})
    order.refresh_from_db()
    changes = core.update(actor=actor, obj=order, values={"status": status}, parent=order.customer)
    if status == SalesOrder.Status.CANCELLED:
        cancel_planned(actor=actor, target=order)
    return changes


def _copy_lines(model: type[models.Model], parent_field: str, parent: Any, lines: Iterable[QuoteLine]) -> None:
    """The quote's lines, as they are, onto an order or a new version of the quote."""
    fields = ("product_id", "description", "quantity", "unit_price", "discount", "total", "order")
    model._default_manager.bulk_create(
        [model(**{parent_field: parent}, **{f: getattr(line, f) for f in fields}) for line in lines]
    )
