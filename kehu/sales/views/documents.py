"""Quotes (报价单) → sales orders (销售订单) → contracts (合同) → payments (回款): lists, record pages, forms and
the step buttons. Thin: the gate reads, kehu.sales.services.documents writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core import permissions, queries
from kehu.core.forms import apply_errors
from kehu.core.lists import render_list
from kehu.customers.models import Contact, Customer
from kehu.customers.queries import custom_values, profile_fields
from kehu.sales import queries as sales_queries
from kehu.sales.forms.documents import ContractForm, PaymentForm, QuoteForm, ReceiveForm, UploadForm
from kehu.sales.lists_documents import CONTRACT_LIST, ORDER_LIST, PAYMENT_LIST, QUOTE_LIST
from kehu.sales.models import (
    Contract,
    Opportunity,
    Payment,
    PriceListItem,
    Product,
    Quote,
    SalesOrder,
)
from kehu.sales.pdf import quote_pdf
from kehu.sales.services import documents

# --------------------------------------------------------------------------- lists


@login_required
def quote_list(request: HttpRequest) -> HttpResponse:
    return render_list(request, QUOTE_LIST)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    return render_list(request, ORDER_LIST)


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    return render_list(request, CONTRACT_LIST)


@login_required
def payment_list(request: HttpRequest) -> HttpResponse:
    """Payments; `?overdue=1` is shorthand for planned ones due before today (shown as two filter chips)."""
    if request.GET.get("overdue") == "1":
        params = request.GET.copy()
        del params["overdue"]
        params["status"] = Payment.Status.PLANNED
        params["due_date__to"] = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
        return redirect(f"{request.path}?{params.urlencode()}")
    return render_list(request, PAYMENT_LIST, template="sales/payment_list.html")


# --------------------------------------------------------------------------- quotes


def _lines_from_post(data: Any) -> list[dict[str, Any]]:
    products, descs = data.getlist("line-product"), data.getlist("line-description")
    qtys, prices, discounts = data.getlist("line-quantity"), data.getlist("line-price"), data.getlist("line-discount")
    rows = []
    for i, product in enumerate(products):
        desc = descs[i] if i < len(descs) else ""
        if not product and not desc.strip():
            continue
        rows.append(
            {
                "product": product or None,
                "description": desc.strip(),
                "quantity": (qtys[i] if i < len(qtys) else "1") or "1",
                "unit_price": prices[i] if i < len(prices) else "",
                "discount": (discounts[i] if i < len(discounts) else "0") or "0",
            }
        )
    return rows


def _editor_rows(rows: list[dict[str, Any]], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    shown = [*rows, {"product": "", "description": "", "quantity": "1", "unit_price": "", "discount": "0"}]
    for i, row in enumerate(shown):
        row["product"] = str(getattr(row.get("product"), "pk", row.get("product")) or "")
        row["errors"] = [m for k, msgs in errors.items() if k.startswith(f"lines.{i}.") for m in msgs]
    return shown


def _price_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every active product with its price per price list, for the editor to fill in prices as you choose —
    plus the products already on the rows, so a line whose product is no longer sold still shows it (the
    service keeps it on the quote it was on and names it on a new one)."""
    prices: dict[int, dict[int, str]] = {}
    for item in PriceListItem.objects.filter(price_list__active=True):
        prices.setdefault(item.price_list_id, {})[item.product_id] = str(item.price)
    shown = {str(getattr(r.get("product"), "pk", r.get("product")) or "") for r in rows}
    ids = [int(pk) for pk in shown if pk.isdigit()]
    products = Product.objects.filter(Q(active=True) | Q(pk__in=ids)).order_by("name")
    return {"products": list(products), "prices": prices}


def _quote_form_context(request: HttpRequest, quote: Quote | None, customer: Customer | None) -> dict[str, Any]:
    customers = permissions.visible(Customer, request.user)
    contacts = (
        permissions.visible(Contact, request.user).filter(customer=customer) if customer else Contact.objects.none()
    )
    opps = (
        permissions.visible(Opportunity, request.user).filter(customer=customer)
        if customer
        else Opportunity.objects.none()
    )
    return {"customers": customers, "contacts": contacts, "opportunities": opps}


def _save_quote(request: HttpRequest, quote: Quote | None) -> HttpResponse:
    if quote is None and not permissions.can(request.user, Quote, "add"):
        raise Http404
    opp = customer = None
    initial: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    if quote is not None:
        customer = quote.customer
        rows = [
            {
                "product": line.product_id,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
            }
            for line in quote.lines.all()
        ]
    else:
        if request.GET.get("opportunity"):
            opp = permissions.get_or_404(Opportunity, request.user, request.GET["opportunity"])
            customer = opp.customer
        elif request.GET.get("customer"):
            customer = permissions.get_or_404(Customer, request.user, request.GET["customer"])
        price_list = documents.default_price_list(opp.currency if opp else None)
        initial = {"customer": customer, "opportunity": opp, "price_list": price_list, "tax_rate": "13"}
        if opp is not None:
            initial["title"] = opp.name
            rows = documents.opportunity_lines(opp, price_list)
            if price_list is None and request.method != "POST":
                messages.warning(request, documents.no_price_list_message(opp))
    post_customer = request.POST.get("customer") if request.method == "POST" else None
    if post_customer and post_customer.isdigit():
        customer = permissions.visible(Customer, request.user).filter(pk=post_customer).first() or customer
    form = QuoteForm(
        request.POST or None,
        instance=quote,
        initial=initial,
        user=request.user,
        **_quote_form_context(request, quote, customer),
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        rows = _lines_from_post(request.POST)
        if form.is_valid():
            values = form.model_values()
            try:
                if quote is None:
                    quote = documents.create_quote(
                        actor=request.user, data=values, lines=rows, custom=form.custom_values()
                    )
                    messages.success(request, _("Quote %(number)s created.") % {"number": quote.number})
                else:
                    documents.update_quote(
                        actor=request.user,
                        quote=quote,
                        values=values,
                        lines=rows,
                        custom=form.custom_values(),
                        expected_version=form.cleaned_data.get("version"),
                    )
                    messages.success(request, _("Quote saved."))
                return redirect("sales:quote_detail", quote.pk)
            except ValidationError as exc:
                errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
                apply_errors(form, ValidationError({k: v for k, v in errors.items() if not k.startswith("lines")}))
            except PermissionDenied:
                form.add_error(None, _("You do not have permission to do this."))
    line_errors = [m for k, msgs in errors.items() if k == "lines" for m in msgs]
    return render(
        request,
        "sales/quote_form.html",
        {
            "form": form,
            "obj": quote,
            "opportunity": opp,
            "rows": _editor_rows(rows, errors),
            "line_errors": line_errors,
            **_price_table(rows),
        },
    )


@login_required
def quote_create(request: HttpRequest) -> HttpResponse:
    return _save_quote(request, None)


@login_required
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    quote = permissions.get_or_404(Quote.objects.select_related("customer"), request.user, pk, "change")
    if quote.status != Quote.Status.DRAFT:
        messages.error(request, _("Only draft quotes can be changed. Make a new version instead."))
        return redirect("sales:quote_detail", pk)
    return _save_quote(request, quote)


QUOTE_PROFILE = ["customer", "contact", "opportunity", "price_list", "valid_until", "language", "owner", "team"]


@login_required
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quote = permissions.get_or_404(
        Quote.objects.select_related("customer", "contact", "opportunity", "price_list", "owner", "team"),
        request.user,
        pk,
    )
    user = request.user
    can_change = permissions.can(user, Quote, "change", quote)
    versions = list(
        permissions.visible(Quote, user)
        .filter(number=quote.number)
        .order_by("-revision")
        .only("pk", "revision", "status")
    )
    order = permissions.visible(SalesOrder, user).filter(quote=quote).first()
    newest = not versions or versions[0].pk == quote.pk
    return render(
        request,
        "sales/quote_detail.html",
        {
            "obj": quote,
            "lines": list(quote.lines.select_related("product")),
            "profile": profile_fields(user, quote, QUOTE_PROFILE),
            "custom": custom_values(user, "sales.quote", quote),
            "timeline": queries.timeline(user, quote),
            "can_change": can_change,
            "can_edit": can_change and quote.status == Quote.Status.DRAFT,
            "can_send": can_change and quote.status == Quote.Status.DRAFT,
            "can_decide": can_change and quote.status == Quote.Status.SENT,
            "can_accept": can_change and quote.status == Quote.Status.SENT and permissions.can(user, SalesOrder, "add"),
            "can_revise": can_change
            and newest
            and quote.status in (Quote.Status.DRAFT, Quote.Status.SENT, Quote.Status.DECLINED)
            and permissions.can(user, Quote, "add"),
            "versions": versions,
            "order": order,
            "customer_visible": permissions.can(user, Customer, "view", quote.customer),
            "opportunity_visible": quote.opportunity_id
            and permissions.can(user, Opportunity, "view", quote.opportunity),
        },
    )


def _quote_step(request: HttpRequest, pk: int, run: Callable[[Quote], Any], ok: str) -> HttpResponse:
    quote = permissions.get_or_404(Quote, request.user, pk)
    try:
        result = run(quote)
        messages.success(request, ok)
        return result if isinstance(result, HttpResponse) else redirect("sales:quote_detail", pk)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:quote_detail", pk)


@login_required
@require_POST
def quote_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _quote_step(
        request, pk, lambda q: documents.send_quote(actor=request.user, quote=q), _("Quote marked as sent.")
    )


@login_required
@require_POST
def quote_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _quote_step(
        request, pk, lambda q: documents.decline_quote(actor=request.user, quote=q), _("Quote marked as declined.")
    )


@login_required
@require_POST
def quote_accept(request: HttpRequest, pk: int) -> HttpResponse:
    def run(quote: Quote) -> HttpResponse:
        result = documents.accept_quote(actor=request.user, quote=quote)
        if result.opportunity_won is False:
            messages.warning(
                request,
                _("The deal was not moved to won: you may not change that opportunity. Ask its owner to close it."),
            )
        elif result.opportunity_won:
            messages.info(request, _("The opportunity is now won."))
        return redirect("sales:order_detail", result.order.pk)

    return _quote_step(request, pk, run, _("Quote accepted: the sales order was created."))


@login_required
@require_POST
def quote_revise(request: HttpRequest, pk: int) -> HttpResponse:
    def run(quote: Quote) -> HttpResponse:
        new = documents.revise_quote(actor=request.user, quote=quote)
        return redirect("sales:quote_edit", new.pk)

    return _quote_step(request, pk, run, _("New version created; the previous one is superseded."))


@login_required
def quote_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    quote = permissions.get_or_404(Quote.objects.select_related("customer", "contact"), request.user, pk)
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}-v{quote.revision}.pdf"'
    return response


# --------------------------------------------------------------------------- orders


def _payments(user: Any, q: Q, page: SalesOrder | Contract) -> list[Payment]:
    """The payments of one sale the user may see, each with `via`: the number of the other order or contract
    it was booked on, when that is not the page's own."""
    rows = list(
        permissions.visible(Payment, user)
        .filter(q)
        .select_related("sales_order", "contract")
        .order_by("due_date", "id")
    )
    for p in rows:
        doc = p.sales_order if p.sales_order_id else p.contract
        p.via = doc.number if doc is not None and doc != page else ""  # type: ignore[attr-defined]
    return rows


ORDER_PROFILE = ["customer", "quote", "opportunity", "ordered_on", "owner", "team"]


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = permissions.get_or_404(
        SalesOrder.objects.select_related("customer", "quote", "opportunity", "owner", "team"), request.user, pk
    )
    user = request.user
    pol = permissions.policy(user, SalesOrder)
    return render(
        request,
        "sales/order_detail.html",
        {
            "obj": order,
            "lines": list(order.lines.select_related("product")),
            "profile": profile_fields(user, order, ORDER_PROFILE),
            "custom": custom_values(user, "sales.salesorder", order),
            "timeline": queries.timeline(user, order),
            "show_paid": pol.can_read("paid_amount"),
            "collection": (collection := documents.collection(order)),
            "payments": _payments(user, documents.sale_payments(order), order),
            "contracts": list(permissions.visible(Contract, user).filter(sales_order=order).order_by("-id")),
            # nothing to add once every yuan is planned or received
            "can_pay": permissions.can(user, Payment, "add")
            and order.status != SalesOrder.Status.CANCELLED
            and collection.left > 0,
            "can_contract": permissions.can(user, Contract, "add"),
            "can_status": permissions.can(user, SalesOrder, "change", order)
            and order.status == SalesOrder.Status.CONFIRMED,
            "can_receive": permissions.can(user, Payment, "change"),
            "customer_visible": permissions.can(user, Customer, "view", order.customer),
            "quote_visible": order.quote_id and permissions.can(user, Quote, "view", order.quote),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def order_status(request: HttpRequest, pk: int) -> HttpResponse:
    order = permissions.get_or_404(SalesOrder, request.user, pk)
    try:
        documents.set_order_status(actor=request.user, order=order, status=request.POST.get("status", ""))
        messages.success(request, _("Order status changed."))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:order_detail", pk)


# --------------------------------------------------------------------------- contracts

CONTRACT_PROFILE = ["kind", "customer", "sales_order", "signed_on", "renewal_date", "owner", "team"]


def _save_contract(request: HttpRequest, contract: Contract | None) -> HttpResponse:
    if contract is None and not permissions.can(request.user, Contract, "add"):
        raise Http404
    order = None
    initial: dict[str, Any] = {}
    if contract is None:
        if request.GET.get("order"):
            order = permissions.get_or_404(
                SalesOrder.objects.select_related("customer"), request.user, request.GET["order"]
            )
            initial = {
                "customer": order.customer,
                "value": order.total,
                "currency": order.currency,
                "title": _("Contract for order %(number)s") % {"number": order.number},
                "start_date": timezone.localdate(),
            }
        elif request.GET.get("customer"):
            customer = permissions.get_or_404(Customer, request.user, request.GET["customer"])
            initial = {"customer": customer, "start_date": timezone.localdate(), "currency": "CNY"}
            if customer.relationship in (Contract.Kind.PARTNER, Contract.Kind.SUPPLIER):
                initial["kind"] = customer.relationship
        else:
            initial = {"start_date": timezone.localdate(), "currency": "CNY"}
    form = ContractForm(
        request.POST or None,
        instance=contract,
        initial=initial,
        user=request.user,
        customers=permissions.visible(Customer, request.user),
    )
    if order is not None and "customer" in form.fields:
        form.fields["customer"].disabled = True
    if request.method == "POST" and form.is_valid():
        values = form.model_values()
        try:
            if contract is None:
                if order is not None:
                    values["sales_order"] = order
                    values["customer"] = order.customer
                contract = documents.create_contract(actor=request.user, data=values, custom=form.custom_values())
                messages.success(request, _("Contract %(number)s created.") % {"number": contract.number})
            else:
                documents.update_contract(
                    actor=request.user,
                    contract=contract,
                    values=values,
                    custom=form.custom_values(),
                    expected_version=form.cleaned_data.get("version"),
                )
                messages.success(request, _("Contract saved."))
            return redirect("sales:contract_detail", contract.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    return render(request, "sales/contract_form.html", {"form": form, "obj": contract, "order": order})


@login_required
def contract_create(request: HttpRequest) -> HttpResponse:
    return _save_contract(request, None)


@login_required
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_contract(request, permissions.get_or_404(Contract, request.user, pk, "change"))


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = permissions.get_or_404(
        Contract.objects.select_related("customer", "sales_order", "owner", "team"), request.user, pk
    )
    user = request.user
    pol = permissions.policy(user, Contract)
    can_change = permissions.can(user, Contract, "change", contract)
    order = documents.shared_order(contract)
    order_cancelled = contract.sales_order_id is not None and contract.sales_order.status == SalesOrder.Status.CANCELLED
    return render(
        request,
        "sales/contract_detail.html",
        {
            "obj": contract,
            "profile": profile_fields(user, contract, CONTRACT_PROFILE),
            "custom": custom_values(user, "sales.contract", contract),
            "timeline": queries.timeline(user, contract),
            "files": list(contract.files.select_related("uploaded_by")) if pol.can_read("files") else None,
            # an order's contract shows the order's money: both received amounts must be readable
            "show_paid": pol.can_read("paid_amount")
            and (order is None or permissions.policy(user, SalesOrder).can_read("paid_amount")),
            "collection": documents.collection(contract),
            "shared_order": order,
            "payments": _payments(user, documents.sale_payments(order) if order else Q(contract=contract), contract),
            "can_change": can_change,
            "can_upload": can_change and pol.can_write("files"),
            "can_pay": permissions.can(user, Payment, "add")
            and contract.status != Contract.Status.TERMINATED
            and not order_cancelled
            and min(documents.collection(contract).left, documents.collection(contract, own=True).left) > 0,
            "can_receive": permissions.can(user, Payment, "change"),
            "upload_form": UploadForm(),
            "customer_visible": permissions.can(user, Customer, "view", contract.customer),
            "order_visible": contract.sales_order_id
            and permissions.can(user, SalesOrder, "view", contract.sales_order),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def contract_file_upload(request: HttpRequest, pk: int) -> HttpResponse:
    contract = permissions.get_or_404(Contract, request.user, pk, "change")
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationError({"file": [_("Choose a file to upload.")]})
        documents.add_contract_file(actor=request.user, contract=contract, upload=upload)
        messages.success(request, _("File uploaded."))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:contract_detail", pk)


@login_required
def contract_file(request: HttpRequest, pk: int, file_id: int) -> FileResponse:
    """A contract's file, for users who may see the contract; never a public media address."""
    return sales_queries.file_download(sales_queries.contract_file(request.user, pk, file_id))


@login_required
@require_POST
def contract_file_delete(request: HttpRequest, pk: int, file_id: int) -> HttpResponse:
    item = sales_queries.contract_file(request.user, pk, file_id, "change")
    try:
        documents.delete_contract_file(actor=request.user, item=item)
        messages.success(request, _("File removed."))
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:contract_detail", pk)


# --------------------------------------------------------------------------- payments


@login_required
def payment_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can(request.user, Payment, "add"):
        raise Http404
    order = contract = None
    if request.GET.get("order"):
        order = permissions.get_or_404(
            SalesOrder.objects.select_related("customer"), request.user, request.GET["order"]
        )
    elif request.GET.get("contract"):
        contract = permissions.get_or_404(
            Contract.objects.select_related("customer"), request.user, request.GET["contract"]
        )
    else:
        raise Http404
    target: Any = order or contract
    try:
        documents.check_takes_payments(target)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("sales:order_detail" if order else "sales:contract_detail", target.pk)
    room = documents.collection(target)
    left = min([room.left, *([documents.collection(contract, own=True).left] if contract is not None else [])])
    form = PaymentForm(request.POST or None, initial={"amount": left if left > 0 else None})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        data.update(sales_order=order, contract=contract)
        try:
            documents.create_payment(actor=request.user, data=data)
            messages.success(request, _("Payment saved."))
            return redirect("sales:order_detail" if order else "sales:contract_detail", target.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    return render(
        request,
        "sales/payment_form.html",
        {"form": form, "target": target, "order": order, "collection": room, "left": left},
    )


PAYMENT_PROFILE = ["customer", "sales_order", "contract", "due_date", "received_on", "method", "reference", "note"]


@login_required
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    payment = permissions.get_or_404(
        Payment.objects.select_related("customer", "sales_order", "contract", "owner"), request.user, pk
    )
    user = request.user
    return render(
        request,
        "sales/payment_detail.html",
        {
            "obj": payment,
            "profile": profile_fields(user, payment, PAYMENT_PROFILE),
            "timeline": queries.timeline(user, payment),
            "can_receive": permissions.can(user, Payment, "change", payment) and payment.status == "planned",
            "can_cancel": permissions.can(user, Payment, "change", payment) and payment.status != "cancelled",
            "receive_form": ReceiveForm(initial={"amount": payment.amount}),
        },
    )


@login_required
@require_POST
def payment_receive(request: HttpRequest, pk: int) -> HttpResponse:
    payment = permissions.get_or_404(Payment, request.user, pk, "change")
    form = ReceiveForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(next(iter(form.errors.values()))[0])
        data = form.cleaned_data
        documents.receive_payment(
            actor=request.user,
            payment=payment,
            received_on=data.get("received_on"),
            method=data.get("method") or "",
            reference=data.get("reference") or "",
            amount=data.get("amount"),
        )
        messages.success(request, _("Payment marked as received."))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:payment_detail", pk)


@login_required
@require_POST
def payment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    payment = permissions.get_or_404(Payment, request.user, pk, "change")
    try:
        documents.cancel_payment(actor=request.user, payment=payment)
        messages.success(request, _("Payment cancelled."))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:payment_detail", pk)
