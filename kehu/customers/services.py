"""Every write to customers, contacts and tags (ARCHITECTURE.md → services + event log)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kehu.core import events, jobs, lists, normalize, permissions, search
from kehu.core import services as core
from kehu.core.models import Job
from kehu.customers import tasks
from kehu.customers.models import ChannelKind, Contact, ContactChannel, Customer, LifecycleChange, LifecycleStage, Tag


def _owner_team(actor: Any, owner: Any | None) -> tuple[Any, Any]:
    owner = owner or actor
    return owner, getattr(owner, "team", None)


def _validate_uscc(value: str) -> None:
    if not value:
        return
    from stdnum.cn import uscc

    if not uscc.is_valid(value):
        raise ValidationError(
            {"uscc": [_("“%(value)s” is not a valid unified social credit code.") % {"value": value}]}
        )


@transaction.atomic
def create_customer(
    *,
    actor: Any,
    data: dict[str, Any],
    custom: dict[str, Any] | None = None,
    tags: Iterable[Tag] = (),
    owner: Any | None = None,
) -> Customer:
    _validate_uscc(data.get("uscc", ""))
    owner, team = _owner_team(actor, owner)
    now = timezone.now()
    customer = Customer(**data, owner=owner, team=team, stage_changed_at=now)
    core.create(actor=actor, obj=customer, custom=custom, m2m={"tags": list(tags)})
    LifecycleChange.objects.create(
        customer=customer, to_stage=customer.lifecycle_stage, changed_at=now, changed_by=actor
    )
    return customer


@transaction.atomic
def update_customer(
    *,
    actor: Any,
    customer: Customer,
    values: dict[str, Any],
    custom: dict[str, Any] | None = None,
    tags: Iterable[Tag] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    stage = values.pop("lifecycle_stage", None)
    if "uscc" in values:
        _validate_uscc(values["uscc"])
    if {"owner", "team"} & set(values):
        raise ValidationError({"owner": [_("Use assign to change the owner.")]})
    m2m = {"tags": list(tags)} if tags is not None else None
    changes = core.update(
        actor=actor, obj=customer, values=values, custom=custom, m2m=m2m, expected_version=expected_version
    )
    if stage and stage != customer.lifecycle_stage:
        changes.update(change_stage(actor=actor, customer=customer, stage=stage))
    if "name" in changes:
        _reindex_contacts(customer)
    return changes


def _reindex_contacts(customer: Customer) -> None:
    for contact in customer.contacts.select_related("customer").prefetch_related("channels"):
        search.index(contact)


@transaction.atomic
def change_stage(*, actor: Any, customer: Customer, stage: str) -> dict[str, Any]:
    """Move a customer to another lifecycle stage, recording when and by whom (C4)."""
    if stage not in LifecycleStage.values:
        raise ValidationError({"lifecycle_stage": [_("“%(value)s” is not a lifecycle stage.") % {"value": stage}]})
    old = Customer.objects.get(pk=customer.pk).lifecycle_stage
    if old == stage:
        return {}
    now = timezone.now()
    changes = core.update(
        actor=actor, obj=customer, values={"lifecycle_stage": stage, "stage_changed_at": now}, verb="stage_changed"
    )
    LifecycleChange.objects.create(customer=customer, from_stage=old, to_stage=stage, changed_at=now, changed_by=actor)
    return changes


@transaction.atomic
def assign(*, actor: Any, obj: Any, owner: Any) -> dict[str, Any]:
    """Give a customer, contact or lead to another user; the record follows the new owner's team."""
    if not owner.is_active:
        raise ValidationError({"owner": [_("%(user)s is deactivated.") % {"user": owner}]})
    changes = core.update(
        actor=actor, obj=obj, values={"owner": owner, "team": owner.team}, verb="assigned", action="assign"
    )
    if isinstance(obj, Customer):
        for contact in obj.contacts.filter(owner=changes.get("owner", [None])[0]) if changes else []:
            core.update(
                actor=actor,
                obj=contact,
                values={"owner": owner, "team": owner.team},
                verb="assigned",
                action="assign",
                parent=obj,
            )
    return changes


@transaction.atomic
def add_tags(*, actor: Any, obj: Any, tags: Iterable[Tag]) -> dict[str, Any]:
    current = list(obj.tags.all())
    wanted = current + [t for t in tags if t not in current]
    return core.update(actor=actor, obj=obj, values={}, m2m={"tags": wanted}, verb="tagged")


@transaction.atomic
def get_or_create_tag(*, actor: Any, name: str) -> Tag:
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Enter a tag name.")]})
    tag = Tag.objects.filter(name__iexact=name).first()
    if tag:
        return tag
    tag = Tag(name=name)
    core.create(actor=actor, obj=tag)
    return tag


BULK_ACTIONS = ("assign", "tag", "stage")


@transaction.atomic
def bulk_update(*, actor: Any, model: type, ids: list[int], action: str, value: Any) -> tuple[int, int]:
    """Apply one bulk action to the records the actor may act on; returns (changed, skipped).

    Records outside the actor's scope, or that the action's permission does not cover, are skipped and
    counted, never touched.
    """
    needed = "assign" if action == "assign" else "change"
    allowed = list(permissions.visible(model, actor, needed).filter(pk__in=ids).order_by("pk").select_for_update())
    changed = 0
    for obj in allowed:
        if action == "assign":
            done = assign(actor=actor, obj=obj, owner=value)
        elif action == "tag":
            done = add_tags(actor=actor, obj=obj, tags=[value])
        elif action == "stage":
            done = change_stage(actor=actor, customer=obj, stage=value)
        else:
            raise ValidationError({"action": [_("Unknown bulk action.")]})
        changed += bool(done)
    return changed, len(set(ids)) - len(allowed)


BULK_BATCH = 500


def start_bulk_all(*, actor: Any, object_type: str, query: str, action: str, value: Any, back: str = "") -> Job:
    """Apply a bulk action to every record of a list (its filters and search as the page had them), not only the
    rows on screen: a background job, batch by batch, with the same per-record permission checks. `back`: the
    list page to offer once the job is done (a path on this site)."""
    config = lists.get_list(object_type)
    if action not in config.bulk_actions:
        raise ValidationError({"action": [_("Choose an action.")]})
    needed = "assign" if action == "assign" else "change"
    if not permissions.can(actor, config.ot.model, needed):
        raise PermissionDenied
    lq = lists.build_query(lists.as_request(actor, query), config)
    if lq.invalid:
        raise ValidationError({"query": lq.invalid})
    stored = value.pk if isinstance(value, models.Model) else value
    labels = {"assign": _("Assign owner"), "tag": _("Add tag"), "stage": _("Change lifecycle stage")}
    title = _("%(action)s: %(list)s") % {"action": labels[action], "list": capfirst(config.ot.label_plural)}
    return jobs.start(
        actor=actor,
        kind=Job.Kind.BULK,
        title=title,
        params={"object_type": object_type, "query": query, "action": action, "value": stored, "back": back},
        task=tasks.bulk_update_all,
    )


def bulk_all(job: Job, progress: jobs.Progress) -> jobs.Outcome:
    """The background part of `start_bulk_all`: the list's records in id order, BULK_BATCH per transaction, read
    through the gate as it is now (a record that left the list or the user's scope meanwhile is not touched)."""
    params = job.params
    config = lists.get_list(params["object_type"])
    model = config.ot.model
    action, value = params["action"], params["value"]
    if action == "assign":
        value = get_user_model().objects.filter(pk=value, is_active=True).first()
        if value is None:
            raise ValidationError(_("The new owner is no longer an active user."))
    elif action == "tag":
        value = Tag.objects.filter(pk=value).first()
        if value is None:
            raise ValidationError(_("The tag was deleted meanwhile."))
    lq = lists.build_query(lists.as_request(job.actor, params["query"]), config)
    qs = lq.qs.order_by("pk")
    progress.total(qs.count())
    changed = skipped = 0
    after = 0
    while True:
        if lq.keep is None:
            ids = list(qs.filter(pk__gt=after).values_list("pk", flat=True)[:BULK_BATCH])
            if not ids:
                break
            after, read = ids[-1], len(ids)
        else:  # a quick search that also matched hidden fields: drop those rows as the page does
            rows = list(qs.filter(pk__gt=after)[:BULK_BATCH])
            if not rows:
                break
            after, read = rows[-1].pk, len(rows)
            ids = [o.pk for o in lq.keep(rows)]
        if ids:
            done, refused = bulk_update(actor=job.actor, model=model, ids=ids, action=action, value=value)
            changed, skipped = changed + done, skipped + refused
        progress.advance(read)
    message = _("%(changed)s changed, %(unchanged)s already so, %(skipped)s skipped (not yours to change)") % {
        "changed": f"{changed:,}",
        "unchanged": f"{progress.job.done - changed - skipped:,}",
        "skipped": f"{skipped:,}",
    }
    return jobs.Outcome(message=message)


# --------------------------------------------------------------------------- contacts

ChannelInput = dict[str, Any]  # {"kind", "value", "label", "is_primary"}


def _clean_channels(channels: Iterable[ChannelInput]) -> list[ContactChannel]:
    out: list[ContactChannel] = []
    errors: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for i, ch in enumerate(channels):
        kind, value = ch.get("kind", ""), (ch.get("value") or "").strip()
        if not value:
            continue
        if kind not in ChannelKind.values:
            errors[f"channels.{i}.kind"] = [_("Choose e-mail, phone or a social network.")]
            continue
        try:
            norm = normalize.channel(kind, value)
        except ValidationError as exc:
            errors[f"channels.{i}.value"] = list(exc.messages)
            continue
        if (kind, norm) in seen:
            errors[f"channels.{i}.value"] = [_("“%(value)s” is listed twice.") % {"value": value}]
            continue
        seen.add((kind, norm))
        out.append(
            ContactChannel(
                kind=kind,
                value=value,
                normalized=norm,
                label=ch.get("label", "")[:40],
                is_primary=bool(ch.get("is_primary")),
            )
        )
    if errors:
        raise ValidationError(errors)
    return out


def _channel_summary(chans: Iterable[ContactChannel]) -> list[str]:
    return sorted(f"{c.kind}:{c.normalized}" for c in chans)


@transaction.atomic
def create_contact(
    *,
    actor: Any,
    data: dict[str, Any],
    channels: Iterable[ChannelInput] = (),
    custom: dict[str, Any] | None = None,
    owner: Any | None = None,
) -> Contact:
    chans = _clean_channels(channels)
    customer = data.get("customer")
    if customer is not None and not permissions.can(actor, Customer, "view", customer):
        raise ValidationError({"customer": [_("Choose a customer you can see.")]})
    owner, team = _owner_team(actor, owner or (customer.owner if customer else None))
    contact = Contact(**data, owner=owner, team=team)
    core.create(actor=actor, obj=contact, custom=custom, parent=customer)
    for ch in chans:
        ch.contact = contact
    ContactChannel.objects.bulk_create(chans)
    if chans:
        events.record(
            actor=actor,
            obj=contact,
            verb="updated",
            parent=customer,
            changes={"channels": [[], _channel_summary(chans)]},
        )
    search.index(contact)
    return contact


@transaction.atomic
def update_contact(
    *,
    actor: Any,
    contact: Contact,
    values: dict[str, Any],
    channels: list[ChannelInput] | None = None,
    custom: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    if {"owner", "team"} & set(values):
        raise ValidationError({"owner": [_("Use assign to change the owner.")]})
    customer = values.get("customer", contact.customer)
    if "customer" in values and customer is not None and not permissions.can(actor, Customer, "view", customer):
        raise ValidationError({"customer": [_("Choose a customer you can see.")]})
    changes = core.update(
        actor=actor, obj=contact, values=values, custom=custom, expected_version=expected_version, parent=customer
    )
    if channels is not None:
        new = _clean_channels(channels)
        old = list(contact.channels.all())
        if _channel_summary(old) != _channel_summary(new) or [c.value for c in old] != [c.value for c in new]:
            core.require(actor, Contact, "change", contact)
            pol = permissions.policy(actor, Contact)
            if not pol.can_write("channels"):
                raise ValidationError({"channels": [_("You may not change this field.")]})
            contact.channels.all().delete()
            for ch in new:
                ch.contact = contact
            ContactChannel.objects.bulk_create(new)
            chan_change = {"channels": [_channel_summary(old), _channel_summary(new)]}
            events.record(actor=actor, obj=contact, verb="updated", parent=customer, changes=chan_change)
            if not changes:
                core.bump(Contact, contact.pk)
            changes.update(chan_change)
            search.index(contact)
    return changes


@transaction.atomic
def delete_contact(*, actor: Any, contact: Contact) -> None:
    core.delete(actor=actor, obj=contact, parent=contact.customer)


@transaction.atomic
def delete_customer(*, actor: Any, customer: Customer) -> None:
    if customer.contacts.exists():
        raise ValidationError({"__all__": [_("Delete or move this customer's contacts first.")]})
    core.delete(actor=actor, obj=customer)


def find_by_channel(kind: str, normalized: str) -> list[Contact]:
    """Contacts holding this e-mail or phone (for duplicate checks before a lead is converted)."""
    return list(
        Contact.objects.filter(channels__kind=kind, channels__normalized=normalized)
        .select_related("customer")
        .distinct()[:10]
    )
