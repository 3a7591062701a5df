"""Generate the sales benchmark data set: 1,000,000 opportunities with about 5,000,000 stage-history rows,
their line items and search entries, spread over 300 extra sales reps in six 50-person teams, through the
same bulk path as `kehu demo` (kehu/core/demo/sales.py).

    .venv/bin/python benchmarks/sales_generate.py          # PostgreSQL database kehu_bench_sales

The deals start over --days (default three years) up to today. They need customers: 50,000 are generated
first (with 50,000 contacts, no history), all created before that span, so that deal starts spread evenly
over it instead of piling up at its end. Each batch of
5,000 deals is one committed transaction drawn from its own seed, so an interrupted run continues where
it stopped. A deal falls back one stage with probability --setback at each step (default 0.6), which
gives the stage histories of about five rows per deal that the measurements ask for; a deal still open
after --stale-days (default 60) is closed as lost, which leaves a realistic few percent of deals open.
VACUUM ANALYZE runs at the end. Prints rows/s per table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_database_args, setup  # noqa: E402

TEAMS = ["大客户一部", "大客户二部", "大客户三部", "渠道一部", "渠道二部", "电销部"]


def ensure_reps(per_team: int) -> list:
    from django.contrib.auth.hashers import make_password

    from kehu.users.models import Role, Team, User
    from kehu.users.services import create_team

    admin = User.objects.get(username="admin")
    parent = Team.objects.get(name="销售部")
    role = Role.objects.get(code="sales_rep")
    reps = []
    for t, name in enumerate(TEAMS):
        team = Team.objects.filter(name=name).first() or create_team(actor=admin, name=name, parent=parent)
        wanted = [f"bench{t}_{i:02d}" for i in range(per_team)]
        have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
        new = [
            User(username=u, display_name=u, team=team, password=make_password(None)) for u in wanted if u not in have
        ]
        User.objects.bulk_create(new)
        for u in User.objects.filter(username__in=[n.username for n in new]):
            u.roles.add(role)
        reps += list(User.objects.filter(username__in=wanted).order_by("username"))
    return reps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.set_defaults(database_url=parser.get_default("database_url").replace("kehu_bench", "kehu_bench_sales"))
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--per-team", type=int, default=50)
    parser.add_argument("--setback", type=float, default=0.6)
    parser.add_argument("--stale-days", type=int, default=60, help="close deals still open after this many days")
    parser.add_argument("--days", type=int, default=1095, help="the deals start over this many days up to today")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    vendor = setup(args)
    print(f"database ready ({vendor})")

    from django.db import connection

    from kehu.core.demo import generate
    from kehu.core.demo import sales as demo_sales
    from kehu.core.demo.org import ensure_org
    from kehu.customers.models import Customer
    from kehu.sales.models import Opportunity, StageHistory

    org = ensure_org()
    now = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if not Customer.objects.exists():
        t0 = time.perf_counter()
        generate.load(
            org,
            customers=args.customers,
            contacts=args.customers,
            leads=0,
            history=False,
            now=now - dt.timedelta(days=args.days),  # before the deals' span: their starts spread evenly over it
            batch_transactions=True,
        )
        print(f"{args.customers:,} customers in {time.perf_counter() - t0:.0f} s")
    reps = ensure_reps(args.per_team)
    existing = Opportunity.objects.count()
    if existing >= args.opportunities:
        print(f"already populated: {existing:,} opportunities; nothing generated")
        return 0
    if existing % args.batch:
        print(f"{existing:,} opportunities is not a whole number of batches of {args.batch}: use an empty database")
        return 1
    stats = generate.Stats()
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == total or (done // args.batch) % 20 == 0:
            elapsed = time.perf_counter() - started
            rate = (done - existing) / elapsed if elapsed else 0
            print(
                f"  {done:,}/{total:,} deals, {rate:,.0f} deals/s, "
                f"eta {(total - done) / rate / 60 if rate else 0:.1f} min"
            )

    demo_sales.load_sales(
        org,
        opportunities=args.opportunities,
        seed=args.seed,
        history=False,
        activities=False,
        batch_size=args.batch,
        first_batch=existing // args.batch,
        stats=stats,
        now=now,
        progress=progress,
        batch_transactions=True,
        setback=args.setback,
        stale_days=args.stale_days,
        owners=reps,
        days=args.days,
    )
    elapsed = time.perf_counter() - started
    if vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")  # statistics, and the visibility map index-only scans need
    rows = sum(stats.rows.values())
    print(f"generated in {elapsed:.0f} s: {rows:,} rows, {rows / elapsed:,.0f} rows/s")
    for table, n in stats.rows.items():
        secs = stats.seconds.get(table, 0.0)
        print(f"  {table:22} {n:>10,} rows  {n / secs if secs else 0:>10,.0f} rows/s")
    print(f"stage history rows per deal: {StageHistory.objects.count() / Opportunity.objects.count():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
