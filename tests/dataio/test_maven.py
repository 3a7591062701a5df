"""The Maven CRM import against the real data set: every funnel figure is recomputed from the CSV files with
the standard library and compared; a second run changes nothing; the data's flaws are reported.

Skipped when the data set is absent, unless KEHU_REQUIRE_DATASETS=1 (CI), which makes its absence a failure.
"""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from kehu.analytics.queries import funnel
from kehu.core.models import Event, PicklistOption
from kehu.customers.models import Customer
from kehu.dataio.services import import_maven
from kehu.sales.models import Opportunity, OpportunityLine, Pipeline, StageHistory
from kehu.users.models import Team, User

DATASET = Path(settings.DATASETS_DIR) / "maven-crm"


@pytest.fixture
def dataset() -> Path:
    if not (DATASET / "sales_pipeline.csv").is_file():
        if settings.REQUIRE_DATASETS:
            pytest.fail(f"KEHU_REQUIRE_DATASETS is set but the Maven CRM data set is missing from {DATASET}")
        pytest.skip(f"the Maven CRM data set is not in {DATASET} (set KEHU_DATASETS)")
    return DATASET


def _read(path: Path, name: str) -> list[dict[str, str]]:
    with (path / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class Expected:
    """The figures, computed from the CSV files alone."""

    def __init__(self, path: Path) -> None:
        self.deals = _read(path, "sales_pipeline.csv")
        teams = _read(path, "sales_teams.csv")
        self.office = {t["sales_agent"]: t["regional_office"] for t in teams}
        self.stages = Counter(d["deal_stage"] for d in self.deals)
        self.won = [d for d in self.deals if d["deal_stage"] == "Won"]
        self.lost = [d for d in self.deals if d["deal_stage"] == "Lost"]

    def won_by(self, key: Any, rows: list[dict[str, str]] | None = None) -> dict[str, Decimal]:
        out: dict[str, Decimal] = defaultdict(Decimal)
        for d in self.won if rows is None else rows:
            out[key(d)] += Decimal(d["close_value"])
        return dict(out)

    @staticmethod
    def cycles(rows: list[dict[str, str]]) -> list[int]:
        return [(_day(d["close_date"]) - _day(d["engage_date"])).days for d in rows]


def _by_name(rows: list[Any]) -> dict[str, Decimal]:
    return {r.name: r.won_amount("USD") for r in rows}


def test_import_matches_an_independent_computation_and_runs_once(
    dataset: Path, superuser: User, django_assert_max_num_queries: Any
) -> None:
    exp = Expected(dataset)
    report = import_maven(dataset, actor=superuser)

    # what was written
    maven = Pipeline.objects.get(code="maven")
    assert report.created["opportunity"] == len(exp.deals) == 8800
    assert report.created["customer"] == 85 and report.created["product"] == 7
    assert report.created["user"] == 35 + 6  # agents and managers
    opps = Opportunity.objects.filter(pipeline=maven)
    by_stage = Counter(opps.values_list("stage__name_en", flat=True))
    assert by_stage == exp.stages == {"Prospecting": 500, "Engaging": 1589, "Won": 4238, "Lost": 2473}
    assert opps.filter(customer__isnull=True).count() == 1425
    assert OpportunityLine.objects.filter(opportunity__pipeline=maven).count() == 8800
    assert StageHistory.objects.filter(opportunity__pipeline=maven).count() == 8800 + len(exp.won) + len(exp.lost)
    assert Event.objects.filter(verb="created", object_id__in=opps.values("pk")).count() >= 8800
    assert set(opps.filter(status="lost").values_list("loss_reason", "loss_note").distinct()) == {("other", "imported")}
    darcel = User.objects.get(username="darcel.schlecht")
    assert not darcel.has_usable_password() and darcel.is_active
    assert darcel.team.name == "Central · Melvin Marxen" and darcel.team.lead.username == "melvin.marxen"
    acme = Customer.objects.get(name="Acme Corporation")
    assert acme.industry == "technology" and acme.country == "US" and "technolgy" in acme.description
    assert PicklistOption.objects.filter(list="industry", value="telecommunications").exists()
    assert "Subsidiary of Acme Corporation." in Customer.objects.get(name="Bluth Company").description
    assert Customer.objects.get(name="Hottechi").country == "KR" and report.flaw("country_korea").count == 1

    # flaws reported, not dropped
    assert report.flaw("product_alias_GTXPro").count == 1480
    assert report.flaw("sector_typo_technolgy").count == 12
    assert report.flaw("deal_no_account").count == 1425
    assert report.flaw("deal_no_dates").count == 500
    assert report.flaw("lost_zero_value").count == 2473
    assert report.flaw("agent_no_deals").count == 5
    assert not +report.skipped

    # the funnel over the whole data set
    with django_assert_max_num_queries(14):
        f = funnel(superuser, start=dt.date(2016, 1, 1), end=dt.date(2017, 12, 31), pipeline=maven)
    assert f.won == len(exp.won) == 4238
    assert f.lost == len(exp.lost) == 2473
    assert f.win_rate == round(4238 / (4238 + 2473), 4)
    total = sum(Decimal(d["close_value"]) for d in exp.won)
    assert f.won_amount("USD") == total
    assert f.won_amounts[0].average == (total / len(exp.won)).quantize(Decimal("0.01"))
    cycles = exp.cycles(exp.won)
    assert f.median_cycle_days == statistics.median(cycles)
    assert f.avg_cycle_days == round(statistics.mean(cycles), 1)
    [p] = f.pipelines
    reach = {s.name: s.reached for s in p.stages}
    engaged = sum(1 for d in exp.deals if d["engage_date"])
    assert [s.reached for s in p.stages] == [len(exp.deals), engaged, len(exp.won)]
    assert len(reach) == 3 and p.started == 8800 and p.open == 500 + 1589
    assert p.stages[1].conversion == round(engaged / len(exp.deals), 4)
    assert p.stages[2].conversion == round(len(exp.won) / engaged, 4)
    assert f.conversion == round(len(exp.won) / len(exp.deals), 4)
    # won amount by agent and by office
    assert _by_name(f.by_owner) == exp.won_by(lambda d: d["sales_agent"])
    assert {r.name: r.win_rate for r in f.by_owner} == {
        agent: round(won / (won + lost), 4)
        for agent in {d["sales_agent"] for d in exp.won + exp.lost}
        for won, lost in [
            (
                sum(1 for d in exp.won if d["sales_agent"] == agent),
                sum(1 for d in exp.lost if d["sales_agent"] == agent),
            )
        ]
    }
    by_office = exp.won_by(lambda d: exp.office[d["sales_agent"]])
    assert _by_name(f.by_team) == by_office
    root = Team.objects.get(name="Maven CRM", parent=None)
    for office, amount in by_office.items():
        team = Team.objects.get(name=office, parent=root)
        assert (
            funnel(superuser, start=dt.date(2016, 1, 1), end=dt.date(2017, 12, 31), team=team).won_amount("USD")
            == amount
        )

    # a quarter: deals started in it for the stages, deals closed in it for the outcomes
    q_start, q_end = dt.date(2017, 7, 1), dt.date(2017, 9, 30)
    fq = funnel(superuser, start=q_start, end=q_end, pipeline=maven)
    closed_q = [d for d in exp.won + exp.lost if q_start <= _day(d["close_date"]) <= q_end]
    won_q = [d for d in closed_q if d["deal_stage"] == "Won"]
    assert (fq.won, fq.lost) == (len(won_q), len(closed_q) - len(won_q))
    assert fq.won_amount("USD") == sum(Decimal(d["close_value"]) for d in won_q)
    assert fq.median_cycle_days == statistics.median(exp.cycles(won_q))
    started_q = [d for d in exp.deals if d["engage_date"] and q_start <= _day(d["engage_date"]) <= q_end]
    assert fq.started == len(started_q)
    assert [s.reached for s in fq.pipelines[0].stages] == [
        len(started_q),
        len(started_q),  # every dated deal was engaged
        sum(1 for d in started_q if d["deal_stage"] == "Won"),
    ]

    # a second run changes nothing and says so
    events_before = Event.objects.count()
    again = import_maven(dataset, actor=superuser)
    assert not again.changed
    assert again.unchanged["opportunity"] == 8800 and again.unchanged["customer"] == 85
    assert Event.objects.count() == events_before
    assert Opportunity.objects.filter(pipeline=maven).count() == 8800


def test_command_prints_the_report(dataset: Path, superuser: User, capsys: Any) -> None:
    call_command("import_maven", "--path", str(dataset))
    out = capsys.readouterr().out
    assert "8,800" in out and "1,480" in out and "technolgy" in out and "1,425" in out
    call_command("import_maven", "--path", str(dataset))
    assert "Nothing changed" in capsys.readouterr().out
