"""The partners and suppliers report (C5) and the partner panel of a customer page: parse the filters, call
`partners.report`, render or export. (Beside views.py, which holds the other reports, to keep each module short.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.analytics import partners
from kehu.analytics.forms import PartnersForm
from kehu.core import permissions
from kehu.customers.models import Customer
from kehu.dataio import exports
from kehu.sales.models import Contract, Opportunity

OPPORTUNITY = "sales.opportunity"


def _require_reports(user: Any) -> None:
    if not permissions.can(user, OPPORTUNITY, "view"):
        raise PermissionDenied(_("You do not have permission to do this."))


class PartnerLinks:
    """Where each number leads: the opportunity list filtered by partner, the contract list by supplier, with the
    report's period, team and rep (the lists apply the gate again, so a link never shows more than was counted)."""

    def __init__(self, r: partners.PartnerReport) -> None:
        self.r = r
        common: dict[str, Any] = {}
        if r.team is not None:
            common["team"] = r.team.pk
        if r.owner is not None:
            common["owner"] = r.owner.pk
        self.common = common
        self.deals = reverse("sales:opportunity_list")
        self.contracts = reverse("sales:contract_list")

    def _url(self, base: str, **params: Any) -> str:
        return base + "?" + urlencode({**self.common, **{k: v for k, v in params.items() if v is not None}})

    def sourced(self, partner_id: int) -> str:
        r = self.r
        return self._url(
            self.deals, partner=partner_id, started_on__from=r.start.isoformat(), started_on__to=r.end.isoformat()
        )

    def open(self, partner_id: int) -> str:
        return self._url(self.deals, partner=partner_id, status="open")

    def closed(self, partner_id: int, status: str | None = None) -> str:
        r = self.r
        return self._url(
            self.deals,
            partner=partner_id,
            status=status,
            closed_on__from=r.start.isoformat(),
            closed_on__to=r.end.isoformat(),
        )

    def all_deals(self, partner_id: int) -> str:
        return self._url(self.deals, partner=partner_id, sort="-started_on")

    def supplier_contracts(self, supplier_id: int) -> str:
        r = self.r
        return self._url(
            self.contracts,
            customer=supplier_id,
            kind=Contract.Kind.SUPPLIER,
            start_date__from=r.start.isoformat(),
            start_date__to=r.end.isoformat(),
        )

    def supplier_active(self, supplier_id: int) -> str:
        return self._url(self.contracts, customer=supplier_id, kind=Contract.Kind.SUPPLIER, status="active")


def _partner_rows(r: partners.PartnerReport, links: PartnerLinks) -> list[dict[str, Any]]:
    return [
        {
            "row": p,
            "page": reverse("customers:detail", args=[p.partner_id]) if p.visible else "",
            "sourced": links.sourced(p.partner_id),
            "open": links.open(p.partner_id),
            "won": links.closed(p.partner_id, "won"),
            "lost": links.closed(p.partner_id, "lost"),
            "closed": links.closed(p.partner_id),
            "all": links.all_deals(p.partner_id),
        }
        for p in r.partners or []
    ]


def _supplier_rows(r: partners.PartnerReport, links: PartnerLinks) -> list[dict[str, Any]]:
    return [
        {
            "row": s,
            "page": reverse("customers:detail", args=[s.supplier_id]) if s.visible else "",
            "contracts": links.supplier_contracts(s.supplier_id),
            "active": links.supplier_active(s.supplier_id),
        }
        for s in r.suppliers or []
    ]


@login_required
def partners_page(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    form = PartnersForm(request.GET)
    context: dict[str, Any] = {"form": form, "can_export": permissions.can(request.user, OPPORTUNITY, "export")}
    if form.is_valid():
        r = partners.report(request.user, **form.query())
        links = PartnerLinks(r)
        context.update(
            r=r,
            totals=r.totals(),
            partner_rows=_partner_rows(r, links),
            supplier_rows=_supplier_rows(r, links),
            rows_shown=partners.ROWS,
            query=request.GET.urlencode(),
        )
    return render(request, "analytics/partners.html", context)


def _pct(value: float | None) -> Any:
    return None if value is None else round(value * 100, 1)


def partner_tables(r: partners.PartnerReport, *, suppliers: bool) -> list[exports.Table]:
    """The report as tables for CSV / XLSX: summary, partners and (for users who may export contracts)
    suppliers. Rates are percentages, as the column names say."""
    summary: list[list[Any]] = [
        [_("Period"), f"{r.start.isoformat()} – {r.end.isoformat()}"],
        [_("Team"), str(r.team) if r.team else _("All teams")],
        [_("Sales rep"), str(r.owner) if r.owner else _("Everyone")],
        [_("Partners"), r.partners_total],
    ]
    if suppliers:
        summary.append([_("Suppliers"), r.suppliers_total])
    tables = [exports.Table(_("Summary"), [_("Measure"), _("Value")], summary)]
    if r.partners is not None:
        cur = r.partner_currencies if r.show_amounts else []
        head = [
            _("Partner"),
            _("Deals sourced"),
            _("Open deals"),
            *[_("Open pipeline (%(currency)s)") % {"currency": c} for c in cur],
            _("Won"),
            pgettext("deal", "Lost"),
            _("Win rate (%)"),
            *[_("Won amount (%(currency)s)") % {"currency": c} for c in cur],
            _("Last deal"),
        ]
        rows = [
            [
                p.name,
                p.sourced,
                p.open_count,
                *[p.open_amount(c) for c in cur],
                p.won,
                p.lost,
                _pct(p.win_rate),
                *[p.won_amount(c) for c in cur],
                p.last_deal,
            ]
            for p in r.partners
        ]
        tables.append(exports.Table(_("Partners"), head, rows))
    if suppliers and r.suppliers is not None:
        cur = r.supplier_currencies if r.show_values else []
        head = [
            _("Supplier"),
            _("Contracts"),
            *[_("Contract value (%(currency)s)") % {"currency": c} for c in cur],
            _("Active contracts"),
            _("Next renewal or end"),
        ]
        rows = [[s.name, s.contracts, *[s.value(c) for c in cur], s.active, s.next_date] for s in r.suppliers]
        tables.append(exports.Table(_("Suppliers"), head, rows))
    return tables


@login_required
def partners_export(request: HttpRequest) -> HttpResponse:
    _require_reports(request.user)
    if not permissions.can(request.user, OPPORTUNITY, "export"):
        raise PermissionDenied(_("You do not have permission to export these figures."))
    form = PartnersForm(request.GET)
    if not form.is_valid():
        return render(request, "analytics/partners.html", {"form": form, "can_export": True}, status=400)
    r = partners.report(request.user, **form.query())
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    tables = partner_tables(r, suppliers=permissions.can(request.user, Contract, "export"))
    return exports.response(fmt, f"partners-{r.start.isoformat()}-{r.end.isoformat()}", tables)


@login_required
def partner_deals_panel(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A partner's customer page: the deals this partner brought that the user may see (loaded after the page)."""
    if not permissions.can(request.user, Opportunity, "view"):
        raise Http404
    customer = permissions.get_or_404(Customer, request.user, customer_id)
    deals, total = partners.sourced_deals(request.user, customer)
    base = reverse("sales:opportunity_list")
    return render(
        request,
        "analytics/_partner_deals.html",
        {
            "customer": customer,
            "deals": deals,
            "total": total,
            "all_url": base + "?" + urlencode({"partner": customer.pk, "sort": "-started_on"}),
            "open_url": base + "?" + urlencode({"partner": customer.pk, "status": "open"}),
            "report_url": reverse("analytics:partners"),
            "show_amount": permissions.policy(request.user, Opportunity).can_read("amount"),
        },
    )
