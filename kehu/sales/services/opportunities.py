"""Every write to opportunities: create, edit, stage moves (with history), contacts and line items (S2).

A stage move locks the row, checks the version the mover saw (two people dragging the same card: the
second gets a conflict, not a silent overwrite), closes the open stay in the stage history, opens the next
one and keeps the denormalised `status`, `closed_on`, `stage_entered_at` and `max_stage_order` in step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, F, Max, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import events, permissions
from kehu.core import services as core
from kehu.core.models import PicklistOption
from kehu.customers.models import Contact, Customer
from kehu.sales import queries as sales_queries
from kehu.sales.models import (
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    Pipeline,
    PriceListItem,
    Product,
    Stage,
    StageHistory,
)

S = Opportunity.Status
# fields that change only through their own action, never through a plain edit
OWN_ACTIONS = {"stage", "pipeline", "status", "closed_on", "owner", "team", "loss_reason", "loss_note", "lead"}


class StageConflict(ValidationError):
    """The deal moved (or changed) after the mover loaded it; nothing was saved. The API answers 409."""


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(active=True).order_by("-is_default", "order", "id").first()
    if pipeline is None:
        raise ValidationError({"pipeline": [_("Create a pipeline first (Settings → Pipelines).")]})
    return pipeline


def first_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=Stage.Kind.OPEN, active=True).order_by("order", "id").first()
    if stage is None:
        raise ValidationError({"stage": [_("This pipeline has no open stage.")]})
    return stage


def recompute_reach(
    *, pipeline_id: int, opportunity_ids: Iterable[int] | None = None, id_range: tuple[int, int] | None = None
) -> int:
    """Set `max_stage_order` (the furthest stage reached, as a stage order) of the pipeline's deals — or of
    the given ones only — from their stage history, in one UPDATE with a correlated subquery: the highest
    order among the deal's stays in a stage of this pipeline that is not a lost stage, else the order of the
    pipeline's first open stage. Run it whenever stage orders change (reorder, a stage inserted) and after an
    undone move, so reports count by stage, not by position.

    The stages' current orders go into the query as constants (CASE stage WHEN … THEN order), so each deal
    costs one index-only look-up of its stays, and only deals whose value changes are written: on PostgreSQL
    with 1M deals and 2.5M stays, 5 s when nothing changes, about 40 s when a quarter of the deals change
    (each rewritten row updates every index of the table). `id_range` (first, last id) limits it to a batch
    of a background recount (`pipelines.recount_reach`). Returns the number of deals updated."""
    stages = list(
        Stage.objects.filter(pipeline_id=pipeline_id)
        .order_by("order", "id")
        .values_list("pk", "order", "kind", "active")
    )
    first = next((o for _pk, o, kind, active in stages if kind == Stage.Kind.OPEN and active), 0)
    counted = [(pk, o) for pk, o, kind, _active in stages if kind != Stage.Kind.LOST]
    small = models.PositiveSmallIntegerField()
    value: Any = Value(first, output_field=small)
    if counted:
        order = Case(*[When(stage_id=pk, then=Value(o)) for pk, o in counted], output_field=small)
        reached = (
            StageHistory.objects.filter(opportunity_id=OuterRef("pk"), stage_id__in=[pk for pk, _o in counted])
            .order_by()
            .values("opportunity_id")
            .annotate(m=Max(order))
            .values("m")
        )
        value = Coalesce(Subquery(reached, output_field=small), value, output_field=small)
    deals = Opportunity.objects.filter(pipeline_id=pipeline_id)
    if opportunity_ids is not None:
        deals = deals.filter(pk__in=list(opportunity_ids))
    if id_range is not None:
        deals = deals.filter(pk__gte=id_range[0], pk__lte=id_range[1])
    return deals.alias(reached=value).exclude(max_stage_order=F("reached")).update(max_stage_order=value)


def _check_loss_reason(reason: str) -> None:
    if not reason:
        raise ValidationError({"loss_reason": [_("Give a reason for losing this deal.")]})
    if not PicklistOption.objects.filter(list="loss_reason", value=reason, active=True).exists():
        raise ValidationError({"loss_reason": [_("“%(value)s” is not a loss reason.") % {"value": reason}]})


def _check_customer(actor: Any, values: dict[str, Any]) -> None:
    for name in ("customer", "partner"):
        c = values.get(name)
        if c is not None and not permissions.can(actor, Customer, "view", c):
            raise ValidationError({name: [_("Choose a customer you can see.")]})
    partner = values.get("partner")
    if partner is not None and partner.relationship != Customer.Relationship.PARTNER:
        raise ValidationError({"partner": [_("“%(name)s” is not marked as a partner.") % {"name": partner.name}]})


def _clean_competitors(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        name = str(item).strip()[:80]
        if name and name not in out:
            out.append(name)
    return out[:20]


@transaction.atomic
def create_opportunity(
    *,
    actor: Any,
    data: dict[str, Any],
    custom: dict[str, Any] | None = None,
    owner: Any | None = None,
    contacts: Iterable[tuple[Contact, str]] = (),
    lines: Iterable[dict[str, Any]] = (),
    at: dt.datetime | None = None,
) -> Opportunity:
    """A new deal in the chosen pipeline and stage (defaults: the default pipeline's first open stage).
    `at` back-dates the first stage entry (imports); a deal created as lost needs a loss reason."""
    data = dict(data)
    now = at or timezone.now()
    pipeline = data.pop("pipeline", None) or default_pipeline()
    stage = data.pop("stage", None) or first_stage(pipeline)
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": [_("This stage belongs to another pipeline.")]})
    _check_customer(actor, data)
    if stage.kind == Stage.Kind.LOST:
        _check_loss_reason(data.get("loss_reason", ""))
    data["competitors"] = _clean_competitors(data.get("competitors"))
    prob = data.pop("probability", None)
    owner = owner or actor
    opp = Opportunity(
        **data,
        pipeline=pipeline,
        stage=stage,
        status=stage.kind,
        probability=stage.probability if prob in (None, "") else prob,
        probability_overridden=prob not in (None, ""),
        owner=owner,
        team=getattr(owner, "team", None),
        stage_entered_at=now,
    )
    opp.started_on = opp.started_on or timezone.localdate(now)
    if stage.kind != Stage.Kind.OPEN:
        opp.closed_on = opp.closed_on or timezone.localdate(now)
        if stage.kind == Stage.Kind.WON:
            opp.probability = 100
        else:
            opp.probability = 0
    opp.max_stage_order = stage.order if stage.kind != Stage.Kind.LOST else first_stage(pipeline).order
    core.create(actor=actor, obj=opp, custom=custom, parent=opp.customer)
    StageHistory.objects.create(opportunity=opp, stage=stage, entered_at=now, entered_by=actor, amount=opp.amount)
    for contact, role in contacts:
        _add_contact(actor, opp, contact, role)
    line_list = list(lines)
    if line_list:
        set_lines(actor=actor, opp=opp, lines=line_list, record=False)
    events.after_commit(lambda: sales_queries.note_currency(opp.currency))
    return opp


@transaction.atomic
def update_opportunity(
    *,
    actor: Any,
    opp: Opportunity,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    blocked = OWN_ACTIONS & set(values)
    if blocked:
        raise ValidationError({f: [_("This field changes through its own action.")] for f in sorted(blocked)})
    values = dict(values)
    _check_customer(actor, values)
    if "competitors" in values:
        values["competitors"] = _clean_competitors(values["competitors"])
    if "probability" in values:
        prob = values["probability"]
        if prob in (None, ""):
            values["probability"] = opp.stage.probability
            values["probability_overridden"] = False
        else:
            values["probability_overridden"] = prob != opp.stage.probability or opp.probability_overridden
    changes = core.update(
        actor=actor,
        obj=opp,
        values=values,
        custom=custom,
        expected_version=expected_version,
        parent=opp.customer,
    )
    if "amount" in changes:
        StageHistory.objects.filter(opportunity=opp, left_at__isnull=True).update(amount=opp.amount)
    if "currency" in changes:
        events.after_commit(lambda: sales_queries.note_currency(opp.currency))
    return changes


def _conflict(locked: Opportunity) -> StageConflict:
    return StageConflict(
        {
            "stage": [
                _(
                    "Someone else changed this deal after you loaded it (it is now in “%(stage)s”). "
                    "Reload to see their change."
                )
                % {"stage": locked.stage.name}
            ]
        }
    )


@transaction.atomic
def move_stage(
    *,
    actor: Any,
    opp: Opportunity,
    stage: Stage,
    expected_version: int | None = None,
    loss_reason: str = "",
    loss_note: str = "",
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Move a deal to another stage (of its own or another pipeline), keeping the stage history."""
    locked = Opportunity.objects.select_for_update().select_related("stage").get(pk=opp.pk)
    pol = core.require(actor, Opportunity, "change", locked)
    if not pol.can_write("stage"):
        raise ValidationError({"stage": [_("You may not change this field.")]})
    if expected_version is not None and locked.version != expected_version:
        raise _conflict(locked)
    if stage.pk == locked.stage_id:
        return {}
    if not stage.active:
        raise ValidationError({"stage": [_("This stage is no longer in use.")]})
    now = at or timezone.now()
    values: dict[str, Any] = {
        "stage": stage,
        "pipeline": stage.pipeline,
        "status": stage.kind,
        "stage_entered_at": now,
        "loss_reason": "",
        "loss_note": "",
        "closed_on": None,
    }
    if stage.kind == Stage.Kind.LOST:
        _check_loss_reason(loss_reason)
        values.update(loss_reason=loss_reason, loss_note=loss_note[:300], probability=0)
    elif stage.kind == Stage.Kind.WON:
        values.update(probability=100, max_stage_order=stage.order)
    else:
        values["max_stage_order"] = (
            max(locked.max_stage_order, stage.order) if stage.pipeline_id == locked.pipeline_id else stage.order
        )
        if not locked.probability_overridden or locked.status != S.OPEN:
            values["probability"] = stage.probability
    if stage.kind != Stage.Kind.OPEN:
        values["closed_on"] = timezone.localdate(now)
    opp.refresh_from_db()
    changes = core.update(
        actor=actor,
        obj=opp,
        values=values,
        verb="stage_changed",
        parent=opp.customer,
        data={"from": locked.stage_id, "to": stage.pk},
    )
    StageHistory.objects.filter(opportunity=opp, left_at__isnull=True).update(left_at=now)
    StageHistory.objects.create(opportunity=opp, stage=stage, entered_at=now, entered_by=actor, amount=opp.amount)
    return changes


UNDO_WINDOW = dt.timedelta(minutes=2)
# what a move may change besides stage, pipeline and status; an undo puts back the values its event recorded
UNDONE_FIELDS = ("probability", "closed_on", "loss_reason", "loss_note")


class UndoRefused(ValidationError):
    """The move can no longer be undone (too old, not the actor's, or the deal changed since)."""


def _refuse(message: str) -> UndoRefused:
    return UndoRefused({"stage": [message]})


def _old_value(name: str, value: Any) -> Any:
    if name == "closed_on" and value:
        return dt.date.fromisoformat(value)
    if name in ("loss_reason", "loss_note"):
        return value or ""
    return value


@transaction.atomic
def undo_move(*, actor: Any, opp: Opportunity, expected_version: int | None) -> dict[str, Any]:
    """Take back the actor's last stage move of this deal, as if it had not happened: the open stay is
    deleted, the previous one reopened, and stage, pipeline, status, time in stage, probability, close date,
    loss reason and note are restored; the furthest stage reached is recomputed from the remaining history.
    Only the mover may undo, within two minutes, and only while nothing changed since (`expected_version`
    is the version the move returned: a different one is the same conflict a stale move gets). The event log
    keeps the move and gets a `stage_changed` event marked `"undo": true`."""
    from django.contrib.contenttypes.models import ContentType

    from kehu.core.models import Event

    locked = Opportunity.objects.select_for_update().select_related("stage").get(pk=opp.pk)
    pol = core.require(actor, Opportunity, "change", locked)
    if not pol.can_write("stage"):
        raise ValidationError({"stage": [_("You may not change this field.")]})
    if expected_version is None or locked.version != expected_version:
        raise _conflict(locked)
    stays = list(
        StageHistory.objects.filter(opportunity=locked).select_related("stage").order_by("-entered_at", "-id")[:2]
    )
    current = stays[0] if stays and stays[0].left_at is None and stays[0].stage_id == locked.stage_id else None
    previous = stays[1] if len(stays) > 1 else None
    last = (
        Event.objects.filter(content_type=ContentType.objects.get_for_model(Opportunity), object_id=locked.pk)
        .order_by("-id")
        .first()
    )
    if (
        current is None
        or previous is None
        or previous.left_at != current.entered_at
        or current.entered_by_id != getattr(actor, "pk", None)
        or last is None
        or last.verb != "stage_changed"
        or last.data.get("undo")
        or last.data.get("to") != current.stage_id
    ):
        raise _refuse(_("This move can no longer be undone: the deal changed since. Move it back by hand instead."))
    if timezone.now() - current.entered_at > UNDO_WINDOW:
        raise _refuse(_("Too late to undo: a move can be undone for two minutes. Move the deal back by hand instead."))
    stage = previous.stage
    values: dict[str, Any] = {
        "stage": stage,
        "pipeline_id": stage.pipeline_id,
        "status": stage.kind,
        "stage_entered_at": previous.entered_at,
    }
    for name in UNDONE_FIELDS:
        if name in last.changes:
            values[name] = _old_value(name, last.changes[name][0])
    current.delete()
    StageHistory.objects.filter(pk=previous.pk).update(left_at=None, amount=locked.amount)
    opp.refresh_from_db()
    changes = core.update(
        actor=actor,
        obj=opp,
        values=values,
        verb="stage_changed",
        parent=opp.customer,
        data={"from": current.stage_id, "to": stage.pk, "undo": True},
    )
    recompute_reach(pipeline_id=stage.pipeline_id, opportunity_ids=[opp.pk])
    opp.refresh_from_db()
    return changes


@transaction.atomic
def assign_opportunity(*, actor: Any, opp: Opportunity, owner: Any) -> dict[str, Any]:
    from kehu.customers import services as customer_services

    return customer_services.assign(actor=actor, obj=opp, owner=owner)


def _add_contact(actor: Any, opp: Opportunity, contact: Contact, role: str) -> OpportunityContact:
    if not permissions.can(actor, Contact, "view", contact):
        raise ValidationError({"contact_roles": [_("Choose a contact you can see.")]})
    if role and role not in OpportunityContact.Role.values:
        raise ValidationError({"contact_roles": [_("“%(value)s” is not a contact role.") % {"value": role}]})
    link, _created = OpportunityContact.objects.update_or_create(
        opportunity=opp, contact=contact, defaults={"role": role}
    )
    return link


@transaction.atomic
def set_contacts(*, actor: Any, opp: Opportunity, contacts: Iterable[tuple[Contact, str]]) -> dict[str, Any]:
    """Replace the deal's contacts and their roles (decision maker, influencer …)."""
    pol = core.require(actor, Opportunity, "change", opp)
    if not pol.can_write("contact_roles"):
        raise ValidationError({"contact_roles": [_("You may not change this field.")]})
    before = [str(c) for c in opp.contact_roles.select_related("contact")]
    wanted = list(contacts)
    opp.contact_roles.exclude(contact__in=[c for c, _r in wanted]).delete()
    for contact, role in wanted:
        _add_contact(actor, opp, contact, role)
    after = [str(c) for c in opp.contact_roles.select_related("contact")]
    if before == after:
        return {}
    changes = {"contact_roles": [before, after]}
    core.bump(Opportunity, opp.pk)
    events.record(actor=actor, obj=opp, verb="updated", changes=changes, parent=opp.customer)
    return changes


def _decimal(value: Any, field: str, index: int) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({f"lines.{index}.{field}": [_("Enter a number.")]}) from exc


def clean_lines(
    lines: Iterable[dict[str, Any]],
    price_list: Any = None,
    *,
    currency: str | None = None,
    keep: Collection[int] = (),
) -> list[dict[str, Any]]:
    """Validated line items: an active product, a positive quantity, a price (from the price list when not
    given) and a discount between 0 and 100 %. Shared by opportunities, quotes and orders. `currency`: the
    document's, named when it has no price list; `keep`: products already on the document, which stay on it
    even once they are no longer sold (inactive) — a new line may not add one."""
    out: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        product = line.get("product")
        if isinstance(product, int | str) and str(product).isdigit():
            product = Product.objects.filter(pk=int(product)).first()
        if product is None and not line.get("description"):
            errors[f"lines.{i}.product"] = [_("Choose a product.")]
            continue
        if product is not None and not product.active and product.pk not in keep:
            errors[f"lines.{i}.product"] = [
                _("“%(product)s” is no longer sold (inactive); choose another product.") % {"product": product}
            ]
            continue
        qty = _decimal(line.get("quantity", 1), "quantity", i)
        if qty <= 0:
            errors[f"lines.{i}.quantity"] = [_("The quantity must be greater than zero.")]
        price = line.get("unit_price")
        if price in (None, "") and product is not None and price_list is not None:
            item = PriceListItem.objects.filter(price_list=price_list, product=product).first()
            if item is None:
                errors[f"lines.{i}.product"] = [
                    _("“%(product)s” has no price in the price list “%(list)s”.")
                    % {"product": product, "list": price_list}
                ]
                continue
            price = item.price
        if price in (None, "") and product is not None and price_list is None and currency:
            errors[f"lines.{i}.unit_price"] = [
                _("There is no active price list in %(currency)s, so “%(product)s” has no price; enter the unit price.")
                % {"currency": currency, "product": product}
            ]
            continue
        if price in (None, ""):
            errors[f"lines.{i}.unit_price"] = [_("Enter the unit price.")]
            continue
        unit_price = _decimal(price, "unit_price", i)
        if unit_price < 0:
            errors[f"lines.{i}.unit_price"] = [_("The price cannot be negative.")]
        discount = _decimal(line.get("discount") or 0, "discount", i)
        if not Decimal(0) <= discount <= Decimal(100):
            errors[f"lines.{i}.discount"] = [_("The discount must be between 0 and 100 %.")]
        total = (qty * unit_price * (100 - discount) / 100).quantize(Decimal("0.01"))
        out.append(
            {
                "product": product,
                "description": str(line.get("description") or "")[:300],
                "quantity": qty,
                "unit_price": unit_price,
                "discount": discount,
                "total": total,
            }
        )
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def set_lines(*, actor: Any, opp: Opportunity, lines: Iterable[dict[str, Any]], record: bool = True) -> dict[str, Any]:
    """Replace the deal's products; the deal amount becomes their total."""
    pol = core.require(actor, Opportunity, "change", opp)
    if not pol.can_write("lines"):
        raise ValidationError({"lines": [_("You may not change this field.")]})
    from kehu.sales.models import PriceList

    price_list = PriceList.objects.filter(currency=opp.currency, active=True).order_by("-is_default", "id").first()
    keep = set(opp.lines.exclude(product=None).values_list("product_id", flat=True))
    cleaned = clean_lines(lines, price_list, currency=opp.currency, keep=keep)
    before = [str(line) for line in opp.lines.select_related("product")]
    opp.lines.all().delete()
    OpportunityLine.objects.bulk_create(
        [
            OpportunityLine(
                opportunity=opp,
                product=line["product"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                discount=line["discount"],
                order=i,
            )
            for i, line in enumerate(cleaned)
            if line["product"] is not None
        ]
    )
    after = [str(line) for line in opp.lines.select_related("product")]
    total = sum((line["total"] for line in cleaned), Decimal("0"))
    changes: dict[str, Any] = {}
    if before != after:
        changes["lines"] = [before, after]
    if cleaned and total != opp.amount:
        changes["amount"] = [str(opp.amount), str(total)]
        Opportunity.objects.filter(pk=opp.pk).update(amount=total)
        StageHistory.objects.filter(opportunity=opp, left_at__isnull=True).update(amount=total)
        opp.amount = total
    if changes and record:
        core.bump(Opportunity, opp.pk)
        events.record(actor=actor, obj=opp, verb="updated", changes=changes, parent=opp.customer)
    return changes


@transaction.atomic
def delete_opportunity(*, actor: Any, opp: Opportunity) -> None:
    core.delete(actor=actor, obj=opp, parent=opp.customer)
