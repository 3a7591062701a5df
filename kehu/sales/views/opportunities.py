"""Opportunities (商机): list, board per pipeline, 360° page, create/edit, stage moves, contacts and lines."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core import permissions, queries
from kehu.core.forms import apply_errors
from kehu.core.lists import render_list
from kehu.core.views import safe_next
from kehu.customers.models import Contact, Customer
from kehu.customers.queries import custom_values, profile_fields
from kehu.customers.views import _bulk
from kehu.sales import queries as sales_queries
from kehu.sales import services
from kehu.sales.forms import LossForm, OpportunityForm
from kehu.sales.lists import OPPORTUNITY_LIST
from kehu.sales.models import (
    Opportunity,
    OpportunityContact,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    Stage,
)

PROFILE = [
    "customer",
    "pipeline",
    "source",
    "campaign",
    "partner",
    "next_step",
    "started_on",
    "closed_on",
    "owner",
    "team",
    "created_at",
    "loss_reason",
    "loss_note",
]


def _money(value: Decimal | None) -> str:
    return number_format(value or 0, 0, force_grouping=True)


# --------------------------------------------------------------------------- list


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    return render_list(
        request,
        OPPORTUNITY_LIST,
        template="sales/opportunity_list.html",
        extra={
            "bulk_url": reverse("sales:opportunity_bulk"),
            "bulk_template": "customers/_bulk_actions.html",
            "bulk_model": "opportunity",
        },
    )


@login_required
@require_POST
def opportunity_bulk(request: HttpRequest) -> HttpResponse:
    return _bulk(request, Opportunity, reverse("sales:opportunity_list"), OPPORTUNITY_LIST.bulk_actions)


# --------------------------------------------------------------------------- board


def _pipeline(request: HttpRequest) -> tuple[Pipeline, list[Pipeline]]:
    pipelines = sales_queries.visible_pipelines()
    if not pipelines:
        raise Http404
    wanted = request.GET.get("pipeline", "")
    chosen = next((p for p in pipelines if str(p.pk) == wanted), pipelines[0])
    return chosen, pipelines


def _board_qs(request: HttpRequest, pipeline: Pipeline) -> Any:
    try:
        return sales_queries.board_queryset(request.user, pipeline, request.GET)
    except ValidationError:
        messages.error(request, _("Enter the expected close dates as YYYY-MM-DD."))
        return sales_queries.board_queryset(request.user, pipeline, {"owner": request.GET.get("owner", "")})


def _board_filters(request: HttpRequest) -> dict[str, str]:
    return {k: request.GET.get(k, "") for k in ("owner", "close_from", "close_to") if request.GET.get(k)}


@login_required
def opportunity_board(request: HttpRequest) -> HttpResponse:
    if not permissions.can(request.user, Opportunity, "view"):
        raise Http404
    pipeline, pipelines = _pipeline(request)
    columns = sales_queries.board_columns(pipeline)
    sales_queries.fill_board(columns, _board_qs(request, pipeline))
    filters = _board_filters(request)
    return render(
        request,
        "sales/opportunity_board.html",
        {
            "pipeline": pipeline,
            "pipelines": pipelines,
            "columns": columns,
            "filters": filters,
            "filter_query": "&".join(f"{k}={v}" for k, v in filters.items()),
            "today": timezone.localdate(),
            "can_add": permissions.can(request.user, Opportunity, "add"),
            "loss_form": LossForm(),
            "readable": _readable(request.user),
            "can_move": _can_move(request.user),
        },
    )


@login_required
def opportunity_board_column(request: HttpRequest) -> HttpResponse:
    """The next cards of one column ("load more"), as a fragment."""
    if not permissions.can(request.user, Opportunity, "view"):
        raise Http404
    pipeline, _pipelines = _pipeline(request)
    columns = {c.key: c for c in sales_queries.board_columns(pipeline)}
    col = columns.get(request.GET.get("column", ""))
    if col is None:
        raise Http404
    try:
        page = sales_queries.column_page(_board_qs(request, pipeline), col, request.GET.get("cursor") or None)
    except ValidationError as exc:
        return HttpResponse(exc.messages[0], status=400)
    filters = _board_filters(request)
    return render(
        request,
        "sales/_board_cards.html",
        {
            "col": col,
            "cards": page.items,
            "next_cursor": page.next_cursor,
            "pipeline": pipeline,
            "columns": list(columns.values()),
            "filter_query": "&".join(f"{k}={v}" for k, v in filters.items()),
            "today": timezone.localdate(),
            "readable": _readable(request.user),
            "can_move": _can_move(request.user),
        },
    )


def _can_move(user: Any) -> bool:
    """May the user move the board's deals? Every card on the board is within the user's scope, so the
    action and the field rule decide for all of them (the stage service checks each move again)."""
    pol = permissions.policy(user, Opportunity)
    return pol.can("change") and pol.can_write("stage")


def _readable(user: Any) -> dict[str, bool]:
    pol = permissions.policy(user, Opportunity)
    return {n: pol.can_read(n) for n in ("customer", "amount", "expected_close", "probability", "owner")}


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _stage_answer(request: HttpRequest, opp: Opportunity, act: Callable[[], str], **extra: Any) -> HttpResponse:
    """Run a stage action (a move or its undo) and answer it: JSON for the board's script (the new version and
    fresh column totals, plus `extra` on success), a redirect with a message otherwise."""
    status = 200
    try:
        ok, message = True, act()
    except services.StageConflict as exc:
        ok, message, status = False, exc.messages[0], 409
    except ValidationError as exc:
        ok, message, status = False, exc.messages[0], 400
    except PermissionDenied:
        ok, message, status = False, _("You do not have permission to move this deal."), 403
    if not _wants_json(request):
        (messages.success if ok else messages.error)(request, message)
        return redirect(safe_next(request, reverse("sales:opportunity_detail", args=[opp.pk])))
    opp.refresh_from_db()
    body: dict[str, Any] = {"ok": ok, "message": message, "version": opp.version, "stage": opp.stage_id}
    if ok:
        body.update(extra, columns=_column_totals(request, opp))
    return JsonResponse(body, status=status)


@login_required
@require_POST
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage (board drop, "Move to…" menu, stage path). JSON for the board's script:
    the new version, the undo target and fresh column totals; a redirect with a message otherwise."""
    opp = permissions.get_or_404(Opportunity.objects.select_related("stage"), request.user, pk)
    stage = Stage.objects.filter(pk=request.POST.get("stage") or 0).select_related("pipeline").first()
    before = {"stage": opp.stage_id, "loss_reason": opp.loss_reason, "loss_note": opp.loss_note}

    def act() -> str:
        if stage is None:
            raise ValidationError({"stage": [_("Choose a stage.")]})
        services.move_stage(
            actor=request.user,
            opp=opp,
            stage=stage,
            expected_version=_version(request),
            loss_reason=request.POST.get("loss_reason", ""),
            loss_note=request.POST.get("loss_note", ""),
        )
        return _("Moved “%(name)s” to %(stage)s.") % {"name": opp.name, "stage": stage.name}

    return _stage_answer(request, opp, act, undo=before, undo_url=reverse("sales:opportunity_move_undo", args=[pk]))


def _column_totals(request: HttpRequest, opp: Opportunity) -> dict[str, Any]:
    """Fresh count and totals of every column of the board the request came from, for the board's script."""
    raw = request.POST.get("pipeline", "")
    pipeline = (Pipeline.objects.filter(pk=raw).first() if raw.isdigit() else None) or opp.pipeline
    columns = sales_queries.board_columns(pipeline)
    sales_queries.fill_board(columns, _board_qs(request, pipeline), size=0)
    return {
        c.key: {
            "count": c.count,
            "totals": [
                {"currency": t["currency"], "amount": _money(t["amount"]), "weighted": _money(t["weighted"])}
                for t in c.totals
            ],
        }
        for c in columns
    }


@login_required
@require_POST
def opportunity_move_undo(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo the user's last stage move of a deal (the board's Undo button): a real reversal, not a second
    move. `version` is the version the move answered with; JSON like the move, a redirect otherwise."""
    opp = permissions.get_or_404(Opportunity.objects.select_related("stage"), request.user, pk)

    def act() -> str:
        services.undo_move(actor=request.user, opp=opp, expected_version=_version(request))
        opp.refresh_from_db()
        return _("Move undone: “%(name)s” is back in %(stage)s.") % {"name": opp.name, "stage": opp.stage.name}

    return _stage_answer(request, opp, act)


# --------------------------------------------------------------------------- 360° page


def _has_template(name: str) -> bool:
    try:
        select_template([name])
        return True
    except Exception:  # noqa: BLE001 - TemplateDoesNotExist: the follow-up panel is optional
        return False


@login_required
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opp = permissions.get_or_404(
        Opportunity.objects.select_related("owner", "team", "customer", "partner", "pipeline", "stage", "lead"),
        request.user,
        pk,
    )
    user = request.user
    pol = permissions.policy(user, Opportunity)
    can_change = permissions.can(user, Opportunity, "change", opp)
    stages = [s for s in Stage.objects.filter(pipeline_id=opp.pipeline_id).order_by("order", "id") if s.active]
    contacts = (
        list(opp.contact_roles.select_related("contact").order_by("contact__name"))
        if pol.can_read("contact_roles")
        else None
    )
    visible_contacts = set(
        permissions.visible(Contact, user)
        .filter(pk__in=[c.contact_id for c in contacts or []])
        .values_list("pk", flat=True)
    )
    lines = list(opp.lines.select_related("product")) if pol.can_read("lines") else None
    customer_visible = bool(
        opp.customer_id and pol.can_read("customer") and permissions.can(user, Customer, "view", opp.customer)
    )
    candidates = (
        list(permissions.visible(Contact, user).filter(customer_id=opp.customer_id).order_by("name_sort", "id")[:200])
        if can_change and opp.customer_id and pol.can_write("contact_roles")
        else []
    )
    linked = {c.contact_id for c in contacts or []}
    return render(
        request,
        "sales/opportunity_detail.html",
        {
            "obj": opp,
            "readable": _readable(user),
            "profile": profile_fields(user, opp, PROFILE),
            "custom": custom_values(user, "sales.opportunity", opp),
            "stages": stages,
            "open_stages": [s for s in stages if s.kind == Stage.Kind.OPEN],
            "closing_stages": [s for s in stages if s.kind != Stage.Kind.OPEN],
            "contacts": contacts,
            "visible_contacts": visible_contacts,
            "contact_candidates": [c for c in candidates if c.pk not in linked],
            "roles": OpportunityContact.Role.choices,
            "lines": lines,
            "lines_total": sum((line.total for line in lines or []), Decimal("0")),
            "history": sales_queries.stage_history(opp) if pol.can_read("stage") else [],
            "timeline": queries.timeline(user, opp),
            "customer_visible": customer_visible,
            "partner_visible": bool(opp.partner_id and permissions.can(user, Customer, "view", opp.partner)),
            "can_change": can_change,
            "can_move": can_change and pol.can_write("stage"),
            "can_assign": permissions.can(user, Opportunity, "assign", opp),
            "can_delete": permissions.can(user, Opportunity, "delete", opp),
            "users": queries.user_choices(),
            "loss_form": LossForm(),
            "today": timezone.localdate(),
            "followups_template": "activities/_panel.html" if _has_template("activities/_panel.html") else "",
        },
    )


def _save(request: HttpRequest, opp: Opportunity | None) -> HttpResponse:
    if opp is None and not permissions.can(request.user, Opportunity, "add"):
        raise Http404
    customers = permissions.visible(Customer, request.user)
    initial: dict[str, Any] = {}
    if opp is None:
        cid = request.GET.get("customer", "")
        customer = customers.filter(pk=cid).first() if cid.isdigit() else None
        if customer is not None:
            initial.update(customer=customer, name=customer.name, currency="CNY")
        pid = request.GET.get("pipeline", "")
        if pid.isdigit():
            initial["pipeline"] = Pipeline.objects.filter(pk=pid, active=True).first()
        sid = request.GET.get("stage", "")
        if sid.isdigit():
            initial["stage"] = Stage.objects.filter(pk=sid, active=True).first()
    form = OpportunityForm(request.POST or None, instance=opp, initial=initial, user=request.user, customers=customers)
    if request.method == "POST" and form.is_valid():
        try:
            if opp is None:
                opp = services.create_opportunity(
                    actor=request.user, data=form.model_values(), custom=form.custom_values()
                )
                messages.success(request, _("Opportunity created."))
            else:
                services.update_opportunity(
                    actor=request.user,
                    opp=opp,
                    values=form.model_values(),
                    custom=form.custom_values(),
                    expected_version=form.cleaned_data.get("version"),
                )
                messages.success(request, _("Opportunity saved."))
            return redirect("sales:opportunity_detail", opp.pk)
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You do not have permission to do this."))
    return render(request, "sales/opportunity_form.html", {"form": form, "obj": opp})


@login_required
def opportunity_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@login_required
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opp = permissions.get_or_404(Opportunity.objects.select_related("stage"), request.user, pk, "change")
    return _save(request, opp)


def _action(request: HttpRequest, pk: int, fn: Any, ok: str) -> HttpResponse:
    opp = permissions.get_or_404(Opportunity.objects.select_related("stage", "customer"), request.user, pk)
    try:
        fn(opp)
        messages.success(request, ok)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
    return redirect("sales:opportunity_detail", pk)


@login_required
@require_POST
def opportunity_assign(request: HttpRequest, pk: int) -> HttpResponse:
    owner = get_user_model().objects.filter(pk=request.POST.get("owner") or 0, is_active=True).first()

    def run(opp: Opportunity) -> None:
        if owner is None:
            raise ValidationError(_("Choose the new owner."))
        services.assign_opportunity(actor=request.user, opp=opp, owner=owner)

    return _action(request, pk, run, _("Owner changed."))


@login_required
@require_POST
def opportunity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    opp = permissions.get_or_404(Opportunity.objects.select_related("customer"), request.user, pk)
    try:
        services.delete_opportunity(actor=request.user, opp=opp)
    except PermissionDenied:
        messages.error(request, _("You do not have permission to do this."))
        return redirect("sales:opportunity_detail", pk)
    messages.success(request, _("Opportunity deleted."))
    return redirect("sales:opportunity_list")


@login_required
@require_POST
def opportunity_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a contact with a role, change a role, or remove a contact (the whole list goes to the service)."""

    def run(opp: Opportunity) -> None:
        current = [(link.contact, link.role) for link in opp.contact_roles.select_related("contact")]
        remove = request.POST.get("remove", "")
        add = request.POST.get("contact", "")
        role = request.POST.get("role", "")
        if remove.isdigit():
            wanted = [(c, r) for c, r in current if c.pk != int(remove)]
        elif add.isdigit():
            contact = permissions.visible(Contact, request.user).filter(pk=add).first()
            if contact is None:
                raise ValidationError(_("Choose a contact you can see."))
            wanted = [(c, r) for c, r in current if c.pk != contact.pk] + [(contact, role)]
        else:
            raise ValidationError(_("Choose a contact."))
        services.set_contacts(actor=request.user, opp=opp, contacts=wanted)

    return _action(request, pk, run, _("Contacts saved."))


def _price_list(currency: str) -> PriceList | None:
    return PriceList.objects.filter(currency=currency, active=True).order_by("-is_default", "id").first()


@login_required
def opportunity_lines(request: HttpRequest, pk: int) -> HttpResponse:
    """The products editor: rows of product, quantity, unit price (from the price list when empty), discount."""
    opp = permissions.get_or_404(Opportunity.objects.select_related("customer"), request.user, pk, "change")
    pol = permissions.policy(request.user, Opportunity)
    if not pol.can_write("lines"):
        raise Http404
    price_list = _price_list(opp.currency)
    prices = {i.product_id: i.price for i in PriceListItem.objects.filter(price_list=price_list)} if price_list else {}
    on_deal = opp.lines.exclude(product=None).values_list("product_id", flat=True)  # shown even once inactive
    products = list(Product.objects.filter(Q(active=True) | Q(pk__in=list(on_deal))).order_by("name"))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        rows = _rows_from_post(request.POST)
        try:
            services.set_lines(actor=request.user, opp=opp, lines=rows)
            messages.success(request, _("Products saved."))
            return redirect("sales:opportunity_detail", pk)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        except PermissionDenied:
            errors = {"__all__": [_("You do not have permission to do this.")]}
    else:
        rows = [
            {
                "product": str(line.product_id),
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount,
            }
            for line in opp.lines.all()
        ]
    shown = [*rows, {"product": "", "quantity": "1", "unit_price": "", "discount": "0"}]
    for i, row in enumerate(shown):
        row["errors"] = [m for k, msgs in errors.items() if k.startswith(f"lines.{i}.") for m in msgs]
    return render(
        request,
        "sales/opportunity_lines.html",
        {
            "obj": opp,
            "rows": shown,
            "products": [(p, prices.get(p.pk)) for p in products],
            "price_list": price_list,
            "errors": [m for k, msgs in errors.items() if not k.startswith("lines.") for m in msgs],
        },
    )


def _rows_from_post(data: Any) -> list[dict[str, Any]]:
    products, qtys = data.getlist("line-product"), data.getlist("line-quantity")
    prices, discounts = data.getlist("line-price"), data.getlist("line-discount")
    rows = []
    for i, product in enumerate(products):
        if not product:
            continue
        rows.append(
            {
                "product": product,
                "quantity": (qtys[i] if i < len(qtys) else "1") or "1",
                "unit_price": prices[i] if i < len(prices) else "",
                "discount": (discounts[i] if i < len(discounts) else "0") or "0",
            }
        )
    return rows
