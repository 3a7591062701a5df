"""The Maven import's rules on a small hand-made data set: flaws are reported and nothing is dropped silently,
a changed row is brought in line through the services on the next run; and the formula-safe exports."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kehu.dataio import exports
from kehu.dataio.services import import_maven
from kehu.sales.models import Opportunity, StageHistory
from kehu.users.models import User

ACCOUNTS = """account,sector,year_established,revenue,employees,office_location,subsidiary_of
Acme,technolgy,1996,1100.04,2822,United States,
Beta,medical,abc,12.5,40,Philipines,Acme
Gamma,quantum,1999,1,1,Atlantis,Nowhere
"""
PRODUCTS = """product,series,sales_price
GTX Pro,GTX,4821
MG Special,MG,55
"""
TEAMS = """sales_agent,manager,regional_office
Anna Snelling,Dustin Brinkmann,Central
Mei-Mei Johns,Dustin Brinkmann,Central
"""
PIPELINE = """opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
A1,Anna Snelling,GTXPro,Acme,Won,2017-01-02,2017-02-01,4500
A2,Anna Snelling,MG Special,,Engaging,2017-03-01,,
A3,Mei-Mei Johns,MG Special,Beta,Lost,2017-03-05,2017-03-20,0
A4,Mei-Mei Johns,GTX Pro,,Prospecting,,,
A5,Nobody Known,GTX Pro,Acme,Won,2017-01-02,2017-02-01,1
A6,Anna Snelling,GTX Pro,Acme,Negotiating,2017-01-02,,
A7,Anna Snelling,GTX Pro,Unknown Inc,Engaging,2017-13-01,,
A1,Mei-Mei Johns,GTX Pro,Acme,Won,2017-01-02,2017-02-01,9999
A8-THIS-ID-IS-FAR-TOO-LONG-TO-BE-ANY-REAL-DEALS-ID-AT-ALL,Anna Snelling,GTX Pro,Acme,Engaging,2017-01-02,,
"""


def write(path: Path, pipeline: str = PIPELINE) -> Path:
    for name, text in [
        ("accounts.csv", ACCOUNTS),
        ("products.csv", PRODUCTS),
        ("sales_teams.csv", TEAMS),
        ("sales_pipeline.csv", pipeline),
    ]:
        (path / name).write_text(text, encoding="utf-8")
    return path


def test_flaws_are_reported_and_rows_kept_where_possible(tmp_path: Path, superuser: User) -> None:
    report = import_maven(write(tmp_path), actor=superuser)
    codes = {f.code: f.count for f in report.flaws}
    assert codes["product_alias_GTXPro"] == 1
    assert codes["sector_typo_technolgy"] == 1
    assert codes["sector_unknown"] == 1 and codes["country_unknown"] == 1 and codes["parent_unknown"] == 1
    assert codes["country_typo_Philipines"] == 1 and codes["account_bad_year"] == 1
    assert codes["deal_bad_agent"] == 1 and codes["deal_bad_stage"] == 1  # A5, A6: not imported, counted
    assert codes["deal_bad_account"] == 1 and codes["deal_bad_date"] == 1  # A7: imported without them
    assert codes["deal_no_account"] == 2 and codes["deal_no_dates"] == 2  # A2, A4; A4, A7
    assert codes["deal_bad_id"] == 1 and codes["deal_long_id"] == 1  # A1 listed twice; A8's id is too long
    assert report.skipped["opportunity"] == 4
    assert set(Opportunity.objects.values_list("external_ref", flat=True)) == {
        "maven:A1",
        "maven:A2",
        "maven:A3",
        "maven:A4",
        "maven:A7",
    }
    won = Opportunity.objects.get(external_ref="maven:A1")
    assert (won.status, won.amount, won.currency, won.started_on, won.closed_on) == (
        "won",
        Decimal("4500.00"),
        "USD",
        dt.date(2017, 1, 2),
        dt.date(2017, 2, 1),
    )
    assert won.lines.get().product.sku == "GTX-PRO"
    lost = Opportunity.objects.get(external_ref="maven:A3")
    assert lost.amount == Decimal("55.00") and lost.max_stage_order == 1 and lost.loss_reason == "other"
    prospect = Opportunity.objects.get(external_ref="maven:A4")
    assert prospect.started_on == report.snapshot == dt.date(2017, 3, 20) and prospect.customer is None
    assert User.objects.get(username="mei-mei.johns").team.lead.username == "dustin.brinkmann"


def test_a_changed_row_is_applied_through_the_services(tmp_path: Path, superuser: User) -> None:
    import_maven(write(tmp_path), actor=superuser)
    changed = PIPELINE.replace(
        "A2,Anna Snelling,MG Special,,Engaging,2017-03-01,,",
        "A2,Anna Snelling,MG Special,,Won,2017-03-01,2017-04-01,60",
    )
    report = import_maven(write(tmp_path, changed), actor=superuser)
    assert report.updated["opportunity"] == 1 and report.unchanged["opportunity"] == 4
    opp = Opportunity.objects.get(external_ref="maven:A2")
    assert (opp.status, opp.closed_on, opp.amount) == ("won", dt.date(2017, 4, 1), Decimal("60.00"))
    stays = list(StageHistory.objects.filter(opportunity=opp).values_list("stage__name_en", flat=True))
    assert stays == ["Engaging", "Won"]
    assert not import_maven(write(tmp_path, changed), actor=superuser).changed


def test_a_missing_file_is_a_clear_error(tmp_path: Path, superuser: User) -> None:
    from kehu.dataio.maven import DatasetMissing

    with pytest.raises(DatasetMissing, match="accounts.csv"):
        import_maven(tmp_path, actor=superuser)


@pytest.mark.parametrize("text", ["=1+2", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_exports_defuse_formulas(text: str) -> None:
    assert exports.safe(text) == "'" + text
    assert exports.safe("plain") == "plain" and exports.safe(-3) == -3 and exports.safe(None) == ""


def test_xlsx_cells_stay_text(db: Any) -> None:
    from openpyxl import load_workbook

    data = exports.xlsx_bytes([exports.Table("Sheet", ["name", "n"], [['=HYPERLINK("x")', 5]])])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A2"].value == '\'=HYPERLINK("x")' and ws["A2"].data_type == "s" and ws["B2"].value == 5
