"""Customer list and 360° page timings, through Django's test client (server time, no network).

    .venv/bin/python benchmarks/list_bench.py                 # PostgreSQL kehu_bench, after generate.py

The list is the sales manager's view of their own region: /customers/?team=<华东区>&lifecycle_stage=
retained&sort=-updated_at. Page 1 is requested, then each next page through the cursor in the page
(`data-next-cursor`), up to page 1,000; pages 1, 10, 100 and 1,000 are then requested `--runs` times each.
The 360° page is requested for a customer with 200 timeline events (added through the bulk path if the
customer has fewer). Server time = the time of client.get(); SQL queries are counted on one extra request
per URL with CaptureQueriesContext. Last, the first page of the whole lists sorted on other columns, as
each of `--sort-users` (an administrator sees every record, a manager their region, a rep their own):
names in pinyin order, a contact's customer, the owner.
Exits with 2 if the pages do not exist yet.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_database_args, percentile, setup  # noqa: E402

CURSOR = re.compile(r'data-next-cursor="([^"]+)"')
MEASURED_PAGES = (1, 10, 100, 1000)
TIMELINE_EVENTS = 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--user", default="manager")
    parser.add_argument("--team", default="华东区")
    parser.add_argument("--stage", default="retained")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--sort-users", default="admin,manager,rep", help="comma-separated user names")
    parser.add_argument("--sort-runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("KEHU_DEBUG", "false")
    warnings.filterwarnings("ignore", message="No directory at")  # static files are not collected here
    setup(args)  # applies migrations a data set made by an older version lacks

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from kehu.customers.models import Customer
    from kehu.users.models import Team, User

    setup_test_environment()  # lets the test client run outside a test
    user = User.objects.get(username=args.user)
    team = Team.objects.get(name=args.team)
    client = Client()
    client.force_login(user)
    print(
        f"{Customer.objects.count():,} customers; user {user.username}, team {team.name} (id {team.pk}), "
        f"stage {args.stage}"
    )

    def get(url: str) -> tuple[float, str, int]:
        t = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - t) * 1000
        return elapsed, response.content.decode() if response.status_code == 200 else "", response.status_code

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        return len(captured)

    base = f"/customers/?team={team.pk}&lifecycle_stage={args.stage}&sort=-updated_at"
    ms, html, status = get(base)
    if status == 404:
        print(f"GET {base} answered 404: the customer list view is not there yet; nothing measured")
        return 2
    if status != 200:
        print(f"GET {base} answered {status}; nothing measured")
        return 2
    if "Cannot filter" in html:
        print("warning: the list refused a filter; check the query string")
    urls = {1: base}
    walk_ms = [ms]
    page = 1
    while page < args.pages:
        match = CURSOR.search(html)
        if not match:
            break
        url = f"{base}&cursor={match.group(1)}"
        ms, html, status = get(url)
        page += 1
        walk_ms.append(ms)
        if page in MEASURED_PAGES:
            urls[page] = url
    print(
        f"walked {page} pages following next-page cursors: mean {sum(walk_ms) / len(walk_ms):.1f} ms, "
        f"p95 {percentile(walk_ms, 95):.1f} ms, max {max(walk_ms):.1f} ms"
    )
    if page < args.pages:
        print(f"(the filtered list ends at page {page})")

    print(f"\n{'request':<28}{'queries':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for n, url in urls.items():
        report(f"list page {n:,}", url, get, queries, args.runs)

    customer = Customer.objects.filter(team=team, lifecycle_stage=args.stage).order_by("-updated_at", "-id").first()
    if customer is None:
        print("no customer to open")
        return 1
    added = ensure_timeline(customer, user)
    if added:
        print(f"(added {added} events to customer {customer.pk} so its timeline has {TIMELINE_EVENTS})")
    ms, html, status = get(f"/customers/{customer.pk}/")
    if status == 404:
        print("the 360° page answered 404: the view is not there yet")
        return 2
    report(f"360° page ({TIMELINE_EVENTS} events)", f"/customers/{customer.pk}/", get, queries, args.runs)
    few = Customer.objects.filter(team=team).exclude(pk=customer.pk).order_by("id").first()
    if few is not None:
        report("360° page (few events)", f"/customers/{few.pk}/", get, queries, args.runs)

    for username in args.sort_users.split(","):
        client.force_login(User.objects.get(username=username))
        print(f"\nwhole lists sorted, first page, as {username}")
        for url in SORTED_LISTS:
            report(url, url, get, queries, args.sort_runs)
    return 0


SORTED_LISTS = (
    "/customers/?sort=name",
    "/customers/?sort=-name",
    "/customers/?sort=city",
    "/customers/?sort=owner",
    "/contacts/?sort=name",
    "/contacts/?sort=customer",
    "/contacts/?sort=owner",
    "/leads/?sort=name",
)


def report(label: str, url: str, get, queries, runs: int) -> None:  # noqa: ANN001 - local helpers
    for _i in range(3):
        get(url)
    gc.collect()
    gc.freeze()  # as kehu.wsgi does once a worker has started: what is loaded by now is never collected
    times = [get(url)[0] for _i in range(runs)]
    print(f"{label:<28}{queries(url):>8}{percentile(times, 50):>9.1f}{percentile(times, 95):>9.1f}{max(times):>9.1f}")


def ensure_timeline(customer, actor) -> int:  # noqa: ANN001
    """Give `customer` 200 timeline events (bulk path: updates of its description, spread over a year)."""
    import datetime as dt

    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q
    from django.utils import timezone

    from kehu.core.demo.generate import explicit_timestamps
    from kehu.core.models import Event

    ct = ContentType.objects.get_for_model(type(customer))
    have = Event.objects.filter(
        Q(content_type=ct, object_id=customer.pk) | Q(parent_type=ct, parent_id=customer.pk)
    ).count()
    missing = TIMELINE_EVENTS - have
    if missing <= 0:
        return 0
    start = timezone.now() - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / missing
    rows = [
        Event(
            created_at=start + i * step,
            actor=actor,
            content_type=ct,
            object_id=customer.pk,
            object_repr=str(customer)[:200],
            verb="updated",
            changes={"description": [f"Follow-up note {i}", f"Follow-up note {i + 1}"]},
        )
        for i in range(missing)
    ]
    with explicit_timestamps(Event):
        Event.objects.bulk_create(rows)
    return missing


if __name__ == "__main__":
    sys.exit(main())
