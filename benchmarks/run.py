"""All benchmarks in a row (`make bench`): generate the data sets, then time search, lists, the 360° page, the
sales reports and board, and a stage reorder.

    .venv/bin/python benchmarks/run.py [--sqlite-customers 200000]

PostgreSQL: database kehu_bench (1,000,000 customers, 2,000,000 contacts). SQLite: var/kehu_bench.sqlite3
at a smaller scale (by default 200,000 customers and 400,000 contacts), because loading a million rows
into SQLite is slow and search there is measured for correctness of the same queries, not raw scale.
Sales: database kehu_bench_sales (1,000,000 opportunities, 5,000,000 stage-history rows).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG = "postgres://postgres@127.0.0.1:5432/kehu_bench"


def run(script: str, *args: str) -> int:
    cmd = [sys.executable, str(HERE / script), *args]
    print("\n$ " + " ".join(cmd[1:]), flush=True)
    return subprocess.call(cmd)  # noqa: S603 - our own scripts, run with this interpreter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=PG)
    parser.add_argument("--sqlite-url", default=f"sqlite:///{HERE.parent / 'var' / 'kehu_bench.sqlite3'}")
    parser.add_argument("--sqlite-customers", type=int, default=200_000)
    args = parser.parse_args()
    failed = 0
    failed |= run("generate.py", "--database-url", args.pg_url)
    failed |= run("search_bench.py", "--database-url", args.pg_url, "--explain")
    list_status = run("list_bench.py", "--database-url", args.pg_url)
    failed |= list_status not in (0, 2)  # 2: the pages are not there yet
    n = args.sqlite_customers
    failed |= run("generate.py", "--database-url", args.sqlite_url, "--customers", str(n), "--contacts", str(2 * n))
    failed |= run("search_bench.py", "--database-url", args.sqlite_url, "--explain")
    sales = args.pg_url.replace("kehu_bench", "kehu_bench_sales")
    failed |= run("sales_generate.py", "--database-url", sales)
    failed |= run("sales_bench.py", "--database-url", sales)
    failed |= run("reorder_bench.py", "--database-url", sales)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
