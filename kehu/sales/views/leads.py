from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
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

from kehu.core import permissions, queries
from kehu.core.forms import apply_errors
from kehu.core.lists import render_list
from kehu.customers.forms import CN_PROVINCES
from kehu.customers.models import Contact, Customer
from kehu.customers.queries import custom_values, profile_fields
from kehu.customers.views import _bulk, _bulk_context
from kehu.sales import services
from kehu.sales.forms import DisqualifyForm, LeadForm
from kehu.sales.lists import LEAD_LIST
from kehu.sales.models import Lead, Opportunity, Pipeline, Stage

PROFILE = [
    "company",
    "title",
    "email",
    "phone",
    "wechat",
    "source",
    "campaign",
    "industry",
    "country",
    "province",
    "city",
    "owner",
    "team",
    "assigned_at",
    "created_at",
    "disqualify_reason",
    "disqualify_note",
    "converted_at",
]


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    return render_list(request, LEAD_LIST, extra={"bulk_url": reverse("sales:lead_bulk"), **_bulk_context(Lead)})


@login_required
@require_POST
def lead_bulk(request: HttpRequest) -> HttpResponse:
    return _bulk(request, Lead, reverse("sales:lead_list"), LEAD_LIST.bulk_actions)


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = permissions.get_or_404(
        Lead.objects.select_related("owner", "team", "converted_customer", "converted_contact"), request.user, pk
    )
    can_change = permissions.can(request.user, Lead, "change", lead)
    dups = services.find_duplicates(request.user, lead) if lead.status not in ("converted",) else None
    return render(
        request,
        "sales/lead_detail.html",
        {
            "obj": lead,
            "profile": profile_fields(request.user, lead, PROFILE),
            "custom": custom_values(request.user, "sales.lead", lead),
            "timeline": queries.timeline(request.user, lead),
            "can_change": can_change,
            "can_assign": permissions.can(request.user, Lead, "assign", lead),
            "can_delete": permissions.can(request.user, Lead, "delete", lead),
            "can_convert": can_change
            and lead.status not in ("converted", "disqualified")
            and permissions.can(request.user, Customer, "add")
            and permissions.can(request.user, Contact, "add"),
            "duplicates": dups,
            "disqualify_form": DisqualifyForm(),
            "users": queries.user_choices(),
            "customer_visible": lead.converted_customer_id
            and permissions.can(request.user, Customer, "view", lead.converted_customer),
            "contact_visible": lead.converted_contact_id
            and permissions.can(request.user, Contact, "view", lead.converted_contact),
        },
    )


def _save(request: HttpRequest, lead: Lead | None) -> HttpResponse:
    if lead is None and not permissions.can(request.user, Lead, "add"):
        raise Http404
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            if lead is None:
                lead = services.create_lead(actor=request.user, data=form.model_values(), custom=form.custom_values())
                messages.success(request, _("Lead created."))
            else:
                services.update_lead(
                    actor=request.user,
                    lead=lead,
                    values=form.model_values(),
                    custom=form.custom_values(),
                    expected_version=form.cleaned_data.get("version"),
                )
                messages.success(request, _("Lead saved."))
            return redirect("sales:lead_detail", lead.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
    return render(request, "sales/lead_form.html", {"form": form, "obj": lead, "provinces": CN_PROVINCES})


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@login_required
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save(request, permissions.get_or_404(Lead, request.user, pk, "change"))


def _action(request: HttpRequest, pk: int, fn, ok: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    lead = permissions.get_or_404(Lead, request.user, pk)
    try:
        fn(lead)
        messages.success(request, ok)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:lead_detail", pk)


@login_required
@require_POST
def lead_qualify(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, lambda lead: services.qualify(actor=request.user, lead=lead), _("Lead qualified."))


@login_required
@require_POST
def lead_disqualify(request: HttpRequest, pk: int) -> HttpResponse:
    return _action(
        request,
        pk,
        lambda lead: services.disqualify(
            actor=request.user, lead=lead, reason=request.POST.get("reason", ""), note=request.POST.get("note", "")
        ),
        _("Lead disqualified."),
    )


@login_required
@require_POST
def lead_assign(request: HttpRequest, pk: int) -> HttpResponse:
    owner = get_user_model().objects.filter(pk=request.POST.get("owner") or 0).first()

    def run(lead: Lead) -> None:
        if owner is None:
            raise ValidationError(_("Choose the new owner."))
        services.assign_lead(actor=request.user, lead=lead, owner=owner)

    return _action(request, pk, run, _("Owner changed."))


@login_required
@require_POST
def lead_delete(request: HttpRequest, pk: int) -> HttpResponse:
    lead = permissions.get_or_404(Lead, request.user, pk)
    try:
        services.delete_lead(actor=request.user, lead=lead)
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
        return redirect("sales:lead_detail", pk)
    messages.success(request, _("Lead deleted."))
    return redirect("sales:lead_list")


@login_required
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    """Convert in one step: to new records, or onto a customer (and contact) the duplicate check found."""
    lead = permissions.get_or_404(Lead, request.user, pk, "change")
    dups = services.find_duplicates(request.user, lead)
    can_opportunity = permissions.can(request.user, Opportunity, "add")
    error = None
    if request.method == "POST":
        choice = request.POST.get("target", "new")
        try:
            customer = contact = None
            if choice.startswith("customer:"):
                customer = permissions.get_or_404(Customer, request.user, choice.split(":", 1)[1])
                contact_id = request.POST.get("contact") or ""
                if contact_id:
                    contact = permissions.get_or_404(Contact, request.user, contact_id)
            opportunity_data = None
            if can_opportunity and request.POST.get("with_opportunity"):
                opportunity_data = _opportunity_data(request.POST)
            customer, contact, opp = services.convert(
                actor=request.user, lead=lead, customer=customer, contact=contact, opportunity_data=opportunity_data
            )
            messages.success(request, _("Lead converted into customer %(customer)s.") % {"customer": customer})
            if opp is not None:
                return redirect("sales:opportunity_detail", opp.pk)
            return redirect("customers:detail", customer.pk)
        except ValidationError as exc:
            error = "; ".join(exc.messages)
        except (PermissionDenied, Http404):
            error = _("You do not have permission to do this.")
    stages = list(Stage.objects.filter(active=True, pipeline__active=True).select_related("pipeline"))
    # the choice the form starts with: a contact holding the lead's e-mail or phone (and its customer) is a
    # stronger match than a customer of the same name; "create new" only when nothing matches
    suggested_contact = next((c for c in dups.contacts if c.customer_id is not None), None)
    suggested_customer = suggested_contact.customer_id if suggested_contact else None
    if suggested_customer is None and dups.customers:
        suggested_customer = dups.customers[0].pk
    return render(
        request,
        "sales/lead_convert.html",
        {
            "obj": lead,
            "duplicates": dups,
            "suggested_customer": suggested_customer,
            "suggested_contact": suggested_contact.pk if suggested_contact else None,
            "error": error,
            "can_opportunity": can_opportunity,
            "pipelines": Pipeline.objects.filter(active=True).order_by("-is_default", "order", "id"),
            "stages": stages,
            "post": request.POST if request.method == "POST" else None,
        },
    )


def _opportunity_data(post: Any) -> dict[str, Any]:
    """The conversion form's opportunity section; bad numbers and dates are named, nothing is saved."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    pipeline = Pipeline.objects.filter(pk=post.get("opp_pipeline") or 0, active=True).first()
    if pipeline is not None:
        data["pipeline"] = pipeline
    stage_id = post.get("opp_stage", "")
    if stage_id:
        stage = Stage.objects.filter(pk=stage_id if stage_id.isdigit() else 0, active=True).first()
        if stage is None or (pipeline is not None and stage.pipeline_id != pipeline.pk):
            errors["stage"] = [_("Choose a stage of the chosen pipeline.")]
        else:
            data["stage"] = stage
            data.setdefault("pipeline", stage.pipeline)
    amount = post.get("opp_amount", "").strip().replace(",", "")
    if amount:
        try:
            data["amount"] = Decimal(amount)
            if data["amount"] < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors["amount"] = [_("Enter the amount as a number, for example 12000.")]
    close = post.get("opp_expected_close", "").strip()
    if close:
        try:
            data["expected_close"] = dt.date.fromisoformat(close)
        except ValueError:
            errors["expected_close"] = [_("Enter the expected close date as YYYY-MM-DD.")]
    name = post.get("opp_name", "").strip()
    if name:
        data["name"] = name[:200]
    if errors:
        raise ValidationError(errors)
    return data
