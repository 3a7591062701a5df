"""`kehu demo`: a bilingual demo company with a year of history, idempotent.

Teams, users, tags and custom fields are created where missing; customers, contacts and leads are loaded
through the bulk path (kehu.core.demo.generate) in one transaction, and only into a database that holds
no customers yet, so a second run adds nothing.
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core.demo import documents as demo_documents
from kehu.core.demo import generate
from kehu.core.demo import sales as demo_sales
from kehu.core.demo.org import DEMO_PASSWORD, FULL_HEADCOUNT, Org, ensure_org, role_label
from kehu.customers.models import Customer
from kehu.sales.models import Opportunity


def address() -> str:
    """Where `make demo` serves Kehu: KEHU_ADDR (host:port) as the Makefile passes it to runserver."""
    return f"http://{os.environ.get('KEHU_ADDR') or '127.0.0.1:8000'}/"


class Command(BaseCommand):
    help = "Load a demo company: teams, users, customers, contacts, leads, deals and a year of history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=5000, help="Customers to create (default 5,000).")
        parser.add_argument("--contacts", type=int, default=12000, help="Contacts to create (default 12,000).")
        parser.add_argument("--leads", type=int, default=2000, help="Leads to create (default 2,000).")
        parser.add_argument(
            "--users",
            type=int,
            default=FULL_HEADCOUNT,
            help=f"Users, the demo logins included (default {FULL_HEADCOUNT}).",
        )
        parser.add_argument("--opportunities", type=int, default=3000, help="Opportunities to create (default 3,000).")
        parser.add_argument("--seed", type=int, default=2026, help="Seed of the random generator.")

    def handle(self, *args: Any, **opts: Any) -> None:
        started = time.perf_counter()
        org = ensure_org(headcount=opts["users"], seed=opts["seed"])
        labels = {"users": _("users"), "teams": _("teams"), "tags": _("tags"), "custom fields": _("custom fields")}
        for what, n in org.created.items():
            self.stdout.write(_("Created %(n)d %(what)s.") % {"n": n, "what": labels.get(what, what)})
        records = False
        if Customer.objects.exists():
            self.stdout.write(_("The database already holds customers: no demo records were added."))
        elif opts["customers"] > 0:
            with transaction.atomic():
                stats = generate.load(
                    org, customers=opts["customers"], contacts=opts["contacts"], leads=opts["leads"], seed=opts["seed"]
                )
            records = True
            self.stdout.write(
                _(
                    "Created %(customers)d customers, %(contacts)d contacts (%(channels)d e-mails, phones and social "
                    "identities), %(leads)d leads and %(events)d history events."
                )
                % {
                    "customers": stats.rows.get("customer", 0),
                    "contacts": stats.rows.get("contact", 0),
                    "channels": stats.rows.get("contact_channel", 0),
                    "leads": stats.rows.get("lead", 0),
                    "events": stats.rows.get("event", 0),
                }
            )
        if Opportunity.objects.exists():
            self.stdout.write(_("The database already holds opportunities: no demo deals were added."))
        elif opts["opportunities"] > 0 and Customer.objects.exists():
            with transaction.atomic():
                stats = demo_sales.load_sales(org, opportunities=opts["opportunities"], seed=opts["seed"])
                docs = demo_documents.load_documents(org, deals=max(1, opts["opportunities"] // 20), seed=opts["seed"])
            records = True
            self.stdout.write(
                _(
                    "Created %(opportunities)d opportunities (%(stays)d stage history rows), %(activities)d "
                    "follow-ups and %(tasks)d tasks."
                )
                % {
                    "opportunities": stats.rows.get("opportunity", 0),
                    "stays": stats.rows.get("stage_history", 0),
                    "activities": stats.rows.get("activity", 0),
                    "tasks": stats.rows.get("task", 0),
                }
            )
            self.stdout.write(
                _("Created %(quotes)d quotes, %(orders)d orders, %(contracts)d contracts and %(payments)d payments.")
                % {k: docs.get(k, 0) for k in ("quotes", "orders", "contracts", "payments")}
            )
        if not org.created and not records:
            self.stdout.write(self.style.SUCCESS(_("Demo data is already loaded: nothing new was created.")))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Demo data loaded in %(seconds).1f s.") % {"seconds": time.perf_counter() - started}
                )
            )
        self._print_logins(org)

    def _print_logins(self, org: Org) -> None:
        self.stdout.write("")
        self.stdout.write(_("Open %(address)s and log in as one of:") % {"address": address()})
        rows = [(u.username, DEMO_PASSWORD, str(u.team or ""), role_label(u)) for u in org.logins]
        head = (_("user"), _("password"), _("team"), _("role"))
        widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(3)]
        for r in [head, *rows]:
            self.stdout.write("  " + "  ".join(_pad(r[i], widths[i]) for i in range(3)) + "  " + r[3])
        self.stdout.write(
            self.style.WARNING(
                _(
                    "Warning: the demo password “%(password)s” is for demos only. Never load demo data into a Kehu "
                    "that others can reach."
                )
                % {"password": DEMO_PASSWORD}
            )
        )


def _width(text: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
