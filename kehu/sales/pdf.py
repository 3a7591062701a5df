"""The printable quote: a PDF in the quote's own language (Chinese or English).

Chinese renders with reportlab's built-in CID font STSong-Light (Adobe's Song typeface, which every PDF
reader ships), so no font file needs to be installed on the server or bundled with Kehu.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kehu.sales.models import Quote

CJK_FONT = "STSong-Light"
_registered = False


def _font() -> str:
    global _registered  # noqa: PLW0603 - registering a font is process-wide and idempotent
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        _registered = True
    return CJK_FONT


def _money(value: Decimal, currency: str) -> str:
    from kehu.sales.services.documents import money

    return money(value, currency)


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def quote_pdf(quote: Quote, *, show_customer: bool = True) -> bytes:
    """The quote as PDF bytes, labelled in `quote.language`."""
    with translation.override(quote.language or settings.LANGUAGE_CODE):
        return _build(quote, show_customer)


def _build(quote: Quote, show_customer: bool) -> bytes:
    font = _font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=11, textColor=colors.HexColor("#555555"))
    right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=22, spaceAfter=4)
    head = ParagraphStyle("head", parent=base, fontSize=12, leading=16)
    buf = BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{_('Quote')} {quote.number}",
        author=settings.KEHU_COMPANY_NAME,
    )
    story: list[Any] = []
    company = [_p(settings.KEHU_COMPANY_NAME, head)]
    if settings.KEHU_COMPANY_ADDRESS:
        company.append(_p(settings.KEHU_COMPANY_ADDRESS, small))
    date = formats.date_format(quote.created_at.date(), "DATE_FORMAT") if quote.created_at else ""
    meta = [
        [_p(_("Quote"), title), ""],
        [_p(pgettext("document", "Number"), small), _p(f"{quote.number} · v{quote.revision}", base)],
        [_p(_("Date"), small), _p(date, base)],
    ]
    if quote.valid_until:
        meta.append([_p(_("Valid until"), small), _p(formats.date_format(quote.valid_until, "DATE_FORMAT"), base)])
    meta_table = Table(meta, colWidths=[28 * mm, 52 * mm])
    meta_table.setStyle(TableStyle([("SPAN", (0, 0), (1, 0)), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    header = Table([[company, meta_table]], colWidths=[94 * mm, 80 * mm])
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [header, Spacer(1, 8 * mm)]

    if show_customer:
        to = [_p(_("Customer"), small), _p(quote.customer.name, head)]
        if quote.contact_id and quote.contact:
            to.append(_p(quote.contact.name, base))
        story += [*to, Spacer(1, 4 * mm)]
    story += [_p(quote.title, head), Spacer(1, 3 * mm)]

    rows: list[list[Any]] = [
        [
            _p("#", small),
            _p(_("Product"), small),
            _p(_("Quantity"), small),
            _p(_("Unit price"), small),
            _p(_("Discount"), small),
            _p(_("Amount"), small),
        ]
    ]
    for i, line in enumerate(quote.lines.select_related("product"), start=1):
        name = line.product.name if line.product else ""
        desc = line.description if line.description and line.description != name else ""
        cell = [_p(name or desc, base)] + ([_p(desc, small)] if name and desc else [])
        unit = f" {line.product.unit}" if line.product and line.product.unit else ""
        rows.append(
            [
                _p(i, base),
                cell,
                _p(f"{formats.number_format(line.quantity, use_l10n=True)}{unit}", right),
                _p(_money(line.unit_price, quote.currency), right),
                _p(f"{line.discount.normalize():f} %" if line.discount else "", right),
                _p(_money(line.total, quote.currency), right),
            ]
        )
    lines = Table(rows, colWidths=[8 * mm, 66 * mm, 22 * mm, 28 * mm, 18 * mm, 32 * mm], repeatRows=1)
    lines.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#333333")),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#cccccc")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [lines, Spacer(1, 4 * mm)]

    totals = [
        [_p(_("Subtotal"), right), _p(_money(quote.subtotal, quote.currency), right)],
        [_p(_("Discount"), right), _p("−" + _money(quote.discount_total, quote.currency), right)],
        [
            _p(_("Tax (%(rate)s %%)") % {"rate": f"{quote.tax_rate.normalize():f}"}, right),
            _p(_money(quote.tax, quote.currency), right),
        ],
        [
            _p(_("Total"), head),
            _p(_money(quote.total, quote.currency), ParagraphStyle("t", parent=head, alignment=TA_RIGHT)),
        ],
    ]
    if not quote.discount_total:
        totals.pop(1)
    tt = Table(totals, colWidths=[140 * mm, 34 * mm])
    tt.setStyle(TableStyle([("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.HexColor("#333333"))]))
    story += [tt, Spacer(1, 8 * mm)]

    if quote.terms:
        story += [_p(_("Terms"), head), Spacer(1, 2 * mm), _p(quote.terms, base), Spacer(1, 6 * mm)]
    if quote.valid_until:
        story.append(
            _p(
                _("This quote is valid until %(date)s.")
                % {"date": formats.date_format(quote.valid_until, "DATE_FORMAT")},
                small,
            )
        )
    doc.build(story)
    return buf.getvalue()
