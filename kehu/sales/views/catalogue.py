"""Settings → Products and Settings → Price lists (administrators: `change` on sales.product / sales.pricelist)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core import permissions
from kehu.core.forms import apply_errors
from kehu.sales.forms.documents import PriceListForm, ProductForm
from kehu.sales.models import PriceList, Product
from kehu.sales.services import catalogue


def _require(request: HttpRequest, object_type: str) -> None:
    if not permissions.can(request.user, object_type, "change"):
        raise Http404


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    _require(request, "sales.product")
    q = request.GET.get("q", "").strip()
    products = Product.objects.annotate(n_prices=Count("prices")).order_by("-active", "series", "name", "id")
    if q:
        products = products.filter(Q(name__icontains=q) | Q(sku__icontains=q) | Q(series__icontains=q))
    return render(
        request,
        "sales/product_list.html",
        {
            "products": products[:500],
            "q": q,
            "can_add": permissions.can(request.user, "sales.product", "add"),
            "section_url": "sales:product_list",
            "section_title": _("Products"),
        },
    )


def _save_product(request: HttpRequest, product: Product | None) -> HttpResponse:
    _require(request, "sales.product")
    form = ProductForm(request.POST or None, instance=product, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            if product is None:
                product = catalogue.create_product(actor=request.user, data=form.model_values())
                messages.success(request, _("Product created."))
            else:
                catalogue.update_product(actor=request.user, product=product, values=form.model_values())
                messages.success(request, _("Product saved."))
            return redirect("sales:product_list")
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    return render(request, "sales/product_form.html", {"form": form, "obj": product})


@login_required
def product_create(request: HttpRequest) -> HttpResponse:
    return _save_product(request, None)


@login_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "sales.product")
    product = Product.objects.filter(pk=pk).first()
    if product is None:
        raise Http404
    return _save_product(request, product)


@login_required
@require_POST
def product_active(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "sales.product")
    product = Product.objects.filter(pk=pk).first()
    if product is None:
        raise Http404
    active = not product.active
    catalogue.set_product_active(actor=request.user, product=product, active=active)
    messages.success(request, _("Product reactivated.") if active else _("Product deactivated."))
    return redirect("sales:product_list")


@login_required
def pricelist_list(request: HttpRequest) -> HttpResponse:
    _require(request, "sales.pricelist")
    lists = PriceList.objects.annotate(n_items=Count("items")).order_by("-active", "-is_default", "name", "id")
    return render(
        request,
        "sales/pricelist_list.html",
        {
            "price_lists": lists,
            "can_add": permissions.can(request.user, "sales.pricelist", "add"),
            "section_url": "sales:pricelist_list",
            "section_title": _("Price lists"),
        },
    )


def _save_pricelist(request: HttpRequest, price_list: PriceList | None) -> HttpResponse:
    _require(request, "sales.pricelist")
    form = PriceListForm(request.POST or None, instance=price_list, user=request.user)
    products = list(Product.objects.order_by("-active", "name", "id"))
    current = {i.product_id: i.price for i in price_list.items.all()} if price_list else {}
    posted = {p.pk: request.POST.get(f"price_{p.pk}", "").strip() for p in products} if request.method == "POST" else {}
    price_errors: dict[str, list[str]] = {}
    if request.method == "POST" and form.is_valid():
        try:
            prices = {p: posted[p.pk] for p in products if posted[p.pk] != "" or p.pk in current}
            if price_list is None:
                price_list = catalogue.create_price_list(actor=request.user, data=form.model_values(), prices=prices)
                messages.success(request, _("Price list created."))
            else:
                from django.db import transaction

                with transaction.atomic():
                    catalogue.update_price_list(actor=request.user, price_list=price_list, values=form.model_values())
                    catalogue.set_prices(actor=request.user, price_list=price_list, prices=prices)
                messages.success(request, _("Price list saved."))
            return redirect("sales:pricelist_list")
        except ValidationError as exc:
            price_errors = {k: v for k, v in exc.message_dict.items() if k.startswith("price_")}
            apply_errors(form, ValidationError({k: v for k, v in exc.message_dict.items() if k not in price_errors}))
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    rows = [
        {
            "product": p,
            "value": posted.get(p.pk, current.get(p.pk, "")) if posted else current.get(p.pk, ""),
            "errors": price_errors.get(f"price_{p.pk}", []),
        }
        for p in products
    ]
    return render(request, "sales/pricelist_form.html", {"form": form, "obj": price_list, "rows": rows})


@login_required
def pricelist_create(request: HttpRequest) -> HttpResponse:
    return _save_pricelist(request, None)


@login_required
def pricelist_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "sales.pricelist")
    price_list = PriceList.objects.filter(pk=pk).first()
    if price_list is None:
        raise Http404
    return _save_pricelist(request, price_list)
