"""Imports and exports: the writes that bring another system's records into Kehu, and the start of a list
export (the job that writes the file runs in the background, see `exports.list_export`).

`import_maven` loads the Maven CRM sales data set (accounts, products, agents with their managers and
regional offices, 8,800 opportunities). The mapping and the choices behind it are in README.md → "Import
the Maven CRM data set"; in short:

- a pipeline "Maven CRM" (code `maven`, USD) with Prospecting (10 %), Engaging (50 %), Won and Lost;
- teams: "Maven CRM" → one team per regional office → one team per manager (two managers share each
  office), led by the manager; agents are users in their manager's team (sales rep role), managers are
  users with the sales manager role; user names come from the names ("Mei-Mei Johns" → mei-mei.johns),
  passwords are unusable until an administrator sets one;
- accounts → company customers, owned by the agent with the most deals on the account;
- products → products (SKU from the name) with their price in a USD price list;
- opportunities → deals with external_ref "maven:<id>", a line item for the product, the stage history
  the dates allow, and amount = close_value for won deals, the product's price for open and lost ones.

Everything is looked up by its natural key first (team name under its parent, user name, SKU, customer
name, external_ref), so a second run changes nothing. Settings-like records (pipeline, teams, users,
products, customers) go through their services; the opportunities are written through the bulk path
(bulk_create of deals, stage history, line items, one `created` event each and their search entries),
as `kehu demo` does for its records, validated here instead of by the per-record service. Deals that
exist already are brought in line through the services (stage move, amount, owner, customer).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kehu.core import customfields, events, jobs, lists, permissions, search
from kehu.core import services as core
from kehu.core.demo.generate import cached_search_tokens
from kehu.core.models import Event, Job, PicklistOption
from kehu.customers import services as customer_services
from kehu.customers.models import Customer, LifecycleStage
from kehu.dataio import exports, maven, tasks
from kehu.sales import queries as sales_queries
from kehu.sales import services as sales_services
from kehu.sales.models import (
    Opportunity,
    OpportunityLine,
    Pipeline,
    PriceList,
    Product,
    Stage,
    StageHistory,
)
from kehu.sales.services import catalogue, pipelines
from kehu.users import services as user_services
from kehu.users.models import Role, Team, User

PIPELINE_CODE = "maven"
CURRENCY = "USD"
ROOT_TEAM = "Maven CRM"
STAGES = [  # name in the data set → (Chinese name, probability, kind)
    ("Prospecting", "初步接洽", 10, "open"),
    ("Engaging", "深入接触", 50, "open"),
    ("Won", "赢单", 100, "won"),
    ("Lost", "输单", 0, "lost"),
]
LOSS_REASON, LOSS_NOTE = "other", "imported"
BATCH = 2000


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    flaws: list[maven.Flaw] = field(default_factory=list)
    snapshot: dt.date | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(+self.created or +self.updated)

    def flaw(self, code: str) -> maven.Flaw | None:
        return next((f for f in self.flaws if f.code == code), None)


def import_maven(path: Path, *, actor: User) -> ImportReport:
    """Read, check and import the data set in `path` in one transaction; returns what was done and found."""
    started = time.perf_counter()
    data = maven.read(path)
    report = ImportReport(flaws=list(data.flaws.values()), snapshot=data.snapshot, skipped=Counter(data.skipped))
    with transaction.atomic(), cached_search_tokens():
        _ensure_industries(actor, data, report)
        stages = _ensure_pipeline(actor, report)
        users = _ensure_people(actor, data, report)
        products = _ensure_products(actor, data, report)
        customers = _ensure_customers(actor, data, users, report)
        _import_deals(actor, data, stages, users, products, customers, report)
    sales_queries.forget_currencies()  # the bulk path bypasses the services that keep that list current
    report.seconds = time.perf_counter() - started
    return report


# --------------------------------------------------------------------------- settings-like records


def _ensure_industries(actor: User, data: maven.Dataset, report: ImportReport) -> None:
    existing = set(PicklistOption.objects.filter(list="industry").values_list("value", flat=True))
    order = PicklistOption.objects.filter(list="industry").count()
    used = {a.industry for a in data.accounts.values()}
    for value, (en, zh) in maven.NEW_INDUSTRIES.items():
        if value in used and value not in existing:
            customfields.save_option(
                actor=actor,
                option=None,
                data={"list": "industry", "value": value, "label_en": en, "label_zh": zh, "order": order},
            )
            order += 1
            report.created["industry option"] += 1
    if not PicklistOption.objects.filter(list="loss_reason", value=LOSS_REASON).exists():
        customfields.save_option(
            actor=actor,
            option=None,
            data={"list": "loss_reason", "value": LOSS_REASON, "label_en": "Other", "label_zh": "其他"},
        )
        report.created["loss reason"] += 1


def _ensure_pipeline(actor: User, report: ImportReport) -> dict[str, Stage]:
    pipeline = Pipeline.objects.filter(code=PIPELINE_CODE).first()
    if pipeline is None:
        pipeline = pipelines.create_pipeline(
            actor=actor,
            data={"code": PIPELINE_CODE, "name_en": "Maven CRM", "name_zh": "Maven CRM", "currency": CURRENCY},
            stages=[{"name_en": en, "name_zh": zh, "probability": prob, "kind": kind} for en, zh, prob, kind in STAGES],
        )
        report.created["pipeline"] += 1
    else:
        report.unchanged["pipeline"] += 1
    by_name = {s.name_en: s for s in Stage.objects.filter(pipeline=pipeline).order_by("order", "id")}
    missing = [en for en, _zh, _p, kind in STAGES if en not in by_name or by_name[en].kind != kind]
    if missing:
        raise ValidationError(
            {
                "pipeline": [
                    _("The pipeline “%(code)s” lacks the stages %(stages)s; add them or rename the pipeline.")
                    % {"code": PIPELINE_CODE, "stages": ", ".join(missing)}
                ]
            }
        )
    return by_name


def _team(actor: User, name: str, parent: Team | None, report: ImportReport) -> Team:
    team = Team.objects.filter(name=name, parent=parent).first()
    if team is None:
        team = user_services.create_team(actor=actor, name=name, parent=parent)
        report.created["team"] += 1
    else:
        report.unchanged["team"] += 1
    return team


def _new_user(actor: User, name: str, team: Team, role: Role | None) -> User:
    """A user who cannot sign in until an administrator sets a password. Created here rather than through
    users.services.create_user, which requires a password (the data set has none)."""
    first, _sep, last = name.partition(" ")
    user = User(
        username=maven.username_for(name),
        display_name=name,
        first_name=first[:150],
        last_name=last[:150],
        team=team,
        language="en",
        is_active=True,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if role is not None:
        user.roles.set([role])
    events.record(
        actor=actor,
        obj=user,
        verb="created",
        changes={
            "username": [None, user.username],
            "display_name": [None, name],
            "team": [None, team.pk],
            "roles": [None, [role.pk] if role else []],
            "language": [None, "en"],
        },
        data={"import": "maven-crm"},
    )
    return user


def _ensure_people(actor: User, data: maven.Dataset, report: ImportReport) -> dict[str, User]:
    """Teams for the offices and managers, users for managers and agents; name → user."""
    core.require(actor, Team, "add")
    core.require(actor, User, "add")
    roles = {r.code: r for r in Role.objects.filter(code__in=["sales_rep", "sales_manager"])}
    root = _team(actor, ROOT_TEAM, None, report)
    offices = {o: _team(actor, o, root, report) for o in sorted({a.office for a in data.agents.values() if a.office})}
    manager_teams: dict[str, Team] = {}
    for manager, office in sorted(data.managers.items()):
        if manager:
            parent = offices.get(office, root)
            manager_teams[manager] = _team(actor, f"{office} · {manager}" if office else manager, parent, report)
    names = {maven.username_for(n): n for n in [*manager_teams, *data.agents]}
    existing = {u.username: u for u in User.objects.filter(username__in=list(names))}
    users: dict[str, User] = {}
    for manager, team in manager_teams.items():
        users[manager] = existing.get(maven.username_for(manager)) or _new_user(
            actor, manager, team, roles.get("sales_manager")
        )
    for agent in data.agents.values():
        team = manager_teams.get(agent.manager) or offices.get(agent.office) or root
        users[agent.name] = existing.get(agent.username) or _new_user(actor, agent.name, team, roles.get("sales_rep"))
    report.created["user"] += len(users) - len(existing)
    report.unchanged["user"] += len(existing)
    for manager, team in manager_teams.items():
        lead = users[manager]
        if team.lead_id is None:
            user_services.update_team(actor=actor, team=team, name=team.name, parent=team.parent, lead=lead)
            report.updated["team lead"] += 1
    return users


def _ensure_products(actor: User, data: maven.Dataset, report: ImportReport) -> dict[str, Product]:
    by_sku = {p.sku: p for p in Product.objects.filter(sku__in=[p.sku for p in data.products.values()])}
    out: dict[str, Product] = {}
    for item in data.products.values():
        product = by_sku.get(item.sku)
        if product is None:
            product = catalogue.create_product(
                actor=actor, data={"name": item.name, "sku": item.sku, "series": item.series, "unit": "licence"}
            )
            report.created["product"] += 1
        elif product.name != item.name or product.series != item.series:
            catalogue.update_product(actor=actor, product=product, values={"name": item.name, "series": item.series})
            report.updated["product"] += 1
        else:
            report.unchanged["product"] += 1
        out[item.name] = product
    price_list = (
        PriceList.objects.filter(currency=CURRENCY, active=True).order_by("-is_default", "id").first()
        or PriceList.objects.filter(currency=CURRENCY).order_by("id").first()
    )
    if price_list is None:
        price_list = catalogue.create_price_list(
            actor=actor, data={"name": "List price USD", "currency": CURRENCY, "is_default": False}
        )
        report.created["price list"] += 1
    current = dict(price_list.items.values_list("product_id", "price"))
    wanted = {out[name]: item.price for name, item in data.products.items()}
    changed = {p: price for p, price in wanted.items() if current.get(p.pk) != price}
    if changed:
        catalogue.set_prices(actor=actor, price_list=price_list, prices=changed)
    report.created["price"] += sum(1 for p in changed if p.pk not in current)
    report.updated["price"] += sum(1 for p in changed if p.pk in current)
    report.unchanged["price"] += len(wanted) - len(changed)
    return out


def _main_agent(data: maven.Dataset) -> dict[str, str]:
    """account → the agent with the most deals on it (ties: the name first in the alphabet)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for d in data.deals:
        if d.account:
            counts[d.account][d.agent] += 1
    return {acc: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for acc, c in counts.items()}


def _ensure_customers(
    actor: User, data: maven.Dataset, users: dict[str, User], report: ImportReport
) -> dict[str, Customer]:
    won = {d.account for d in data.deals if d.stage == "Won"}
    main_agent = _main_agent(data)
    existing: dict[str, Customer] = {}
    for c in Customer.objects.filter(name__in=list(data.accounts)).order_by("id"):
        existing.setdefault(c.name, c)
    out: dict[str, Customer] = {}
    for acc in data.accounts.values():
        values = {
            "industry": acc.industry,
            "country": acc.country,
            "size_tier": acc.size_tier,
            "description": acc.description,
        }
        customer = existing.get(acc.name)
        if customer is None:
            owner = users.get(main_agent.get(acc.name, ""))
            customer = customer_services.create_customer(
                actor=actor,
                data={
                    "kind": Customer.Kind.COMPANY,
                    "name": acc.name,
                    "lifecycle_stage": LifecycleStage.NEW if acc.name in won else LifecycleStage.PROSPECT,
                    **values,
                },
                owner=owner,
            )
            report.created["customer"] += 1
        else:
            diff = {k: v for k, v in values.items() if getattr(customer, k) != v}
            if diff:
                customer_services.update_customer(actor=actor, customer=customer, values=diff)
                report.updated["customer"] += 1
            else:
                report.unchanged["customer"] += 1
        out[acc.name] = customer
    return out


# --------------------------------------------------------------------------- deals


def _at(day: dt.date) -> dt.datetime:
    """Noon of that day in Kehu's time zone: the data set has dates only, and noon keeps them the same day
    wherever the user's time zone is."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


@dataclass
class Plan:
    """What one row of the data set becomes: the deal's fields and its stage history."""

    stage: Stage
    amount: Decimal
    unit_price: Decimal | None
    started_on: dt.date
    closed_on: dt.date | None
    history: list[tuple[Stage, dt.datetime]]  # stays, oldest first
    max_order: int


def _plan(deal: maven.Deal, stages: dict[str, Stage], products: dict[str, Product], data: maven.Dataset) -> Plan:
    """Prospecting: one stay from the start (the engage date if the row has one, else the data set's last
    day). Engaging: one stay from the engage date. Won / Lost: Engaging from the engage date, then the
    closing stage from the close date."""
    stage = stages[deal.stage]
    closed: dt.date | None = None
    if deal.stage in maven.CLOSED:
        closed = deal.closed_on or deal.engaged_on or data.snapshot
        start = deal.engaged_on or closed
        history = [(stages["Engaging"], _at(start))] if deal.engaged_on else []
        history.append((stage, _at(closed)))
    else:
        start = deal.engaged_on or data.snapshot
        history = [(stage, _at(start))]
    price = data.products[deal.product].price if deal.product else None
    if deal.stage == "Won":
        amount = deal.close_value or Decimal("0")
        unit_price: Decimal | None = amount
        max_order = stage.order
    else:
        amount = price or Decimal("0")
        unit_price = price
        reached = [s.order for s, _w in history if s.kind == Stage.Kind.OPEN]
        max_order = max(reached, default=stages["Prospecting"].order)
    return Plan(stage, amount.quantize(Decimal("0.01")), unit_price, start, closed, history, max_order)


def _name(deal: maven.Deal) -> str:
    what = deal.product or deal.ref
    return f"{deal.account} · {what}" if deal.account else f"{what} · {deal.ref}"


def _import_deals(
    actor: User,
    data: maven.Dataset,
    stages: dict[str, Stage],
    users: dict[str, User],
    products: dict[str, Product],
    customers: dict[str, Customer],
    report: ImportReport,
) -> None:
    core.require(actor, Opportunity, "add")
    refs = [d.external_ref for d in data.deals]
    existing = {o.external_ref: o for o in Opportunity.objects.filter(external_ref__startswith="maven:")}
    new = [d for d in data.deals if d.external_ref not in existing]
    for deal in data.deals:
        opp = existing.get(deal.external_ref)
        if opp is not None:
            _bring_in_line(actor, opp, deal, _plan(deal, stages, products, data), users, customers, report)
    if new:
        _bulk_create(actor, new, data, stages, users, products, customers)
        report.created["opportunity"] += len(new)
    report.unchanged["opportunity"] += len(refs) - len(new) - report.updated["opportunity"]


def _bring_in_line(
    actor: User,
    opp: Opportunity,
    deal: maven.Deal,
    plan: Plan,
    users: dict[str, User],
    customers: dict[str, Customer],
    report: ImportReport,
) -> None:
    """A deal imported before: apply what changed in the data set through the services."""
    changed = False
    if opp.stage_id != plan.stage.pk:
        when = _at(plan.closed_on) if plan.closed_on else timezone.now()
        sales_services.move_stage(
            actor=actor, opp=opp, stage=plan.stage, loss_reason=LOSS_REASON, loss_note=LOSS_NOTE, at=when
        )
        opp.refresh_from_db()
        changed = True
    customer = customers.get(deal.account)
    values: dict[str, Any] = {}
    if opp.amount != plan.amount:
        values["amount"] = plan.amount
    if opp.customer_id != (customer.pk if customer else None):
        values["customer"] = customer
    if values:
        sales_services.update_opportunity(actor=actor, opp=opp, values=values)
        changed = True
    owner = users[deal.agent]
    if opp.owner_id != owner.pk:
        sales_services.assign_opportunity(actor=actor, opp=opp, owner=owner)
        changed = True
    if changed:
        report.updated["opportunity"] += 1


def _bulk_create(
    actor: User,
    deals: list[maven.Deal],
    data: maven.Dataset,
    stages: dict[str, Stage],
    users: dict[str, User],
    products: dict[str, Product],
    customers: dict[str, Customer],
) -> None:
    pipeline_id = next(iter(stages.values())).pipeline_id
    plans = [_plan(d, stages, products, data) for d in deals]
    opps: list[Opportunity] = []
    for deal, plan in zip(deals, plans, strict=True):
        owner = users[deal.agent]
        lost = plan.stage.kind == Stage.Kind.LOST
        if plan.amount < 0:
            raise ValidationError({"amount": [_("Deal %(ref)s has a negative amount.") % {"ref": deal.ref}]})
        opp = Opportunity(
            name=_name(deal)[:200],
            customer=customers.get(deal.account),
            pipeline_id=pipeline_id,
            stage=plan.stage,
            status=plan.stage.kind,
            amount=plan.amount,
            currency=CURRENCY,
            probability=plan.stage.probability,
            started_on=plan.started_on,
            closed_on=plan.closed_on,
            stage_entered_at=plan.history[-1][1],
            max_stage_order=plan.max_order,
            loss_reason=LOSS_REASON if lost else "",
            loss_note=LOSS_NOTE if lost else "",
            external_ref=deal.external_ref,
            owner=owner,
            team_id=owner.team_id,
            custom={},
        )
        opps.append(opp)
    Opportunity.objects.bulk_create(opps, batch_size=BATCH)
    history: list[StageHistory] = []
    lines: list[OpportunityLine] = []
    for deal, plan, opp in zip(deals, plans, opps, strict=True):
        stays = plan.history
        for i, (stage, entered) in enumerate(stays):
            left = stays[i + 1][1] if i + 1 < len(stays) else None
            history.append(
                StageHistory(opportunity=opp, stage=stage, entered_at=entered, left_at=left, amount=opp.amount)
            )
        if deal.product and plan.unit_price is not None:
            lines.append(OpportunityLine(opportunity=opp, product=products[deal.product], unit_price=plan.unit_price))
    StageHistory.objects.bulk_create(history, batch_size=BATCH)
    OpportunityLine.objects.bulk_create(lines, batch_size=BATCH)
    names = core.tracked_fields(opps[0])
    ct = ContentType.objects.get_for_model(Opportunity)
    customer_ct = ContentType.objects.get_for_model(Customer)
    evts = []
    for opp in opps:
        snap = events.snapshot(opp, names)
        evts.append(
            Event(
                actor=actor,
                content_type=ct,
                object_id=opp.pk,
                object_repr=str(opp)[:200],
                parent_type=customer_ct if opp.customer_id else None,
                parent_id=opp.customer_id,
                verb=Event.Verb.CREATED,
                changes={k: [None, v] for k, v in snap.items() if v not in (None, "", [], {})},
                data={"import": "maven-crm"},
            )
        )
    Event.objects.bulk_create(evts, batch_size=BATCH)
    search.bulk_index(opps, batch_size=BATCH)


# --------------------------------------------------------------------------- list exports

MAX_OPEN_EXPORTS = 3  # per person: more wait in the queue for no one's benefit


def start_export(*, actor: Any, object_type: str, query: str = "", fmt: str = "csv", columns: str = "shown") -> Job:
    """Ask for a list's records as a file: checked now (the list exists, the user may export it, the filters
    make sense), written by a worker. `query` is the list page's query string (filters, q, sort, cols);
    `columns` "shown" (the list's columns) or "all" (every field the user may read)."""
    errors: dict[str, list[str]] = {}
    try:
        config = lists.get_list(object_type)
    except KeyError as exc:
        message = _("There is no list of “%(type)s” to export.") % {"type": object_type}
        raise ValidationError({"object_type": [message]}) from exc
    if fmt not in exports.EXPORT_FORMATS:
        errors["format"] = [_("Choose CSV or XLSX.")]
    if columns not in ("shown", "all"):
        errors["columns"] = [_("Choose the columns shown or all fields.")]
    if len(query) > 4000:
        errors["query"] = [_("The list's filters are too long.")]
    if errors:
        raise ValidationError(errors)
    if not permissions.can(actor, config.ot.model, "export"):
        raise PermissionDenied
    waiting = jobs.visible(actor).filter(kind=Job.Kind.EXPORT, finished_at__isnull=True).count()
    if waiting >= MAX_OPEN_EXPORTS:
        message = _("You already have %(n)s exports in progress; start another when one has finished.")
        raise ValidationError({"object_type": [message % {"n": waiting}]})
    lq = lists.build_query(lists.as_request(actor, query), config)
    if lq.invalid:
        raise ValidationError({"query": lq.invalid})
    title = _("%(list)s (%(format)s)") % {"list": capfirst(config.ot.label_plural), "format": fmt.upper()}
    return jobs.start(
        actor=actor,
        kind=Job.Kind.EXPORT,
        title=title,
        params={"object_type": object_type, "query": query, "format": fmt, "columns": columns},
        task=tasks.export_list,
    )
