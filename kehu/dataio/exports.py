"""Report exports as CSV or XLSX, safe to open in a spreadsheet.

A text cell that starts with = + - @ or a tab or carriage return would be read as a formula by Excel,
LibreOffice and Numbers (CSV injection): such cells get a leading apostrophe, in both formats. Numbers
stay numbers. The caller checks the gate ("export" on the object type) before building the tables.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    title: str
    header: Sequence[Any]
    rows: Iterable[Sequence[Any]]


def safe(value: Any) -> Any:
    """The cell value to write: numbers and dates as they are, text defused, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal | dt.date):
        return value
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


def _filename(name: str, ext: str) -> str:
    clean = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name)
    return f"{clean or 'export'}.{ext}"


def csv_response(name: str, tables: Sequence[Table]) -> HttpResponse:
    """One CSV file (UTF-8 with BOM, so Excel reads Chinese correctly); tables follow each other, each with
    its title row and header, separated by an empty line."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for i, table in enumerate(tables):
        if i:
            writer.writerow([])
        if len(tables) > 1:
            writer.writerow([safe(table.title)])
        writer.writerow([safe(h) for h in table.header])
        for row in table.rows:
            writer.writerow([safe(c) for c in row])
    response = HttpResponse("\ufeff" + buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(name, "csv")}"'
    return response


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for table in tables:
        title = "".join(ch for ch in str(table.title) if ch not in "[]:*?/\\")[:28] or "Sheet"
        base, n = title, 2
        while title in used:
            title, n = f"{base[:25]} {n}", n + 1
        used.add(title)
        ws = wb.create_sheet(title)
        ws.append([safe(h) for h in table.header])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            ws.append([safe(c) for c in row])
        for col in ws.columns:
            width = max((len(str(c.value)) for c in col if c.value is not None), default=8)
            ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 60)
        for row_cells in ws.iter_rows():
            for cell in row_cells:
                if cell.data_type == "f":  # never a formula, whatever openpyxl guessed
                    cell.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xlsx_response(name: str, tables: Sequence[Table]) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(tables), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(name, "xlsx")}"'
    return response


def response(fmt: str, name: str, tables: Sequence[Table]) -> HttpResponse:
    return xlsx_response(name, tables) if fmt == "xlsx" else csv_response(name, tables)
