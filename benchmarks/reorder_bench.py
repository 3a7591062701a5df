"""Reordering the stages of a big pipeline (benchmarks/sales_generate.py data): how long the administrator's
request takes, and how long the background job takes that recounts every deal's furthest stage from its stage
history — in batches, each its own transaction, so the longest time a deal's row stays locked is one batch.

    .venv/bin/python benchmarks/reorder_bench.py          # PostgreSQL kehu_bench_sales

Swaps two open stages of the new-business pipeline through the service the settings page uses, runs the job
it queued (as `kehu db_worker` would), then swaps them back and runs that job; prints the request time, the
job's time, its slowest batch and how many deals changed their furthest stage. The data ends as it started.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_database_args, setup  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.set_defaults(database_url=parser.get_default("database_url").replace("kehu_bench", "kehu_bench_sales"))
    args = parser.parse_args()
    os.environ.setdefault("KEHU_DEBUG", "false")
    warnings.filterwarnings("ignore", message="No directory at")
    setup(args)  # applies migrations a data set made by an older version lacks

    from django.db import transaction
    from django.utils import translation
    from django_tasks_db.models import DBTaskResult

    from kehu.core import jobs
    from kehu.core.models import Job
    from kehu.sales.models import Opportunity, Pipeline, Stage
    from kehu.sales.services import pipelines
    from kehu.users.models import User

    batches: list[float] = []
    plain = pipelines.recompute_reach

    def timed(**kwargs: object) -> int:
        t = time.perf_counter()
        n = plain(**kwargs)  # type: ignore[arg-type]
        batches.append(time.perf_counter() - t)
        return n

    pipelines.recompute_reach = timed  # type: ignore[assignment]

    translation.activate("en")  # the job's message is written in the starter's language
    admin = User.objects.get(username="admin")
    pipeline = Pipeline.objects.get(code="new_business")
    deals = Opportunity.objects.filter(pipeline=pipeline).count()
    ids = list(Stage.objects.filter(pipeline=pipeline).order_by("order", "id").values_list("pk", flat=True))
    opens = list(
        Stage.objects.filter(pipeline=pipeline, kind=Stage.Kind.OPEN).order_by("order").values_list("pk", flat=True)
    )
    a, b = opens[1], opens[2]
    swapped = ids.copy()
    i, j = swapped.index(a), swapped.index(b)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    print(f"{deals:,} deals in {pipeline.name_en}; batches of {pipelines.REACH_BATCH:,}")
    print(f"{'':<24}{'request':>10}{'job':>10}{'slowest batch':>16}   deals changed")
    for label, order in (("swap two open stages", swapped), ("swap them back", ids)):
        before = dict(Opportunity.objects.filter(pipeline=pipeline).values_list("pk", "max_stage_order"))
        t = time.perf_counter()
        with transaction.atomic():
            pipelines.reorder_stages(actor=admin, pipeline=pipeline, stage_ids=order)
        request = time.perf_counter() - t
        job = Job.objects.filter(kind=Job.Kind.STAGE_REACH).latest("pk")
        batches.clear()
        t = time.perf_counter()
        jobs.run(job.pk, pipelines.recount_reach)
        seconds = time.perf_counter() - t
        DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).delete()  # run here, not by a worker
        job.refresh_from_db()
        after = dict(Opportunity.objects.filter(pipeline=pipeline).values_list("pk", "max_stage_order"))
        changed = sum(1 for pk, v in after.items() if before.get(pk) != v)
        print(f"{label:<24}{request:>9.2f}s{seconds:>9.1f}s{max(batches):>15.2f}s   {changed:,} ({job.message})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
