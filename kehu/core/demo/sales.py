"""Demo and benchmark sales records through the bulk path: products and price lists, opportunities with
their line items, contact roles and stage history, follow-ups, tasks and sales targets.

Like kehu.core.demo.generate, this bypasses the per-record services for speed and writes what they
would have written: every opportunity gets its `created` and `stage_changed` events (with the same
changes the stage service records), a search entry, and one StageHistory row per stay in a stage, so
the board, the funnel, the forecast and every timeline look like a year of real selling. A deal walks
its pipeline's open stages one by one; at each it may be lost, and the last open stage leads to won;
deals whose walk reaches today stay open where they are.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from kehu.activities.models import Activity, Task
from kehu.core import events, registry, search
from kehu.core.demo.generate import DAY, Stats, cached_search_tokens, campaign_for, explicit_timestamps
from kehu.core.demo.org import Org
from kehu.core.models import Event, PicklistOption
from kehu.customers.models import Customer
from kehu.sales import queries as sales_queries
from kehu.sales.models import (
    Lead,
    Opportunity,
    OpportunityContact,
    OpportunityLine,
    Pipeline,
    PriceList,
    PriceListItem,
    Product,
    Stage,
    StageHistory,
    Target,
)
from kehu.users.models import User

# sku, name (Chinese with the English name), product line, unit (as a Chinese company writes it), price in
# CNY, typical quantities
PRODUCTS: list[tuple[str, str, str, str, int, tuple[int, ...]]] = [
    ("KH-CRM-STD", "客户云 CRM 标准版 Standard", "CRM", "用户/年", 980, (5, 10, 20, 30, 50)),
    ("KH-CRM-PRO", "客户云 CRM 专业版 Professional", "CRM", "用户/年", 1980, (10, 20, 50, 80, 100, 200)),
    ("KH-CRM-ENT", "客户云 CRM 旗舰版 Enterprise", "CRM", "用户/年", 3680, (50, 100, 200, 500)),
    ("KH-SVC-DESK", "服务台 Service Desk", "Service", "坐席/年", 1500, (5, 10, 20, 40)),
    ("KH-MKT-AUTO", "营销自动化 Marketing Automation", "Marketing", "套/年", 36000, (1, 1, 2)),
    ("KH-BI", "经营分析 BI Analytics", "Analytics", "套/年", 48000, (1, 1, 2)),
    ("KH-API", "开放接口 API Gateway", "Platform", "套/年", 24000, (1,)),
    ("KH-IMPL", "实施服务 Implementation", "Services", "人天", 2800, (5, 10, 20, 40, 60)),
    ("KH-TRAIN", "培训 Training", "Services", "次", 6000, (1, 2, 3, 4)),
    ("KH-SUPPORT", "高级支持 Premium Support", "Services", "年", 30000, (1,)),
    ("KH-SMS", "短信包 SMS bundle (100k)", "Messaging", "包", 4500, (1, 2, 5, 10)),
    ("KH-HW-PAD", "销售平板 Field tablet", "Hardware", "台", 3299, (5, 10, 20)),
]
USD_RATE = Decimal("0.14")
PIPELINE_WEIGHTS = {"new_business": 72, "renewals": 18, "channel": 10}
KIND_WEIGHTS = {"call": 40, "visit": 15, "meeting": 15, "email": 18, "chat": 8, "note": 4}
OUTCOME_WEIGHTS = {"positive": 40, "neutral": 35, "negative": 10, "no_answer": 15}

SUBJECTS_CN = {
    "call": ["电话沟通需求", "电话跟进报价", "回访关键人", "确认预算与时间表", "电话约见面"],
    "visit": ["上门拜访", "现场调研业务流程", "拜访采购部门", "陪同技术交流"],
    "meeting": ["方案演示", "技术交流会", "商务谈判会议", "项目启动会", "线上演示"],
    "email": ["发送产品资料", "发送报价单", "邮件确认合同条款", "发送案例介绍"],
    "chat": ["微信沟通试用情况", "微信确认会议时间", "答复产品问题"],
    "note": ["内部备注：竞争情况", "内部备注：决策链", "内部备注：预算审批中"],
}
SUBJECTS_EN = {
    "call": ["Discovery call", "Follow-up call on the quote", "Budget and timeline check", "Call to book a visit"],
    "visit": ["On-site visit", "Process workshop on site", "Visit with the buyer"],
    "meeting": ["Product demo", "Technical deep dive", "Negotiation meeting", "Online demo"],
    "email": ["Sent the brochure", "Sent the quote", "Contract terms by e-mail", "Sent customer stories"],
    "chat": ["WhatsApp check-in on the trial", "Chat about meeting time"],
    "note": ["Internal note: competition", "Internal note: buying committee", "Internal note: budget approval"],
}
BODIES_CN = [
    "客户对移动端功能很感兴趣，希望下周安排演示。",
    "采购流程需要三家比价，预计月底前确定。",
    "关键人是信息部王经理，财务总监参与最终决策。",
    "对价格有顾虑，考虑分期付款方案。",
    "试用反馈良好，需要补充数据迁移方案。",
    "",
]
BODIES_EN = [
    "Strong interest in the mobile app; wants a demo next week.",
    "Procurement needs three quotes; decision expected by month end.",
    "The IT manager leads; the CFO signs off.",
    "Price is the concern; discussed paying in instalments.",
    "",
]
NEXT_STEPS_CN = ["安排产品演示", "发送正式报价", "确认合同条款", "安排高层拜访", "提交试用账号", "跟进审批进度"]
NEXT_STEPS_EN = ["Book the demo", "Send the formal quote", "Agree contract terms", "Executive visit", "Trial account"]
COMPETITORS = ["Salesforce", "纷享销客", "销售易", "Zoho", "HubSpot", "Odoo", "简道云"]
TASKS_CN = [
    "准备方案书",
    "整理客户需求清单",
    "更新商机阶段",
    "提交报价审批",
    "安排技术交流",
    "回访老客户",
    "填写跟进记录",
]
TASKS_EN = ["Prepare the proposal", "Update the opportunity", "Get the quote approved", "Call back the customer"]


@dataclass
class CustomerInfo:
    pk: int
    name: str
    owner_id: int | None
    team_id: int | None
    foreign: bool
    created_at: dt.datetime
    relationship: str
    contacts: list[int] = field(default_factory=list)


@dataclass
class OppRow:
    obj: Opportunity
    lines: list[OpportunityLine]
    stays: list[StageHistory]
    history: list[tuple[dt.datetime, str, dict[str, list[Any]], dict[str, Any]]]
    contact_ids: list[int]
    customer: CustomerInfo


class SalesContext:
    def __init__(self, org: Org, *, now: dt.datetime | None = None, days: int = 365, history: bool = True) -> None:
        self.org = org
        self.now = now or timezone.now().replace(microsecond=0)
        self.start = self.now - days * DAY
        self.history = history
        self.users = {u.pk: u for u in org.users}
        self.reps = org.all_owners() or [org.admin]
        self.pipelines = {p.code: p for p in Pipeline.objects.filter(active=True)}
        self.stages = {
            code: list(Stage.objects.filter(pipeline=p, active=True).order_by("order", "id"))
            for code, p in self.pipelines.items()
        }
        self.sources = list(PicklistOption.objects.filter(list="source", active=True).values_list("value", flat=True))
        self.loss_reasons = list(
            PicklistOption.objects.filter(list="loss_reason", active=True).values_list("value", flat=True)
        ) or ["other"]
        kinds: tuple[type[models.Model], ...] = (Opportunity, Activity, Task, Customer)
        self.ct: dict[type[models.Model], ContentType] = {m: ContentType.objects.get_for_model(m) for m in kinds}
        self.setback = 0.0  # chance that a deal falls back one stage before moving on
        self.stale_days = 0  # when set, a deal still open after this many days is closed as lost
        self.owners: list[User] = []  # when set, deals are spread over these users instead of customer owners
        self.partners: list[int] = []  # customers whose relationship is partner
        self.managers: dict[int, User] = {}  # team id → its lead
        self.fields: dict[type[models.Model], list[str]] = {
            m: [n for n in registry.get(m).fields if n not in ("contact_roles", "lines")]
            for m in (Opportunity, Activity, Task)
        }

    def when(self, rng: random.Random, after: dt.datetime, before: dt.datetime | None = None) -> dt.datetime:
        hi = before or self.now
        if hi <= after:
            return after
        return after + dt.timedelta(seconds=rng.randrange(int((hi - after).total_seconds()) + 1))

    def created(self, obj: models.Model) -> dict[str, list[Any]]:
        snap = events.snapshot(obj, self.fields[type(obj)])
        return {k: [None, v] for k, v in snap.items() if v not in (None, "", [], {})}


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()), k=1)[0]


# --------------------------------------------------------------------------- catalogue


def ensure_catalogue() -> dict[str, tuple[Product, Decimal, tuple[int, ...]]]:
    """The demo products with a CNY and a USD price list; what exists already is kept."""
    cny = PriceList.objects.filter(currency="CNY").order_by("-is_default", "id").first() or PriceList.objects.create(
        name="标准价 Standard", currency="CNY", is_default=True
    )
    usd = PriceList.objects.filter(currency="USD", name="International").first() or PriceList.objects.create(
        name="International", currency="USD"
    )
    out = {}
    for sku, name, series, unit, price, qtys in PRODUCTS:
        product, created = Product.objects.get_or_create(
            sku=sku, defaults={"name": name, "series": series, "unit": unit}
        )
        if created:
            PriceListItem.objects.create(price_list=cny, product=product, price=Decimal(price))
            PriceListItem.objects.create(
                price_list=usd, product=product, price=(Decimal(price) * USD_RATE).quantize(Decimal("1"))
            )
        out[sku] = (product, Decimal(price), qtys)
    return out


# --------------------------------------------------------------------------- opportunities


def _lines(
    ctx: SalesContext, rng: random.Random, catalogue: dict, pipeline: str, foreign: bool
) -> tuple[list[OpportunityLine], Decimal]:
    skus = list(catalogue)
    if pipeline == "renewals":
        picks = [rng.choice(["KH-CRM-STD", "KH-CRM-PRO", "KH-CRM-ENT", "KH-SUPPORT", "KH-SVC-DESK"])]
    else:
        picks = [rng.choice(skus[:3])] + rng.sample(skus[3:], k=rng.choice([0, 0, 1, 1, 2]))
    lines, total = [], Decimal("0")
    for i, sku in enumerate(picks):
        product, price, qtys = catalogue[sku]
        unit = (price * USD_RATE).quantize(Decimal("1")) if foreign else price
        qty = Decimal(rng.choice(qtys))
        discount = Decimal(rng.choice([0, 0, 0, 5, 10, 15]))
        line = OpportunityLine(product=product, quantity=qty, unit_price=unit, discount=discount, order=i)
        lines.append(line)
        total += line.total
    return lines, total


def _walk(
    ctx: SalesContext, rng: random.Random, stages: list[Stage], start: dt.datetime
) -> list[tuple[Stage, dt.datetime]]:
    """The stages a deal passed through, with the time it entered each."""
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
    path = [(open_stages[0], start)]
    t = start
    i = 0
    while i < len(open_stages):
        t = t + dt.timedelta(hours=rng.expovariate(1 / (24 * (7 + 5 * i))))
        if t > ctx.now:
            break
        if ctx.stale_days and t - start > dt.timedelta(days=ctx.stale_days):
            path.append((lost, start + dt.timedelta(days=ctx.stale_days)))  # closed as stale
            break
        if i and rng.random() < ctx.setback:  # back one stage (e.g. the scope changed), then on again
            path.append((open_stages[i - 1], t))
            t = t + dt.timedelta(hours=rng.expovariate(1 / 72))
            if t > ctx.now:
                break
            path.append((open_stages[i], t))
            continue
        if rng.random() < (0.30 if i == 0 else 0.18):
            path.append((lost, t))
            break
        path.append((open_stages[i + 1] if i + 1 < len(open_stages) else won, t))
        if path[-1][0] == won:
            break
        i += 1
    return path


def _opportunity(ctx: SalesContext, rng: random.Random, catalogue: dict, cust: CustomerInfo) -> OppRow:
    partners = ctx.partners
    code = _weighted(rng, PIPELINE_WEIGHTS) if partners else rng.choice(["new_business"] * 4 + ["renewals"])
    pipeline, stages = ctx.pipelines[code], ctx.stages[code]
    lo = max(ctx.start, cust.created_at)
    start = ctx.when(rng, after=lo, before=ctx.now - dt.timedelta(hours=1))
    path = _walk(ctx, rng, stages, start)
    owner = rng.choice(ctx.owners) if ctx.owners else ctx.users.get(cust.owner_id or 0) or rng.choice(ctx.reps)
    lines, amount = _lines(ctx, rng, catalogue, code, cust.foreign)
    first, last = path[0][0], path[-1][0]
    main = " ".join(lines[0].product.name.split(" ")[:3]) if lines else ""
    opp = Opportunity(
        name=f"{cust.name[:60]} · {main}",
        customer_id=cust.pk,
        pipeline=pipeline,
        stage=first,
        status="open",
        amount=amount,
        currency="USD" if cust.foreign else "CNY",
        probability=first.probability,
        started_on=timezone.localdate(start),
        stage_entered_at=start,
        max_stage_order=first.order,
        source=rng.choice(ctx.sources) if ctx.sources else "",
        owner=owner,
        team_id=owner.team_id,
        created_at=start,
        custom={},
    )
    opp.customer = Customer(pk=cust.pk, name=cust.name)  # what the search document reads, without a query
    if code == "channel" and partners:
        opp.partner_id = rng.choice(partners)
        opp.source = "partner"
    opp.campaign = campaign_for(opp.source, cust.foreign, f"{cust.pk}:{start.isoformat()}")
    if rng.random() < 0.35:
        opp.competitors = rng.sample(COMPETITORS, k=rng.choice([1, 1, 2]))
    opp.expected_close = timezone.localdate(start) + dt.timedelta(days=rng.choice([30, 45, 60, 90, 120]))
    history: list[tuple[dt.datetime, str, dict[str, list[Any]], dict[str, Any]]] = []
    if ctx.history:
        history.append((start, "created", ctx.created(opp), {}))
    stays = [StageHistory(stage=first, entered_at=start, entered_by=owner, amount=amount)]
    prev = first
    for stage, when in path[1:]:
        changes: dict[str, list[Any]] = {"stage": [prev.pk, stage.pk]}
        if stage.kind != Stage.Kind.OPEN:
            changes["status"] = ["open", stage.kind]
            changes["closed_on"] = [None, timezone.localdate(when).isoformat()]
        new_prob = {"won": 100, "lost": 0}.get(stage.kind, stage.probability)
        if new_prob != opp.probability:
            changes["probability"] = [opp.probability, new_prob]
        if stage.kind == Stage.Kind.LOST:
            reason = rng.choice(ctx.loss_reasons)
            opp.loss_reason = reason
            changes["loss_reason"] = ["", reason]
        stays[-1].left_at = when
        stays.append(StageHistory(stage=stage, entered_at=when, entered_by=owner, amount=amount))
        if ctx.history:
            history.append((when, "stage_changed", changes, {"from": prev.pk, "to": stage.pk}))
        opp.stage, opp.probability, opp.stage_entered_at = stage, new_prob, when
        if stage.kind == Stage.Kind.OPEN:
            opp.max_stage_order = max(opp.max_stage_order, stage.order)
        elif stage.kind == Stage.Kind.WON:
            opp.max_stage_order = stage.order
        if stage.kind != Stage.Kind.OPEN:
            opp.status, opp.closed_on = stage.kind, timezone.localdate(when)
        prev = stage
    if last.kind == Stage.Kind.OPEN and rng.random() < 0.7:
        opp.next_step = rng.choice(NEXT_STEPS_EN if cust.foreign else NEXT_STEPS_CN)
    if last.kind == Stage.Kind.OPEN and opp.expected_close < timezone.localdate(ctx.now) and rng.random() < 0.6:
        opp.expected_close = timezone.localdate(ctx.now) + dt.timedelta(days=rng.choice([7, 14, 30, 45, 60, 90]))
    opp.updated_at = path[-1][1]
    opp.version = len(history) or 1
    contacts = cust.contacts[: rng.choice([1, 1, 2, 3])]
    return OppRow(opp, lines, stays, history, contacts, cust)


# --------------------------------------------------------------------------- follow-ups and tasks


def _activities(ctx: SalesContext, rng: random.Random, row: OppRow) -> list[Activity]:
    opp, cust = row.obj, row.customer
    end = min(ctx.now, dt.datetime.combine(opp.closed_on, dt.time(18), tzinfo=dt.UTC)) if opp.closed_on else ctx.now
    out = []
    n = rng.choice([0, 1, 2, 2, 3, 3, 4, 5])
    times = sorted(ctx.when(rng, after=opp.created_at, before=end) for _i in range(n))
    subjects, bodies = (SUBJECTS_EN, BODIES_EN) if cust.foreign else (SUBJECTS_CN, BODIES_CN)
    for i, when in enumerate(times):
        kind = _weighted(rng, KIND_WEIGHTS)
        a = Activity(
            kind=kind,
            subject=rng.choice(subjects[kind]),
            body=rng.choice(bodies),
            occurred_at=when,
            outcome="" if kind == "note" else _weighted(rng, OUTCOME_WEIGHTS),
            customer_id=cust.pk,
            contact_id=row.contact_ids[0] if row.contact_ids and kind != "note" else None,
            opportunity=opp,
            owner=opp.owner,
            team_id=opp.team_id,
            created_at=when,
            updated_at=when,
            custom={},
        )
        if kind in ("call", "visit", "meeting"):
            a.duration_minutes = rng.choice([10, 15, 30, 45, 60, 90])
        if i == len(times) - 1 and opp.status == "open":
            a.next_step = opp.next_step
            if rng.random() < 0.8:
                a.next_follow_up = timezone.localdate(ctx.now) + dt.timedelta(days=rng.randint(-6, 14))
        out.append(a)
    return out


def _lead_activities(ctx: SalesContext, rng: random.Random) -> list[Activity]:
    """One to three calls, e-mails or chats on most leads someone has worked on: the funnel's follow-up rate."""
    out = []
    rows = (
        Lead.objects.exclude(status="new")
        .exclude(owner=None)
        .values_list("pk", "owner_id", "team_id", "created_at", "updated_at", "country", "converted_customer_id")
    )
    for pk, owner_id, team_id, created, updated, country, customer_id in rows.iterator():
        if rng.random() > 0.75 or owner_id not in ctx.users:
            continue
        foreign = country not in ("", "CN")
        subjects, bodies = (SUBJECTS_EN, BODIES_EN) if foreign else (SUBJECTS_CN, BODIES_CN)
        for _i in range(rng.choice([1, 1, 2, 3])):
            kind = rng.choice(["call", "call", "email", "chat"])
            when = ctx.when(rng, after=created, before=max(created, updated))
            out.append(
                Activity(
                    kind=kind,
                    subject=rng.choice(subjects[kind]),
                    body=rng.choice(bodies),
                    occurred_at=when,
                    outcome=_weighted(rng, OUTCOME_WEIGHTS),
                    lead_id=pk,
                    customer_id=customer_id,
                    owner_id=owner_id,
                    team_id=team_id,
                    created_at=when,
                    updated_at=when,
                    custom={},
                )
            )
    return out


def _tasks(ctx: SalesContext, rng: random.Random, rows: list[OppRow]) -> list[Task]:
    today = timezone.localdate(ctx.now)
    open_rows = [r for r in rows if r.obj.status == "open"] or rows
    out = []
    for rep in dict.fromkeys(ctx.reps):
        mine = [r for r in open_rows if r.obj.owner_id == rep.pk] or open_rows
        manager = ctx.managers.get(rep.team_id) if rep.team_id else None
        for _i in range(rng.randint(5, 11)):
            row = rng.choice(mine) if mine else None
            due = today + dt.timedelta(days=rng.randint(-12, 14))
            done = due < today and rng.random() < 0.65 or rng.random() < 0.1
            created = ctx.now - dt.timedelta(days=max(1, (today - due).days + rng.randint(1, 10)))
            foreign = row.customer.foreign if row else False
            t = Task(
                title=rng.choice(TASKS_EN if foreign else TASKS_CN),
                due_date=due,
                priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                status="done" if done else rng.choice(["open", "open", "in_progress"]),
                owner=rep,
                team_id=rep.team_id,
                assigned_by=manager if manager and rng.random() < 0.5 else rep,
                opportunity=row.obj if row else None,
                customer_id=row.customer.pk if row else None,
                created_at=created,
                updated_at=created,
                custom={},
            )
            if done:
                finished = dt.datetime.combine(due, dt.time(10), tzinfo=dt.UTC) + dt.timedelta(
                    days=rng.choice([-2, -1, 0, 0, 0, 1, 3])
                )
                t.completed_at = min(ctx.now, max(created, finished))
                t.updated_at = t.completed_at
            out.append(t)
    return out


# --------------------------------------------------------------------------- writing


def _customers(ctx: SalesContext, limit: int | None = None) -> list[CustomerInfo]:
    qs = Customer.objects.order_by("id").values_list(
        "pk", "name", "owner_id", "team_id", "country", "created_at", "relationship"
    )
    rows = [CustomerInfo(pk, name, o, t, c not in ("", "CN"), created, rel) for pk, name, o, t, c, created, rel in qs]
    return rows[:limit] if limit else rows


def _attach_contacts(customers: list[CustomerInfo]) -> None:
    by_pk = {c.pk: c for c in customers}
    from kehu.customers.models import Contact

    for customer_id, pk in Contact.objects.order_by("-is_primary", "id").values_list("customer_id", "pk").iterator():
        c = by_pk.get(customer_id)
        if c is not None and len(c.contacts) < 3:
            c.contacts.append(pk)


def load_sales(
    org: Org,
    *,
    opportunities: int,
    seed: int = 2026,
    history: bool = True,
    activities: bool = True,
    batch_size: int = 5000,
    first_batch: int = 0,
    stats: Stats | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_transactions: bool = False,
    setback: float = 0.0,
    stale_days: int = 0,
    owners: list[User] | None = None,
    days: int = 365,
) -> Stats:
    """Opportunities spread over the existing customers (their owners sell them), with lines, contact
    roles, stage history, events and search entries; with `activities`, follow-ups per deal, tasks per rep
    and monthly targets. Batch `i` draws from its own seed, so a resumed run makes the same data.
    `setback` is the chance a deal falls back one stage at each step (longer stage histories, as the
    benchmark's 5 rows per deal); `stale_days` closes deals left open longer as lost; `owners` spreads deals
    over those users instead of the customers' owners; `days` is how far back the first deals start."""
    stats = stats or Stats()
    ctx = SalesContext(org, now=now, history=history, days=days)
    ctx.setback, ctx.stale_days, ctx.owners = setback, stale_days, list(owners or [])
    catalogue = ensure_catalogue()
    customers = [c for c in _customers(ctx) if c.relationship != "supplier"]
    if not customers:
        return stats
    ctx.partners = [c.pk for c in customers if c.relationship == "partner"]
    ctx.managers = {t.pk: t.lead for t in org.teams.values() if t.lead is not None}
    if activities:
        _attach_contacts(customers)
    sellable = [c for c in customers if c.relationship == "customer"] or customers
    batches = (opportunities + batch_size - 1) // batch_size
    all_rows: list[OppRow] = []
    with explicit_timestamps(Opportunity, Event, Activity, Task), cached_search_tokens():
        for b in range(first_batch, batches):
            n = min(batch_size, opportunities - b * batch_size)
            rng = random.Random(f"{seed}:opportunities:{b}")
            rows = [_opportunity(ctx, rng, catalogue, rng.choice(sellable)) for _i in range(n)]
            with transaction.atomic() if batch_transactions else _nothing():
                _write(ctx, rows, stats, batch_size, rng, activities)
            if activities:
                all_rows.extend(rows)
            if progress:
                progress(b * batch_size + n, opportunities)
        if activities:
            rng = random.Random(f"{seed}:lead-activities")
            on_leads = _lead_activities(ctx, rng)
            with stats.timed("activity", len(on_leads)):
                Activity.objects.bulk_create(on_leads, batch_size=batch_size)
            if history:
                _events(
                    ctx,
                    stats,
                    [
                        Event(
                            **_event_kwargs(
                                ctx, a.occurred_at, ctx.users.get(a.owner_id or 0), a, "created", ctx.created(a)
                            )
                        )
                        for a in on_leads
                    ],
                    batch_size,
                )
        if activities and all_rows:
            rng = random.Random(f"{seed}:tasks")
            tasks = _tasks(ctx, rng, all_rows)
            with stats.timed("task", len(tasks)):
                Task.objects.bulk_create(tasks, batch_size=batch_size)
            if history:
                _events(
                    ctx,
                    stats,
                    [
                        Event(**_event_kwargs(ctx, t.created_at, t.assigned_by, t, "created", ctx.created(t)))
                        for t in tasks
                    ],
                    batch_size,
                )
            _targets(ctx, all_rows)
    sales_queries.forget_currencies()  # written in bulk, past the services that keep that list current
    return stats


def _write(
    ctx: SalesContext, rows: list[OppRow], stats: Stats, batch_size: int, rng: random.Random, acts: bool
) -> None:
    objs = [r.obj for r in rows]
    with stats.timed("opportunity", len(objs)):
        Opportunity.objects.bulk_create(objs, batch_size=batch_size)
    lines = [line for r in rows for line in r.lines]
    for r in rows:
        for line in r.lines:
            line.opportunity_id = r.obj.pk
        for stay in r.stays:
            stay.opportunity_id = r.obj.pk
    with stats.timed("opportunity_line", len(lines)):
        OpportunityLine.objects.bulk_create(lines, batch_size=batch_size)
    stays = [s for r in rows for s in r.stays]
    with stats.timed("stage_history", len(stays)):
        StageHistory.objects.bulk_create(stays, batch_size=batch_size)
    roles = list(OpportunityContact.Role.values)
    links = [
        OpportunityContact(opportunity_id=r.obj.pk, contact_id=c, role=roles[i % len(roles)])
        for r in rows
        for i, c in enumerate(r.contact_ids)
    ]
    if links:
        with stats.timed("opportunity_contact", len(links)):
            OpportunityContact.objects.bulk_create(links, batch_size=batch_size)
    with stats.timed("search_entry", len(objs)):
        search.bulk_index(objs, batch_size=batch_size)
    activities = [a for r in rows for a in _activities(ctx, rng, r)] if acts else []
    if activities:
        with stats.timed("activity", len(activities)):
            Activity.objects.bulk_create(activities, batch_size=batch_size)
    if not ctx.history:
        return
    evs = []
    for r in rows:
        cust = Customer(pk=r.customer.pk)
        for when, verb, changes, data in r.history:
            evs.append(Event(**_event_kwargs(ctx, when, r.obj.owner, r.obj, verb, changes, data, cust)))
    for a in activities:
        evs.append(Event(**_event_kwargs(ctx, a.occurred_at, a.owner, a, "created", ctx.created(a))))
    _events(ctx, stats, evs, batch_size)


def _event_kwargs(
    ctx: SalesContext,
    when: dt.datetime,
    actor: User | None,
    obj: models.Model,
    verb: str,
    changes: dict[str, Any],
    data: dict[str, Any] | None = None,
    parent: models.Model | None = None,
) -> dict[str, Any]:
    return {
        "created_at": when,
        "actor_id": actor.pk if actor else None,
        "content_type": ctx.ct[type(obj)],
        "object_id": obj.pk,
        "object_repr": str(obj)[:200],
        "verb": verb,
        "changes": changes,
        "data": data or {},
        "parent_type": ctx.ct[type(parent)] if parent is not None else None,
        "parent_id": parent.pk if parent is not None else None,
    }


def _events(ctx: SalesContext, stats: Stats, evs: list[Event], batch_size: int) -> None:
    evs.sort(key=lambda e: e.created_at)
    with stats.timed("event", len(evs)):
        Event.objects.bulk_create(evs, batch_size=batch_size)


def _targets(ctx: SalesContext, rows: list[OppRow]) -> None:
    """Monthly targets per rep for this year: a little above what they won per month in the last quarter."""
    if Target.objects.exists():
        return
    year = timezone.localdate(ctx.now).year
    won: dict[int, Decimal] = {}
    for r in rows:
        recent = r.obj.closed_on and r.obj.closed_on >= timezone.localdate(ctx.now) - dt.timedelta(days=90)
        if r.obj.status == "won" and recent and r.obj.currency == "CNY" and r.obj.owner_id:
            won[r.obj.owner_id] = won.get(r.obj.owner_id, Decimal("0")) + r.obj.amount
    targets = []
    team_totals: dict[int, Decimal] = {}
    for user_id, amount in won.items():
        monthly = max(Decimal("50000"), (amount / 3 * Decimal("1.1")).quantize(Decimal("10000")))
        team_id = ctx.users[user_id].team_id if user_id in ctx.users else None
        for month in range(1, 13):
            targets.append(Target(start=dt.date(year, month, 1), user_id=user_id, amount=monthly, deals=3))
        if team_id:
            team_totals[team_id] = team_totals.get(team_id, Decimal("0")) + monthly
    for team_id, monthly in team_totals.items():
        for month in range(1, 13):
            targets.append(Target(start=dt.date(year, month, 1), team_id=team_id, amount=monthly, deals=10))
    Target.objects.bulk_create(targets)


def _nothing() -> Any:
    from contextlib import nullcontext

    return nullcontext()
