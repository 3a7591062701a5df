"""Generate the benchmark data set: 1,000,000 customers and 2,000,000 contacts with their channels and search
entries, through the same bulk path and generator as `kehu demo` (kehu/core/demo/generate.py).

    .venv/bin/python benchmarks/generate.py                       # PostgreSQL database kehu_bench
    .venv/bin/python benchmarks/generate.py --customers 50000 --contacts 100000 \
        --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_sample   # a sample to time first

Creates the database if it is missing and migrates it. Each batch of 5,000 customers (with its contacts,
channels and search entries) is one committed transaction drawn from its own seed, so an interrupted run
continues where it stopped and makes the same data; a database that already holds the requested number
of customers is left alone. On PostgreSQL the search GIN index is dropped during the load and built once
afterwards (faster than updating it row by row), then ANALYZE runs. Prints rows/s per table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_database_args, setup  # noqa: E402

GIN_NAME = "searchentry_tsv_gin"
GIN_SQL = f"CREATE INDEX IF NOT EXISTS {GIN_NAME} ON core_searchentry USING gin (tsv)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep-index", action="store_true", help="keep the GIN index during the load (PostgreSQL)")
    args = parser.parse_args()
    t_setup = time.perf_counter()
    vendor = setup(args)
    print(f"database ready ({vendor}) in {time.perf_counter() - t_setup:.1f} s")

    from django.db import connection

    from kehu.core.demo.generate import Stats, load
    from kehu.core.demo.org import ensure_org
    from kehu.customers.models import Customer

    org = ensure_org()
    existing = Customer.objects.count()
    if existing >= args.customers:
        print(f"already populated: {existing:,} customers (wanted {args.customers:,}); nothing generated")
        if vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(GIN_SQL)
        return 0
    if existing % args.batch:
        print(
            f"{existing:,} customers is not a whole number of batches of {args.batch}: "
            "this database was not filled by this script; use an empty one"
        )
        return 1
    first = existing // args.batch
    if first:
        print(f"resuming after {existing:,} customers (batch {first})")
    drop_gin = vendor == "postgresql" and not args.keep_index
    if drop_gin:
        with connection.cursor() as cur:
            cur.execute(f"DROP INDEX IF EXISTS {GIN_NAME}")
    stats = Stats()
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    def progress(done: int, total: int) -> None:
        if done == total or (done // args.batch) % 20 == 0:
            elapsed = time.perf_counter() - started
            rate = (done - existing) / elapsed if elapsed else 0
            eta = (total - done) / rate if rate else 0
            print(
                f"  {done:>9,} / {total:,} customers  {rate:,.0f} customers/s  "
                f"elapsed {elapsed / 60:.1f} min  eta {eta / 60:.1f} min",
                flush=True,
            )

    load(
        org,
        customers=args.customers,
        contacts=args.contacts,
        leads=0,
        seed=args.seed,
        history=False,
        batch_size=args.batch,
        first_batch=first,
        stats=stats,
        now=now,
        progress=progress,
        batch_transactions=True,
    )
    load_seconds = time.perf_counter() - started
    finish: dict[str, float] = {}
    with connection.cursor() as cur:
        if drop_gin:
            t = time.perf_counter()
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute(GIN_SQL)
            finish["build search GIN index"] = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute("ANALYZE")
        finish["ANALYZE"] = time.perf_counter() - t
    total = time.perf_counter() - started

    print()
    print(f"{'table':<18}{'rows':>12}{'write s':>10}{'rows/s':>11}")
    for table, rows in stats.rows.items():
        secs = stats.seconds[table]
        print(f"{table:<18}{rows:>12,}{secs:>10.1f}{rows / secs if secs else 0:>11,.0f}")
    all_rows = sum(stats.rows.values())
    print(
        f"{'all tables':<18}{all_rows:>12,}{load_seconds:>10.1f}{all_rows / load_seconds:>11,.0f}"
        "   (wall time, generation in Python included)"
    )
    for step, secs in finish.items():
        print(f"{step:<30}{secs:>8.1f} s")
    print(f"total {total / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
