"""How long an administrator waits when reordering the stages of a big pipeline (benchmarks/sales_generate.py
data): every deal's furthest stage reached is recomputed from its stage history in the same transaction.

    .venv/bin/python benchmarks/reorder_bench.py          # PostgreSQL kehu_bench_sales

Swaps two open stages of the new-business pipeline through the service the settings page uses, then swaps
them back, and prints the time of each and how many deals changed their furthest stage. The data ends as it
started.
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

    from kehu.sales.models import Opportunity, Pipeline, Stage
    from kehu.sales.services import pipelines
    from kehu.users.models import User

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
    print(f"{deals:,} deals in {pipeline.name_en}")
    for label, order in (("swap two open stages", swapped), ("swap them back", ids)):
        before = dict(Opportunity.objects.filter(pipeline=pipeline).values_list("pk", "max_stage_order"))
        t = time.perf_counter()
        pipelines.reorder_stages(actor=admin, pipeline=pipeline, stage_ids=order)
        seconds = time.perf_counter() - t
        after = dict(Opportunity.objects.filter(pipeline=pipeline).values_list("pk", "max_stage_order"))
        changed = sum(1 for pk, v in after.items() if before.get(pk) != v)
        print(f"{label:<24}{seconds:>8.1f} s   {changed:,} deals changed their furthest stage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
