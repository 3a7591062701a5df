"""Reading and checking the Maven CRM sales data set (five CSV files) before anything is written.

`read(path)` parses every column of every file, maps the values onto Kehu's (sector → industry, office
location → ISO country, the product spelled "GTXPro" → "GTX Pro") and returns the cleaned rows together
with every flaw it found. Nothing is dropped silently: a row that cannot be imported is listed as a flaw
with its reason, a value that had to be repaired is counted. The import service (`kehu.dataio.services`)
writes what this module returns; this module touches no database.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.text import slugify
from django.utils.translation import gettext as _

FILES = ("accounts.csv", "products.csv", "sales_teams.csv", "sales_pipeline.csv")
STAGES = ("Prospecting", "Engaging", "Won", "Lost")
CLOSED = ("Won", "Lost")

# sector in the data set → value of Kehu's industry pick list, and the options the import adds if missing
SECTORS = {
    "technology": "technology",
    "medical": "healthcare",
    "retail": "retail",
    "finance": "finance",
    "software": "software",
    "telecommunications": "telecommunications",
    "marketing": "marketing",
    "entertainment": "entertainment",
    "services": "services",
    "employment": "employment",
}
SECTOR_TYPOS = {"technolgy": "technology"}
NEW_INDUSTRIES = {  # value → (English, Chinese)
    "software": ("Software", "软件"),
    "telecommunications": ("Telecommunications", "电信"),
    "marketing": ("Marketing", "市场营销"),
    "entertainment": ("Entertainment", "文化娱乐"),
    "services": ("Business services", "商务服务"),
    "employment": ("Employment services", "人力资源服务"),
}
COUNTRIES = {
    "United States": "US",
    "Kenya": "KE",
    "Philippines": "PH",
    "Japan": "JP",
    "Italy": "IT",
    "Norway": "NO",
    "Korea": "KR",  # the data set does not say which Korea; its companies are read as South Korean
    "Jordan": "JO",
    "Brazil": "BR",
    "Germany": "DE",
    "Panama": "PA",
    "Belgium": "BE",
    "Romania": "RO",
    "Poland": "PL",
    "China": "CN",
}
COUNTRY_TYPOS = {"Philipines": "Philippines"}
PRODUCT_ALIASES = {"GTXPro": "GTX Pro"}


@dataclass
class Flaw:
    """One kind of problem in the data: how many rows, a few examples, and what the import did about it."""

    code: str
    message: str
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, example: str) -> None:
        self.count += 1
        if len(self.examples) < 3 and example not in self.examples:
            self.examples.append(example)


@dataclass
class Account:
    name: str
    sector: str  # as written in the file
    industry: str  # pick-list value
    founded: int | None
    revenue_musd: Decimal | None
    employees: int | None
    office_location: str  # as written
    country: str  # ISO code or ""
    subsidiary_of: str

    @property
    def size_tier(self) -> str:
        if self.employees is None:
            return ""
        if self.employees >= 1000:
            return "large"
        if self.employees >= 250:
            return "medium"
        return "small" if self.employees >= 50 else "micro"

    @property
    def description(self) -> str:
        parts = [f"Maven CRM account. Sector: {self.sector}."]
        if self.founded:
            parts.append(f"Established {self.founded}.")
        if self.revenue_musd is not None:
            parts.append(f"Annual revenue: {self.revenue_musd:,} million USD.")
        if self.employees is not None:
            parts.append(f"Employees: {self.employees:,}.")
        parts.append(f"Headquarters: {self.office_location}.")
        if self.subsidiary_of:
            parts.append(f"Subsidiary of {self.subsidiary_of}.")
        return " ".join(parts)


@dataclass
class Product:
    name: str
    series: str
    price: Decimal

    @property
    def sku(self) -> str:
        return slugify(self.name).upper()[:40]


@dataclass
class Agent:
    name: str
    manager: str
    office: str

    @property
    def username(self) -> str:
        return username_for(self.name)


@dataclass
class Deal:
    ref: str  # opportunity_id
    agent: str
    product: str  # canonical product name
    account: str  # "" when the row has none
    stage: str
    engaged_on: dt.date | None
    closed_on: dt.date | None
    close_value: Decimal | None

    @property
    def external_ref(self) -> str:
        return f"maven:{self.ref}"


@dataclass
class Dataset:
    accounts: dict[str, Account]
    products: dict[str, Product]
    agents: dict[str, Agent]
    deals: list[Deal]
    flaws: dict[str, Flaw]
    skipped: Counter[str]  # rows not imported, per kind of record
    snapshot: dt.date  # the latest date in the data: the day the data set describes

    @property
    def managers(self) -> dict[str, str]:
        """manager → regional office."""
        return {a.manager: a.office for a in self.agents.values()}


def username_for(name: str) -> str:
    """ "Mei-Mei Johns" → "mei-mei.johns": lower-case, words joined by dots, only characters Django allows."""
    words = ["".join(ch for ch in w if ch.isalnum() or ch == "-") for w in name.lower().split()]
    return ".".join(w for w in words if w)[:150]


class DatasetMissing(Exception):
    pass


def _rows(path: Path, name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    file = path / name
    if not file.is_file():
        raise DatasetMissing(_("%(file)s is missing.") % {"file": file})
    with file.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetMissing(
                _("%(file)s lacks the columns %(columns)s.") % {"file": file, "columns": ", ".join(missing)}
            )
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


class Checker:
    def __init__(self) -> None:
        self.flaws: dict[str, Flaw] = {}
        self.skipped: Counter[str] = Counter()  # rows not imported, per kind of record

    def flag(self, code: str, message: str, example: str, skip: str = "") -> None:
        self.flaws.setdefault(code, Flaw(code, message)).add(example)
        if skip:
            self.skipped[skip] += 1

    def integer(self, raw: str, code: str, what: str, example: str) -> int | None:
        try:
            return int(raw)
        except ValueError:
            self.flag(code, _("%(what)s is not a whole number: left empty.") % {"what": what}, example)
            return None

    def decimal(self, raw: str, code: str, what: str, example: str) -> Decimal | None:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value < 0:
            self.flag(code, _("%(what)s is not a number of zero or more: left empty.") % {"what": what}, example)
            return None
        return value

    def date(self, raw: str, code: str, what: str, example: str) -> dt.date | None:
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.flag(code, _("%(what)s is not a date (YYYY-MM-DD): left empty.") % {"what": what}, example)
            return None


def read(path: Path) -> Dataset:
    """Parse and check the data set in `path`; raises DatasetMissing if a file or column is absent."""
    chk = Checker()
    accounts = _accounts(path, chk)
    products = _products(path, chk)
    agents = _agents(path, chk)
    deals = _deals(path, chk, accounts, products, agents)
    dates = [d for deal in deals for d in (deal.engaged_on, deal.closed_on) if d]
    snapshot = max(dates) if dates else dt.date.today()
    undated = sum(1 for d in deals if d.engaged_on is None and d.closed_on is None)
    if undated:
        flaw = chk.flaws.setdefault(
            "deal_no_dates",
            Flaw(
                "deal_no_dates",
                _(
                    "Deals without any date (all in Prospecting): they are taken to have started on the data "
                    "set's last day, %(day)s."
                )
                % {"day": snapshot.isoformat()},
            ),
        )
        for d in deals:
            if d.engaged_on is None and d.closed_on is None:
                flaw.add(d.ref)
    return Dataset(accounts, products, agents, deals, chk.flaws, chk.skipped, snapshot)


def _accounts(path: Path, chk: Checker) -> dict[str, Account]:
    cols = ("account", "sector", "year_established", "revenue", "employees", "office_location", "subsidiary_of")
    rows = _rows(path, "accounts.csv", cols)
    out: dict[str, Account] = {}
    for i, r in enumerate(rows, start=2):
        name = r["account"]
        where = f"accounts.csv:{i}"
        if not name:
            chk.flag("account_no_name", _("Accounts without a name: not imported."), where, skip="customer")
            continue
        if name in out:
            chk.flag("account_duplicate", _("Accounts listed twice: the first row is used."), name, skip="customer")
            continue
        sector = r["sector"]
        key = sector.lower()
        if key in SECTOR_TYPOS:
            chk.flag(
                f"sector_typo_{key}",
                _("Sector “%(typo)s” is a misspelling of “%(right)s”: imported as %(right)s.")
                % {"typo": sector, "right": SECTOR_TYPOS[key]},
                name,
            )
            key = SECTOR_TYPOS[key]
        industry = SECTORS.get(key, "")
        if not industry:
            chk.flag(
                "sector_unknown", _("Sectors with no matching industry: the industry is left empty."), sector or name
            )
        founded = chk.integer(r["year_established"], "account_bad_year", _("Year established"), where)
        if founded is not None and not 1800 <= founded <= dt.date.today().year:
            chk.flag("account_bad_year", _("Year established out of range: left empty."), f"{name}: {founded}")
            founded = None
        location = r["office_location"]
        if location in COUNTRY_TYPOS:
            chk.flag(
                f"country_typo_{location}",
                _("Office location “%(typo)s” is a misspelling of “%(right)s”.")
                % {"typo": location, "right": COUNTRY_TYPOS[location]},
                name,
            )
        country = COUNTRIES.get(COUNTRY_TYPOS.get(location, location), "")
        if not country:
            chk.flag("country_unknown", _("Office locations that are not a known country: left empty."), location)
        if location == "Korea":
            chk.flag("country_korea", _("Office location “Korea” does not say which Korea: read as South Korea."), name)
        out[name] = Account(
            name=name,
            sector=sector,
            industry=industry,
            founded=founded,
            revenue_musd=chk.decimal(r["revenue"], "account_bad_revenue", _("Revenue"), where),
            employees=chk.integer(r["employees"], "account_bad_employees", _("Employees"), where),
            office_location=location,
            country=country,
            subsidiary_of=r["subsidiary_of"],
        )
    for acc in out.values():
        if acc.subsidiary_of and acc.subsidiary_of not in out:
            chk.flag(
                "parent_unknown",
                _("Parent companies that are not in accounts.csv: kept as text only."),
                f"{acc.name} → {acc.subsidiary_of}",
            )
    return out


def _products(path: Path, chk: Checker) -> dict[str, Product]:
    out: dict[str, Product] = {}
    for i, r in enumerate(_rows(path, "products.csv", ("product", "series", "sales_price")), start=2):
        name = r["product"]
        if not name or name in out:
            chk.flag(
                "product_bad_row",
                _("Product rows without a name or listed twice: skipped."),
                f"products.csv:{i}",
                skip="product",
            )
            continue
        price = chk.decimal(r["sales_price"], "product_bad_price", _("Sales price"), name)
        out[name] = Product(name=name, series=r["series"], price=price if price is not None else Decimal("0"))
    skus = Counter(p.sku for p in out.values())
    for sku, n in skus.items():
        if n > 1:
            chk.flag("product_same_sku", _("Products whose names give the same SKU."), sku)
    return out


def _agents(path: Path, chk: Checker) -> dict[str, Agent]:
    out: dict[str, Agent] = {}
    for i, r in enumerate(_rows(path, "sales_teams.csv", ("sales_agent", "manager", "regional_office")), start=2):
        name, manager, office = r["sales_agent"], r["manager"], r["regional_office"]
        where = f"sales_teams.csv:{i}"
        if not name or name in out:
            chk.flag("agent_bad_row", _("Agent rows without a name or listed twice: skipped."), where, skip="user")
            continue
        if not manager or not office:
            chk.flag("agent_no_manager", _("Agents without a manager or office: put under the import's team."), name)
        out[name] = Agent(name=name, manager=manager, office=office)
    offices: dict[str, set[str]] = {}
    for a in out.values():
        offices.setdefault(a.manager, set()).add(a.office)
    for manager, places in offices.items():
        if len(places) > 1:
            chk.flag(
                "manager_two_offices",
                _("Managers with agents in more than one office: their team sits under the first office."),
                manager,
            )
    users = Counter(username_for(n) for n in [*out, *offices])
    for username, n in users.items():
        if n > 1:
            chk.flag("same_username", _("People whose names give the same user name."), username)
    return out


def _deals(
    path: Path, chk: Checker, accounts: dict[str, Account], products: dict[str, Product], agents: dict[str, Agent]
) -> list[Deal]:
    cols = (
        "opportunity_id",
        "sales_agent",
        "product",
        "account",
        "deal_stage",
        "engage_date",
        "close_date",
        "close_value",
    )
    out: list[Deal] = []
    seen: set[str] = set()
    for i, r in enumerate(_rows(path, "sales_pipeline.csv", cols), start=2):
        ref = r["opportunity_id"]
        where = ref or f"sales_pipeline.csv:{i}"
        if not ref or ref in seen:
            chk.flag("deal_bad_id", _("Deals without an id or listed twice: not imported."), where, skip="opportunity")
            continue
        if len(ref) > 50:
            chk.flag("deal_long_id", _("Deal ids longer than 50 characters: not imported."), where, skip="opportunity")
            continue
        seen.add(ref)
        stage = r["deal_stage"]
        if stage not in STAGES:
            chk.flag(
                "deal_bad_stage", _("Deals with an unknown stage: not imported."), f"{ref}: {stage}", skip="opportunity"
            )
            continue
        agent = r["sales_agent"]
        if agent not in agents:
            chk.flag(
                "deal_bad_agent",
                _("Deals whose agent is not in sales_teams.csv: not imported."),
                ref,
                skip="opportunity",
            )
            continue
        product = r["product"]
        if product in PRODUCT_ALIASES:
            chk.flag(
                f"product_alias_{product}",
                _("Product “%(alias)s” is another spelling of “%(name)s”: imported as %(name)s.")
                % {"alias": product, "name": PRODUCT_ALIASES[product]},
                ref,
            )
            product = PRODUCT_ALIASES[product]
        if product not in products:
            chk.flag("deal_bad_product", _("Deals with an unknown product: imported without a line item."), ref)
            product = ""
        account = r["account"]
        if not account:
            chk.flag("deal_no_account", _("Deals without an account: imported without a customer."), ref)
        elif account not in accounts:
            chk.flag("deal_bad_account", _("Deals whose account is not in accounts.csv: no customer."), ref)
            account = ""
        engaged = chk.date(r["engage_date"], "deal_bad_date", _("Engage date"), ref)
        closed = chk.date(r["close_date"], "deal_bad_date", _("Close date"), ref)
        value = chk.decimal(r["close_value"], "deal_bad_value", _("Close value"), ref) if r["close_value"] else None
        if stage in CLOSED:
            if closed is None:
                chk.flag(
                    "deal_closed_no_date",
                    _("Won or lost deals without a close date: closed on the engage date (or the last day)."),
                    ref,
                )
            if engaged is None:
                chk.flag(
                    "deal_closed_no_engage",
                    _("Won or lost deals without an engage date: started on the close date."),
                    ref,
                )
            if stage == "Won" and not value:
                chk.flag("deal_won_no_value", _("Won deals without a close value: amount 0."), ref)
        else:
            if closed is not None or value is not None:
                chk.flag(
                    "deal_open_closed",
                    _("Open deals with a close date or value: the close date and value are ignored."),
                    ref,
                )
                closed, value = None, None
            if stage == "Engaging" and engaged is None:
                chk.flag(
                    "deal_engaging_no_date", _("Engaging deals without an engage date: started on the last day."), ref
                )
            if stage == "Prospecting" and engaged is not None:
                chk.flag(
                    "deal_prospect_engaged",
                    _("Prospecting deals with an engage date: the date is used as their start."),
                    ref,
                )
        if engaged and closed and closed < engaged:
            chk.flag("deal_close_before_engage", _("Deals closed before they were engaged: start = close date."), ref)
            engaged = closed
        out.append(Deal(ref, agent, product, account, stage, engaged, closed, value))
    lost_zero = [d.ref for d in out if d.stage == "Lost" and d.close_value == 0]
    if lost_zero:
        flaw = chk.flaws.setdefault(
            "lost_zero_value",
            Flaw(
                "lost_zero_value",
                _("Lost deals have close value 0 (no revenue, not the deal's size): amount = the product's price."),
            ),
        )
        for ref in lost_zero:
            flaw.add(ref)
    idle = sorted(set(agents) - {d.agent for d in out})
    if idle:
        flaw = chk.flaws.setdefault(
            "agent_no_deals", Flaw("agent_no_deals", _("Agents with no deals in the data: imported as users."))
        )
        for name in idle:
            flaw.add(name)
    unused = sorted(set(accounts) - {d.account for d in out})
    if unused:
        flaw = chk.flaws.setdefault(
            "account_no_deals", Flaw("account_no_deals", _("Accounts with no deals: imported as customers."))
        )
        for name in unused:
            flaw.add(name)
    return out
