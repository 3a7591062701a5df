"""Shared set-up of the benchmark scripts: pick the database, create it if missing, start Django.

The database is `--database-url`, else DATABASE_URL, else the PostgreSQL database `kehu_bench` on
127.0.0.1. Because the scripts write millions of rows, they refuse a database whose name does not contain
"bench" unless `--force` is given.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kehu_bench"
ROOT = Path(__file__).resolve().parent.parent


def add_database_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", DEFAULT_URL),
        help="database to use (default: $DATABASE_URL, else %(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def ensure_postgres_database(url: str) -> bool:
    """Create the PostgreSQL database `url` names if it does not exist; True if it was created."""
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = database_name(url)
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def setup(args: argparse.Namespace, *, create: bool = True, migrate: bool = True) -> str:
    """Point Django at the benchmark database (creating and migrating it) and start it; returns the vendor."""
    url = args.database_url
    name = database_name(url)
    if "bench" not in name and not args.force:
        sys.exit(f"refusing to use database {name!r}: its name does not contain 'bench' (use --force)")
    vendor = "postgresql" if url.startswith(("postgres://", "postgresql://", "pgsql://")) else "sqlite"
    if vendor == "postgresql" and create and ensure_postgres_database(url):
        print(f"created PostgreSQL database {name}")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return vendor


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation, as numpy's default does."""
    if len(values) == 1:
        return values[0]
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]
        if 0 < p < 100
        else (min(values) if p <= 0 else max(values))
    )
