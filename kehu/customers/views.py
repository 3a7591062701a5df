from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core import permissions, queries, registry
from kehu.core.forms import apply_errors
from kehu.core.lists import render_list
from kehu.core.views import safe_next
from kehu.customers import forms, services
from kehu.customers.lists import CONTACT_LIST, CUSTOMER_LIST
from kehu.customers.models import ChannelKind, Contact, Customer, LifecycleStage
from kehu.customers.queries import custom_values, customer_360, profile_fields

PROFILE = [
    "kind",
    "relationship",
    "uscc",
    "industry",
    "source",
    "size_tier",
    "country",
    "province",
    "city",
    "address",
    "website",
    "owner",
    "team",
    "created_at",
    "credit_limit",
    "payment_terms",
    "bank_account",
]
CONTACT_PROFILE = ["title", "department", "gender", "birthday", "owner", "team", "created_at"]


def _bulk_context(model: Any) -> dict[str, Any]:
    return {
        "bulk_template": "customers/_bulk_actions.html",
        "stages": LifecycleStage.choices,
        "bulk_model": model._meta.model_name,
    }


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    return render_list(request, CUSTOMER_LIST, extra={"bulk_url": reverse("customers:bulk"), **_bulk_context(Customer)})


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    return render_list(
        request, CONTACT_LIST, extra={"bulk_url": reverse("customers:contact_bulk"), **_bulk_context(Contact)}
    )


def _bulk(request: HttpRequest, model: type, fallback: str, allowed: tuple[str, ...]) -> HttpResponse:
    action = request.POST.get("action", "")
    action = action if action in allowed else ""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    every = request.POST.get("all_matching") == "1"  # every record of the list, not only the rows shown
    try:
        if not ids and not every:
            raise ValidationError(_("Select at least one record."))
        if action == "assign":
            value: Any = get_user_model().objects.filter(pk=request.POST.get("owner") or 0, is_active=True).first()
            if value is None:
                raise ValidationError(_("Choose the new owner."))
        elif action == "tag":
            value = services.get_or_create_tag(actor=request.user, name=request.POST.get("tag", ""))
        elif action == "stage" and model is Customer:
            value = request.POST.get("stage", "")
        else:
            raise ValidationError(_("Choose an action."))
        if every:
            back = safe_next(request, fallback)
            job = services.start_bulk_all(
                actor=request.user,
                object_type=registry.get(model).key,
                query=request.POST.get("query", ""),
                action=action,
                value=value,
                back=back,
            )
            messages.success(request, _("Changing every matching record in the background; progress is shown below."))
            return redirect(f"{back}{'&' if '?' in back else '?'}job={job.pk}")
        changed, skipped = services.bulk_update(actor=request.user, model=model, ids=ids, action=action, value=value)
        messages.success(request, _("%(n)d records changed.") % {"n": changed})
        if skipped:
            messages.warning(request, _("%(n)d records were skipped: you may not change them.") % {"n": skipped})
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect(safe_next(request, fallback))


@login_required
@require_POST
def customer_bulk(request: HttpRequest) -> HttpResponse:
    return _bulk(request, Customer, reverse("customers:list"), CUSTOMER_LIST.bulk_actions)


@login_required
@require_POST
def contact_bulk(request: HttpRequest) -> HttpResponse:
    return _bulk(request, Contact, reverse("customers:contact_list"), CONTACT_LIST.bulk_actions)


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = permissions.get_or_404(Customer.objects.select_related("owner", "team"), request.user, pk)
    pol = permissions.policy(request.user, Customer)
    ctx = {
        "obj": customer,
        "profile": profile_fields(request.user, customer, PROFILE),
        "can_change": permissions.can(request.user, Customer, "change", customer),
        "can_assign": permissions.can(request.user, Customer, "assign", customer),
        "can_delete": permissions.can(request.user, Customer, "delete", customer),
        "can_stage": pol.can_write("lifecycle_stage") and permissions.can(request.user, Customer, "change", customer),
        "can_add_contact": permissions.can(request.user, Contact, "add"),
        "stages": LifecycleStage.choices,
        "users": queries.user_choices(),
        "show_tags": pol.can_read("tags"),
        **customer_360(request.user, customer),
    }
    return render(request, "customers/customer_detail.html", ctx)


def _save_customer(request: HttpRequest, customer: Customer | None) -> HttpResponse:
    if customer is None and not permissions.can(request.user, Customer, "add"):
        raise Http404
    form = forms.CustomerForm(request.POST or None, instance=customer, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            names = form.tag_list()
            tags = (
                [services.get_or_create_tag(actor=request.user, name=n) for n in names] if names is not None else None
            )
            if customer is None:
                customer = services.create_customer(
                    actor=request.user, data=form.model_values(), custom=form.custom_values(), tags=tags or []
                )
                messages.success(request, _("Customer created."))
            else:
                services.update_customer(
                    actor=request.user,
                    customer=customer,
                    values=form.model_values(),
                    custom=form.custom_values(),
                    tags=tags,
                    expected_version=form.cleaned_data.get("version"),
                )
                messages.success(request, _("Customer saved."))
            return redirect("customers:detail", customer.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
    return render(
        request, "customers/customer_form.html", {"form": form, "obj": customer, "provinces": forms.CN_PROVINCES}
    )


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    return _save_customer(request, None)


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_customer(request, permissions.get_or_404(Customer, request.user, pk, "change"))


@login_required
@require_POST
def customer_stage(request: HttpRequest, pk: int) -> HttpResponse:
    customer = permissions.get_or_404(Customer, request.user, pk)
    try:
        services.change_stage(actor=request.user, customer=customer, stage=request.POST.get("stage", ""))
        messages.success(request, _("Lifecycle stage changed."))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("customers:detail", pk)


@login_required
@require_POST
def assign(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = Customer if kind == "customer" else Contact
    obj = permissions.get_or_404(model, request.user, pk)
    owner = get_user_model().objects.filter(pk=request.POST.get("owner") or 0).first()
    try:
        if owner is None:
            raise ValidationError(_("Choose the new owner."))
        services.assign(actor=request.user, obj=obj, owner=owner)
        messages.success(request, _("Owner changed to %(user)s.") % {"user": owner})
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect(f"customers:{'detail' if kind == 'customer' else 'contact_detail'}", pk)


@login_required
@require_POST
def customer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    customer = permissions.get_or_404(Customer, request.user, pk)
    try:
        services.delete_customer(actor=request.user, customer=customer)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("customers:detail", pk)
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
        return redirect("customers:detail", pk)
    messages.success(request, _("Customer deleted."))
    return redirect("customers:list")


@login_required
def customer_lookup(request: HttpRequest) -> HttpResponse:
    """Suggestions for the customer picker: search hits among customers the user may see."""
    from kehu.core import search

    q = request.GET.get("q", "").strip()
    if q:
        hits = [
            (h.object_id, h.title, h.subtitle)
            for h in search.search(request.user, q, types=["customers.customer"], limit=10)
        ]
    else:
        hits = [
            (c.pk, c.name, "") for c in permissions.visible(Customer, request.user).order_by("-updated_at", "-id")[:10]
        ]
    return render(request, "customers/_lookup.html", {"hits": hits, "q": q})


# --------------------------------------------------------------------------- contacts


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = permissions.get_or_404(Contact.objects.select_related("owner", "team", "customer"), request.user, pk)
    pol = permissions.policy(request.user, Contact)
    customer_visible = (
        contact.customer_id
        and pol.can_read("customer")
        and permissions.can(request.user, Customer, "view", contact.customer)
    )
    return render(
        request,
        "customers/contact_detail.html",
        {
            "obj": contact,
            "profile": profile_fields(request.user, contact, CONTACT_PROFILE),
            "channels": list(contact.channels.all()) if pol.can_read("channels") else None,
            "customer_visible": customer_visible,
            "custom": custom_values(request.user, "customers.contact", contact),
            "timeline": queries.timeline(request.user, contact),
            "can_change": permissions.can(request.user, Contact, "change", contact),
            "can_assign": permissions.can(request.user, Contact, "assign", contact),
            "can_delete": permissions.can(request.user, Contact, "delete", contact),
            "users": queries.user_choices(),
        },
    )


def _save_contact(request: HttpRequest, contact: Contact | None) -> HttpResponse:
    if contact is None and not permissions.can(request.user, Contact, "add"):
        raise Http404
    customers = permissions.visible(Customer, request.user)
    initial = {}
    if contact is None and request.GET.get("customer"):
        initial["customer"] = (
            customers.filter(pk=request.GET["customer"]).first() if request.GET["customer"].isdigit() else None
        )
    form = forms.ContactForm(
        request.POST or None, instance=contact, initial=initial, user=request.user, customers=customers
    )
    pol = permissions.policy(request.user, Contact)
    channels = (
        forms.channels_from_post(request.POST)
        if request.method == "POST"
        else (
            [
                {"kind": c.kind, "value": c.value, "label": c.label, "is_primary": c.is_primary}
                for c in contact.channels.all()
            ]
            if contact
            else []
        )
    )
    channel_errors: dict[str, list[str]] = {}
    if request.method == "POST" and form.is_valid():
        try:
            writable = pol.can_write("channels")
            if contact is None:
                contact = services.create_contact(
                    actor=request.user,
                    data=form.model_values(),
                    channels=channels if writable else [],
                    custom=form.custom_values(),
                )
                messages.success(request, _("Contact created."))
            else:
                services.update_contact(
                    actor=request.user,
                    contact=contact,
                    values=form.model_values(),
                    channels=channels if writable else None,
                    custom=form.custom_values(),
                    expected_version=form.cleaned_data.get("version"),
                )
                messages.success(request, _("Contact saved."))
            return redirect("customers:contact_detail", contact.pk)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                channel_errors = {k: v for k, v in exc.message_dict.items() if k.startswith("channels")}
                rest = {k: v for k, v in exc.message_dict.items() if not k.startswith("channels")}
                if rest:
                    apply_errors(form, ValidationError(rest))
            else:
                apply_errors(form, exc)
    rows = []
    for i, ch in enumerate([*channels, {"kind": "email", "value": ""}] if len(channels) < 8 else channels):
        rows.append(
            {
                **ch,
                "index": i,
                "errors": channel_errors.get(f"channels.{i}.value", []) + channel_errors.get(f"channels.{i}.kind", []),
            }
        )
    return render(
        request,
        "customers/contact_form.html",
        {
            "form": form,
            "obj": contact,
            "channel_rows": rows,
            "kinds": ChannelKind.choices,
            "show_channels": pol.can_read("channels"),
            "channels_readonly": not pol.can_write("channels"),
        },
    )


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    return _save_contact(request, None)


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_contact(request, permissions.get_or_404(Contact, request.user, pk, "change"))


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = permissions.get_or_404(Contact, request.user, pk)
    customer_id = contact.customer_id
    try:
        services.delete_contact(actor=request.user, contact=contact)
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
        return redirect("customers:contact_detail", pk)
    messages.success(request, _("Contact deleted."))
    if customer_id and permissions.visible(Customer, request.user).filter(pk=customer_id).exists():
        return redirect("customers:detail", customer_id)
    return redirect("customers:contact_list")
