"""Expansion (S8): products a customer has not bought that similar customers bought together with what
they have — association rules over won deals, with their evidence.

For each product p the customer has and each product q they lack, among the peer customers (same
industry when at least MIN_PEERS of them bought anything, otherwise every customer):
  support    = customers who bought p and q / peer customers
  confidence = customers who bought p and q / customers who bought p
  lift       = confidence / (customers who bought q / peer customers)
A suggestion needs at least MIN_BOTH customers behind it and a lift above 1 (buying p makes q more likely
than it is anyway). A dearer product of a product line they already buy from is an up-sell, others cross-sell.
The figures are counts over all customers, not records, so they are shown to anyone who may see the
customer; no other customer is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, QuerySet

from kehu.customers.models import Customer
from kehu.sales.models import OpportunityLine, PriceListItem, Product

MIN_PEERS = 30
MIN_BOTH = 3
CACHE_SECONDS = 600


@dataclass
class Suggestion:
    product: Product
    because: Product
    both: int  # peer customers who bought both
    support: float
    confidence: float
    lift: float
    upsell: bool
    buyers: int = 0  # peer customers who bought `because`
    industry: str = ""  # the peer group's industry; empty when the peers are every customer


def _bought(peers: QuerySet | None) -> QuerySet:
    lines = OpportunityLine.objects.filter(opportunity__status="won", opportunity__customer__isnull=False)
    if peers is not None:
        lines = lines.filter(opportunity__customer__in=peers)
    return lines


def _rules(industry: str, have: tuple[int, ...]) -> tuple[str, list[tuple[int, int, int, int, int, int]]]:
    """The peer group's industry ("" for every customer) and [(p, q, n_pq, n_p, n_q, n_peers)] for p in `have`,
    q not in `have`; cached for a few minutes."""
    key = f"kehu:expansion:v2:{industry}:{','.join(map(str, have))}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    peers: QuerySet | None = None
    if industry:
        peers = Customer.objects.filter(industry=industry).values("pk")
        if _bought(peers).values("opportunity__customer_id").distinct().count() < MIN_PEERS:
            peers, industry = None, ""
    bought = _bought(peers)
    n_peers = bought.values("opportunity__customer_id").distinct().count()
    n_q = dict(bought.order_by().values_list("product_id").annotate(n=Count("opportunity__customer_id", distinct=True)))
    out = []
    for p in have:
        buyers = bought.filter(product_id=p).values("opportunity__customer_id")
        both = (
            bought.filter(opportunity__customer_id__in=buyers)
            .exclude(product_id__in=have)
            .order_by()
            .values_list("product_id")
            .annotate(n=Count("opportunity__customer_id", distinct=True))
        )
        out += [(p, q, n, n_q.get(p, 0), n_q.get(q, 0), n_peers) for q, n in both]
    cache.set(key, (industry, out), CACHE_SECONDS)
    return industry, out


def suggestions(customer: Customer, *, limit: int = 5) -> list[Suggestion]:
    have = tuple(sorted(set(_bought(None).filter(opportunity__customer=customer).values_list("product_id", flat=True))))
    if not have:
        return []
    best: dict[int, tuple[Any, ...]] = {}
    industry, rules = _rules(customer.industry, have)
    for p, q, n_pq, n_p, n_q, n_peers in rules:
        if n_pq < MIN_BOTH or not (n_p and n_q and n_peers):
            continue
        confidence = n_pq / n_p
        lift = confidence / (n_q / n_peers)
        if lift <= 1:
            continue
        candidate = (lift, confidence, p, q, n_pq, n_pq / n_peers, n_p)
        if q not in best or candidate > best[q]:
            best[q] = candidate
    products = Product.objects.in_bulk({r[2] for r in best.values()} | set(best) | set(have))
    # products no longer sold are not suggested
    ranked = sorted((r for r in best.values() if r[3] in products and products[r[3]].active), reverse=True)[:limit]
    prices = dict(
        PriceListItem.objects.filter(price_list__is_default=True, product_id__in=products).values_list(
            "product_id", "price"
        )
    )
    top: dict[str, Any] = {}  # product line → highest list price the customer already pays
    for p in have:
        if p in products and products[p].series:
            top[products[p].series] = max(top.get(products[p].series, 0), prices.get(p, 0))

    def upsell(q: int) -> bool:
        series = products[q].series
        return bool(series) and series in top and prices.get(q, 0) > top[series]

    return [
        Suggestion(
            product=products[q],
            because=products[p],
            both=n_pq,
            support=support,
            confidence=confidence,
            lift=lift,
            upsell=upsell(q),
            buyers=n_p,
            industry=industry,
        )
        for lift, confidence, p, q, n_pq, support, n_p in ranked
    ]
