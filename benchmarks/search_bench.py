"""Global search timings: kehu.core.search.search() for users with different data scopes.

    .venv/bin/python benchmarks/search_bench.py [--explain]                       # PostgreSQL kehu_bench
    .venv/bin/python benchmarks/search_bench.py --database-url sqlite:///var/kehu_bench.sqlite3

Queries: a common two-character Chinese name (张伟), its pinyin and initials, an e-mail fragment and a
phone's last four digits taken from the data, and a three-character name that matches nothing. Each runs
`--warmup` times, then `--runs` times; p50/p95 are over the timed runs. The user's cached permissions are
dropped before every run, as a new request would start without them. `--explain` prints the plan of one
query (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite) and whether the search index is used.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_database_args, percentile, setup  # noqa: E402

ZERO_HIT = "司马懿"  # 司马 is a demo surname, 懿 is in no generated name: a common pair ANDed with a missing one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--users", default="admin,manager,rep", help="logins to measure, comma-separated")
    args = parser.parse_args()
    os.environ.setdefault("KEHU_DEBUG", "false")
    vendor = setup(args)  # applies migrations a data set made by an older version lacks

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.core import permissions, search
    from kehu.core.models import SearchEntry
    from kehu.customers.models import Contact, ContactChannel, Customer
    from kehu.users.models import User

    customers, contacts = Customer.objects.count(), Contact.objects.count()
    entries = SearchEntry.objects.count()
    print(f"{vendor}: {customers:,} customers, {contacts:,} contacts, {entries:,} search entries")
    if not entries:
        print("no data: run benchmarks/generate.py first")
        return 2

    email = (
        ContactChannel.objects.filter(kind="email", contact__name="张伟", normalized__contains="zhang")
        .order_by("id")
        .values_list("normalized", flat=True)
        .first()
        or ContactChannel.objects.filter(kind="email").order_by("id").values_list("normalized", flat=True)[0]
    )
    local, _at, domain = email.partition("@")
    email_fragment = f"{local}@{domain[:4]}"
    phone = ContactChannel.objects.filter(kind="phone").order_by("id").values_list("normalized", flat=True)[0]
    queries = [
        ("张伟", "two-character name"),
        ("zhangwei", "its pinyin"),
        ("zw", "its initials"),
        (email_fragment, "e-mail fragment"),
        (phone[-4:], "phone last 4"),
        (ZERO_HIT, "zero-hit name"),
    ]

    print(f"{'user':<10}{'scope':<7}{'query':<22}{'what':<20}{'hits':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    worst = 0.0
    for username in args.users.split(","):
        user = User.objects.get(username=username)
        scope = permissions.policy(user, "customers.customer").scope or "-"
        for q, what in queries:
            for _i in range(args.warmup):
                permissions.forget(user)
                hits = search.search(user, q)
            times = []
            for _i in range(args.runs):
                permissions.forget(user)
                t = time.perf_counter()
                hits = search.search(user, q)
                times.append((time.perf_counter() - t) * 1000)
            p95 = percentile(times, 95)
            worst = max(worst, p95)
            print(
                f"{username:<10}{scope:<7}{q:<22}{what:<20}{len(hits):>6}{percentile(times, 50):>9.2f}"
                f"{p95:>9.2f}{max(times):>9.2f}"
            )
    print(f"worst p95: {worst:.2f} ms")

    if args.explain:
        user = User.objects.get(username=args.users.split(",")[-1])
        permissions.forget(user)
        with CaptureQueriesContext(connection) as captured:
            search.search(user, "张伟")
        sql = next(q["sql"] for q in captured.captured_queries if "core_searchentry" in q["sql"])
        print("\nquery:", sql)
        with connection.cursor() as cur:
            if vendor == "postgresql":
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            else:
                cur.execute("EXPLAIN QUERY PLAN " + sql)
            plan = "\n".join(" | ".join(str(c) for c in row) for row in cur.fetchall())
        print(plan)
        marker = "searchentry_tsv_gin" if vendor == "postgresql" else "core_searchentry_fts VIRTUAL TABLE INDEX"
        print(f"\nsearch index used: {'yes' if marker in plan else 'NO'} ({marker})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
