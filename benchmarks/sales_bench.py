"""Sales report and board timings on the sales benchmark data set (benchmarks/sales_generate.py), through
Django's test client (server time of the whole page, no network) and, for the funnel and forecast, the
query functions alone.

    .venv/bin/python benchmarks/sales_bench.py            # PostgreSQL kehu_bench_sales

- Funnel, one year, all teams: /reports/funnel/?period=custom&start=…&end=… as the administrator.
- Funnel, one team, one quarter: the same for the 50-person team 大客户一部 and the last full quarter.
- Forecast page for that 50-person team: /reports/forecast/?team=… as the administrator, and its
  "forecast vs. actual" section, which the page loads right after itself (/reports/forecast/backtest/?team=…).
- Board of each pipeline: /opportunities/board/?pipeline=… as the administrator: the first paint of every
  column (its top 50 cards and the column totals); the number of open cards is printed.
Each URL is requested once to warm up, then --runs times; p50/p95 of server time and the SQL query count
of one request are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_database_args, percentile, setup  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_args(parser)
    parser.set_defaults(database_url=parser.get_default("database_url").replace("kehu_bench", "kehu_bench_sales"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--team", default="大客户一部")
    args = parser.parse_args()
    os.environ.setdefault("KEHU_DEBUG", "false")
    warnings.filterwarnings("ignore", message="No directory at")
    setup(args)  # applies migrations a data set made by an older version lacks

    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from kehu.analytics import forecast as forecast_q
    from kehu.analytics import queries as funnel_q
    from kehu.analytics.scope import Scope
    from kehu.sales.models import Opportunity, Pipeline, StageHistory
    from kehu.users.models import Team, User

    setup_test_environment()
    admin = User.objects.get(username="admin")
    team = Team.objects.get(name=args.team)
    members = User.objects.filter(team=team).count()
    pipeline = Pipeline.objects.get(code="new_business")
    client = Client()
    client.force_login(admin)
    today = timezone.localdate()
    year_start = today - dt.timedelta(days=365)
    q_end = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1) - dt.timedelta(days=1)
    q_start = dt.date(q_end.year, (q_end.month - 1) // 3 * 3 + 1, 1)
    open_cards = Opportunity.objects.filter(pipeline=pipeline, status="open").count()
    print(
        f"{Opportunity.objects.count():,} opportunities, {StageHistory.objects.count():,} stage history rows; "
        f"team {team.name}: {members} people; pipeline {pipeline.code}: {open_cards:,} open cards"
    )

    def timed(fn, runs: int) -> list[float]:  # noqa: ANN001
        fn()
        out = []
        for _i in range(runs):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    def page(label: str, url: str, goal: float) -> None:
        executed: list[str] = []

        def count(execute, sql, params, many, context):  # noqa: ANN001, ANN202
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        ms = timed(lambda: client.get(url), args.runs)
        print(
            f"{label:48} p50 {statistics.median(ms):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms  "
            f"{len(executed):3d} queries  (goal < {goal:.0f} ms)"
        )

    def query(label: str, fn, goal: float) -> None:  # noqa: ANN001
        ms = timed(fn, args.runs)
        print(
            f"{label:48} p50 {statistics.median(ms):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms  (goal < {goal:.0f} ms)"
        )

    query("funnel query, 1 year, all teams", lambda: funnel_q.funnel(admin, start=year_start, end=today), 1000)
    page(
        "funnel page, 1 year, all teams",
        f"/reports/funnel/?period=custom&start={year_start}&end={today}",
        1000,
    )
    query(
        f"funnel query, {q_start:%Y} Q{(q_start.month - 1) // 3 + 1}, one team",
        lambda: funnel_q.funnel(admin, start=q_start, end=q_end, team=team),
        200,
    )
    page(
        "funnel page, one quarter, one team",
        f"/reports/funnel/?period=custom&start={q_start}&end={q_end}&team={team.pk}",
        200,
    )
    query(f"forecast query, {members}-person team", lambda: forecast_q.forecast(admin, Scope(team=team)), 500)
    scope = Scope(team=team)
    model = forecast_q.learn(admin, scope)
    query("  of which: learning the stage model", lambda: forecast_q.learn(admin, scope), 500)
    query("  of which: six back-tested months", lambda: forecast_q.backtest(admin, scope, model, 6, today), 500)
    page(f"forecast page, {members}-person team", f"/reports/forecast/?team={team.pk}", 500)
    page("  its forecast-vs-actual section (loaded after)", f"/reports/forecast/backtest/?team={team.pk}", 500)
    for p in Pipeline.objects.filter(active=True).order_by("order"):
        n = Opportunity.objects.filter(pipeline=p, status="open").count()
        page(f"board {p.code}, {n:,} open cards", f"/opportunities/board/?pipeline={p.pk}", 300)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
