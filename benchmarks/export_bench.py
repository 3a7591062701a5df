"""List exports on the generated data set (benchmarks/generate.py): how fast the background job writes a
list to CSV and XLSX, and how long the request that starts it takes.

    .venv/bin/python benchmarks/export_bench.py            # PostgreSQL kehu_bench, after generate.py

Each export is started through the service the Export menu and the API use (request time), then run as a
worker would run it (`jobs.run`, in this process; its queued task is removed afterwards). Prints rows, seconds,
rows per second, the file's size and the process's peak memory, for:

- every customer the administrator sees, CSV, the list's columns;
- the sales manager's region (team 华东区, stage retained), every readable field, XLSX;
- contacts of that region with their e-mails, phones and other channels, CSV.

Files go to a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_database_args, setup  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.add_argument("--team", default="华东区")
    args = parser.parse_args()
    media = tempfile.mkdtemp(prefix="kehu-export-bench-")
    os.environ["KEHU_MEDIA_ROOT"] = media
    os.environ.setdefault("KEHU_DEBUG", "false")
    warnings.filterwarnings("ignore", message="No directory at")
    setup(args)

    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from kehu.core import jobs
    from kehu.dataio import exports, services
    from kehu.users.models import Team, User

    team = Team.objects.get(name=args.team)
    region = urlencode({"team": team.pk, "lifecycle_stage": "retained"})
    cases = [
        ("admin", "customers.customer", "", "csv", "shown", "all customers, list columns"),
        ("manager", "customers.customer", region, "xlsx", "all", f"{args.team} retained, all fields"),
        ("manager", "customers.contact", f"team={team.pk}", "csv", "shown", f"{args.team} contacts + channels"),
    ]
    head = f"{'export':<40}{'format':>7}{'request':>10}{'rows':>11}{'seconds':>9}{'rows/s':>9}{'size':>10}"
    print(f"{head}{'peak RSS':>10}")
    try:
        for username, object_type, query, fmt, columns, label in cases:
            user = User.objects.get(username=username)
            t = time.perf_counter()
            with transaction.atomic():
                job = services.start_export(actor=user, object_type=object_type, query=query, fmt=fmt, columns=columns)
            request = time.perf_counter() - t
            t = time.perf_counter()
            jobs.run(job.pk, exports.list_export)
            seconds = time.perf_counter() - t
            DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).delete()  # run here, not by a worker
            job.refresh_from_db()
            if job.status != job.Status.DONE:
                print(f"{label}: {job.status} {job.message}")
                return 1
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{label:<40}{fmt:>7}{request * 1000:>8.0f}ms{job.done:>11,}{seconds:>9.1f}"
                f"{job.done / seconds:>9,.0f}{job.file_size / 1_048_576:>8.1f}MB{peak:>8.0f}MB"
            )
            job.file.delete(save=False)
            job.delete()
    finally:
        shutil.rmtree(media, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
