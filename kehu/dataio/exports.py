"""Exports as CSV or XLSX, safe to open in a spreadsheet: reports (built in the request) and lists (any
number of rows, written by a background job).

A text cell that starts with = + - @ or a tab or carriage return would be read as a formula by Excel,
LibreOffice and Numbers (CSV injection): such cells get a leading apostrophe, in both formats. Numbers
stay numbers. Report views check the gate ("export" on the object type) before building the tables; a list
export checks it when it is asked for and again when it runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import models
from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kehu.core import customfields, jobs, lists, permissions
from kehu.core.models import CustomFieldDefinition, Job
from kehu.core.pagination import paginate
from kehu.core.templatetags.kehu import PHONE_FIELDS, PICKLIST_FIELDS, display_value

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


# --------------------------------------------------------------------------- list exports (background jobs)

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # a worksheet's rows, less the header
BATCH = 2000


def list_export(job: Job, progress: jobs.Progress) -> jobs.Outcome:
    """Write the rows and columns of a list, as its page showed them to the job's owner (filters, quick
    search, order, chosen columns, or every readable field), to a CSV or XLSX file. Run by the export task."""
    params = job.params
    config = lists.get_list(params["object_type"])
    if not permissions.can(job.actor, config.ot.model, "export"):
        raise PermissionDenied
    lq = lists.build_query(lists.as_request(job.actor, params.get("query", "")), config, params.get("columns") == "all")
    extra = [c for c in config.export_columns if lq.pol.can_read(c.field)]
    qs = lq.qs.prefetch_related(*{c.prefetch for c in extra if c.prefetch})
    total = qs.order_by().count()
    fmt = params.get("format", "csv")
    if fmt == "xlsx" and total > XLSX_MAX_ROWS:
        raise ValidationError(
            _("Excel holds at most %(max)s rows and this list has %(n)s. Export it as CSV or narrow the filters.")
            % {"max": f"{XLSX_MAX_ROWS:,}", "n": f"{total:,}"}
        )
    progress.total(total)
    cells = _cell_readers(config, lq)
    header = ["ID", *(lists.field_label(config.ot.model, n, lq.defs) for n in lq.names), *(str(c.label) for c in extra)]
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the job, which stores and closes it
    writer = _XlsxWriter(out, str(config.ot.label_plural), header) if fmt == "xlsx" else _CsvWriter(out, header)
    cursor = None
    while True:
        page = paginate(qs, lq.ordering, cursor, BATCH, lq.keep)
        for obj in page.items:
            writer.row([obj.pk, *(read(obj) for read in cells), *(c.value(obj) for c in extra)])
        progress.advance(len(page.items))
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    writer.close()
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    rows = progress.job.done
    return jobs.Outcome(
        file=File(out, name=f"export-{job.pk}.{fmt}"),
        file_name=f"{capfirst(config.ot.label_plural)}-{stamp}.{fmt}",
        message=_("%(n)s rows") % {"n": f"{rows:,}"},
    )


def _cell_readers(config: Any, lq: Any) -> list[Any]:
    """One function per column turning a record into its cell: numbers, amounts and dates stay typed, choices
    and pick lists become their labels, related records their names — read without a query per row."""
    _active, picklist_labels = lists._picklists()
    users: dict[Any, str] | None = None
    model = config.ot.model
    readers = []
    for name in lq.names:
        if name.startswith("cf_"):
            defn = lq.defs[name]
            if defn.type == CustomFieldDefinition.Type.USER and users is None:
                users = {u.pk: str(u) for u in get_user_model().objects.all()}
            readers.append(_custom_reader(name[3:], defn, users or {}))
            continue
        field: Any = model._meta.get_field(name)
        if name == "tags" or field.many_to_many:
            readers.append(lambda obj, n=name: ", ".join(str(x) for x in getattr(obj, n).all()))
        elif name in PICKLIST_FIELDS:
            labels = {value: label for (lst, value), label in picklist_labels.items() if lst == PICKLIST_FIELDS[name]}
            readers.append(lambda obj, n=name, labels=labels: _label(labels, getattr(obj, n)))
        elif field.choices:  # labels looked up once, not per row (a country's list has 250)
            choices = {value: str(label) for value, label in field.flatchoices}
            readers.append(lambda obj, n=name, labels=choices: _label(labels, getattr(obj, n)))
        elif field.many_to_one or field.one_to_one:
            readers.append(lambda obj, n=name: str(getattr(obj, n) or ""))
        elif isinstance(field, models.DateTimeField):
            readers.append(lambda obj, n=name: _local(getattr(obj, n)))
        elif isinstance(field, models.BooleanField) or name in PHONE_FIELDS:
            readers.append(lambda obj, n=name: display_value(obj, n))
        else:
            readers.append(lambda obj, n=name: getattr(obj, n))
    return readers


def _label(labels: dict[Any, str], value: Any) -> Any:
    return labels.get(value, value) if value not in (None, "") else ""


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """A time as the reader's clock shows it, to the minute, without a zone (spreadsheets keep none)."""
    return timezone.localtime(value).replace(tzinfo=None, second=0, microsecond=0) if value else None


def _custom_reader(key: str, defn: CustomFieldDefinition, users: dict[Any, str]) -> Any:
    kind = defn.type

    def read(obj: Any) -> Any:
        value = (getattr(obj, "custom", None) or {}).get(key)
        if value is None or value == "":
            return None
        try:
            if kind == CustomFieldDefinition.Type.INTEGER:
                return int(value)
            if kind == CustomFieldDefinition.Type.DECIMAL:
                return Decimal(str(value))
            if kind == CustomFieldDefinition.Type.DATE:
                return dt.date.fromisoformat(str(value))
        except (ValueError, ArithmeticError):
            return str(value)
        if kind == CustomFieldDefinition.Type.USER:
            return users.get(value, str(value))
        return customfields.display(defn, value)

    return read


class _CsvWriter:
    def __init__(self, out: Any, header: Sequence[Any]) -> None:
        self.text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")  # the BOM lets Excel read Chinese
        self.writer = csv.writer(self.text)
        self.writer.writerow([safe(h) for h in header])

    def row(self, values: Sequence[Any]) -> None:
        self.writer.writerow([_csv_cell(v) for v in values])

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return safe(value)


class _XlsxWriter:
    """openpyxl's write-only workbook: rows go to disk as they come, so a million rows need little memory."""

    def __init__(self, out: Any, title: str, header: Sequence[Any]) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self.out = out
        self.wb = Workbook(write_only=True)
        clean = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28] or "Sheet"
        self.ws = self.wb.create_sheet(clean)
        for i, h in enumerate(header):
            self.ws.column_dimensions[get_column_letter(i + 1)].width = min(max(len(str(h)) * 2 + 2, 12), 40)
        bold = Font(bold=True)
        cells = []
        for h in header:
            c = WriteOnlyCell(self.ws, value=safe(h))
            c.font = bold
            cells.append(c)
        self.ws.append(cells)

    def row(self, values: Sequence[Any]) -> None:
        self.ws.append([safe(v) for v in values])

    def close(self) -> None:
        self.wb.save(self.out)
