"""Demo and benchmark records: one seeded generator, written through the bulk path.

The per-record services (`create_customer`, `create_contact`, `create_lead` …) check the gate, validate,
save, write an Event and a search entry, one record and several queries at a time: right for people
using Kehu, far too slow for 20,000 demo records (minutes) or the benchmark's millions (days). This
module is the documented bulk path instead. It builds unsaved model instances from a seeded
`random.Random` and writes them with `bulk_create` — customers, their tags, LifecycleChange history,
contacts, ContactChannel rows, leads and Event rows — and search entries with
`kehu.core.search.bulk_index`, in batches. Because it bypasses the services it validates what it makes
itself: phone numbers are checked with `phonenumbers`, e-mail addresses and handles are normalised with
`kehu.core.normalize`, and every Event carries the same `changes` a service would have written
(`created` with the initial values, then `stage_changed`, `updated`, `assigned`, `qualified`,
`disqualified`, `converted`), dated over the past year, so timelines and the change feed look like a
year of real use. Events are inserted in time order, so their ids follow their dates as they would.

Only `kehu demo` and the scripts in benchmarks/ use this module; it spans the domain apps on purpose.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from kehu.core import events, normalize, registry, search
from kehu.core.demo import names as N
from kehu.core.demo import people as P
from kehu.core.demo.org import Org
from kehu.core.models import CustomFieldDefinition, Event, PicklistOption
from kehu.customers.models import Contact, ContactChannel, Customer, LifecycleChange
from kehu.sales.models import Lead
from kehu.users.models import User

DAY = dt.timedelta(days=1)
EAST = {"上海", "江苏", "浙江", "安徽", "山东", "福建", "江西"}
SOUTH = {"广东", "广西", "海南", "湖南", "湖北", "四川", "重庆", "云南", "贵州"}
# final stage → weight, and the stages a customer passed through to get there
STAGE_WEIGHTS = {"prospect": 28, "new": 20, "retained": 32, "at_risk": 8, "lost": 7, "won_back": 5}
STAGE_PATHS = {
    "prospect": [["prospect"]],
    "new": [["prospect", "new"], ["new"]],
    "retained": [["prospect", "new", "retained"], ["new", "retained"]],
    "at_risk": [["new", "retained", "at_risk"], ["prospect", "new", "retained", "at_risk"]],
    "lost": [["new", "retained", "at_risk", "lost"], ["new", "at_risk", "lost"]],
    "won_back": [["new", "retained", "at_risk", "lost", "won_back"]],
}
SIZE_WEIGHTS = {"large": 8, "medium": 22, "small": 42, "micro": 28}
CONTACT_WEIGHT = {"large": 6.0, "medium": 3.0, "small": 1.5, "micro": 1.0, "": 1.0}
LEAD_STATUS_WEIGHTS = {"new": 22, "working": 25, "qualified": 13, "disqualified": 20, "converted": 20}


# --------------------------------------------------------------------------- plumbing


@contextmanager
def explicit_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create store the dates we give instead of "now" (auto_now / auto_now_add switched off)."""
    saved: list[tuple[Any, bool, bool]] = []
    for model in model_classes:
        f: Any
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


@contextmanager
def cached_search_tokens() -> Iterator[None]:
    """Memoise `search.text_tokens` while loading: names and company names repeat a lot, pinyin is slow."""
    original = search.text_tokens
    cached = lru_cache(maxsize=200_000)(lambda text: frozenset(original(text)))
    search.text_tokens = cached  # type: ignore[assignment]
    try:
        yield
    finally:
        search.text_tokens = original  # type: ignore[assignment]


@dataclass
class Stats:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, table: str, n: int) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.rows[table] = self.rows.get(table, 0) + n
        self.seconds[table] = self.seconds.get(table, 0.0) + time.perf_counter() - t0


# --------------------------------------------------------------------------- generated rows


@dataclass
class ContactRow:
    obj: Contact
    channels: list[ContactChannel]
    reassigned: bool  # created before its customer changed owner, so it was reassigned with it


@dataclass
class CustomerRow:
    obj: Customer
    creator: User
    path: list[tuple[str, dt.datetime]]  # lifecycle stages entered, oldest first
    tag_ids: list[int]
    created_changes: dict[str, list[Any]]
    updates: list[tuple[dt.datetime, dict[str, list[Any]]]]
    reassigned: tuple[User, dt.datetime] | None  # (previous owner, when) if it changed owner
    domain: str
    person: P.Person | None  # an individual customer is a person, who is also its contact
    contacts: list[ContactRow] = field(default_factory=list)

    def owner_at(self, when: dt.datetime) -> User:
        if self.reassigned and when < self.reassigned[1]:
            return self.reassigned[0]
        return self.obj.owner  # type: ignore[return-value]


class Context:
    """What every batch needs: the company, pick lists, content types, the time window."""

    def __init__(self, org: Org, *, now: dt.datetime | None = None, days: int = 365, history: bool = True) -> None:
        self.org = org
        self.now = now or timezone.now().replace(microsecond=0)
        self.start = self.now - days * DAY
        self.history = history
        opts = PicklistOption.objects.filter(active=True).order_by("list", "order")
        self.industries = [o.value for o in opts if o.list == "industry"] or ["other"]
        self.sources = [o.value for o in opts if o.list == "source"] or [""]
        self.reasons = [o.value for o in opts if o.list == "disqualify_reason"] or ["other"]
        defs = {(d.object_type, d.name) for d in CustomFieldDefinition.objects.all()}
        self.has_erp = ("customers.customer", "erp_code") in defs
        self.has_key_account = ("customers.customer", "key_account") in defs
        self.has_budget = ("sales.lead", "budget") in defs
        kinds: tuple[type[models.Model], ...] = (Customer, Contact, Lead)
        self.ct: dict[type[models.Model], ContentType] = {m: ContentType.objects.get_for_model(m) for m in kinds}
        self.fields: dict[type[models.Model], list[str]] = {m: self._tracked(m) for m in kinds}
        self.all_owners = org.all_owners() or [org.admin]
        self.seen_names: set[str] = set()

    @staticmethod
    def _tracked(model: type[models.Model]) -> list[str]:
        ot = registry.get(model)
        names = [n for n in ot.fields if n not in ("tags", "channels")]
        return names + [d.field_key for d in CustomFieldDefinition.objects.filter(object_type=ot.key)]

    def when(
        self,
        rng: random.Random,
        after: dt.datetime | None = None,
        before: dt.datetime | None = None,
    ) -> dt.datetime:
        lo, hi = after or self.start, before or self.now
        if hi <= lo:
            return lo
        return lo + dt.timedelta(seconds=rng.randrange(int((hi - lo).total_seconds()) + 1))

    def owners(self, region: str) -> list[User]:
        return self.org.owners.get(region) or self.all_owners

    def created_changes(self, obj: models.Model, extra: dict[str, Any] | None = None) -> dict[str, list[Any]]:
        snap = events.snapshot(obj, self.fields[type(obj)])
        snap.update(extra or {})
        return {k: [None, v] for k, v in snap.items() if v not in (None, "", [], {})}


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()), k=1)[0]


def _region_of(province: str, foreign: bool) -> str:
    if foreign:
        return "intl"
    return "east" if province in EAST else "south" if province in SOUTH else "north"


# --------------------------------------------------------------------------- customers


def generate_customers(ctx: Context, n: int, rng: random.Random) -> list[CustomerRow]:
    """`n` unsaved customers with their planned history (stages, updates, a change of owner)."""
    rows = []
    for _i in range(n):
        rows.append(_customer(ctx, rng))
    return rows


def _customer(ctx: Context, rng: random.Random) -> CustomerRow:
    foreign = rng.random() < 0.15
    individual = rng.random() < (0.08 if foreign else 0.22)
    industry = rng.choice(ctx.industries)
    if foreign:
        country, province, city = P.foreign_region(rng)
    else:
        country, (province, city) = "CN", P.cn_region(rng)
    region = _region_of(province, foreign)
    domain, person = "", None
    if individual:
        person = P.make_person(rng, latin=foreign and rng.random() < 0.85)
        name = person.name
    else:
        for _attempt in range(6):
            company = P.foreign_company(rng, industry, country) if foreign else P.cn_company(rng, industry, city)
            if company.name not in ctx.seen_names:
                break
        name, domain = company.name, company.domain
        ctx.seen_names.add(name)
    created = ctx.when(rng, before=ctx.now - dt.timedelta(hours=2))
    final_stage = _weighted(rng, STAGE_WEIGHTS)
    stages = rng.choice(STAGE_PATHS[final_stage])
    times = sorted(ctx.when(rng, after=created) for _s in stages[1:])
    path = list(zip(stages, [created, *times], strict=True))
    owners = ctx.owners(region)
    owner = rng.choice(owners)
    reassigned = None
    if rng.random() < 0.12 and len(set(owners)) > 1:
        previous = rng.choice([u for u in owners if u.pk != owner.pk])
        reassigned = (previous, ctx.when(rng, after=created))
    creator = reassigned[0] if reassigned else owner
    size = "" if individual else _weighted(rng, SIZE_WEIGHTS)
    relationship = "customer"
    if not individual:
        relationship = rng.choices(["customer", "partner", "supplier"], weights=[95, 3, 2])[0]
    c = Customer(
        kind=Customer.Kind.INDIVIDUAL if individual else Customer.Kind.COMPANY,
        relationship=relationship,
        name=name,
        lifecycle_stage=stages[0],
        source=rng.choice(ctx.sources),
        industry="" if individual else industry,
        size_tier=size,
        country=country,
        province=province,
        city=city,
        owner=creator,
        team_id=creator.team_id,
        created_at=created,
        stage_changed_at=created,
    )
    if rng.random() < 0.7:
        c.address = (
            f"{city}{rng.choice(N.ROADS_CN)}{rng.randint(1, 999)}号"
            if not foreign
            else f"{rng.randint(1, 400)} {rng.choice(N.STREETS_EN)}, {city}"
        )
    if domain:
        c.website = f"https://www.{domain}"
    if not individual and rng.random() < 0.35:
        c.credit_limit = Decimal(rng.choice([50, 100, 200, 300, 500, 1000, 2000]) * 1000)
        c.payment_terms = rng.choice(N.PAYMENT_TERMS)
        c.bank_account = " ".join(f"{rng.randrange(10_000):04d}" for _b in range(4)) + f" {rng.randrange(1000):03d}"
    custom: dict[str, Any] = {}
    if ctx.has_key_account and not individual and (size == "large" or rng.random() < 0.1):
        custom["key_account"] = size == "large" and rng.random() < 0.6
    c.custom = custom
    tag_ids = (
        sorted({t.pk for t in rng.sample(ctx.org.tags, k=rng.choice([1, 1, 2]))})
        if (ctx.org.tags and rng.random() < 0.3)
        else []
    )
    # The record as it was created …
    updates: list[tuple[dt.datetime, dict[str, list[Any]]]] = []
    final_size = size
    if size and rng.random() < 0.2:
        c.size_tier = rng.choice([s for s in SIZE_WEIGHTS if s != size])
    created_changes = ctx.created_changes(c, {"tags": tag_ids} if tag_ids else None) if ctx.history else {}
    # … and what happened to it since.
    if final_size != c.size_tier:
        updates.append((ctx.when(rng, after=created), {"size_tier": [c.size_tier, final_size]}))
        c.size_tier = final_size
    if ctx.has_erp and not individual and final_stage != "prospect" and rng.random() < 0.45:
        code = f"C{rng.randrange(100_000, 999_999)}"
        updates.append((ctx.when(rng, after=path[min(1, len(path) - 1)][1]), {"cf_erp_code": [None, code]}))
        c.custom = {**c.custom, "erp_code": code}
    c.owner, c.team_id = owner, owner.team_id
    c.lifecycle_stage, c.stage_changed_at = path[-1]
    last = max([path[-1][1], *(t for t, _ch in updates), reassigned[1] if reassigned else created])
    c.updated_at = last
    c.version = len(path) + len(updates) + (1 if reassigned else 0)
    return CustomerRow(c, creator, path, tag_ids, created_changes, updates, reassigned, domain, person)


# --------------------------------------------------------------------------- contacts


def _contact_counts(rows: list[CustomerRow], quota: int, rng: random.Random) -> list[int]:
    """Split `quota` contacts over the customers: one each first, the rest by company size."""
    counts = [0] * len(rows)
    order = list(range(len(rows)))
    rng.shuffle(order)
    for i in order[:quota]:
        counts[i] = 1
    extra = quota - sum(counts)
    companies = [i for i, r in enumerate(rows) if r.obj.kind == Customer.Kind.COMPANY] or list(range(len(rows)))
    if extra > 0 and companies:
        weights = [CONTACT_WEIGHT.get(rows[i].obj.size_tier, 1.0) for i in companies]
        for i in rng.choices(companies, weights=weights, k=extra):
            counts[i] += 1
    return counts


def generate_contacts(ctx: Context, rows: list[CustomerRow], quota: int, rng: random.Random) -> list[ContactRow]:
    """`quota` unsaved contacts for the (saved) customers in `rows`, with their channels."""
    out: list[ContactRow] = []
    for row, count in zip(rows, _contact_counts(rows, quota, rng), strict=True):
        for i in range(count):
            contact = _contact(ctx, row, i, rng)
            row.contacts.append(contact)
            out.append(contact)
    return out


def _contact(ctx: Context, row: CustomerRow, index: int, rng: random.Random) -> ContactRow:
    cust = row.obj
    foreign = cust.country != "CN"
    individual = cust.kind == Customer.Kind.INDIVIDUAL
    if individual and row.person and index == 0:
        person = row.person
    else:
        person = P.make_person(rng, latin=rng.random() < (0.85 if foreign else 0.05))
    created = (
        cust.created_at + dt.timedelta(minutes=rng.randint(1, 30))
        if index == 0
        else ctx.when(rng, after=cust.created_at)
    )
    created = min(created, ctx.now)
    owner_then = row.owner_at(created)
    ct = Contact(
        customer=cust,
        name=person.name,
        owner=owner_then,
        team_id=owner_then.team_id,
        is_primary=index == 0,
        created_at=created,
    )
    if not individual:
        ct.title, ct.department = rng.choice(N.TITLES_EN if person.latin or foreign else N.TITLES_CN)
    if rng.random() < 0.7:
        ct.gender = person.gender
    if rng.random() < 0.1:
        ct.birthday = dt.date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28))
    channels = _channels(rng, person, row.domain, foreign=foreign, individual=individual)
    ct.custom = {}
    reassigned = bool(row.reassigned and created < row.reassigned[1])
    ct.owner, ct.team_id = cust.owner, cust.team_id
    ct.updated_at = row.reassigned[1] if reassigned and row.reassigned else created
    ct.version = 3 if reassigned else 2
    contact_row = ContactRow(ct, channels, reassigned)
    for ch in channels:
        ch.contact = ct
    return contact_row


def _channels(rng: random.Random, p: P.Person, domain: str, *, foreign: bool, individual: bool) -> list[ContactChannel]:
    out: list[ContactChannel] = []

    def add(kind: str, value: str, normalized: str, label: str = "") -> None:
        if any(c.kind == kind and c.normalized == normalized for c in out):
            return
        out.append(
            ContactChannel(
                kind=kind,
                value=value,
                normalized=normalized,
                label=label,
                is_primary=not any(c.kind == kind for c in out),
            )
        )

    if rng.random() < (0.7 if individual else 0.92):
        if domain and rng.random() < 0.9:
            address = f"{P.email_local(rng, p)}@{domain}"
            add("email", address, normalize.email(address), "work")
        else:
            address = P.personal_email(rng, p, foreign=foreign)
            add("email", address, normalize.email(address), "home")
    if not foreign and rng.random() < 0.85:
        typed, e164 = P.cn_mobile(rng)
        add("phone", typed, e164, "mobile")
    elif foreign and rng.random() < 0.5:
        number = P.foreign_mobile(rng, rng.choice(["US", "GB", "DE", "SG", "JP", "AU", "AE", "FR"]))
        if number:
            add("phone", number[0], number[1], "mobile")
    if not p.latin and rng.random() < 0.3:
        handle = (
            f"{p.surname_py}{p.given_py}{rng.randint(80, 2005)}"
            if rng.random() < 0.6
            else "wxid_" + "".join(rng.choice("abcdefghijkmnpqrstuvwxyz0123456789") for _c in range(12))
        )
        add("wechat", handle, normalize.handle(handle))
    if foreign and rng.random() < 0.35:
        phone = next((c for c in out if c.kind == "phone"), None)
        if phone is not None:
            add("whatsapp", phone.value, phone.normalized)
        else:
            found = P.foreign_mobile(rng, rng.choice(["US", "GB", "SG", "AE", "IN", "BR", "MY"]))
            if found:
                add("whatsapp", found[0], found[1])
    if rng.random() < (0.25 if p.latin or foreign else 0.06):
        handle = f"{p.given_py}-{p.surname_py}-{rng.randrange(16**4):04x}"
        add("linkedin", handle, normalize.handle(handle))
    return out


# --------------------------------------------------------------------------- leads


def generate_leads(ctx: Context, n: int, rng: random.Random, candidates: list[CustomerRow]) -> list[tuple[Lead, list]]:
    """`n` unsaved leads and their history [(when, verb, changes, data, parent)], in every status; converted
    ones point at a customer (and its first contact) that their conversion created."""
    pool = [r for r in candidates if r.contacts and r.path[0][0] == "new"]
    rng.shuffle(pool)
    out = []
    for _i in range(n):
        status = _weighted(rng, LEAD_STATUS_WEIGHTS)
        if status == "converted" and not pool:
            status = "qualified"
        out.append(_converted_lead(ctx, pool.pop(), rng) if status == "converted" else _lead(ctx, status, rng))
    return out


def _lead_owner(ctx: Context, region: str, rng: random.Random) -> User:
    return rng.choice(ctx.owners(region))


def campaign_for(source: str, foreign: bool, seed: str) -> str:
    """The campaign a record from this source channel came through, or "" (about three in four of those
    channels name one). Its own random stream, so adding campaigns leaves the rest of the demo unchanged."""
    names = (N.CAMPAIGNS_EN if foreign else N.CAMPAIGNS_CN).get(source, [])
    pick = random.Random(f"campaign:{seed}")
    return pick.choice(names) if names and pick.random() < 0.75 else ""


def _lead(ctx: Context, status: str, rng: random.Random) -> tuple[Lead, list]:
    foreign = rng.random() < 0.12
    if foreign:
        country, province, city = P.foreign_region(rng)
    else:
        country, (province, city) = "CN", P.cn_region(rng)
    region = _region_of(province, foreign)
    person = P.make_person(rng, latin=foreign and rng.random() < 0.85)
    industry = rng.choice(ctx.industries)
    company = None
    if rng.random() < 0.85:
        company = P.foreign_company(rng, industry, country) if foreign else P.cn_company(rng, industry, city)
    recent = {"new": 30, "working": 90}.get(status, 365)
    created = ctx.when(rng, after=max(ctx.start, ctx.now - recent * DAY), before=ctx.now - dt.timedelta(hours=1))
    lead = Lead(
        name=person.name,
        company=company.name if company else "",
        source=rng.choice(ctx.sources),
        industry=industry if company else "",
        country=country,
        province=province,
        city=city,
        status="new",
        created_at=created,
    )
    lead.campaign = campaign_for(lead.source, foreign, f"{person.name}:{created.isoformat()}")
    if company:
        lead.title = rng.choice(N.TITLES_EN if person.latin or foreign else N.TITLES_CN)[0]
    if rng.random() < 0.85:
        address = (
            f"{P.email_local(rng, person)}@{company.domain}"
            if company and rng.random() < 0.8
            else P.personal_email(rng, person, foreign=foreign)
        )
        lead.email = normalize.email(address)
    if rng.random() < 0.8:
        number = P.foreign_mobile(rng, country) if foreign else P.cn_mobile(rng)
        lead.phone = number[1] if number else ""
    if not person.latin and rng.random() < 0.25:
        lead.wechat = f"{person.surname_py}{person.given_py}{rng.randint(80, 2005)}"
    lead.custom = {}
    if ctx.has_budget and rng.random() < 0.5:
        lead.custom["budget"] = str(Decimal(rng.choice([2, 5, 8, 10, 20, 30, 50, 80, 100, 200, 500]) * 10_000))
    owner = _lead_owner(ctx, region, rng)
    history: list = []
    by_marketing = bool(ctx.org.marketers) and lead.source in ("web_form", "campaign", "trade_show", "social")
    unassigned = status == "new" and rng.random() < 0.25
    if by_marketing or unassigned:
        actor = rng.choice(ctx.org.marketers) if ctx.org.marketers else owner
        history.append((created, "created", ctx.created_changes(lead), {}, None, actor))
        if unassigned:
            lead.updated_at = created
            return lead, history
        assigned_at = min(ctx.now, created + dt.timedelta(minutes=rng.randint(5, 600)))
        history.append(
            (assigned_at, "assigned", {"owner": [None, owner.pk], "team": [None, owner.team_id]}, {}, None, actor)
        )
    else:
        lead.owner, lead.team_id = owner, owner.team_id
        assigned_at = created
        history.append((created, "created", ctx.created_changes(lead), {}, None, owner))
    lead.owner, lead.team_id, lead.assigned_at = owner, owner.team_id, assigned_at
    t = assigned_at
    if status != "new":
        t = ctx.when(rng, after=t, before=min(ctx.now, t + 20 * DAY))
        history.append((t, "updated", {"status": ["new", "working"]}, {}, None, owner))
    if status == "qualified":
        t = ctx.when(rng, after=t, before=min(ctx.now, t + 30 * DAY))
        history.append((t, "qualified", {"status": ["working", "qualified"]}, {}, None, owner))
    if status == "disqualified":
        reason = rng.choice(ctx.reasons)
        note = rng.choice(N.DISQUALIFY_NOTES.get(reason, [""]))
        lead.disqualify_reason, lead.disqualify_note = reason, note
        t = ctx.when(rng, after=t, before=min(ctx.now, t + 30 * DAY))
        history.append(
            (
                t,
                "disqualified",
                {
                    "status": ["working", "disqualified"],
                    "disqualify_reason": ["", reason],
                    "disqualify_note": ["", note],
                },
                {"reason": reason},
                None,
                owner,
            )
        )
    lead.status = status
    lead.updated_at = t
    lead.version = len(history)
    return lead, history


def _converted_lead(ctx: Context, row: CustomerRow, rng: random.Random) -> tuple[Lead, list]:
    cust, contact = row.obj, row.contacts[0]
    converted_at = cust.created_at
    created = max(ctx.start, converted_at - dt.timedelta(seconds=rng.randrange(3600, 30 * 86400)))
    email = next((c.normalized for c in contact.channels if c.kind == "email"), "")
    phone = next((c.normalized for c in contact.channels if c.kind == "phone"), "")
    owner = row.creator
    lead = Lead(
        name=contact.obj.name,
        company=cust.name if cust.kind == Customer.Kind.COMPANY else "",
        title=contact.obj.title,
        email=email,
        phone=phone,
        source=cust.source,
        industry=cust.industry,
        country=cust.country,
        province=cust.province,
        city=cust.city,
        status="new",
        owner=owner,
        team_id=owner.team_id,
        assigned_at=created,
        created_at=created,
        custom={},
    )
    lead.campaign = campaign_for(lead.source, lead.country not in ("", "CN"), f"{lead.name}:{created.isoformat()}")
    if ctx.has_budget and rng.random() < 0.6:
        lead.custom["budget"] = str(Decimal(rng.choice([10, 20, 50, 100, 200, 500]) * 10_000))
    qualified_at = ctx.when(rng, after=created, before=converted_at)
    history = [
        (created, "created", ctx.created_changes(lead), {}, None, owner),
        (qualified_at, "qualified", {"status": ["new", "qualified"]}, {}, None, owner),
        (
            converted_at,
            "converted",
            {
                "status": ["qualified", "converted"],
                "converted_at": [None, converted_at.isoformat()],
                "converted_customer": [None, cust.pk],
                "converted_contact": [None, contact.obj.pk],
            },
            {"customer": cust.pk, "contact": contact.obj.pk},
            cust,
            owner,
        ),
    ]
    lead.status, lead.converted_at = "converted", converted_at
    lead.converted_customer, lead.converted_contact = cust, contact.obj
    lead.updated_at, lead.version = converted_at, 3
    return lead, history


# --------------------------------------------------------------------------- writing


class Loader:
    """Writes generated batches: records with bulk_create, then search entries with search.bulk_index.
    Events are collected and written by `flush_events()` in time order."""

    def __init__(self, ctx: Context, stats: Stats | None = None, batch_size: int = 5000) -> None:
        self.ctx = ctx
        self.stats = stats or Stats()
        self.batch_size = batch_size
        self.events: list[Event] = []

    def _event(
        self,
        when: dt.datetime,
        actor: User | None,
        obj: models.Model,
        verb: str,
        changes: dict[str, Any],
        data: dict[str, Any] | None = None,
        parent: models.Model | None = None,
    ) -> None:
        self.events.append(
            Event(
                created_at=when,
                actor_id=actor.pk if actor else None,
                content_type=self.ctx.ct[type(obj)],
                object_id=obj.pk,
                object_repr=str(obj)[:200],
                verb=verb,
                changes=changes,
                data=data or {},
                parent_type=self.ctx.ct[type(parent)] if parent is not None else None,
                parent_id=parent.pk if parent is not None else None,
            )
        )

    def customers(self, rows: list[CustomerRow]) -> None:
        objs = [r.obj for r in rows]
        with self.stats.timed("customer", len(objs)):
            Customer.objects.bulk_create(objs, batch_size=self.batch_size)
        through = Customer.tags.through
        links = [through(customer_id=r.obj.pk, tag_id=t) for r in rows for t in r.tag_ids]
        if links:
            with self.stats.timed("customer_tags", len(links)):
                through.objects.bulk_create(links, batch_size=self.batch_size)
        if not self.ctx.history:
            return
        changes = []
        for r in rows:
            c = r.obj
            prev = ""
            for stage, when in r.path:
                changes.append(
                    LifecycleChange(
                        customer=c, from_stage=prev, to_stage=stage, changed_at=when, changed_by=r.owner_at(when)
                    )
                )
                if prev:
                    self._event(when, r.owner_at(when), c, "stage_changed", {"lifecycle_stage": [prev, stage]})
                prev = stage
            self._event(c.created_at, r.creator, c, "created", r.created_changes)
            for when, ch in r.updates:
                self._event(when, r.owner_at(when), c, "updated", ch)
            if r.reassigned:
                old, when = r.reassigned
                manager = self._manager_of(c.owner)
                self._event(
                    when, manager, c, "assigned", {"owner": [old.pk, c.owner_id], "team": [old.team_id, c.team_id]}
                )
        with self.stats.timed("lifecycle_change", len(changes)):
            LifecycleChange.objects.bulk_create(changes, batch_size=self.batch_size)

    def _manager_of(self, user: User | None) -> User:
        team_id = user.team_id if user else None
        lead_id = next((t.lead_id for t in self.ctx.org.teams.values() if t.pk == team_id), None)
        return next((u for u in self.ctx.org.users if u.pk == lead_id), self.ctx.org.admin)

    def contacts(self, rows: list[CustomerRow], contacts: list[ContactRow]) -> None:
        objs = [c.obj for c in contacts]
        with self.stats.timed("contact", len(objs)):
            Contact.objects.bulk_create(objs, batch_size=self.batch_size)
        channels = [ch for c in contacts for ch in c.channels]
        for ch in channels:
            ch.contact_id = ch.contact.pk
        with self.stats.timed("contact_channel", len(channels)):
            ContactChannel.objects.bulk_create(channels, batch_size=self.batch_size)
        for c in contacts:
            # what contact_document() reads, without a query per contact
            c.obj._prefetched_objects_cache = {"channels": c.channels}  # type: ignore[attr-defined]
        if not self.ctx.history:
            return
        for r in rows:
            for c in r.contacts:
                ct = c.obj
                creator = r.owner_at(ct.created_at)
                snap = self.ctx.created_changes(ct)
                snap["owner"], snap["team"] = [None, creator.pk], [None, creator.team_id]
                self._event(ct.created_at, creator, ct, "created", snap, parent=r.obj)
                if c.channels:
                    summary = sorted(f"{ch.kind}:{ch.normalized}" for ch in c.channels)
                    self._event(ct.created_at, creator, ct, "updated", {"channels": [[], summary]}, parent=r.obj)
                if c.reassigned and r.reassigned:
                    old, when = r.reassigned
                    self._event(
                        when,
                        self._manager_of(r.obj.owner),
                        ct,
                        "assigned",
                        {"owner": [old.pk, ct.owner_id], "team": [old.team_id, ct.team_id]},
                        parent=r.obj,
                    )

    def leads(self, leads: list[tuple[Lead, list]]) -> None:
        objs = [lead for lead, _h in leads]
        with self.stats.timed("lead", len(objs)):
            Lead.objects.bulk_create(objs, batch_size=self.batch_size)
        if self.ctx.history:
            for lead, history in leads:
                for when, verb, changes, data, parent, actor in history:
                    self._event(when, actor, lead, verb, changes, data, parent)

    def index(self, objs: list[models.Model], table: str) -> None:
        if objs:
            with self.stats.timed(table, len(objs)):
                search.bulk_index(objs, batch_size=self.batch_size)

    def flush_events(self) -> int:
        self.events.sort(key=lambda e: e.created_at)
        n = len(self.events)
        with self.stats.timed("event", n):
            Event.objects.bulk_create(self.events, batch_size=self.batch_size)
        self.events = []
        return n


def load(
    org: Org,
    *,
    customers: int,
    contacts: int,
    leads: int,
    seed: int = 2026,
    history: bool = True,
    batch_size: int = 5000,
    first_batch: int = 0,
    stats: Stats | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_transactions: bool = False,
) -> Stats:
    """Generate and write the records. Batch `i` always draws from the same seed, so a run resumed at
    `first_batch` (benchmarks: one committed transaction per batch) makes the same data as an unbroken one.
    Contacts are spread over the customers in proportion; leads come last and may point at customers."""
    ctx = Context(org, now=now, history=history)
    loader = Loader(ctx, stats, batch_size)
    candidates: list[CustomerRow] = []
    batches = (customers + batch_size - 1) // batch_size
    with explicit_timestamps(Customer, Contact, Lead, Event), cached_search_tokens():
        for b in range(first_batch, batches):
            lo, hi = b * batch_size, min(customers, (b + 1) * batch_size)
            rng = random.Random(f"{seed}:customers:{b}")
            quota = contacts * hi // customers - contacts * lo // customers
            with transaction.atomic() if batch_transactions else _nothing():
                rows = generate_customers(ctx, hi - lo, rng)
                loader.customers(rows)
                contact_rows = generate_contacts(ctx, rows, quota, rng)
                loader.contacts(rows, contact_rows)
                loader.index([r.obj for r in rows], "search_entry")
                loader.index([c.obj for c in contact_rows], "search_entry")
            if len(candidates) < leads:  # customers a converted lead may have created
                candidates.extend(r for r in rows if r.contacts and r.path[0][0] == "new")
            if progress:
                progress(hi, customers)
        if leads:
            rng = random.Random(f"{seed}:leads")
            generated = generate_leads(ctx, leads, rng, candidates)
            loader.leads(generated)
            loader.index([lead for lead, _h in generated], "search_entry")
        if history:
            loader.flush_events()
    return loader.stats


@contextmanager
def _nothing() -> Iterator[None]:
    yield
