"""Every write to leads: capture, qualification, disqualification and conversion (S1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import normalize, permissions, search
from kehu.core import services as core
from kehu.core.models import PicklistOption
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer
from kehu.sales.models import Lead, Opportunity, OpportunityContact

S = Lead.Status


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    if data.get("email"):
        try:
            data["email"] = normalize.email(data["email"])
        except ValidationError as exc:
            errors["email"] = exc.messages
    if data.get("phone"):
        try:
            data["phone"] = normalize.phone(data["phone"])
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def create_lead(
    *, actor: Any, data: dict[str, Any], custom: dict[str, Any] | None = None, owner: Any | None = None
) -> Lead:
    data = _normalise(dict(data))
    owner = owner or actor
    lead = Lead(**data, owner=owner, team=owner.team, assigned_at=timezone.now())
    core.create(actor=actor, obj=lead, custom=custom)
    return lead


@transaction.atomic
def update_lead(
    *,
    actor: Any,
    lead: Lead,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    if lead.status == S.CONVERTED:
        raise ValidationError({"__all__": [_("A converted lead can no longer be edited; edit its customer.")]})
    blocked = {"owner", "team", "status", "converted_customer", "converted_contact"} & set(values)
    if blocked:
        raise ValidationError({f: [_("This field changes through its own action.")] for f in blocked})
    values = _normalise(dict(values))
    return core.update(actor=actor, obj=lead, values=values, custom=custom, expected_version=expected_version)


@transaction.atomic
def assign_lead(*, actor: Any, lead: Lead, owner: Any) -> dict[str, Any]:
    changes = customer_services.assign(actor=actor, obj=lead, owner=owner)
    if changes:
        Lead.objects.filter(pk=lead.pk).update(assigned_at=timezone.now())
    return changes


@transaction.atomic
def qualify(*, actor: Any, lead: Lead) -> dict[str, Any]:
    if lead.status in (S.CONVERTED,):
        raise ValidationError({"status": [_("This lead is already converted.")]})
    return core.update(
        actor=actor,
        obj=lead,
        values={"status": S.QUALIFIED, "disqualify_reason": "", "disqualify_note": ""},
        verb="qualified",
    )


@transaction.atomic
def disqualify(*, actor: Any, lead: Lead, reason: str, note: str = "") -> dict[str, Any]:
    if lead.status == S.CONVERTED:
        raise ValidationError({"status": [_("This lead is already converted.")]})
    # errors under `reason`, the name the form and the API take the value by
    if not reason:
        raise ValidationError({"reason": [_("Give a reason for disqualifying this lead.")]})
    if not PicklistOption.objects.filter(list="disqualify_reason", value=reason, active=True).exists():
        raise ValidationError({"reason": [_("“%(value)s” is not a disqualification reason.") % {"value": reason}]})
    return core.update(
        actor=actor,
        obj=lead,
        values={"status": S.DISQUALIFIED, "disqualify_reason": reason, "disqualify_note": note[:300]},
        verb="disqualified",
        data={"reason": reason},
    )


@dataclass
class Duplicates:
    contacts: list[Contact] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.contacts or self.customers)


def find_duplicates(actor: Any, lead: Lead) -> Duplicates:
    """Contacts holding the lead's e-mail or phone, and customers with the lead's company name — among
    the records the user may see (a match outside their scope is not revealed). Company names match
    however they are spelt: full- or half-width, traditional or simplified, upper or lower case, with or
    without spaces and punctuation (kehu.core.search.name_key, one token looked up in the search index)."""
    contacts = permissions.visible(Contact, actor)
    customers = permissions.visible(Customer, actor)
    dup = Duplicates()
    seen: set[int] = set()
    for kind, value in (("email", lead.email), ("phone", lead.phone)):
        if value:
            for c in contacts.filter(channels__kind=kind, channels__normalized=value).select_related("customer")[:5]:
                if c.pk not in seen:
                    seen.add(c.pk)
                    dup.contacts.append(c)
    if lead.company:
        same = search.same_name("customers.customer", lead.company)
        dup.customers = list(customers.filter(pk__in=same).order_by("-pk")[:5])
    for c in dup.contacts:
        if c.customer and c.customer not in dup.customers:
            dup.customers.append(c.customer)
    return dup


class ConversionConflict(ValidationError):
    """The conversion would create a customer or contact that already exists; nothing was saved. `matches`
    holds the ids of the matching records per field ("customer", "contact"); the API answers 409."""

    def __init__(self, matches: dict[str, list[int]]) -> None:
        self.matches = matches
        messages: dict[str, list[str]] = {}
        if "customer" in matches:
            messages["customer"] = [
                _(
                    "Customers %(ids)s already match this lead. Attach the lead to one of them, or choose to "
                    "create a new customer."
                )
                % {"ids": ", ".join(str(i) for i in matches["customer"])}
            ]
        if "contact" in matches:
            messages["contact"] = [
                _(
                    "Contacts %(ids)s already match this lead. Attach the lead to one of them, or choose to "
                    "create a new contact."
                )
                % {"ids": ", ".join(str(i) for i in matches["contact"])}
            ]
        super().__init__(messages)


def conversion_matches(
    actor: Any, lead: Lead, customer: Customer | None = None, contact: Contact | None = None
) -> dict[str, list[int]]:
    """The records a conversion would duplicate, by the field that would attach the lead to them instead:
    {"customer": [ids]} when no customer is chosen and the duplicate check finds some, {"contact": [ids]} when
    no contact is chosen and matching contacts exist (of the chosen customer, if one is). Empty: nothing
    would be duplicated. Only records the user may see are named."""
    if contact is not None:
        return {}
    dup = find_duplicates(actor, lead)
    out: dict[str, list[int]] = {}
    if customer is None and dup.customers:
        out["customer"] = [c.pk for c in dup.customers]
    contacts = [c.pk for c in dup.contacts if customer is None or c.customer_id == customer.pk]
    if contacts:
        out["contact"] = contacts
    return out


@transaction.atomic
def convert(
    *,
    actor: Any,
    lead: Lead,
    customer: Customer | None = None,
    contact: Contact | None = None,
    customer_data: dict[str, Any] | None = None,
    opportunity_data: dict[str, Any] | None = None,
    refuse_matches: bool = False,
) -> tuple[Customer, Contact, Opportunity | None]:
    """Turn a lead into a customer, a contact and (given `opportunity_data`: pipeline, stage, amount,
    expected close …) an opportunity in one step, keeping its history.

    Pass an existing `customer` (and optionally `contact`) to attach the lead to a record found by the
    duplicate check instead of creating new ones; a `contact` alone attaches to that contact's customer.
    With `refuse_matches`, a conversion that would create a customer or contact the user can already see
    (`conversion_matches`) raises ConversionConflict instead.
    """
    if customer is None and contact is not None and contact.customer_id is not None:
        customer = contact.customer
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    core.require(actor, Lead, "change", lead)
    if lead.status == S.CONVERTED:
        raise ValidationError({"status": [_("This lead is already converted.")]})
    if lead.status == S.DISQUALIFIED:
        raise ValidationError({"status": [_("Qualify this lead again before converting it.")]})
    if customer is not None and not permissions.can(actor, Customer, "view", customer):
        raise ValidationError({"customer": [_("Choose a customer you can see.")]})
    if contact is not None and (
        not permissions.can(actor, Contact, "view", contact)
        or (customer is not None and contact.customer_id != customer.pk)
    ):
        raise ValidationError({"contact": [_("Choose a contact of the chosen customer.")]})
    if refuse_matches:
        matches = conversion_matches(actor, lead, customer, contact)
        if matches:
            raise ConversionConflict(matches)
    owner = lead.owner or actor
    if customer is None:
        data: dict[str, Any] = {
            "kind": Customer.Kind.COMPANY if lead.company else Customer.Kind.INDIVIDUAL,
            "name": lead.company or lead.name,
            "source": lead.source,
            "industry": lead.industry,
            "country": lead.country,
            "province": lead.province,
            "city": lead.city,
            "lifecycle_stage": "new",
        }
        data.update(customer_data or {})
        customer = customer_services.create_customer(actor=actor, data=data, owner=owner)
    if contact is None:
        channels: list[dict[str, Any]] = [
            {"kind": "email", "value": lead.email, "is_primary": True},
            {"kind": "phone", "value": lead.phone, "is_primary": True},
            {"kind": "wechat", "value": lead.wechat},
        ]
        contact = customer_services.create_contact(
            actor=actor,
            owner=owner,
            channels=channels,
            data={
                "customer": customer,
                "name": lead.name,
                "title": lead.title,
                "is_primary": not customer.contacts.exists(),
            },
        )
    opportunity = None
    if opportunity_data is not None:
        from kehu.sales.services.opportunities import create_opportunity

        data = {"name": lead.company or lead.name, "source": lead.source, "campaign": lead.campaign}
        data.update({k: v for k, v in opportunity_data.items() if v not in (None, "")})
        data.update(customer=customer, lead=lead)
        opportunity = create_opportunity(
            actor=actor, data=data, owner=owner, contacts=[(contact, OpportunityContact.Role.DECISION_MAKER)]
        )
    now = timezone.now()
    core.update(
        actor=actor,
        obj=lead,
        verb="converted",
        parent=customer,
        values={
            "status": S.CONVERTED,
            "converted_at": now,
            "converted_customer": customer,
            "converted_contact": contact,
        },
        data={
            "customer": customer.pk,
            "contact": contact.pk,
            **({"opportunity": opportunity.pk} if opportunity else {}),
        },
    )
    return customer, contact, opportunity


@transaction.atomic
def delete_lead(*, actor: Any, lead: Lead) -> None:
    core.delete(actor=actor, obj=lead)
